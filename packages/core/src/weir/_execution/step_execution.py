"""Running one step: load inputs, call user code, type-check, hand outputs to IO managers, emit events.

This is the hot path of every run: keep per-step work proportional to what the step does.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from weir._execution.check_results import handle_check_result
from weir._execution.context import AssetExecutionContext
from weir._execution.events import (
    AssetObservationData,
    HandledOutputData,
    LoadedInputData,
    SerializableErrorInfo,
    StepFailureData,
    StepInputData,
    StepMaterializationData,
    StepOutputData,
    TypeCheckData,
)
from weir._execution.partition_context import StepPartitionsView
from weir._execution.partition_io import (
    input_partitions,
    materialized_partitions,
    output_partition_args,
    step_partitions,
)
from weir._execution.types import display_name, run_type_check
from weir._io.contexts import InputContext, OutputContext
from weir._model.asset_checks import AssetCheckFailedError, AssetCheckResult
from weir._model.asset_key import AssetKey
from weir._model.metadata import normalize_metadata
from weir._model.results import AssetMaterialization, AssetObservation, MaterializeResult, Output
from weir.errors import (
    DefinitionError,
    HandleOutputError,
    InvariantViolationError,
    LoadInputError,
    TypeCheckError,
    WeirError,
)

if TYPE_CHECKING:
    from weir._execution.plan import Step
    from weir._execution.run_execution import RunState

__all__ = ["OutputRecord", "StepFailed", "execute_step"]

logger = logging.getLogger(__name__)

_NO_VALUE = object()


class OutputRecord:
    """A step output that was produced in this run (for downstream loading and results)."""

    __slots__ = ("asset_key", "context", "io_manager_key", "stored")

    def __init__(
        self, asset_key: AssetKey | None, io_manager_key: str, context: OutputContext, stored: bool
    ) -> None:
        self.asset_key = asset_key
        self.io_manager_key = io_manager_key
        self.context = context
        self.stored = stored


class StepFailed(Exception):
    """Internal: a step failed; carries the exception to report (and maybe re-raise)."""

    def __init__(self, error: BaseException, user_error: BaseException | None, source: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.user_error = user_error
        self.source = source


def _run_check(step_key: str, what: str, ann: Any, value: Any) -> tuple[Any, str]:
    """Run the type check of ``ann`` on ``value``; a check function that raises fails the step."""
    try:
        check = run_type_check(ann, value, label=f'{what} of step "{step_key}"')
    except WeirError as exc:
        raise StepFailed(exc, exc, "TYPE_CHECK") from exc
    return check, display_name(ann)


def check_input(state: Any, step_key: str, name: str, ann: Any, value: Any) -> None:
    """Type-check an input and emit ``STEP_INPUT`` (Dagster's messages); raise ``StepFailed`` on failure."""
    check, tname = _run_check(step_key, f'input "{name}"', ann, value)
    data = StepInputData(
        name, TypeCheckData(check.success, name, check.description, check.metadata)
    )
    if not check.success:
        state.emit(
            "STEP_INPUT",
            step_key,
            f'Got input "{name}" of type "{tname}". (Type check failed).',
            data,
        )
        message = f'Type check failed for step input "{name}" - expected type "{tname}". Description: {check.description}'
        raise StepFailed(
            TypeCheckError(message, metadata=check.metadata, dagster_type=ann), None, "TYPE_CHECK"
        )
    state.emit(
        "STEP_INPUT", step_key, f'Got input "{name}" of type "{tname}". (Type check passed).', data
    )


def check_output(
    state: Any, step_key: str, name: str, mapping_key: str | None, ann: Any, value: Any
) -> None:
    """Type-check an output and emit ``STEP_OUTPUT``; raise ``TypeCheckError`` on failure."""
    check, tname = _run_check(step_key, f'output "{name}"', ann, value)
    data = StepOutputData(
        step_key,
        name,
        mapping_key,
        TypeCheckData(check.success, name, check.description, check.metadata),
    )
    if not check.success:
        state.emit(
            "STEP_OUTPUT",
            step_key,
            f'Yielded output "{name}" of type "{tname}". Warning! Type check failed.',
            data,
        )
        message = f'Type check failed for step output "{name}" - expected type "{tname}". Description: {check.description}'
        raise TypeCheckError(message, metadata=check.metadata, dagster_type=ann)
    suffix = f" (mapping key {mapping_key})" if mapping_key else ""
    state.emit(
        "STEP_OUTPUT",
        step_key,
        f'Yielded output "{name}"{suffix} of type "{tname}". (Type check passed).',
        data,
    )


def _output_context(
    state: RunState, step: Step, output_name: str, asset_key: AssetKey | None
) -> OutputContext:
    node = step.node_def
    out_def = node.outs[output_name]
    spec = step.assets_def.specs_by_key.get(asset_key) if asset_key is not None else None
    partitions = output_partition_args(
        step_partitions(state, step.assets_def),
        spec is not None and spec.partitions_def is not None,
    )
    return OutputContext(
        step_key=step.key,
        name=output_name,
        job_name=state.job_name,
        run_id=state.run.run_id,
        definition_metadata=spec.metadata if spec is not None else out_def.metadata,
        dagster_type=out_def.dagster_type,
        log=None,
        resources=state.resources,
        op_def=node,
        asset_key=asset_key,
        asset_spec=spec,
        instance=state.instance,
        version=out_def.code_version,
        **partitions,
    )


def _unselected_upstream_context(state: RunState, asset_key: AssetKey) -> OutputContext:
    """The OutputContext of an asset produced by an earlier run (not selected in this one)."""
    ad = state.resolved.assets_def_by_key.get(asset_key)
    spec = ad.specs_by_key.get(asset_key) if ad is not None else None
    step_key = ad.node_name if ad is not None and ad.node_name else asset_key.to_python_identifier()
    output_name = "result"
    if ad is not None and ad.has_node:
        output_name = ad.get_output_name_for_asset_key(asset_key)
    return OutputContext(
        step_key=step_key,
        name=output_name,
        job_name=state.job_name,
        run_id=None,
        definition_metadata=spec.metadata if spec is not None else {},
        resources=state.resources,
        asset_key=asset_key,
        asset_spec=spec,
        partition_key=state.partition_key,
        instance=state.instance,
    )


def _point_at_upstream_partitions(
    state: RunState, step: Step, asset_key: AssetKey, ctx: InputContext, upstream_ctx: Any
) -> None:
    """For a partitioned upstream asset: the partitions this input reads, through the dep's
    partition mapping (or the inferred one)."""
    upstream_pdef, mapping = _upstream_partitioning(state, step, asset_key)
    if upstream_pdef is None:
        return
    input_partitions(
        ctx,
        upstream_ctx,
        step_partitions(state, step.assets_def),
        upstream_pdef,
        mapping,
        state.instance,
    )


def _upstream_partitioning(state: RunState, step: Step, asset_key: AssetKey) -> tuple[Any, Any]:
    """The upstream asset's partitions definition and the dep's explicit partition mapping."""
    up_def = state.resolved.assets_def_by_key.get(asset_key)
    up_spec = up_def.specs_by_key.get(asset_key) if up_def is not None else None
    upstream_pdef = up_spec.partitions_def if up_spec is not None else None
    mapping = None
    ad = step.assets_def
    for spec in ad.specs_by_key.values() if ad is not None and upstream_pdef is not None else ():
        for dep in spec.deps:
            if dep.asset_key == asset_key and dep.partition_mapping is not None:
                mapping = dep.partition_mapping
    return upstream_pdef, mapping


def _input_partitions_resolver(state: RunState, step: Step, sp: Any) -> Any:
    """``input name -> UpstreamPartitions`` (None for an unpartitioned upstream), for the context."""

    def resolve(input_name: str) -> Any:
        key = step.assets_def.keys_by_input_name.get(input_name) if step.assets_def else None
        if key is None:
            return None
        upstream_pdef, mapping = _upstream_partitioning(state, step, key)
        return sp.upstream(upstream_pdef, mapping) if upstream_pdef is not None else None

    return resolve


def _load_inputs(state: RunState, step: Step) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for inp in step.inputs:
        manager_key = inp.input_def.input_manager_key or inp.io_manager_key
        if inp.upstream_step is not None:
            record = state.output_records[(inp.upstream_step, inp.upstream_output or "result")]
            upstream_ctx = record.context
            manager_key = inp.input_def.input_manager_key or record.io_manager_key
        elif inp.asset_key is not None:
            upstream_ctx = _unselected_upstream_context(state, inp.asset_key)
        else:
            upstream_ctx = None
        manager = state.resources.get(manager_key)
        ctx = InputContext(
            name=inp.name,
            job_name=state.job_name,
            op_def=step.node_def,
            definition_metadata=inp.input_def.metadata,
            metadata=inp.input_def.metadata,
            upstream_output=upstream_ctx,
            dagster_type=inp.input_def.dagster_type,
            resources=state.resources,
            asset_key=inp.asset_key,
            partition_key=state.partition_key,
            instance=state.instance,
        )
        if inp.asset_key is not None:
            try:
                _point_at_upstream_partitions(state, step, inp.asset_key, ctx, upstream_ctx)
            except WeirError as exc:  # e.g. a mapping to upstream partitions that do not exist
                raise StepFailed(exc, None, "FRAMEWORK") from exc
        try:
            value = manager.load_input(ctx)
        except Exception as exc:
            what = (
                f" (asset {inp.asset_key.to_user_string()!r})" if inp.asset_key is not None else ""
            )
            msg = (
                f'Error loading input "{inp.name}"{what} of step "{step.key}" '
                f'with IO manager "{manager_key}": {type(exc).__name__}: {exc}'
            )
            if inp.upstream_step is None and inp.asset_key is not None:
                msg = msg.rstrip().rstrip(".") + (
                    f". The upstream asset was not part of this run, so weir loaded what an earlier run stored; "
                    f"materialize {inp.asset_key.to_user_string()!r} first (or include it in the selection)."
                )
            raise StepFailed(LoadInputError(msg, user_exception=exc), exc, "LOAD_INPUT") from exc
        source = (
            f', from output "{inp.upstream_output}" of step "{inp.upstream_step}"'
            if inp.upstream_step
            else ""
        )
        state.emit(
            "LOADED_INPUT",
            step.key,
            f'Loaded input "{inp.name}" using input manager "{manager_key}"{source}',
            LoadedInputData(inp.name, manager_key, inp.upstream_output, inp.upstream_step),
        )
        check_input(state, step.key, inp.name, inp.input_def.dagster_type, value)
        values[inp.name] = value
    return values


def _invoke(
    state: RunState, step: Step, context: AssetExecutionContext, inputs: dict[str, Any]
) -> Any:
    node = step.node_def
    if getattr(node, "is_graph", False):  # a graph-backed asset: run its ops inside this step
        from weir._execution.graph_asset_execution import run_graph_for_step

        return run_graph_for_step(state, step, inputs)
    info = node.fn_info
    assert info is not None and node.compute_fn is not None
    kwargs: dict[str, Any] = dict(inputs)
    if info.config_param is not None:
        kwargs[info.config_param] = step.config
    for name in info.resource_params:
        kwargs[name] = state.resources.get(name)
    if info.context_param is not None:
        return node.compute_fn(context, **kwargs)
    return node.compute_fn(**kwargs)


def _iter_results(raw: Any, step: Step) -> Iterator[Any]:
    """Normalise what user code returned into a stream of result objects."""
    node = step.node_def
    if inspect.isgenerator(raw):
        yield from raw
        return
    if inspect.iscoroutine(raw):
        import asyncio

        raw = asyncio.run(raw)
    if isinstance(
        raw, (Output, MaterializeResult, AssetMaterialization, AssetObservation, AssetCheckResult)
    ):
        yield raw
        return
    if step.kind == "check":
        if isinstance(raw, (list, tuple)):
            yield from raw
        elif raw is not None:
            yield raw
        return
    outs = node.outs
    if raw is None and all(o.dagster_type is None for o in outs.values()):
        # `-> None`: the assets materialize, but there is no value for an IO manager
        for name in outs:
            if step.assets_def.keys_by_output_name.get(name) in step.selected_keys:
                yield Output(_NO_VALUE, name)
        return
    if len(outs) == 1:
        yield Output(raw, next(iter(outs)))
        return
    if not isinstance(raw, tuple) or len(raw) != len(outs):
        msg = (
            f'Step "{step.key}" has {len(outs)} outputs {list(outs)} and must return a tuple of that length (in that '
            f"order) or yield Output(value, output_name=...) / MaterializeResult(asset_key=...); it returned {type(raw).__name__}."
        )
        raise DefinitionError(msg)
    for name, item in zip(outs, raw, strict=True):
        if isinstance(item, (Output, MaterializeResult)):
            yield item
        else:
            yield Output(item, name)


def _materialize_output(
    state: RunState,
    step: Step,
    context: AssetExecutionContext,
    output_name: str,
    value: Any,
    metadata: Any,
    tags: Any,
    data_version: Any,
    emitted: set[str],
) -> None:
    ad = step.assets_def
    node = step.node_def
    out_def = node.outs.get(output_name)
    if out_def is None:
        msg = f'Step "{step.key}" returned an output named "{output_name}", but it only has outputs {list(node.outs)}.'
        raise DefinitionError(msg)
    if output_name in emitted:
        msg = f'Step "{step.key}" returned output "{output_name}" more than once.'
        raise DefinitionError(msg)
    emitted.add(output_name)
    asset_key = ad.keys_by_output_name.get(output_name)
    if asset_key is not None and asset_key not in step.selected_keys:
        msg = (
            f'Step "{step.key}" returned a value for asset {asset_key.to_user_string()!r}, which is not selected in this run. '
            "A multi_asset with can_subset=True must only emit context.selected_asset_keys."
        )
        raise DefinitionError(msg)
    ann = out_def.dagster_type
    has_value = value is not _NO_VALUE
    if has_value and ann is not None:
        check_output(state, step.key, output_name, None, ann, value)
    else:
        state.emit(
            "STEP_OUTPUT",
            step.key,
            f'Yielded output "{output_name}" of type "Nothing". (Type check passed).',
            StepOutputData(step.key, output_name, None, TypeCheckData(True, output_name)),
        )
    out_ctx = _output_context(state, step, output_name, asset_key)
    stored = False
    io_metadata: dict[str, Any] = {}
    if has_value and ann is not None:
        manager_key = out_def.io_manager_key
        manager = state.resources.get(manager_key)
        if value is None and asset_key is not None:
            logger.debug(
                "Asset %s returned None without a '-> None' annotation; storing None (Dagster-compatible).",
                asset_key.to_user_string(),
            )
        try:
            manager.handle_output(out_ctx, value)
        except Exception as exc:
            msg = (
                f'Error storing output "{output_name}" of step "{step.key}"'
                + (f" (asset {asset_key.to_user_string()!r})" if asset_key is not None else "")
                + f' with IO manager "{manager_key}": {type(exc).__name__}: {exc}'
            )
            raise StepFailed(
                HandleOutputError(msg, user_exception=exc), exc, "HANDLE_OUTPUT"
            ) from exc
        io_metadata = out_ctx.consume_output_metadata() or {}
        stored = True
    state.output_records[(step.key, output_name)] = OutputRecord(
        asset_key, out_def.io_manager_key, out_ctx, stored
    )
    captured = state.output_values
    if captured is not None and has_value:
        captured[output_name] = value
    if asset_key is not None:
        state.materialized_at[asset_key] = time.time()
        md = dict(metadata or {})
        extra = context._added_output_metadata.get(output_name)
        if extra:
            md.update(extra)
        extra = context._added_asset_metadata.get(asset_key)
        if extra:
            md.update(extra)
        if io_metadata:
            md.update(io_metadata)
        mat_tags = dict(tags or {})
        spec = ad.specs_by_key[asset_key]
        mat_tags["dagster/code_version"] = spec.code_version or state.run.run_id
        if data_version is not None:
            mat_tags["dagster/data_version"] = getattr(data_version, "value", str(data_version))
        normalized = normalize_metadata(md) if md else None
        for partition in materialized_partitions(
            step_partitions(state, ad), spec.partitions_def is not None
        ):
            materialization = AssetMaterialization(
                asset_key, metadata=normalized, partition=partition, tags=mat_tags
            )
            state.emit(
                "ASSET_MATERIALIZATION",
                step.key,
                f"Materialized value {asset_key.to_user_string()}.",
                StepMaterializationData(materialization),
            )
    if stored:
        state.emit(
            "HANDLED_OUTPUT",
            step.key,
            f'Handled output "{output_name}" using IO manager "{out_def.io_manager_key}"',
            HandledOutputData(output_name, out_def.io_manager_key),
        )


def _emit_logged(state: RunState, step: Step, event: Any) -> None:
    if isinstance(event, AssetMaterialization):
        state.emit(
            "ASSET_MATERIALIZATION",
            step.key,
            f"Materialized value {event.asset_key.to_user_string()}.",
            StepMaterializationData(event),
        )
    elif isinstance(event, AssetObservation):
        state.emit(
            "ASSET_OBSERVATION",
            step.key,
            f"Observed value {event.asset_key.to_user_string()}.",
            AssetObservationData(event),
        )
    else:
        state.emit("STEP_EXPECTATION_RESULT", step.key, str(event), event)


def node_output_is_nothing(node: Any, output_name: str) -> bool:
    """Whether ``output_name`` of ``node`` (an op, or anything with ``node_def``) is typed Nothing."""
    node = getattr(node, "node_def", node)
    out_def = node.outs.get(output_name)
    return out_def is not None and out_def.dagster_type is None


def _handle_result_item(
    state: RunState, step: Step, context: AssetExecutionContext, item: Any, emitted: set[str]
) -> None:
    ad = step.assets_def
    if isinstance(item, AssetCheckResult):
        evaluation = handle_check_result(state, step, item)
        if step.kind != "check" and evaluation.is_blocking_failure:
            msg = (
                f"Blocking check '{evaluation.check_name}' for asset "
                f"'{evaluation.asset_key.to_user_string()}' failed with ERROR severity."
            )
            raise AssetCheckFailedError(msg)
        return
    if step.kind == "check":
        msg = (
            f'Asset check step "{step.key}" returned or yielded {item!r} (a {type(item).__name__}); an '
            "@asset_check function must return an AssetCheckResult, and a @multi_asset_check must yield "
            "one AssetCheckResult per check."
        )
        raise DefinitionError(msg)
    if isinstance(item, Output):
        value = item.value
        if value is not _NO_VALUE and node_output_is_nothing(step.node_def, item.output_name):
            value = _NO_VALUE
        _materialize_output(
            state,
            step,
            context,
            item.output_name,
            value,
            item.metadata,
            item.tags,
            item.data_version,
            emitted,
        )
    elif isinstance(item, MaterializeResult):
        key = item.asset_key
        if key is None:
            if len(ad.keys_by_output_name) != 1:
                msg = f'Step "{step.key}" produces several assets; MaterializeResult needs asset_key= to say which.'
                raise DefinitionError(msg)
            key = next(iter(ad.keys_by_output_name.values()))
        if key not in ad.all_keys:
            msg = f'Step "{step.key}" returned MaterializeResult for {key.to_user_string()!r}, which it does not produce ({sorted(k.to_user_string() for k in ad.all_keys)}).'
            raise DefinitionError(msg)
        value = item.value if getattr(item, "has_value", False) else _NO_VALUE
        _materialize_output(
            state,
            step,
            context,
            ad.get_output_name_for_asset_key(key),
            value,
            item.metadata,
            item.tags,
            item.data_version,
            emitted,
        )
        for check_result in item.check_results or ():
            _handle_result_item(state, step, context, check_result, emitted)
    elif isinstance(item, (AssetMaterialization, AssetObservation)):
        _emit_logged(state, step, item)
    else:
        msg = (
            f'Step "{step.key}" yielded {item!r} (a {type(item).__name__}); a step may yield Output, MaterializeResult, '
            "AssetMaterialization, AssetObservation or AssetCheckResult."
        )
        raise DefinitionError(msg)


def _check_missing_check_results(state: RunState, step: Step) -> None:
    """Every check this step evaluates must have produced a result (unless the step can subset)."""
    if not step.check_specs or getattr(step.assets_def, "can_subset", False):
        return
    done = state.evaluated_checks.get(step.key, ())
    for spec in step.check_specs:
        if spec.key not in done:
            output = f"{spec.asset_key.to_python_identifier()}_{spec.name}"
            msg = (
                f'Core compute for op "{step.node_def.name}" did not return an output for non-optional output '
                f'"{output}": it returned no AssetCheckResult for check {spec.key.to_user_string()!r}.'
            )
            raise InvariantViolationError(msg)


def _blocking_failures(state: RunState, step: Step) -> AssetCheckFailedError | None:
    failed = [e for e in state.evaluated_checks.get(step.key, {}).values() if e.is_blocking_failure]
    if not failed:
        return None
    lines = "\n".join(f"{e.asset_key.to_user_string()}: {e.check_name}" for e in failed)
    plural = "s" if len(failed) > 1 else ""
    return AssetCheckFailedError(
        f"{len(failed)} blocking asset check{plural} failed with ERROR severity:\n{lines}"
    )


def execute_step(state: RunState, step: Step, attempt: int = 0) -> set[str]:
    """Run one attempt of ``step``; return the names of the outputs it emitted.

    ``attempt`` is the retry number (0 for the first attempt; later attempts start with
    ``STEP_RESTARTED`` instead of ``STEP_START``). Raises ``StepFailed``.
    """
    start = time.perf_counter()
    if attempt:
        state.emit(
            "STEP_RESTARTED",
            step.key,
            f'Started re-execution (attempt # {attempt + 1}) of step "{step.key}".',
        )
    else:
        state.emit("STEP_START", step.key, f'Started execution of step "{step.key}".')
    ad = step.assets_def
    if step.check_specs:
        state.evaluated_checks.pop(step.key, None)  # results of an earlier attempt do not count
    context_cls: type[AssetExecutionContext] = AssetExecutionContext
    extra: dict[str, Any] = {}
    if step.kind == "check":
        from weir._execution.check_context import AssetCheckExecutionContext

        context_cls = AssetCheckExecutionContext  # type: ignore[assignment]
        extra["check_specs"] = step.check_specs
    context = context_cls(
        run=state.run,
        job_name=state.job_name,
        step_key=step.key,
        assets_def=ad,
        selected_keys=step.selected_keys,
        resources=state.resources,
        config=step.config,
        instance=state.instance,
        retry_number=attempt,
        partition_key=state.partition_key,
        log_sink=state.log_sink,
        **extra,
    )
    sp = step_partitions(state, ad)
    if sp is not None:
        context._partitions = StepPartitionsView(sp, _input_partitions_resolver(state, step, sp))
    emitted: set[str] = set()
    inputs = _load_inputs(state, step)
    try:
        raw = _invoke(state, step, context, inputs)
        for item in _iter_results(raw, step):
            _handle_result_item(state, step, context, item, emitted)
    except StepFailed:
        raise
    except _FRAMEWORK_ERRORS as exc:
        raise StepFailed(exc, None, "FRAMEWORK") from exc
    except Exception as exc:  # the user's code raised (WeirErrors it raises count as its own)
        raise StepFailed(exc, exc, "USER_CODE") from exc
    for event in context._logged_events:
        _emit_logged(state, step, event)
    node = step.node_def
    keys_by_output = ad.keys_by_output_name if ad is not None else {}
    for name, out_def in node.outs.items():
        key = keys_by_output.get(name)
        if name in emitted or (key is not None and key not in step.selected_keys):
            continue
        if out_def.is_required and out_def.dagster_type is not None:
            msg = f'Core compute for op "{step.key}" did not return an output for non-optional output "{name}"'
            raise StepFailed(InvariantViolationError(msg), None, "FRAMEWORK")
    if step.check_specs:
        try:
            _check_missing_check_results(state, step)
        except InvariantViolationError as exc:
            raise StepFailed(exc, None, "FRAMEWORK") from None
        if step.kind == "check":
            blocked = _blocking_failures(state, step)
            if blocked is not None:
                raise StepFailed(blocked, None, "FRAMEWORK")
    elapsed = (time.perf_counter() - start) * 1000
    state.emit(
        "STEP_SUCCESS", step.key, f'Finished execution of step "{step.key}" in {elapsed:.2f}ms.'
    )
    return emitted


_FRAMEWORK_ERRORS = (
    DefinitionError,
    InvariantViolationError,
    TypeCheckError,
    AssetCheckFailedError,
)


def failure_data(
    error: BaseException, user_error: BaseException | None, source: str
) -> StepFailureData:
    return StepFailureData(
        SerializableErrorInfo.from_exception(error),
        getattr(user_error, "user_failure_data", None),
        source,
    )
