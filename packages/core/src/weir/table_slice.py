"""Where an output lives in a database: for authors of database IO managers.

A database IO manager (DuckDB, PostgreSQL, a warehouse) maps each output and input to a
:class:`TableSlice` -- a schema and table, optionally narrowed to some columns and to the rows of
some partitions -- and then composes its own SQL from it. The mapping is Dagster's, so ported
assets land in the same tables:

* an asset is the table named by the **last** part of its key;
* its schema is the asset's ``schema`` metadata, else the IO manager's ``schema`` config, else the
  **second-to-last** key part (``["analytics", "orders"]`` -> ``analytics.orders``), else
  ``public``;
* an op output (no asset key) is the table named by its ``table`` metadata, else by the output
  name, so a later run's output replaces an earlier one's; its schema is the ``schema`` metadata,
  else the config, else ``public``;
* ``columns`` metadata on an input selects a subset of the columns.

Partitioned assets need ``partition_expr`` metadata: a column name or any SQL expression
(``"TO_TIMESTAMP(ts)"``), or for multi-partitioned assets a dict ``{dimension: expr}``. Each
becomes a :class:`TablePartitionDimension` holding the partition keys of the run (static and
dynamic partitions) or the time window they span (time partitions, start inclusive, end
exclusive). The IO manager turns the dimensions into its dialect's ``WHERE`` clause, with the
values bound as parameters.

Example (a read in some IO manager's ``load_input``)::

    from weir.table_slice import table_slice_for_input

    table_slice = table_slice_for_input(context, schema=self.schema)
    sql = f'SELECT * FROM "{table_slice.schema}"."{table_slice.table}"'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from weir._partitions.time_window import TimeWindow
from weir.errors import DefinitionError, InvariantViolationError, LoadInputError

__all__ = [
    "DEFAULT_SCHEMA",
    "TablePartitionDimension",
    "TableSlice",
    "table_slice_for_input",
    "table_slice_for_output",
]

DEFAULT_SCHEMA = "public"
"""The schema of a table whose key, metadata and IO manager config name none."""


@dataclass(frozen=True)
class TablePartitionDimension:
    """The rows of one partition dimension: ``partition_expr`` over ``partitions``.

    ``partitions`` is a :class:`~weir.TimeWindow` for time partitions (rows with
    ``start <= expr < end``) or the tuple of partition keys (rows with ``expr IN keys``).
    """

    partition_expr: str
    partitions: TimeWindow | tuple[str, ...]

    @property
    def time_window(self) -> TimeWindow | None:
        """The window of a time dimension, or None for a dimension of keys."""
        return self.partitions if isinstance(self.partitions, TimeWindow) else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of a dimension of keys (empty for a time dimension)."""
        return () if isinstance(self.partitions, TimeWindow) else self.partitions


@dataclass(frozen=True)
class TableSlice:
    """A table, optionally narrowed to some columns and to the rows of some partitions.

    ``database`` is left for the IO manager to fill in when its dialect qualifies names with a
    catalog. ``what`` says what the slice stores (``"asset 'a/b'"`` or ``"output 'result' of
    step 'op'"``), for error messages.
    """

    table: str
    schema: str
    database: str | None = None
    columns: tuple[str, ...] | None = None
    partition_dimensions: tuple[TablePartitionDimension, ...] = ()
    what: str = field(default="", compare=False)

    @property
    def partitioned(self) -> bool:
        """Whether the slice is some partitions' rows rather than the whole table."""
        return bool(self.partition_dimensions)

    def columns_to_load(self, table_columns: Sequence[str], table_name: str) -> list[str]:
        """The columns an input reads from a table with ``table_columns``: its ``columns``
        metadata, else all of them.

        Raises:
            LoadInputError: the ``columns`` metadata names a column the table (shown as
                ``table_name``) does not have.
        """
        wanted = list(self.columns or table_columns)
        unknown = [c for c in wanted if c not in table_columns]
        if unknown:
            msg = (
                f"Cannot load {self.what}: the 'columns' metadata names {unknown}, which table "
                f"{table_name} does not have (it has {list(table_columns)})."
            )
            raise LoadInputError(msg)
        return wanted


SliceT = TypeVar("SliceT", bound=TableSlice)


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


def table_slice_for_output(
    context: Any,
    *,
    schema: str | None = None,
    slice_type: type[SliceT] = TableSlice,  # type: ignore[assignment]  # mypy#3737
) -> SliceT:
    """The slice an ``OutputContext`` writes: ``schema`` is the IO manager's configured schema.

    ``slice_type`` lets a plugin get its own :class:`TableSlice` subclass (one with SQL helpers
    for its dialect, say); it is built with the same fields.
    """
    metadata = context.definition_metadata
    if context.has_asset_key:
        path = list(context.asset_key.path)
        what = f"asset {context.asset_key.to_user_string()!r}"
        return slice_type(
            table=path[-1],
            schema=_schema_for(metadata, schema, path),
            partition_dimensions=_partition_dimensions(context, metadata, what),
            what=what,
        )
    table = _meta(metadata, "table") or context.name
    return slice_type(
        table=str(table),
        schema=_schema_for(metadata, schema, None),
        what=f"output {context.name!r} of step {context.step_key!r}",
    )


def table_slice_for_input(
    context: Any,
    *,
    schema: str | None = None,
    slice_type: type[SliceT] = TableSlice,  # type: ignore[assignment]  # mypy#3737
) -> SliceT:
    """The slice an ``InputContext`` reads: the upstream output's table, the partitions this run
    reads of it, and the input's ``columns`` metadata."""
    upstream = context.upstream_output
    columns = _meta(context.definition_metadata, "columns")
    columns_tuple = tuple(str(c) for c in columns) if columns else None
    if upstream is None:
        try:
            name = repr(context.name)
        except InvariantViolationError:  # a context built without name=
            name = "(unnamed)"
        msg = (
            f"Cannot load input {name} from a database table: the input context has no "
            "upstream output, so there is no table to read. Build the context with "
            "upstream_output=... (or load the input through a run)."
        )
        raise InvariantViolationError(msg)
    up_meta = upstream.definition_metadata
    if context.has_asset_key or upstream.has_asset_key:
        key = context.asset_key if context.has_asset_key else upstream.asset_key
        path = list(key.path)
        what = f"asset {key.to_user_string()!r}"
        partitioned = context.has_asset_key and context.has_asset_partitions
        return slice_type(
            table=path[-1],
            schema=_schema_for(up_meta, schema, path),
            columns=columns_tuple,
            partition_dimensions=_partition_dimensions(context, up_meta, what)
            if partitioned
            else (),
            what=what,
        )
    base: TableSlice = table_slice_for_output(upstream, schema=schema)
    return slice_type(table=base.table, schema=base.schema, columns=columns_tuple, what=base.what)


# -- partitions -------------------------------------------------------------------------------------
def _is_time_partitioned(partitions_def: Any) -> bool:
    return partitions_def is not None and hasattr(partitions_def, "time_window_for_partition_key")


def _partitions_def(context: Any) -> Any:
    try:
        return context.asset_partitions_def
    except InvariantViolationError:
        return None


def _partition_dimensions(
    context: Any, metadata: Mapping[str, Any] | None, what: str
) -> tuple[TablePartitionDimension, ...]:
    if not context.has_asset_partitions:
        return ()
    expr = _meta(metadata, "partition_expr")
    asset = what.removeprefix("asset ")
    if not expr:
        # Dagster's text (a ValueError there); weir raises its definition error
        msg = (
            f"Asset {asset} has partitions, but no 'partition_expr' metadata value, so we don't "
            "know what column it's partitioned on. To specify a column, set this metadata value. "
            'E.g. @asset(metadata={"partition_expr": "your_partition_column"}).'
        )
        raise DefinitionError(msg)
    partitions_def = _partitions_def(context)
    if isinstance(expr, Mapping):
        exprs = {str(k): str(v) for k, v in expr.items()}
        return _multi_dimensions(context, exprs, partitions_def, what)
    if _is_time_partitioned(partitions_def):
        window = context.asset_partitions_time_window
        return (TablePartitionDimension(str(expr), TimeWindow(window.start, window.end)),)
    keys = tuple(str(k) for k in context.asset_partition_keys)
    return (TablePartitionDimension(str(expr), keys),)


def _dimension_defs(partitions_def: Any) -> dict[str, Any] | None:
    """``{dimension name: partitions definition}`` of a multi-partitions definition, if known."""
    dims = getattr(partitions_def, "partitions_defs", None)
    if not dims:
        return None
    return {str(d.name): d.partitions_def for d in dims}


def _multi_dimensions(
    context: Any, exprs: dict[str, str], partitions_def: Any, what: str
) -> tuple[TablePartitionDimension, ...]:
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
    values: dict[str, dict[str, None]] = {name: {} for name in names}  # ordered sets
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
            values[name][by_dim[name]] = None
    result = []
    for name in names:
        dim_def = dims.get(name) if dims is not None else None
        if dim_def is not None and _is_time_partitioned(dim_def):
            windows = [dim_def.time_window_for_partition_key(k) for k in values[name]]
            span = TimeWindow(min(w.start for w in windows), max(w.end for w in windows))
            result.append(TablePartitionDimension(exprs[name], span))
        else:
            result.append(TablePartitionDimension(exprs[name], tuple(values[name])))
    return tuple(result)
