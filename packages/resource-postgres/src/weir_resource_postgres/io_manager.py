"""``PostgresPandasIOManager``: pandas DataFrames as PostgreSQL tables, partition by partition.

Configured like Dagster's ``DuckDBPandasIOManager(database=..., schema=...)``, with the connection
fields of :class:`~weir_resource_postgres.resource.PostgresResource` (``host``, ``port``, ``user``,
``password``, ``database``, ... or ``url``) plus ``schema``. The table mapping (schema, table,
``partition_expr``, ``columns``) is described in :mod:`weir.table_slice`.

Storing an output is one transaction: create the schema and table when missing (column types
from the frame's dtypes), delete the rows being replaced (all rows, or the partition's rows;
``DELETE``, not ``DROP``, so grants and views on the table survive), then ``COPY`` the frame in.
When anything fails (a value the column type rejects, a lost connection) the transaction rolls
back and the table keeps its previous rows. Loading runs ``COPY (SELECT ...) TO STDOUT`` and
parses the rows with Arrow.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from pydantic import Field

import weir as dg
from weir.errors import HandleOutputError, InvariantViolationError, LoadInputError
from weir_resource_postgres.resource import PostgresConnectionConfig

if TYPE_CHECKING:
    from weir_resource_postgres.table_slice import PostgresTableSlice

__all__ = ["PostgresPandasIOManager", "PostgresTableNotFoundError", "PostgresWriteError"]

logger = logging.getLogger(__name__)

_SESSION_SETTINGS = (
    # fixed output formats, whatever the server's defaults: Arrow parses what these produce
    "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; "
    "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL bytea_output = 'hex'; "
    "SET LOCAL extra_float_digits = 1"
)
_NONE_OUTPUT = (
    "Unexpected 'None' output value. If a 'None' value is intentional, set the output type to "
    "None by adding return type annotation '-> None'."
)


class PostgresTableNotFoundError(LoadInputError):
    """An input's table does not exist (the asset was never materialized into this database)."""


class PostgresWriteError(HandleOutputError):
    """Writing an output failed; the transaction was rolled back and the table kept its rows."""


def _columns_of(cursor: Any, table_slice: PostgresTableSlice) -> list[str] | None:
    """The table's column names in order, or None when there is no such table."""
    cursor.execute(
        "SELECT c.oid FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        [table_slice.schema, table_slice.table],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    cursor.execute(
        "SELECT attname FROM pg_catalog.pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [row[0]],
    )
    return [r[0] for r in cursor.fetchall()]


# pydantic warns that a field called "schema" shadows BaseModel.schema(), a deprecated v1 method
# that weir never calls. Dagster's users write schema=..., so the field keeps that name (an alias
# would not survive weir's config round trip for EnvVar/run-config values).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class PostgresPandasIOManager(PostgresConnectionConfig, dg.ConfigurableIOManager):
        """Stores pandas DataFrames as PostgreSQL tables and loads them back.

        Example::

            import pandas as pd
            import weir as dg
            from weir_resource_postgres import PostgresPandasIOManager

            @dg.asset(key_prefix=["analytics"])      # -> table analytics.orders
            def orders() -> pd.DataFrame:
                return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})

            @dg.asset(
                partitions_def=dg.DailyPartitionsDefinition("2024-01-01"),
                metadata={"partition_expr": "day"},   # the column that holds the partition
            )
            def events(context) -> pd.DataFrame: ...

            defs = dg.Definitions(
                assets=[orders, events],
                resources={
                    "io_manager": PostgresPandasIOManager(
                        host="db.internal", database="warehouse", user="etl",
                        password=dg.EnvVar("PGPASSWORD"),
                    )
                },
            )

        Output metadata: ``dagster/row_count`` (``dagster/partition_row_count`` for a partition),
        ``dataframe_columns`` (a ``TableSchema`` with the PostgreSQL column types) and
        ``dagster/table_name`` (``database.schema.table``).
        """

        plugin_name: ClassVar[str] = "postgres_pandas"

        schema: Optional[str] = Field(  # type: ignore[assignment]
            default=None,
            description=(
                "Schema for every asset table, unless the asset's 'schema' metadata says "
                "otherwise (default: the second-to-last asset key part, else 'public')."
            ),
        )

        # -- storing ----------------------------------------------------------------------------
        def handle_output(self, context: Any, obj: Any) -> None:
            """Replace the asset's rows (or its partition's rows) with ``obj`` in one transaction."""
            if obj is None:
                if getattr(context.dagster_type, "is_nothing", False):
                    return
                raise InvariantViolationError(_NONE_OUTPUT)
            from psycopg import sql

            from weir_resource_postgres._frames import (
                arrow_from_frame,
                copy_rows_in,
                plan_columns,
                require_frame_libraries,
            )
            from weir_resource_postgres.table_slice import slice_for_output

            require_frame_libraries(type(self).__name__)
            table_slice = slice_for_output(context, self.schema)
            table = arrow_from_frame(obj, table_slice.what)
            plans = plan_columns(table)
            with self.get_connection() as conn:
                database = conn.info.dbname
                try:
                    with conn.cursor() as cursor:
                        cursor.execute(_SESSION_SETTINGS)
                        existing = self._ensure_table(cursor, table_slice, plans)
                        where, params = table_slice.where(existing)
                        cursor.execute(
                            sql.SQL("DELETE FROM {}").format(table_slice.qualified) + where, params
                        )
                        deleted = cursor.rowcount
                        copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                            table_slice.qualified,
                            sql.SQL(", ").join(sql.Identifier(p.name) for p in plans),
                        )
                        copy_rows_in(cursor, copy, table, plans)
                except Exception as exc:
                    if conn.broken:
                        raise  # get_connection reports the lost connection
                    raise self._write_failed(exc, table_slice, database) from exc
            logger.debug(
                "Replaced %s rows of %s with %s rows", deleted, table_slice.display, table.num_rows
            )
            count_key = (
                "dagster/partition_row_count" if table_slice.partitioned else "dagster/row_count"
            )
            context.add_output_metadata(
                {
                    count_key: table.num_rows,
                    "dataframe_columns": dg.MetadataValue.table_schema(
                        dg.TableSchema(columns=[dg.TableColumn(p.name, p.pg_type) for p in plans])
                    ),
                    "dagster/table_name": f"{database}.{table_slice.schema}.{table_slice.table}",
                }
            )

        def _ensure_table(
            self, cursor: Any, table_slice: PostgresTableSlice, plans: list[Any]
        ) -> list[str]:
            """Create the schema and table when missing; the table's columns."""
            from psycopg import sql

            existing = _columns_of(cursor, table_slice)
            if existing is None:
                # serialise creators of this one table (two runs storing it at once)
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [table_slice.display])
                existing = _columns_of(cursor, table_slice)
            if existing is None:
                cursor.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(table_slice.schema)
                    )
                )
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(p.name), sql.SQL(p.pg_type))
                    for p in plans
                )
                cursor.execute(
                    sql.SQL("CREATE TABLE {} ({})").format(table_slice.qualified, columns)
                )
                return [p.name for p in plans]
            unknown = [p.name for p in plans if p.name not in existing]
            if unknown:
                msg = (
                    f"The DataFrame of {table_slice.what} has column(s) {unknown} that table "
                    f"{table_slice.display} does not have (it has {existing}). weir does not change "
                    "the columns of an existing table: add them (ALTER TABLE ... ADD COLUMN), or drop "
                    "the table to have it created again from the DataFrame."
                )
                raise PostgresWriteError(msg)
            return existing

        def _write_failed(
            self, exc: BaseException, table_slice: PostgresTableSlice, database: str
        ) -> PostgresWriteError:
            if isinstance(exc, PostgresWriteError):
                return exc
            reason = str(exc).strip() or type(exc).__name__
            msg = (
                f"Storing {table_slice.what} in table {table_slice.display} of database "
                f"{database!r} ({self.describe_target()}) failed, and the transaction was rolled "
                f"back: the table keeps its previous rows. PostgreSQL said: {reason}"
            )
            return PostgresWriteError(msg, user_exception=exc)

        # -- loading ----------------------------------------------------------------------------
        def load_input(self, context: Any) -> Any:
            """The asset's rows (its partitions' rows, its ``columns`` metadata subset) as a
            DataFrame, or a ``pyarrow.Table`` when the input is annotated so."""
            from psycopg import sql

            from weir_resource_postgres._frames import (
                frame_from_arrow,
                read_copy_csv,
                require_frame_libraries,
            )
            from weir_resource_postgres.table_slice import slice_for_input

            require_frame_libraries(type(self).__name__)
            table_slice = slice_for_input(context, self.schema)
            with self.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(_SESSION_SETTINGS)
                existing = _columns_of(cursor, table_slice)
                if existing is None:
                    msg = (
                        f"Cannot load {table_slice.what}: table {table_slice.display} does not "
                        f"exist in database {conn.info.dbname!r} ({self.describe_target()}). "
                        "Materialize it first; if it was, check the table mapping (schema from "
                        "the asset's 'schema' metadata, else the IO manager's schema config, else "
                        "the key's second-to-last part, else 'public')."
                    )
                    raise PostgresTableNotFoundError(msg)
                wanted = table_slice.columns_to_load(existing, table_slice.display)
                select = sql.SQL("SELECT {} FROM {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in wanted), table_slice.qualified
                )
                where, params = table_slice.where(existing)
                cursor.execute(select + where + sql.SQL(" LIMIT 0"), params)
                description = list(cursor.description or [])
                inline_where, _ = table_slice.where(existing, inline=True)
                copy = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(select + inline_where)
                table = read_copy_csv(cursor, copy, description)
            if _wants_arrow(context):
                return table
            return frame_from_arrow(table, description)


def _wants_arrow(context: Any) -> bool:
    typing_type = getattr(getattr(context, "dagster_type", None), "typing_type", None)
    if typing_type is None:
        return False
    import pyarrow as pa

    return typing_type is pa.Table
