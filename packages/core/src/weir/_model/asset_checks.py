"""Asset checks: tests of an asset's data that run with (or after) the asset.

- :class:`AssetCheckSpec` declares a check: its name, the asset it targets, whether a failure
  blocks downstream assets. Specs go in ``@asset(check_specs=...)`` (the asset's own step yields
  the results) or are built by the decorators below.
- ``@asset_check`` / ``@multi_asset_check`` (in :mod:`weir._model.asset_checks_definition`) make
  a separate step (key ``<asset op name>_<check name>`` for ``@asset_check``) that may load the
  asset's value through its IO manager.
- :class:`AssetCheckResult` is what check code returns or yields; the engine records it as an
  ``ASSET_CHECK_EVALUATION`` event carrying an :class:`AssetCheckEvaluation`.

A failed check of severity ``ERROR`` whose spec is ``blocking=True`` fails its step
(:class:`AssetCheckFailedError`) and stops the assets downstream of the checked asset; a ``WARN``
result never blocks.

>>> import weir as dg
>>> dg.AssetCheckSpec("no_negatives", asset="orders", blocking=True).key.to_user_string()
'orders:no_negatives'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from weir._model.asset_in_out import AssetDep, coerce_dep
from weir._model.asset_key import (
    AssetCheckKey,
    AssetKey,
    check_valid_name,
)
from weir._model.metadata import normalize_metadata
from weir._model.table import _init, _Record
from weir.errors import DefinitionError, ExecutionError

__all__ = [
    "AssetCheckEvaluation",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckFailedError",
    "AssetCheckResult",
    "AssetCheckSeverity",
    "AssetCheckSpec",
    "DagsterAssetCheckFailedError",
]


class AssetCheckSeverity(enum.Enum):
    """How bad a failed check is: ``WARN`` never blocks; ``ERROR`` blocks when the check is blocking."""

    WARN = "WARN"
    ERROR = "ERROR"


class AssetCheckFailedError(ExecutionError):
    """A blocking asset check failed with ``ERROR`` severity; its step fails and downstream stops."""


DagsterAssetCheckFailedError = AssetCheckFailedError


def asset_key_of(asset: Any, what: str) -> AssetKey:
    """The key of ``asset`` (a key, str, list of str or definition), with an error naming ``what``."""
    if asset is None:
        msg = f"{what}: asset= is required (the asset key, its name, or its definition)."
        raise DefinitionError(msg)
    try:
        return AssetKey.from_coercible_or_definition(asset)
    except DefinitionError as exc:
        msg = f"{what}: cannot tell which asset {asset!r} is: {exc}"
        raise DefinitionError(msg) from exc


class AssetCheckSpec:
    """Declares one check on one asset.

    ``blocking=True`` makes a failed ``ERROR`` result fail the step and stop the assets downstream
    of ``asset``; ``additional_deps`` are other assets the check reads (ordering only).
    """

    __slots__ = (
        "additional_deps",
        "asset_key",
        "automation_condition",
        "blocking",
        "description",
        "metadata",
        "name",
        "partitions_def",
    )
    name: str
    asset_key: AssetKey
    description: str | None
    additional_deps: tuple[AssetDep, ...]
    blocking: bool
    metadata: dict[str, Any]
    automation_condition: Any
    partitions_def: Any

    def __init__(
        self,
        name: str,
        *,
        asset: Any,
        description: str | None = None,
        additional_deps: Iterable[Any] | None = None,
        blocking: bool = False,
        metadata: Mapping[str, Any] | None = None,
        automation_condition: Any = None,
        partitions_def: Any = None,
    ) -> None:
        check_valid_name(name, "Asset check name")
        asset_key = asset_key_of(asset, f"AssetCheckSpec({name!r})")
        deps = [coerce_dep(d) for d in additional_deps or ()]
        for dep in deps:
            if dep.asset_key == asset_key:
                msg = (
                    f"AssetCheckSpec({name!r}): additional_deps lists the checked asset "
                    f"{asset_key.to_user_string()!r} itself; leave it out (the check always depends on it)."
                )
                raise DefinitionError(msg)
        values = {
            "name": name,
            "asset_key": asset_key,
            "description": description,
            "additional_deps": tuple(deps),
            "blocking": bool(blocking),
            "metadata": dict(metadata or {}),
            "automation_condition": automation_condition,
            "partitions_def": partitions_def,
        }
        for attr, value in values.items():
            object.__setattr__(self, attr, value)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"AssetCheckSpec is immutable; use replace_attributes() instead of setting {name!r}."
        raise AttributeError(msg)

    @property
    def key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.name)

    @property
    def additional_dep_keys(self) -> list[AssetKey]:
        return [d.asset_key for d in self.additional_deps]

    def _kwargs(self) -> dict[str, Any]:
        return {
            "asset": self.asset_key,
            "description": self.description,
            "additional_deps": self.additional_deps,
            "blocking": self.blocking,
            "metadata": self.metadata,
            "automation_condition": self.automation_condition,
            "partitions_def": self.partitions_def,
        }

    def replace_attributes(self, **changes: Any) -> AssetCheckSpec:
        """A copy with some attributes changed (``asset=`` takes a key)."""
        values = self._kwargs()
        name = changes.pop("name", self.name)
        unknown = set(changes) - set(values)
        if unknown:
            msg = f"AssetCheckSpec.replace_attributes: unknown attribute(s) {sorted(unknown)}."
            raise DefinitionError(msg)
        values.update(changes)
        return AssetCheckSpec(name, **values)

    def with_asset_key(self, asset_key: AssetKey) -> AssetCheckSpec:
        return self.replace_attributes(asset=asset_key)

    def _fields(self) -> tuple[Any, ...]:
        return (self.name, self.asset_key, self.description, self.additional_deps, self.blocking)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AssetCheckSpec)
            and self._fields() == other._fields()
            and self.metadata == other.metadata
        )

    def __hash__(self) -> int:
        return hash((self.name, self.asset_key, self.blocking))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_spec, (self.name, self._kwargs()))

    def __repr__(self) -> str:
        extra = ", blocking=True" if self.blocking else ""
        return f"AssetCheckSpec({self.name!r}, asset={self.asset_key.to_user_string()!r}{extra})"


def _restore_spec(name: str, values: dict[str, Any]) -> AssetCheckSpec:
    return AssetCheckSpec(name, **values)


def _coerce_passed(passed: Any) -> bool:
    if isinstance(passed, bool):
        return passed
    if type(passed).__name__ == "bool_":  # numpy.bool_ from comparisons on arrays/frames
        return bool(passed)
    msg = f"AssetCheckResult(passed={passed!r}): passed must be True or False (a {type(passed).__name__} was given)."
    raise DefinitionError(msg)


class AssetCheckResult(_Record):
    """The outcome of a check: ``passed``, plus metadata, a severity and a description.

    ``asset_key``/``check_name`` say which check it is; they may be left out when the step
    evaluates only one check (of that asset).
    """

    __slots__ = ("asset_key", "check_name", "description", "metadata", "passed", "severity")
    _fields = ("passed", "asset_key", "check_name", "metadata", "severity", "description")
    passed: bool
    asset_key: AssetKey | None
    check_name: str | None
    metadata: dict[str, Any]
    severity: AssetCheckSeverity
    description: str | None
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        *,
        passed: bool,
        asset_key: Any = None,
        check_name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
        description: str | None = None,
    ) -> None:
        if not isinstance(severity, AssetCheckSeverity):
            msg = f"AssetCheckResult(severity={severity!r}): use AssetCheckSeverity.ERROR or AssetCheckSeverity.WARN."
            raise DefinitionError(msg)
        if check_name is not None and not isinstance(check_name, str):
            msg = f"AssetCheckResult(check_name={check_name!r}): check_name must be a str."
            raise DefinitionError(msg)
        _init(
            self,
            passed=_coerce_passed(passed),
            asset_key=AssetKey.from_coercible_or_definition(asset_key)
            if asset_key is not None
            else None,
            check_name=check_name,
            metadata=normalize_metadata(metadata) if metadata else {},
            severity=severity,
            description=description,
        )


class AssetCheckEvaluationTargetMaterializationData(_Record):
    """Which materialization of the checked asset a check evaluated (``None`` fields when unknown)."""

    __slots__ = ("run_id", "storage_id", "timestamp")
    _fields = ("storage_id", "run_id", "timestamp")
    storage_id: int | None
    run_id: str | None
    timestamp: float | None

    def __init__(
        self,
        storage_id: int | None = None,
        run_id: str | None = None,
        timestamp: float | None = None,
    ) -> None:
        _init(self, storage_id=storage_id, run_id=run_id, timestamp=timestamp)


class AssetCheckEvaluation(_Record):
    """The recorded outcome of one check execution: the data of an ``ASSET_CHECK_EVALUATION`` event."""

    __slots__ = (
        "asset_key",
        "blocking",
        "check_name",
        "description",
        "metadata",
        "partition",
        "passed",
        "severity",
        "target_materialization_data",
    )
    _fields = (
        "asset_key",
        "check_name",
        "passed",
        "metadata",
        "target_materialization_data",
        "severity",
        "description",
        "blocking",
        "partition",
    )
    asset_key: AssetKey
    check_name: str
    passed: bool
    metadata: dict[str, Any]
    target_materialization_data: AssetCheckEvaluationTargetMaterializationData | None
    severity: AssetCheckSeverity
    description: str | None
    blocking: bool
    partition: str | None
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        asset_key: AssetKey,
        check_name: str,
        passed: bool,
        metadata: Mapping[str, Any] | None = None,
        target_materialization_data: AssetCheckEvaluationTargetMaterializationData | None = None,
        severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
        description: str | None = None,
        blocking: bool | None = None,
        partition: str | None = None,
    ) -> None:
        _init(
            self,
            asset_key=asset_key,
            check_name=check_name,
            passed=passed,
            metadata=dict(metadata or {}),
            target_materialization_data=target_materialization_data,
            severity=severity,
            description=description,
            blocking=bool(blocking),
            partition=partition,
        )

    @property
    def asset_check_key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.check_name)

    @property
    def is_blocking_failure(self) -> bool:
        return self.blocking and not self.passed and self.severity is AssetCheckSeverity.ERROR
