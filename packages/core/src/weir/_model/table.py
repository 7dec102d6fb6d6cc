"""Tables in metadata: schemas, columns, constraints, records and column lineage.

These describe a table's shape for metadata such as ``"dagster/column_schema"``
(:class:`TableSchema`, wrapped by ``TableSchemaMetadataValue``), small tables of rows
(:class:`TableRecord`, wrapped by ``TableMetadataValue``) and column-level lineage
(:class:`TableColumnLineage`). The ``MetadataValue`` wrappers themselves live in
:mod:`weir._model.metadata`, which re-exports every name here; import them from there.

This module sits below ``metadata.py`` (it must not import it), so it also holds what both
need: the immutable ``__slots__`` record base ``_Record`` (shared with ``results.py``), its
small validation helpers, and :class:`InvalidMetadataError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir.errors import DefinitionError

__all__ = [
    "DagsterInvalidMetadata",
    "InvalidMetadataError",
    "TableColumn",
    "TableColumnConstraints",
    "TableColumnDep",
    "TableColumnLineage",
    "TableConstraints",
    "TableRecord",
    "TableSchema",
]

logger = logging.getLogger(__name__)


class InvalidMetadataError(DefinitionError):
    """A metadata value (or key) has a type weir cannot store (Dagster: ``DagsterInvalidMetadata``)."""


DagsterInvalidMetadata = InvalidMetadataError


# -- an immutable record base shared by every value object here, in metadata.py and in results.py ---


def _freeze(value: Any) -> Any:
    """A hashable stand-in for ``value`` (dicts and lists inside metadata become frozen)."""
    if isinstance(value, Mapping):
        return frozenset((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _restore(cls: type[Any], values: tuple[Any, ...]) -> Any:
    """Unpickle a record: set its slots directly (the values were validated when first built)."""
    obj = object.__new__(cls)
    for name, value in zip(cls._fields, values, strict=False):
        object.__setattr__(obj, name, value)
    return obj


class _Record:
    """Immutable ``__slots__`` record: equality, hash, repr and pickling from ``_fields``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"{type(self).__name__} is immutable; build a new one instead of setting {name!r}."
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = f"{type(self).__name__} is immutable; cannot delete {name!r}."
        raise AttributeError(msg)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, _freeze(self._values())))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self._values()))


def _init(obj: Any, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(obj, name, value)


def _invalid(msg: str) -> InvalidMetadataError:
    return InvalidMetadataError(msg)


def _check_str(value: Any, what: str, *, optional: bool = False) -> Any:
    if isinstance(value, str) or (optional and value is None):
        return value
    expected = "a str or None" if optional else "a str"
    msg = f"{what} must be {expected}, got {value!r} (a {type(value).__name__})."
    raise _invalid(msg)


# -- tables ------------------------------------------------------------------------------------------

_RECORD_VALUE_TYPES = (str, int, float, bool, type(None))


class TableRecord(_Record):
    """One row of a table: a mapping of column name to a str, int, float, bool or None.

    ``TableRecord({"id": 1, "name": "a"})`` (the keyword form ``TableRecord(id=1, name="a")``
    is accepted too).
    """

    __slots__ = ("data",)
    _fields = ("data",)
    data: Mapping[str, str | int | float | bool | None]

    def __init__(
        self, data: Mapping[str, str | int | float | bool | None] | None = None, **fields: Any
    ) -> None:
        if data is None:
            data = fields
        elif fields:
            msg = "TableRecord takes either one mapping or keyword fields, not both."
            raise _invalid(msg)
        if not isinstance(data, Mapping):
            msg = f"TableRecord data must be a mapping of column name to value, got {type(data).__name__}."
            raise _invalid(msg)
        for key, value in data.items():
            if not isinstance(key, str) or not isinstance(value, _RECORD_VALUE_TYPES):
                msg = (
                    f"TableRecord field {key!r} = {value!r} (a {type(value).__name__}) is not allowed: "
                    "field names must be str and values str, int, float, bool or None."
                )
                raise _invalid(msg)
        _init(self, data=dict(data))


class TableConstraints(_Record):
    """Table-level constraints, described as strings (e.g. ``"a > b"``)."""

    __slots__ = ("other",)
    _fields = ("other",)
    other: list[str]

    def __init__(self, other: Sequence[str]) -> None:
        if isinstance(other, str) or not all(isinstance(o, str) for o in other):
            msg = f"TableConstraints(other=...) must be a list of str, got {other!r}."
            raise _invalid(msg)
        _init(self, other=list(other))


class TableColumnConstraints(_Record):
    """Column constraints: ``nullable``, ``unique`` and free-text ``other`` constraints."""

    __slots__ = ("nullable", "other", "unique")
    _fields = ("nullable", "unique", "other")
    nullable: bool
    unique: bool
    other: list[str]

    def __init__(
        self, nullable: bool = True, unique: bool = False, other: Sequence[str] | None = None
    ) -> None:
        if not isinstance(nullable, bool) or not isinstance(unique, bool):
            msg = f"TableColumnConstraints nullable/unique must be bool, got nullable={nullable!r}, unique={unique!r}."
            raise _invalid(msg)
        if other is not None and (
            isinstance(other, str) or not all(isinstance(o, str) for o in other)
        ):
            msg = f"TableColumnConstraints(other=...) must be a list of str, got {other!r}."
            raise _invalid(msg)
        _init(self, nullable=nullable, unique=unique, other=list(other or ()))


_DEFAULT_COLUMN_CONSTRAINTS = TableColumnConstraints()


class TableColumn(_Record):
    """A column of a :class:`TableSchema`: a name, a type (``"string"`` by default) and more."""

    __slots__ = ("constraints", "description", "name", "tags", "type")
    _fields = ("name", "type", "description", "constraints", "tags")
    name: str
    type: str
    description: str | None
    constraints: TableColumnConstraints
    tags: dict[str, str]

    def __init__(
        self,
        name: str,
        type: str = "string",
        description: str | None = None,
        constraints: TableColumnConstraints | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _check_str(name, "TableColumn name")
        _check_str(type, f"TableColumn {name!r} type")
        _check_str(description, f"TableColumn {name!r} description", optional=True)
        if constraints is not None and not isinstance(constraints, TableColumnConstraints):
            msg = f"TableColumn {name!r} constraints must be a TableColumnConstraints, got {constraints.__class__.__name__}."
            raise _invalid(msg)
        tag_dict = dict(tags or {})
        for key, value in tag_dict.items():
            if not isinstance(key, str) or not isinstance(value, str):
                msg = f"TableColumn {name!r} tags must map str to str, got {key!r}: {value!r}."
                raise _invalid(msg)
        _init(
            self,
            name=name,
            type=type,
            description=description,
            constraints=constraints or _DEFAULT_COLUMN_CONSTRAINTS,
            tags=tag_dict,
        )


_DEFAULT_TABLE_CONSTRAINTS = TableConstraints(other=[])


class TableSchema(_Record):
    """The schema of a table: its columns and table-level constraints.

    Example::

        TableSchema(columns=[TableColumn("id", "int"), TableColumn("name")])
        TableSchema.from_name_type_dict({"id": "int", "name": "string"})
    """

    __slots__ = ("columns", "constraints")
    _fields = ("columns", "constraints")
    columns: list[TableColumn]
    constraints: TableConstraints

    def __init__(
        self, columns: Sequence[TableColumn], constraints: TableConstraints | None = None
    ) -> None:
        if isinstance(columns, (str, Mapping)) or not isinstance(columns, Sequence):
            msg = (
                f"TableSchema columns must be a list of TableColumn, got {type(columns).__name__}."
            )
            raise _invalid(msg)
        for column in columns:
            if not isinstance(column, TableColumn):
                msg = f"TableSchema columns must be TableColumn objects, got {column!r} (a {type(column).__name__})."
                raise _invalid(msg)
        if constraints is not None and not isinstance(constraints, TableConstraints):
            msg = f"TableSchema constraints must be a TableConstraints, got {type(constraints).__name__}."
            raise _invalid(msg)
        _init(self, columns=list(columns), constraints=constraints or _DEFAULT_TABLE_CONSTRAINTS)

    @staticmethod
    def from_name_type_dict(name_type_dict: Mapping[str, str]) -> TableSchema:
        """A schema with one column per ``name: type`` entry."""
        return TableSchema(columns=[TableColumn(name=n, type=t) for n, t in name_type_dict.items()])


class TableColumnDep(_Record):
    """A column of an asset that another column depends on (for column lineage)."""

    __slots__ = ("asset_key", "column_name")
    _fields = ("asset_key", "column_name")
    asset_key: AssetKey
    column_name: str

    def __init__(self, asset_key: CoercibleToAssetKey, column_name: str) -> None:
        _check_str(column_name, "TableColumnDep column_name")
        _init(self, asset_key=AssetKey.from_coercible(asset_key), column_name=column_name)


class TableColumnLineage(_Record):
    """For each column of a table, the upstream columns it is computed from."""

    __slots__ = ("deps_by_column",)
    _fields = ("deps_by_column",)
    deps_by_column: dict[str, list[TableColumnDep]]

    def __init__(self, deps_by_column: Mapping[str, Sequence[TableColumnDep]]) -> None:
        if not isinstance(deps_by_column, Mapping):
            msg = f"TableColumnLineage deps_by_column must be a mapping of column name to a list of TableColumnDep, got {type(deps_by_column).__name__}."
            raise _invalid(msg)
        normalized: dict[str, list[TableColumnDep]] = {}
        for column, deps in deps_by_column.items():
            if not isinstance(column, str) or not all(isinstance(d, TableColumnDep) for d in deps):
                msg = f"TableColumnLineage: column {column!r} must be a str mapped to a list of TableColumnDep."
                raise _invalid(msg)
            ordered = sorted(deps, key=lambda d: (d.asset_key.parts, d.column_name))
            if len({(d.asset_key, d.column_name) for d in ordered}) != len(ordered):
                msg = f"TableColumnLineage: the deps of column {column!r} must be unique by asset key and column name."
                raise _invalid(msg)
            normalized[column] = ordered
        _init(self, deps_by_column=normalized)


def _infer_column_type(value: object) -> str:
    """The :class:`TableColumn` type of a record value: ``bool``, ``int``, ``float`` or ``string``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


def _check_table(
    records: Sequence[TableRecord], schema: TableSchema | None
) -> tuple[list[TableRecord], TableSchema]:
    """Validate ``TableMetadataValue`` arguments; infer the schema from the first record if omitted."""
    if isinstance(records, (str, Mapping)) or not all(isinstance(r, TableRecord) for r in records):
        msg = "TableMetadataValue records must be a list of TableRecord."
        raise _invalid(msg)
    if schema is not None and not isinstance(schema, TableSchema):
        msg = f"TableMetadataValue schema must be a TableSchema, got {type(schema).__name__}."
        raise _invalid(msg)
    records = list(records)
    if not records:
        if schema is None:
            msg = "TableMetadataValue with no records needs a schema= (it cannot be inferred)."
            raise _invalid(msg)
    else:
        columns = set(records[0].data)
        for i, record in enumerate(records[1:], start=1):
            if set(record.data) != columns:
                msg = (
                    f"All records of a TableMetadataValue must have the same fields: record 0 has "
                    f"{sorted(columns)}, record {i} has {sorted(record.data)}."
                )
                raise _invalid(msg)
        if schema is None:
            schema = TableSchema(
                [TableColumn(k, _infer_column_type(v)) for k, v in records[0].data.items()]
            )
    return records, schema
