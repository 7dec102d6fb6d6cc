"""PostgresResource against a real server: connections, transactions, the engine, secrets."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy

import weir as dg
from weir_resource_postgres import PostgresConnectionError, PostgresResource
from weir_resource_postgres.testing import PostgresServerUnavailable, PostgresTestServer

SECRET = "s3cr3t-Pa55word"


@pytest.fixture
def resource(pg_conn_kwargs: dict[str, Any]) -> PostgresResource:
    return PostgresResource(**pg_conn_kwargs)


@pytest.fixture
def password_user(pg_server: PostgresTestServer) -> str:
    name = "secret_user"
    try:
        pg_server.add_password_role(name, SECRET)
    except Exception as exc:  # the role exists already (the session's server is shared)
        if "already exists" not in str(exc):
            raise
    return name


def test_get_connection_commits_on_success(resource: PostgresResource) -> None:
    with resource.get_connection() as conn:
        conn.execute("CREATE TABLE t (v int)")
        conn.execute("INSERT INTO t VALUES (%s)", [1])
    with resource.get_connection() as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [(1,)]
        assert conn.closed is False
    assert conn.closed is True


def test_get_connection_rolls_back_on_error(resource: PostgresResource) -> None:
    with resource.get_connection() as conn:
        conn.execute("CREATE TABLE r (v int)")
    with pytest.raises(RuntimeError, match="boom"):
        with resource.get_connection() as conn:
            conn.execute("INSERT INTO r VALUES (1)")
            raise RuntimeError("boom")
    with resource.get_connection() as conn:
        assert conn.execute("SELECT count(*) FROM r").fetchone() == (0,)


def test_engine_is_cached_and_works(resource: PostgresResource) -> None:
    engine = resource.get_engine()
    assert resource.get_engine() is engine
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    with engine.begin() as conn:
        assert (
            conn.execute(sqlalchemy.text("SELECT current_database()")).scalar() == resource.database
        )


def test_url_form_and_fields_override(pg_server: PostgresTestServer, pg_database: str) -> None:
    by_url = PostgresResource(url=pg_server.url(pg_database, driver="postgresql+psycopg"))
    with by_url.get_connection() as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (pg_database,)
    other = pg_server.create_database()
    overridden = PostgresResource(url=pg_server.url(pg_database), database=other)
    with overridden.get_connection() as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (other,)


def test_password_login_and_secret_never_shown(
    pg_server: PostgresTestServer, pg_database: str, password_user: str
) -> None:
    resource = PostgresResource(
        host=pg_server.host,
        port=pg_server.port,
        user=password_user,
        password=SECRET,
        database=pg_database,
    )
    with resource.get_connection() as conn:
        assert conn.execute("SELECT current_user").fetchone() == (password_user,)
    assert SECRET not in repr(resource) and SECRET not in str(resource)
    in_url = PostgresResource(
        url=f"postgresql://{password_user}:{SECRET}@{pg_server.host}:{pg_server.port}/{pg_database}"
    )
    assert SECRET not in repr(in_url)
    with in_url.get_connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_wrong_password_is_a_clear_error_without_the_password(
    pg_server: PostgresTestServer, pg_database: str, password_user: str
) -> None:
    wrong = "Wr0ng-" + SECRET
    resource = PostgresResource(
        host=pg_server.host,
        port=pg_server.port,
        user=password_user,
        password=wrong,
        database=pg_database,
    )
    with pytest.raises(PostgresConnectionError) as info:
        with resource.get_connection():
            pass
    message = str(info.value)
    assert f"{pg_server.host}:{pg_server.port}/{pg_database}" in message
    assert "password authentication failed" in message and repr(password_user) in message
    assert wrong not in message and SECRET not in message
    assert isinstance(info.value, dg.DagsterError)
    assert info.value.__cause__ is None  # the driver's exception (and its DSN) is not chained


def test_unreachable_server_names_host_port_and_database(pg_server: PostgresTestServer) -> None:
    resource = PostgresResource(
        host="127.0.0.1",
        port=1,
        user="someone",
        password=SECRET,
        database="warehouse",
        connect_timeout=2,
    )
    with pytest.raises(PostgresConnectionError, match=r"127\.0\.0\.1:1/warehouse") as info:
        resource.get_engine().connect()
    assert SECRET not in str(info.value)


def test_envvar_password_resolved_in_a_run_and_masked(
    pg_server: PostgresTestServer,
    pg_database: str,
    password_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEIR_TEST_PG_PASSWORD", SECRET)
    configured = PostgresResource(
        host=pg_server.host,
        port=pg_server.port,
        user=password_user,
        password=dg.EnvVar("WEIR_TEST_PG_PASSWORD"),
        database=pg_database,
    )
    assert SECRET not in repr(configured)
    with dg.build_resources({"postgres": configured}) as live:
        postgres = live.postgres
        assert postgres.password == SECRET and SECRET not in repr(postgres)
        with postgres.get_connection() as conn:
            assert conn.execute("SELECT current_user").fetchone() == (password_user,)


def test_resource_in_an_asset(resource: PostgresResource) -> None:
    @dg.asset
    def answer(postgres: PostgresResource) -> int:
        with postgres.get_connection() as conn:
            return int(conn.execute("SELECT 41 + 1").fetchone()[0])

    result = dg.materialize_to_memory([answer], resources={"postgres": resource})
    assert result.success and result.asset_value("answer") == 42


def test_unparsable_url(pg_server: PostgresTestServer) -> None:
    resource = PostgresResource(url=f"postgresql://u:{SECRET}@host:notaport/db")
    with pytest.raises(PostgresConnectionError) as info:
        resource.get_connection().__enter__()
    assert SECRET not in str(info.value)


def test_test_server_reports_missing_binaries(tmp_path: Any) -> None:
    server = PostgresTestServer(bindir=tmp_path)  # a folder without initdb
    with pytest.raises(PostgresServerUnavailable, match="initdb"):
        server.start()
    server.cleanup()
