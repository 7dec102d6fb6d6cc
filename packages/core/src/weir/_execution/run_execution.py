"""Running a plan in process: resources, step order, failures, skips and the run's events."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from weir._execution.events import DagsterEvent, SerializableErrorInfo, StepFailureData
from weir._execution.plan import ExecutionPlan, Step
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._execution.step_execution import OutputRecord, StepFailed, execute_step, failure_data
from weir._graph.resolve import ResolvedAssets
from weir.errors import ResourceError

__all__ = ["RunState", "execute_plan", "make_run_id"]

logger = logging.getLogger(__name__)


def make_run_id() -> str:
    return str(uuid.uuid4())


class RunState:
    """Everything one run needs while it executes."""

    def __init__(
        self,
        *,
        run: DagsterRun,
        job_name: str,
        instance: Any,
        resolved: ResolvedAssets,
        plan: ExecutionPlan,
        partition_key: str | None = None,
        observers: list[Callable[[DagsterEvent], Any]] | None = None,
    ) -> None:
        self.run = run
        self.job_name = job_name
        self.instance = instance
        self.resolved = resolved
        self.plan = plan
        self.partition_key = partition_key
        self.events: list[DagsterEvent] = []
        self.output_records: dict[tuple[str, str], OutputRecord] = {}
        self.resources: Any = None
        self._observers = observers or []

    def emit(
        self, event_type_value: str, step_key: str | None, message: str, data: Any = None
    ) -> DagsterEvent:
        event = DagsterEvent(event_type_value, self.job_name, step_key, message, data)
        self.events.append(event)
        for observer in self._observers:
            observer(event)
        return event

    def handle_check_result(self, step: Step, result: Any) -> None:
        from weir._execution.check_results import handle_check_result

        handle_check_result(self, step, result)


def _observers() -> list[Callable[[DagsterEvent], Any]]:
    """Event observers of loaded plugins (``weir_on_event``); an empty list when there are none."""
    from weir.plugins import PluginRegistry, default_plugin_manager

    pm = default_plugin_manager()
    if not pm.hook.weir_on_event.get_hookimpls():
        return []
    return [PluginRegistry(pm).notify_event]


def execute_plan(
    *,
    plan: ExecutionPlan,
    resolved: ResolvedAssets,
    resource_defs: Mapping[str, Any],
    job_name: str,
    instance: Any,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
) -> RunState:
    """Execute ``plan`` step by step in this process and return the finished run state."""
    from weir._config.resources import initialize_resources

    run = DagsterRun(
        run_id=run_id or make_run_id(),
        job_name=job_name,
        run_config=run_config,
        tags=tags,
        status=DagsterRunStatus.STARTED,
        step_keys_to_execute=plan.step_keys,
    )
    instance.add_run(run)
    state = RunState(
        run=run,
        job_name=job_name,
        instance=instance,
        resolved=resolved,
        plan=plan,
        partition_key=partition_key,
        observers=_observers(),
    )
    start = time.perf_counter()
    pid = os.getpid()
    state.emit("PIPELINE_START", None, f'Started execution of run for "{job_name}".')
    state.emit("ENGINE_EVENT", None, f"Executing steps in process (pid: {pid})")
    failed: list[str] = []
    to_raise: BaseException | None = None
    keys = sorted(plan.resource_keys)
    try:
        state.emit(
            "RESOURCE_INIT_STARTED",
            None,
            f"Starting initialization of resources [{', '.join(keys)}].",
        )
        resources_config = (run_config or {}).get("resources") or {}
        with initialize_resources(
            resource_defs,
            keys,
            instance=instance,
            run_id=run.run_id,
            resources_config=resources_config,
        ) as live:
            state.emit(
                "RESOURCE_INIT_SUCCESS",
                None,
                f"Finished initialization of resources [{', '.join(keys)}].",
            )
            state.resources = live
            to_raise = _run_steps(state, failed, raise_on_error)
    except ResourceError as exc:
        state.emit(
            "RESOURCE_INIT_FAILURE",
            None,
            f"Initialization of resources [{', '.join(keys)}] failed: {exc}",
            StepFailureData(SerializableErrorInfo.from_exception(exc)),
        )
        failed.append("<resources>")
        to_raise = exc
    except BaseException as exc:  # KeyboardInterrupt and friends: record, then propagate
        state.emit(
            "PIPELINE_FAILURE",
            None,
            f'Execution of run for "{job_name}" was interrupted: {type(exc).__name__}.',
        )
        run.status = DagsterRunStatus.FAILURE
        instance.store_events(run.run_id, state.events)
        raise
    elapsed = (time.perf_counter() - start) * 1000
    state.emit("ENGINE_EVENT", None, f"Finished steps in process (pid: {pid}) in {elapsed:.0f}ms")
    if failed:
        run.status = DagsterRunStatus.FAILURE
        steps = [f for f in failed if not f.startswith("<")]
        state.emit(
            "PIPELINE_FAILURE",
            None,
            f'Execution of run for "{job_name}" failed. Steps failed: {steps}.',
        )
    else:
        run.status = DagsterRunStatus.SUCCESS
        state.emit("PIPELINE_SUCCESS", None, f'Finished execution of run for "{job_name}".')
    instance.store_events(run.run_id, state.events)
    if to_raise is not None and raise_on_error:
        raise to_raise
    return state


def _run_steps(state: RunState, failed: list[str], raise_on_error: bool) -> BaseException | None:
    """Run every step in order; a failed step blocks its downstream steps; returns what to raise."""
    blocked: set[str] = set()  # failed or not executed because of a failure upstream
    skipped: set[str] = set()
    emitted_by_step: dict[str, set[str]] = {}
    for step in state.plan.steps:
        if step.dep_steps & blocked:
            blocked.add(step.key)  # untouched: no events, as in Dagster
            continue
        missing = _missing_upstream_outputs(step, skipped, emitted_by_step, state)
        if missing:
            skipped.add(step.key)
            state.emit(
                "STEP_SKIPPED",
                step.key,
                f'Skipped execution of step "{step.key}" because its upstream output(s) {missing} were not produced.',
            )
            continue
        try:
            emitted_by_step[step.key] = execute_step(state, step)
        except StepFailed as failure:
            blocked.add(step.key)
            failed.append(step.key)
            state.emit(
                "STEP_FAILURE",
                step.key,
                f'Execution of step "{step.key}" failed.',
                failure_data(failure.error, failure.user_error, failure.source),
            )
            if raise_on_error:
                return (
                    failure.user_error
                    if failure.source == "USER_CODE" and failure.user_error is not None
                    else failure.error
                )
    return None


def _missing_upstream_outputs(
    step: Step, skipped: set[str], emitted_by_step: dict[str, set[str]], state: RunState
) -> list[str]:
    missing: list[str] = []
    for inp in step.inputs:
        up = inp.upstream_step
        if up is None:
            continue
        if up in skipped or inp.upstream_output not in emitted_by_step.get(up, set()):
            missing.append(f"{up}.{inp.upstream_output}")
    for up in step.dep_steps:
        if up in skipped and not any(i.upstream_step == up for i in step.inputs):
            missing.append(up)
    return missing
