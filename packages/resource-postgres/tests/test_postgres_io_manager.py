"""PostgresPandasIOManager against a real PostgreSQL server: the IO manager contract, the table
mapping, quoting, rollback of failed writes, column subsets, the COPY bulk path."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pytest

import weir as dg
from weir.errors import InvariantViolationError
from weir.testing import IOManagerContract
from weir_resource_postgres import (
    PostgresPandasIOManager,
    PostgresTableNotFoundError,
    PostgresWriteError,
)


def _rows(pg_server: Any, database: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(**pg_server.connection_kwargs(database)) as conn:
        return conn.execute(query, params).fetchall()


def _store(manager: Any, key: list[str], frame: Any, **kwargs: Any) -> Any:
    out = dg.build_output_context(asset_key=key, **kwargs)
    manager.handle_output(out, frame)
    return out


def _load(manager: Any, out: Any, **kwargs: Any) -> Any:
    return manager.load_input(
        dg.build_input_context(asset_key=out.asset_key, upstream_output=out, **kwargs)
    )


@pytest.fixture
def manager(pg_conn_kwargs: dict[str, Any]) -> PostgresPandasIOManager:
    return PostgresPandasIOManager(**pg_conn_kwargs)


class TestPostgresPandasContract(IOManagerContract):
    op_outputs_keyed_by_run = False  # Dagster's rule: the table is named after the output

    @pytest.fixture
    def io_manager(self, pg_conn_kwargs: dict[str, Any]) -> Any:
        return PostgresPandasIOManager(**pg_conn_kwargs)

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

    def load(self, manager: Any, upstream: Any, instance: Any, **kwargs: Any) -> Any:
        # a partitioned asset's table holds every partition: a partition loads its own rows only
        return manager.load_input(self.input_context(upstream, instance, **kwargs))

    @pytest.fixture
    def live_io_manager(self, io_manager: Any, contract_instance: Any) -> Any:
        # partitions need partition_expr metadata: the contract's contexts carry none, so the
        # partition test stores frames under a manager that puts it on every asset context
        with dg.build_resources({"io_manager": io_manager}, instance=contract_instance) as live:
            yield _WithPartitionColumn(live.io_manager)


class _WithPartitionColumn:
    """Adds ``partition_expr``/a partition column for the contract's partition test only."""

    def __init__(self, inner: PostgresPandasIOManager) -> None:
        self.inner = inner

    def handle_output(self, context: Any, obj: Any) -> None:
        if context.has_asset_key and context.has_asset_partitions:
            context = _partitioned(context)
            obj = obj.assign(part=context.partition_key)
        self.inner.handle_output(context, obj)

    def load_input(self, context: Any) -> Any:
        if context.has_asset_key and context.has_asset_partitions:
            up = _partitioned(context.upstream_output)
            context = dg.build_input_context(
                asset_key=context.asset_key,
                upstream_output=up,
                partition_key=context.partition_key,
                metadata={"columns": ["id", "name", "score", "day"]},
            )
        return self.inner.load_input(context)


def _partitioned(out: Any) -> Any:
    return dg.build_output_context(
        asset_key=out.asset_key,
        partition_key=out.partition_key,
        definition_metadata={"partition_expr": "part"},
        step_key=out.step_key,
        name=out.name,
    )


# -- table mapping ------------------------------------------------------------------------------------
def test_asset_key_maps_to_schema_and_table(manager: Any, pg_server: Any, pg_database: str) -> None:
    frame = pd.DataFrame({"x": [1]})
    _store(manager, ["analytics", "orders"], frame)
    _store(manager, ["deep", "er", "nested", "items"], frame)
    _store(manager, ["bare"], frame)
    tables = _rows(
        pg_server,
        pg_database,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    )
    assert tables == [("analytics", "orders"), ("nested", "items"), ("public", "bare")]


def test_schema_precedence_metadata_then_config_then_key(
    pg_conn_kwargs: dict[str, Any], pg_server: Any, pg_database: str
) -> None:
    frame = pd.DataFrame({"x": [1]})
    configured = PostgresPandasIOManager(**pg_conn_kwargs, schema="from_config")
    _store(configured, ["key_schema", "t1"], frame)
    _store(configured, ["key_schema", "t2"], frame, definition_metadata={"schema": "from_meta"})
    tables = _rows(
        pg_server,
        pg_database,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'from_%' ORDER BY 1",
    )
    assert tables == [("from_config.t1",), ("from_meta.t2",)]


def test_output_metadata(manager: Any, pg_database: str) -> None:
    out = _store(manager, ["meta", "table"], pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    metadata = out.get_logged_metadata()
    assert metadata["dagster/row_count"] == 2
    assert metadata["dagster/table_name"] == f"{pg_database}.meta.table"
    columns = metadata["dataframe_columns"].schema.columns
    assert [(c.name, c.type) for c in columns] == [("a", "bigint"), ("b", "text")]


def test_op_output_table_from_metadata(manager: Any, pg_server: Any, pg_database: str) -> None:
    out = dg.build_output_context(
        step_key="my_op", name="result", run_id="r1", definition_metadata={"table": "op_table"}
    )
    manager.handle_output(out, pd.DataFrame({"v": [1, 2]}))
    assert _rows(pg_server, pg_database, 'SELECT v FROM public."op_table" ORDER BY v') == [
        (1,),
        (2,),
    ]
    loaded = manager.load_input(dg.build_input_context(upstream_output=out))
    assert loaded["v"].tolist() == [1, 2]


# -- quoting ------------------------------------------------------------------------------------------
def test_identifiers_with_quotes_round_trip(manager: Any, pg_server: Any, pg_database: str) -> None:
    frame = pd.DataFrame(
        {'col "dq"': [1, 2], "col 'sq'": ["it's", 'say "hi"'], "Mixed Case": [True, False]}
    )
    out = _store(manager, ["sch\"ema's", "ta\"ble's; DROP TABLE x"], frame)
    pd.testing.assert_frame_equal(_load(manager, out), frame)
    found = _rows(
        pg_server,
        pg_database,
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = %s",
        ["sch\"ema's"],
    )
    assert found == [("sch\"ema's", "ta\"ble's; DROP TABLE x")]


def test_values_with_quotes_commas_newlines_and_nulls(manager: Any) -> None:
    frame = pd.DataFrame(
        {
            "text": ["a'b", 'c"d', "e,f\ng", "", None, "\\N", "NULL", "tab\there"],
            "n": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = _store(manager, ["quoted_values"], frame)
    loaded = _load(manager, out)
    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded["text"].iloc[3] == "" and pd.isna(loaded["text"].iloc[4])


def test_column_types_round_trip(manager: Any, pg_server: Any, pg_database: str) -> None:
    frame = pd.DataFrame(
        {
            "i16": pd.Series([1, -2], dtype="int16"),
            "i32": pd.Series([1, 2], dtype="int32"),
            "i64": [2**40, -1],
            "nullable_int": pd.Series([1, None], dtype="Int64"),
            "f32": pd.Series([1.5, 2.5], dtype="float32"),
            "f64": [0.1, float("inf")],
            "flag": [True, False],
            "ts": pd.to_datetime(
                ["2024-01-01 10:00:00.123456", "2024-02-29 00:00:00"], format="ISO8601"
            ),
            "tstz": pd.to_datetime(["2024-01-01 10:00", "2024-06-01 00:00"]).tz_localize("UTC"),
            "day": [dt.date(2024, 1, 1), dt.date(1999, 12, 31)],
            "blob": [b"\x00\xffbytes", None],
            "amount": [decimal.Decimal("12.50"), decimal.Decimal("-0.001")],
            "span": pd.to_timedelta(["1 day 02:03:04.5", "-5s"]),
            "payload": [{"a": [1, 2]}, None],
        }
    )
    out = _store(manager, ["types"], frame)
    types = dict(
        _rows(
            pg_server,
            pg_database,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'types'",
        )
    )
    assert types == {
        "i16": "smallint",
        "i32": "integer",
        "i64": "bigint",
        "nullable_int": "bigint",
        "f32": "real",
        "f64": "double precision",
        "flag": "boolean",
        "ts": "timestamp without time zone",
        "tstz": "timestamp with time zone",
        "day": "date",
        "blob": "bytea",
        "amount": "numeric",
        "span": "interval",
        "payload": "jsonb",
    }
    loaded = _load(manager, out)
    expected = frame.assign(
        amount=[
            decimal.Decimal("12.500"),
            decimal.Decimal("-0.001"),
        ],  # numeric keeps the scale written
    )
    pd.testing.assert_frame_equal(loaded, expected, check_dtype=False)
    assert str(loaded["nullable_int"].dtype) == "Int64"
    assert loaded["i16"].dtype == "int16" and loaded["f32"].dtype == "float32"
    assert str(loaded["tstz"].dtype) == "datetime64[us, UTC]"


def test_arrow_table_in_and_out(manager: Any) -> None:
    table = pa.table({"a": [1, 2], "b": ["x", None]})
    out = _store(manager, ["arrow_values"], table)
    loaded = manager.load_input(
        dg.build_input_context(asset_key="arrow_values", upstream_output=out, dagster_type=pa.Table)
    )
    assert isinstance(loaded, pa.Table)
    assert loaded.to_pydict() == {"a": [1, 2], "b": ["x", None]}


# -- transactions ------------------------------------------------------------------------------------
def test_failed_write_rolls_back_and_keeps_old_rows(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    out = _store(manager, ["keep", "orders"], pd.DataFrame({"id": [1, 2, 3]}))
    with pytest.raises(PostgresWriteError) as info:
        _store(manager, ["keep", "orders"], pd.DataFrame({"id": ["not a number"]}))
    message = str(info.value)
    assert "asset 'keep/orders'" in message and '"keep"."orders"' in message
    assert "rolled back" in message and "bigint" in message
    assert _rows(pg_server, pg_database, "SELECT id FROM keep.orders ORDER BY id") == [
        (1,),
        (2,),
        (3,),
    ]
    pd.testing.assert_frame_equal(_load(manager, out), pd.DataFrame({"id": [1, 2, 3]}))


def test_unknown_column_is_refused_before_anything_changes(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    _store(manager, ["evolve"], pd.DataFrame({"id": [1]}))
    with pytest.raises(PostgresWriteError, match=r"column\(s\) \['extra'\].*ALTER TABLE"):
        _store(manager, ["evolve"], pd.DataFrame({"id": [2], "extra": ["x"]}))
    assert _rows(pg_server, pg_database, "SELECT id FROM evolve") == [(1,)]


def test_replacing_keeps_the_table_and_its_grants(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    _store(manager, ["granted"], pd.DataFrame({"id": [1]}))
    with psycopg.connect(**pg_server.connection_kwargs(pg_database), autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE reader_role NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        conn.execute("GRANT SELECT ON public.granted TO reader_role")
        oid = conn.execute("SELECT 'public.granted'::regclass::oid").fetchone()
    _store(manager, ["granted"], pd.DataFrame({"id": [5, 6]}))
    assert _rows(pg_server, pg_database, "SELECT 'public.granted'::regclass::oid") == [oid]
    assert _rows(
        pg_server,
        pg_database,
        "SELECT has_table_privilege('reader_role', 'public.granted', 'SELECT')",
    ) == [(True,)]
    assert _rows(pg_server, pg_database, "SELECT id FROM granted ORDER BY id") == [(5,), (6,)]


# -- loading ------------------------------------------------------------------------------------------
def test_columns_metadata_loads_a_subset(manager: Any) -> None:
    out = _store(manager, ["wide"], pd.DataFrame({"a": [1], "b": ["x"], 'c "q"': [2.0]}))
    loaded = _load(manager, out, definition_metadata={"columns": ['c "q"', "a"]})
    pd.testing.assert_frame_equal(loaded, pd.DataFrame({'c "q"': [2.0], "a": [1]}))


def test_columns_metadata_with_an_unknown_column(manager: Any) -> None:
    out = _store(manager, ["wide2"], pd.DataFrame({"a": [1]}))
    with pytest.raises(dg.DagsterExecutionLoadInputError, match=r"\['nope'\].*it has \['a'\]"):
        _load(manager, out, definition_metadata={"columns": ["nope"]})


def test_missing_table_error_names_asset_and_table(manager: Any, pg_database: str) -> None:
    out = dg.build_output_context(asset_key=["never", "stored"])
    with pytest.raises(PostgresTableNotFoundError) as info:
        _load(manager, out)
    message = str(info.value)
    assert "never/stored" in message and '"never"."stored"' in message and pg_database in message


def test_empty_frame_creates_the_table_and_loads_empty(manager: Any) -> None:
    out = _store(manager, ["empty"], pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    loaded = _load(manager, out)
    assert list(loaded.columns) == ["a"] and len(loaded) == 0


# -- bad outputs ----------------------------------------------------------------------------------------
def test_none_output_raises_dagsters_message(manager: Any) -> None:
    with pytest.raises(InvariantViolationError, match="Unexpected 'None' output value"):
        _store(manager, ["none_value"], None)


def test_none_output_with_nothing_type_is_skipped(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    _store(manager, ["nothing_value"], None, dagster_type=type(None))
    assert _rows(pg_server, pg_database, "SELECT to_regclass('public.nothing_value')") == [(None,)]


def test_non_frame_output_is_refused(manager: Any) -> None:
    with pytest.raises(InvariantViolationError, match="stores pandas DataFrames.*is of type dict"):
        _store(manager, ["a_dict"], {"a": 1})


def test_mixed_type_column_error_names_the_column(manager: Any) -> None:
    with pytest.raises(InvariantViolationError, match="column 'mixed'"):
        _store(manager, ["mixed"], pd.DataFrame({"ok": [1, 2], "mixed": [1, "two"]}))


# -- the bulk path -----------------------------------------------------------------------------------
def test_100k_rows_go_through_one_copy_statement(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    with psycopg.connect(**pg_server.connection_kwargs(pg_database), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{pg_database}\" SET log_statement = 'all'")
    n = 100_000
    frame = pd.DataFrame(
        {
            "i": range(n),
            "f": [x / 4 for x in range(n)],
            "s": [f"row {x}" for x in range(n)],
            "t": pd.date_range("2024-01-01", periods=n, freq="s"),
        }
    )
    log = pg_server.root / "server.log"
    before = log.stat().st_size
    out = _store(manager, ["bulk"], frame)
    with open(log, "rb") as handle:
        handle.seek(before)
        statements = handle.read().decode(errors="replace")
    assert statements.count('COPY "public"."bulk" ("i", "f", "s", "t") FROM STDIN') == 1
    assert "INSERT" not in statements.upper()
    assert out.get_logged_metadata()["dagster/row_count"] == n
    pd.testing.assert_frame_equal(_load(manager, out), frame)


# -- in runs -------------------------------------------------------------------------------------------
def test_materialize_with_envvar_password_and_schema_config(
    pg_conn_kwargs: dict[str, Any],
    pg_server: Any,
    pg_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEIR_TEST_IO_PASSWORD", "hunter2-secret")  # trust auth: read, not checked
    manager = PostgresPandasIOManager(
        **pg_conn_kwargs, password=dg.EnvVar("WEIR_TEST_IO_PASSWORD"), schema="configured"
    )
    assert "hunter2-secret" not in repr(manager)

    @dg.asset
    def upstream() -> pd.DataFrame:
        return pd.DataFrame({"n": [1, 2]})

    @dg.asset
    def downstream(upstream: pd.DataFrame) -> pd.DataFrame:
        return upstream.assign(m=upstream["n"] * 2)

    result = dg.materialize([upstream, downstream], resources={"io_manager": manager})
    assert result.success
    assert _rows(pg_server, pg_database, "SELECT n, m FROM configured.downstream ORDER BY n") == [
        (1, 2),
        (2, 4),
    ]
    events = result.get_asset_materialization_events()
    assert all("hunter2-secret" not in repr(e.event_specific_data) for e in events)


def test_op_outputs_in_a_job_use_the_output_name_as_table(
    manager: Any, pg_server: Any, pg_database: str
) -> None:
    @dg.op
    def make(context: dg.OpExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"v": [1, 2, 3 * len(seen) + 3]})

    seen: list[int] = []

    @dg.op
    def total(frame: pd.DataFrame) -> None:
        seen.append(int(frame["v"].sum()))

    @dg.job(resource_defs={"io_manager": manager})
    def pipeline() -> None:
        total(make())

    assert pipeline.execute_in_process().success
    assert pipeline.execute_in_process().success
    assert seen == [6, 9]  # each run read its own output back
    tables = [
        r[0]
        for r in _rows(
            pg_server,
            pg_database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
    ]
    assert tables == ["result"]
    assert _rows(pg_server, pg_database, 'SELECT v FROM public."result" ORDER BY v') == [
        (1,),
        (2,),
        (6,),
    ]


def test_names_past_postgres_limit_are_refused(manager: Any) -> None:
    ctx = dg.build_output_context(
        step_key="my_op", name="result", definition_metadata={"table": "t" * 64}
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="64 bytes long.*63"):
        with dg.build_resources({"io_manager": manager}) as live:
            live.io_manager.handle_output(ctx, pd.DataFrame({"v": [1]}))
