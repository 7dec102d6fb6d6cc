"""PostgreSQL SQL for a table slice: quoted names and the partition filter, as psycopg ``sql``.

Where an output lives (schema, table, ``columns``, ``partition_expr``) is Dagster's mapping,
computed by :mod:`weir.table_slice` -- the same as the DuckDB IO manager's; an op output is the
table named by its ``table`` metadata, else by the output name. This module adds PostgreSQL's
spelling. A ``partition_expr`` naming a column of the table is quoted as an identifier, anything
else is used as the SQL expression it is. Keys become ``expr IN (%s, ...)``, time windows
``expr >= %s AND expr < %s`` and multi-partitions AND one clause per dimension. Values are always
parameters (or, for ``COPY (SELECT ...)``, which takes none, literals escaped by psycopg).

PostgreSQL cuts identifiers longer than 63 bytes, so a longer schema or table name is refused
with an error that says how to shorten it, instead of writing to a table named otherwise.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from weir.errors import DefinitionError
from weir.table_slice import (
    TablePartitionDimension,
    TableSlice,
    table_slice_for_input,
    table_slice_for_output,
)

__all__ = ["MAX_IDENTIFIER_BYTES", "PostgresTableSlice", "slice_for_input", "slice_for_output"]

MAX_IDENTIFIER_BYTES = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1)


def _dimension_term(
    dimension: TablePartitionDimension, known_columns: Collection[str], *, inline: bool
) -> tuple[sql.Composable, list[Any]]:
    expr = dimension.partition_expr
    target: sql.Composable = sql.Identifier(expr) if expr in known_columns else sql.SQL(expr)

    def value(v: Any) -> sql.Composable:
        return sql.Literal(v) if inline else sql.Placeholder()

    window = dimension.time_window
    if window is not None:
        term = sql.SQL("({} >= {} AND {} < {})").format(
            target, value(window.start), target, value(window.end)
        )
        return term, [] if inline else [window.start, window.end]
    keys = list(dimension.keys)
    if not keys:
        return sql.SQL("FALSE"), []
    values = sql.SQL(", ").join(value(k) for k in keys)
    return sql.SQL("{} IN ({})").format(target, values), [] if inline else keys


@dataclass(frozen=True)
class PostgresTableSlice(TableSlice):
    """A :class:`weir.table_slice.TableSlice` with PostgreSQL's SQL for it."""

    @property
    def qualified(self) -> sql.Identifier:
        """``"schema"."table"`` as a psycopg identifier."""
        return sql.Identifier(self.schema, self.table)

    @property
    def display(self) -> str:
        """The quoted, qualified name as SQL writes it: ``"schema"."table"``."""
        return ".".join('"' + part.replace('"', '""') + '"' for part in (self.schema, self.table))

    def where(
        self, known_columns: Collection[str], *, inline: bool = False
    ) -> tuple[sql.Composable, list[Any]]:
        """``WHERE ...`` for the partitions (empty when unpartitioned) and its parameters;
        ``inline`` puts the values in as escaped literals instead."""
        if not self.partitioned:
            return sql.SQL(""), []
        terms: list[sql.Composable] = []
        params: list[Any] = []
        for dimension in self.partition_dimensions:
            term, values = _dimension_term(dimension, known_columns, inline=inline)
            terms.append(term)
            params.extend(values)
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(terms), params


def _checked(table_slice: PostgresTableSlice) -> PostgresTableSlice:
    for kind, name in (("schema", table_slice.schema), ("table", table_slice.table)):
        size = len(name.encode())
        if size > MAX_IDENTIFIER_BYTES:
            msg = (
                f"The {kind} name {name!r} of {table_slice.what} is {size} bytes long; PostgreSQL "
                f"keeps only {MAX_IDENTIFIER_BYTES} bytes of a name and would cut it. Use a "
                f"shorter name: set the {kind!r} metadata (op outputs and schemas), or a shorter "
                "last part of the asset key."
            )
            raise DefinitionError(msg)
    return table_slice


def slice_for_output(context: Any, configured_schema: str | None) -> PostgresTableSlice:
    """The table slice an ``OutputContext`` writes to."""
    return _checked(
        table_slice_for_output(context, schema=configured_schema, slice_type=PostgresTableSlice)
    )


def slice_for_input(context: Any, configured_schema: str | None) -> PostgresTableSlice:
    """The table slice an ``InputContext`` reads."""
    return _checked(
        table_slice_for_input(context, schema=configured_schema, slice_type=PostgresTableSlice)
    )
