"""PostgresInstanceStorage: the instance storage contract on a real PostgreSQL database, and
PostgreSQL-specific behaviour (masked URL, reconnect after a restart, clear errors)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from weir.errors import StorageError
from weir.testing import InstanceStorageContract
from weir_resource_postgres import PostgresInstanceStorage
from weir_resource_postgres.testing import PostgresTestServer


class TestPostgresStorageContract(InstanceStorageContract):
    @pytest.fixture
    def storage(self, pg_server: PostgresTestServer, pg_database: str) -> Iterator[Any]:
        storage = PostgresInstanceStorage(pg_server.url(pg_database))
        storage.upgrade()
        try:
            yield storage
        finally:
            storage.dispose()


@pytest.fixture
def storage(pg_server: PostgresTestServer, pg_database: str) -> Iterator[PostgresInstanceStorage]:
    storage = PostgresInstanceStorage(pg_server.url(pg_database, driver="postgresql+psycopg"))
    try:
        yield storage
    finally:
        storage.dispose()


def test_repr_and_errors_mask_the_password() -> None:
    storage = PostgresInstanceStorage(
        "postgresql://app:Sup3rSecret@127.0.0.1:1/weir?connect_timeout=1"
    )
    try:
        assert "Sup3rSecret" not in repr(storage) and "***" in repr(storage)
        with pytest.raises(StorageError) as info:
            storage.get_runs_count()
        message = str(info.value)
        assert "127.0.0.1:1/weir" in message and "Sup3rSecret" not in message
    finally:
        storage.dispose()


def test_statement_timeout_option_reaches_the_server(
    pg_server: PostgresTestServer, pg_database: str
) -> None:
    import sqlalchemy as sa

    storage = PostgresInstanceStorage(pg_server.url(pg_database) + "?statement_timeout=1.5")
    try:
        with storage.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1500ms"
    finally:
        storage.dispose()


def test_bad_options_are_refused() -> None:
    with pytest.raises(StorageError, match="statement_timeout='soon'.*not a number of seconds"):
        PostgresInstanceStorage("postgresql://u@h/db?statement_timeout=soon")
    with pytest.raises(StorageError, match="is not a postgresql:// URL"):
        PostgresInstanceStorage("mysql://u:pw@h/db")


def test_storage_survives_a_server_restart(
    storage: PostgresInstanceStorage, pg_server: PostgresTestServer
) -> None:
    storage.put_state("sensor", "s1", "RUNNING", {"cursor": "1"}, 1.0)
    pg_server.restart()  # pooled connections die; pool_pre_ping replaces them
    assert [r.key for r in storage.get_states("sensor")] == ["s1"]


def test_instance_from_weir_yaml_stores_runs_in_postgres(
    pg_server: PostgresTestServer, pg_database: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weir as dg

    (tmp_path / "weir.yaml").write_text(
        "storage:\n"
        "  postgres:\n"
        "    postgres_db:\n"
        f"      username: {pg_server.user}\n"
        "      password: {env: WEIR_TEST_PG_PASSWORD}\n"
        f"      hostname: {pg_server.host}\n"
        f"      port: {pg_server.port}\n"
        f"      db_name: {pg_database}\n"
    )
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    monkeypatch.setenv("WEIR_TEST_PG_PASSWORD", "unused-with-trust-auth")

    @dg.asset
    def recorded() -> int:
        return 1

    with dg.Instance.get() as instance:
        result = dg.materialize([recorded], instance=instance)
        assert result.success
    storage = PostgresInstanceStorage(pg_server.url(pg_database))
    try:
        assert [r.dagster_run.run_id for r in storage.get_run_records()] == [result.run_id]
    finally:
        storage.dispose()


def test_event_writers_commit_in_storage_id_order(
    storage: PostgresInstanceStorage, pg_server: PostgresTestServer, pg_database: str
) -> None:
    """A writer whose transaction is still open holds back later writers, so a reader that
    moved its cursor past an id can never see a smaller id appear afterwards."""
    import threading

    import psycopg

    from weir._instance._sql_base import EVENT_ORDER_LOCK
    from weir.testing._contract_helpers import ContractHelpers

    helpers = ContractHelpers()
    storage.upgrade()
    run_id = helpers.add_run(storage).dagster_run.run_id
    first_ids = storage.store_events([helpers.log_message(run_id, "before")])
    # an event writer in the middle of its transaction (it holds the ordering lock)
    with psycopg.connect(**pg_server.connection_kwargs(pg_database)) as slow:
        slow.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_ORDER_LOCK])
        stored: list[list[int]] = []
        writer = threading.Thread(
            target=lambda: stored.append(
                storage.store_events([helpers.log_message(run_id, "later")]) or []
            )
        )
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive(), "a later writer committed while an earlier one was open"
        # what a cursor reader sees meanwhile: nothing past the last committed id
        seen = [r.storage_id for r in storage.get_records_for_run(run_id, cursor=first_ids[-1])]
        assert seen == []
        slow.rollback()  # the open transaction ends; the lock goes with it
    writer.join(timeout=10)
    assert not writer.is_alive() and stored and stored[0][0] > first_ids[-1]
    records = storage.get_records_for_run(run_id, cursor=first_ids[-1])
    assert [r.storage_id for r in records] == stored[0]
