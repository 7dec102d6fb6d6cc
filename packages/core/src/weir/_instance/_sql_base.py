"""The plumbing under :class:`~weir._instance.sql_storage.SqlInstanceStorage`: engine,
transactions, schema and the statements of the hot path.

:class:`SqlStorageBase` holds what every part of the SQL storage builds on, and the hooks that
backends override (listed in :mod:`weir._instance.sql_storage`): ``_run_write``, ``_run_read``,
``_describe_error``, ``_lock_schema_creation``, ``_schema_ready_hook``, ``_insert_event_rows``
and ``_upsert``. Opening a storage does not touch the database; the first operation checks the
schema (:mod:`weir._instance.migrations`). The query helpers here (``key_string``, ``chunks``,
``page``, ``bounds``, ``new_id``) are shared by the runs/events, asset and state parts.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from weir._instance import sql_schema as schema
from weir._instance.migrations import check_revision, create_schema, read_schema, upgrade_to_head
from weir._instance.storage import InstanceStorage
from weir._model.asset_key import AssetKey
from weir.errors import StorageError, WeirError

__all__ = [
    "EVENT_ORDER_LOCK",
    "SqlStorageBase",
    "Work",
    "bounds",
    "chunks",
    "key_string",
    "new_id",
    "page",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
Work = Callable[[Connection], _T]
"""A unit of work run in one transaction: it gets the connection and returns its result."""

EVENT_ORDER_LOCK = 0x7765697200000001
"""The PostgreSQL advisory lock key that orders event-writing transactions ("weir" + 1)."""
_IN_CHUNK = 500  # values per IN (...) list, well under every database's bound-parameter limit

_events = schema.event_logs

_key_strings: dict[AssetKey, str] = {}
_live_storages: weakref.WeakSet[SqlStorageBase] = weakref.WeakSet()


def key_string(key: Any) -> str:
    """``AssetKey.to_string()``, memoised: the hot path stores the same few keys again and again."""
    if not isinstance(key, AssetKey):
        key = AssetKey.from_coercible(key)
    text = _key_strings.get(key)
    if text is None:
        text = key.to_string()
        if len(_key_strings) < 65536:
            _key_strings[key] = text
    return text


def chunks(values: Sequence[_T], size: int = _IN_CHUNK) -> Iterable[Sequence[_T]]:
    """``values`` in slices of at most ``size`` (one ``IN (...)`` list each)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def new_id(result: Any) -> int:
    """The primary key of the row an ``INSERT`` result inserted."""
    return int(result.inserted_primary_key[0])


def page(query: Any, order: Any, ascending: bool, limit: int | None) -> Any:
    """``query`` ordered by ``order`` and cut to ``limit`` rows (None: all)."""
    query = query.order_by(order.asc() if ascending else order.desc())
    return query.limit(max(limit, 0)) if limit is not None else query


def bounds(column: Any, after: Any, before: Any) -> list[Any]:
    """Exclusive bounds on ``column`` (None: unbounded)."""
    return [
        *([column > after] if after is not None else []),
        *([column < before] if before is not None else []),
    ]


def _after_fork_in_child() -> None:
    # Pooled connections belong to the parent; the child must open its own.
    for storage in list(_live_storages):
        storage._forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class SqlStorageBase(InstanceStorage):
    """Engine, transactions, schema and statement helpers of the SQL storage (see the module
    docstring); :class:`~weir._instance.sql_storage.SqlInstanceStorage` builds on it."""

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

    def _lock_event_order(self, conn: Connection) -> None:
        """Make event-writing transactions commit in storage-id order (inside the transaction,
        before its insert).

        PostgreSQL hands out ids when rows are inserted but shows them when their transaction
        commits: two concurrent writers could commit id 8 before id 7, and a reader that saw 8
        and moved its cursor past it would never see 7. A transaction-level advisory lock,
        taken before the insert and released at commit, orders the writers (a batch is one
        step's events, so they wait milliseconds). SQLite serializes its writers anyway.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ORDER_LOCK})

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
        return [new_id(conn.execute(_events.insert(), [row])) for row in rows]

    def _rows(self, operation: str, query: Any) -> list[Any]:
        return self._read(operation, lambda conn: list(conn.execute(query).all()))

    def _values(self, operation: str, query: Any) -> list[Any]:
        return self._read(operation, lambda conn: list(conn.execute(query).scalars()))

    def _change(self, operation: str, stmt: Any) -> int:
        return int(self._write(operation, lambda conn: conn.execute(stmt).rowcount))
