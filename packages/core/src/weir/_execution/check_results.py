"""Turning ``AssetCheckResult`` objects from user code into ``ASSET_CHECK_EVALUATION`` events.

A result names its check with ``asset_key``/``check_name``; either may be left out when the step
evaluates only one matching check. Results for checks the step does not evaluate in this run are
errors (Dagster's messages), so a typo in a check name cannot pass silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._model.asset_checks import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
    AssetCheckResult,
)
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import InvariantViolationError

if TYPE_CHECKING:
    from weir._execution.plan import Step
    from weir._execution.run_execution import RunState

__all__ = ["AssetCheckEvaluation", "handle_check_result", "resolve_check_key"]


def resolve_check_key(step_key: str, specs: Any, result: AssetCheckResult) -> Any:
    """The spec (among ``specs``, the checks the step evaluates) that ``result`` reports on."""
    if not specs:
        msg = (
            "Received unexpected AssetCheckResult. No AssetCheckSpecs were found for this step. "
            "You may need to set `check_specs` on the asset decorator, or you may be emitting an "
            "AssetCheckResult that isn't in the subset passed in `context.selected_asset_check_keys`."
            f' (step "{step_key}")'
        )
        raise InvariantViolationError(msg)
    asset_key = result.asset_key
    if asset_key is None:
        targets = sorted({s.asset_key for s in specs})
        if len(targets) != 1:
            names = [k.to_user_string() for k in targets]
            msg = (
                "AssetCheckResult didn't specify an asset key, but there are multiple assets to choose "
                f'from: {names}. Set asset_key= on the result (step "{step_key}").'
            )
            raise InvariantViolationError(msg)
        asset_key = targets[0]
    for_asset = [s for s in specs if s.asset_key == asset_key]
    if not for_asset:
        targeted = sorted({s.asset_key.to_user_string() for s in specs})
        msg = (
            f"Received unexpected AssetCheckResult. It targets asset '{asset_key.to_user_string()}' which is "
            f"not targeted by any of the checks currently being evaluated. Targeted assets: {targeted}."
        )
        raise InvariantViolationError(msg)
    name = result.check_name
    if name is None:
        if len(for_asset) != 1:
            msg = (
                "AssetCheckResult result didn't specify a check name, but there are multiple checks to "
                f"choose from for the this asset key: {sorted(s.name for s in for_asset)}. Set check_name= "
                f'on the result (step "{step_key}").'
            )
            raise InvariantViolationError(msg)
        return for_asset[0]
    for spec in for_asset:
        if spec.name == name:
            return spec
    msg = (
        f"No checks currently being evaluated target asset '{asset_key.to_user_string()}' and have name "
        f"'{name}'. Checks being evaluated for this asset: {set(s.name for s in for_asset)}"
    )
    raise InvariantViolationError(msg)


def _target_materialization(
    state: RunState, asset_key: AssetKey
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The materialization the check evaluated: this run's, else the latest stored one."""
    at = state.materialized_at.get(asset_key)
    if at is not None:
        # stored already (an earlier step of this run) -> its storage id; same step -> not yet
        stored = _latest_stored_materialization(state.instance, asset_key)
        if stored is not None and stored.run_id == state.run.run_id:
            return stored
        return AssetCheckEvaluationTargetMaterializationData(None, state.run.run_id, at)
    cache = state.earlier_materializations
    if asset_key not in cache:
        cache[asset_key] = _latest_stored_materialization(state.instance, asset_key)
    return cache[asset_key]


def _latest_stored_materialization(
    instance: Any, asset_key: AssetKey
) -> AssetCheckEvaluationTargetMaterializationData | None:
    fetch = getattr(instance, "fetch_materializations", None)
    if fetch is None:
        return None
    records = fetch(asset_key, limit=1).records
    if not records:
        return None
    latest = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        latest.storage_id, latest.run_id, latest.timestamp
    )


def handle_check_result(
    state: RunState, step: Step, result: AssetCheckResult
) -> AssetCheckEvaluation:
    """Record ``result`` as an ``ASSET_CHECK_EVALUATION`` event of ``step`` and return the evaluation."""
    spec = resolve_check_key(step.key, step.check_specs, result)
    done = state.evaluated_checks.setdefault(step.key, {})
    key: AssetCheckKey = spec.key
    if key in done:
        msg = f'Step "{step.key}" returned more than one AssetCheckResult for check {key.to_user_string()!r}.'
        raise InvariantViolationError(msg)
    evaluation = AssetCheckEvaluation(
        spec.asset_key,
        spec.name,
        result.passed,
        result.metadata,
        _target_materialization(state, spec.asset_key),
        result.severity,
        result.description,
        spec.blocking,
        state.partition_key,
    )
    done[key] = evaluation
    outcome = "passed" if evaluation.passed else "failed"
    state.emit(
        "ASSET_CHECK_EVALUATION",
        step.key,
        f"Asset check '{spec.name}' on '{spec.asset_key.to_user_string()}' {outcome}.",
        evaluation,
    )
    return evaluation
