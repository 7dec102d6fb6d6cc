"""``DuckDBResource`` and the connection lane every DuckDB connection of weir goes through.

DuckDB lets one process at a time open a database file for writing: a second process that calls
``duckdb.connect(path)`` fails at once with ``IOException: Could not set lock on file``. Parallel
steps of a multiprocess run, or two runs at once, hit this. :func:`duckdb_connection` gives them a
lane: it retries the connect with jittered exponential backoff until ``lock_timeout_s`` has
passed, then raises :class:`DuckDBLockTimeoutError` naming the file, the deadline and the process
DuckDB says holds the lock. Threads of one process share DuckDB's database instance, so they are
serialised by a per-file lock instead (DuckDB's optimistic transactions would otherwise abort one
of two writers to the same table).

Keep connections short: the file is locked for every other process while one is open.
``duckdb`` is imported when a connection is made, not on import.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

import weir as dg
from weir.errors import ResourceError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "DuckDBConnectionError",
    "DuckDBLockTimeoutError",
    "DuckDBResource",
    "duckdb_connection",
]

logger = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT_S = 120.0
USER_AGENT = "weir"
_FIRST_BACKOFF_S = 0.01
_MAX_BACKOFF_S = 0.5

_file_locks: dict[str, threading.RLock] = {}
_file_locks_guard = threading.Lock()


class DuckDBConnectionError(ResourceError):
    """DuckDB could not open the database (a bad path, a corrupt file, a bad config option)."""


class DuckDBLockTimeoutError(DuckDBConnectionError):
    """Another process kept the database file locked past the lane's deadline."""


def is_in_memory(database: str) -> bool:
    """Whether ``database`` names an in-memory database (``:memory:``, ``:memory:name`` or "")."""
    return database == "" or database.startswith(":memory:")


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _thread_lock(database: str) -> threading.RLock:
    key = database if is_in_memory(database) else os.path.realpath(database)
    with _file_locks_guard:
        lock = _file_locks.get(key)
        if lock is None:
            lock = _file_locks[key] = threading.RLock()
        return lock


def _connect_once(database: str, config: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    import duckdb

    return duckdb.connect(database, read_only=False, config=dict(config))


@contextmanager
def duckdb_connection(
    database: str,
    connection_config: Mapping[str, Any] | None = None,
    *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to ``database``, opened through the lane and closed on exit.

    Raises:
        DuckDBLockTimeoutError: another process held the file lock for ``lock_timeout_s``.
        DuckDBConnectionError: DuckDB refused to open the database for another reason.
    """
    import duckdb

    config = {"custom_user_agent": USER_AGENT, **(connection_config or {})}
    with _thread_lock(database):
        deadline = time.monotonic() + lock_timeout_s
        backoff = _FIRST_BACKOFF_S
        attempts = 0
        while True:
            attempts += 1
            try:
                conn = _connect_once(database, config)
                break
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    msg = (
                        f"DuckDB could not open database {database!r}: {str(exc).strip()}. Check "
                        "that the folder exists and is writable, that the file is a DuckDB "
                        "database, and the connection_config options."
                    )
                    raise DuckDBConnectionError(msg) from exc
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = (
                        f"DuckDB database file {database!r} stayed locked by another process for "
                        f"{lock_timeout_s:g} s (lock_timeout_s; {attempts} attempt"
                        f"{'s' if attempts != 1 else ''}). DuckDB "
                        f"allows one writing process per file; DuckDB said: {str(exc).strip()}. "
                        "Close other programs holding the file open (a notebook, the DuckDB "
                        "CLI), keep connections short, or raise lock_timeout_s."
                    )
                    raise DuckDBLockTimeoutError(msg) from exc
                pause = min(backoff * random.uniform(0.5, 1.5), remaining)
                logger.debug("database %s is locked; retrying in %.3f s", database, pause)
                time.sleep(pause)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
        if attempts > 1:
            logger.debug("opened %s after %d attempts", database, attempts)
        try:
            yield conn
        finally:
            conn.close()


class DuckDBResource(dg.ConfigurableResource):
    """A DuckDB database file as a resource: ``get_connection()`` opens a connection.

    Example::

        import weir as dg
        from weir_io_duckdb import DuckDBResource

        @dg.asset
        def iris_count(duckdb: DuckDBResource) -> int:
            with duckdb.get_connection() as conn:
                return conn.execute("SELECT count(*) FROM iris.iris_dataset").fetchone()[0]

        defs = dg.Definitions(
            assets=[iris_count], resources={"duckdb": DuckDBResource(database="warehouse.duckdb")}
        )
    """

    plugin_name: ClassVar[str] = "duckdb"

    database: str = Field(
        description="Path to the DuckDB database file (created when missing), or ':memory:'."
    )
    connection_config: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "DuckDB configuration options passed to duckdb.connect(config=...), e.g. "
            "{'threads': 4, 'memory_limit': '2GB'}."
        ),
    )
    lock_timeout_s: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        description=(
            "How long to keep retrying, with backoff, while another process holds the file's "
            "write lock, before failing."
        ),
    )

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection, closed when the block ends.

        Raises:
            DuckDBLockTimeoutError: another process kept the file locked past ``lock_timeout_s``.
            DuckDBConnectionError: the database could not be opened.
        """
        with duckdb_connection(
            self.database, self.connection_config, lock_timeout_s=self.lock_timeout_s
        ) as conn:
            yield conn
