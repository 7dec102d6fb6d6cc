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

The class is built from three parts, one concept each: :mod:`weir._instance._sql_base` (engine,
transactions, schema, the hooks above), :mod:`weir._instance._sql_assets` (asset keys and check
executions), :mod:`weir._instance._sql_state` (dynamic partitions, key-value pairs, states and
ticks); runs and the event log are here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir._execution.events import DagsterEventType
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance import sql_schema as schema
from weir._instance._sql_assets import (
    ASSET_INDEX_TYPES,
    CHECK_EVALUATION,
    CHECK_PLANNED,
    SqlAssetIndex,
    refresh_asset_keys,
)
from weir._instance._sql_base import bounds, chunks, key_string, new_id, page
from weir._instance._sql_state import SqlStateStore
from weir._instance.records import EventLogEntry, EventLogRecord, RunRecord, RunsFilter
from weir._instance.serdes import deserialize, serialize
from weir._instance.storage import RUN_STATUS_BY_EVENT
from weir.errors import RunAlreadyExistsError, RunNotFoundError, StorageError

__all__ = ["SqlInstanceStorage"]

_RUN_START = "PIPELINE_START"
_RUN_END = frozenset({"PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"})
_INDEXED_TYPES = frozenset(
    {*RUN_STATUS_BY_EVENT, *ASSET_INDEX_TYPES, CHECK_PLANNED, CHECK_EVALUATION}
)

_runs = schema.runs
_tags = schema.run_tags
_events = schema.event_logs
_checks = schema.asset_check_executions

_hostname: str | None = None


def _host() -> str:
    global _hostname
    if _hostname is None:
        _hostname = socket.gethostname()
    return _hostname


def _type_values(types: Any) -> list[str]:
    if isinstance(types, (str, DagsterEventType)):
        types = [types]
    values = [t.value if isinstance(t, DagsterEventType) else str(t) for t in types]
    return list(dict.fromkeys(values))


class SqlInstanceStorage(SqlAssetIndex, SqlStateStore):
    """Instance storage in a SQL database, through a SQLAlchemy engine.

    Args:
        engine: The engine to use; the storage owns it from now on (``dispose()`` disposes it).
        display_url: How reprs and errors name the database; defaults to the engine's URL with
            the password masked.

    Use a backend's subclass (``SqliteInstanceStorage``, the PostgreSQL storage of
    ``weir-resource-postgres``) rather than this class directly.
    """

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
            run_pk = new_id(conn.execute(_runs.insert(), [row]))
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
        query = page(sa.select(_runs).where(*where), _runs.c.id, ascending, limit)
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
            query = query.where(c.run_id == run_id, c.dagster_event_type.in_(ASSET_INDEX_TYPES))
            keys = [k for k in conn.execute(query).scalars() if k is not None]
            conn.execute(_events.delete().where(c.run_id == run_id))
            conn.execute(_checks.delete().where(_checks.c.run_id == run_id))
            conn.execute(_tags.delete().where(_tags.c.run_id == run_id))
            conn.execute(_runs.delete().where(_runs.c.run_id == run_id))
            refresh_asset_keys(conn, keys)

        self._write(f"delete the run {run_id}", delete)

    def get_run_workers(self, run_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        c = _runs.c
        found: dict[str, tuple[str, int]] = {}
        for chunk in chunks(list(dict.fromkeys(run_ids))):
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
            self._lock_event_order(conn)
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
            "asset_key": key_string(key) if key is not None else None,
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
            if event_type in RUN_STATUS_BY_EVENT:
                _update_run_status(conn, entry, event_type)
            else:
                self._index_asset_event(conn, entry, row, storage_id, materialized, observed)
        self._upsert_asset_keys(conn, materialized, observed)

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
            where.append(c.asset_key == key_string(asset_key))
        # empty lists do not filter (as Dagster)
        if partitions:
            where.append(c.partition.in_(list(partitions)))
        if storage_ids:
            where.append(c.id.in_(list(storage_ids)))
        if run_ids:
            where.append(c.run_id.in_(list(run_ids)))
        where += bounds(c.id, after_storage_id, before_storage_id)
        where += bounds(c.timestamp, after_timestamp, before_timestamp)
        return self._event_records("read events", where, limit, ascending)

    def _event_records(
        self, operation: str, where: list[Any], limit: int | None, ascending: bool
    ) -> list[EventLogRecord]:
        query = sa.select(_events.c.id, _events.c.event).where(*where)
        rows = self._rows(operation, page(query, _events.c.id, ascending, limit))
        return [EventLogRecord(storage_id, deserialize(text)) for storage_id, text in rows]


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
