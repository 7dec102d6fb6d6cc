"""Dagster's legacy function-style DuckDB IO managers (``build_duckdb_io_manager``,
``duckdb_pandas_io_manager`` ...) on real DuckDB files: configured and run-config forms, downstream
loads, partitions, op jobs, custom handlers, config errors with their path, tables shared with the
pydantic managers in both directions, and a light import."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import weir as dg
import weir_io_duckdb.legacy as legacy
from weir.errors import ConfigError, DefinitionError, InvariantViolationError
from weir_io_duckdb import DuckDBIOManager, DuckDBPandasIOManager, DuckDBTableNotFoundError
from weir_io_duckdb.io_manager import DuckDBDbIOManager
from weir_io_duckdb.legacy import (
    PolarsNotInstalledError,
    build_duckdb_io_manager,
    duckdb_pandas_io_manager,
    duckdb_pyarrow_io_manager,
)
from weir_io_duckdb.resource import DEFAULT_LOCK_TIMEOUT_S
from weir_io_duckdb.type_handlers import DuckDBPandasTypeHandler, read_arrow, write_arrow


def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database)) as conn:
        return conn.execute(query).fetchall()


def _tables(database: Path) -> set[tuple[str, str]]:
    query = "SELECT table_schema, table_name FROM information_schema.tables"
    return {(s, t) for s, t in _rows(database, query)}


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "legacy.duckdb"


@dg.asset(key_prefix=["analytics"])
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "amount": [9.5, 3.0, 0.5]})


@dg.asset(ins={"orders": dg.AssetIn(key=["analytics", "orders"])})
def totals(orders: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"n": [len(orders)], "total": [orders["amount"].sum()]})


# -- the Dagster way -----------------------------------------------------------------------------------
def test_configured_pandas_manager_stores_tables_and_loads_downstream(database: Path) -> None:
    io_manager = duckdb_pandas_io_manager.configured({"database": str(database), "schema": "s"})
    result = dg.materialize([orders, totals], resources={"io_manager": io_manager})
    assert result.success
    # the schema config beats the key prefix, as in Dagster
    assert _tables(database) == {("s", "orders"), ("s", "totals")}
    assert _rows(database, "SELECT n, total FROM s.totals") == [(3, 13.0)]
    (materialization,) = result.asset_materializations_for_node("analytics__orders")
    assert materialization.metadata["dagster/row_count"].value == 3
    assert materialization.metadata["dagster/table_name"].value == "legacy.s.orders"


def test_run_config_form_applies_the_defaults(database: Path) -> None:
    run_config = {"resources": {"io_manager": {"config": {"database": str(database)}}}}
    result = dg.materialize(
        [orders, totals], resources={"io_manager": duckdb_pandas_io_manager}, run_config=run_config
    )
    assert result.success
    # no schema config: the second-to-last key part, else "public"
    assert _tables(database) == {("analytics", "orders"), ("public", "totals")}


def test_definitions_with_a_configured_legacy_manager(database: Path) -> None:
    defs = dg.Definitions(
        assets=[orders, totals],
        resources={"io_manager": duckdb_pandas_io_manager.configured({"database": str(database)})},
    )
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.success
    assert _rows(database, "SELECT total FROM public.totals") == [(13.0,)]


# -- partitions ------------------------------------------------------------------------------------------
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01")


def _events(version: int) -> Any:
    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"}, name="events")
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        day = pd.Timestamp(context.partition_key)
        return pd.DataFrame({"day": [day, day + pd.Timedelta(hours=5)], "clicks": [version] * 2})

    return events


@dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"})
def daily_clicks(context: dg.AssetExecutionContext, events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"day": [pd.Timestamp(context.partition_key)], "clicks": [int(events["clicks"].sum())]}
    )


def test_partitioned_asset_replaces_only_its_partition_and_loads_it(database: Path) -> None:
    resources = {"io_manager": duckdb_pandas_io_manager.configured({"database": str(database)})}
    for key in ("2024-01-01", "2024-01-02"):
        assert dg.materialize([_events(1)], partition_key=key, resources=resources).success
    result = dg.materialize(
        [_events(7), daily_clicks], partition_key="2024-01-02", resources=resources
    )
    assert result.success
    assert _rows(
        database, "SELECT CAST(day AS DATE), sum(clicks) FROM public.events GROUP BY 1 ORDER BY 1"
    ) == [(dt.date(2024, 1, 1), 2), (dt.date(2024, 1, 2), 14)]
    # the downstream partition loaded only its day's rows
    assert _rows(database, "SELECT CAST(day AS DATE), clicks FROM public.daily_clicks") == [
        (dt.date(2024, 1, 2), 14)
    ]


def test_partitioned_asset_without_partition_expr_fails_as_with_the_pydantic_manager(
    database: Path,
) -> None:
    @dg.asset(partitions_def=DAYS)
    def bare(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": [pd.Timestamp(context.partition_key)]})

    resources = {"io_manager": duckdb_pandas_io_manager.configured({"database": str(database)})}
    with pytest.raises(Exception, match="partition_expr") as legacy_error:
        dg.materialize([bare], partition_key="2024-01-01", resources=resources)
    with pytest.raises(Exception, match="partition_expr") as pydantic_error:
        dg.materialize(
            [bare],
            partition_key="2024-01-01",
            resources={"io_manager": DuckDBPandasIOManager(database=str(database))},
        )
    assert type(legacy_error.value) is type(pydantic_error.value)


# -- op jobs ----------------------------------------------------------------------------------------------
def test_op_job_execute_in_process(database: Path) -> None:
    @dg.op(out=dg.Out(metadata={"schema": "ops"}))
    def make() -> pd.DataFrame:
        return pd.DataFrame({"x": [1, 2, 3]})

    @dg.op
    def double(make: pd.DataFrame) -> pd.DataFrame:
        return make * 2

    @dg.job(
        resource_defs={
            "io_manager": duckdb_pandas_io_manager.configured({"database": str(database)})
        }
    )
    def pipeline() -> None:
        double(make())

    result = pipeline.execute_in_process()
    assert result.success
    # an op output is the table named by the output ("result"), in its schema metadata or public
    assert _tables(database) == {("ops", "result"), ("public", "result")}
    assert _rows(database, "SELECT x FROM public.result ORDER BY x") == [(2,), (4,), (6,)]
    assert result.output_for_node("double")["x"].tolist() == [2, 4, 6]


# -- build_duckdb_io_manager with a custom handler ----------------------------------------------------
class Rows(list[dict[str, Any]]):
    """A table as a list of row dicts (a type no built-in handler knows)."""


class RowsTypeHandler:
    @property
    def supported_types(self) -> list[type]:
        return [Rows]

    def handle_output(
        self, context: Any, table_slice: Any, obj: Rows, connection: Any
    ) -> Mapping[str, Any]:
        written = write_arrow(connection, table_slice, pa.Table.from_pylist(list(obj)))
        return {"dagster/row_count": written, "rows_handler": True}

    def load_input(self, context: Any, table_slice: Any, connection: Any) -> Rows:
        return Rows(read_arrow(connection, table_slice).to_pylist())


@dg.asset
def people() -> Rows:
    return Rows([{"name": "ada", "age": 36}, {"name": "alan", "age": 41}])


def test_custom_handler_stores_and_an_unannotated_input_loads_as_the_default_type(
    database: Path,
) -> None:
    seen: list[Any] = []

    @dg.asset
    def names(people) -> Rows:  # type: ignore[no-untyped-def]  # unannotated on purpose
        seen.append(people)
        return Rows([{"name": row["name"]} for row in people])

    custom = build_duckdb_io_manager(
        [RowsTypeHandler(), DuckDBPandasTypeHandler()], default_load_type=Rows
    )
    resources = {"io_manager": custom.configured({"database": str(database)})}
    result = dg.materialize([people, names], resources=resources)
    assert result.success
    assert isinstance(seen[0], Rows)
    assert seen[0] == [{"name": "ada", "age": 36}, {"name": "alan", "age": 41}]
    assert _rows(database, "SELECT name FROM public.names ORDER BY name") == [("ada",), ("alan",)]
    (materialization,) = result.asset_materializations_for_node("people")
    assert materialization.metadata["rows_handler"].value is True


def test_single_handler_is_the_default_load_type(database: Path) -> None:
    custom = build_duckdb_io_manager([RowsTypeHandler()])
    with dg.build_resources({"io": custom.configured({"database": str(database)})}) as resources:
        out = dg.build_output_context(asset_key=["people"])
        resources.io.handle_output(out, people())
        loaded = resources.io.load_input(
            dg.build_input_context(asset_key=dg.AssetKey(["people"]), upstream_output=out)
        )
    assert isinstance(loaded, Rows)
    assert loaded == people()


def test_a_value_no_handler_takes_names_the_manager_and_the_handlers(database: Path) -> None:
    custom = build_duckdb_io_manager([RowsTypeHandler()])
    with dg.build_resources({"io": custom.configured({"database": str(database)})}) as resources:
        with pytest.raises(
            InvariantViolationError, match="DuckDBIOManager does not have a handler"
        ):
            resources.io.handle_output(
                dg.build_output_context(asset_key=["frame"]), pd.DataFrame({"a": [1]})
            )
        never = dg.build_output_context(asset_key=["never"])
        with pytest.raises(DuckDBTableNotFoundError, match='"public"."never" does not exist'):
            resources.io.load_input(
                dg.build_input_context(asset_key=dg.AssetKey(["never"]), upstream_output=never)
            )


def test_io_manager_base_subclass_is_built_with_the_resolved_config(database: Path) -> None:
    built: list[dict[str, Any]] = []

    class RecordingManager(DuckDBDbIOManager):
        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)
            super().__init__(**kwargs)

    custom = build_duckdb_io_manager([DuckDBPandasTypeHandler()], io_manager_base=RecordingManager)
    with dg.build_resources({"io": custom.configured({"database": str(database)})}) as resources:
        assert type(resources.io) is RecordingManager
    (kwargs,) = built
    assert kwargs["database"] == str(database)
    assert kwargs["connection_config"] == {}
    assert kwargs["schema"] is None
    assert kwargs["lock_timeout_s"] == DEFAULT_LOCK_TIMEOUT_S
    assert kwargs["default_load_type"] is None
    assert kwargs["io_manager_name"] == "DuckDBIOManager"


def test_bad_builder_arguments_are_clear_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="got no type handlers"):
        build_duckdb_io_manager([])
    with pytest.raises(
        DefinitionError, match=r"type_handlers\[0\].*pass an instance, RowsTypeHandler\(\)"
    ):
        build_duckdb_io_manager([RowsTypeHandler])  # type: ignore[list-item]
    with pytest.raises(DefinitionError, match=r"type_handlers\[1\].*lacks supported_types"):
        build_duckdb_io_manager([RowsTypeHandler(), object()])  # type: ignore[list-item]
    with pytest.raises(DefinitionError, match="takes a list of DbTypeHandler objects"):
        build_duckdb_io_manager(RowsTypeHandler())  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="default_load_type=...\\) must be a class"):
        build_duckdb_io_manager([RowsTypeHandler()], default_load_type="Rows")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="io_manager_base=...\\) must be DuckDBDbIOManager"):
        build_duckdb_io_manager([RowsTypeHandler()], io_manager_base=dict)  # type: ignore[arg-type]


# -- config ---------------------------------------------------------------------------------------------
def test_missing_database_is_a_config_error_with_the_field_path() -> None:
    io_manager = duckdb_pandas_io_manager.configured({"schema": "s"})
    with pytest.raises(ConfigError) as caught:
        dg.materialize([orders], resources={"io_manager": io_manager})
    message = str(caught.value)
    assert 'Missing required config entry "database"' in message
    assert "root:resources:io_manager:config" in message


def test_wrong_types_and_unknown_fields_name_their_path(database: Path) -> None:
    io_manager = duckdb_pandas_io_manager.configured(
        {"database": str(database), "lock_timeout_s": "soon", "shema": "typo"}
    )
    with pytest.raises(ConfigError) as caught:
        dg.materialize([orders], resources={"io_manager": io_manager})
    message = str(caught.value)
    assert "root:resources:io_manager:config:lock_timeout_s" in message
    assert "shema" in message


def test_config_schema_matches_the_pydantic_manager_fields() -> None:
    schema = duckdb_pandas_io_manager.config_schema
    fields = DuckDBIOManager.model_fields
    assert set(schema) == set(fields)
    for name, info in fields.items():
        assert schema[name].is_required == info.is_required(), name
        if not info.is_required():
            assert schema[name].default_value == info.get_default(call_default_factory=True), name
    assert schema["lock_timeout_s"].default_value == DEFAULT_LOCK_TIMEOUT_S


def test_env_var_source_for_the_database(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_TEST_LEGACY_DUCKDB", str(database))
    io_manager = duckdb_pandas_io_manager.configured(
        {"database": {"env": "WEIR_TEST_LEGACY_DUCKDB"}}
    )
    assert dg.materialize([orders], resources={"io_manager": io_manager}).success
    assert _rows(database, "SELECT count(*) FROM analytics.orders") == [(3,)]


# -- one table, both forms --------------------------------------------------------------------------------
def test_legacy_written_table_loads_through_the_pydantic_manager(database: Path) -> None:
    legacy_io = duckdb_pandas_io_manager.configured({"database": str(database)})
    assert dg.materialize([orders], resources={"io_manager": legacy_io}).success
    result = dg.materialize(
        [orders, totals],
        selection=[totals],
        resources={"io_manager": DuckDBPandasIOManager(database=str(database))},
    )
    assert result.success
    assert _rows(database, "SELECT n, total FROM public.totals") == [(3, 13.0)]


def test_pydantic_written_table_loads_through_the_legacy_manager(database: Path) -> None:
    assert dg.materialize(
        [orders], resources={"io_manager": DuckDBPandasIOManager(database=str(database))}
    ).success
    legacy_io = duckdb_pandas_io_manager.configured({"database": str(database)})
    result = dg.materialize(
        [orders, totals], selection=[totals], resources={"io_manager": legacy_io}
    )
    assert result.success
    assert _rows(database, "SELECT n, total FROM public.totals") == [(3, 13.0)]


# -- the pyarrow and polars definitions ------------------------------------------------------------------
def _load_unannotated(definition: Any, database: Path) -> Any:
    with dg.build_resources({"io": definition.configured({"database": str(database)})}) as res:
        out = dg.build_output_context(asset_key=["frame"])
        res.io.handle_output(out, pd.DataFrame({"a": [1, 2]}))
        return res.io.load_input(
            dg.build_input_context(asset_key=dg.AssetKey(["frame"]), upstream_output=out)
        )


def test_ready_made_definitions_load_unannotated_inputs_as_their_type(database: Path) -> None:
    assert isinstance(_load_unannotated(duckdb_pandas_io_manager, database), pd.DataFrame)
    assert isinstance(_load_unannotated(duckdb_pyarrow_io_manager, database), pa.Table)
    polars_manager = legacy.duckdb_polars_io_manager
    assert isinstance(_load_unannotated(polars_manager, database), pl.DataFrame)


def test_ready_made_definitions_are_built_once_and_unknown_names_fail() -> None:
    assert legacy.duckdb_pandas_io_manager is duckdb_pandas_io_manager
    assert isinstance(duckdb_pandas_io_manager, dg.IOManagerDefinition)
    assert {"duckdb_pandas_io_manager", "duckdb_polars_io_manager"} <= set(dir(legacy))
    with pytest.raises(AttributeError, match="duckdb_spark_io_manager"):
        _ = legacy.duckdb_spark_io_manager


def test_polars_definition_without_polars_is_a_clear_import_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # find_spec("polars") is None: not installed
    monkeypatch.delitem(vars(legacy), "duckdb_polars_io_manager", raising=False)
    with pytest.raises(
        PolarsNotInstalledError, match=r'pip install "weir-io-duckdb\[polars\]"'
    ) as caught:
        from weir_io_duckdb.legacy import duckdb_polars_io_manager  # noqa: F401
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, DefinitionError)
    assert caught.value.name == "polars"
    # the pandas one does not need polars
    assert isinstance(legacy.duckdb_pandas_io_manager, dg.IOManagerDefinition)


# -- import weight ----------------------------------------------------------------------------------------
def test_importing_and_building_the_legacy_definitions_is_light() -> None:
    code = (
        "import sys\n"
        "from weir_io_duckdb.legacy import build_duckdb_io_manager, duckdb_pandas_io_manager\n"
        "from weir_io_duckdb.legacy import duckdb_pyarrow_io_manager\n"
        "from weir_io_duckdb.type_handlers import DuckDBPandasTypeHandler\n"
        "build_duckdb_io_manager([DuckDBPandasTypeHandler()]).configured({'database': 'x'})\n"
        "duckdb_pandas_io_manager.configured({'database': 'x'})\n"
        "heavy = ('duckdb', 'pandas', 'pyarrow', 'polars', 'pydantic')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
