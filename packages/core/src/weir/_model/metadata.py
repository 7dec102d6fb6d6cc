"""Metadata values: typed wrappers for the metadata attached to assets, outputs and events.

Users write plain values (``{"rows": 10, "owner": "me"}``) or explicit wrappers
(``MetadataValue.url("https://...")``); :func:`normalize_metadata` turns a mapping of either
into ``dict[str, MetadataValue]`` with Dagster's coercion rules::

    str -> TextMetadataValue          float -> FloatMetadataValue
    bool -> BoolMetadataValue         int -> IntMetadataValue      (bool is checked first)
    dict / list -> JsonMetadataValue  os.PathLike -> PathMetadataValue
    AssetKey -> DagsterAssetMetadataValue
    TableSchema -> TableSchemaMetadataValue (e.g. under "dagster/column_schema")
    TableColumnLineage -> TableColumnLineageMetadataValue
    None -> NullMetadataValue         a MetadataValue -> itself

Anything else (a datetime, a tuple, an arbitrary object) raises :class:`InvalidMetadataError`,
as Dagster does; wrap it explicitly (``MetadataValue.timestamp(dt)``) or convert it.

Every value class is immutable, compares and hashes by its fields, and pickles. They are
plain ``__slots__`` classes, because ``normalize_metadata`` runs once per materialization.
The table descriptions (``TableSchema``, ``TableColumn``, ``TableRecord``, ...), the record
base and ``InvalidMetadataError`` are defined in :mod:`weir._model.table` and re-exported here.
"""

from __future__ import annotations

import builtins
import json as _json
import logging
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, Union

from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir._model.table import (
    DagsterInvalidMetadata,
    InvalidMetadataError,
    TableColumn,
    TableColumnConstraints,
    TableColumnDep,
    TableColumnLineage,
    TableConstraints,
    TableRecord,
    TableSchema,
    _check_str,
    _check_table,
    _infer_column_type,
    _init,
    _invalid,
    _Record,
)

__all__ = [
    "DagsterAssetMetadataValue",
    "DagsterInvalidMetadata",
    "DagsterJobMetadataValue",
    "DagsterRunMetadataValue",
    "BoolMetadataValue",
    "FloatMetadataValue",
    "IntMetadataValue",
    "InvalidMetadataError",
    "JsonMetadataValue",
    "MarkdownMetadataValue",
    "MetadataMapping",
    "MetadataValue",
    "NotebookMetadataValue",
    "NullMetadataValue",
    "PathMetadataValue",
    "PoolMetadataValue",
    "PythonArtifactMetadataValue",
    "RawMetadataMapping",
    "RawMetadataValue",
    "TableColumn",
    "TableColumnConstraints",
    "TableColumnDep",
    "TableColumnLineage",
    "TableColumnLineageMetadataValue",
    "TableConstraints",
    "TableMetadataValue",
    "TableRecord",
    "TableSchema",
    "TableSchemaMetadataValue",
    "TextMetadataValue",
    "TimestampMetadataValue",
    "UrlMetadataValue",
    "normalize_metadata",
    "normalize_metadata_value",
]

logger = logging.getLogger(__name__)

T_co = TypeVar("T_co", covariant=True)

_ACCEPTED_TYPES = (
    "str, int, float, bool, dict, list, None, os.PathLike, AssetKey, TableSchema, "
    "TableColumnLineage, or a MetadataValue (MetadataValue.text/.int/.float/.bool/.json/.md/"
    ".path/.url/.table/.table_schema/.timestamp/.asset/.job/.dagster_run/.null/...)"
)


def _opt_path(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[return-value]
    msg = f"{what} must be a str or os.PathLike, got {value!r} (a {type(value).__name__})."
    raise _invalid(msg)


# -- metadata values ----------------------------------------------------------------------------------

# exact type -> builder, the fast path of normalize_metadata (filled in below and by __init_subclass__)
_FAST_NORMALIZERS: dict[type, Callable[[Any], MetadataValue[Any]]] = {}


def _identity(value: MetadataValue[Any]) -> MetadataValue[Any]:
    return value


class MetadataValue(_Record, Generic[T_co]):
    """Base of every metadata value, and the home of their constructors.

    Example::

        metadata={
            "rows": MetadataValue.int(10),
            "dashboard": MetadataValue.url("https://example.com/d/1"),
            "preview": MetadataValue.md("| a |\\n|---|\\n| 1 |"),
        }
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _FAST_NORMALIZERS[cls] = _identity  # an already-wrapped value passes through untouched

    @property
    def value(self) -> T_co:
        """The wrapped value."""
        raise NotImplementedError

    @staticmethod
    def text(text: str) -> TextMetadataValue:
        """Plain text."""
        return TextMetadataValue(text)

    @staticmethod
    def url(url: str) -> UrlMetadataValue:
        """A URL, shown as a link."""
        return UrlMetadataValue(url)

    @staticmethod
    def path(path: str | os.PathLike[str]) -> PathMetadataValue:
        """A file system path."""
        return PathMetadataValue(path)

    @staticmethod
    def notebook(path: str | os.PathLike[str]) -> NotebookMetadataValue:
        """The path of a notebook."""
        return NotebookMetadataValue(path)

    @staticmethod
    def json(data: Sequence[Any] | Mapping[str, Any]) -> JsonMetadataValue:
        """A JSON-serializable list or dict."""
        return JsonMetadataValue(data)

    @staticmethod
    def md(data: str) -> MarkdownMetadataValue:
        """Markdown text."""
        return MarkdownMetadataValue(data)

    @staticmethod
    def python_artifact(python_artifact: Callable[..., Any]) -> PythonArtifactMetadataValue:
        """A reference to a Python class or function (stored as its module and name)."""
        if not callable(python_artifact):
            msg = (
                f"MetadataValue.python_artifact needs a class or function, got {python_artifact!r}."
            )
            raise _invalid(msg)
        return PythonArtifactMetadataValue(python_artifact.__module__, python_artifact.__name__)

    @staticmethod
    def float(value: builtins.float) -> FloatMetadataValue:
        """A float."""
        return FloatMetadataValue(value)

    @staticmethod
    def int(value: builtins.int) -> IntMetadataValue:
        """An int."""
        return IntMetadataValue(value)

    @staticmethod
    def bool(value: builtins.bool) -> BoolMetadataValue:
        """A bool."""
        return BoolMetadataValue(value)

    @staticmethod
    def timestamp(value: builtins.float | datetime) -> TimestampMetadataValue:
        """A point in time: seconds since the Unix epoch, or a timezone-aware datetime."""
        if isinstance(value, datetime):
            if value.tzinfo is None:
                msg = (
                    f"MetadataValue.timestamp needs a timezone-aware datetime, but {value.isoformat()} "
                    "has no timezone; use e.g. dt.replace(tzinfo=datetime.timezone.utc)."
                )
                raise _invalid(msg)
            return TimestampMetadataValue(value.timestamp())
        return TimestampMetadataValue(value)

    @staticmethod
    def dagster_run(run_id: str) -> DagsterRunMetadataValue:
        """A reference to a run, by id."""
        return DagsterRunMetadataValue(run_id)

    @staticmethod
    def asset(asset_key: CoercibleToAssetKey) -> DagsterAssetMetadataValue:
        """A reference to an asset, by key."""
        return DagsterAssetMetadataValue(asset_key)

    @staticmethod
    def job(
        job_name: str, location_name: str | None = None, *, repository_name: str | None = None
    ) -> DagsterJobMetadataValue:
        """A reference to a job, by name (and code location)."""
        return DagsterJobMetadataValue(job_name, location_name, repository_name)

    @staticmethod
    def table(
        records: Sequence[TableRecord], schema: TableSchema | None = None
    ) -> TableMetadataValue:
        """A small table of records; the schema is inferred from the first record when omitted."""
        return TableMetadataValue(records, schema)

    @staticmethod
    def table_schema(schema: TableSchema) -> TableSchemaMetadataValue:
        """A table schema (column names, types and constraints)."""
        return TableSchemaMetadataValue(schema)

    @staticmethod
    def column_lineage(lineage: TableColumnLineage) -> TableColumnLineageMetadataValue:
        """Column-level lineage of a table."""
        return TableColumnLineageMetadataValue(lineage)

    @staticmethod
    def pool(pool: str) -> PoolMetadataValue:
        """The name of a concurrency pool."""
        return PoolMetadataValue(pool)

    @staticmethod
    def null() -> NullMetadataValue:
        """The absence of a value."""
        return NullMetadataValue()


class TextMetadataValue(MetadataValue[str]):
    """Text (``None`` becomes ``""``)."""

    __slots__ = ("text",)
    _fields = ("text",)
    text: str  # type: ignore[assignment]

    def __init__(self, text: str | None) -> None:
        _init(self, text="" if text is None else _check_str(text, "TextMetadataValue text"))

    @property
    def value(self) -> str:
        return self.text


class UrlMetadataValue(MetadataValue[str]):
    """A URL (``None`` becomes ``""``)."""

    __slots__ = ("url",)
    _fields = ("url",)
    url: str  # type: ignore[assignment]

    def __init__(self, url: str | None) -> None:
        _init(self, url="" if url is None else _check_str(url, "UrlMetadataValue url"))

    @property
    def value(self) -> str:
        return self.url


class PathMetadataValue(MetadataValue[str]):
    """A path, stored as a str (``os.PathLike`` is converted with ``os.fspath``)."""

    __slots__ = ("path",)
    _fields = ("path",)
    path: str  # type: ignore[assignment]

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        _init(self, path=_opt_path(path, "PathMetadataValue path"))

    @property
    def value(self) -> str:
        return self.path


class NotebookMetadataValue(MetadataValue[str]):
    """The path of a notebook, stored as a str."""

    __slots__ = ("path",)
    _fields = ("path",)
    path: str  # type: ignore[assignment]

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        _init(self, path=_opt_path(path, "NotebookMetadataValue path"))

    @property
    def value(self) -> str:
        return self.path


class JsonMetadataValue(MetadataValue[Union[Sequence[Any], Mapping[str, Any], None]]):
    """JSON data: a list or dict that ``json.dumps`` accepts."""

    __slots__ = ("data",)
    _fields = ("data",)
    data: Sequence[Any] | Mapping[str, Any] | None

    def __init__(self, data: Sequence[Any] | Mapping[str, Any] | None) -> None:
        if data is not None:
            if not isinstance(data, (Sequence, Mapping)):
                msg = f"JsonMetadataValue data must be a list or dict, got {type(data).__name__}."
                raise _invalid(msg)
            try:
                _json.dumps(data)
            except (TypeError, ValueError) as exc:
                msg = f"Value is not JSON serializable: {exc}. Convert the offending entries (e.g. with str()) first."
                raise _invalid(msg) from exc
        _init(self, data=data)

    @property
    def value(self) -> Sequence[Any] | Mapping[str, Any] | None:
        return self.data


class MarkdownMetadataValue(MetadataValue[str]):
    """Markdown text (``None`` becomes ``""``)."""

    __slots__ = ("md_str",)
    _fields = ("md_str",)
    md_str: str

    def __init__(self, md_str: str | None) -> None:
        _init(
            self,
            md_str="" if md_str is None else _check_str(md_str, "MarkdownMetadataValue md_str"),
        )

    @property
    def value(self) -> str:
        return self.md_str


class PythonArtifactMetadataValue(MetadataValue["PythonArtifactMetadataValue"]):
    """A Python class or function, by module and name; ``.value`` is the object itself."""

    __slots__ = ("module", "name")
    _fields = ("module", "name")
    module: str
    name: str

    def __init__(self, module: str, name: str) -> None:
        _init(self, module=_check_str(module, "module"), name=_check_str(name, "name"))

    @property
    def value(self) -> PythonArtifactMetadataValue:
        return self


class FloatMetadataValue(MetadataValue[float]):
    """A float (an int is converted; ``None`` is kept)."""

    __slots__ = ("value",)
    _fields = ("value",)
    value: builtins.float | None  # type: ignore[assignment]

    def __init__(self, value: builtins.float | None) -> None:
        if value is not None and type(value) is not builtins.float:
            if not isinstance(value, (builtins.float, builtins.int)) or isinstance(
                value, builtins.bool
            ):
                msg = f"FloatMetadataValue needs a float, got {value!r} (a {type(value).__name__})."
                raise _invalid(msg)
            value = builtins.float(value)
        _init(self, value=value)


class IntMetadataValue(MetadataValue[int]):
    """An int (``None`` is kept)."""

    __slots__ = ("value",)
    _fields = ("value",)
    value: builtins.int | None  # type: ignore[assignment]

    def __init__(self, value: builtins.int | None) -> None:
        if value is not None and not isinstance(value, builtins.int):
            msg = f"IntMetadataValue needs an int, got {value!r} (a {type(value).__name__})."
            raise _invalid(msg)
        _init(self, value=value)


class BoolMetadataValue(MetadataValue[bool]):
    """A bool (``None`` is kept)."""

    __slots__ = ("value",)
    _fields = ("value",)
    value: builtins.bool | None  # type: ignore[assignment]

    def __init__(self, value: builtins.bool | None) -> None:
        if value is not None and not isinstance(value, builtins.bool):
            msg = f"BoolMetadataValue needs a bool, got {value!r} (a {type(value).__name__})."
            raise _invalid(msg)
        _init(self, value=value)


class TimestampMetadataValue(MetadataValue[float]):
    """A point in time, as seconds since the Unix epoch."""

    __slots__ = ("value",)
    _fields = ("value",)
    value: builtins.float  # type: ignore[assignment]

    def __init__(self, value: builtins.float) -> None:
        if type(value) is not builtins.float:
            if not isinstance(value, (builtins.float, builtins.int)) or isinstance(
                value, builtins.bool
            ):
                msg = (
                    f"TimestampMetadataValue needs seconds since the epoch (a float), got {value!r} "
                    f"(a {type(value).__name__}); for a datetime use MetadataValue.timestamp(dt)."
                )
                raise _invalid(msg)
            value = builtins.float(value)
        _init(self, value=value)


class DagsterRunMetadataValue(MetadataValue[str]):
    """A reference to a run, by id."""

    __slots__ = ("run_id",)
    _fields = ("run_id",)
    run_id: str

    def __init__(self, run_id: str) -> None:
        _init(self, run_id=_check_str(run_id, "run_id"))

    @property
    def value(self) -> str:
        return self.run_id


class DagsterJobMetadataValue(MetadataValue["DagsterJobMetadataValue"]):
    """A reference to a job, by name, code location and repository; ``.value`` is itself."""

    __slots__ = ("job_name", "location_name", "repository_name")
    _fields = ("job_name", "location_name", "repository_name")
    job_name: str
    location_name: str | None
    repository_name: str | None

    def __init__(
        self, job_name: str, location_name: str | None = None, repository_name: str | None = None
    ) -> None:
        _init(
            self,
            job_name=_check_str(job_name, "job_name"),
            location_name=_check_str(location_name, "location_name", optional=True),
            repository_name=_check_str(repository_name, "repository_name", optional=True),
        )

    @property
    def value(self) -> DagsterJobMetadataValue:
        return self


class DagsterAssetMetadataValue(MetadataValue[AssetKey]):
    """A reference to an asset, by key."""

    __slots__ = ("asset_key",)
    _fields = ("asset_key",)
    asset_key: AssetKey

    def __init__(self, asset_key: CoercibleToAssetKey) -> None:
        _init(self, asset_key=AssetKey.from_coercible(asset_key))

    @property
    def value(self) -> AssetKey:
        return self.asset_key


class TableMetadataValue(MetadataValue["TableMetadataValue"]):
    """A small table: records plus a schema (inferred from the first record when omitted)."""

    __slots__ = ("records", "schema")
    _fields = ("records", "schema")
    records: list[TableRecord]
    schema: TableSchema

    infer_column_type = staticmethod(_infer_column_type)

    def __init__(self, records: Sequence[TableRecord], schema: TableSchema | None = None) -> None:
        checked_records, checked_schema = _check_table(records, schema)
        _init(self, records=checked_records, schema=checked_schema)

    @property
    def value(self) -> TableMetadataValue:
        return self


class TableSchemaMetadataValue(MetadataValue[TableSchema]):
    """A :class:`TableSchema`."""

    __slots__ = ("schema",)
    _fields = ("schema",)
    schema: TableSchema

    def __init__(self, schema: TableSchema) -> None:
        if not isinstance(schema, TableSchema):
            msg = f"TableSchemaMetadataValue needs a TableSchema, got {type(schema).__name__}."
            raise _invalid(msg)
        _init(self, schema=schema)

    @property
    def value(self) -> TableSchema:
        return self.schema


class TableColumnLineageMetadataValue(MetadataValue[TableColumnLineage]):
    """A :class:`TableColumnLineage`."""

    __slots__ = ("column_lineage",)
    _fields = ("column_lineage",)
    column_lineage: TableColumnLineage  # type: ignore[assignment]

    def __init__(self, column_lineage: TableColumnLineage) -> None:
        if not isinstance(column_lineage, TableColumnLineage):
            msg = f"TableColumnLineageMetadataValue needs a TableColumnLineage, got {type(column_lineage).__name__}."
            raise _invalid(msg)
        _init(self, column_lineage=column_lineage)

    @property
    def value(self) -> TableColumnLineage:
        return self.column_lineage


class PoolMetadataValue(MetadataValue[str]):
    """The name of a concurrency pool."""

    __slots__ = ("pool",)
    _fields = ("pool",)
    pool: str  # type: ignore[assignment]

    def __init__(self, pool: str) -> None:
        _init(self, pool=_check_str(pool, "pool"))

    @property
    def value(self) -> str:
        return self.pool


class NullMetadataValue(MetadataValue[None]):
    """The absence of a value."""

    __slots__ = ()
    _fields = ()

    @property
    def value(self) -> None:
        return None


RawMetadataValue = Union[
    MetadataValue[Any],
    TableSchema,
    TableColumnLineage,
    AssetKey,
    os.PathLike,
    dict,
    list,
    float,
    int,
    str,
    None,
]
MetadataMapping = Mapping[str, MetadataValue[Any]]
RawMetadataMapping = Mapping[str, Any]


# -- normalization ------------------------------------------------------------------------------------


def _fast_builder(cls: type[Any], slot: str) -> Callable[[Any], Any]:
    """Build ``cls`` around an already type-checked value, skipping ``__init__`` (hot path)."""
    set_slot = cls.__dict__[slot].__set__
    new = object.__new__

    def build(value: Any) -> Any:
        obj = new(cls)
        set_slot(obj, value)
        return obj

    return build


_NULL = NullMetadataValue()

_FAST_NORMALIZERS.update(
    {
        str: _fast_builder(TextMetadataValue, "text"),
        builtins.int: _fast_builder(IntMetadataValue, "value"),
        builtins.float: _fast_builder(FloatMetadataValue, "value"),
        builtins.bool: _fast_builder(BoolMetadataValue, "value"),
        type(None): lambda _value: _NULL,
    }
)


def normalize_metadata_value(raw_value: Any) -> MetadataValue[Any]:
    """Wrap one raw value in its MetadataValue class (see the module docstring for the rules)."""
    build = _FAST_NORMALIZERS.get(type(raw_value))
    if build is not None:
        return build(raw_value)
    # subclasses of the basic types, in Dagster's order (str, float, bool before int, ...)
    if isinstance(raw_value, MetadataValue):
        return raw_value
    if isinstance(raw_value, str):
        return TextMetadataValue(raw_value)
    if isinstance(raw_value, builtins.float):
        return FloatMetadataValue(raw_value)
    if isinstance(raw_value, builtins.bool):
        return BoolMetadataValue(raw_value)
    if isinstance(raw_value, builtins.int):
        return IntMetadataValue(raw_value)
    if isinstance(raw_value, (list, dict)):
        return JsonMetadataValue(raw_value)
    if isinstance(raw_value, os.PathLike):
        return PathMetadataValue(raw_value)
    if isinstance(raw_value, AssetKey):
        return DagsterAssetMetadataValue(raw_value)
    if isinstance(raw_value, TableSchema):
        return TableSchemaMetadataValue(raw_value)
    if isinstance(raw_value, TableColumnLineage):
        return TableColumnLineageMetadataValue(raw_value)
    hint = ""
    if isinstance(raw_value, datetime):
        hint = " For a datetime use MetadataValue.timestamp(dt) (timezone-aware) or dt.isoformat()."
    elif isinstance(raw_value, tuple):
        hint = " For a tuple use a list (stored as JSON)."
    msg = (
        f"Its type was {type(raw_value).__module__}.{type(raw_value).__qualname__}; accepted are "
        f"{_ACCEPTED_TYPES}. Wrap the value with the matching MetadataValue constructor or convert it "
        f"(e.g. str(value)).{hint}"
    )
    raise _invalid(msg)


def normalize_metadata(
    metadata: Mapping[str, Any] | None, *, allow_invalid: bool = False
) -> dict[str, MetadataValue[Any]]:
    """Coerce a metadata mapping to ``dict[str, MetadataValue]``.

    Keys must be str. With ``allow_invalid=True`` an unsupported value becomes the text
    ``"[ClassName] (unserializable)"`` with a ``DeprecationWarning`` instead of an error
    (Dagster does this for definition metadata).

    Example::

        >>> normalize_metadata({"rows": 3, "ok": True})
        {'rows': IntMetadataValue(value=3), 'ok': BoolMetadataValue(value=True)}
    """
    if metadata is None:
        return {}
    if type(metadata) is not dict and not isinstance(metadata, Mapping):
        msg = f"Metadata must be a mapping of str keys to values, got {type(metadata).__name__}: {metadata!r}."
        raise _invalid(msg)
    if not metadata:
        return {}
    fast = _FAST_NORMALIZERS
    normalized: dict[str, MetadataValue[Any]] = {}
    for key, raw_value in metadata.items():
        if type(key) is not str and not isinstance(key, str):
            msg = f"Metadata keys must be str, got {key!r} (a {type(key).__name__}) with value {raw_value!r}."
            raise _invalid(msg)
        build = fast.get(type(raw_value))
        if build is not None:
            normalized[key] = build(raw_value)
            continue
        try:
            normalized[key] = normalize_metadata_value(raw_value)
        except InvalidMetadataError as exc:
            if not allow_invalid:
                msg = f'Could not resolve the metadata value for "{key}" to a known type. {exc}'
                raise InvalidMetadataError(msg) from None
            warnings.warn(
                f'Metadata value for "{key}" of type {type(raw_value).__name__} is not supported and is '
                "stored as placeholder text; use one of the supported metadata types.",
                DeprecationWarning,
                stacklevel=2,
            )
            normalized[key] = TextMetadataValue(f"[{type(raw_value).__name__}] (unserializable)")
    return normalized
