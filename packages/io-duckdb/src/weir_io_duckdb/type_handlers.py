"""Type handlers: how one Python type is written to and read from a DuckDB table.

A DuckDB IO manager holds a list of handlers (``type_handlers()``) and picks one by the output
value's type, or by the input's annotation when loading. A handler only moves data: the IO manager
has already opened the transaction, created the schema and deleted the rows being replaced. Every
built-in handler goes through Arrow, which DuckDB scans and produces without copying row by row:

* :class:`DuckDBPandasTypeHandler` -- ``pandas.DataFrame``;
* :class:`DuckDBPyArrowTypeHandler` -- ``pyarrow.Table`` (and record batch readers when storing);
* :class:`DuckDBPolarsTypeHandler` -- ``polars.DataFrame`` and ``LazyFrame`` (when polars is
  installed).

A plugin adds a type with a class that satisfies :class:`DbTypeHandler` -- usually a subclass of
:class:`ArrowTypeHandler`, which only converts to and from Arrow -- and an IO manager whose
``type_handlers()`` includes it.
"""

from __future__ import annotations

import importlib.util
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from weir.errors import HandleOutputError, LoadInputError
from weir_io_duckdb.table_slice import DuckDBTableSlice, quote_identifier

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = [
    "ArrowTypeHandler",
    "DbTypeHandler",
    "DuckDBPandasTypeHandler",
    "DuckDBPolarsTypeHandler",
    "DuckDBPyArrowTypeHandler",
    "DuckDBTableNotFoundError",
    "DuckDBWriteError",
    "read_arrow",
    "table_column_types",
    "write_arrow",
]

logger = logging.getLogger(__name__)


class DuckDBTableNotFoundError(LoadInputError):
    """An input's table does not exist (the asset was never materialized into this database)."""


class DuckDBWriteError(HandleOutputError):
    """Writing an output failed; the transaction was rolled back and the table kept its rows."""


@runtime_checkable
class DbTypeHandler(Protocol):
    """Stores and loads values of ``supported_types`` in a DuckDB table slice.

    ``handle_output`` runs inside the IO manager's transaction, after the slice's old rows were
    deleted; it appends ``obj`` (creating the table when missing) and returns output metadata
    (or None). ``load_input`` returns the slice's rows as a value of the input's type.
    """

    @property
    def supported_types(self) -> Sequence[type]: ...

    def handle_output(
        self,
        context: Any,
        table_slice: DuckDBTableSlice,
        obj: Any,
        connection: duckdb.DuckDBPyConnection,
    ) -> Mapping[str, Any] | None: ...

    def load_input(
        self, context: Any, table_slice: DuckDBTableSlice, connection: duckdb.DuckDBPyConnection
    ) -> Any: ...


# -- shared SQL helpers -------------------------------------------------------------------------
def table_column_types(
    connection: duckdb.DuckDBPyConnection, table_slice: DuckDBTableSlice
) -> dict[str, str] | None:
    """``{column: DuckDB type}`` of the slice's table in order, or None when there is no table."""
    # duckdb_columns() is several times faster than information_schema.columns
    rows = connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = coalesce(?, current_database()) AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [table_slice.database, table_slice.schema, table_slice.table],
    ).fetchall()
    if not rows:
        return None
    return {str(name): str(kind) for name, kind in rows}


REPLACE_WHOLE_MIN_ROWS = 200_000
"""Below this many rows, replacing a table's rows deletes them (cheap) instead of checking
whether the table can be re-created whole (about 3 ms of catalog queries)."""

_WHERE_TABLE = (
    "database_name = coalesce($db, current_database()) AND schema_name = $schema "
    "AND table_name = $table"
)
# rows, and what a user may have added at table level (indexes, keys, checks, a comment)
_TABLE_FACTS = f"""
SELECT estimated_size,
       index_count + check_constraint_count + has_primary_key::INT + (comment IS NOT NULL)::INT
FROM duckdb_tables() WHERE {_WHERE_TABLE}
"""
# what a user may have added to columns (NOT NULL, UNIQUE, keys, defaults, comments), or a
# foreign key of another table pointing at this one
_COLUMN_CUSTOMIZATIONS = f"""
SELECT (SELECT count(*) FROM duckdb_constraints()
          WHERE ({_WHERE_TABLE}) OR referenced_table = $table)
     + (SELECT count(*) FROM duckdb_columns()
          WHERE {_WHERE_TABLE} AND (column_default IS NOT NULL OR comment IS NOT NULL))
"""


def _can_replace_whole(
    connection: duckdb.DuckDBPyConnection,
    table_slice: DuckDBTableSlice,
    existing: Mapping[str, str],
    view: str,
) -> bool:
    """Whether re-creating the table from the registered ``view`` gives the same table as
    emptying it and inserting -- same column names and types, and nothing a user added to it
    (constraints, indexes, defaults, comments, a foreign key pointing at it) that a re-created
    table would lose -- and is worth it: the table holds at least
    :data:`REPLACE_WHOLE_MIN_ROWS` rows."""
    params = {"db": table_slice.database, "schema": table_slice.schema, "table": table_slice.table}
    facts = connection.execute(_TABLE_FACTS, params).fetchone()
    if facts is None or int(facts[0] or 0) < REPLACE_WHOLE_MIN_ROWS or int(facts[1]):
        return False  # deleting few rows costs less than the checks below
    relation = connection.sql(f"SELECT * FROM {quote_identifier(view)}")
    incoming = list(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    if incoming != list(existing.items()):
        return False
    row = connection.execute(_COLUMN_CUSTOMIZATIONS, params).fetchone()
    return row is not None and int(row[0]) == 0


def _arrow_of(relation: Any) -> pa.Table:
    """A relation's rows as a ``pyarrow.Table`` (the method's name changed in DuckDB 1.4/2.0)."""
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        method = getattr(relation, name, None)
        if method is not None:
            return method()
    msg = "this DuckDB version's relations have no Arrow export; install duckdb>=1.0"
    raise LoadInputError(msg)


def write_arrow(
    connection: duckdb.DuckDBPyConnection,
    table_slice: DuckDBTableSlice,
    data: pa.Table,
    *,
    replace_rows: bool = False,
) -> int:
    """Append the Arrow table ``data`` to the slice's table, creating the table from ``data``'s
    columns when missing; the number of rows written.

    With ``replace_rows`` (an unpartitioned slice only) the table's rows are replaced: a table
    with ``data``'s exact columns and types and nothing user-made on it (constraints, indexes,
    defaults, comments) and at least :data:`REPLACE_WHOLE_MIN_ROWS` rows is re-created from
    ``data`` in one statement, which is faster than deleting every row (DuckDB then writes no
    deletions); any other table is emptied with ``DELETE`` and filled with ``INSERT``, so what a
    user added to it stays.

    An unpartitioned table whose columns differ from ``data``'s is re-created from ``data`` (its
    rows were deleted anyway). A partitioned table must already have every column of ``data``:
    other partitions keep their rows, so its columns cannot change. An empty ``data`` whose
    column types are unknown (an empty object column) creates no table, with a warning, as
    Dagster does.
    """
    import pyarrow as pa

    existing = table_column_types(connection, table_slice)
    incoming = [str(c) for c in data.column_names]
    if (
        existing is None
        and data.num_rows == 0
        and any(pa.types.is_null(t) for t in data.schema.types)
    ):
        logger.warning(
            "Skipping the empty value of %s: its column types are unknown, so table %s is not "
            "created",
            table_slice.what,
            table_slice.qualified,
        )
        return 0
    view = f"__weir_output_{uuid.uuid4().hex}"
    qview = quote_identifier(view)
    target = table_slice.qualified
    connection.register(view, data)
    try:
        if existing is None:
            connection.execute(f"CREATE TABLE {target} AS SELECT * FROM {qview}")
        elif replace_rows and _can_replace_whole(connection, table_slice, existing, view):
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {qview}")
        elif replace_rows and incoming == list(existing):
            connection.execute(f"DELETE FROM {target}")
            connection.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {qview}")
        elif set(incoming) <= set(existing) and (
            table_slice.partitioned or incoming == list(existing)
        ):
            connection.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {qview}")
        elif not table_slice.partitioned:
            logger.info(
                "columns of %s change from %s to %s: re-creating the table",
                target,
                list(existing),
                incoming,
            )
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {qview}")
        else:
            unknown = [c for c in incoming if c not in existing]
            msg = (
                f"The value of {table_slice.what} has column(s) {unknown} that the partitioned "
                f"table {target} does not have (it has {list(existing)}). Other partitions keep "
                "their rows, so weir does not change the table's columns: add them (ALTER TABLE "
                "... ADD COLUMN), or drop the table and materialize every partition again."
            )
            raise DuckDBWriteError(msg)
    finally:
        try:
            connection.unregister(view)
        except Exception:  # an aborted transaction refuses; the connection closes next anyway
            logger.debug("could not unregister view %s", view, exc_info=True)
    return int(data.num_rows)


def read_arrow(connection: duckdb.DuckDBPyConnection, table_slice: DuckDBTableSlice) -> pa.Table:
    """The slice's rows (its ``columns``, its partitions) as a ``pyarrow.Table``.

    Raises:
        DuckDBTableNotFoundError: the table does not exist.
        LoadInputError: the ``columns`` metadata names a column the table does not have.
    """
    existing = table_column_types(connection, table_slice)
    if existing is None:
        msg = (
            f"Cannot load {table_slice.what}: table {table_slice.qualified} does not exist in "
            "the DuckDB database. Materialize it first; if it was, check the table mapping "
            "(schema from the asset's 'schema' metadata, else the IO manager's schema config, "
            "else the key's second-to-last part, else 'public'; table from the key's last part)."
        )
        raise DuckDBTableNotFoundError(msg)
    wanted = table_slice.columns_to_load(list(existing), table_slice.qualified)
    where, params = table_slice.where(existing)
    select = ", ".join(quote_identifier(c) for c in wanted)
    query = f"SELECT {select} FROM {table_slice.qualified}{where}"
    return _arrow_of(connection.sql(query, params=params or None))


# -- the built-in handlers ----------------------------------------------------------------------
class ArrowTypeHandler:
    """A handler for a type that converts to and from Arrow: subclasses give
    ``supported_types``, :meth:`to_arrow` and :meth:`from_arrow`; writing, reading and the row
    count metadata are shared.

    The IO manager leaves an unpartitioned table's rows to an Arrow handler, which replaces them
    itself (see :func:`write_arrow`'s ``replace_rows``) instead of having them deleted first. A
    subclass that overrides ``handle_output`` with a plain append sets ``replaces_rows = False``.
    """

    replaces_rows: bool = True

    @property
    def supported_types(self) -> Sequence[type]:
        raise NotImplementedError

    def to_arrow(self, table_slice: DuckDBTableSlice, obj: Any) -> pa.Table:
        """``obj`` as a ``pyarrow.Table``; raise :class:`DuckDBWriteError` when it cannot be."""
        raise NotImplementedError

    def from_arrow(self, context: Any, table: pa.Table) -> Any:
        """The loaded rows as a value for the input ``context``."""
        raise NotImplementedError

    def handle_output(
        self,
        context: Any,
        table_slice: DuckDBTableSlice,
        obj: Any,
        connection: duckdb.DuckDBPyConnection,
    ) -> Mapping[str, Any] | None:
        table = self.to_arrow(table_slice, obj)
        rows = write_arrow(connection, table_slice, table, replace_rows=not table_slice.partitioned)
        key = "dagster/partition_row_count" if table_slice.partitioned else "dagster/row_count"
        return {key: rows}

    def load_input(
        self, context: Any, table_slice: DuckDBTableSlice, connection: duckdb.DuckDBPyConnection
    ) -> Any:
        return self.from_arrow(context, read_arrow(connection, table_slice))


class DuckDBPyArrowTypeHandler(ArrowTypeHandler):
    """``pyarrow.Table`` as a DuckDB table (a ``RecordBatchReader`` can be stored too)."""

    @property
    def supported_types(self) -> Sequence[type]:
        import pyarrow as pa

        return [pa.Table, pa.RecordBatchReader]

    def to_arrow(self, table_slice: DuckDBTableSlice, obj: Any) -> pa.Table:
        import pyarrow as pa

        return obj.read_all() if isinstance(obj, pa.RecordBatchReader) else obj

    def from_arrow(self, context: Any, table: pa.Table) -> Any:
        return table


class DuckDBPandasTypeHandler(ArrowTypeHandler):
    """``pandas.DataFrame`` as a DuckDB table, through Arrow (the index is not stored)."""

    @property
    def supported_types(self) -> Sequence[type]:
        import pandas as pd

        return [pd.DataFrame]

    def to_arrow(self, table_slice: DuckDBTableSlice, obj: Any) -> pa.Table:
        import pyarrow as pa

        try:
            return pa.Table.from_pandas(obj, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            msg = (
                f"The DataFrame of {table_slice.what} cannot be converted to Arrow for DuckDB: "
                f"{exc}. Give each column one type (e.g. no mix of str and int in an object "
                "column)."
            )
            raise DuckDBWriteError(msg, user_exception=exc) from exc

    def from_arrow(self, context: Any, table: pa.Table) -> Any:
        return table.to_pandas()


class DuckDBPolarsTypeHandler(ArrowTypeHandler):
    """``polars.DataFrame`` (and ``LazyFrame``, collected) as a DuckDB table, through Arrow."""

    @property
    def supported_types(self) -> Sequence[type]:
        import polars as pl

        return [pl.DataFrame, pl.LazyFrame]

    def to_arrow(self, table_slice: DuckDBTableSlice, obj: Any) -> pa.Table:
        import polars as pl

        frame = obj.collect() if isinstance(obj, pl.LazyFrame) else obj
        return frame.to_arrow()

    def from_arrow(self, context: Any, table: pa.Table) -> Any:
        import polars as pl

        frame = pl.DataFrame(table)
        typing_type = getattr(getattr(context, "dagster_type", None), "typing_type", None)
        return frame.lazy() if typing_type is pl.LazyFrame else frame


def polars_installed() -> bool:
    """Whether polars can be imported (without importing it)."""
    return importlib.util.find_spec("polars") is not None
