"""Turning ``AssetCheckResult`` objects yielded by steps into ``ASSET_CHECK_EVALUATION`` events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.metadata import normalize_metadata
from weir.errors import DefinitionError

if TYPE_CHECKING:
    from weir._execution.plan import Step
    from weir._execution.run_execution import RunState

__all__ = ["AssetCheckEvaluation", "handle_check_result"]


class AssetCheckEvaluation:
    """The recorded outcome of one asset check execution."""

    __slots__ = (
        "asset_key",
        "blocking",
        "check_name",
        "description",
        "metadata",
        "partition",
        "passed",
        "severity",
    )

    def __init__(
        self,
        asset_key: AssetKey,
        check_name: str,
        passed: bool,
        metadata: Any,
        severity: Any,
        description: str | None,
        blocking: bool,
        partition: str | None = None,
    ) -> None:
        self.asset_key = asset_key
        self.check_name = check_name
        self.passed = passed
        self.metadata = metadata
        self.severity = severity
        self.description = description
        self.blocking = blocking
        self.partition = partition

    @property
    def asset_check_key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.check_name)

    def __repr__(self) -> str:
        return f"AssetCheckEvaluation({self.asset_key.to_user_string()}:{self.check_name}, passed={self.passed})"


def handle_check_result(state: RunState, step: Step, result: Any) -> None:
    ad = step.assets_def
    specs = {c.key: c for c in ad.check_specs}
    asset_key = getattr(result, "asset_key", None)
    check_name = getattr(result, "check_name", None)
    if asset_key is None:
        candidates = [k for k in specs if check_name is None or k.name == check_name]
        if len(candidates) != 1:
            msg = f'Step "{step.key}" yielded an AssetCheckResult without asset_key/check_name that matches {len(candidates)} checks; set check_name=.'
            raise DefinitionError(msg)
        asset_key, check_name = candidates[0].asset_key, candidates[0].name
    asset_key = AssetKey.from_coercible(asset_key)
    if check_name is None:
        candidates = [k for k in specs if k.asset_key == asset_key]
        if len(candidates) != 1:
            msg = f'Step "{step.key}" yielded an AssetCheckResult for {asset_key.to_user_string()!r} without check_name; set check_name=.'
            raise DefinitionError(msg)
        check_name = candidates[0].name
    key = AssetCheckKey(asset_key, check_name)
    spec = specs.get(key)
    if spec is None:
        msg = f'Step "{step.key}" yielded a result for check {key.to_user_string()!r}, which it does not declare (declared: {sorted(k.to_user_string() for k in specs)}).'
        raise DefinitionError(msg)
    evaluation = AssetCheckEvaluation(
        asset_key,
        check_name,
        bool(result.passed),
        normalize_metadata(getattr(result, "metadata", None) or {}),
        getattr(result, "severity", None),
        getattr(result, "description", None),
        bool(getattr(spec, "blocking", False)),
        state.partition_key,
    )
    outcome = "passed" if evaluation.passed else "failed"
    state.emit(
        "ASSET_CHECK_EVALUATION",
        step.key,
        f"Asset check '{check_name}' on '{asset_key.to_user_string()}' {outcome}.",
        evaluation,
    )
