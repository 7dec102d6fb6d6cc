"""Dagster's function-style S3 definitions against moto over HTTP: ``s3_resource`` (a boto3
client), ``s3_pickle_io_manager`` (keys, pickles and errors of S3PickleIOManager) and
``PickledObjectS3IOManager``, in asset runs, op jobs and run config."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import weir as dg
from weir.errors import ResourceError
from weir_io_s3 import (
    PickledObjectS3IOManager,
    S3AccessError,
    S3ObjectNotFoundError,
    S3PickleIOManager,
    S3Resource,
    s3_pickle_io_manager,
    s3_resource,
)
from weir_io_s3.testing import MotoServer

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYLEGACYKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE-legacy-session-token"


@pytest.fixture
def legacy_resources(moto_server: MotoServer, bucket: str) -> dict[str, Any]:
    """Dagster's legacy wiring: the IO manager and the ``s3`` client resource, both configured."""
    return {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket}),
        "s3": s3_resource.configured(moto_server.resource_fields()),
    }


@pytest.fixture
def pythonic_s3(moto_server: MotoServer) -> S3Resource:
    """An ``S3Resource`` of the moto server (conftest's ``s3_resource`` fixture would shadow the
    legacy ``s3_resource`` imported here)."""
    return S3Resource(**moto_server.resource_fields())


@dg.asset(key_prefix=["shop"])
def orders() -> list[dict[str, Any]]:
    return [{"id": 1, "amount": 9.5}, {"id": 2, "amount": 3.0}]


@dg.asset(key_prefix=["shop"])
def total(orders: list[dict[str, Any]]) -> float:
    return sum(order["amount"] for order in orders)


# -- s3_resource ------------------------------------------------------------------------------
def test_s3_resource_config_has_s3_resource_fields_and_dagster_defaults() -> None:
    schema = s3_resource.config_schema
    assert set(schema) == set(S3Resource.model_fields)
    assert not any(field.is_required for field in schema.values())
    assert schema["max_attempts"].default_value == 5
    assert schema["use_ssl"].default_value is True
    assert schema["use_unsigned_session"].default_value is False
    assert schema["region_name"].default_value is None
    assert {name for name, field in schema.items() if field.is_secret} == {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    }


def test_s3_resource_yields_a_boto3_client_in_a_run(moto_server: MotoServer, bucket: str) -> None:
    seen: dict[str, Any] = {}

    @dg.op(required_resource_keys={"s3"})
    def put_and_list(context: dg.OpExecutionContext) -> list[str]:
        client = context.resources.s3
        seen["client"] = client
        client.put_object(Bucket=bucket, Key="landing/a.csv", Body=b"a,b\n1,2\n")
        listing = client.list_objects_v2(Bucket=bucket, Prefix="landing/")
        return [item["Key"] for item in listing["Contents"]]

    @dg.job(resource_defs={"s3": s3_resource.configured(moto_server.resource_fields())})
    def landing() -> None:
        put_and_list()

    result = landing.execute_in_process()
    assert result.success
    assert result.output_for_node("put_and_list") == ["landing/a.csv"]
    client = seen["client"]
    assert not isinstance(client, S3Resource)  # the client itself, as in Dagster
    assert client.meta.endpoint_url == moto_server.endpoint_url
    assert client.meta.region_name == "us-east-1"
    # max_attempts defaults to 5 retries after the first try, as S3Resource's does
    assert client.meta.config.retries == {"total_max_attempts": 6, "mode": "standard"}


def test_s3_resource_reads_secrets_from_the_environment(
    auth_server: tuple[MotoServer, str, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bucket, (key_id, secret) = auth_server  # this server checks signatures
    monkeypatch.setenv("LEGACY_S3_SECRET", secret)
    config = {
        "endpoint_url": server.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": key_id,
        "aws_secret_access_key": {"env": "LEGACY_S3_SECRET"},
        "max_attempts": 2,
    }
    with dg.build_init_resource_context() as context:
        client = s3_resource.configured(config)(context)
    assert client.meta.config.retries == {"total_max_attempts": 3, "mode": "standard"}
    client.put_object(Bucket=bucket, Key="signed", Body=b"v")  # signed with the env secret
    assert client.get_object(Bucket=bucket, Key="signed")["Body"].read() == b"v"


def test_bad_s3_resource_config_names_the_field_not_the_secret(moto_server: MotoServer) -> None:
    config = {**moto_server.resource_fields(aws_secret_access_key=SECRET), "max_attempts": "many"}

    @dg.asset(required_resource_keys={"s3"})
    def anything() -> int:
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize([anything], resources={"s3": s3_resource.configured(config)})
    message = str(info.value)
    assert "max_attempts" in message and "s3" in message
    assert SECRET not in message and SECRET not in repr(info.value)


# -- s3_pickle_io_manager in asset runs -------------------------------------------------------
def test_assets_round_trip_through_definitions(
    legacy_resources: dict[str, Any], stored_keys: Callable[[], list[str]], bucket: str
) -> None:
    defs = dg.Definitions(assets=[orders, total], resources=legacy_resources)
    dg.Definitions.validate_loadable(defs)
    result = dg.materialize([orders, total], resources=legacy_resources)
    assert result.success
    assert result.output_for_node("shop__total") == 12.5
    assert stored_keys() == ["dagster/shop/orders", "dagster/shop/total"]
    [event, _] = result.get_asset_materialization_events()
    assert event.materialization.metadata["uri"] == dg.MetadataValue.path(
        f"s3://{bucket}/dagster/shop/orders"
    )
    assert defs.load_asset_value(["shop", "total"]) == 12.5


def test_objects_are_plain_pickles_under_the_configured_prefix(
    moto_server: MotoServer, bucket: str, s3_client: Any
) -> None:
    resources = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket, "s3_prefix": "old"}),
        "s3": s3_resource.configured(moto_server.resource_fields()),
    }
    assert dg.materialize([orders], resources=resources).success
    body = s3_client.get_object(Bucket=bucket, Key="old/shop/orders")["Body"].read()
    assert pickle.loads(body) == [{"id": 1, "amount": 9.5}, {"id": 2, "amount": 3.0}]


def test_legacy_and_pythonic_managers_read_each_other(
    legacy_resources: dict[str, Any], pythonic_s3: S3Resource, bucket: str
) -> None:
    pythonic = {"io_manager": S3PickleIOManager(s3_resource=pythonic_s3, s3_bucket=bucket)}
    # written by the legacy manager, read by S3PickleIOManager
    assert dg.materialize([orders], resources=legacy_resources).success
    result = dg.materialize([orders, total], selection=[total.key], resources=pythonic)
    assert result.success and result.output_for_node("shop__total") == 12.5

    # and the other way round
    @dg.asset(key_prefix=["shop"], name="orders")
    def new_orders() -> list[dict[str, Any]]:
        return [{"id": 3, "amount": 1.0}]

    assert dg.materialize([new_orders], resources=pythonic).success
    result = dg.materialize([new_orders, total], selection=[total.key], resources=legacy_resources)
    assert result.success and result.output_for_node("shop__total") == 1.0


def test_partitioned_assets_use_dagster_keys(
    legacy_resources: dict[str, Any], stored_keys: Callable[[], list[str]]
) -> None:
    days = dg.StaticPartitionsDefinition(["2024-01-01", "2024-01-02"])

    @dg.asset(partitions_def=days)
    def daily(context: dg.AssetExecutionContext) -> str:
        return f"value {context.partition_key}"

    @dg.asset
    def both(daily: dict[str, str]) -> list[str]:
        return [daily[key] for key in sorted(daily)]

    for day in days.get_partition_keys():
        assert dg.materialize([daily], partition_key=day, resources=legacy_resources).success
    result = dg.materialize([daily, both], selection=[both.key], resources=legacy_resources)
    assert result.output_for_node("both") == ["value 2024-01-01", "value 2024-01-02"]
    assert stored_keys() == ["dagster/both", "dagster/daily/2024-01-01", "dagster/daily/2024-01-02"]


def test_a_missing_upstream_object_names_the_asset(legacy_resources: dict[str, Any]) -> None:
    with pytest.raises(dg.DagsterExecutionLoadInputError) as info:
        dg.materialize([orders, total], selection=[total.key], resources=legacy_resources)
    cause = info.value.user_exception
    assert isinstance(cause, S3ObjectNotFoundError) and isinstance(cause, FileNotFoundError)
    assert "Could not find file s3://" in str(cause) and "asset 'shop/orders'" in str(cause)


# -- op jobs ------------------------------------------------------------------------------------
@dg.op
def emit() -> list[int]:
    return [1, 2, 3]


@dg.op
def double(numbers: list[int]) -> list[int]:
    return [2 * n for n in numbers]


def test_op_job_execute_in_process_stores_run_scoped_outputs(
    legacy_resources: dict[str, Any], stored_keys: Callable[[], list[str]]
) -> None:
    @dg.job(resource_defs=legacy_resources)
    def numbers() -> None:
        double(emit())

    result = numbers.execute_in_process()
    assert result.success
    assert result.output_for_node("double") == [2, 4, 6]
    run_id = result.run_id
    assert stored_keys() == [
        f"dagster/storage/{run_id}/double/result",
        f"dagster/storage/{run_id}/emit/result",
    ]


def test_op_job_configured_through_run_config(
    moto_server: MotoServer,
    bucket: str,
    stored_keys: Callable[[], list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEGACY_S3_SECRET", "testing")

    @dg.job(resource_defs={"io_manager": s3_pickle_io_manager, "s3": s3_resource})
    def numbers() -> None:
        double(emit())

    fields = moto_server.resource_fields()
    run_config = {
        "resources": {
            "s3": {"config": {**fields, "aws_secret_access_key": {"env": "LEGACY_S3_SECRET"}}},
            "io_manager": {"config": {"s3_bucket": bucket, "s3_prefix": "runs"}},
        }
    }
    result = numbers.execute_in_process(run_config=run_config)
    assert result.success and result.output_for_node("double") == [2, 4, 6]
    assert all(key.startswith(f"runs/storage/{result.run_id}/") for key in stored_keys())


# -- errors -----------------------------------------------------------------------------------
def test_missing_s3_resource_is_a_clear_error(bucket: str) -> None:
    resources = {"io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket})}
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.materialize([orders], resources=resources)
    message = str(info.value)
    assert "'s3'" in message and "io_manager" in message
    assert isinstance(info.value, ResourceError)


def test_missing_bucket_fails_before_any_step(
    moto_server: MotoServer, stored_keys: Callable[[], list[str]]
) -> None:
    resources = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": "no-such-bucket"}),
        "s3": s3_resource.configured(moto_server.resource_fields()),
    }
    with pytest.raises(S3AccessError) as info:
        dg.materialize([orders], resources=resources)
    message = str(info.value)
    assert "'no-such-bucket'" in message and moto_server.endpoint_url in message
    assert "does not exist" in message and "s3_bucket" in message
    assert info.value.error_code == "NoSuchBucket"

    result = dg.materialize([orders], resources=resources, raise_on_error=False)
    assert not result.success
    assert result.get_asset_materialization_events() == []


def test_missing_bucket_config_names_the_field(moto_server: MotoServer) -> None:
    resources = {
        "io_manager": s3_pickle_io_manager,
        "s3": s3_resource.configured(moto_server.resource_fields()),
    }
    with pytest.raises(dg.DagsterInvalidConfigError, match="s3_bucket"):
        dg.materialize([orders], resources=resources)


def test_s3_must_be_a_client(bucket: str) -> None:
    resources = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket}),
        "s3": dg.ResourceDefinition.hardcoded_resource("not a client"),
    }
    with pytest.raises(ResourceError, match=r"boto3 S3 client or an S3Resource; got builtins.str"):
        dg.materialize([orders], resources=resources)


def test_an_s3_resource_object_under_the_s3_key_works(
    pythonic_s3: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    resources = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket}),
        "s3": pythonic_s3,
    }
    assert dg.materialize([orders, total], resources=resources).success
    assert stored_keys() == ["dagster/shop/orders", "dagster/shop/total"]


def test_wrong_credentials_fail_without_leaking_them(
    auth_server: tuple[MotoServer, str, tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, bucket, (key_id, _secret) = auth_server
    monkeypatch.setenv("LEGACY_S3_SECRET", SECRET)
    monkeypatch.setenv("LEGACY_S3_TOKEN", TOKEN)
    s3 = s3_resource.configured(
        {
            "endpoint_url": server.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": key_id,
            "aws_secret_access_key": {"env": "LEGACY_S3_SECRET"},
            "aws_session_token": {"env": "LEGACY_S3_TOKEN"},
        }
    )
    resources = {"io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket}), "s3": s3}
    with caplog.at_level(logging.DEBUG), pytest.raises(S3AccessError) as info:
        dg.materialize([orders], resources=resources)
    assert info.value.error_code in ("InvalidToken", "SignatureDoesNotMatch")
    assert "credentials were refused" in str(info.value)
    result = dg.materialize([orders], resources=resources, raise_on_error=False)
    assert not result.success
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.split(".")[0] not in ("botocore", "boto3", "s3transfer", "urllib3")
    )
    texts = [str(info.value), repr(info.value), ours, repr(s3), repr(resources["io_manager"])]
    texts += [repr(event) for event in result.all_events]
    for text in texts:
        assert SECRET not in text and TOKEN not in text


def test_the_legacy_manager_masks_credentials_in_its_repr(moto_server: MotoServer) -> None:
    bucket = moto_server.create_bucket()
    with dg.build_init_resource_context(
        config=moto_server.resource_fields(aws_secret_access_key=SECRET)
    ) as context:
        client = s3_resource(context)
    manager = PickledObjectS3IOManager(bucket, client, s3_prefix="p")
    text = repr(manager)
    assert SECRET not in text
    assert bucket in text and moto_server.endpoint_url in text


# -- PickledObjectS3IOManager --------------------------------------------------------------------
def test_pickled_object_manager_defaults_to_no_prefix(
    moto_server: MotoServer, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    client = moto_server.client()  # any boto3 client, not one s3_resource made
    manager = PickledObjectS3IOManager(bucket, client)
    out = dg.build_output_context(asset_key=["a", "b"])
    manager.handle_output(out, {"v": 1})
    assert stored_keys() == ["a/b"]
    assert manager.load_input(
        dg.build_input_context(asset_key=["a", "b"], upstream_output=out)
    ) == {"v": 1}
    assert manager.bucket == bucket and manager.s3 is client


def test_pickled_object_manager_checks_the_bucket_at_init(moto_server: MotoServer) -> None:
    with pytest.raises(S3AccessError, match=r"'absent'.*does not exist") as info:
        PickledObjectS3IOManager("absent", moto_server.client(), s3_prefix="x")
    # a client s3_resource did not make: its endpoint comes from the client itself
    assert moto_server.endpoint_url in str(info.value)
