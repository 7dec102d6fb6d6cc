"""Partitioned assets in PostgreSQL: a partition's write replaces only that partition's rows.

weir's core has no partitions definitions yet (the partitions issue), so these tests build IO
contexts with ``partition_key=`` / ``asset_partition_key_range=`` and, for time windows and
multi-partitions, hand them small stand-in definitions exposing the two members the IO manager
reads (``time_window_for_partition_key`` and ``partitions_defs``), named as in Dagster.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import pandas as pd
import psycopg
import pytest

import weir as dg
from weir.errors import DefinitionError
from weir_resource_postgres import PostgresPandasIOManager

UTC = dt.timezone.utc


class TimeWindow(NamedTuple):
    start: dt.datetime
    end: dt.datetime


class DailyStandIn:
    """What the IO manager asks of a daily partitions definition (keys are ``%Y-%m-%d``)."""

    def time_window_for_partition_key(self, key: str) -> TimeWindow:
        start = dt.datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=UTC)
        return TimeWindow(start, start + dt.timedelta(days=1))


class Dimension(NamedTuple):
    name: str
    partitions_def: Any


class MultiStandIn:
    def __init__(self, **dims: Any) -> None:
        self.partitions_defs = [Dimension(n, d) for n, d in sorted(dims.items())]


class StaticStandIn:
    pass


@pytest.fixture
def manager(pg_conn_kwargs: dict[str, Any]) -> PostgresPandasIOManager:
    return PostgresPandasIOManager(**pg_conn_kwargs)


def _rows(pg_server: Any, database: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(**pg_server.connection_kwargs(database)) as conn:
        return conn.execute(query).fetchall()


def _out(key: Any, partition_expr: Any, **kwargs: Any) -> Any:
    return dg.build_output_context(
        asset_key=key, definition_metadata={"partition_expr": partition_expr}, **kwargs
    )


def _in(out: Any, **kwargs: Any) -> Any:
    return dg.build_input_context(asset_key=out.asset_key, upstream_output=out, **kwargs)


def test_static_partition_replace_touches_only_its_partition(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    for region, values in [("eu", [1, 2]), ("us", [3]), ("apac", [4])]:
        frame = pd.DataFrame({"region": region, "v": values})
        manager.handle_output(_out(["sales"], "region", partition_key=region), frame)
    manager.handle_output(
        _out(["sales"], "region", partition_key="us"), pd.DataFrame({"region": "us", "v": [30, 31]})
    )
    assert _rows(pg_server, pg_database, "SELECT region, v FROM sales ORDER BY v") == [
        ("eu", 1),
        ("eu", 2),
        ("apac", 4),
        ("us", 30),
        ("us", 31),
    ]
    loaded = manager.load_input(_in(_out(["sales"], "region"), partition_key="us"))
    pd.testing.assert_frame_equal(loaded, pd.DataFrame({"region": ["us", "us"], "v": [30, 31]}))


def test_partition_metadata_and_failed_partition_write(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    out = _out(["p_meta"], "k", partition_key="a")
    manager.handle_output(out, pd.DataFrame({"k": ["a", "a"], "n": [1, 2]}))
    assert out.get_logged_metadata()["dagster/partition_row_count"] == 2
    assert "dagster/row_count" not in out.get_logged_metadata()
    manager.handle_output(
        _out(["p_meta"], "k", partition_key="b"), pd.DataFrame({"k": ["b"], "n": [3]})
    )
    with pytest.raises(dg.DagsterExecutionHandleOutputError, match="rolled back"):
        manager.handle_output(
            _out(["p_meta"], "k", partition_key="a"), pd.DataFrame({"k": ["a"], "n": ["x"]})
        )
    assert _rows(pg_server, pg_database, "SELECT k, n FROM p_meta ORDER BY n") == [
        ("a", 1),
        ("a", 2),
        ("b", 3),
    ]


def test_partitioned_asset_without_partition_expr_fails_with_dagsters_message(manager: Any) -> None:
    out = dg.build_output_context(asset_key=["no_expr"], partition_key="a")
    with pytest.raises(DefinitionError) as info:
        manager.handle_output(out, pd.DataFrame({"x": [1]}))
    assert str(info.value).startswith(
        "Asset 'no_expr' has partitions, but no 'partition_expr' metadata value"
    )
    assert '"partition_expr": "your_partition_column"' in str(info.value)


def test_partition_expr_column_names_are_quoted(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    for key in ["x'1", 'y"2']:
        frame = pd.DataFrame({'Part "Key"': [key], "v": [len(key)]})
        manager.handle_output(_out(["quoted_parts"], 'Part "Key"', partition_key=key), frame)
    manager.handle_output(
        _out(["quoted_parts"], 'Part "Key"', partition_key="x'1"),
        pd.DataFrame({'Part "Key"': ["x'1"], "v": [99]}),
    )
    assert _rows(
        pg_server, pg_database, 'SELECT "Part ""Key""", v FROM quoted_parts ORDER BY v'
    ) == [
        ('y"2', 3),
        ("x'1", 99),
    ]


def test_partition_expr_may_be_an_sql_expression(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    for key in ["A", "B"]:
        manager.handle_output(
            _out(["expr_parts"], "upper(code)", partition_key=key),
            pd.DataFrame({"code": [key.lower()], "v": [1]}),
        )
    manager.handle_output(
        _out(["expr_parts"], "upper(code)", partition_key="A"),
        pd.DataFrame({"code": ["a"], "v": [2]}),
    )
    assert _rows(pg_server, pg_database, "SELECT code, v FROM expr_parts ORDER BY code") == [
        ("a", 2),
        ("b", 1),
    ]


def test_time_window_partitions(manager: Any, pg_server: Any, pg_database: str) -> None:
    daily = DailyStandIn()
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    for day in days:
        frame = pd.DataFrame(
            {"ts": pd.to_datetime([f"{day} 00:00:00", f"{day} 23:59:59"]), "v": [1, 2]}
        )
        manager.handle_output(
            _out(["events"], "ts", partition_key=day, asset_partitions_def=daily), frame
        )
    replacement = pd.DataFrame({"ts": pd.to_datetime(["2024-01-02 12:00"]), "v": [7]})
    manager.handle_output(
        _out(["events"], "ts", partition_key="2024-01-02", asset_partitions_def=daily), replacement
    )
    assert _rows(pg_server, pg_database, "SELECT count(*), sum(v) FROM events") == [(5, 13)]
    one_day = manager.load_input(
        _in(_out(["events"], "ts"), partition_key="2024-01-02", asset_partitions_def=daily)
    )
    pd.testing.assert_frame_equal(one_day, replacement)
    window = manager.load_input(
        _in(
            _out(["events"], "ts"),
            asset_partition_key_range=dg.PartitionKeyRange("2024-01-02", "2024-01-03")
            if hasattr(dg, "PartitionKeyRange")
            else _Range("2024-01-02", "2024-01-03"),
            asset_partitions_def=daily,
        )
    )
    assert window.sort_values("ts")["v"].tolist() == [7, 1, 2]


class _Range(NamedTuple):
    start: str
    end: str


def test_time_window_on_a_date_column(manager: Any, pg_server: Any, pg_database: str) -> None:
    daily = DailyStandIn()
    for day in [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]:
        manager.handle_output(
            _out(["by_date"], "day", partition_key=day.isoformat(), asset_partitions_def=daily),
            pd.DataFrame({"day": [day], "v": [day.day]}),
        )
    manager.handle_output(
        _out(["by_date"], "day", partition_key="2024-03-01", asset_partitions_def=daily),
        pd.DataFrame({"day": [dt.date(2024, 3, 1)], "v": [100]}),
    )
    assert _rows(pg_server, pg_database, "SELECT day, v FROM by_date ORDER BY day") == [
        (dt.date(2024, 3, 1), 100),
        (dt.date(2024, 3, 2), 2),
    ]


def test_multi_partitions_and_each_dimension(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    multi = MultiStandIn(date=DailyStandIn(), region=StaticStandIn())
    exprs = {"date": "ts", "region": "region"}
    for key in ["2024-01-01|eu", "2024-01-01|us", "2024-01-02|eu"]:
        day, region = key.split("|")
        frame = pd.DataFrame({"ts": pd.to_datetime([f"{day} 06:00"]), "region": [region], "v": [1]})
        manager.handle_output(
            _out(["multi"], exprs, partition_key=key, asset_partitions_def=multi), frame
        )
    manager.handle_output(
        _out(["multi"], exprs, partition_key="2024-01-01|us", asset_partitions_def=multi),
        pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 07:00"]), "region": ["us"], "v": [5]}),
    )
    assert _rows(
        pg_server,
        pg_database,
        "SELECT to_char(ts, 'YYYY-MM-DD'), region, v FROM multi ORDER BY 1, 2",
    ) == [("2024-01-01", "eu", 1), ("2024-01-01", "us", 5), ("2024-01-02", "eu", 1)]
    loaded = manager.load_input(
        _in(_out(["multi"], exprs), partition_key="2024-01-01|us", asset_partitions_def=multi)
    )
    assert loaded["v"].tolist() == [5]


def test_multi_partitions_without_a_definition_split_keys_by_dimension_name(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    exprs = {"color": "color", "size": "size"}  # keys join values in dimension-name order
    for key in ["red|s", "red|m", "blue|s"]:
        color, size = key.split("|")
        manager.handle_output(
            _out(["multi_static"], exprs, partition_key=key),
            pd.DataFrame({"color": [color], "size": [size], "v": [1]}),
        )
    manager.handle_output(
        _out(["multi_static"], exprs, partition_key="red|s"),
        pd.DataFrame({"color": ["red"], "size": ["s"], "v": [9]}),
    )
    assert _rows(
        pg_server, pg_database, "SELECT color, size, v FROM multi_static ORDER BY 1, 2"
    ) == [
        ("blue", "s", 1),
        ("red", "m", 1),
        ("red", "s", 9),
    ]


def test_multi_partition_expr_missing_a_dimension(manager: Any) -> None:
    multi = MultiStandIn(date=DailyStandIn(), region=StaticStandIn())
    out = _out(
        ["multi_bad"], {"date": "ts"}, partition_key="2024-01-01|eu", asset_partitions_def=multi
    )
    with pytest.raises(DefinitionError, match=r"dimension\(s\) \['region'\].*has \['date'\]"):
        manager.handle_output(out, pd.DataFrame({"ts": [1]}))


def test_unpartitioned_downstream_loads_every_partition(manager: Any) -> None:
    for region in ["eu", "us"]:
        manager.handle_output(
            _out(["all_parts"], "region", partition_key=region), pd.DataFrame({"region": [region]})
        )
    upstream = _out(["all_parts"], "region")
    loaded = manager.load_input(dg.build_input_context(upstream_output=upstream, asset_key=None))
    assert sorted(loaded["region"]) == ["eu", "us"]
