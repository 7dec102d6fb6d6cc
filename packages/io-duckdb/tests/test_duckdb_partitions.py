"""Partitioned assets in DuckDB: a run replaces exactly its partition (static, daily time window,
two-dimensional multi), several partitions load in one query, values with quotes round-trip, and
a missing ``partition_expr`` is Dagster's error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import weir as dg
from weir.errors import DefinitionError
from weir_io_duckdb import DuckDBPandasIOManager, DuckDBWriteError


def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database)) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "parts.duckdb"


def _materialize(asset: Any, database: Path, key: str) -> None:
    result = dg.materialize(
        [asset],
        partition_key=key,
        resources={"io_manager": DuckDBPandasIOManager(database=str(database))},
    )
    assert result.success


# -- static -------------------------------------------------------------------------------------------
REGIONS = dg.StaticPartitionsDefinition(["eu", "us", 'it\'s "quoted"'])


def _static_asset(version: int) -> Any:
    @dg.asset(partitions_def=REGIONS, metadata={"partition_expr": "region"}, name="sales")
    def sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
        key = context.partition_key
        return pd.DataFrame({"region": [key, key], "n": [version, version]})

    return sales


def test_static_partition_replace_touches_only_its_partition(database: Path) -> None:
    for key in REGIONS.get_partition_keys():
        _materialize(_static_asset(1), database, key)
    _materialize(_static_asset(2), database, 'it\'s "quoted"')
    assert _rows(database, "SELECT region, sum(n) FROM public.sales GROUP BY 1 ORDER BY 1") == [
        ("eu", 2),
        ('it\'s "quoted"', 4),
        ("us", 2),
    ]


def test_several_static_partitions_load_in_one_query(database: Path) -> None:
    for key in REGIONS.get_partition_keys():
        _materialize(_static_asset(1), database, key)
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        upstream = dg.build_output_context(
            asset_key=["sales"], definition_metadata={"partition_expr": "region"}
        )
        loaded = res.io.load_input(
            dg.build_input_context(
                asset_key=["sales"],
                upstream_output=upstream,
                asset_partition_key_range=dg.PartitionKeyRange("eu", "us"),
                asset_partitions_def=dg.StaticPartitionsDefinition(["eu", "us", 'it\'s "quoted"']),
            )
        )
    assert sorted(set(loaded["region"])) == ["eu", "us"]
    assert len(loaded) == 4


def test_partitioned_asset_without_partition_expr_is_dagsters_error(database: Path) -> None:
    @dg.asset(partitions_def=REGIONS)
    def unmarked() -> pd.DataFrame:
        return pd.DataFrame({"region": ["eu"]})

    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        out = dg.build_output_context(asset_key=["unmarked"], partition_key="eu")
        with pytest.raises(DefinitionError) as info:
            res.io.handle_output(out, pd.DataFrame({"region": ["eu"]}))
    assert str(info.value).startswith(
        "Asset 'unmarked' has partitions, but no 'partition_expr' metadata value, so we don't "
        "know what column it's partitioned on."
    )


# -- daily time windows ---------------------------------------------------------------------------------
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")


def _daily_asset(version: int) -> Any:
    @dg.asset(partitions_def=DAILY, metadata={"partition_expr": "ts"}, name="events")
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        start = context.partition_time_window.start.replace(tzinfo=None)
        # two rows inside the window, one at its very start and one just before its end
        stamps = [start, start + dt.timedelta(hours=23, minutes=59)]
        return pd.DataFrame({"ts": pd.to_datetime(stamps), "version": [version, version]})

    return events


def test_daily_partition_replace_uses_the_time_window(database: Path) -> None:
    for key in ("2024-01-01", "2024-01-02", "2024-01-03"):
        _materialize(_daily_asset(1), database, key)
    _materialize(_daily_asset(2), database, "2024-01-02")
    rows = _rows(
        database,
        "SELECT CAST(ts AS DATE), sum(version), count(*) FROM public.events GROUP BY 1 ORDER BY 1",
    )
    assert rows == [
        (dt.date(2024, 1, 1), 2, 2),
        (dt.date(2024, 1, 2), 4, 2),
        (dt.date(2024, 1, 3), 2, 2),
    ]


def test_daily_partition_range_loads_the_union_window(database: Path) -> None:
    for key in ("2024-01-01", "2024-01-02", "2024-01-03"):
        _materialize(_daily_asset(1), database, key)
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        upstream = dg.build_output_context(
            asset_key=["events"], definition_metadata={"partition_expr": "ts"}
        )
        loaded = res.io.load_input(
            dg.build_input_context(
                asset_key=["events"],
                upstream_output=upstream,
                asset_partition_key_range=dg.PartitionKeyRange("2024-01-02", "2024-01-03"),
                asset_partitions_def=DAILY,
            )
        )
    assert sorted({t.date() for t in loaded["ts"]}) == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert len(loaded) == 4


def test_partition_expr_may_be_a_sql_expression(database: Path) -> None:
    @dg.asset(partitions_def=DAILY, metadata={"partition_expr": "CAST(day_text AS DATE)"})
    def texts(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day_text": [context.partition_key], "v": [1]})

    for key in ("2024-01-01", "2024-01-02", "2024-01-01"):
        _materialize(texts, database, key)
    assert _rows(database, "SELECT day_text, v FROM public.texts ORDER BY 1") == [
        ("2024-01-01", 1),
        ("2024-01-02", 1),
    ]


def test_timestamptz_column_is_compared_as_an_instant(database: Path) -> None:
    tokyo = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Asia/Tokyo")

    @dg.asset(partitions_def=tokyo, metadata={"partition_expr": "at"})
    def stamped(context: dg.AssetExecutionContext) -> pd.DataFrame:
        start = pd.Timestamp(context.partition_time_window.start)
        return pd.DataFrame(
            {"at": [start, start + pd.Timedelta(hours=23)], "key": [context.partition_key] * 2}
        )

    for key in ("2024-01-01", "2024-01-02", "2024-01-01"):
        _materialize(stamped, database, key)
    assert _rows(database, "SELECT key, count(*) FROM public.stamped GROUP BY 1 ORDER BY 1") == [
        ("2024-01-01", 2),
        ("2024-01-02", 2),
    ]


# -- two dimensions ---------------------------------------------------------------------------------------
GRID = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03"),
        "region": dg.StaticPartitionsDefinition(["eu", "o'us"]),
    }
)


def _grid_asset(version: int) -> Any:
    @dg.asset(
        partitions_def=GRID,
        metadata={"partition_expr": {"date": "day", "region": "region"}},
        name="grid",
    )
    def grid(context: dg.AssetExecutionContext) -> pd.DataFrame:
        day, region = context.partition_key.split("|")  # dimension-name order
        return pd.DataFrame({"day": [pd.Timestamp(day).date()], "region": [region], "v": [version]})

    return grid


def test_multi_partition_replace_touches_only_its_cell(database: Path) -> None:
    keys = GRID.get_partition_keys()
    assert len(keys) == 4
    for key in keys:
        _materialize(_grid_asset(1), database, key)
    _materialize(_grid_asset(2), database, "2024-01-02|o'us")
    rows = _rows(database, "SELECT CAST(day AS VARCHAR), region, v FROM public.grid ORDER BY 1, 2")
    assert rows == [
        ("2024-01-01", "eu", 1),
        ("2024-01-01", "o'us", 1),
        ("2024-01-02", "eu", 1),
        ("2024-01-02", "o'us", 2),
    ]


def test_multi_partition_expr_missing_a_dimension_is_a_clear_error(database: Path) -> None:
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        out = dg.build_output_context(
            asset_key=["grid"],
            partition_key="2024-01-01|eu",
            asset_partitions_def=GRID,
            definition_metadata={"partition_expr": {"date": "day"}},
        )
        with pytest.raises(DefinitionError, match=r"dimension\(s\) \['region'\]"):
            res.io.handle_output(out, pd.DataFrame({"day": ["2024-01-01"], "region": ["eu"]}))


def test_partitioned_write_with_a_new_column_is_refused_and_rolled_back(database: Path) -> None:
    _materialize(_static_asset(1), database, "eu")
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as res:
        out = dg.build_output_context(
            asset_key=["sales"],
            partition_key="eu",
            definition_metadata={"partition_expr": "region"},
        )
        with pytest.raises(DuckDBWriteError, match=r"has column\(s\) \['extra'\]"):
            res.io.handle_output(out, pd.DataFrame({"region": ["eu"], "n": [5], "extra": [1]}))
    assert _rows(database, "SELECT region, n FROM public.sales ORDER BY n") == [
        ("eu", 1),
        ("eu", 1),
    ]
