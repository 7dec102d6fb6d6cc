"""Where an output lives in DuckDB: schema, table, columns and the partition filter.

The mapping is Dagster's (``DbIOManager._get_table_slice``):

* an asset is the table named by the **last** part of its key;
* its schema is the asset's ``schema`` metadata, else the IO manager's ``schema`` config, else the
  **second-to-last** key part (``["analytics", "orders"]`` -> ``analytics.orders``), else
  ``public``;
* an op output (no asset key) is the table named by its ``table`` metadata, else by the output
  name; its schema is the ``schema`` metadata, else the config, else ``public``;
* ``columns`` metadata on an input selects a subset of the columns.

Partitioned assets need ``partition_expr`` metadata: a column name (quoted as an identifier when
the table has such a column) or any SQL expression (``"TO_TIMESTAMP(ts)"``), or for
multi-partitioned assets a dict ``{dimension: expr}``. Static and dynamic keys become
``expr IN (?, ...)``, time windows ``expr >= ? AND expr < ?`` (start inclusive, end exclusive) and
multi-partitions AND one term per dimension. Identifiers are quoted (a ``"`` doubled) and values
are always bound parameters, never formatted into the SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weir.errors import DefinitionError, InvariantViolationError

__all__ = [
    "DEFAULT_SCHEMA",
    "PartitionFilter",
    "TableSlice",
    "quote_identifier",
    "slice_for_input",
    "slice_for_output",
]

DEFAULT_SCHEMA = "public"


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: in double quotes, with any ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PartitionFilter:
    """One ``WHERE`` term: ``expr IN (keys)`` or ``expr >= start AND expr < end``."""

    expr: str
    keys: tuple[str, ...] | None = None
    window: tuple[Any, Any] | None = None

    def compose(self, column_types: Mapping[str, str]) -> tuple[str, list[Any]]:
        """The term's SQL text and its parameters, given the table's ``{column: type}``."""
        is_column = self.expr in column_types
        target = quote_identifier(self.expr) if is_column else f"({self.expr})"
        if self.window is not None:
            start, end = self.window
            aware = is_column and "TIME ZONE" in column_types[self.expr].upper()
            # Dagster compares with the window's wall clock in the partitions' time zone
            # ('%Y-%m-%d %H:%M:%S'); a TIMESTAMPTZ column gets the exact instant instead.
            values = [start, end] if aware else [_naive(start), _naive(end)]
            return f"({target} >= ? AND {target} < ?)", values
        keys = list(self.keys or ())
        if not keys:
            return "FALSE", []
        return f"{target} IN ({', '.join('?' for _ in keys)})", keys


def _naive(moment: Any) -> Any:
    return moment.replace(tzinfo=None) if getattr(moment, "tzinfo", None) is not None else moment


@dataclass(frozen=True)
class TableSlice:
    """A table, optionally narrowed to some columns and to the rows of some partitions.

    Type handlers receive one: ``qualified`` is the quoted ``"catalog"."schema"."table"`` to
    put in SQL, ``where(column_types)`` the partition filter and its parameters. ``database`` is
    the DuckDB catalog (the file's stem), set once a connection is open: without it a schema
    named like the file (``sales.duckdb``, schema ``sales``) would be an ambiguous reference.
    """

    schema: str
    table: str
    what: str  # "asset 'a/b'" or "output 'result' of step 'op'", for messages
    columns: tuple[str, ...] | None = None
    partitions: tuple[PartitionFilter, ...] = field(default_factory=tuple)
    partitioned: bool = False
    database: str | None = None

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
        for part in self.partitions:
            term, values = part.compose(column_types)
            terms.append(term)
            params.extend(values)
        return " WHERE " + " AND ".join(terms), params


def _raw(value: Any) -> Any:
    """A metadata value as the user wrote it (``MetadataValue`` wrappers unwrapped)."""
    if type(value).__name__.endswith("MetadataValue") and hasattr(value, "value"):
        return value.value
    return value


def _meta(metadata: Mapping[str, Any] | None, key: str) -> Any:
    return _raw(metadata.get(key)) if metadata else None


def _schema_for(
    metadata: Mapping[str, Any] | None, configured: str | None, key_path: Sequence[str] | None
) -> str:
    from_meta = _meta(metadata, "schema")
    if from_meta:
        return str(from_meta)
    if configured:
        return configured
    if key_path is not None and len(key_path) > 1:
        return key_path[-2]
    return DEFAULT_SCHEMA


def slice_for_output(context: Any, configured_schema: str | None) -> TableSlice:
    """The table slice an ``OutputContext`` writes to."""
    metadata = context.definition_metadata
    if context.has_asset_key:
        path = list(context.asset_key.path)
        what = f"asset {context.asset_key.to_user_string()!r}"
        return TableSlice(
            schema=_schema_for(metadata, configured_schema, path),
            table=path[-1],
            what=what,
            partitions=_partition_filters(context, metadata, what),
            partitioned=context.has_asset_partitions,
        )
    table = _meta(metadata, "table") or context.name
    return TableSlice(
        schema=_schema_for(metadata, configured_schema, None),
        table=str(table),
        what=f"output {context.name!r} of step {context.step_key!r}",
    )


def slice_for_input(context: Any, configured_schema: str | None) -> TableSlice:
    """The table slice an ``InputContext`` reads: the upstream output's table, the partitions of
    this run, and the input's ``columns`` metadata."""
    upstream = context.upstream_output
    columns = _meta(context.definition_metadata, "columns")
    columns_tuple = tuple(str(c) for c in columns) if columns else None
    if upstream is None:
        msg = (
            f"Cannot load input {context.name!r} with the DuckDB IO manager: the input context "
            "has no upstream output, so there is no table to read."
        )
        raise InvariantViolationError(msg)
    up_meta = upstream.definition_metadata
    if context.has_asset_key or upstream.has_asset_key:
        key = context.asset_key if context.has_asset_key else upstream.asset_key
        path = list(key.path)
        what = f"asset {key.to_user_string()!r}"
        partitioned = context.has_asset_key and context.has_asset_partitions
        return TableSlice(
            schema=_schema_for(up_meta, configured_schema, path),
            table=path[-1],
            what=what,
            columns=columns_tuple,
            partitions=_partition_filters(context, up_meta, what) if partitioned else (),
            partitioned=partitioned,
        )
    base = slice_for_output(upstream, configured_schema)
    return TableSlice(schema=base.schema, table=base.table, what=base.what, columns=columns_tuple)


# -- partitions -------------------------------------------------------------------------------------
def _missing_partition_expr(what: str) -> DefinitionError:
    # Dagster's text (a ValueError there); weir raises its definition error
    return DefinitionError(
        f"Asset {what.removeprefix('asset ')} has partitions, but no 'partition_expr' metadata "
        "value, so we don't know what column it's partitioned on. To specify a column, set this "
        'metadata value. E.g. @asset(metadata={"partition_expr": "your_partition_column"}).'
    )


def _is_time_partitioned(partitions_def: Any) -> bool:
    return partitions_def is not None and hasattr(partitions_def, "time_window_for_partition_key")


def _partitions_def(context: Any) -> Any:
    try:
        return context.asset_partitions_def
    except InvariantViolationError:
        return None


def _partition_filters(
    context: Any, metadata: Mapping[str, Any] | None, what: str
) -> tuple[PartitionFilter, ...]:
    if not context.has_asset_partitions:
        return ()
    expr = _meta(metadata, "partition_expr")
    if not expr:
        raise _missing_partition_expr(what)
    partitions_def = _partitions_def(context)
    if isinstance(expr, Mapping):
        exprs = {str(k): str(v) for k, v in expr.items()}
        return _multi_filters(context, exprs, partitions_def, what)
    if _is_time_partitioned(partitions_def):
        window = context.asset_partitions_time_window
        return (PartitionFilter(str(expr), window=(window.start, window.end)),)
    keys = tuple(str(k) for k in context.asset_partition_keys)
    return (PartitionFilter(str(expr), keys=keys),)


def _dimension_defs(partitions_def: Any) -> dict[str, Any] | None:
    """``{dimension name: partitions definition}`` of a multi-partitions definition, if known."""
    dims = getattr(partitions_def, "partitions_defs", None)
    if not dims:
        return None
    return {str(d.name): d.partitions_def for d in dims}


def _multi_filters(
    context: Any, exprs: dict[str, str], partitions_def: Any, what: str
) -> tuple[PartitionFilter, ...]:
    dims = _dimension_defs(partitions_def)
    names = sorted(dims) if dims is not None else sorted(exprs)
    missing = [name for name in names if name not in exprs]
    if missing:
        msg = (
            f"Asset {what.removeprefix('asset ')} is partitioned by dimension(s) {missing} but its "
            f"'partition_expr' metadata has no entry for them (it has {sorted(exprs)}). Give one "
            'SQL expression per dimension, e.g. {"date": "day", "region": "region"}.'
        )
        raise DefinitionError(msg)
    values: dict[str, list[str]] = {name: [] for name in names}
    for key in context.asset_partition_keys:
        by_dim = getattr(key, "keys_by_dimension", None)
        if by_dim is None:
            parts = str(key).split("|")
            if len(parts) != len(names):
                msg = (
                    f"Partition key {str(key)!r} of {what} does not have one value per dimension "
                    f"{names} (multi-partition keys join the values with '|' in dimension-name "
                    "order)."
                )
                raise InvariantViolationError(msg)
            by_dim = dict(zip(names, parts, strict=True))
        for name in names:
            if by_dim[name] not in values[name]:
                values[name].append(by_dim[name])
    filters = []
    for name in names:
        dim_def = dims.get(name) if dims is not None else None
        if dim_def is not None and _is_time_partitioned(dim_def):
            windows = [dim_def.time_window_for_partition_key(k) for k in values[name]]
            start = min(w.start for w in windows)
            end = max(w.end for w in windows)
            filters.append(PartitionFilter(exprs[name], window=(start, end)))
        else:
            filters.append(PartitionFilter(exprs[name], keys=tuple(values[name])))
    return tuple(filters)
