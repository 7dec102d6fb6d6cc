"""DuckDB SQL for a table slice: quoted, catalog-qualified names and the partition filter.

Where an output lives (schema, table, ``columns``, ``partition_expr``) is Dagster's mapping,
computed by :mod:`weir.table_slice`; this module adds DuckDB's spelling of it. A
``partition_expr`` naming a column of the table is quoted as an identifier, anything else is used
as the SQL expression it is (``"TO_TIMESTAMP(ts)"``). Keys become ``expr IN (?, ...)``, time
windows ``expr >= ? AND expr < ?`` and multi-partitions AND one term per dimension. Identifiers
are quoted (a ``"`` doubled) and values are always bound parameters, never formatted into the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.table_slice import (
    TablePartitionDimension,
    TableSlice,
    table_slice_for_input,
    table_slice_for_output,
)

__all__ = [
    "DuckDBTableSlice",
    "quote_identifier",
    "slice_for_input",
    "slice_for_output",
]


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: in double quotes, with any ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def _dimension_term(
    dimension: TablePartitionDimension, column_types: Mapping[str, str]
) -> tuple[str, list[Any]]:
    """One dimension's ``WHERE`` term and its parameters, given the table's ``{column: type}``."""
    expr = dimension.partition_expr
    is_column = expr in column_types
    target = quote_identifier(expr) if is_column else f"({expr})"
    window = dimension.time_window
    if window is not None:
        aware = is_column and "TIME ZONE" in column_types[expr].upper()
        # Dagster compares with the window's wall clock in the partitions' time zone
        # ('%Y-%m-%d %H:%M:%S'); a TIMESTAMPTZ column gets the exact instant instead.
        values = [window.start, window.end] if aware else [_naive(window.start), _naive(window.end)]
        return f"({target} >= ? AND {target} < ?)", values
    keys = list(dimension.keys)
    if not keys:
        return "FALSE", []
    return f"{target} IN ({', '.join('?' for _ in keys)})", keys


def _naive(moment: Any) -> Any:
    return moment.replace(tzinfo=None) if getattr(moment, "tzinfo", None) is not None else moment


@dataclass(frozen=True)
class DuckDBTableSlice(TableSlice):
    """A :class:`weir.table_slice.TableSlice` with DuckDB's SQL for it.

    Type handlers receive one: ``qualified`` is the quoted ``"catalog"."schema"."table"`` to put
    in SQL, ``where(column_types)`` the partition filter and its parameters. ``database`` is the
    DuckDB catalog (the file's stem), set once a connection is open: without it a schema named
    like the file (``sales.duckdb``, schema ``sales``) would be an ambiguous reference.
    """

    @property
    def qualified_schema(self) -> str:
        """The quoted schema, with its catalog when known: ``"catalog"."schema"``."""
        schema = quote_identifier(self.schema)
        return f"{quote_identifier(self.database)}.{schema}" if self.database else schema

    @property
    def qualified(self) -> str:
        """The quoted, qualified table name as SQL writes it: ``"catalog"."schema"."table"``."""
        return f"{self.qualified_schema}.{quote_identifier(self.table)}"

    def where(self, column_types: Mapping[str, str]) -> tuple[str, list[Any]]:
        """`` WHERE ...`` for the partitions (empty when unpartitioned) and its parameters."""
        if not self.partitioned:
            return "", []
        terms: list[str] = []
        params: list[Any] = []
        for dimension in self.partition_dimensions:
            term, values = _dimension_term(dimension, column_types)
            terms.append(term)
            params.extend(values)
        return " WHERE " + " AND ".join(terms), params


def slice_for_output(context: Any, configured_schema: str | None) -> DuckDBTableSlice:
    """The table slice an ``OutputContext`` writes to."""
    return table_slice_for_output(context, schema=configured_schema, slice_type=DuckDBTableSlice)


def slice_for_input(context: Any, configured_schema: str | None) -> DuckDBTableSlice:
    """The table slice an ``InputContext`` reads."""
    return table_slice_for_input(context, schema=configured_schema, slice_type=DuckDBTableSlice)
