"""``PostgresInstanceStorage``: the instance's runs, events and state in a PostgreSQL database.

A thin subclass of weir's dialect-neutral SQL storage: it builds the engine (psycopg 3 driver,
``pool_pre_ping`` so a server restart costs a reconnect rather than an error, an optional
statement timeout) and words connection errors for PostgreSQL. Tables, migrations, upserts
(``ON CONFLICT``) and the schema-creation lock (a transaction-level advisory lock) live in the
core. The plugin returns it for ``postgresql://`` and ``postgresql+psycopg://`` URLs::

    # $WEIR_HOME/weir.yaml
    storage:
      postgres:
        postgres_url: {env: WEIR_PG_URL}   # postgresql://weir:...@db.internal:5432/weir

URL query options taken by the storage (the others go to libpq): ``statement_timeout`` (seconds)
and ``connect_timeout`` (seconds, default 10).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from weir.errors import StorageError
from weir.storage import SqlInstanceStorage

__all__ = ["PostgresInstanceStorage"]

logger = logging.getLogger(__name__)

DRIVER = "postgresql+psycopg"
_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def _seconds(value: Any, name: str, url: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        msg = f"{name}={value!r} in the PostgreSQL storage URL {url} is not a number of seconds."
        raise StorageError(msg) from None
    if seconds < 0:
        msg = f"{name} must be >= 0 seconds, got {seconds:g} (in {url})."
        raise StorageError(msg)
    return seconds


class PostgresInstanceStorage(SqlInstanceStorage):
    """Instance storage in a PostgreSQL database (runs, event log, asset indexes, state, ticks).

    Args:
        url: ``postgresql://user:password@host:5432/database`` (``postgresql+psycopg://`` too).
            The password is never shown: reprs and errors use the URL with it masked.
        statement_timeout: Seconds after which the server cancels a statement of the storage
            (default: none; also ``?statement_timeout=`` in the URL).
        connect_timeout: Seconds to wait for a connection (default 10).
        pool_size: Connections kept open per process (SQLAlchemy's pool, default 5).

    Example::

        storage = PostgresInstanceStorage("postgresql://weir@localhost/weir")
        storage.get_runs_count()   # creates the tables on first use
    """

    def __init__(
        self,
        url: str,
        *,
        statement_timeout: float | None = None,
        connect_timeout: float | None = None,
        pool_size: int = 5,
    ) -> None:
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            msg = (
                "The PostgreSQL storage URL does not parse; write "
                "postgresql://user:password@host:5432/database."
            )
            raise StorageError(msg) from exc
        display = parsed.render_as_string(hide_password=True)
        if parsed.drivername not in _SCHEMES:
            msg = f"{display} is not a postgresql:// URL."
            raise StorageError(msg)
        query = dict(parsed.query)
        raw_timeout = query.pop("statement_timeout", None)
        raw_connect = query.pop("connect_timeout", None)
        if statement_timeout is None and raw_timeout is not None:
            statement_timeout = _seconds(raw_timeout, "statement_timeout", display)
        if connect_timeout is None:
            connect_timeout = (
                _seconds(raw_connect, "connect_timeout", display) if raw_connect is not None else 10
            )
        connect_args: dict[str, Any] = {
            "connect_timeout": max(1, round(connect_timeout)),
            "application_name": query.pop("application_name", "weir-instance"),
        }
        if statement_timeout:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
        self.statement_timeout = statement_timeout
        engine = sa.create_engine(
            parsed.set(drivername=DRIVER, query=query),
            pool_pre_ping=True,
            pool_size=pool_size,
            connect_args=connect_args,
        )
        super().__init__(engine, display_url=display)

    def _describe_error(self, operation: str, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        password = self.engine.url.password
        text = str(orig).strip() or type(orig).__name__
        if password:
            text = text.replace(str(password), "***")
        first = text.splitlines()[0]
        url = self.engine.url
        where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        if isinstance(exc, sa.exc.OperationalError) or getattr(
            exc, "connection_invalidated", False
        ):
            return (
                f"Could not {operation}: the instance storage lost or could not open its connection "
                f"to PostgreSQL at {where} ({type(orig).__name__}: {first}). Check that the server "
                "is running and reachable and that the URL's user, password and database are right; "
                "the transaction was not committed."
            )
        if "statement timeout" in text.lower():
            return (
                f"Could not {operation}: PostgreSQL at {where} cancelled the statement after the "
                f"storage's statement_timeout ({self.statement_timeout:g} s). Raise it, or find "
                "what blocks the weir tables (pg_stat_activity)."
            )
        return super()._describe_error(operation, exc)
