"""Fixtures: one real PostgreSQL server per test session, one fresh database per test.

The server is :class:`weir_resource_postgres.testing.PostgresTestServer` (initdb + pg_ctl in a
temporary folder, 127.0.0.1, a free port). When the binaries are missing the fixture FAILS, it
does not skip: install PostgreSQL 15 (``.ci/run`` does it in CI).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weir_resource_postgres.testing import PostgresServerUnavailable, PostgresTestServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresTestServer]:
    """The session's PostgreSQL server; ``pg_server.restart()`` stops and starts it again."""
    try:
        server = PostgresTestServer()
        server.start()
    except PostgresServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_database(pg_server: PostgresTestServer) -> str:
    """A fresh, empty database for this test (its name)."""
    if not pg_server.is_running:  # a test that stopped the server must not break the next one
        pg_server.start()
    return pg_server.create_database()


@pytest.fixture
def pg_conn_kwargs(pg_server: PostgresTestServer, pg_database: str) -> dict[str, object]:
    """``host``, ``port``, ``user``, ``database`` of this test's database, as resource fields."""
    return {
        "host": pg_server.host,
        "port": pg_server.port,
        "user": pg_server.user,
        "database": pg_database,
    }
