"""S3ParquetIOManager with polars against moto over HTTP: DataFrames and LazyFrames stored as
Parquet, the load type chosen by the input's annotation, partitions (one frame or a dict),
unstorable values, and polars never imported for pandas/pyarrow work."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import weir as dg
from weir_io_s3 import S3ParquetIOManager, S3PickleIOManager, S3Resource, S3SerializationError
from weir_io_s3.testing import MotoServer

DAYS = dg.StaticPartitionsDefinition(["2024-01-01", "2024-01-02", "2024-01-03"])


@pytest.fixture
def manager(s3_resource: S3Resource, bucket: str) -> S3ParquetIOManager:
    return S3ParquetIOManager(s3_resource=s3_resource, s3_bucket=bucket)


def _frame(day: str, n: int = 2) -> pl.DataFrame:
    return pl.DataFrame({"day": [day] * n, "value": list(range(n))})


def _store(manager: Any, obj: Any, **context: Any) -> Any:
    out = dg.build_output_context(**context)
    manager.handle_output(out, obj)
    return out


def _load(manager: Any, out: Any, **context: Any) -> Any:
    asset_key = out.asset_key if out.has_asset_key else None
    return manager.load_input(
        dg.build_input_context(asset_key=asset_key, upstream_output=out, **context)
    )


# -- round trips ------------------------------------------------------------------------------
def test_a_polars_frame_round_trips_as_polars(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]], s3_client: Any, bucket: str
) -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", None, "c"],
            "score": [1.5, None, -2.0],
            "tags": [["x"], [], ["y", "z"]],
        }
    )
    out = _store(manager, frame, asset_key=["lake", "scores"])
    assert stored_keys() == ["dagster/lake/scores.parquet"]
    assert out.get_logged_metadata()["dagster/row_count"] == 3
    body = s3_client.get_object(Bucket=bucket, Key="dagster/lake/scores.parquet")["Body"].read()
    assert pq.read_table(io.BytesIO(body)).column_names == ["id", "name", "score", "tags"]

    loaded = _load(manager, out, dagster_type=pl.DataFrame)
    assert isinstance(loaded, pl.DataFrame)
    assert_frame_equal(loaded, frame)


def test_a_lazy_frame_is_collected_and_stored(manager: S3ParquetIOManager) -> None:
    lazy = pl.LazyFrame({"a": [3, 1, 2]}).sort("a").with_columns(b=pl.col("a") * 10)
    out = _store(manager, lazy, asset_key=["lazy"])
    assert out.get_logged_metadata()["dagster/row_count"] == 3
    as_lazy = _load(manager, out, dagster_type=pl.LazyFrame)
    assert isinstance(as_lazy, pl.LazyFrame)
    assert_frame_equal(as_lazy.collect(), pl.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30]}))


def test_the_annotation_decides_the_load_type(manager: S3ParquetIOManager) -> None:
    out = _store(manager, _frame("x", 3), asset_key=["typed"])
    as_pandas = _load(manager, out)  # no annotation: pandas, as before
    assert isinstance(as_pandas, pd.DataFrame)
    assert list(as_pandas["value"]) == [0, 1, 2]
    as_polars = _load(manager, out, dagster_type=pl.DataFrame)
    assert isinstance(as_polars, pl.DataFrame)

    # and a pandas frame loads as polars when asked
    pandas_out = _store(manager, pd.DataFrame({"v": [1.0, 2.0]}), asset_key=["from_pandas"])
    assert_frame_equal(
        _load(manager, pandas_out, dagster_type=pl.DataFrame), pl.DataFrame({"v": [1.0, 2.0]})
    )


# -- partitions -------------------------------------------------------------------------------
def test_partitioned_polars_assets_in_runs(
    s3_resource: S3Resource, bucket: str, stored_keys: Callable[[], list[str]]
) -> None:
    @dg.asset(partitions_def=DAYS)
    def readings(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return _frame(context.partition_key, 2)

    manager = S3ParquetIOManager(s3_resource=s3_resource, s3_bucket=bucket, s3_prefix="lake")
    for day in ("2024-01-03", "2024-01-01", "2024-01-02"):
        result = dg.materialize([readings], partition_key=day, resources={"io_manager": manager})
        assert result.success
    assert stored_keys() == [f"lake/readings/{day}.parquet" for day in DAYS.get_partition_keys()]
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/partition_row_count"].value == 2

    seen: dict[str, Any] = {}

    @dg.asset(io_manager_key="pickles")
    def combined(readings: pl.DataFrame) -> int:
        seen["combined"] = readings
        return readings.height

    @dg.asset(io_manager_key="pickles")
    def by_day(readings: dict[str, pl.DataFrame]) -> list[str]:
        seen["by_day"] = readings
        return sorted(readings)

    @dg.asset(partitions_def=DAYS, io_manager_key="pickles")
    def one_day(readings: pl.DataFrame) -> int:
        seen["one_day"] = readings
        return readings.height

    resources = {
        "io_manager": manager,
        "pickles": S3PickleIOManager(s3_resource=s3_resource, s3_bucket=bucket),
    }
    result = dg.materialize(
        [readings, combined, by_day], selection=[combined.key, by_day.key], resources=resources
    )
    assert result.success
    # one frame, in the partitions definition's order
    assert isinstance(seen["combined"], pl.DataFrame)
    assert seen["combined"]["day"].to_list() == [d for d in DAYS.get_partition_keys() for _ in "ab"]
    # a dict of polars frames for a dict annotation
    assert sorted(seen["by_day"]) == DAYS.get_partition_keys()
    assert all(isinstance(frame, pl.DataFrame) for frame in seen["by_day"].values())
    assert_frame_equal(seen["by_day"]["2024-01-02"], _frame("2024-01-02"))

    result = dg.materialize(
        [readings, one_day],
        selection=[one_day.key],
        partition_key="2024-01-02",
        resources=resources,
    )
    assert result.success
    assert_frame_equal(seen["one_day"], _frame("2024-01-02"))


def test_a_run_over_several_partitions_stores_a_dict_of_frames(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    key_range = dg.PartitionKeyRange("2024-01-01", "2024-01-02")
    frames = {"2024-01-01": _frame("2024-01-01"), "2024-01-02": _frame("2024-01-02").lazy()}
    out = _store(
        manager,
        frames,
        asset_key=["multi"],
        asset_partitions_def=DAYS,
        asset_partition_key_range=key_range,
    )
    assert stored_keys() == ["dagster/multi/2024-01-01.parquet", "dagster/multi/2024-01-02.parquet"]
    loaded = _load(
        manager,
        out,
        dagster_type=pl.LazyFrame,
        asset_partitions_def=DAYS,
        asset_partition_key_range=key_range,
    )
    assert isinstance(loaded, pl.LazyFrame)
    assert loaded.collect()["day"].to_list() == ["2024-01-01"] * 2 + ["2024-01-02"] * 2


def test_partitions_with_different_columns_concatenate_like_pandas(
    manager: S3ParquetIOManager,
) -> None:
    for day, frame in (
        ("2024-01-01", pl.DataFrame({"a": [1]})),
        ("2024-01-02", pl.DataFrame({"a": [1.5], "b": ["x"]})),
    ):
        out = _store(
            manager, frame, asset_key=["ragged"], partition_key=day, asset_partitions_def=DAYS
        )
    loaded = _load(
        manager,
        out,
        dagster_type=pl.DataFrame,
        asset_partitions_def=DAYS,
        asset_partition_key_range=dg.PartitionKeyRange("2024-01-01", "2024-01-02"),
    )
    assert_frame_equal(loaded, pl.DataFrame({"a": [1.0, 1.5], "b": [None, "x"]}))


# -- values that cannot be stored -------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "type_name"),
    [(pl.Series("s", [1, 2]), "polars.series.series.Series"), ([1, 2], "list")],
)
def test_an_unsupported_value_names_the_supported_types(
    manager: S3ParquetIOManager,
    stored_keys: Callable[[], list[str]],
    value: Any,
    type_name: str,
) -> None:
    with pytest.raises(S3SerializationError) as info:
        _store(manager, value, asset_key=["wrong"])
    message = str(info.value)
    assert "asset 'wrong'" in message and f"of type {type_name}" in message
    for supported in ("pandas DataFrames", "pyarrow Tables", "polars DataFrames", "LazyFrames"):
        assert supported in message
    assert stored_keys() == []


def test_a_frame_polars_cannot_write_is_a_serialization_error(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    frame = pl.DataFrame({"o": [object(), object()]}, schema={"o": pl.Object})
    with pytest.raises(S3SerializationError, match=r"asset 'objects'.*polars cannot write") as info:
        _store(manager, frame, asset_key=["objects"])
    assert isinstance(info.value.user_exception, pl.exceptions.PolarsError)
    assert stored_keys() == []


def test_a_lazy_frame_that_fails_to_collect_is_a_serialization_error(
    manager: S3ParquetIOManager, stored_keys: Callable[[], list[str]]
) -> None:
    broken = pl.LazyFrame({"a": [1]}).select(pl.col("missing"))
    with pytest.raises(S3SerializationError, match=r"asset 'broken'.*collecting") as info:
        _store(manager, broken, asset_key=["broken"])
    assert isinstance(info.value.user_exception, pl.exceptions.ColumnNotFoundError)
    assert stored_keys() == []


# -- polars stays unimported ------------------------------------------------------------------
def test_polars_is_imported_only_for_polars_values(moto_server: MotoServer, bucket: str) -> None:
    script = textwrap.dedent(
        """
        import json, os, sys
        import pandas as pd
        import pyarrow as pa
        import weir as dg
        from weir_io_s3 import S3ParquetIOManager, S3Resource, s3_resource, s3_pickle_io_manager

        fields = json.loads(os.environ["S3_FIELDS"])
        manager = S3ParquetIOManager(
            s3_resource=S3Resource(**fields), s3_bucket=os.environ["S3_BUCKET"]
        )
        for value, annotation in ((pd.DataFrame({"a": [1]}), pd.DataFrame),
                                  (pa.table({"a": [1]}), pa.Table)):
            out = dg.build_output_context(asset_key=["p"])
            manager.handle_output(out, value)
            manager.load_input(dg.build_input_context(asset_key=["p"], upstream_output=out))
            manager.load_input(
                dg.build_input_context(asset_key=["p"], upstream_output=out, dagster_type=annotation)
            )
        try:
            manager.handle_output(dg.build_output_context(asset_key=["q"]), [1])
        except Exception:
            pass
        assert "polars" not in sys.modules, "polars was imported"
        print("ok", flush=True)
        # skip native teardown: pyarrow's thread pool sometimes aborts at interpreter exit
        # ("terminate called without an active exception") after the check has passed
        os._exit(0)
        """
    )
    env = {
        **os.environ,
        "S3_FIELDS": json.dumps(moto_server.resource_fields()),
        "S3_BUCKET": bucket,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_polars_alone_is_enough(moto_server: MotoServer, bucket: str) -> None:
    """``weir-io-s3[polars]`` without pandas and pyarrow: polars frames store and load."""
    script = textwrap.dedent(
        """
        import json, os, sys
        sys.modules["pandas"] = None  # as if not installed: importing them raises ImportError
        sys.modules["pyarrow"] = None
        import polars as pl
        import weir as dg
        from weir_io_s3 import S3ParquetIOManager, S3Resource

        fields = json.loads(os.environ["S3_FIELDS"])
        manager = S3ParquetIOManager(
            s3_resource=S3Resource(**fields), s3_bucket=os.environ["S3_BUCKET"]
        )
        out = dg.build_output_context(asset_key=["only_polars"])
        manager.handle_output(out, pl.LazyFrame({"a": [1, 2]}))
        loaded = manager.load_input(
            dg.build_input_context(
                asset_key=["only_polars"], upstream_output=out, dagster_type=pl.DataFrame
            )
        )
        assert loaded.to_dict(as_series=False) == {"a": [1, 2]}, loaded
        try:  # an unannotated input needs pandas: the error says what to do
            manager.load_input(dg.build_input_context(asset_key=["only_polars"], upstream_output=out))
        except Exception as exc:
            print(type(exc).__name__, exc)
        """
    )
    env = {
        **os.environ,
        "S3_FIELDS": json.dumps(moto_server.resource_fields()),
        "S3_BUCKET": bucket,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ConfigError "), done.stdout
    assert "pip install" in done.stdout and "pl.DataFrame" in done.stdout
