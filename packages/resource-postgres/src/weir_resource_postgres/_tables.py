"""Where an output lives in PostgreSQL: schema, table, columns and the partition filter.

The mapping follows Dagster's database IO managers (``DuckDBPandasIOManager``):

* an asset is the table named by the **last** part of its key;
* its schema is the ``schema`` metadata of the asset, else the IO manager's ``schema`` config,
  else the **second-to-last** key part (``["analytics", "orders"]`` -> ``analytics.orders``), else
  ``public``;
* an op output (no asset key) is the table named by the ``table`` metadata, else one named after
  the run id, step key and output name (so two runs never overwrite each other's op outputs);
  its schema is the ``schema`` metadata, else the config, else ``public``;
* ``columns`` metadata on an input selects a subset of columns.

Partitioned assets need ``partition_expr`` metadata: a column name (quoted as an identifier when
the table has that column) or any SQL expression, or for multi-partitioned assets a dict
``{dimension: expr}``. Static keys become ``expr IN (%s, ...)``, time windows
``expr >= %s AND expr < %s``, and multi-partitions AND one clause per dimension. Values are always
parameters, never formatted into the SQL text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from weir.errors import DefinitionError, InvariantViolationError

__all__ = [
    "PartitionFilter",
    "TableSlice",
    "slice_for_input",
    "slice_for_output",
]

DEFAULT_SCHEMA = "public"
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1)


@dataclass(frozen=True)
class PartitionFilter:
    """One ``WHERE`` term: ``expr IN keys`` or ``expr >= start AND expr < end``."""

    expr: str
    keys: tuple[str, ...] | None = None
    window: tuple[Any, Any] | None = None

    def compose(
        self, known_columns: Collection[str], *, inline: bool = False
    ) -> tuple[sql.Composable, list[Any]]:
        """The term and its parameters; ``inline`` puts the values in as escaped literals instead
        (for ``COPY (SELECT ...)``, which takes no parameters)."""
        target: sql.Composable = (
            sql.Identifier(self.expr) if self.expr in known_columns else sql.SQL(self.expr)
        )

        def value(v: Any) -> sql.Composable:
            return sql.Literal(v) if inline else sql.Placeholder()

        if self.window is not None:
            start, end = self.window
            term = sql.SQL("({} >= {} AND {} < {})").format(
                target, value(start), target, value(end)
            )
            return term, [] if inline else [start, end]
        keys = list(self.keys or ())
        if not keys:
            return sql.SQL("FALSE"), []
        values = sql.SQL(", ").join(value(k) for k in keys)
        return sql.SQL("{} IN ({})").format(target, values), [] if inline else keys


@dataclass(frozen=True)
class TableSlice:
    """A table, optionally narrowed to some columns and to the rows of some partitions."""

    schema: str
    table: str
    what: str  # "asset 'a/b'" or "output 'result' of step 'op'" for messages
    columns: tuple[str, ...] | None = None
    partitions: tuple[PartitionFilter, ...] = field(default_factory=tuple)
    partitioned: bool = False

    @property
    def qualified(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)

    @property
    def display(self) -> str:
        """The quoted, qualified name as SQL writes it: ``"schema"."table"``."""
        return ".".join('"' + part.replace('"', '""') + '"' for part in (self.schema, self.table))

    def where(
        self, known_columns: Collection[str], *, inline: bool = False
    ) -> tuple[sql.Composable, list[Any]]:
        """``WHERE ...`` for the partitions (empty when unpartitioned) and its parameters."""
        if not self.partitioned:
            return sql.SQL(""), []
        terms: list[sql.Composable] = []
        params: list[Any] = []
        for part in self.partitions:
            term, values = part.compose(known_columns, inline=inline)
            terms.append(term)
            params.extend(values)
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(terms), params


def _raw(value: Any) -> Any:
    """A metadata value as the user wrote it (``MetadataValue`` wrappers unwrapped)."""
    if type(value).__name__.endswith("MetadataValue") and hasattr(value, "value"):
        return value.value
    return value


def _meta(metadata: Mapping[str, Any] | None, key: str) -> Any:
    return _raw(metadata.get(key)) if metadata else None


def _short_identifier(name: str) -> str:
    """``name``, or a prefix of it plus a hash when it is longer than PostgreSQL keeps."""
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    prefix = name.encode()[: MAX_IDENTIFIER_BYTES - 13].decode(errors="ignore")
    return f"{prefix}_{digest}"


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
    table = _meta(metadata, "table") or _short_identifier("__".join(context.get_identifier()))
    return TableSlice(
        schema=_schema_for(metadata, configured_schema, None),
        table=str(table),
        what=f"output {context.name!r} of step {context.step_key!r}",
    )


def slice_for_input(context: Any, configured_schema: str | None) -> TableSlice:
    """The table slice an ``InputContext`` reads: the upstream output's table, its partitions in
    this run, and the input's ``columns`` metadata."""
    upstream = context.upstream_output
    columns = _meta(context.definition_metadata, "columns")
    columns_tuple = tuple(str(c) for c in columns) if columns else None
    if upstream is None:
        msg = (
            f"Cannot load input {context.name!r} with the Postgres IO manager: the input context "
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
        return _multi_filters(
            context, {str(k): str(v) for k, v in expr.items()}, partitions_def, what
        )
    if _is_time_partitioned(partitions_def):
        window = context.asset_partitions_time_window
        return (PartitionFilter(str(expr), window=(window.start, window.end)),)
    return (PartitionFilter(str(expr), keys=tuple(str(k) for k in context.asset_partition_keys)),)


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
                    f"{names} (multi-partition keys join the values with '|' in dimension-name order)."
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
