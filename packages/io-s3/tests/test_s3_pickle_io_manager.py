"""S3PickleIOManager against moto's S3 server over HTTP: the contract, Dagster's key layout,
multipart uploads, missing objects and buckets, unpicklable values, whole runs."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

import weir as dg
from weir.testing import IOManagerContract
from weir_io_s3 import (
    ConfigurablePickledObjectS3IOManager,
    S3AccessError,
    S3ObjectNotFoundError,
    S3PickleIOManager,
    S3Resource,
    S3SerializationError,
)
from weir_io_s3.testing import MotoServer


@pytest.fixture
def manager(s3_resource: S3Resource, bucket: str) -> S3PickleIOManager:
    return S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket)


def _store(manager: Any, obj: Any, **context: Any) -> Any:
    out = dg.build_output_context(**context)
    manager.handle_output(out, obj)
    return out


def _load(manager: Any, out: Any, **context: Any) -> Any:
    asset_key = out.asset_key if out.has_asset_key else None
    return manager.load_input(
        dg.build_input_context(asset_key=asset_key, upstream_output=out, **context)
    )


class TestS3PickleContract(IOManagerContract):
    @pytest.fixture
    def io_manager(self, s3_resource: S3Resource, bucket: str) -> Any:
        return S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix="contract")


# -- the key layout ---------------------------------------------------------------------------
def test_asset_keys_follow_dagster_layout(
    manager: S3PickleIOManager, stored_keys: Callable[[], list[str]], bucket: str
) -> None:
    out = _store(manager, [1, 2], asset_key=["warehouse", "orders"])
    _store(manager, "x", asset_key=["plain"])
    assert stored_keys() == ["dagster/plain", "dagster/warehouse/orders"]
    assert out.get_logged_metadata()["uri"] == dg.MetadataValue.path(
        f"s3://{bucket}/dagster/warehouse/orders"
    )
    assert _load(manager, out) == [1, 2]


def test_partitions_are_stored_under_the_asset_key(
    manager: S3PickleIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    for day in ("2024-01-01", "2024-01-02"):
        _store(
            manager,
            f"value {day}",
            asset_key=["events"],
            partition_key=day,
            asset_partitions_def=daily,
        )
    assert stored_keys() == ["dagster/events/2024-01-01", "dagster/events/2024-01-02"]


def test_multi_partitions_join_dimension_values_in_name_order(
    manager: S3PickleIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    multi = dg.MultiPartitionsDefinition(
        {
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
            "date": dg.DailyPartitionsDefinition(start_date="2024-01-01"),
        }
    )
    key = dg.MultiPartitionKey({"region": "eu", "date": "2024-01-02"})
    out = _store(
        manager, {"rows": 3}, asset_key=["sales"], partition_key=key, asset_partitions_def=multi
    )
    assert stored_keys() == ["dagster/sales/2024-01-02/eu"]
    assert _load(manager, out, partition_key=key, asset_partitions_def=multi) == {"rows": 3}


def test_op_outputs_go_under_storage_run_step_output(
    manager: S3PickleIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    out = _store(manager, 42, run_id="run-1", step_key="square[k0]", name="result")
    _store(manager, 43, run_id="run-1", step_key="plain_op", name="extra")
    assert stored_keys() == [
        "dagster/storage/run-1/plain_op/extra",
        "dagster/storage/run-1/square--k0/result",
    ]
    assert _load(manager, out) == 42


def test_custom_and_empty_prefixes(
    s3_resource: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    _store(
        S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix="team/a/"),
        1,
        asset_key=["x"],
    )
    _store(
        S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix=""),
        2,
        asset_key=["y"],
    )
    assert stored_keys() == ["team/a/x", "y"]


def test_objects_are_pickles_that_dagster_can_read(
    manager: S3PickleIOManager, s3_client: Any, bucket: str
) -> None:
    _store(manager, {"a": (1, 2)}, asset_key=["p"])
    body = s3_client.get_object(Bucket=bucket, Key="dagster/p")["Body"].read()
    assert body[:2] == b"\x80\x04"  # protocol 4
    assert pickle.loads(body) == {"a": (1, 2)}


def test_alias_is_the_same_class() -> None:
    assert ConfigurablePickledObjectS3IOManager is S3PickleIOManager


# -- several partitions in one run -----------------------------------------------------------
def test_loading_a_partition_range_gives_a_dict(manager: S3PickleIOManager) -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        out = _store(
            manager, day.upper(), asset_key=["d"], partition_key=day, asset_partitions_def=daily
        )
    loaded = manager.load_input(
        dg.build_input_context(
            asset_key=["d"],
            upstream_output=out,
            asset_partitions_def=daily,
            asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-03"),
        )
    )
    assert loaded == {
        "2024-01-01": "2024-01-01",
        "2024-01-02": "2024-01-02",
        "2024-01-03": "2024-01-03",
    }


def test_a_missing_partition_in_a_range_names_it(manager: S3PickleIOManager) -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    out = _store(
        manager, 1, asset_key=["d"], partition_key="2024-01-01", asset_partitions_def=daily
    )
    with pytest.raises(S3ObjectNotFoundError, match=r"partition '2024-01-02'") as info:
        manager.load_input(
            dg.build_input_context(
                asset_key=["d"],
                upstream_output=out,
                asset_partitions_def=daily,
                asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-02"),
            )
        )
    assert "Could not find file s3://" in str(info.value)
    assert "dagster/d/2024-01-02" in str(info.value)


# -- large objects ---------------------------------------------------------------------------
def test_large_objects_use_multipart_upload(
    manager: S3PickleIOManager, s3_client: Any, bucket: str
) -> None:
    payload = bytes(range(256)) * (20 * 1024 * 1024 // 256)  # 20 MB
    out = _store(manager, payload, asset_key=["big"])
    head = s3_client.head_object(Bucket=bucket, Key="dagster/big")
    etag = head["ETag"].strip('"')
    # a multipart object's ETag is "<md5 of part md5s>-<part count>": 20 MB in 8 MB parts -> 3
    assert etag.endswith("-3"), etag
    assert head["ContentLength"] > 20 * 1024 * 1024
    assert _load(manager, out) == payload


def test_small_objects_use_a_single_put(
    manager: S3PickleIOManager, s3_client: Any, bucket: str
) -> None:
    _store(manager, "small", asset_key=["small"])
    assert "-" not in s3_client.head_object(Bucket=bucket, Key="dagster/small")["ETag"]


# -- unhappy paths ---------------------------------------------------------------------------
def test_missing_object_is_a_file_not_found_error(manager: S3PickleIOManager, bucket: str) -> None:
    out = dg.build_output_context(asset_key=["never", "stored"])
    with pytest.raises(FileNotFoundError) as info:
        _load(manager, out)
    assert isinstance(info.value, S3ObjectNotFoundError)
    message = str(info.value)
    assert message.startswith(f"Could not find file s3://{bucket}/dagster/never/stored")
    assert "'never/stored'" in message and "Materialize it first" in message


def test_missing_op_output_says_to_rerun_upstream(manager: S3PickleIOManager) -> None:
    out = dg.build_output_context(run_id="gone", step_key="op_a", name="result")
    with pytest.raises(S3ObjectNotFoundError, match="re-run the upstream step"):
        _load(manager, out)


def test_bucket_that_does_not_exist(s3_resource: S3Resource, moto_server: MotoServer) -> None:
    manager = S3PickleIOManager(s3_resource=s3_resource, s3_bucket="no-such-bucket-here")
    with pytest.raises(S3AccessError) as info:
        _store(manager, 1, asset_key=["a"])
    message = str(info.value)
    assert info.value.error_code == "NoSuchBucket"
    assert "'no-such-bucket-here'" in message
    assert moto_server.endpoint_url in message
    assert "create it, or fix the s3_bucket config" in message


def test_missing_bucket_fails_the_run_before_any_step(
    s3_resource: S3Resource, moto_server: MotoServer
) -> None:
    ran: list[str] = []

    @dg.asset
    def first() -> int:
        ran.append("first")
        return 1

    manager = S3PickleIOManager(s3_resource=s3_resource, s3_bucket="absent-bucket")
    with pytest.raises(S3AccessError, match="'absent-bucket'"):
        dg.materialize([first], resources={"io_manager": manager})
    result = dg.materialize([first], resources={"io_manager": manager}, raise_on_error=False)
    assert not result.success and ran == []
    failures = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert len(failures) == 1 and "NoSuchBucket" in str(failures[0].message)


class _Unpicklable:
    def __init__(self) -> None:
        self.lock = threading.Lock()


def test_unpicklable_value_names_asset_and_type(
    manager: S3PickleIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    with pytest.raises(S3SerializationError) as info:
        _store(manager, _Unpicklable(), asset_key=["locks"])
    message = str(info.value)
    assert "asset 'locks'" in message
    assert "_Unpicklable" in message and "cannot be pickled" in message
    assert isinstance(info.value.user_exception, TypeError)
    assert stored_keys() == []  # nothing uploaded


def test_unpicklable_op_output_names_the_step(manager: S3PickleIOManager) -> None:
    with pytest.raises(S3SerializationError, match=r"output 'result' of step 'op_a'.*function"):
        _store(manager, lambda: 1, run_id="r", step_key="op_a", name="result")


# -- whole runs ------------------------------------------------------------------------------
def test_assets_materialize_and_load_through_s3(
    s3_resource: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    @dg.asset(key_prefix=["shop"])
    def orders() -> list[int]:
        return [3, 4]

    @dg.asset(key_prefix=["shop"])
    def total(orders: list[int]) -> int:
        return sum(orders)

    manager = S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix="runs")
    result = dg.materialize([orders, total], resources={"io_manager": manager})
    assert result.success
    assert stored_keys() == ["runs/shop/orders", "runs/shop/total"]
    materializations = result.get_asset_materialization_events()
    uris = sorted(str(e.materialization.metadata["uri"].value) for e in materializations)
    assert uris == [f"s3://{bucket}/runs/shop/orders", f"s3://{bucket}/runs/shop/total"]

    # a later run reads what the first stored
    @dg.asset(key_prefix=["shop"])
    def doubled(total: int) -> int:
        return total * 2

    later = dg.materialize(
        [orders, total, doubled],
        resources={"io_manager": manager},
        selection=[dg.AssetKey(["shop", "doubled"])],
    )
    assert later.success
    stored = dg.build_output_context(asset_key=["shop", "doubled"])
    assert _load(manager, stored) == 14
    assert stored_keys() == ["runs/shop/doubled", "runs/shop/orders", "runs/shop/total"]


def test_op_outputs_in_a_job_use_the_storage_layout(
    s3_resource: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    @dg.op
    def emit() -> int:
        return 5

    @dg.op
    def square(x: int) -> int:
        return x * x

    @dg.job(
        resource_defs={"io_manager": S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket)}
    )
    def squares() -> None:
        square(emit())

    result = squares.execute_in_process()
    assert result.success and result.output_for_node("square") == 25
    run_id = result.run_id
    assert stored_keys() == [
        f"dagster/storage/{run_id}/emit/result",
        f"dagster/storage/{run_id}/square/result",
    ]
