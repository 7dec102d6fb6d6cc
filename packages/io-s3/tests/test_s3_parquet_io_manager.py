"""S3ParquetIOManager against moto's S3 server: the contract with DataFrames, the ``.parquet``
layout, pyarrow Tables, loading several partitions (dict or concatenated), unstorable values."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import weir as dg
from weir.testing import IOManagerContract
from weir_io_s3 import (
    S3ObjectNotFoundError,
    S3ParquetIOManager,
    S3PickleIOManager,
    S3Resource,
    S3SerializationError,
)

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@pytest.fixture
def manager(s3_resource: S3Resource, bucket: str) -> S3ParquetIOManager:
    return S3ParquetIOManager(s3_resource=s3_resource, s3_bucket=bucket)


def _frame(day: str, n: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"day": [day] * n, "value": list(range(n))})


def _store(manager: Any, obj: Any, **context: Any) -> Any:
    out = dg.build_output_context(**context)
    manager.handle_output(out, obj)
    return out


def _load(manager: Any, out: Any, **context: Any) -> Any:
    asset_key = out.asset_key if out.has_asset_key else None
    return manager.load_input(
        dg.build_input_context(asset_key=asset_key, upstream_output=out, **context)
    )


class TestS3ParquetContract(IOManagerContract):
    @pytest.fixture
    def io_manager(self, s3_resource: S3Resource, bucket: str) -> Any:
        return S3ParquetIOManager(s3_resource=s3_resource, s3_bucket=bucket)

    def sample_value(self) -> Any:
        return pd.DataFrame(
            {
                "id": [1, 2, 3],
                "name": ["a", "", None],
                "score": [1.5, None, -2.25],
                "at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            }
        )

    def other_value(self) -> Any:
        return pd.DataFrame(
            {"id": [9], "name": ["z"], "score": [0.0], "at": pd.to_datetime(["2025-05-05"])}
        )

    def assert_same_value(self, loaded: Any, expected: Any) -> None:
        pd.testing.assert_frame_equal(loaded, expected)


def test_keys_get_the_parquet_extension(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]], bucket: str
) -> None:
    out = _store(manager, _frame("x"), asset_key=["lake", "orders"])
    _store(
        manager,
        _frame("a"),
        asset_key=["events"],
        partition_key="2024-01-01",
        asset_partitions_def=DAILY,
    )
    _store(manager, _frame("o"), run_id="r1", step_key="fan[k1]", name="result")
    assert stored_keys() == [
        "dagster/events/2024-01-01.parquet",
        "dagster/lake/orders.parquet",
        "dagster/storage/r1/fan--k1/result.parquet",
    ]
    metadata = out.get_logged_metadata()
    assert metadata["uri"] == dg.MetadataValue.path(f"s3://{bucket}/dagster/lake/orders.parquet")
    assert metadata["dagster/row_count"] == 2


def test_objects_are_plain_parquet(
    manager: S3ParquetIOManager, s3_client: Any, bucket: str
) -> None:
    _store(manager, _frame("x", 3), asset_key=["plain"])
    body = s3_client.get_object(Bucket=bucket, Key="dagster/plain.parquet")["Body"].read()
    assert body[:4] == b"PAR1"
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == ["day", "value"] and table.num_rows == 3


def test_arrow_tables_round_trip_and_load_as_requested(manager: S3ParquetIOManager) -> None:
    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    out = _store(manager, table, asset_key=["arrow"])
    as_table = _load(manager, out, dagster_type=pa.Table)
    assert isinstance(as_table, pa.Table) and as_table.equals(table)
    as_frame = _load(manager, out)
    pd.testing.assert_frame_equal(as_frame, table.to_pandas())


def test_a_non_default_index_survives(manager: S3ParquetIOManager) -> None:
    frame = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="k"))
    out = _store(manager, frame, asset_key=["indexed"])
    pd.testing.assert_frame_equal(_load(manager, out), frame)


def _store_days(manager: S3ParquetIOManager, days: list[str]) -> Any:
    out = None
    for day in days:
        out = _store(
            manager, _frame(day), asset_key=["daily"], partition_key=day, asset_partitions_def=DAILY
        )
    return out


def test_several_partitions_load_as_a_dict_by_default(manager: S3ParquetIOManager) -> None:
    out = _store_days(manager, ["2024-01-01", "2024-01-02"])
    loaded = _load(
        manager,
        out,
        asset_partitions_def=DAILY,
        asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-02"),
    )
    assert sorted(loaded) == ["2024-01-01", "2024-01-02"]
    pd.testing.assert_frame_equal(loaded["2024-01-02"], _frame("2024-01-02"))


def test_several_partitions_concatenate_for_a_dataframe_input(manager: S3ParquetIOManager) -> None:
    out = _store_days(manager, ["2024-01-03", "2024-01-01", "2024-01-02"])
    loaded = _load(
        manager,
        out,
        dagster_type=pd.DataFrame,
        asset_partitions_def=DAILY,
        asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-03"),
    )
    expected = pd.concat(
        [_frame("2024-01-01"), _frame("2024-01-02"), _frame("2024-01-03")], ignore_index=True
    )
    pd.testing.assert_frame_equal(loaded, expected)


def test_several_partitions_concatenate_for_an_arrow_input(manager: S3ParquetIOManager) -> None:
    out = _store_days(manager, ["2024-01-01", "2024-01-02"])
    loaded = _load(
        manager,
        out,
        dagster_type=pa.Table,
        asset_partitions_def=DAILY,
        asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-02"),
    )
    assert isinstance(loaded, pa.Table)
    assert loaded.column("day").to_pylist() == ["2024-01-01"] * 2 + ["2024-01-02"] * 2


def test_partitioned_assets_in_runs(
    s3_resource: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    days = dg.StaticPartitionsDefinition(["2024-01-01", "2024-01-02"])

    @dg.asset(partitions_def=days)
    def readings(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return _frame(context.partition_key, 3)

    manager = S3ParquetIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix="lake")
    for day in ("2024-01-01", "2024-01-02"):
        result = dg.materialize([readings], partition_key=day, resources={"io_manager": manager})
        assert result.success
    assert stored_keys() == ["lake/readings/2024-01-01.parquet", "lake/readings/2024-01-02.parquet"]
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/partition_row_count"].value == 3

    seen: dict[str, Any] = {}

    @dg.asset(io_manager_key="pickles")
    def summary(readings: pd.DataFrame) -> int:
        seen["frame"] = readings
        return len(readings)

    @dg.asset(io_manager_key="pickles")
    def by_day(readings: dict[str, pd.DataFrame]) -> list[str]:
        return sorted(readings)

    result = dg.materialize(
        [readings, summary, by_day],
        selection=[dg.AssetKey("summary"), dg.AssetKey("by_day")],
        resources={
            "io_manager": manager,
            "pickles": S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket),
        },
    )
    assert result.success
    # an unpartitioned asset reads every partition: one frame, or a dict for a dict annotation
    assert list(seen["frame"]["day"]) == ["2024-01-01"] * 3 + ["2024-01-02"] * 3
    assert result.output_for_node("by_day") == ["2024-01-01", "2024-01-02"]


def test_missing_object(manager: S3ParquetIOManager, bucket: str) -> None:
    with pytest.raises(
        S3ObjectNotFoundError, match=rf"Could not find file s3://{bucket}/dagster/nope.parquet"
    ):
        _load(manager, dg.build_output_context(asset_key=["nope"]))


def test_a_value_that_is_not_a_frame_names_asset_and_type(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    with pytest.raises(S3SerializationError) as info:
        _store(manager, {"not": "a frame"}, asset_key=["wrong"])
    message = str(info.value)
    assert "asset 'wrong'" in message and "of type dict" in message
    for supported in ("pandas DataFrames", "pyarrow Tables", "polars DataFrames", "LazyFrames"):
        assert supported in message
    assert stored_keys() == []


def test_a_frame_arrow_cannot_convert_names_asset_and_type(manager: S3ParquetIOManager) -> None:
    mixed = pd.DataFrame({"mixed": [1, "two", 3.0]})
    with pytest.raises(S3SerializationError, match=r"asset 'mixed'.*pandas.*DataFrame") as info:
        _store(manager, mixed, asset_key=["mixed"])
    assert isinstance(info.value.user_exception, (pa.ArrowInvalid, pa.ArrowTypeError))
