"""Running an op job in process: op steps, dynamic mapping (``op[key]``), fan-in and collect."""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from weir._execution.context import OpExecutionContext
from weir._execution.events import (
    DagsterEvent,
    HandledOutputData,
    LoadedInputData,
    SerializableErrorInfo,
    StepFailureData,
)
from weir._execution.op_graph import OpNode
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._execution.step_execution import (
    OutputRecord,
    StepFailed,
    check_input,
    check_output,
    failure_data,
)
from weir._execution.types import is_nothing
from weir._io.contexts import InputContext, OutputContext
from weir._model.asset_in_out import NO_TYPE
from weir._model.results import AssetMaterialization, AssetObservation, DynamicOutput, Output
from weir.errors import (
    DefinitionError,
    HandleOutputError,
    InvariantViolationError,
    LoadInputError,
    TypeCheckError,
)

__all__ = [
    "OpRunState",
    "finish_run",
    "op_output_record",
    "op_step_key",
    "run_op_attempt",
    "run_op_nodes",
    "same_key_upstream",
]

logger = logging.getLogger(__name__)


class OpRunState:
    """The state of one op-job run (the same shape ``ExecuteInProcessResult`` reads)."""

    def __init__(
        self,
        *,
        run: DagsterRun,
        job_name: str,
        instance: Any,
        resources: Any,
        node_config: Mapping[str, Any],
        run_config: Mapping[str, Any],
        input_values: Mapping[str, Any],
    ) -> None:
        self.run = run
        self.job_name = job_name
        self.instance = instance
        self.resources = resources
        self.node_config = node_config
        self.run_config = run_config
        self.input_values = input_values
        self.partition_key: str | None = None
        self.events: list[DagsterEvent] = []
        self.output_records: dict[tuple[str, str], OutputRecord] = {}
        # (handle, output) -> emitted mapping keys in order (dynamic outputs and mapped ops)
        self.mapping_keys: dict[tuple[str, str], list[str]] = {}
        self.emitted: dict[str, set[str]] = {}  # step key -> output names emitted
        self.hook_defs: frozenset[Any] = frozenset()
        self.op_retry_policy: Any = None
        self.retries_enabled = True  # False with executor config ``retries: {disabled: {}}``
        self.sink: Any = None  # a RunEventSink writing the events to the instance, per step
        # where context.log entries go: the sink, or (in a worker process) the parent
        self.log_sink: Callable[[Any], None] = self._log_to_sink

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
        return event


def _step_key(handle: str, mapping_key: str | None) -> str:
    return f"{handle}[{mapping_key}]" if mapping_key is not None else handle


op_step_key = _step_key  # the step key of an op (``handle``) or of a mapped op (``handle[key]``)


def _record_key(handle: str, output: str, mapping_key: str | None) -> tuple[str, str]:
    return (_step_key(handle, mapping_key), output)


def _load(
    state: OpRunState,
    node: OpNode,
    step_key: str,
    input_name: str,
    src_handle: str,
    src_output: str,
    mapping_key: str | None,
) -> Any:
    record = state.output_records.get(_record_key(src_handle, src_output, mapping_key))
    if record is None:
        msg = (
            f'Input "{input_name}" of step "{step_key}" reads output "{src_output}" of step '
            f'"{_step_key(src_handle, mapping_key)}", which did not produce it in this run: that op is '
            "outside the op selection (select it too), or it is an op of a graph mapped with .map() that "
            "does not read the mapped value (such ops do not run once per key; pass it the value)."
        )
        raise StepFailed(DefinitionError(msg), None, "FRAMEWORK")
    input_def = node.op_def.ins[input_name]
    manager_key = input_def.input_manager_key or record.io_manager_key
    ctx = InputContext(
        name=input_name,
        job_name=state.job_name,
        op_def=node.op_def,
        definition_metadata=input_def.metadata,
        metadata=input_def.metadata,
        upstream_output=record.context,
        dagster_type=input_def.dagster_type,
        resources=state.resources,
        instance=state.instance,
    )
    try:
        value = state.resources.get(manager_key).load_input(ctx)
    except Exception as exc:
        msg = f'Error loading input "{input_name}" of step "{step_key}" with IO manager "{manager_key}": {type(exc).__name__}: {exc}'
        raise StepFailed(LoadInputError(msg, user_exception=exc), exc, "LOAD_INPUT") from exc
    state.emit(
        "LOADED_INPUT",
        step_key,
        f'Loaded input "{input_name}" using input manager "{manager_key}", from output "{src_output}" of step "{record.context.step_key}"',
        LoadedInputData(input_name, manager_key, src_output, record.context.step_key),
    )
    return value


def _input_values(
    state: OpRunState, node: OpNode, step_key: str, mapping_key: str | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    config_inputs = ((state.run_config.get("ops") or {}).get(node.handle) or {}).get("inputs") or {}
    for name, src in node.inputs.items():
        input_def = node.op_def.ins[name]
        if is_nothing(input_def.dagster_type):
            continue  # an ordering dependency: no value to load
        if src.kind == "output" or src.kind == "mapped":
            handle, output = src.sources[0]
            upstream_mapped = (handle, output) in state.mapping_keys and src.kind == "output"
            key = mapping_key if (src.kind == "mapped" or upstream_mapped) else None
            value = _load(state, node, step_key, name, handle, output, key)
        elif src.kind == "fan_in":
            value = [_load(state, node, step_key, name, h, o, None) for h, o in src.sources]
        elif src.kind == "collect":
            handle, output = src.sources[0]
            value = [
                _load(state, node, step_key, name, handle, output, k)
                for k in state.mapping_keys.get((handle, output), [])
            ]
        elif src.kind == "graph_input":
            if src.name is None or src.name not in state.input_values:
                msg = f'Input "{name}" of op "{node.handle}" comes from graph input "{src.name}", but no value was given; pass input_values={{"{src.name}": ...}}.'
                raise StepFailed(DefinitionError(msg), None, "FRAMEWORK")
            value = state.input_values[src.name]
        else:  # config / default
            if name in config_inputs:
                raw = config_inputs[name]
                value = raw.get("value", raw) if isinstance(raw, Mapping) else raw
            elif input_def.default_value is not NO_TYPE:
                value = input_def.default_value
            elif name in state.input_values:
                value = state.input_values[name]
            else:
                msg = (
                    f'Input "{name}" of op "{node.handle}" is not connected to any upstream output and has no default; '
                    f'connect it in the graph, give it a default, or set run_config["ops"]["{node.handle}"]["inputs"]["{name}"].'
                )
                raise StepFailed(DefinitionError(msg), None, "FRAMEWORK")
        check_input(state, step_key, name, input_def.dagster_type, value)
        values[name] = value
    return values


def _results(raw: Any, node: OpNode) -> Iterator[Any]:
    outs = node.op_def.outs
    if inspect.isgenerator(raw):
        yield from raw
        return
    if isinstance(raw, (Output, DynamicOutput, AssetMaterialization, AssetObservation)):
        yield raw
        return
    if len(outs) == 1:
        name, out_def = next(iter(outs.items()))
        if out_def.is_dynamic:
            msg = f'Op "{node.handle}" has a DynamicOut and must yield DynamicOutput(value, mapping_key=...) values.'
            raise DefinitionError(msg)
        # a Nothing output (``-> None``) is produced by returning: ops that wait on it may run
        yield Output(raw, name)
        return
    if raw is None and all(not o.is_required for o in outs.values()):
        return
    if not isinstance(raw, tuple) or len(raw) != len(outs):
        msg = f'Op "{node.handle}" has {len(outs)} outputs {list(outs)} and must return a tuple of that length or yield Output(value, output_name=...).'
        raise DefinitionError(msg)
    for name, item in zip(outs, raw, strict=True):
        yield item if isinstance(item, Output) else Output(item, name)


def _output_context(
    state: OpRunState,
    node: OpNode,
    step_key: str,
    name: str,
    mapping_key: str | None,
    run_id: str | None = None,
) -> OutputContext:
    out_def = node.op_def.outs[name]
    return OutputContext(
        step_key=step_key,
        name=name,
        job_name=state.job_name,
        run_id=run_id or state.run.run_id,
        definition_metadata=out_def.metadata,
        mapping_key=mapping_key,
        dagster_type=out_def.dagster_type,
        resources=state.resources,
        op_def=node.op_def,
        instance=state.instance,
        version=out_def.code_version,
    )


def op_output_record(
    state: OpRunState,
    node: OpNode,
    output_name: str,
    step_mapping_key: str | None,
    dynamic_key: str | None,
    run_id: str | None = None,
) -> tuple[tuple[str, str], OutputRecord]:
    """The record key and ``OutputRecord`` of an output that ``node`` produced in another process.

    ``step_mapping_key`` is the mapping key of the producing step (``op[key]``), ``dynamic_key``
    the mapping key of one value of a dynamic output; the record is keyed and identified exactly
    as the producing process stored it, so IO managers find the value. ``run_id`` names the run
    that produced it when that is not this run (re-execution).
    """
    record_mapping = dynamic_key if dynamic_key is not None else step_mapping_key
    context = _output_context(
        state, node, _step_key(node.handle, step_mapping_key), output_name, record_mapping, run_id
    )
    out_def = node.op_def.outs[output_name]
    stored = out_def.dagster_type is not None
    record = OutputRecord(None, out_def.io_manager_key, context, stored)
    return _record_key(node.handle, output_name, record_mapping), record


def _handle_output(
    state: OpRunState,
    node: OpNode,
    step_key: str,
    mapping_key: str | None,
    item: Output | DynamicOutput,
    context: OpExecutionContext,
) -> None:
    name = item.output_name
    out_def = node.op_def.outs.get(name)
    if out_def is None:
        msg = f'Op "{node.handle}" returned an output named "{name}", but it only has outputs {list(node.op_def.outs)}.'
        raise DefinitionError(msg)
    emitted = state.emitted.setdefault(step_key, set())
    dynamic_key = item.mapping_key if isinstance(item, DynamicOutput) else None
    if isinstance(item, DynamicOutput) and not out_def.is_dynamic:
        msg = f'Op "{node.handle}" yielded a DynamicOutput for output "{name}", which is not a DynamicOut.'
        raise DefinitionError(msg)
    if out_def.is_dynamic and dynamic_key is None:
        msg = f'Op "{node.handle}" output "{name}" is a DynamicOut; yield DynamicOutput(value, mapping_key=...).'
        raise DefinitionError(msg)
    record_mapping = dynamic_key if dynamic_key is not None else mapping_key
    if dynamic_key is not None:
        keys = state.mapping_keys.setdefault((node.handle, name), [])
        if dynamic_key in keys:
            msg = f'Op "{node.handle}" yielded mapping key "{dynamic_key}" twice for output "{name}"; mapping keys must be unique.'
            raise DefinitionError(msg)
        keys.append(dynamic_key)
    elif name in emitted:
        msg = f'Op "{node.handle}" returned output "{name}" more than once.'
        raise DefinitionError(msg)
    emitted.add(name)
    if mapping_key is not None and dynamic_key is None:
        state.mapping_keys.setdefault((node.handle, name), [])
        if mapping_key not in state.mapping_keys[(node.handle, name)]:
            state.mapping_keys[(node.handle, name)].append(mapping_key)
    ann = out_def.dagster_type
    value = item.value
    if ann is not None:
        check_output(state, step_key, name, dynamic_key, ann, value)
    out_ctx = _output_context(state, node, step_key, name, record_mapping)
    stored = False
    if ann is not None:
        manager_key = out_def.io_manager_key
        try:
            state.resources.get(manager_key).handle_output(out_ctx, value)
        except Exception as exc:
            msg = f'Error storing output "{name}" of step "{step_key}" with IO manager "{manager_key}": {type(exc).__name__}: {exc}'
            raise StepFailed(
                HandleOutputError(msg, user_exception=exc), exc, "HANDLE_OUTPUT"
            ) from exc
        out_ctx.consume_output_metadata()
        stored = True
        state.emit(
            "HANDLED_OUTPUT",
            step_key,
            f'Handled output "{name}" using IO manager "{manager_key}"',
            HandledOutputData(name, manager_key),
        )
    state.output_records[_record_key(node.handle, name, record_mapping)] = OutputRecord(
        None, out_def.io_manager_key, out_ctx, stored
    )


def _execute_one(
    state: OpRunState, node: OpNode, mapping_key: str | None, attempt: int = 0
) -> None:
    step_key = _step_key(node.handle, mapping_key)
    start = time.perf_counter()
    if attempt:
        state.emit(
            "STEP_RESTARTED",
            step_key,
            f'Started re-execution (attempt # {attempt + 1}) of step "{step_key}".',
        )
    else:
        state.emit("STEP_START", step_key, f'Started execution of step "{step_key}".')
    inputs = _input_values(state, node, step_key, mapping_key)
    info = node.op_def.fn_info
    fn = node.op_def.compute_fn
    assert info is not None and fn is not None
    context = OpExecutionContext(
        run=state.run,
        job_name=state.job_name,
        step_key=step_key,
        assets_def=None,
        selected_keys=None,
        resources=state.resources,
        config=state.node_config.get(node.handle),
        instance=state.instance,
        retry_number=attempt,
        partition_key=state.partition_key,
        mapping_key=mapping_key,
        log_sink=state.log_sink,
    )
    kwargs = dict(inputs)
    if info.config_param is not None:
        kwargs[info.config_param] = state.node_config.get(node.handle)
    for res in info.resource_params:
        kwargs[res] = state.resources.get(res)
    try:
        raw = fn(context, **kwargs) if info.context_param is not None else fn(**kwargs)
        for item in _results(raw, node):
            if isinstance(item, (Output, DynamicOutput)):
                _handle_output(state, node, step_key, mapping_key, item, context)
            elif isinstance(item, AssetMaterialization):
                state.emit(
                    "ASSET_MATERIALIZATION",
                    step_key,
                    f"Materialized value {item.asset_key.to_user_string()}.",
                    item,
                )
            elif isinstance(item, AssetObservation):
                state.emit(
                    "ASSET_OBSERVATION",
                    step_key,
                    f"Observed value {item.asset_key.to_user_string()}.",
                    item,
                )
            else:
                msg = f'Op "{node.handle}" yielded {item!r}; an op may yield Output, DynamicOutput, AssetMaterialization or AssetObservation.'
                raise DefinitionError(msg)
    except StepFailed:
        raise
    except (DefinitionError, InvariantViolationError, TypeCheckError) as exc:
        raise StepFailed(exc, None, "FRAMEWORK") from exc
    except Exception as exc:
        raise StepFailed(exc, exc, "USER_CODE") from exc
    emitted = state.emitted.get(step_key, set())
    for name, out_def in node.op_def.outs.items():
        if (
            name not in emitted
            and out_def.is_required
            and out_def.dagster_type is not None
            and not out_def.is_dynamic
        ):
            msg = f'Core compute for op "{node.handle}" did not return an output for non-optional output "{name}"'
            raise StepFailed(InvariantViolationError(msg), None, "FRAMEWORK")
    state.emit(
        "STEP_SUCCESS",
        step_key,
        f'Finished execution of step "{step_key}" in {(time.perf_counter() - start) * 1000:.2f}ms.',
    )


def _mapping_keys_for(
    state: OpRunState, node: OpNode, nodes_by_handle: Mapping[str, OpNode]
) -> list[str] | None:
    """The mapping keys a mapped op runs for (None for an ordinary op)."""
    if not node.is_mapped:
        return None
    for src in node.inputs.values():
        if src.kind == "mapped" or (
            src.kind == "output" and src.sources and (src.sources[0] in state.mapping_keys)
        ):
            return list(state.mapping_keys.get(src.sources[0], []))
    return []


def run_op_nodes(
    state: OpRunState, nodes: list[OpNode], raise_on_error: bool
) -> tuple[list[str], BaseException | None]:
    """Execute ``nodes`` in order; returns the failed step keys and what to raise, if anything."""
    by_handle = {n.handle: n for n in nodes}
    blocked: set[str] = set()  # failed, or not run because of a failure upstream
    partial: set[str] = set()  # mapped ops with some steps failed or not run: they block collects
    skipped: set[str] = set()
    failed: list[str] = []
    for node in nodes:
        per_key = same_key_upstream(node, by_handle)
        upstream = node.upstream_handles
        if (upstream - per_key.keys()) & (blocked | partial) or per_key.keys() & blocked:
            blocked.add(node.handle)
            continue
        missing = missing_upstream_outputs(node, by_handle, skipped, state)
        if missing:
            skipped.add(node.handle)
            state.emit(
                "STEP_SKIPPED",
                node.handle,
                f'Skipped execution of step "{node.handle}" because its upstream output(s) {missing} were not produced.',
            )
            continue
        if per_key.keys() & partial:
            partial.add(node.handle)  # the keys that failed upstream do not run here either
        keys = _mapping_keys_for(state, node, by_handle)
        for mapping_key in keys if keys is not None else [None]:
            error = _run_with_retries(state, node, mapping_key)
            if error is not None:
                (partial if mapping_key is not None else blocked).add(node.handle)
                failed.append(_step_key(node.handle, mapping_key))
                if raise_on_error:
                    return failed, error
    return failed, None


def same_key_upstream(node: OpNode, by_handle: Mapping[str, OpNode]) -> dict[str, str]:
    """For a mapped op, the mapped ops it reads key by key (``op[k]`` reads ``upstream[k]``):
    upstream handle -> output name. A failed ``upstream[k]`` stops only ``op[k]``."""
    if not node.is_mapped:
        return {}
    result: dict[str, str] = {}
    for src in node.inputs.values():
        if src.kind in ("output", "mapped"):
            for h, o in src.sources:
                upstream = by_handle.get(h)
                if upstream is not None and upstream.is_mapped:
                    result.setdefault(h, o)
    return result


def missing_upstream_outputs(
    node: OpNode, by_handle: Mapping[str, OpNode], skipped: set[str], state: OpRunState
) -> list[str]:
    """The upstream outputs ``node`` reads that were not produced (``handle.output``): the node is
    skipped when there are any. A skipped op skips everything that maps over or collects its
    outputs, as in Dagster."""
    missing: list[str] = []
    for src in node.inputs.values():
        if src.kind in ("output", "fan_in"):
            for h, o in src.sources:
                upstream = by_handle.get(h)
                if h in skipped or (
                    upstream is not None
                    and not upstream.is_mapped
                    and (h, o) not in state.mapping_keys
                    and o not in state.emitted.get(h, set())
                ):
                    missing.append(f"{h}.{o}")
        elif src.kind in ("mapped", "collect"):
            missing += [f"{h}.{o}" for h, o in src.sources if h in skipped]
    return missing


def _run_with_retries(
    state: OpRunState, node: OpNode, mapping_key: str | None
) -> BaseException | None:
    """Run one op step with its retry policy (or the job's) and hooks; the error to raise, if it failed.

    Retries of op steps wait in place (the asset engine runs other steps meanwhile)."""
    attempt = 0
    while True:
        status, payload = run_op_attempt(state, node, mapping_key, attempt)
        if status == "retry":
            if payload:
                time.sleep(payload)
            attempt += 1
            continue
        return payload if status == "failed" else None  # type: ignore[no-any-return]


def run_op_attempt(
    state: OpRunState, node: OpNode, mapping_key: str | None, attempt: int
) -> tuple[str, Any]:
    """Run attempt ``attempt`` (0 first) of one op step, then its hooks.

    Emits the step's events, including ``STEP_FAILURE`` or ``STEP_UP_FOR_RETRY``. Returns
    ``("success", None)``, ``("retry", seconds to wait before attempt + 1)`` or ``("failed", the
    exception to raise with raise_on_error)``: the in-process loop waits and tries again, the
    multiprocess executor sends the next attempt to a worker when it is due.
    """
    from weir._model.retry import (
        MaxRetriesExceededError,
        RetryRequested,
        StepRetryData,
        retry_request_for,
    )

    step_key = _step_key(node.handle, mapping_key)
    policy = node.retry_policy or node.op_def.retry_policy or state.op_retry_policy
    first_event = len(state.events)
    try:
        _execute_one(state, node, mapping_key, attempt)
    except StepFailed as failure:
        user_error = failure.user_error
        request = None
        if policy is not None or isinstance(user_error, RetryRequested):
            request = retry_request_for(user_error, failure.source, policy, attempt)
        if request is not None and attempt < request.max_retries and state.retries_enabled:
            wait = float(request.seconds_to_wait or 0)
            state.emit(
                "STEP_UP_FOR_RETRY",
                step_key,
                f'Execution of step "{step_key}" failed and has requested a retry{f" in {wait} seconds" if wait else ""}.',
                StepRetryData(SerializableErrorInfo.from_exception(request), wait or None),
            )
            _hooks(state, node, step_key, state.events[first_event:], user_error)
            return "retry", wait
        if request is not None and not state.retries_enabled:
            info = SerializableErrorInfo.from_exception(request)
            data = StepFailureData(
                SerializableErrorInfo(
                    "RetryRequested but retries are disabled", info.stack, info.cls_name, info.cause
                ),
                getattr(user_error, "user_failure_data", None),
                "USER_CODE",
            )
        else:
            data = failure_data(failure.error, user_error, failure.source)
        state.emit("STEP_FAILURE", step_key, f'Execution of step "{step_key}" failed.', data)
        _hooks(state, node, step_key, state.events[first_event:], user_error or failure.error)
        if request is not None and state.retries_enabled:  # retries exhausted
            error = MaxRetriesExceededError(
                f'Exceeded max_retries of {request.max_retries} for step "{step_key}"; the last attempt failed with {type(user_error).__name__}: {user_error}',
                step_key=step_key,
                max_retries=request.max_retries,
                user_exception=user_error,
            )
            error.__cause__ = user_error
            return "failed", error
        if failure.source == "USER_CODE" and user_error is not None:
            return "failed", user_error
        return "failed", failure.error
    _hooks(state, node, step_key, state.events[first_event:], None)
    return "success", None


def _hooks(
    state: OpRunState,
    node: OpNode,
    step_key: str,
    step_events: list[DagsterEvent],
    op_exception: BaseException | None,
) -> None:
    if not node.hook_defs and not state.hook_defs:
        return
    from weir._model.hooks import HookContext, sorted_hooks, trigger_hooks

    def make_context(hook: Any) -> HookContext:
        return HookContext(
            hook_def=hook,
            step_key=step_key,
            op=node.op_def,
            op_config=state.node_config.get(node.handle),
            op_exception=op_exception,
            op_output_values={},
            resources=state.resources,
            instance=state.instance,
            run_id=state.run.run_id,
            job_name=state.job_name,
        )

    def emit(event_type_value: str, message: str, data: Any) -> None:
        state.emit(event_type_value, step_key, message, data)

    trigger_hooks(
        sorted_hooks(node.hook_defs, state.hook_defs),
        step_events,
        make_context,
        emit,
        node.op_def.name,
    )


def finish_run(state: OpRunState, failed: list[str], start: float) -> None:
    pid = os.getpid()
    state.emit(
        "ENGINE_EVENT",
        None,
        f"Finished steps in process (pid: {pid}) in {(time.perf_counter() - start) * 1000:.0f}ms",
    )
    if failed:
        state.run.status = DagsterRunStatus.FAILURE
        state.emit(
            "PIPELINE_FAILURE",
            None,
            f'Execution of run for "{state.job_name}" failed. Steps failed: {failed}.',
        )
    else:
        state.run.status = DagsterRunStatus.SUCCESS
        state.emit("PIPELINE_SUCCESS", None, f'Finished execution of run for "{state.job_name}".')
