"""Running a plan in process: resources, step order, retries, hooks, failures, skips and events.

Steps run one at a time in plan order. A step that goes up for retry waits in a queue while the
steps that do not depend on it carry on; when nothing else can run, the engine sleeps until the
earliest retry is due. A failed step blocks everything downstream of it (those steps emit no
events); the rest of the run carries on.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from weir._execution.event_sink import RunEventSink, planned_events
from weir._execution.events import DagsterEvent, SerializableErrorInfo, StepFailureData
from weir._execution.plan import ExecutionPlan, Step
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._execution.run_partitions import RunPartitions, check_run_partitions
from weir._execution.step_execution import OutputRecord, StepFailed, execute_step, failure_data
from weir._graph.resolve import ResolvedAssets
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.retry import (
    MaxRetriesExceededError,
    RetryRequested,
    StepRetryData,
    retry_request_for,
)
from weir.errors import ResourceError

__all__ = ["RunState", "execute_plan", "make_run_id", "run_step_attempt", "start_run_record"]

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
        partition_key_range: Any = None,
        observers: list[Callable[[DagsterEvent], Any]] | None = None,
        hook_defs: Iterable[Any] = (),
        op_retry_policy: Any = None,
        retries_enabled: bool = True,
    ) -> None:
        self.run = run
        self.job_name = job_name
        self.instance = instance
        self.resolved = resolved
        self.plan = plan
        self.partition_key = partition_key
        self.run_partitions = RunPartitions(partition_key, partition_key_range)
        self.step_partitions_cache: dict[Any, Any] = {}
        self.events: list[DagsterEvent] = []
        self.sink: RunEventSink | None = None  # writes the events to the instance, per step
        # where context.log entries go: the sink, or (in a worker process) the parent
        self.log_sink: Callable[[Any], None] = self._log_to_sink
        self.output_records: dict[tuple[str, str], OutputRecord] = {}
        self.resources: Any = None
        self._observers = observers or []
        self.hook_defs: frozenset[Any] = frozenset(hook_defs)  # job-level hooks, for every step
        self.op_retry_policy = op_retry_policy  # job-level policy; a node's own policy wins
        self.retries_enabled = retries_enabled
        # when each asset was materialized in this run (the target of later check evaluations)
        self.materialized_at: dict[AssetKey, float] = {}
        self.earlier_materializations: dict[AssetKey, Any] = {}
        # step key -> check key -> evaluation, for the current attempt of each step
        self.evaluated_checks: dict[str, dict[AssetCheckKey, Any]] = {}
        # output name -> value of the running step, captured only when it has hooks
        self.output_values: dict[str, Any] | None = None

    def _log_to_sink(self, entry: Any) -> None:
        if self.sink is not None:
            self.sink.add_entry(entry)

    def emit(
        self, event_type_value: str, step_key: str | None, message: str, data: Any = None
    ) -> DagsterEvent:
        event = DagsterEvent(event_type_value, self.job_name, step_key, message, data)
        self.events.append(event)
        if self.sink is not None:
            self.sink.add(event)
        for observer in self._observers:
            observer(event)
        return event

    def handle_check_result(self, step: Step, result: Any) -> Any:
        from weir._execution.check_results import handle_check_result

        return handle_check_result(self, step, result)


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
    hook_defs: Iterable[Any] = (),
    op_retry_policy: Any = None,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
    partition_key_range: Any = None,
) -> RunState:
    """Execute ``plan`` step by step in this process and return the finished run state.

    ``hook_defs`` run after every step (besides the hooks of the steps' own definitions);
    ``op_retry_policy`` applies to steps whose op has no ``retry_policy`` of its own.
    """
    from weir._config.resources import initialize_resources

    if partition_key is None and partition_key_range is None and tags:
        from_tags = RunPartitions.from_tags(tags)  # a range run asked for with Dagster's tags
        partition_key, partition_key_range = from_tags.key, from_tags.key_range
    run_partitions = RunPartitions(partition_key, partition_key_range)
    # only a partitioned run needs the plan's partitioned assets (to validate, plan and refresh)
    partitioned = _partitioned_assets(plan) if run_partitions.is_set else []
    partitions_def = check_run_partitions(run_partitions, partitioned, instance)
    if run_partitions.is_set:
        tags = {**run_partitions.tags(partitions_def), **(tags or {})}
    run = DagsterRun(
        run_id=run_id or make_run_id(),
        job_name=job_name,
        run_config=run_config,
        tags=tags,
        status=DagsterRunStatus.NOT_STARTED,
        step_keys_to_execute=plan.step_keys,
        parent_run_id=parent_run_id,
        root_run_id=root_run_id,
    )
    start_run_record(instance, run, plan, partition_key, partition_key_range, partitioned)
    state = RunState(
        run=run,
        job_name=job_name,
        instance=instance,
        resolved=resolved,
        plan=plan,
        partition_key=partition_key,
        partition_key_range=partition_key_range,
        observers=_observers(),
        hook_defs=hook_defs,
        op_retry_policy=op_retry_policy,
        retries_enabled=_retries_enabled(run_config),
    )
    sink = state.sink = RunEventSink(instance, run.run_id)
    run.status = DagsterRunStatus.STARTED
    start = time.perf_counter()
    pid = os.getpid()
    state.emit("PIPELINE_START", None, f'Started execution of run for "{job_name}".')
    state.emit("ENGINE_EVENT", None, f"Executing steps in process (pid: {pid})")
    failed: list[str] = []
    to_raise: BaseException | None = None
    hook_keys: set[str] = set()
    for hook in state.hook_defs:
        hook_keys |= hook.required_resource_keys
    keys = sorted(plan.resource_keys | hook_keys)
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
        sink.flush()
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
    sink.flush(final=True)
    if run_partitions.is_set and not getattr(instance, "is_ephemeral", True):
        from weir._instance.partition_status import refresh_partition_status

        refresh_partition_status(instance, partitioned)
    if to_raise is not None and raise_on_error:
        raise to_raise
    return state


def _partitioned_assets(plan: ExecutionPlan) -> list[tuple[AssetKey, Any]]:
    """``(asset key, partitions definition)`` of every partitioned asset the plan materializes."""
    found = []
    for step in plan.steps:
        ad = step.assets_def
        if ad is None or not step.selected_keys:
            continue
        specs = ad.specs_by_key
        for key in step.selected_keys:
            spec = specs.get(key)
            if spec is not None and spec.partitions_def is not None:
                found.append((key, spec.partitions_def))
    return found


def start_run_record(
    instance: Any,
    run: DagsterRun,
    plan: ExecutionPlan,
    partition_key: str | None,
    partition_key_range: Any = None,
    partitioned: list[tuple[AssetKey, Any]] | None = None,
) -> None:
    """Store a new run and the materializations and check evaluations it plans (one batch).

    A run over a range plans its partitions as one compact subset per asset, not one event per key.
    ``partitioned`` is the plan's partitioned assets when the caller has them already.
    """
    from weir._instance.records import EventLogEntry

    instance.add_run(run)
    if partitioned is None:
        partitioned = _partitioned_assets(plan) if (partition_key or partition_key_range) else []
    subset = None
    if partition_key_range is not None and partitioned:
        from weir._instance.partition_status import definition_id

        pdef = partitioned[0][1]
        bits = RunPartitions(key_range=partition_key_range).subset(pdef, instance)
        subset = {"definition": definition_id(pdef), "subset": bits.to_serializable()}
    planned = planned_events(
        run.job_name,
        [(s.key, sorted(s.selected_keys)) for s in plan.steps if s.selected_keys],
        [(s.key, [spec.key for spec in s.check_specs]) for s in plan.steps if s.check_specs],
        partition_key,
        {key for key, _ in partitioned} if partitioned else None,
        subset,
    )
    if planned:
        instance.store_events([EventLogEntry.from_event(run.run_id, e) for e in planned])


def _retries_enabled(run_config: Mapping[str, Any] | None) -> bool:
    """False when the executor config says ``retries: {disabled: {}}``."""
    execution = (run_config or {}).get("execution")
    config = execution.get("config") if isinstance(execution, Mapping) else None
    if not isinstance(config, Mapping):
        return True
    for candidate in (config, config.get("in_process"), config.get("multiprocess")):
        if isinstance(candidate, Mapping):
            retries = candidate.get("retries")
            if isinstance(retries, Mapping) and "disabled" in retries:
                return False
    return True


def _run_steps(state: RunState, failed: list[str], raise_on_error: bool) -> BaseException | None:
    """Run every step; a failed step blocks its downstream steps; returns what to raise."""
    blocked: set[str] = set()  # failed or not executed because of a failure upstream
    skipped: set[str] = set()
    emitted_by_step: dict[str, set[str]] = {}
    queue = deque(state.plan.steps)
    waiting: list[tuple[float, int, Step, int]] = []  # (due, tie-break, step, attempt): retries
    deferred: list[Step] = []  # steps behind a step that is waiting to retry
    in_flight: set[str] = set()  # keys of the waiting and deferred steps
    tie = 0
    while queue or waiting:
        if waiting and (not queue or waiting[0][0] <= time.monotonic()):
            due, _, step, attempt = heapq.heappop(waiting)
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # nothing else can run before this retry
            in_flight.discard(step.key)
        else:
            step = queue.popleft()
            attempt = 0
            if in_flight and not step.dep_steps.isdisjoint(in_flight):
                deferred.append(step)
                in_flight.add(step.key)
                continue
            if step.dep_steps and not step.dep_steps.isdisjoint(blocked):
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
        status, payload = run_step_attempt(state, step, attempt)
        if status == "retry":
            tie += 1
            heapq.heappush(waiting, (time.monotonic() + payload, tie, step, attempt + 1))
            in_flight.add(step.key)
            continue
        if status == "success":
            emitted_by_step[step.key] = payload
        else:
            blocked.add(step.key)
            failed.append(step.key)
            if raise_on_error:
                return payload  # type: ignore[no-any-return]
        if deferred and attempt:
            # a retried step finished: the steps held back behind it may be able to run now
            in_flight.difference_update(s.key for s in deferred)
            queue.extendleft(reversed(deferred))
            deferred.clear()
    return None


def run_step_attempt(state: RunState, step: Step, attempt: int) -> tuple[str, Any]:
    """Run one attempt of ``step`` (``attempt`` 0 is the first) and then its hooks.

    Emits the step's events, including ``STEP_FAILURE`` or ``STEP_UP_FOR_RETRY``. Returns
    ``("success", emitted output names)``, ``("retry", seconds to wait before attempt + 1)`` or
    ``("failed", the exception to raise with raise_on_error)``. Any executor that runs steps
    (in process or in a worker) can call it to get retries and hooks with the same rules.
    """
    hooks = _hooks_for(state, step)
    first_event = len(state.events)
    if hooks:
        state.output_values = {}
    op_exception: BaseException | None = None
    try:
        outcome: tuple[str, Any] = ("success", execute_step(state, step, attempt))
    except StepFailed as failure:
        outcome, op_exception = _failed_attempt(state, step, attempt, failure)
    if hooks:
        _run_hooks(state, step, hooks, state.events[first_event:], op_exception)
        state.output_values = None
    return outcome


def _failed_attempt(
    state: RunState, step: Step, attempt: int, failure: StepFailed
) -> tuple[tuple[str, Any], BaseException]:
    """Decide between retrying and failing; emit the matching event."""
    user_error = failure.user_error
    policy = step.node_def.retry_policy or state.op_retry_policy
    request = None
    if policy is not None or isinstance(user_error, RetryRequested):
        request = retry_request_for(user_error, failure.source, policy, attempt)
    if request is None:
        state.emit(
            "STEP_FAILURE",
            step.key,
            f'Execution of step "{step.key}" failed.',
            failure_data(failure.error, user_error, failure.source),
        )
        to_raise = (
            user_error
            if failure.source == "USER_CODE" and user_error is not None
            else failure.error
        )
        return ("failed", to_raise), user_error or failure.error
    cause = request.__cause__ if request.__cause__ is not None else user_error
    info = SerializableErrorInfo.from_exception(request)
    # the hook of a step that exhausted its policy sees the user's error, as in Dagster
    hook_error = cause if cause is not None and request is not user_error else request
    if not state.retries_enabled:
        message = "RetryRequested but retries are disabled"
        _emit_retry_failure(state, step, message, info, cause)
        return ("failed", cause if cause is not None else request), hook_error
    if attempt >= request.max_retries:
        message = f"Exceeded max_retries of {request.max_retries}"
        _emit_retry_failure(state, step, message, info, cause)
        last = (
            f"; the last attempt failed with {type(cause).__name__}: {cause}"
            if cause is not None
            else ""
        )
        error = MaxRetriesExceededError(
            f'{message} for step "{step.key}"{last}',
            step_key=step.key,
            max_retries=request.max_retries,
            user_exception=cause,
        )
        error.__cause__ = cause
        return ("failed", error), hook_error
    wait = request.seconds_to_wait
    suffix = f" in {wait} seconds" if wait else ""
    state.emit(
        "STEP_UP_FOR_RETRY",
        step.key,
        f'Execution of step "{step.key}" failed and has requested a retry{suffix}.',
        StepRetryData(info, wait),
    )
    return ("retry", float(wait or 0)), request


def _emit_retry_failure(
    state: RunState,
    step: Step,
    message: str,
    info: SerializableErrorInfo,
    cause: BaseException | None,
) -> None:
    error_info = SerializableErrorInfo(message, info.stack, info.cls_name, info.cause)
    state.emit(
        "STEP_FAILURE",
        step.key,
        f'Execution of step "{step.key}" failed.',
        StepFailureData(error_info, getattr(cause, "user_failure_data", None), "USER_CODE"),
    )


def _hooks_for(state: RunState, step: Step) -> list[Any]:
    if not step.hook_defs and not state.hook_defs:
        return []
    from weir._model.hooks import sorted_hooks

    return sorted_hooks(step.hook_defs, state.hook_defs)


def _run_hooks(
    state: RunState,
    step: Step,
    hooks: list[Any],
    step_events: list[DagsterEvent],
    op_exception: BaseException | None,
) -> None:
    from weir._model.hooks import HookContext, trigger_hooks

    outputs = dict(state.output_values or {})

    def make_context(hook: Any) -> HookContext:
        return HookContext(
            hook_def=hook,
            step_key=step.key,
            op=step.node_def,
            op_config=step.config,
            op_exception=op_exception,
            op_output_values=outputs,
            resources=state.resources,
            instance=state.instance,
            run_id=state.run.run_id,
            job_name=state.job_name,
        )

    def emit(event_type_value: str, message: str, data: Any) -> None:
        state.emit(event_type_value, step.key, message, data)

    trigger_hooks(hooks, step_events, make_context, emit, step.node_def.name)


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
