"""DuckDBPandasIOManager on real DuckDB files: the IO manager contract, Dagster's table mapping,
quoting, output metadata, column subsets, rollback of failed writes, and the other frame types."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import weir as dg
from weir.errors import (
    DefinitionError,
    InvariantViolationError,
    LoadInputError,
    ResourceError,
)
from weir.testing import IOManagerContract
from weir_io_duckdb import (
    DuckDBIOManager,
    DuckDBPandasIOManager,
    DuckDBPolarsIOManager,
    DuckDBPyArrowIOManager,
    DuckDBTableNotFoundError,
    DuckDBWriteError,
)


def _rows(database: Path, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database)) as conn:
        return conn.execute(query, params).fetchall()


def _tables(database: Path) -> set[tuple[str, str]]:
    return {
        (s, t)
        for s, t in _rows(
            database, "SELECT table_schema, table_name FROM information_schema.tables"
        )
    }


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def live(database: Path) -> Any:
    with dg.build_resources({"io": DuckDBPandasIOManager(database=str(database))}) as resources:
        yield resources.io


def _store(manager: Any, key: list[str] | None, frame: Any, **kwargs: Any) -> Any:
    out = dg.build_output_context(asset_key=key, **kwargs)
    manager.handle_output(out, frame)
    return out


def _load(manager: Any, out: Any, **kwargs: Any) -> Any:
    key = out.asset_key if out.has_asset_key else None
    return manager.load_input(dg.build_input_context(asset_key=key, upstream_output=out, **kwargs))


FRAME = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None], "score": [1.5, None, -2.0]})


# -- the contract ---------------------------------------------------------------------------------
class TestDuckDBPandasContract(IOManagerContract):
    """The contract, with two adaptations stated here rather than hidden:

    * op outputs map to the table named by their ``table`` metadata, else by the output name
      (Dagster's rule), so a later run's output replaces an earlier one's;
    * partitioned assets need ``partition_expr``: partitioned contexts carry it, the stored frame
      gets a ``part`` column, and loads select the original columns with ``columns`` metadata.
    """

    op_outputs_keyed_by_run = False

    @pytest.fixture
    def io_manager(self, tmp_path: Path) -> Any:
        return DuckDBPandasIOManager(database=str(tmp_path / "contract.duckdb"))

    def sample_value(self) -> Any:
        return pd.DataFrame(
            {
                "id": [1, 2, 3],
                "name": ["a", "", None],
                "score": [1.5, None, -2.25],
                "day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            }
        )

    def other_value(self) -> Any:
        return pd.DataFrame(
            {
                "id": [9],
                "name": ["z"],
                "score": [0.0],
                "day": pd.to_datetime(["2030-12-31 23:59:59.5"]),
            }
        )

    def assert_same_value(self, loaded: Any, expected: Any) -> None:
        pd.testing.assert_frame_equal(loaded, expected)

    def output_context(self, instance: Any, **kwargs: Any) -> Any:
        base = super().output_context(instance, **kwargs)
        if kwargs.get("partition_key") is None:
            return base
        metadata = {"partition_expr": "part"}
        return dg.build_output_context(
            step_key=base.step_key,
            name=base.name,
            run_id=base.run_id,
            asset_key=base.asset_key if base.has_asset_key else None,
            partition_key=kwargs.get("partition_key"),
            definition_metadata=metadata,
            instance=instance,
        )

    def store(self, manager: Any, ctx: Any, value: Any) -> None:
        if ctx.has_asset_key and ctx.has_asset_partitions:
            value = value.assign(part=ctx.partition_key)
        manager.handle_output(ctx, value)

    def load(self, manager: Any, upstream: Any, instance: Any, **kwargs: Any) -> Any:
        if kwargs.get("partition_key") is None:
            return super().load(manager, upstream, instance, **kwargs)
        return manager.load_input(
            dg.build_input_context(
                name="upstream",
                upstream_output=upstream,
                asset_key=upstream.asset_key,
                partition_key=kwargs["partition_key"],
                definition_metadata={"columns": ["id", "name", "score", "day"]},
                instance=instance,
            )
        )


# -- table mapping ----------------------------------------------------------------------------------
def test_schema_is_second_to_last_key_part_and_table_the_last(live: Any, database: Path) -> None:
    _store(live, ["warehouse", "analytics", "orders"], FRAME)
    _store(live, ["bare"], FRAME)
    assert {("analytics", "orders"), ("public", "bare")} <= _tables(database)
    assert ("warehouse", "orders") not in _tables(database)


def test_schema_metadata_beats_config_beats_key(database: Path) -> None:
    manager = DuckDBPandasIOManager(database=str(database), schema="configured")
    with dg.build_resources({"io": manager}) as resources:
        _store(resources.io, ["keyschema", "a"], FRAME)
        _store(resources.io, ["keyschema", "b"], FRAME, definition_metadata={"schema": "meta"})
    tables = _tables(database)
    assert ("configured", "a") in tables
    assert ("meta", "b") in tables
    assert not any(schema == "keyschema" for schema, _ in tables)


def test_op_output_table_is_table_metadata_else_output_name(live: Any, database: Path) -> None:
    first = _store(live, None, FRAME, step_key="my_op", name="result", run_id="r1")
    _store(
        live,
        None,
        FRAME.head(1),
        step_key="my_op",
        name="named",
        definition_metadata={"table": "t"},
    )
    assert {("public", "result"), ("public", "t")} <= _tables(database)
    # Dagster's rule: a later run of the op writes the same table
    _store(live, None, FRAME.head(2), step_key="my_op", name="result", run_id="r2")
    assert len(_load(live, first)) == 2


def test_output_metadata(live: Any, database: Path) -> None:
    out = _store(live, ["analytics", "orders"], FRAME)
    metadata = out.get_logged_metadata()
    assert metadata["dagster/row_count"] == 3
    assert metadata["dagster/table_name"] == "warehouse.analytics.orders"
    columns = metadata["dataframe_columns"]
    schema = getattr(columns, "value", columns)
    assert [(c.name, c.type) for c in schema.columns] == [
        ("id", "BIGINT"),
        ("name", "VARCHAR"),
        ("score", "DOUBLE"),
    ]


def test_storing_again_replaces_rows_and_adapts_changed_columns(live: Any, database: Path) -> None:
    out = _store(live, ["t"], FRAME)
    _store(live, ["t"], pd.DataFrame({"other": ["x"]}))
    loaded = _load(live, out)
    assert list(loaded.columns) == ["other"]
    assert loaded["other"].tolist() == ["x"]


def test_materialize_end_to_end_then_query_with_duckdb(database: Path) -> None:
    @dg.asset(key_prefix=["analytics"])
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})

    @dg.asset(ins={"orders": dg.AssetIn(key=["analytics", "orders"])})
    def totals(orders: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"total": [orders["amount"].sum()]})

    result = dg.materialize(
        [orders, totals], resources={"io_manager": DuckDBPandasIOManager(database=str(database))}
    )
    assert result.success
    assert _rows(database, "SELECT total FROM public.totals") == [(12.5,)]


# -- quoting ------------------------------------------------------------------------------------------
def test_quotes_in_schema_table_and_column_names_round_trip(live: Any, database: Path) -> None:
    frame = pd.DataFrame({'col "q"': [1, 2], "it's": ["a'b", 'c"d']})
    out = _store(live, ['sch"ema', 'ta"ble; DROP TABLE x'], frame)
    assert ('sch"ema', 'ta"ble; DROP TABLE x') in _tables(database)
    pd.testing.assert_frame_equal(_load(live, out), frame)
    subset = _load(live, out, definition_metadata={"columns": ["it's"]})
    assert subset["it's"].tolist() == ["a'b", 'c"d']


# -- loading --------------------------------------------------------------------------------------
def test_columns_metadata_selects_a_subset_in_that_order(live: Any) -> None:
    out = _store(live, ["wide"], FRAME)
    loaded = _load(live, out, definition_metadata={"columns": ["score", "id"]})
    assert list(loaded.columns) == ["score", "id"]
    assert loaded["id"].tolist() == [1, 2, 3]


def test_unknown_column_in_columns_metadata_is_a_clear_error(live: Any) -> None:
    out = _store(live, ["wide2"], FRAME)
    with pytest.raises(LoadInputError, match=r"'columns' metadata names \['nope'\]"):
        _load(live, out, definition_metadata={"columns": ["nope"]})


def test_missing_table_names_asset_and_table(live: Any) -> None:
    out = dg.build_output_context(asset_key=["analytics", "never"])
    with pytest.raises(DuckDBTableNotFoundError) as info:
        _load(live, out)
    message = str(info.value)
    assert "asset 'analytics/never'" in message
    assert '"analytics"."never" does not exist' in message


# -- bad outputs ------------------------------------------------------------------------------------
def test_none_output_has_dagsters_message(live: Any) -> None:
    with pytest.raises(InvariantViolationError, match="Unexpected 'None' output value"):
        _store(live, ["n"], None)


def test_unsupported_type_names_the_handlers(live: Any) -> None:
    with pytest.raises(InvariantViolationError) as info:
        _store(live, ["n"], {"not": "a frame"})
    assert "DuckDBPandasIOManager does not have a handler for type '<class 'dict'>'" in str(
        info.value
    )
    assert "DataFrame" in str(info.value)


def test_failed_write_rolls_back_and_keeps_the_old_rows(live: Any, database: Path) -> None:
    out = _store(
        live,
        ["p"],
        pd.DataFrame({"day": ["a", "b"], "n": [1, 2]}),
        definition_metadata={"partition_expr": "day"},
        partition_key="a",
    )
    before = _rows(database, "SELECT * FROM public.p ORDER BY n")
    bad = pd.DataFrame({"day": ["a"], "n": ["not a number"]})  # n is BIGINT
    with pytest.raises(DuckDBWriteError) as info:
        _store(live, ["p"], bad, definition_metadata={"partition_expr": "day"}, partition_key="a")
    assert "rolled back" in str(info.value)
    assert '"public"."p"' in str(info.value)
    assert isinstance(info.value.user_exception, duckdb.Error)
    assert _rows(database, "SELECT * FROM public.p ORDER BY n") == before
    assert out.has_asset_key


def test_unconvertible_frame_fails_before_touching_the_table(live: Any, database: Path) -> None:
    _store(live, ["mixed"], FRAME)
    with pytest.raises(DuckDBWriteError, match="cannot be converted to Arrow"):
        _store(live, ["mixed"], pd.DataFrame({"id": [1, "x"]}))
    assert _rows(database, "SELECT count(*) FROM public.mixed") == [(3,)]


def test_empty_frame_of_unknown_types_creates_no_table(
    live: Any, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="weir_io_duckdb"):
        _store(live, ["empty"], pd.DataFrame({"a": pd.Series([], dtype=object)}))
    assert ("public", "empty") not in _tables(database)
    assert "Skipping the empty value of asset 'empty'" in caplog.text


def test_base_io_manager_without_handlers_is_a_clear_error(database: Path) -> None:
    with pytest.raises(ResourceError, match="has no type handlers") as info:
        with dg.build_resources({"io": DuckDBIOManager(database=str(database))}):
            pass
    assert isinstance(info.value.__cause__, DefinitionError)


def test_a_plugin_type_through_arrow_type_handler(database: Path) -> None:
    from weir_io_duckdb import ArrowTypeHandler, DuckDBPandasTypeHandler

    class RecordsTypeHandler(ArrowTypeHandler):
        supported_types = [list]  # type: ignore[assignment]

        def to_arrow(self, table_slice: Any, obj: Any) -> pa.Table:
            return pa.Table.from_pylist(obj)

        def from_arrow(self, context: Any, table: pa.Table) -> Any:
            return table.to_pylist()

    class RecordsIOManager(DuckDBIOManager):
        @staticmethod
        def type_handlers() -> list[Any]:
            return [RecordsTypeHandler(), DuckDBPandasTypeHandler()]

    @dg.asset(key_prefix=["s"])
    def people() -> list[dict[str, Any]]:
        return [{"name": "ada", "age": 36}, {"name": "alan", "age": 41}]

    @dg.asset(key_prefix=["s"])
    def oldest(people: list) -> str:  # type: ignore[type-arg]
        return str(max(people, key=lambda p: p["age"])["name"])

    result = dg.materialize(
        [people, oldest],
        resources={
            "io_manager": RecordsIOManager(database=str(database)),
        },
        selection=[people],
    )
    assert result.success
    [mat] = result.asset_materializations_for_node("s__people")
    assert mat.metadata["dagster/row_count"].value == 2
    assert _rows(database, 'SELECT name, age FROM "s"."people" ORDER BY age') == [
        ("ada", 36),
        ("alan", 41),
    ]
    with dg.build_resources({"io": RecordsIOManager(database=str(database))}) as live:
        out = dg.build_output_context(asset_key=["s", "people"])
        loaded = live.io.load_input(
            dg.build_input_context(
                asset_key=["s", "people"], upstream_output=out, dagster_type=list
            )
        )
    assert loaded == [{"name": "ada", "age": 36}, {"name": "alan", "age": 41}]


# -- other frame types --------------------------------------------------------------------------------
def test_arrow_and_polars_values_and_annotations(live: Any, database: Path) -> None:
    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    out = _store(live, ["arrow"], table)
    as_arrow = live.load_input(
        dg.build_input_context(asset_key=["arrow"], upstream_output=out, dagster_type=pa.Table)
    )
    assert as_arrow.equals(table)
    as_polars = live.load_input(
        dg.build_input_context(asset_key=["arrow"], upstream_output=out, dagster_type=pl.DataFrame)
    )
    assert as_polars.equals(pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    lazy_out = _store(live, ["lazy"], pl.DataFrame({"c": [1.5]}).lazy())
    lazy = live.load_input(
        dg.build_input_context(
            asset_key=["lazy"], upstream_output=lazy_out, dagster_type=pl.LazyFrame
        )
    )
    assert lazy.collect()["c"].to_list() == [1.5]
    assert _load(live, out)["b"].tolist() == ["x", "y"]  # unannotated -> pandas


@pytest.mark.parametrize(
    ("manager_cls", "expected"),
    [(DuckDBPyArrowIOManager, pa.Table), (DuckDBPolarsIOManager, pl.DataFrame)],
)
def test_default_load_type_of_the_other_managers(
    database: Path, manager_cls: type[Any], expected: type
) -> None:
    with dg.build_resources({"io": manager_cls(database=str(database))}) as resources:
        out = _store(resources.io, ["d"], pd.DataFrame({"a": [1]}))
        assert isinstance(_load(resources.io, out), expected)


def test_in_memory_database_lives_for_the_run() -> None:
    with dg.build_resources({"io": DuckDBPandasIOManager(database=":memory:")}) as resources:
        out = _store(resources.io, ["m"], FRAME)
        pd.testing.assert_frame_equal(_load(resources.io, out), FRAME)
