"""DuckDB IO managers: frames as DuckDB tables, partition by partition.

* :class:`DuckDBIOManager` -- the generic manager, configured with ``database``,
  ``connection_config``, ``schema`` and ``lock_timeout_s``; a subclass says which types it handles
  with the static ``type_handlers()`` and what an unannotated input loads as with
  ``default_load_type()``.
* :class:`DuckDBPandasIOManager`, :class:`DuckDBPyArrowIOManager`, :class:`DuckDBPolarsIOManager`
  -- ready-made managers. Each stores pandas DataFrames, pyarrow Tables and (when installed)
  polars frames; they differ in what an unannotated input loads as.

The table mapping (schema, table, ``partition_expr``, ``columns``) is Dagster's and is described in
:mod:`weir.table_slice`. Storing an output is one transaction: create the schema when
missing, delete the rows being replaced (all rows, or the partition's rows), then the type handler
inserts the value through Arrow, creating the table from it when missing. When any statement
fails, the transaction rolls back and the table keeps its previous rows. Every connection goes
through the lane of :mod:`weir_io_duckdb.resource`, so parallel writers wait for the file lock
instead of failing.
"""

from __future__ import annotations

import inspect
import logging
import threading
import typing
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from pydantic import Field

import weir as dg
from weir.errors import DefinitionError, InvariantViolationError, LoadInputError, WeirError
from weir_io_duckdb.resource import DEFAULT_LOCK_TIMEOUT_S, duckdb_connection, is_in_memory
from weir_io_duckdb.table_slice import slice_for_input, slice_for_output
from weir_io_duckdb.type_handlers import (
    DbTypeHandler,
    DuckDBPandasTypeHandler,
    DuckDBPolarsTypeHandler,
    DuckDBPyArrowTypeHandler,
    DuckDBWriteError,
    polars_installed,
    table_column_types,
)

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DuckDBDbIOManager",
    "DuckDBIOManager",
    "DuckDBPandasIOManager",
    "DuckDBPolarsIOManager",
    "DuckDBPyArrowIOManager",
]

logger = logging.getLogger(__name__)

_NONE_OUTPUT = (
    "Unexpected 'None' output value. If a 'None' value is intentional, set the output type to "
    "None by adding return type annotation '-> None'."
)
_UNTYPED = (typing.Any, object, inspect.Parameter.empty, None)


def _all_handlers() -> list[DbTypeHandler]:
    handlers: list[DbTypeHandler] = [DuckDBPandasTypeHandler(), DuckDBPyArrowTypeHandler()]
    if polars_installed():
        handlers.append(DuckDBPolarsTypeHandler())
    return handlers


class DuckDBDbIOManager(dg.IOManager):
    """The live IO manager a :class:`DuckDBIOManager` creates for a run (not configured directly)."""

    def __init__(
        self,
        *,
        database: str,
        connection_config: dict[str, Any],
        schema: str | None,
        lock_timeout_s: float,
        type_handlers: Sequence[DbTypeHandler],
        default_load_type: type | None,
        io_manager_name: str,
    ) -> None:
        self.database = database
        self.connection_config = connection_config
        self.schema = schema
        self.lock_timeout_s = lock_timeout_s
        self.type_handlers = list(type_handlers)
        self.default_load_type = default_load_type
        self.io_manager_name = io_manager_name
        self._memory_conn: duckdb.DuckDBPyConnection | None = None
        self._memory_lock = threading.Lock()

    # -- connections ------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not is_in_memory(self.database):
            with duckdb_connection(
                self.database, self.connection_config, lock_timeout_s=self.lock_timeout_s
            ) as conn:
                yield conn
            return
        # an in-memory database vanishes with its last connection: keep one for the run
        with self._memory_lock:
            if self._memory_conn is None:
                import duckdb

                self._memory_conn = duckdb.connect(self.database, config=self.connection_config)
            cursor = self._memory_conn.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    # -- handlers ---------------------------------------------------------------------------
    def _no_handler(self, obj_type: Any) -> InvariantViolationError:
        known = ", ".join(str(t) for h in self.type_handlers for t in h.supported_types)
        return InvariantViolationError(
            f"{self.io_manager_name} does not have a handler for type '{obj_type}'. Has handlers "
            f"for types '{known}'. Please build the {self.io_manager_name} with an type handler "
            f"for type '{obj_type}', so the {self.io_manager_name} can correctly handle the output."
        )

    def _handler_for_value(self, obj: Any) -> DbTypeHandler:
        for handler in self.type_handlers:
            if isinstance(obj, tuple(handler.supported_types)):
                return handler
        raise self._no_handler(type(obj))

    def _handler_for_input(self, context: Any) -> DbTypeHandler:
        wanted = getattr(getattr(context, "dagster_type", None), "typing_type", None)
        if wanted in _UNTYPED:
            wanted = self.default_load_type
            if wanted is None:
                return self.type_handlers[0]
        for handler in self.type_handlers:
            for supported in handler.supported_types:
                if wanted is supported or (
                    isinstance(wanted, type) and issubclass(wanted, supported)
                ):
                    return handler
        raise self._no_handler(wanted)

    # -- storing ----------------------------------------------------------------------------
    def handle_output(self, context: Any, obj: Any) -> None:
        """Replace the asset's rows (or its partition's rows) with ``obj`` in one transaction."""
        if obj is None:
            if getattr(context.dagster_type, "is_nothing", False):
                return
            raise InvariantViolationError(_NONE_OUTPUT)
        handler = self._handler_for_value(obj)
        table_slice = slice_for_output(context, self.schema)
        import duckdb

        with self._connection() as conn:
            table_slice = replace(table_slice, database=_catalog(conn))
            conn.execute("BEGIN TRANSACTION")
            try:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {table_slice.qualified_schema}")
                # an Arrow handler replaces an unpartitioned table's rows itself (faster)
                if table_slice.partitioned or not getattr(handler, "replaces_rows", False):
                    existing = table_column_types(conn, table_slice)
                    if existing is not None:
                        where, params = table_slice.where(existing)
                        conn.execute(f"DELETE FROM {table_slice.qualified}{where}", params)
                metadata = dict(handler.handle_output(context, table_slice, obj, conn) or {})
                columns = table_column_types(conn, table_slice)
                conn.execute("COMMIT")
            except BaseException as exc:
                _rollback_quietly(conn)
                if isinstance(exc, WeirError) or not isinstance(exc, duckdb.Error):
                    raise
                msg = (
                    f"Storing {table_slice.what} in table {table_slice.qualified} of DuckDB "
                    f"database {self.database!r} failed, and the transaction was rolled back: "
                    f"the table keeps its previous rows. DuckDB said: {str(exc).strip()}"
                )
                raise DuckDBWriteError(msg, user_exception=exc) from exc
        if columns is not None:
            metadata["dataframe_columns"] = dg.MetadataValue.table_schema(
                dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in columns.items()])
            )
        metadata["dagster/table_name"] = (
            f"{table_slice.database}.{table_slice.schema}.{table_slice.table}"
        )
        context.add_output_metadata(metadata)

    # -- loading ----------------------------------------------------------------------------
    def load_input(self, context: Any) -> Any:
        """The upstream table's rows (this run's partitions, the ``columns`` metadata subset) as
        the input's annotated type, else as ``default_load_type()``."""
        handler = self._handler_for_input(context)
        table_slice = slice_for_input(context, self.schema)
        import duckdb

        with self._connection() as conn:
            table_slice = replace(table_slice, database=_catalog(conn))
            try:
                return handler.load_input(context, table_slice, conn)
            except duckdb.Error as exc:
                msg = (
                    f"Loading {table_slice.what} from table {table_slice.qualified} of DuckDB "
                    f"database {self.database!r} failed. DuckDB said: {str(exc).strip()}"
                )
                raise LoadInputError(msg, user_exception=exc) from exc


def _catalog(conn: duckdb.DuckDBPyConnection) -> str:
    row = conn.execute("SELECT current_database()").fetchone()
    return str(row[0]) if row else "memory"


def _rollback_quietly(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute("ROLLBACK")
    except Exception:  # no transaction left (DuckDB ends an aborted one itself); keep the original
        logger.debug("rollback after a failed write failed too", exc_info=True)


# pydantic warns that a field called "schema" shadows BaseModel.schema(), a deprecated v1 method
# weir never calls. Dagster's users write schema=..., so the field keeps that name.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class DuckDBIOManager(dg.ConfigurableIOManagerFactory):
        """Stores outputs as tables of a DuckDB database; subclasses choose the types.

        Implement the static ``type_handlers()`` (the :class:`DbTypeHandler` objects) and
        optionally ``default_load_type()`` (what an unannotated input loads as)::

            class MyDuckDBIOManager(DuckDBIOManager):
                @staticmethod
                def type_handlers():
                    return [DuckDBPandasTypeHandler(), MyTypeHandler()]

                @staticmethod
                def default_load_type():
                    return pd.DataFrame

        Output metadata: ``dagster/row_count`` (``dagster/partition_row_count`` for a
        partition), ``dataframe_columns`` and ``dagster/table_name`` (``catalog.schema.table``).
        """

        database: str = Field(
            description="Path to the DuckDB database file (created when missing), or ':memory:'."
        )
        connection_config: dict[str, Any] = Field(
            default_factory=dict,
            description="DuckDB configuration options for duckdb.connect(config=...).",
        )
        schema: Optional[str] = Field(  # type: ignore[assignment]
            default=None,
            description=(
                "Schema for every table, unless the asset's 'schema' metadata says otherwise "
                "(default: the asset key's second-to-last part, else 'public')."
            ),
        )
        lock_timeout_s: float = Field(
            default=DEFAULT_LOCK_TIMEOUT_S,
            description=(
                "How long to keep retrying, with backoff, while another process holds the "
                "database file's lock, before failing."
            ),
        )

        @staticmethod
        def type_handlers() -> Sequence[DbTypeHandler]:
            """The handlers of the types this manager stores and loads (override)."""
            return []

        @staticmethod
        def default_load_type() -> type | None:
            """What an input without a type annotation loads as (None: the first handler's)."""
            return None

        def create_io_manager(self, context: Any) -> DuckDBDbIOManager:
            handlers = list(self.type_handlers())
            if not handlers:
                msg = (
                    f"{type(self).__name__} has no type handlers. Use DuckDBPandasIOManager (or "
                    "DuckDBPyArrowIOManager, DuckDBPolarsIOManager), or subclass DuckDBIOManager "
                    "with a static type_handlers() returning DbTypeHandler objects."
                )
                raise DefinitionError(msg)
            return DuckDBDbIOManager(
                database=self.database,
                connection_config=dict(self.connection_config),
                schema=self.schema,
                lock_timeout_s=self.lock_timeout_s,
                type_handlers=handlers,
                default_load_type=self.default_load_type(),
                io_manager_name=type(self).__name__,
            )


class DuckDBPandasIOManager(DuckDBIOManager):
    """Stores pandas DataFrames as DuckDB tables and loads them back (Dagster's name and config).

    Also stores pyarrow Tables and polars frames; an unannotated input loads as a DataFrame.

    Example::

        import pandas as pd
        import weir as dg
        from weir_io_duckdb import DuckDBPandasIOManager

        @dg.asset(key_prefix=["analytics"])            # -> table analytics.orders
        def orders() -> pd.DataFrame:
            return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})

        @dg.asset(
            partitions_def=dg.DailyPartitionsDefinition("2024-01-01"),
            metadata={"partition_expr": "day"},         # the column holding the partition
        )
        def events(context) -> pd.DataFrame: ...

        defs = dg.Definitions(
            assets=[orders, events],
            resources={"io_manager": DuckDBPandasIOManager(database="warehouse.duckdb")},
        )
    """

    plugin_name: ClassVar[str] = "duckdb_pandas"

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return _all_handlers()

    @staticmethod
    def default_load_type() -> type | None:
        import pandas as pd

        return pd.DataFrame


class DuckDBPyArrowIOManager(DuckDBIOManager):
    """Like :class:`DuckDBPandasIOManager`; an unannotated input loads as a ``pyarrow.Table``."""

    plugin_name: ClassVar[str] = "duckdb_pyarrow"

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        handlers = _all_handlers()
        return [handlers[1], handlers[0], *handlers[2:]]

    @staticmethod
    def default_load_type() -> type | None:
        import pyarrow as pa

        return pa.Table


class DuckDBPolarsIOManager(DuckDBIOManager):
    """Like :class:`DuckDBPandasIOManager`; an unannotated input loads as a ``polars.DataFrame``.

    Needs polars (``pip install "weir-io-duckdb[polars]"``).
    """

    plugin_name: ClassVar[str] = "duckdb_polars"

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        if not polars_installed():
            msg = (
                "DuckDBPolarsIOManager needs polars, which is not installed: "
                'pip install "weir-io-duckdb[polars]".'
            )
            raise DefinitionError(msg)
        handlers = _all_handlers()
        return [handlers[2], handlers[0], handlers[1]]

    @staticmethod
    def default_load_type() -> type | None:
        import polars as pl

        return pl.DataFrame
