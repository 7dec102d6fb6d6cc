"""The SQL instance storage on SQLite files: the storage contract, plus schema versions,
migrations, atomic batches, error translation and the built-in ``sqlite://`` plugin."""

# ruff: noqa: E402 - the contract module must be registered for assert rewriting before its import

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("weir.testing.storage_contract")

import sqlite3
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from weir._execution.events import DagsterEvent, StepMaterializationData
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance import sql_schema
from weir._instance.migrations import MIGRATIONS_DIR
from weir._instance.records import EventLogEntry
from weir._instance.sql_storage import SqlInstanceStorage
from weir._instance.sqlite_storage import SqliteInstanceStorage
from weir._model.asset_key import AssetKey
from weir._model.results import AssetMaterialization
from weir.builtin import storage as builtin_storage
from weir.errors import SchemaVersionError, StorageError
from weir.plugins import PluginRegistry, get_plugin_manager
from weir.testing.storage_contract import InstanceStorageContract


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


class TestSqliteStorageContract(InstanceStorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[SqliteInstanceStorage]:
        storage = SqliteInstanceStorage(_url(tmp_path / "weir.db"))
        yield storage
        storage.dispose()


# -- helpers ---------------------------------------------------------------------------------------
def _alembic_config(conn: sa.Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def _migrate(path: Path, revision: str) -> None:
    """Build (or move) the database at ``path`` to ``revision`` with Alembic, as an old weir did."""
    from alembic import command

    engine = sa.create_engine(_url(path))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
    engine.dispose()


def _sql(path: Path, statement: str, *params: object) -> list[tuple]:
    """Run one statement on the file with plain sqlite3 (outside weir)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(statement, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _entry(
    run_id: str, event_type: str, data: object = None, step_key: str | None = None
) -> EventLogEntry:
    return EventLogEntry.from_event(
        run_id, DagsterEvent(event_type, "job", step_key=step_key, event_specific_data=data)
    )


def _materialization(run_id: str, key: str, partition: str | None = None) -> EventLogEntry:
    data = StepMaterializationData(AssetMaterialization(asset_key=key, partition=partition))
    return _entry(run_id, "ASSET_MATERIALIZATION", data, step_key=key)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "weir.db"


@pytest.fixture
def storage(db: Path) -> Iterator[SqliteInstanceStorage]:
    storage = SqliteInstanceStorage(_url(db))
    yield storage
    storage.dispose()


# -- the schema and its migrations ----------------------------------------------------------------
def test_schema_head_is_the_head_of_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)  # type: ignore[arg-type]
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [sql_schema.SCHEMA_HEAD]
    chain = [s.revision for s in scripts.walk_revisions()]  # newest first
    assert list(reversed(chain)) == list(sql_schema.SCHEMA_REVISIONS)


def test_create_all_and_the_migration_chain_build_the_same_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrated = tmp_path / "migrated.db"
    _migrate(migrated, "head")
    created = tmp_path / "created.db"
    SqliteInstanceStorage(_url(created)).get_runs_count()
    for path in (migrated, created):
        engine = sa.create_engine(_url(path))
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, sql_schema.metadata) == [], path.name
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                sql_schema.SCHEMA_HEAD
            )
        engine.dispose()
    assert _physical_schema(migrated) == _physical_schema(created)


def _physical_schema(path: Path) -> dict[str, object]:
    """What SQLite itself records per table: columns, indexes, foreign keys, AUTOINCREMENT."""
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_stat1'"
    tables = [name for (name,) in _sql(path, query)]
    found: dict[str, object] = {}
    for table in sorted(tables):
        indexes = {
            name: (unique, partial, [c[2] for c in _sql(path, f"PRAGMA index_info('{name}')")])
            for _, name, unique, _origin, partial in _sql(path, f"PRAGMA index_list('{table}')")
        }
        index_sql = _sql(
            path, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", table
        )
        ddl = _sql(path, "SELECT sql FROM sqlite_master WHERE name = ?", table)[0][0]
        found[table] = (
            _sql(path, f"PRAGMA table_info('{table}')"),
            sorted(indexes.values()),
            sorted((name, " ".join((sql or "").split())) for name, sql in index_sql),
            _sql(path, f"PRAGMA foreign_key_list('{table}')"),
            "AUTOINCREMENT" in (ddl or ""),
        )
    return found


def test_a_new_database_is_created_with_parent_folders_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "weir.db"
    storage = SqliteInstanceStorage(_url(db))
    assert not db.exists()  # opening touches nothing
    assert storage.get_runs_count() == 0
    assert db.exists()
    assert storage.schema_revision() == sql_schema.SCHEMA_HEAD
    assert _sql(db, "PRAGMA journal_mode") == [("wal",)]
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    storage.dispose()


def test_busy_timeout_comes_from_the_url_or_the_argument(db: Path) -> None:
    from_url = SqliteInstanceStorage(_url(db) + "?busy_timeout=2.5")
    assert from_url.busy_timeout == 2.5
    with from_url.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    from_url.dispose()
    assert SqliteInstanceStorage(_url(db), busy_timeout=1).busy_timeout == 1
    with pytest.raises(StorageError, match="busy_timeout='soon'.*not a number of seconds"):
        SqliteInstanceStorage(_url(db) + "?busy_timeout=soon")


def test_a_relative_url_is_resolved_against_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = SqliteInstanceStorage("sqlite:///.weir/weir.db")
    assert storage.path == str(tmp_path / ".weir" / "weir.db")
    assert storage.display_url == f"sqlite:///{tmp_path / '.weir' / 'weir.db'}"
    storage.get_runs_count()
    assert (tmp_path / ".weir" / "weir.db").exists()
    storage.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_url_is_refused_with_the_alternative(url: str) -> None:
    with pytest.raises(StorageError, match="names no file.*Instance.ephemeral"):
        SqliteInstanceStorage(url)


def test_an_older_schema_is_refused_until_upgraded_and_keeps_its_data(db: Path) -> None:
    _migrate(db, "0001")
    # what weir at revision 0001 wrote: a run with a tag, and one of its events
    run = DagsterRun(run_id="old", job_name="job", tags={"team": "data"})
    from weir._instance.serdes import serialize

    _sql(
        db,
        "INSERT INTO runs (run_id, job_name, status, create_timestamp, update_timestamp, run_body)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        "old",
        "job",
        "STARTED",
        1.0,
        2.0,
        serialize(run),
    )
    _sql(db, "INSERT INTO run_tags (run_id, key, value) VALUES ('old', 'team', 'data')")
    entry = _materialization("old", "orders")
    _sql(
        db,
        "INSERT INTO event_logs (run_id, event, dagster_event_type, timestamp, asset_key)"
        " VALUES (?, ?, ?, ?, ?)",
        "old",
        serialize(entry),
        "ASSET_MATERIALIZATION",
        entry.timestamp,
        AssetKey("orders").to_string(),
    )

    storage = SqliteInstanceStorage(_url(db))
    with pytest.raises(SchemaVersionError) as raised:
        storage.get_run_records()
    message = str(raised.value)
    assert "revision 0001" in message and "needs revision 0002" in message
    assert "instance.upgrade()" in message and "weir.Instance.get().upgrade()" in message
    with pytest.raises(SchemaVersionError):  # every operation refuses, writes included
        storage.kvs_set({"a": "b"})

    storage.upgrade()
    assert storage.schema_revision() == sql_schema.SCHEMA_HEAD
    (record,) = storage.get_run_records()
    assert record.dagster_run.run_id == "old" and record.dagster_run.tags == {"team": "data"}
    assert record.dagster_run.status is DagsterRunStatus.STARTED
    (event,) = storage.get_records_for_run("old")
    assert event.asset_key == AssetKey("orders")
    # the columns of revision 0002 are there and used
    storage.store_events([_entry("old", "PIPELINE_START")])
    host, pid = storage.get_run_workers(["old"])["old"]
    assert host and pid > 0
    storage.upgrade()  # at the head: nothing to do
    storage.dispose()


@pytest.mark.parametrize("how", ["created", "migrated from 0001"])
def test_the_planner_looks_up_one_assets_events_through_the_asset_index(db: Path, how: str) -> None:
    if how != "created":
        _migrate(db, "0001")
    storage = SqliteInstanceStorage(_url(db))
    storage.upgrade()
    newest_of_asset = (
        "EXPLAIN QUERY PLAN SELECT id, event FROM event_logs WHERE dagster_event_type IN (?) "
        "AND asset_key = ? ORDER BY id DESC LIMIT 1"
    )
    plan = _sql(db, newest_of_asset, "ASSET_MATERIALIZATION", '["orders"]')
    assert "ix_event_logs_asset_key_dagster_event_type_partition_id" in str(plan)
    storage.dispose()


def test_a_schema_from_a_newer_weir_is_refused(db: Path) -> None:
    SqliteInstanceStorage(_url(db)).get_runs_count()
    _sql(db, "UPDATE alembic_version SET version_num = '0099'")
    storage = SqliteInstanceStorage(_url(db))
    with pytest.raises(SchemaVersionError, match=r"revision '0099'.*written by a newer weir"):
        storage.get_runs_count()
    with pytest.raises(SchemaVersionError, match="newer weir"):
        storage.upgrade()  # migrating down is not weir's business
    assert _sql(db, "SELECT version_num FROM alembic_version") == [("0099",)]


def test_weir_tables_without_a_schema_version_are_refused(db: Path) -> None:
    _sql(db, "CREATE TABLE runs (id INTEGER PRIMARY KEY, whatever TEXT)")
    storage = SqliteInstanceStorage(_url(db))
    with pytest.raises(StorageError, match="tables named like weir's but no schema version"):
        storage.get_runs_count()


def test_other_tables_in_the_database_are_left_alone(db: Path) -> None:
    _sql(db, "CREATE TABLE my_notes (note TEXT)")
    _sql(db, "INSERT INTO my_notes VALUES ('keep me')")
    storage = SqliteInstanceStorage(_url(db))
    assert storage.get_runs_count() == 0
    assert _sql(db, "SELECT note FROM my_notes") == [("keep me",)]


def test_a_file_that_is_not_a_database_is_a_storage_error(db: Path) -> None:
    db.write_bytes(b"this is a text file, not SQLite " * 100)
    storage = SqliteInstanceStorage(_url(db))
    with pytest.raises(StorageError, match="is not a SQLite database") as raised:
        storage.get_runs_count()
    assert str(db) in str(raised.value)
    assert isinstance(raised.value.__cause__, sa.exc.DatabaseError)


def test_a_folder_that_cannot_be_created_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="Cannot create the folder"):
        SqliteInstanceStorage(_url(tmp_path / "file" / "sub" / "weir.db"))


# -- atomic batches -----------------------------------------------------------------------------------
def test_a_batch_with_an_entry_that_cannot_be_serialized_writes_nothing(
    storage: SqliteInstanceStorage,
) -> None:
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    cyclic: list[object] = []
    cyclic.append(cyclic)
    bad = EventLogEntry(run_id="r", user_message="bad", error_info=cyclic)
    with pytest.raises(
        StorageError, match=r"Cannot store event 1 of the batch.*Nothing of the batch"
    ):
        storage.store_events([_entry("r", "STEP_START", step_key="a"), bad])
    assert storage.get_records_for_run("r") == []


def test_a_database_error_mid_batch_rolls_the_whole_batch_back(
    storage: SqliteInstanceStorage, db: Path
) -> None:
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    # the asset index update fails after the events were inserted, in the same transaction
    _sql(
        db,
        "CREATE TRIGGER no_assets BEFORE INSERT ON asset_keys BEGIN SELECT RAISE(ABORT, 'boom'); END",
    )
    batch = [
        _entry("r", "PIPELINE_START"),
        _entry("r", "STEP_START", step_key="a"),
        _materialization("r", "a"),
    ]
    with pytest.raises(
        StorageError, match=r"failed to store 3 events: IntegrityError: boom"
    ) as raised:
        storage.store_events(batch)
    assert storage.display_url in str(raised.value)
    assert storage.get_records_for_run("r") == []
    assert storage.get_run_records()[0].dagster_run.status is DagsterRunStatus.NOT_STARTED
    assert storage.get_asset_keys() == []
    _sql(db, "DROP TRIGGER no_assets")
    assert len(storage.store_events(batch)) == 3  # the storage recovers
    assert storage.get_asset_keys() == [AssetKey("a")]


def test_storage_ids_are_never_reused_after_the_newest_events_are_deleted(
    storage: SqliteInstanceStorage,
) -> None:
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    first = storage.store_events([_entry("r", "STEP_START", step_key="a")] * 3)
    storage.delete_run("r")
    storage.add_run(DagsterRun(run_id="r2", job_name="job"))
    (after,) = storage.store_events([_entry("r2", "STEP_START", step_key="a")])
    assert after > max(first)


def test_large_batches_keep_ids_in_order(storage: SqliteInstanceStorage) -> None:
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    batch = [_entry("r", "STEP_START", step_key=f"s{i}") for i in range(1234)]
    ids = storage.store_events(batch)
    assert ids == list(range(ids[0], ids[0] + 1234))
    records = storage.get_records_for_run("r")
    assert [r.storage_id for r in records] == ids
    assert [r.event_log_entry.step_key for r in records] == [f"s{i}" for i in range(1234)]


def test_delete_run_cascades_through_the_database(storage: SqliteInstanceStorage, db: Path) -> None:
    storage.add_run(DagsterRun(run_id="r", job_name="job", tags={"a": "1", "b": "2"}))
    storage.add_run(DagsterRun(run_id="keep", job_name="job", tags={"a": "1"}))
    assert _sql(db, "SELECT count(*) FROM run_tags") == [(3,)]
    storage.delete_run("r")
    assert _sql(db, "SELECT run_id, key FROM run_tags") == [("keep", "a")]
    # the foreign key itself cascades (the connection has foreign keys on)
    with storage.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM runs WHERE run_id = 'keep'")
    assert _sql(db, "SELECT count(*) FROM run_tags") == [(0,)]


def test_delete_run_moves_the_asset_index_back_to_the_remaining_events(
    storage: SqliteInstanceStorage,
) -> None:
    for run_id in ("old", "new"):
        storage.add_run(DagsterRun(run_id=run_id, job_name="job"))
        storage.store_events([_materialization(run_id, "orders")])
    storage.delete_run("new")
    assert storage.get_asset_keys() == [AssetKey("orders")]
    storage.delete_run("old")
    assert storage.get_asset_keys() == []


# -- locks -------------------------------------------------------------------------------------------
def _hold_write_lock(db: Path, seconds: float) -> threading.Thread:
    """Another connection (as another process would) holds SQLite's write lock for a while."""
    ready = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait()
    return thread


def test_a_write_waits_for_another_writer_instead_of_failing(db: Path) -> None:
    storage = SqliteInstanceStorage(_url(db), busy_timeout=5)
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    holder = _hold_write_lock(db, 0.3)
    started = time.monotonic()
    storage.store_events([_entry("r", "STEP_START", step_key="a")])
    assert time.monotonic() - started >= 0.2
    holder.join()
    assert len(storage.get_records_for_run("r")) == 1
    storage.dispose()


def test_a_lock_held_past_the_deadline_is_a_clear_storage_error(db: Path) -> None:
    storage = SqliteInstanceStorage(_url(db), busy_timeout=0.1)
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    holder = _hold_write_lock(db, 1.0)
    try:
        with pytest.raises(StorageError) as raised:
            storage.store_events([_entry("r", "STEP_START", step_key="a")])
    finally:
        holder.join()
    message = str(raised.value)
    assert str(db) in message and "kept it locked for" in message
    assert "busy_timeout" in message and "PostgreSQL" in message
    assert "database is locked" not in message
    assert storage.store_events([_entry("r", "STEP_START", step_key="a")])  # fine afterwards
    storage.dispose()


def test_readers_do_not_wait_for_a_writer(db: Path) -> None:
    storage = SqliteInstanceStorage(_url(db), busy_timeout=5)
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    holder = _hold_write_lock(db, 0.5)
    started = time.monotonic()
    assert storage.get_runs_count() == 1
    assert time.monotonic() - started < 0.25
    holder.join()
    storage.dispose()


# -- the plugin, the URL and import costs ----------------------------------------------------------
def test_the_builtin_plugin_opens_sqlite_urls_only(db: Path) -> None:
    registry = PluginRegistry(get_plugin_manager(autoload=False))
    storage = registry.storage_for_url(_url(db))
    assert isinstance(storage, SqliteInstanceStorage) and storage.path == str(db)
    assert builtin_storage.weir_storage_for_url("postgresql://u:p@h/db") is None
    assert builtin_storage.weir_storage_for_url("memory://") is None
    assert builtin_storage.WEIR_STORAGE_SCHEMES == ["sqlite"]
    storage.dispose()


def test_display_url_and_errors_mask_the_password(tmp_path: Path) -> None:
    # an engine that cannot open its database, named by a URL with a password (as a server
    # database's would be); the driver stays SQLite so the test needs no server driver
    engine = sa.create_engine(_url(tmp_path / "missing" / "folder" / "weir.db"))
    engine.url = sa.engine.make_url("postgresql://weir:s3cret@db.internal:5432/weir")
    storage = SqlInstanceStorage(engine)
    assert storage.display_url == "postgresql://weir:***@db.internal:5432/weir"
    assert "s3cret" not in repr(storage)
    with pytest.raises(StorageError) as raised:
        storage.get_runs_count()
    message = str(raised.value)
    assert "s3cret" not in message
    assert (
        "postgresql://weir:***@db.internal:5432/weir failed to read its schema version" in message
    )
    assert "OperationalError: unable to open database file" in message
    storage.dispose()


def test_importing_weir_and_the_plugin_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, weir, weir.builtin.storage\n"
        "print(','.join(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_opening_and_using_a_database_at_the_head_does_not_import_alembic(db: Path) -> None:
    SqliteInstanceStorage(_url(db)).get_runs_count()
    code = (
        "import sys\n"
        "from weir._instance.sqlite_storage import SqliteInstanceStorage\n"
        f"SqliteInstanceStorage({_url(db)!r}).get_runs_count()\n"
        f"SqliteInstanceStorage({_url(db.with_name('new.db'))!r}).get_runs_count()\n"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "does not parse; write sqlite:///"),
        ("postgresql://weir:s3cret@host/db", "is not a sqlite:// URL"),
    ],
)
def test_a_url_that_is_not_sqlite_is_refused_without_showing_it(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message) as raised:
        SqliteInstanceStorage(url)
    assert "s3cret" not in str(raised.value)


def test_upgrade_of_an_empty_database_creates_the_schema(db: Path) -> None:
    storage = SqliteInstanceStorage(_url(db))
    assert storage.schema_revision() is None
    storage.upgrade()
    assert storage.schema_revision() == sql_schema.SCHEMA_HEAD
    assert storage.get_runs_count() == 0
    storage.dispose()
