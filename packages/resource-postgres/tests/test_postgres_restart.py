"""The PostgreSQL server restarts in the middle of a run: the run fails with a clear error,
nothing is half-written, and the next run succeeds."""

from __future__ import annotations

from typing import Any

import pandas as pd
import psycopg
import pytest

import weir as dg
from weir_resource_postgres import PostgresPandasIOManager, PostgresResource
from weir_resource_postgres.testing import PostgresTestServer


def _tables(pg_server: PostgresTestServer, database: str) -> list[str]:
    with psycopg.connect(**pg_server.connection_kwargs(database)) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def _two_assets(pg_server: PostgresTestServer, restart: dict[str, bool]) -> list[Any]:
    @dg.asset
    def first(postgres: PostgresResource) -> pd.DataFrame:
        with postgres.get_connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS audit (note text)")
            conn.execute("INSERT INTO audit VALUES ('first: before')")
            if restart["now"]:
                pg_server.restart()  # the server goes away under the open transaction
            conn.execute("INSERT INTO audit VALUES ('first: after')")
        return pd.DataFrame({"x": [1, 2, 3]})

    @dg.asset
    def second(first: pd.DataFrame) -> pd.DataFrame:
        return first.assign(y=first["x"] * 10)

    return [first, second]


def test_server_restart_mid_run(
    pg_server: PostgresTestServer, pg_conn_kwargs: dict[str, Any]
) -> None:
    database = pg_conn_kwargs["database"]
    resources = {
        "postgres": PostgresResource(**pg_conn_kwargs),
        "io_manager": PostgresPandasIOManager(**pg_conn_kwargs),
    }
    restart = {"now": True}
    assets = _two_assets(pg_server, restart)

    failed = dg.materialize(assets, resources=resources, raise_on_error=False)

    assert not failed.success
    assert failed.is_node_failed("first") and not failed.is_node_success("second")
    error = failed.failure_data_for_node("first").error
    text = f"{error.message} {error.cause.message if error.cause else ''}"
    assert (
        f"Lost the connection to PostgreSQL at {pg_server.host}:{pg_server.port}/{database}" in text
    )
    assert "nothing it wrote was kept" in text
    # nothing half-written: the open transaction (audit table and row) died with the connection,
    # and neither asset's table was created
    assert _tables(pg_server, database) == []

    restart["now"] = False
    again = dg.materialize(assets, resources=resources)
    assert again.success
    assert _tables(pg_server, database) == ["audit", "first", "second"]
    with psycopg.connect(**pg_server.connection_kwargs(database)) as conn:
        assert conn.execute("SELECT note FROM audit ORDER BY note").fetchall() == [
            ("first: after",),
            ("first: before",),
        ]
        assert conn.execute("SELECT x, y FROM second ORDER BY x").fetchall() == [
            (1, 10),
            (2, 20),
            (3, 30),
        ]


def test_io_manager_works_after_a_restart_between_runs(
    pg_server: PostgresTestServer, pg_conn_kwargs: dict[str, Any]
) -> None:
    manager = PostgresPandasIOManager(**pg_conn_kwargs)
    out = dg.build_output_context(asset_key=["survivor"])
    manager.handle_output(out, pd.DataFrame({"v": [1]}))
    pg_server.restart()
    loaded = manager.load_input(dg.build_input_context(asset_key="survivor", upstream_output=out))
    assert loaded["v"].tolist() == [1]


def test_server_down_is_a_clear_error(
    pg_server: PostgresTestServer, pg_conn_kwargs: dict[str, Any]
) -> None:
    manager = PostgresPandasIOManager(**pg_conn_kwargs)
    pg_server.stop()
    try:
        with pytest.raises(
            dg.DagsterError, match=r"Could not connect to PostgreSQL at 127\.0\.0\.1:\d+/"
        ):
            manager.handle_output(
                dg.build_output_context(asset_key=["down"]), pd.DataFrame({"v": [1]})
            )
    finally:
        pg_server.start()


def test_restart_with_the_instance_on_postgres_too(
    pg_server: PostgresTestServer, pg_conn_kwargs: dict[str, Any], tmp_path: Any
) -> None:
    """The run's own records live on the restarted server as well: the storage reconnects, the
    failed run is recorded as failed with its step failure, the next run as a success."""
    database = pg_conn_kwargs["database"]
    instance_db = pg_server.create_database()
    resources = {
        "postgres": PostgresResource(**pg_conn_kwargs),
        "io_manager": PostgresPandasIOManager(**pg_conn_kwargs),
    }
    restart = {"now": True}
    assets = _two_assets(pg_server, restart)
    with dg.Instance(str(tmp_path), storage_url=pg_server.url(instance_db)) as instance:
        failed = dg.materialize(
            assets, resources=resources, instance=instance, raise_on_error=False
        )
        restart["now"] = False
        succeeded = dg.materialize(assets, resources=resources, instance=instance)
        assert not failed.success and succeeded.success
        statuses = {run.run_id: run.status.value for run in instance.get_runs()}
        assert statuses == {failed.run_id: "FAILURE", succeeded.run_id: "SUCCESS"}
        failure_logs = [
            e
            for e in instance.all_logs(failed.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "STEP_FAILURE"
        ]
        assert [e.dagster_event.step_key for e in failure_logs] == ["first"]
        assert len(instance.fetch_materializations(dg.AssetKey("second"), limit=10).records) == 1
    assert _tables(pg_server, database) == ["audit", "first", "second"]
