"""The value objects user code returns or yields: outputs, results and asset events.

- :class:`Output` / :class:`DynamicOutput`: a value for one (dynamic) output of an op or asset.
- :class:`MaterializeResult`: "this asset was materialized", with metadata, check results and
  optionally ``value=`` for the IO manager; without a value no IO manager is called.
- :class:`ObserveResult`: the result of observing an (external) asset.
- :class:`AssetMaterialization` / :class:`AssetObservation`: events logged by user code.
- :class:`DataVersion`, :class:`DataVersionsByPartition`, :class:`ExpectationResult`.

All are immutable, compare by their fields, have a readable repr and pickle (they may cross
process boundaries). Metadata on events and outputs is normalized to ``MetadataValue``s as in
Dagster; ``MaterializeResult``/``ObserveResult`` keep the mapping as given, as Dagster does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir._model.metadata import (
    MetadataValue,
    PathMetadataValue,
    _init,
    _Record,
    normalize_metadata,
)
from weir.errors import DefinitionError, InvariantViolationError

__all__ = [
    "DATA_VERSION_TAG",
    "DEFAULT_OUTPUT",
    "AssetMaterialization",
    "AssetObservation",
    "DataVersion",
    "DataVersionsByPartition",
    "DynamicOutput",
    "ExpectationResult",
    "MaterializeResult",
    "ObserveResult",
    "Output",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_OUTPUT = "result"
DATA_VERSION_TAG = "dagster/data_version"

_MAPPING_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_KEY_SPLIT = re.compile(r"[^A-Za-z0-9_]")


class _NoValue:
    """Marks a ``MaterializeResult`` built without ``value=``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __reduce__(self) -> str:
        return "_NO_VALUE"  # pickles as the module-level singleton


_NO_VALUE: Any = _NoValue()


def _check_tags(tags: Mapping[str, str] | None, where: str) -> dict[str, str] | None:
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        msg = f"{where}: tags must be a mapping of str to str, got {type(tags).__name__}."
        raise DefinitionError(msg)
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            msg = f"{where}: tag {key!r}: {value!r} is invalid; tag keys and values must be str."
            raise DefinitionError(msg)
    return dict(tags)


def _check_output_name(output_name: str, where: str) -> str:
    if not isinstance(output_name, str):
        msg = f"{where}: output_name must be a str, got {output_name!r} (a {type(output_name).__name__})."
        raise DefinitionError(msg)
    return output_name


def _event_asset_key(asset_key: CoercibleToAssetKey, where: str) -> AssetKey:
    """Dagster's event-key rule: a str is split on every character outside ``[A-Za-z0-9_]``."""
    if isinstance(asset_key, AssetKey):
        return asset_key
    if isinstance(asset_key, str):
        parts = [p for p in _KEY_SPLIT.split(asset_key) if p]
        if not parts:
            msg = f"{where}: asset_key {asset_key!r} has no letters, digits or underscores; it cannot name an asset."
            raise DefinitionError(msg)
        return AssetKey(parts)
    return AssetKey.from_coercible(asset_key)


# -- data versions ------------------------------------------------------------------------------------


class DataVersion(_Record):
    """The version of an asset's data (e.g. a hash of its content), as a string."""

    __slots__ = ("value",)
    _fields = ("value",)
    value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            msg = f"DataVersion needs a str, got {value!r} (a {type(value).__name__}); e.g. DataVersion(str(x))."
            raise DefinitionError(msg)
        _init(self, value=value)


def _coerce_data_version(data_version: DataVersion | str | None, where: str) -> DataVersion | None:
    if data_version is None or isinstance(data_version, DataVersion):
        return data_version
    if isinstance(data_version, str):
        return DataVersion(data_version)
    msg = (
        f"{where}: data_version must be a DataVersion (or str), got {type(data_version).__name__}."
    )
    raise DefinitionError(msg)


class DataVersionsByPartition(_Record):
    """Data versions of several partitions of one asset, ``{partition_key: DataVersion}``."""

    __slots__ = ("data_versions_by_partition",)
    _fields = ("data_versions_by_partition",)
    data_versions_by_partition: dict[str, DataVersion]

    def __init__(self, data_versions_by_partition: Mapping[str, DataVersion | str]) -> None:
        if not isinstance(data_versions_by_partition, Mapping):
            msg = f"DataVersionsByPartition needs a mapping of partition key to DataVersion, got {type(data_versions_by_partition).__name__}."
            raise DefinitionError(msg)
        versions: dict[str, DataVersion] = {}
        for key, version in data_versions_by_partition.items():
            if not isinstance(key, str):
                msg = f"DataVersionsByPartition: partition keys must be str, got {key!r}."
                raise DefinitionError(msg)
            versions[key] = _coerce_data_version(version, f"DataVersionsByPartition[{key!r}]")  # type: ignore[assignment]
            if versions[key] is None:
                msg = f"DataVersionsByPartition[{key!r}]: the data version must not be None."
                raise DefinitionError(msg)
        _init(self, data_versions_by_partition=versions)


# -- outputs ------------------------------------------------------------------------------------------


class Output(_Record, Generic[T]):
    """A value for one output of an op or asset, with metadata, data version and tags.

    Example::

        @multi_asset(outs={"a": AssetOut(), "b": AssetOut()})
        def two():
            yield Output(1, output_name="a", metadata={"rows": 1})
            yield Output(2, output_name="b")
    """

    __slots__ = ("data_version", "metadata", "output_name", "tags", "value")
    _fields = ("value", "output_name", "metadata", "data_version", "tags")
    value: T
    output_name: str
    metadata: dict[str, MetadataValue[Any]]
    data_version: DataVersion | None
    tags: dict[str, str] | None
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        value: T,
        output_name: str = DEFAULT_OUTPUT,
        metadata: Mapping[str, Any] | None = None,
        data_version: DataVersion | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        where = f"Output {output_name!r}"
        _init(
            self,
            value=value,
            output_name=_check_output_name(output_name, "Output"),
            metadata=normalize_metadata(metadata),
            data_version=_coerce_data_version(data_version, where),
            tags=_check_tags(tags, where),
        )

    def with_metadata(self, metadata: Mapping[str, Any] | None) -> Output[T]:
        """A copy with ``metadata`` replacing the current metadata."""
        return Output(self.value, self.output_name, metadata, self.data_version, tags=self.tags)


class DynamicOutput(_Record, Generic[T]):
    """One value of a dynamic output, told apart from its siblings by ``mapping_key``.

    The mapping key becomes part of downstream step keys (``op[mapping_key]``), so it may
    contain only letters, digits and underscores.
    """

    __slots__ = ("mapping_key", "metadata", "output_name", "value")
    _fields = ("value", "mapping_key", "output_name", "metadata")
    value: T
    mapping_key: str
    output_name: str
    metadata: dict[str, MetadataValue[Any]]
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        value: T,
        mapping_key: str,
        output_name: str = DEFAULT_OUTPUT,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(mapping_key, str) or not _MAPPING_KEY.match(mapping_key):
            suggestion = (
                re.sub(r"[^A-Za-z0-9_]", "_", mapping_key) if isinstance(mapping_key, str) else None
            )
            msg = (
                f"DynamicOutput mapping_key {mapping_key!r} is invalid: it must be a non-empty str of "
                "letters, digits and underscores ([A-Za-z0-9_]), because it becomes part of step keys"
                + (f"; e.g. {suggestion!r}." if suggestion else ".")
            )
            raise DefinitionError(msg)
        _init(
            self,
            value=value,
            mapping_key=mapping_key,
            output_name=_check_output_name(output_name, "DynamicOutput"),
            metadata=normalize_metadata(metadata),
        )


# -- asset results --------------------------------------------------------------------------------------


def _coerce_result_args(
    cls_name: str,
    asset_key: CoercibleToAssetKey | None,
    metadata: Mapping[str, Any] | None,
    check_results: Sequence[Any] | None,
    data_version: DataVersion | None,
    tags: Mapping[str, str] | None,
) -> dict[str, Any]:
    if metadata is not None and not isinstance(metadata, Mapping):
        msg = f"{cls_name}: metadata must be a mapping of str to values, got {type(metadata).__name__}."
        raise DefinitionError(msg)
    if check_results is not None and (
        isinstance(check_results, (str, Mapping)) or not isinstance(check_results, Sequence)
    ):
        msg = f"{cls_name}: check_results must be a list of AssetCheckResult, got {type(check_results).__name__}."
        raise DefinitionError(msg)
    return {
        "asset_key": AssetKey.from_coercible(asset_key) if asset_key else None,
        "metadata": metadata,
        "check_results": list(check_results or ()),
        "data_version": _coerce_data_version(data_version, cls_name),
        "tags": _check_tags(tags, cls_name),
    }


class _AssetResult(_Record):
    __slots__ = ("asset_key", "check_results", "data_version", "metadata", "tags")
    asset_key: AssetKey | None
    metadata: Mapping[str, Any] | None
    check_results: list[Any]
    data_version: DataVersion | None
    tags: dict[str, str] | None
    __hash__ = None  # type: ignore[assignment]

    def check_result_named(self, check_name: str) -> Any:
        """The check result for ``check_name``."""
        for result in self.check_results:
            if getattr(result, "check_name", None) == check_name:
                return result
        names = [getattr(r, "check_name", None) for r in self.check_results]
        msg = f"{type(self).__name__} has no check result named {check_name!r}; it has {names}."
        raise InvariantViolationError(msg)


class MaterializeResult(_AssetResult, Generic[T]):
    """Returned by an asset to report its materialization.

    Without ``value=`` (the common case) the asset's body stored the data itself and no IO
    manager is called; with ``value=`` the value is handed to the IO manager like a plain
    return value. ``asset_key`` is needed only when one function produces several assets.
    ``metadata`` is kept as given and normalized when the materialization event is built.

    Example::

        @asset
        def table() -> MaterializeResult:
            n = write_table()
            return MaterializeResult(metadata={"dagster/row_count": n})
    """

    __slots__ = ("_value",)
    _fields = ("asset_key", "metadata", "check_results", "data_version", "tags", "_value")
    _value: Any

    def __init__(
        self,
        asset_key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        check_results: Sequence[Any] | None = None,
        data_version: DataVersion | None = None,
        tags: Mapping[str, str] | None = None,
        value: T = _NO_VALUE,
    ) -> None:
        _init(
            self,
            **_coerce_result_args(
                "MaterializeResult", asset_key, metadata, check_results, data_version, tags
            ),
            _value=value,
        )

    @property
    def has_value(self) -> bool:
        """Whether ``value=`` was given (and so whether an IO manager will store it)."""
        return self._value is not _NO_VALUE

    @property
    def value(self) -> T | None:
        """The value passed as ``value=``, or None when none was given (see :attr:`has_value`)."""
        return None if self._value is _NO_VALUE else self._value  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in self._fields[:-1]]
        if self.has_value:
            parts.append(f"value={self._value!r}")
        return f"MaterializeResult({', '.join(parts)})"


class ObserveResult(_AssetResult):
    """Returned by an observation function (``@observable_source_asset``) to report metadata,
    check results and the observed data version."""

    __slots__ = ()
    _fields = ("asset_key", "metadata", "check_results", "data_version", "tags")

    def __init__(
        self,
        asset_key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        check_results: Sequence[Any] | None = None,
        data_version: DataVersion | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        _init(
            self,
            **_coerce_result_args(
                "ObserveResult", asset_key, metadata, check_results, data_version, tags
            ),
        )


# -- asset events ---------------------------------------------------------------------------------------


class _AssetEvent(_Record):
    __slots__ = ("asset_key", "description", "metadata", "partition", "tags")
    _fields = ("asset_key", "description", "metadata", "partition", "tags")
    asset_key: AssetKey
    description: str | None
    metadata: dict[str, MetadataValue[Any]]
    partition: str | None
    tags: dict[str, str]

    def __init__(
        self,
        asset_key: CoercibleToAssetKey,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        partition: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        where = type(self).__name__
        if description is not None and not isinstance(description, str):
            msg = f"{where}: description must be a str or None, got {type(description).__name__}."
            raise DefinitionError(msg)
        if partition is not None and not isinstance(partition, str):
            msg = f"{where}: partition must be a partition key (a str) or None, got {partition!r} (a {type(partition).__name__})."
            raise DefinitionError(msg)
        _init(
            self,
            asset_key=_event_asset_key(asset_key, where),
            description=description,
            metadata=normalize_metadata(metadata),
            partition=partition,
            tags=_check_tags(tags, where) or {},
        )

    @property
    def label(self) -> str:
        """The key's path joined by spaces (Dagster's display label)."""
        return " ".join(self.asset_key.parts)

    @property
    def data_version(self) -> str | None:
        """The data version recorded in the ``dagster/data_version`` tag, if any."""
        return self.tags.get(DATA_VERSION_TAG)

    def with_metadata(self, metadata: Mapping[str, Any] | None) -> Any:
        """A copy with ``metadata`` replacing the current metadata."""
        return type(self)(self.asset_key, self.description, metadata, self.partition, self.tags)


class AssetMaterialization(_AssetEvent):
    """An event saying an asset was materialized, logged or yielded by user code.

    A str ``asset_key`` is split on every character other than letters, digits and ``_``
    (``"a/b"`` and ``"a.b"`` both mean ``AssetKey(["a", "b"])``), as in Dagster.

    Example::

        context.log_event(AssetMaterialization("report", metadata={"path": "/tmp/r.csv"}))
    """

    __slots__ = ()

    @staticmethod
    def file(
        path: str, description: str | None = None, asset_key: CoercibleToAssetKey | None = None
    ) -> AssetMaterialization:
        """A materialization of a file: ``metadata={"path": ...}``; the key defaults to the path."""
        return AssetMaterialization(
            asset_key=asset_key or path,
            description=description,
            metadata={"path": PathMetadataValue(path)},
        )


class AssetObservation(_AssetEvent):
    """An event recording metadata about an asset at a point in time, without materializing it."""

    __slots__ = ()


class ExpectationResult(_Record):
    """The outcome of a data-quality expectation (legacy; prefer asset checks)."""

    __slots__ = ("description", "label", "metadata", "success")
    _fields = ("success", "label", "description", "metadata")
    success: bool
    label: str
    description: str | None
    metadata: dict[str, MetadataValue[Any]]

    def __init__(
        self,
        success: bool,
        label: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(success, bool):
            msg = f"ExpectationResult success must be a bool, got {success!r} (a {type(success).__name__})."
            raise DefinitionError(msg)
        _init(
            self,
            success=success,
            label=DEFAULT_OUTPUT if label is None else label,
            description=description,
            metadata=normalize_metadata(metadata),
        )
