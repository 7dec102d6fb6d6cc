"""Instance storage on any SQL database SQLAlchemy 2 speaks: the dialect-neutral backend.

:class:`SqlInstanceStorage` implements :class:`~weir._instance.storage.InstanceStorage` with
SQLAlchemy Core over the tables of :mod:`weir._instance.sql_schema`. Backends subclass it and
override the transaction hooks; nothing here is specific to one database:

- ``_run_write(operation, work)`` runs ``work(connection)`` in one write transaction (SQLite
  takes a process-wide writer lock and ``BEGIN IMMEDIATE``; the default is ``engine.begin()``);
- ``_run_read(operation, work)`` runs ``work(connection)`` in one read transaction, so a query of
  several statements sees one snapshot;
- ``_describe_error(operation, exc)`` turns a driver error into a message;
- ``_lock_schema_creation(connection)`` serialises schema creation and migration between
  processes (a transaction-level advisory lock on PostgreSQL); ``_schema_ready_hook`` runs
  after either, in the same transaction;
- ``_insert_event_rows`` and ``_upsert``, the statements of the hot path (SQLite runs them as
  plain DB-API statements compiled once).

Upserts branch on ``engine.dialect.name`` (``ON CONFLICT`` on SQLite and PostgreSQL, update
then insert elsewhere). Opening a storage does not touch the database; the first operation
checks the schema (:mod:`weir._instance.migrations`): an empty database gets the tables and the
head revision, a database at the head is used as is, an older one raises ``SchemaVersionError``
until :meth:`SqlInstanceStorage.upgrade` migrates it, and a newer one raises
``SchemaVersionError`` naming the revision. Every database error that escapes is a
``StorageError`` naming the database (password masked) and the operation.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from weir._execution.events import DagsterEventType
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance import sql_schema as schema
from weir._instance.migrations import check_revision, create_schema, read_schema, upgrade_to_head
from weir._instance.records import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
    EventLogEntry,
    EventLogRecord,
    RunRecord,
    RunsFilter,
    StoredRecord,
)
from weir._instance.serdes import deserialize, serialize
from weir._instance.storage import RUN_STATUS_BY_EVENT, InstanceStorage
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import RunAlreadyExistsError, RunNotFoundError, StorageError, WeirError

__all__ = ["SqlInstanceStorage"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
Work = Callable[[Connection], _T]

_MATERIALIZATION = "ASSET_MATERIALIZATION"
_OBSERVATION = "ASSET_OBSERVATION"
_CHECK_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
_RUN_START = "PIPELINE_START"
_RUN_END = frozenset({"PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"})
_ASSET_INDEX_TYPES = frozenset({_MATERIALIZATION, _OBSERVATION})
_INDEXED_TYPES = frozenset(
    {*RUN_STATUS_BY_EVENT, *_ASSET_INDEX_TYPES, _CHECK_PLANNED, _CHECK_EVALUATION}
)
_WIPED_TYPES = (
    _MATERIALIZATION,
    _OBSERVATION,
    "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_FAILED_TO_MATERIALIZE",
    _CHECK_PLANNED,
    _CHECK_EVALUATION,
)
_PLANNED = AssetCheckExecutionRecordStatus.PLANNED.value
_IN_CHUNK = 500  # values per IN (...) list, well under every database's bound-parameter limit

_runs = schema.runs
_tags = schema.run_tags
_events = schema.event_logs
_keys = schema.asset_keys
_checks = schema.asset_check_executions
_partitions = schema.dynamic_partitions
_kvs = schema.kvs
_states = schema.states
_ticks = schema.ticks

_key_strings: dict[AssetKey, str] = {}
_hostname: str | None = None
_live_storages: weakref.WeakSet[SqlInstanceStorage] = weakref.WeakSet()


def _host() -> str:
    global _hostname
    if _hostname is None:
        _hostname = socket.gethostname()
    return _hostname


def _key_string(key: Any) -> str:
    """``AssetKey.to_string()``, memoised: the hot path stores the same few keys again and again."""
    if not isinstance(key, AssetKey):
        key = AssetKey.from_coercible(key)
    text = _key_strings.get(key)
    if text is None:
        text = key.to_string()
        if len(_key_strings) < 65536:
            _key_strings[key] = text
    return text


def _type_values(types: Any) -> list[str]:
    if isinstance(types, (str, DagsterEventType)):
        types = [types]
    values = [t.value if isinstance(t, DagsterEventType) else str(t) for t in types]
    return list(dict.fromkeys(values))


def _chunks(values: Sequence[_T], size: int = _IN_CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _dump_body(body: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(body))
    except (TypeError, ValueError) as exc:
        msg = (
            f"The body of {what} cannot be stored: {exc}. Bodies are stored as JSON; use only "
            "dicts, lists, str, int, float, bool and None in them."
        )
        raise StorageError(msg) from exc


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(row.id, row.key, row.kind, row.status, row.timestamp, json.loads(row.body))


def _after_fork_in_child() -> None:
    # Pooled connections belong to the parent; the child must open its own.
    for storage in list(_live_storages):
        storage._forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class SqlInstanceStorage(InstanceStorage):
    """Instance storage in a SQL database, through a SQLAlchemy engine.

    Args:
        engine: The engine to use; the storage owns it from now on (``dispose()`` disposes it).
        display_url: How reprs and errors name the database; defaults to the engine's URL with
            the password masked.

    Use a backend's subclass (``SqliteInstanceStorage``, the PostgreSQL storage of
    ``weir-resource-postgres``) rather than this class directly.
    """

    def __init__(self, engine: Engine, *, display_url: str | None = None) -> None:
        self._engine = engine
        self.display_url = display_url or engine.url.render_as_string(hide_password=True)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._statements: dict[Any, Any] = {}
        _live_storages.add(self)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tools and tests; the storage's own methods are the API)."""
        return self._engine

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    # -- transactions: the hooks backends override ------------------------------------------
    def _run_write(self, operation: str, work: Work[_T], *, migration: bool = False) -> _T:
        """Run ``work`` in one write transaction; translate database errors.

        ``migration`` marks schema migrations (SQLite switches foreign-key actions off for them).
        """
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except WeirError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise self._storage_error(operation, exc) from exc

    def _run_read(self, operation: str, work: Work[_T]) -> _T:
        """Run ``work`` in one read transaction (one snapshot); translate database errors."""
        try:
            return self._read_once(work)
        except WeirError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise self._storage_error(operation, exc) from exc

    def _read_once(self, work: Work[_T]) -> _T:
        with self._engine.connect() as conn, conn.begin():
            return work(conn)

    def _describe_error(self, operation: str, exc: BaseException) -> str:
        """The message of the ``StorageError`` raised for ``exc`` (overridden per dialect)."""
        orig = getattr(exc, "orig", None) or exc
        detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return (
            f"The instance storage {self.display_url} failed to {operation}: "
            f"{type(orig).__name__}: {detail}. Check that the database is reachable and that "
            "its user may read and write the weir tables."
        )

    def _storage_error(self, operation: str, exc: BaseException) -> StorageError:
        return StorageError(self._describe_error(operation, exc))

    def _lock_schema_creation(self, conn: Connection) -> None:
        """Serialise schema creation between processes (inside the creating transaction)."""
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x77656972})

    def _write(self, operation: str, work: Work[_T]) -> _T:
        if not self._schema_ready:
            self._ensure_schema()
        return self._run_write(operation, work)

    def _read(self, operation: str, work: Work[_T]) -> _T:
        if not self._schema_ready:
            self._ensure_schema()
        return self._run_read(operation, work)

    # -- schema -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            revision, _ = self._run_read("read its schema version", read_schema)
            if revision is None:
                self._create_schema()
            else:
                check_revision(revision, self.display_url)
            self._schema_ready = True

    def _create_schema(self) -> None:
        def create(conn: Connection) -> None:
            self._lock_schema_creation(conn)
            create_schema(conn, self.display_url)
            self._schema_ready_hook(conn)

        self._run_write("create the weir tables", create)
        logger.info("weir schema %s ready in %s", schema.SCHEMA_HEAD, self.display_url)

    def schema_revision(self) -> str | None:
        """The schema revision recorded in the database (None for an empty database)."""
        return self._run_read("read its schema version", read_schema)[0]

    def upgrade(self) -> None:
        """Migrate the database to this weir's schema revision (``alembic upgrade head``).

        An empty database gets the current schema; one at the head is left alone; one written by
        a newer weir raises ``SchemaVersionError``. The migration runs in one transaction on the
        storage's own connection (on SQLite, under its writer lock).
        """
        with self._schema_lock:
            revision, _ = self._run_read("read its schema version", read_schema)
            if revision is None:
                self._create_schema()
            elif revision != schema.SCHEMA_HEAD:
                if revision not in schema.SCHEMA_REVISIONS:
                    check_revision(revision, self.display_url)  # raises: a newer weir wrote it
                logger.info("Migrating %s from schema %s", self.display_url, revision)
                operation = f"migrate its schema from revision {revision}"
                self._run_write(operation, self._migrate, migration=True)
            self._schema_ready = True

    def _migrate(self, conn: Connection) -> None:
        self._lock_schema_creation(conn)  # one migrating process at a time
        upgrade_to_head(conn)
        self._schema_ready_hook(conn)

    def _schema_ready_hook(self, conn: Connection) -> None:
        """Called in the transaction that created or migrated the schema (for backend tuning)."""

    def _forget_connections(self) -> None:
        """In a forked child: drop the parent's connections without closing them."""
        self._engine.dispose(close=False)

    def dispose(self) -> None:
        """Close every pooled connection; the storage is not used afterwards."""
        _live_storages.discard(self)
        self._engine.dispose()

    # -- statements (built once per storage) ----------------------------------------------------
    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        update: Sequence[str],
    ) -> None:
        """Insert ``rows``; where a row with the same ``keys`` exists, overwrite ``update`` columns
        (``update`` empty: keep the existing row)."""
        if not rows:
            return
        dialect = conn.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            self._upsert_portable(conn, table, rows, keys, update)
            return
        cache_key = ("upsert", dialect, table.name, tuple(keys), tuple(update))
        stmt = self._statements.get(cache_key)
        if stmt is None:
            from sqlalchemy.dialects import postgresql, sqlite

            insert: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
            base = insert(table)
            if update:
                stmt = base.on_conflict_do_update(
                    index_elements=list(keys), set_={c: base.excluded[c] for c in update}
                )
            else:
                stmt = base.on_conflict_do_nothing(index_elements=list(keys))
            self._statements[cache_key] = stmt
        conn.execute(stmt, list(rows))

    def _upsert_portable(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        update: Sequence[str],
    ) -> None:
        for row in rows:
            where = [table.c[k] == row[k] for k in keys]
            if update:
                done = conn.execute(
                    table.update().where(*where).values({c: row[c] for c in update})
                ).rowcount
            else:
                done = conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(*where)
                ).scalar_one()
            if not done:
                conn.execute(table.insert(), [dict(row)])

    def _insert_event_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert event rows in one statement (per page); their storage ids, in order."""
        if conn.dialect.insert_executemany_returning_sort_by_parameter_order:
            stmt = self._statements.get("insert_events")
            if stmt is None:
                stmt = _events.insert().returning(_events.c.id, sort_by_parameter_order=True)
                self._statements["insert_events"] = stmt
            return list(conn.execute(stmt, rows).scalars())
        return [_new_id(conn.execute(_events.insert(), [row])) for row in rows]

    def _rows(self, operation: str, query: Any) -> list[Any]:
        return self._read(operation, lambda conn: list(conn.execute(query).all()))

    def _values(self, operation: str, query: Any) -> list[Any]:
        return self._read(operation, lambda conn: list(conn.execute(query).scalars()))

    def _change(self, operation: str, stmt: Any) -> int:
        return int(self._write(operation, lambda conn: conn.execute(stmt).rowcount))

    # -- runs -------------------------------------------------------------------------------------
    def add_run(self, run: DagsterRun) -> RunRecord:
        now = time.time()
        tags = run.tags
        body = serialize(run)
        row = {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "status": run.status.value,
            "parent_run_id": run.parent_run_id,
            "root_run_id": run.root_run_id,
            "create_timestamp": now,
            "update_timestamp": now,
            "partition": tags.get("dagster/partition"),
            "backfill_id": tags.get("dagster/backfill"),
            "run_body": body,
        }
        tag_rows = [{"run_id": run.run_id, "key": k, "value": v} for k, v in tags.items()]

        def add(conn: Connection) -> int:
            if conn.execute(sa.select(_runs.c.id).where(_runs.c.run_id == run.run_id)).first():
                raise self._run_exists(run.run_id)
            run_pk = _new_id(conn.execute(_runs.insert(), [row]))
            if tag_rows:
                conn.execute(_tags.insert(), tag_rows)
            return run_pk

        try:
            storage_id = self._write(f"add the run {run.run_id}", add)
        except StorageError as exc:
            if isinstance(exc.__cause__, sa.exc.IntegrityError):  # a concurrent add won
                raise self._run_exists(run.run_id) from exc.__cause__
            raise
        return RunRecord(storage_id, deserialize(body), now, now)

    def _run_exists(self, run_id: str) -> RunAlreadyExistsError:
        msg = (
            f"A run with run id {run_id!r} is already stored in {self.display_url}. Run ids are "
            "unique: give the new run a fresh id (make_new_run_id())."
        )
        return RunAlreadyExistsError(msg)

    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        where = _runs_where(filters)
        if cursor is not None:
            anchor = sa.select(_runs.c.id).where(_runs.c.run_id == cursor).scalar_subquery()
            where.append(_runs.c.id > anchor if ascending else _runs.c.id < anchor)
        query = _page(sa.select(_runs).where(*where), _runs.c.id, ascending, limit)
        return [_run_record(row) for row in self._rows("read runs", query)]

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(_runs).where(*_runs_where(filters))
        return int(self._values("count runs", query)[0])

    def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        new_tags = dict(tags)

        def add(conn: Connection) -> None:
            query = sa.select(_runs.c.run_body).where(_runs.c.run_id == run_id)
            body = conn.execute(query).scalar()
            if body is None:
                msg = (
                    f"Cannot add tags to run {run_id!r}: no such run in {self.display_url}. "
                    "Check the run id (instance.get_runs() lists the stored runs)."
                )
                raise RunNotFoundError(msg)
            if not new_tags:
                return
            run = deserialize(body)
            run.tags.update(new_tags)
            values: dict[str, Any] = {"run_body": serialize(run), "update_timestamp": time.time()}
            if "dagster/partition" in new_tags:
                values["partition"] = new_tags["dagster/partition"]
            if "dagster/backfill" in new_tags:
                values["backfill_id"] = new_tags["dagster/backfill"]
            conn.execute(_runs.update().where(_runs.c.run_id == run_id).values(values))
            rows = [{"run_id": run_id, "key": k, "value": v} for k, v in new_tags.items()]
            self._upsert(conn, _tags, rows, ("run_id", "key"), ("value",))

        self._write(f"add tags to the run {run_id}", add)

    def delete_run(self, run_id: str) -> None:
        def delete(conn: Connection) -> None:
            c = _events.c
            query = sa.select(c.asset_key).distinct()
            query = query.where(c.run_id == run_id, c.dagster_event_type.in_(_ASSET_INDEX_TYPES))
            keys = [k for k in conn.execute(query).scalars() if k is not None]
            conn.execute(_events.delete().where(c.run_id == run_id))
            conn.execute(_checks.delete().where(_checks.c.run_id == run_id))
            conn.execute(_tags.delete().where(_tags.c.run_id == run_id))
            conn.execute(_runs.delete().where(_runs.c.run_id == run_id))
            _refresh_asset_keys(conn, keys)

        self._write(f"delete the run {run_id}", delete)

    def get_run_workers(self, run_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        c = _runs.c
        found: dict[str, tuple[str, int]] = {}
        for chunk in _chunks(list(dict.fromkeys(run_ids))):
            query = sa.select(c.run_id, c.worker_host, c.worker_pid)
            query = query.where(c.run_id.in_(chunk), c.worker_pid.is_not(None))
            for run_id, host, pid in self._rows("read run workers", query):
                found[run_id] = (host or "", int(pid))
        return found

    # -- events -----------------------------------------------------------------------------------
    def store_events(
        self,
        entries: Sequence[EventLogEntry],
        *,
        expect_status: Mapping[str, DagsterRunStatus] | None = None,
    ) -> list[int] | None:
        entries = list(entries)
        rows = [self._event_row(index, entry) for index, entry in enumerate(entries)]
        expected = {r: DagsterRunStatus(s).value for r, s in (expect_status or {}).items()}
        if not rows and not expected:
            return []

        def store(conn: Connection) -> list[int] | None:
            if expected and not _statuses_match(conn, expected):
                return None
            if not rows:
                return []
            ids = self._insert_event_rows(conn, rows)
            self._update_indexes(conn, entries, rows, ids)
            return ids

        return self._write(f"store {len(rows)} events", store)

    def _event_row(self, index: int, entry: EventLogEntry) -> dict[str, Any]:
        try:
            text = serialize(entry)
        except Exception as exc:
            msg = (
                f"Cannot store event {index} of the batch ({entry!r}) in {self.display_url}: it "
                f"does not serialize ({type(exc).__name__}: {exc}). Nothing of the batch was "
                "written. Keep event metadata to JSON-like values and weir metadata types."
            )
            raise StorageError(msg) from exc
        event = entry.dagster_event
        key = event.asset_key if event is not None else None
        return {
            "run_id": entry.run_id,
            "event": text,
            "dagster_event_type": event.event_type_value if event is not None else None,
            "timestamp": entry.timestamp,
            "step_key": entry.step_key,
            "asset_key": _key_string(key) if key is not None else None,
            "partition": event.partition if key is not None else None,  # type: ignore[union-attr]
        }

    def _update_indexes(
        self,
        conn: Connection,
        entries: list[EventLogEntry],
        rows: list[dict[str, Any]],
        ids: list[int],
    ) -> None:
        """Run status, asset keys and check executions for the indexed events of a batch."""
        materialized: dict[str, dict[str, Any]] = {}
        observed: dict[str, dict[str, Any]] = {}
        for entry, row, storage_id in zip(entries, rows, ids, strict=True):
            event_type = row["dagster_event_type"]
            if event_type not in _INDEXED_TYPES:
                continue
            key = row["asset_key"]
            if event_type in RUN_STATUS_BY_EVENT:
                _update_run_status(conn, entry, event_type)
            elif event_type == _CHECK_PLANNED:
                _plan_check(conn, entry)
            elif event_type == _CHECK_EVALUATION:
                _evaluate_check(conn, entry, row["event"], storage_id)
            elif key is not None and event_type == _MATERIALIZATION:
                materialized[key] = {
                    "asset_key": key,
                    "last_materialization_storage_id": storage_id,
                    "last_materialization_timestamp": entry.timestamp,
                    "last_run_id": entry.run_id,
                    "create_timestamp": entry.timestamp,
                }
            elif key is not None:
                observed[key] = {
                    "asset_key": key,
                    "last_observation_storage_id": storage_id,
                    "last_observation_timestamp": entry.timestamp,
                    "create_timestamp": entry.timestamp,
                }
        if materialized:
            columns = ("last_materialization_storage_id", "last_materialization_timestamp")
            rows = list(materialized.values())
            self._upsert(conn, _keys, rows, ("asset_key",), (*columns, "last_run_id"))
        if observed:
            columns = ("last_observation_storage_id", "last_observation_timestamp")
            self._upsert(conn, _keys, list(observed.values()), ("asset_key",), columns)

    def get_records_for_run(
        self,
        run_id: str,
        cursor: int | None = None,
        of_type: Iterable[str] | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        where: list[Any] = [_events.c.run_id == run_id]
        if of_type is not None:
            where.append(_events.c.dagster_event_type.in_(_type_values(of_type)))
        if cursor is not None:
            where.append(_events.c.id > cursor if ascending else _events.c.id < cursor)
        return self._event_records("read the events of a run", where, limit, ascending)

    def fetch_event_records(
        self,
        event_types: Iterable[str],
        *,
        asset_key: Any = None,
        partitions: Sequence[str] | None = None,
        after_storage_id: int | None = None,
        before_storage_id: int | None = None,
        after_timestamp: float | None = None,
        before_timestamp: float | None = None,
        storage_ids: Sequence[int] | None = None,
        run_ids: Sequence[str] | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        c = _events.c
        where: list[Any] = [c.dagster_event_type.in_(_type_values(event_types))]
        if asset_key is not None:
            where.append(c.asset_key == _key_string(asset_key))
        # empty lists do not filter (as Dagster)
        if partitions:
            where.append(c.partition.in_(list(partitions)))
        if storage_ids:
            where.append(c.id.in_(list(storage_ids)))
        if run_ids:
            where.append(c.run_id.in_(list(run_ids)))
        where += _bounds(c.id, after_storage_id, before_storage_id)
        where += _bounds(c.timestamp, after_timestamp, before_timestamp)
        return self._event_records("read events", where, limit, ascending)

    def _event_records(
        self, operation: str, where: list[Any], limit: int | None, ascending: bool
    ) -> list[EventLogRecord]:
        query = sa.select(_events.c.id, _events.c.event).where(*where)
        rows = self._rows(operation, _page(query, _events.c.id, ascending, limit))
        return [EventLogRecord(storage_id, deserialize(text)) for storage_id, text in rows]

    def get_asset_keys(
        self, prefix: Sequence[str] | None = None, limit: int | None = None, cursor: Any = None
    ) -> list[Any]:
        c = _keys.c
        known = sa.or_(
            c.last_materialization_storage_id.is_not(None),
            c.last_observation_storage_id.is_not(None),
        )
        texts = sorted(self._values("read asset keys", sa.select(c.asset_key).where(known)))
        if cursor is not None:
            after = _key_string(cursor)
            texts = [t for t in texts if t > after]
        keys = [AssetKey(json.loads(t)) for t in texts]
        if prefix:
            keys = [k for k in keys if k.has_prefix(prefix)]
        return keys[: max(limit, 0)] if limit is not None else keys

    def get_materialized_partitions(
        self,
        asset_key: Any,
        before_storage_id: int | None = None,
        after_storage_id: int | None = None,
    ) -> set[str]:
        c = _events.c
        query = (
            sa.select(c.partition)
            .distinct()
            .where(
                c.asset_key == _key_string(asset_key),
                c.dagster_event_type == _MATERIALIZATION,
                c.partition.is_not(None),
                *_bounds(c.id, after_storage_id, before_storage_id),
            )
        )
        return set(self._values("read materialized partitions", query))

    def wipe_assets(self, asset_keys: Sequence[Any]) -> None:
        texts = list(dict.fromkeys(_key_string(k) for k in asset_keys))
        forgotten = dict.fromkeys(
            (
                "last_materialization_storage_id",
                "last_materialization_timestamp",
                "last_observation_storage_id",
                "last_observation_timestamp",
                "last_run_id",
            )
        )

        def wipe(conn: Connection) -> None:
            for chunk in _chunks(texts):
                events = _events.c
                conn.execute(
                    _events.delete().where(
                        events.asset_key.in_(chunk), events.dagster_event_type.in_(_WIPED_TYPES)
                    )
                )
                conn.execute(_checks.delete().where(_checks.c.asset_key.in_(chunk)))
                values = {**forgotten, "wipe_timestamp": time.time()}
                conn.execute(_keys.update().where(_keys.c.asset_key.in_(chunk)).values(values))

        if texts:
            self._write(f"wipe {len(texts)} assets", wipe)

    # -- asset checks ---------------------------------------------------------------------------
    def get_asset_check_executions(
        self,
        check_key: Any,
        limit: int | None = None,
        cursor: int | None = None,
        partition: str | None = None,
    ) -> list[AssetCheckExecutionRecord]:
        if isinstance(check_key, str):
            check_key = AssetCheckKey.from_user_string(check_key)
        check = AssetCheckKey(AssetKey.from_coercible(check_key.asset_key), check_key.name)
        c = _checks.c
        query = sa.select(_checks).where(
            c.asset_key == _key_string(check.asset_key), c.check_name == check.name
        )
        if partition is not None:
            query = query.where(c.partition == partition)
        if cursor is not None:
            query = query.where(c.id < cursor)
        rows = self._rows("read check executions", _page(query, c.id, False, limit))
        return [
            AssetCheckExecutionRecord(
                check,
                row.id,
                row.run_id,
                AssetCheckExecutionRecordStatus(row.execution_status),
                deserialize(row.evaluation_event) if row.evaluation_event is not None else None,
                row.create_timestamp,
                row.partition,
            )
            for row in rows
        ]

    # -- dynamic partitions ----------------------------------------------------------------------
    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        now = time.time()
        rows = [
            {"partitions_def_name": name, "partition": key, "create_timestamp": now}
            for key in dict.fromkeys(keys)
        ]
        unique = ("partitions_def_name", "partition")
        if rows:
            self._write(
                f"add partitions to {name!r}",
                lambda conn: self._upsert(conn, _partitions, rows, unique, ()),
            )

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        c = _partitions.c
        stmt = _partitions.delete().where(c.partitions_def_name == name, c.partition == key)
        self._change(f"delete a partition of {name!r}", stmt)

    def get_dynamic_partitions(self, name: str) -> list[str]:
        c = _partitions.c
        query = sa.select(c.partition).where(c.partitions_def_name == name).order_by(c.id)
        return self._values(f"read the partitions of {name!r}", query)

    def has_dynamic_partition(self, name: str, key: str) -> bool:
        c = _partitions.c
        query = sa.select(c.id).where(c.partitions_def_name == name, c.partition == key).limit(1)
        return bool(self._values(f"read the partitions of {name!r}", query))

    # -- key-value store ---------------------------------------------------------------------------
    def kvs_get(self, keys: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            query = sa.select(_kvs.c.key, _kvs.c.value).where(_kvs.c.key.in_(chunk))
            found.update((k, v) for k, v in self._rows("read key-value pairs", query))
        return found

    def kvs_set(self, pairs: Mapping[str, str]) -> None:
        rows = [{"key": k, "value": v} for k, v in pairs.items()]
        if rows:
            self._write(
                "store key-value pairs",
                lambda conn: self._upsert(conn, _kvs, rows, ("key",), ("value",)),
            )

    # -- named state records -----------------------------------------------------------------------
    def put_state(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"the {kind} state {key!r}")
        row = {"kind": kind, "key": key, "status": status, "timestamp": timestamp, "body": text}

        def put(conn: Connection) -> StoredRecord:
            self._upsert(conn, _states, [row], ("kind", "key"), ("status", "timestamp", "body"))
            query = sa.select(_states).where(_states.c.kind == kind, _states.c.key == key)
            return _stored(conn.execute(query).one())

        return self._write(f"store the {kind} state {key!r}", put)

    def get_states(
        self,
        kind: str,
        key: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: int | None = None,
    ) -> list[StoredRecord]:
        c = _states.c
        query = sa.select(_states).where(c.kind == kind)
        if key is not None:
            query = query.where(c.key == key)
        if statuses:
            query = query.where(c.status.in_(list(statuses)))
        if cursor is not None:
            query = query.where(c.id < cursor)
        rows = self._rows(f"read {kind} states", _page(query, c.id, False, limit))
        return [_stored(r) for r in rows]

    def delete_state(self, kind: str, key: str) -> None:
        stmt = _states.delete().where(_states.c.kind == kind, _states.c.key == key)
        self._change(f"delete the {kind} state {key!r}", stmt)

    # -- ticks --------------------------------------------------------------------------------------
    def add_tick(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"a tick of the {kind} {key!r}")
        row = {"kind": kind, "key": key, "status": status, "timestamp": timestamp, "body": text}
        tick_id = self._write(
            f"add a tick of the {kind} {key!r}",
            lambda conn: _new_id(conn.execute(_ticks.insert(), [row])),
        )
        return StoredRecord(tick_id, key, kind, status, timestamp, json.loads(text))

    def update_tick(self, tick_id: int, status: str, body: Mapping[str, Any]) -> None:
        text = _dump_body(body, f"tick {tick_id}")
        stmt = _ticks.update().where(_ticks.c.id == tick_id).values(status=status, body=text)
        self._change(f"update tick {tick_id}", stmt)

    def get_ticks(
        self,
        kind: str,
        key: str,
        statuses: Sequence[str] | None = None,
        before_timestamp: float | None = None,
        after_timestamp: float | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        c = _ticks.c
        query = sa.select(_ticks).where(
            c.kind == kind, c.key == key, *_bounds(c.timestamp, after_timestamp, before_timestamp)
        )
        if statuses:
            query = query.where(c.status.in_(list(statuses)))
        query = query.order_by(c.timestamp.desc(), c.id.desc())
        if limit is not None:
            query = query.limit(max(limit, 0))
        return [_stored(r) for r in self._rows(f"read ticks of {key!r}", query)]

    def purge_ticks(self, kind: str, key: str | None, before_timestamp: float) -> int:
        stmt = _ticks.delete().where(_ticks.c.kind == kind, _ticks.c.timestamp < before_timestamp)
        if key is not None:
            stmt = stmt.where(_ticks.c.key == key)
        return self._change(f"purge {kind} ticks", stmt)


# -- helpers ------------------------------------------------------------------------------------
def _new_id(result: Any) -> int:
    return int(result.inserted_primary_key[0])


def _page(query: Any, order: Any, ascending: bool, limit: int | None) -> Any:
    query = query.order_by(order.asc() if ascending else order.desc())
    return query.limit(max(limit, 0)) if limit is not None else query


def _bounds(column: Any, after: Any, before: Any) -> list[Any]:
    """Exclusive bounds on ``column`` (None: unbounded)."""
    return [
        *([column > after] if after is not None else []),
        *([column < before] if before is not None else []),
    ]


def _runs_where(filters: RunsFilter | None) -> list[Any]:
    if filters is None:
        return []
    c = _runs.c
    where: list[Any] = []
    if filters.run_ids:
        where.append(c.run_id.in_(filters.run_ids))
    if filters.job_name is not None:
        where.append(c.job_name == filters.job_name)
    if filters.statuses:
        where.append(c.status.in_([s.value for s in filters.statuses]))
    for key, value in (filters.tags or {}).items():
        match = _tags.c.value == value if isinstance(value, str) else _tags.c.value.in_(list(value))
        where.append(c.run_id.in_(sa.select(_tags.c.run_id).where(_tags.c.key == key, match)))
    if filters.updated_after is not None:
        where.append(c.update_timestamp > filters.updated_after)
    if filters.updated_before is not None:
        where.append(c.update_timestamp < filters.updated_before)
    if filters.created_after is not None:
        where.append(c.create_timestamp > filters.created_after)
    if filters.created_before is not None:
        where.append(c.create_timestamp < filters.created_before)
    if filters.snapshot_id is not None:  # runs carry no snapshot id (yet): nothing matches
        where.append(sa.false())
    if filters.exclude_subruns:
        where.append(c.parent_run_id.is_(None))
    return where


def _run_record(row: Any) -> RunRecord:
    run = deserialize(row.run_body)
    run.status = DagsterRunStatus(row.status)
    return RunRecord(
        row.id, run, row.create_timestamp, row.update_timestamp, row.start_time, row.end_time
    )


def _statuses_match(conn: Connection, expected: Mapping[str, str]) -> bool:
    """Whether every run is in its expected status; the rows stay locked until commit."""
    query = (
        sa.select(_runs.c.run_id, _runs.c.status)
        .where(_runs.c.run_id.in_(list(expected)))
        .with_for_update()
    )
    actual = {run_id: status for run_id, status in conn.execute(query)}
    return all(actual.get(run_id) == status for run_id, status in expected.items())


def _update_run_status(conn: Connection, entry: EventLogEntry, event_type: str) -> None:
    values: dict[str, Any] = {
        "status": RUN_STATUS_BY_EVENT[event_type].value,
        "update_timestamp": entry.timestamp,
    }
    if event_type == _RUN_START:
        values["start_time"] = entry.timestamp
        values["worker_pid"] = entry.dagster_event.pid if entry.dagster_event else None
        values["worker_host"] = _host()
    elif event_type in _RUN_END:
        values["end_time"] = entry.timestamp
    conn.execute(_runs.update().where(_runs.c.run_id == entry.run_id).values(values))


def _check_identity(entry: EventLogEntry) -> tuple[str, str, str | None]:
    data = entry.get_dagster_event().event_specific_data
    key = getattr(data, "asset_key", None)
    name = getattr(data, "check_name", None)
    if key is None or name is None:
        msg = (
            f"The check event {entry!r} has no asset_key/check_name in its data "
            f"({type(data).__name__}); a check event must say which check it is about."
        )
        raise StorageError(msg)
    return _key_string(key), name, getattr(data, "partition", None)


def _plan_check(conn: Connection, entry: EventLogEntry) -> None:
    key, name, partition = _check_identity(entry)
    row = {
        "asset_key": key,
        "check_name": name,
        "partition": partition,
        "run_id": entry.run_id,
        "execution_status": _PLANNED,
        "create_timestamp": entry.timestamp,
    }
    conn.execute(_checks.insert(), [row])


def _evaluate_check(conn: Connection, entry: EventLogEntry, text: str, storage_id: int) -> None:
    key, name, partition = _check_identity(entry)
    data = entry.get_dagster_event().event_specific_data
    status = (
        AssetCheckExecutionRecordStatus.SUCCEEDED
        if getattr(data, "passed", False)
        else AssetCheckExecutionRecordStatus.FAILED
    ).value
    c = _checks.c
    values = {
        "execution_status": status,
        "evaluation_event": text,
        "evaluation_event_timestamp": entry.timestamp,
        "evaluation_event_storage_id": storage_id,
    }
    updated = conn.execute(
        _checks.update()
        .where(
            c.run_id == entry.run_id,
            c.asset_key == key,
            c.check_name == name,
            c.partition.is_not_distinct_from(partition),
            c.execution_status == _PLANNED,
        )
        .values(values)
    ).rowcount
    if not updated:
        row = {
            "asset_key": key,
            "check_name": name,
            "partition": partition,
            "run_id": entry.run_id,
            "create_timestamp": entry.timestamp,
            **values,
        }
        conn.execute(_checks.insert(), [row])


def _refresh_asset_keys(conn: Connection, keys: Sequence[str]) -> None:
    """Point each key's last materialization/observation at the newest remaining event."""
    c = _events.c
    for key in keys:
        values: dict[str, Any] = {}
        for event_type, prefix in (
            (_MATERIALIZATION, "materialization"),
            (_OBSERVATION, "observation"),
        ):
            latest = conn.execute(
                sa.select(c.id, c.timestamp, c.run_id)
                .where(c.asset_key == key, c.dagster_event_type == event_type)
                .order_by(c.id.desc())
                .limit(1)
            ).first()
            values[f"last_{prefix}_storage_id"] = latest.id if latest else None
            values[f"last_{prefix}_timestamp"] = latest.timestamp if latest else None
            if event_type == _MATERIALIZATION:
                values["last_run_id"] = latest.run_id if latest else None
        conn.execute(_keys.update().where(_keys.c.asset_key == key).values(values))
