"""Hooks: @success_hook / @failure_hook on assets and jobs, their events, context and errors."""

from __future__ import annotations

from typing import Any

import pytest

import weir as dg
from weir._model.asset_checks import AssetCheckResult
from weir._model.asset_checks_definition import asset_check
from weir._model.hooks import (
    HookContext,
    HookDefinition,
    HookErroredData,
    build_hook_context,
    failure_hook,
    success_hook,
)
from weir._model.retry import RetryPolicy
from weir.errors import DefinitionError, InvariantViolationError

SEEN: list[tuple[str, Any]] = []


@success_hook
def on_success(context: HookContext) -> None:
    SEEN.append(("success", context.step_key))


@failure_hook
def on_failure(context: HookContext) -> None:
    SEEN.append(("failure", context.op_exception))


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    SEEN.clear()


def _hook_events(result: dg.ExecuteInProcessResult) -> list[tuple[str, str | None, str | None]]:
    return [
        (e.event_type_value, e.step_key, e.message)
        for e in result.all_events
        if e.event_type_value.startswith("HOOK_")
    ]


def test_success_hook_runs_after_a_successful_step_with_its_context() -> None:
    captured: list[HookContext] = []

    @success_hook(name="capture")
    def capture(context: HookContext) -> None:
        captured.append(context)

    @dg.asset(hooks={capture, on_failure})
    def numbers() -> list[int]:
        return [1, 2]

    result = dg.materialize_to_memory([numbers])
    assert result.success
    [context] = captured
    assert context.step_key == "numbers"
    assert context.op.name == "numbers"
    assert context.hook_def is capture
    assert context.op_output_values == {"result": [1, 2]}
    assert context.op_exception is None
    assert context.run_id == result.run_id
    assert context.job_name == "__ephemeral_asset_job__"
    assert context.instance is not None
    assert context.required_resource_keys == frozenset()
    assert _hook_events(result) == [
        (
            "HOOK_COMPLETED",
            "numbers",
            'Finished the execution of hook "capture" triggered for "numbers".',
        ),
        (
            "HOOK_SKIPPED",
            "numbers",
            'Skipped the execution of hook "on_failure". It did not meet its triggering condition '
            'during the execution of "numbers".',
        ),
    ]
    # hook events come after the step's own events
    types = [e.event_type_value for e in result.all_events if e.step_key == "numbers"]
    assert types.index("STEP_SUCCESS") < types.index("HOOK_COMPLETED")


def test_failure_hook_sees_the_exception_and_success_hook_is_skipped() -> None:
    @dg.asset(hooks={on_success, on_failure})
    def broken() -> int:
        raise KeyError("missing column")

    result = dg.materialize_to_memory([broken], raise_on_error=False)
    assert not result.success
    [(kind, exc)] = SEEN
    assert kind == "failure" and isinstance(exc, KeyError)
    assert [t for t, _, _ in _hook_events(result)] == ["HOOK_COMPLETED", "HOOK_SKIPPED"]


def test_failure_hook_runs_before_the_error_is_raised() -> None:
    @dg.asset(hooks={on_failure})
    def raises() -> int:
        raise ValueError("loud")

    with pytest.raises(ValueError, match="loud"):
        dg.materialize_to_memory([raises])
    assert [kind for kind, _ in SEEN] == ["failure"]


def test_a_hook_that_raises_is_recorded_and_does_not_fail_the_run() -> None:
    @success_hook
    def explodes(context: HookContext) -> None:
        raise RuntimeError("slack is down")

    @dg.asset(hooks={explodes, on_success})
    def fine() -> int:
        return 1

    result = dg.materialize_to_memory([fine])
    assert result.success
    [errored] = [e for e in result.all_events if e.event_type_value == "HOOK_ERRORED"]
    assert errored.step_key == "fine"
    assert (
        'Error occurred during the execution of hook_fn triggered for op "fine"' in errored.message
    )
    assert "RuntimeError: slack is down" in errored.message
    assert isinstance(errored.event_specific_data, HookErroredData)
    assert errored.event_specific_data.error.cls_name == "RuntimeError"
    assert SEEN == [("success", "fine")]  # the other hook still ran


def test_job_hooks_apply_to_every_step_including_checks() -> None:
    @dg.asset
    def first() -> int:
        return 1

    @dg.asset(hooks={on_success})
    def second(first: int) -> int:
        return first + 1

    @asset_check(asset=first)
    def first_ok(first: int) -> AssetCheckResult:
        return AssetCheckResult(passed=first == 1)

    defs = dg.Definitions(
        assets=[first, second],
        asset_checks=[first_ok],
        jobs=[dg.define_asset_job("hooked", hooks={on_success})],
        resources={"io_manager": dg.InMemoryIOManager()},
    )
    job = defs.get_job_def("hooked")
    assert job.hook_defs == {on_success}
    result = job.execute_in_process()
    assert result.success
    # a hook attached to both the asset and the job runs once for that step
    assert sorted(step for _, step in SEEN) == ["first", "first_first_ok", "second"]


def test_hooks_run_per_attempt_and_the_failure_hook_fires_once_retries_are_exhausted() -> None:
    @dg.asset(hooks={on_success, on_failure}, retry_policy=RetryPolicy(max_retries=2))
    def never() -> int:
        raise ValueError("still broken")

    result = dg.materialize_to_memory([never], raise_on_error=False)
    assert result.retry_attempts_for_node("never") == 2
    [(kind, exc)] = SEEN
    assert kind == "failure"
    assert isinstance(exc, ValueError) and str(exc) == "still broken"
    kinds = [t for t, _, _ in _hook_events(result)]
    # two retried attempts skip both hooks; the final failure runs the failure hook
    assert kinds == ["HOOK_SKIPPED"] * 4 + ["HOOK_COMPLETED", "HOOK_SKIPPED"]


def test_hook_resources_are_initialised_for_the_run() -> None:
    sent: list[str] = []

    class Notifier:
        def send(self, text: str) -> None:
            sent.append(text)

    @success_hook(required_resource_keys={"notifier"})
    def notify(context: HookContext) -> None:
        context.resources.notifier.send(f"{context.step_key} done")

    @dg.asset(hooks={notify})
    def report() -> int:
        return 1

    result = dg.materialize_to_memory([report], resources={"notifier": Notifier()})
    assert result.success
    assert sent == ["report done"]
    assert notify.required_resource_keys == {"notifier"}


def test_direct_invocation_and_build_hook_context() -> None:
    @dg.asset
    def some_asset() -> int:
        return 1

    context = build_hook_context(
        resources={"token": "abc"}, op=some_asset.op, run_id="r1", job_name="j"
    )
    with context:
        assert context.resources.token == "abc"
        assert context.step_key == "some_asset"
        assert (context.run_id, context.job_name) == ("r1", "j")
        on_success(context)
    assert SEEN == [("success", "some_asset")]
    on_failure(build_hook_context(op_exception=ValueError("x")))
    assert isinstance(SEEN[-1][1], ValueError)

    bare = build_hook_context()
    with pytest.raises(InvariantViolationError, match="build_hook_context without op="):
        _ = bare.op
    assert bare.op_exception is None and bare.op_output_values == {}
    with pytest.raises(InvariantViolationError, match="call it with a HookContext"):
        on_success("not a context")


def test_hook_definitions_validate_and_attach() -> None:
    assert isinstance(on_success, HookDefinition)
    assert on_success.name == "on_success"
    assert repr(on_success) == "HookDefinition('on_success')"
    with pytest.raises(DefinitionError, match="exactly one positional parameter"):

        @success_hook
        def two_params(context: HookContext, extra: int) -> None:
            pass

    with pytest.raises(DefinitionError, match="not a str"):
        success_hook(required_resource_keys="single")(lambda context: None)

    class Attachable:
        def with_hooks(self, hooks: set[HookDefinition]) -> set[HookDefinition]:
            return hooks

    assert on_failure(Attachable()) == {on_failure}
