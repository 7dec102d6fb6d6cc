"""The embedded default: instance storage in one SQLite file, safe for many processes at once.

``SqliteInstanceStorage("sqlite:////abs/path/weir.db")`` (SQLAlchemy's URL form: ``sqlite:///``
followed by the path, so an absolute path gives four slashes; a relative path is resolved
against the current directory when the storage opens). Parent folders are created.

How it stays free of "database is locked":

- WAL journal mode: readers see the last committed snapshot and never block the writer;
  ``synchronous=NORMAL`` (durable at checkpoints, never corrupt), foreign keys on.
- One writer per process per file: every storage on the same file in this process shares one
  lock, so threads queue in Python instead of inside SQLite.
- Every write is a ``BEGIN IMMEDIATE`` transaction: it takes SQLite's write lock up front, so
  processes queue on SQLite's busy timeout (``busy_timeout``, 30 s by default) instead of
  failing when a read transaction tries to turn into a write.
- If SQLite still reports the database locked or busy, the transaction is retried with
  backoff until a deadline (twice the busy timeout); then ``StorageError`` says which database,
  how long weir waited and what to do. "database is locked" never escapes as such.

pysqlite's own transaction handling is switched off (``isolation_level=None``); the storage
emits ``BEGIN`` / ``BEGIN IMMEDIATE`` itself, as the SQLAlchemy documentation recommends.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from weir._instance import sql_schema as schema
from weir._instance.sql_storage import SqlInstanceStorage
from weir.errors import StorageError, WeirError

__all__ = ["DEFAULT_BUSY_TIMEOUT", "SqliteInstanceStorage", "sqlite_path_from_url"]

_T = TypeVar("_T")

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 30.0
"""Seconds a connection waits for SQLite's lock before SQLite reports the database busy."""

_LOCKED_MESSAGES = ("database is locked", "database is busy", "database table is locked")

_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)
_EVENT_COLUMNS = tuple(c.name for c in schema.event_logs.columns if c.name != "id")
_INSERT_PAGE = 100  # rows per INSERT: 700 parameters, under SQLite's oldest limit of 999
_insert_sql_cache: dict[int, str] = {}


def _insert_sql(rows: int) -> str:
    sql = _insert_sql_cache.get(rows)
    if sql is None:
        quote = sqlite_dialect().identifier_preparer.quote
        one = "(" + ", ".join("?" * len(_EVENT_COLUMNS)) + ")"
        columns = ", ".join(quote(c) for c in _EVENT_COLUMNS)
        sql = (
            f"INSERT INTO {quote(schema.event_logs.name)} ({columns}) VALUES "
            + ", ".join([one] * rows)
            + (" RETURNING id" if _HAS_RETURNING else "")
        )
        _insert_sql_cache[rows] = sql
    return sql


# (index, "rows  rows-per-first-column  rows-per-first-two ...") of a large event log
_PLANNER_STATS = (
    ("ix_event_logs_run_id_id", "1000000 500 1"),
    ("ix_event_logs_asset_key_dagster_event_type_partition_id", "100000 100 50 2 1"),
    ("ix_event_logs_dagster_event_type_id", "1000000 20000 1"),
)

# One writer lock per database file in this process, shared by every storage on that file.
_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(path: str) -> threading.RLock:
    lock = _writer_locks.get(path)
    if lock is None:
        with _writer_locks_guard:
            lock = _writer_locks.setdefault(path, threading.RLock())
    return lock


def _reset_writer_locks_in_child() -> None:
    # A forked child must not inherit a lock another thread of the parent held at fork time.
    global _writer_locks_guard
    _writer_locks.clear()
    _writer_locks_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_writer_locks_in_child)


def _is_locked(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    text = str(orig).lower()
    return any(m in text for m in _LOCKED_MESSAGES)


def sqlite_path_from_url(url: str) -> str:
    """The absolute file path of a ``sqlite:///`` URL; raises ``StorageError`` for other URLs."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        msg = "The SQLite storage URL does not parse; write sqlite:///<path to weir.db>."
        raise StorageError(msg) from exc
    if parsed.get_backend_name() != "sqlite":
        msg = f"{parsed.render_as_string(hide_password=True)!r} is not a sqlite:// URL."
        raise StorageError(msg)
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        msg = (
            f"The SQLite URL {url!r} names no file: the instance needs a database file "
            "(sqlite:///path/to/weir.db). For an in-memory instance use Instance.ephemeral()."
        )
        raise StorageError(msg)
    return os.path.abspath(os.path.expanduser(database))


class SqliteInstanceStorage(SqlInstanceStorage):
    """Instance storage in one SQLite file (WAL, busy timeout, one writer per process).

    Args:
        url: ``sqlite:///`` + the path of the database file, e.g. ``sqlite:////srv/weir/weir.db``
            or ``sqlite:///.weir/weir.db`` (relative to the current directory). The query
            option ``?busy_timeout=SECONDS`` sets the busy timeout.
        busy_timeout: Seconds to wait for another process's write lock before retrying
            (default 30). Writes give up, with a ``StorageError``, after twice this long.

    Example::

        storage = SqliteInstanceStorage("sqlite:////tmp/weir-demo/weir.db")
        storage.get_runs_count()   # creates the file and the tables on first use
    """

    def __init__(self, url: str, *, busy_timeout: float | None = None) -> None:
        self.path = sqlite_path_from_url(url)  # validates the URL first
        parsed = sa.engine.make_url(url)
        query = dict(parsed.query)
        option = query.pop("busy_timeout", None)
        if busy_timeout is None:
            try:
                busy_timeout = float(option) if option is not None else DEFAULT_BUSY_TIMEOUT  # type: ignore[arg-type]
            except ValueError as exc:
                msg = (
                    f"busy_timeout={option!r} in the SQLite URL {url!r} is not a number of seconds."
                )
                raise StorageError(msg) from exc
        if busy_timeout < 0:
            msg = f"busy_timeout must be >= 0 seconds, got {busy_timeout}."
            raise StorageError(msg)
        self.busy_timeout = busy_timeout
        self.write_deadline = 2 * busy_timeout
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        except OSError as exc:
            msg = (
                f"Cannot create the folder of the SQLite instance database {self.path}: {exc}. "
                "Choose a path in a writable folder."
            )
            raise StorageError(msg) from exc
        engine = sa.create_engine(
            parsed.set(drivername="sqlite+pysqlite", database=self.path, query=query),
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _connect_hook(busy_timeout))
        sa.event.listen(engine, "begin", _begin_hook)
        self._lock_key = os.path.realpath(self.path)
        self._writer: Connection | None = None
        super().__init__(engine, display_url=f"sqlite:///{self.path}")

    # -- transactions ---------------------------------------------------------------------------
    def _run_write(
        self, operation: str, work: Callable[[Connection], _T], *, migration: bool = False
    ) -> _T:
        started = time.monotonic()
        lock = _writer_lock(self._lock_key)
        # Threads queue here; the one holding the lock waits at most write_deadline on SQLite.
        if not lock.acquire(timeout=2 * max(self.write_deadline, 1.0)):
            msg = (
                f"Could not {operation} in the SQLite instance database {self.path}: another "
                f"thread of this process kept its writer lock for "
                f"{time.monotonic() - started:.1f} s. A write of that thread is stuck; look for "
                "a long transaction in this process."
            )
            raise StorageError(msg)
        try:
            attempt = lambda: self._write_once(work, migration)  # noqa: E731
            return self._retry(operation, time.monotonic(), attempt)
        finally:
            lock.release()

    def _write_once(self, work: Callable[[Connection], _T], migration: bool) -> _T:
        conn = self._writer
        if conn is None or conn.closed or conn.invalidated:
            # The writer's own connection, kept open: all writes of this storage go through it
            # under the writer lock, which saves a pool checkout per transaction.
            conn = self._writer = self._engine.connect()
        raw: Any = conn.connection.driver_connection
        try:
            if migration:  # table rebuilds must not fire ON DELETE CASCADE; outside a transaction
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                # BEGIN IMMEDIATE on the DB-API connection: the hot path runs plain DB-API
                # statements; SQLAlchemy statements of ``work`` join the open transaction.
                raw.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.rollback() if conn.in_transaction() else raw.rollback()
                    raise
                conn.commit() if conn.in_transaction() else raw.commit()
                return result
            finally:
                if migration:
                    raw.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            self._writer = None  # start the next write on a fresh connection
            conn.close()
            raise

    def _forget_connections(self) -> None:
        self._writer = None
        super()._forget_connections()

    def dispose(self) -> None:
        """Close the writer connection and every pooled connection."""
        with _writer_lock(self._lock_key):
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        super().dispose()

    def _run_read(self, operation: str, work: Callable[[Connection], _T]) -> _T:
        started = time.monotonic()
        return self._retry(operation, started, lambda: self._read_once(work))

    def _retry(self, operation: str, started: float, attempt: Callable[[], _T]) -> _T:
        delay = 0.005
        while True:
            try:
                return attempt()
            except WeirError:
                raise
            except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
                if not _is_locked(exc):
                    raise self._storage_error(operation, exc) from exc
                waited = time.monotonic() - started
                if waited >= self.write_deadline:
                    raise self._locked_error(operation, waited) from exc
                self._log_locked(operation, waited)
                time.sleep(min(delay * (1 + random.random()), max(self.write_deadline - waited, 0)))
                delay = min(delay * 2, 1.0)

    def _schema_ready_hook(self, conn: Connection) -> None:
        """Give SQLite's query planner statistics for the event log before it has data.

        Without statistics SQLite answers "the newest materialization of asset X" by walking
        every asset's materializations backwards (the type index gives the order for free).
        These rows say what a real event log looks like (many events per type, few per asset),
        so it picks the asset index; a later ``ANALYZE`` replaces them with measured figures.
        """
        conn.exec_driver_sql("ANALYZE sqlite_master")  # creates sqlite_stat1 if missing
        seeded = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?", (schema.event_logs.name,)
        ).scalar()
        if not seeded:
            conn.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                [(schema.event_logs.name, index, stat) for index, stat in _PLANNER_STATS],
            )
            conn.exec_driver_sql("ANALYZE sqlite_master")  # this connection reloads them

    # -- the hot path: plain DB-API statements, compiled once -------------------------------------
    def _insert_event_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """One multi-row INSERT per page of rows; the ids come back in insertion order.

        Under the write lock nobody else inserts, and AUTOINCREMENT hands out consecutive ids
        within one statement, so sorting the returned ids (or counting back from the last one
        on SQLite < 3.35, which lacks RETURNING) gives each row its id.
        """
        raw = conn.connection.driver_connection
        ids: list[int] = []
        for start in range(0, len(rows), _INSERT_PAGE):
            page = rows[start : start + _INSERT_PAGE]
            params = [row[column] for row in page for column in _EVENT_COLUMNS]
            cursor = raw.execute(_insert_sql(len(page)), params)  # type: ignore[union-attr]
            if _HAS_RETURNING:
                ids.extend(sorted(r[0] for r in cursor.fetchall()))
            else:
                last = int(cursor.lastrowid)
                ids.extend(range(last - len(page) + 1, last + 1))
        return ids

    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        update: Sequence[str],
    ) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        cache_key = ("raw-upsert", table.name, columns, tuple(keys), tuple(update))
        compiled = self._statements.get(cache_key)
        if compiled is None:
            base = sqlite_insert(table)
            stmt = (
                base.on_conflict_do_update(
                    index_elements=list(keys), set_={c: base.excluded[c] for c in update}
                )
                if update
                else base.on_conflict_do_nothing(index_elements=list(keys))
            )
            sql = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
            compiled = (sql.string, tuple(sql.positiontup or ()))
            self._statements[cache_key] = compiled
        text, order = compiled
        params = [tuple(row[name] for name in order) for row in rows]
        conn.connection.driver_connection.executemany(text, params)  # type: ignore[union-attr]

    def _log_locked(self, operation: str, waited: float) -> None:
        logger.debug(
            "%s is locked by another process after %.1f s (%s); retrying",
            self.display_url,
            waited,
            operation,
        )

    def _locked_error(self, operation: str, waited: float) -> StorageError:
        msg = (
            f"Could not {operation} in the SQLite instance database {self.path}: another process "
            f"kept it locked for {waited:.1f} s (busy timeout {self.busy_timeout:g} s, retried "
            f"until {self.write_deadline:g} s). Find the process holding it (e.g. `fuser "
            f"{self.path}`), raise busy_timeout (?busy_timeout=SECONDS in the URL), or use "
            "PostgreSQL for many concurrent writers."
        )
        return StorageError(msg)

    def _describe_error(self, operation: str, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig)
        lowered = text.lower()
        if "file is not a database" in lowered or "file is encrypted" in lowered:
            return (
                f"Could not {operation}: {self.path} is not a SQLite database ({text}). Point the "
                "instance at a weir database file, or move this file away so weir creates one."
            )
        if "unable to open database file" in lowered:
            return (
                f"Could not {operation}: SQLite cannot open {self.path} ({text}). Check that the "
                "folder exists and that this user may read and write it."
            )
        if "readonly" in lowered or "read-only" in lowered:
            return (
                f"Could not {operation}: {self.path} is read-only ({text}). Give this user write "
                "access to the file and its folder (SQLite also writes -wal and -shm files there)."
            )
        if "disk" in lowered and ("full" in lowered or "i/o" in lowered):
            return (
                f"Could not {operation} in {self.path}: {text}. Free disk space or check the "
                "device; the database itself stays consistent."
            )
        return super()._describe_error(operation, exc)


def _connect_hook(busy_timeout: float) -> Callable[[Any, Any], None]:
    milliseconds = int(busy_timeout * 1000)

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # the storage issues BEGIN itself
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is not None and str(mode[0]).lower() != "wal":
                logger.warning(
                    "SQLite kept journal mode %r instead of WAL (is the file on a network drive?); "
                    "readers may block the writer.",
                    mode[0],
                )
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return on_connect


def _begin_hook(conn: Connection) -> None:
    if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN")  # a read snapshot; writes begin IMMEDIATE themselves
