"""``execute_job``: run a reconstructable job with its own executor (multiprocess by default).

``JobDefinition.execute_in_process`` always runs in the calling process. ``execute_job`` is the
out-of-process entry point: it takes a :func:`~weir.reconstructable` pointer (so worker processes
can import the job), plans and validates the run (op config and executor config, before any step
runs), then hands the plan to the job's executor -- ``multi_or_in_process_executor`` unless the
job names another, so a multiprocess pool unless run config selects ``in_process``.

Op jobs (``@job``, ``GraphDefinition.to_job``) run the same way: each op is a step in a worker
(mapped ops ``op[key]`` too, once their keys are known), with the filesystem IO manager as their
default (as in Dagster; ``execute_in_process`` keeps values in memory).

Output values are read back through the job's IO managers, which the result initialises in this
process on demand; open the result as a context manager to initialise them once for many reads::

    with dg.execute_job(dg.reconstructable(get_job), instance=instance) as result:
        value = result.asset_value("total")
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from weir._execution.result import ExecuteInProcessResult
from weir._execution.run import DagsterRunStatus
from weir.errors import DefinitionError, InvariantViolationError, WeirError

if TYPE_CHECKING:
    from weir._execution._mp_worker import OpRunSpec, PlanSpec
    from weir._execution.op_graph import OpNode
    from weir._execution.plan import ExecutionPlan
    from weir._execution.reconstructable import ReconstructableJob
    from weir._execution.run_execution import RunState

__all__ = [
    "DagsterUnmetExecutorRequirementsError",
    "JobExecutionResult",
    "PreparedRun",
    "ReexecutionOptions",
    "UnmetExecutorRequirementsError",
    "execute_job",
]

logger = logging.getLogger(__name__)

PARENT_RUN_ID_TAG = "dagster/parent_run_id"
ROOT_RUN_ID_TAG = "dagster/root_run_id"
PARTITION_TAG = "dagster/partition"


class UnmetExecutorRequirementsError(WeirError):
    """The job cannot run on the chosen executor (e.g. in-memory IO managers with worker processes)."""


DagsterUnmetExecutorRequirementsError = UnmetExecutorRequirementsError


class PreparedRun:
    """A planned, validated run, ready for an executor (what ``Executor.execute`` receives).

    For an asset job ``plan`` holds the steps; for an op job ``plan`` is ``None`` and ``op_nodes``
    (the selected ops, flattened) and ``node_config`` (their validated config) take its place.
    """

    def __init__(
        self,
        *,
        recon_job: ReconstructableJob,
        job_def: Any,
        plan: ExecutionPlan | None,
        spec: PlanSpec | OpRunSpec,
        resource_defs: Mapping[str, Any],
        run_config: dict[str, Any],
        tags: dict[str, str],
        instance: Any,
        run_id: str,
        raise_on_error: bool,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        op_nodes: list[OpNode] | None = None,
        node_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.recon_job = recon_job
        self.job_def = job_def
        self.plan: Any = plan
        self.op_nodes = op_nodes
        self.node_config = dict(node_config or {})
        self.spec = spec
        self.resource_defs = dict(resource_defs)
        self.run_config = run_config
        self.tags = tags
        self.instance = instance
        self.run_id = run_id
        self.raise_on_error = raise_on_error
        self.parent_run_id = parent_run_id
        self.root_run_id = root_run_id

    @property
    def job_name(self) -> str:
        return str(self.job_def.name)

    @property
    def partition_key(self) -> str | None:
        return self.spec.partition_key


class ReexecutionOptions:
    """Re-run some steps of an earlier run (``execute_job(..., reexecution_options=...)``).

    ``step_selection`` lists the step keys to run again (all of the parent's steps when empty);
    the other steps are not run, and their outputs are loaded from what the parent run stored.
    """

    def __init__(self, parent_run_id: str, step_selection: Sequence[str] = ()) -> None:
        self.parent_run_id = parent_run_id
        self.step_selection = list(step_selection)

    @staticmethod
    def from_failure(run_id: str, instance: Any) -> ReexecutionOptions:
        """Re-run the steps of run ``run_id`` that failed, were skipped or did not run."""
        run = instance.get_run_by_id(run_id)
        if run is None:
            msg = f"No run with id {run_id!r} in this instance; cannot re-execute it."
            raise InvariantViolationError(msg)
        if run.status not in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            msg = f"Cannot re-execute run {run_id!r} from failure: its status is {run.status.value}, not FAILURE."
            raise InvariantViolationError(msg)
        succeeded = {e.step_key for e in instance.all_logs(run_id, of_type="STEP_SUCCESS")}
        steps = [k for k in (run.step_keys_to_execute or []) if k not in succeeded]
        return ReexecutionOptions(run_id, steps)

    def __repr__(self) -> str:
        return f"ReexecutionOptions(parent_run_id={self.parent_run_id!r}, step_selection={self.step_selection!r})"


class JobExecutionResult(ExecuteInProcessResult):
    """The result of :func:`execute_job`: success, events, and output values.

    The steps may have run in other processes, so values are loaded through the job's IO managers,
    initialised here. Inside ``with result:`` they are initialised once and torn down at the end;
    outside, each read initialises (and tears down) the one IO manager it needs.
    """

    def __init__(
        self,
        state: RunState,
        job_def: Any,
        resource_defs: Mapping[str, Any],
        run_config: Mapping[str, Any],
    ) -> None:
        super().__init__(state, job_def)
        self._resource_defs = dict(resource_defs)
        self._run_config = dict(run_config)
        self._stack: contextlib.ExitStack | None = None
        self._live: dict[str, Any] = {}

    def __enter__(self) -> JobExecutionResult:
        self._stack = contextlib.ExitStack()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._live.clear()
        if stack is not None:
            stack.close()

    def _resources_for(self, key: str, stack: contextlib.ExitStack) -> Any:
        from weir._config.resources import initialize_resources

        live = self._live.get(key)
        if live is None:
            live = stack.enter_context(
                initialize_resources(
                    self._resource_defs,
                    [key],
                    instance=self._state.instance,
                    run_id=self.run_id,
                    resources_config=self._run_config.get("resources") or {},
                )
            )
            if self._stack is not None:
                self._live[key] = live
        return live

    def _load(self, record: Any) -> Any:
        from weir._io.contexts import InputContext

        with contextlib.ExitStack() as temporary:
            resources = self._resources_for(record.io_manager_key, self._stack or temporary)
            ctx = InputContext(
                name=record.context.name,
                job_name=self._state.job_name,
                upstream_output=record.context,
                asset_key=record.asset_key,
                resources=resources,
                instance=self._state.instance,
                partition_key=self._state.partition_key,
                dagster_type=record.context.dagster_type,
            )
            return resources.get(record.io_manager_key).load_input(ctx)

    def __repr__(self) -> str:
        return f"JobExecutionResult(run_id={self.run_id!r}, success={self.success})"


def _as_reconstructable(job: Any) -> ReconstructableJob:
    from weir._execution.reconstructable import ReconstructableJob

    if isinstance(job, ReconstructableJob):
        return job
    name = getattr(job, "name", None) or getattr(job, "__name__", type(job).__name__)
    msg = (
        f"execute_job() takes a reconstructable job, got {type(job).__name__} {name!r}: wrap it so worker "
        f"processes can import it: execute_job(reconstructable({name}), instance=...). To run in this process, "
        "call job.execute_in_process() instead."
    )
    raise InvariantViolationError(msg)


def _selected_keys(
    job_def: Any, asset_selection: Iterable[Any] | None, op_selection: Iterable[str] | None
) -> tuple[frozenset[Any], frozenset[Any]]:
    """The asset keys and check keys a run selects (as ``JobDefinition.execute_in_process`` does)."""
    from weir._execution.asset_job import _check_step_name

    resolved = job_def.asset_layer
    keys = frozenset(job_def.asset_selection)
    checks = frozenset(job_def._check_keys)
    if asset_selection is not None:
        from weir._graph.selection import AssetSelection

        selection = AssetSelection.from_coercible(list(asset_selection))
        wanted = set(selection.resolve(resolved.graph))
        outside = wanted - keys
        if outside:
            msg = f"asset_selection includes {sorted(k.to_user_string() for k in outside)}, which are not in job {job_def.name!r}."
            raise DefinitionError(msg)
        keys = frozenset(wanted)
        checks = checks & frozenset(selection.resolve_checks(resolved.graph))
    if op_selection is not None:
        wanted_ops = set(op_selection)
        known = {resolved.assets_def_by_key[k].node_name for k in keys}
        known |= {_check_step_name(resolved, c) for c in checks}
        unknown = wanted_ops - known
        if unknown:
            msg = f"op_selection names {sorted(unknown)}, which are not steps of job {job_def.name!r} ({sorted(str(k) for k in known)})."
            raise DefinitionError(msg)
        keys = frozenset(k for k in keys if resolved.assets_def_by_key[k].node_name in wanted_ops)
        checks = frozenset(c for c in checks if _check_step_name(resolved, c) in wanted_ops)
    return keys, checks


def _keys_for_steps(
    job_def: Any, step_keys: Sequence[str]
) -> tuple[frozenset[Any], frozenset[Any]]:
    """The asset keys and check keys of the job that the steps named ``step_keys`` run."""
    from weir._execution.asset_job import _check_step_name

    resolved = job_def.asset_layer
    wanted = set(step_keys)
    keys = frozenset(
        k for k in job_def.asset_selection if resolved.assets_def_by_key[k].node_name in wanted
    )
    checks = frozenset(c for c in job_def._check_keys if _check_step_name(resolved, c) in wanted)
    found = {resolved.assets_def_by_key[k].node_name for k in keys}
    found |= {_check_step_name(resolved, c) for c in checks}
    unknown = sorted(wanted - found)
    if unknown:
        msg = f"Re-execution selects the steps {unknown}, which are not steps of job {job_def.name!r}."
        raise DefinitionError(msg)
    return keys, checks


def check_persistent_io(
    plan: ExecutionPlan, resource_defs: Mapping[str, Any], executor_name: str
) -> None:
    """Fail before the run starts when a value would have to cross processes through an in-memory
    IO manager."""
    from weir._execution._mp_worker import is_in_memory_io_manager

    problems: list[str] = []
    for step in plan.steps:
        for inp in step.inputs:
            if inp.upstream_step is None:
                continue
            producer = plan.step_by_key[inp.upstream_step]
            out = producer.node_def.outs.get(inp.upstream_output or "result")
            key = inp.input_def.input_manager_key or (
                out.io_manager_key if out is not None else inp.io_manager_key
            )
            if is_in_memory_io_manager(resource_defs.get(key)):
                problems.append(
                    f'step "{step.key}" reads "{inp.name}" from step "{inp.upstream_step}" through "{key}"'
                )
    _refuse_in_memory(problems, executor_name)


def check_persistent_op_io(
    nodes: list[OpNode], resource_defs: Mapping[str, Any], executor_name: str
) -> None:
    """The same check for the ops of an op job (every input that an upstream op produces)."""
    from weir._execution._mp_worker import is_in_memory_io_manager
    from weir._execution.types import is_nothing

    by_handle = {n.handle: n for n in nodes}
    problems: list[str] = []
    for node in nodes:
        for name, src in node.inputs.items():
            for handle, output in src.sources:
                producer = by_handle.get(handle)
                if producer is None:
                    continue
                out = producer.op_def.outs.get(output)
                in_def = node.op_def.ins[name]
                if out is None or is_nothing(out.dagster_type) or is_nothing(in_def.dagster_type):
                    continue  # Nothing: an ordering dependency, no value crosses
                key = in_def.input_manager_key or out.io_manager_key
                if is_in_memory_io_manager(resource_defs.get(key)):
                    problems.append(
                        f'step "{node.handle}" reads "{name}" from step "{handle}" through "{key}"'
                    )
    _refuse_in_memory(problems, executor_name)


def _refuse_in_memory(problems: list[str], executor_name: str) -> None:
    if problems:
        msg = (
            f"The {executor_name} executor runs steps in separate worker processes, but this run passes values "
            f"through in-memory IO managers, which keep them inside one process: {'; '.join(problems)}. "
            "Use a persistent IO manager (the default FilesystemIOManager, or any IO manager that stores "
            'values outside the process), or run in process: run_config={"execution": {"config": '
            '{"in_process": {}}}} or job.execute_in_process().'
        )
        raise UnmetExecutorRequirementsError(msg)


def execute_job(
    job: ReconstructableJob,
    instance: Any = None,
    run_config: Any = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = False,
    op_selection: Sequence[str] | None = None,
    reexecution_options: ReexecutionOptions | None = None,
    asset_selection: Sequence[Any] | None = None,
) -> JobExecutionResult:
    """Execute a job with its executor (for ``Definitions`` jobs: multiprocess unless run config
    selects ``in_process``) and return a :class:`JobExecutionResult`.

    ``job`` must come from :func:`~weir.reconstructable` so that worker processes can import it;
    scripts need an ``if __name__ == "__main__":`` guard. Run config (op config and
    ``execution.config``) is validated before any step runs. A failed step blocks its downstream
    steps and the others carry on; with ``raise_on_error=True`` a failure is raised after the run
    ends (in process: at once). ``instance`` defaults to an ephemeral instance.

    Example::

        def get_job():
            return defs.get_job_def("all_assets")

        if __name__ == "__main__":
            with dg.execute_job(dg.reconstructable(get_job), instance=dg.DagsterInstance.get()) as result:
                assert result.success
    """
    from weir._execution._mp_worker import PlanSpec, build_plan_for
    from weir._execution.asset_job import check_resource_config, launch_config
    from weir._execution.executor_def import (
        InProcessExecutor,
        execution_config_from_run_config,
        multi_or_in_process_executor,
    )
    from weir._execution.op_job import OpJobDefinition
    from weir._execution.run_execution import execute_plan, make_run_id
    from weir._instance.instance import Instance

    recon = _as_reconstructable(job)
    job_def = recon.get_definition()
    if reexecution_options is not None and op_selection is not None:
        msg = "re-execution and op selection cannot be used together at this time."
        raise InvariantViolationError(msg)
    if instance is None:
        instance = Instance.ephemeral()
    run_tags: dict[str, str] = {**job_def.run_tags, **{k: str(v) for k, v in (tags or {}).items()}}
    parent_run_id = root_run_id = None
    if reexecution_options is not None:
        parent = instance.get_run_by_id(reexecution_options.parent_run_id)
        if parent is None:
            msg = f"Cannot re-execute run {reexecution_options.parent_run_id!r}: this instance has no such run."
            raise InvariantViolationError(msg)
        parent_run_id = parent.run_id
        root_run_id = parent.root_run_id or parent.run_id
        run_tags.update({PARENT_RUN_ID_TAG: parent_run_id, ROOT_RUN_ID_TAG: root_run_id})
        if run_config is None:
            run_config = parent.run_config
        step_selection = reexecution_options.step_selection or list(
            parent.step_keys_to_execute or []
        )
    if isinstance(job_def, OpJobDefinition):
        if reexecution_options is not None:
            return _reexecute_op_job(
                job_def,
                instance,
                run_config,
                run_tags,
                raise_on_error,
                step_selection,
                parent_run_id,
                root_run_id,
            )
        return _execute_op_job(
            recon, job_def, instance, run_config, run_tags, raise_on_error, op_selection
        )
    if reexecution_options is not None and run_config is None:
        config = dict(
            parent.run_config
        )  # already processed (defaults, config mapping) for the parent
    else:
        config = launch_config(job_def._config, job_def._config_mapping, run_config)
    if reexecution_options is not None:
        keys, checks = _keys_for_steps(job_def, step_selection)
    else:
        keys, checks = _selected_keys(job_def, asset_selection, op_selection)
    spec = PlanSpec(keys, checks, config, run_tags.get(PARTITION_TAG))
    plan = build_plan_for(job_def, spec)
    executor_def = job_def.executor_def or multi_or_in_process_executor
    executor = executor_def.create_executor(
        execution_config_from_run_config(config, executor_def.name)
    )
    resource_defs = job_def._all_resources(None)
    check_resource_config(job_def.name, resource_defs, config, plan.resource_keys)
    run_id = make_run_id()
    if isinstance(executor, InProcessExecutor):
        state = execute_plan(
            plan=plan,
            resolved=job_def.asset_layer,
            resource_defs=resource_defs,
            job_name=job_def.name,
            instance=instance,
            run_config=config,
            tags=run_tags,
            run_id=run_id,
            partition_key=spec.partition_key,
            raise_on_error=raise_on_error,
            hook_defs=job_def.hook_defs,
            op_retry_policy=job_def.op_retry_policy,
            parent_run_id=parent_run_id,
            root_run_id=root_run_id,
        )
    else:
        if not callable(getattr(executor, "execute", None)):
            msg = (
                f"The executor {executor_def.name!r} built a {type(executor).__name__}, which has no "
                "execute(prepared_run) method; an executor plugin's executor_creation_fn must return an "
                "object with one (it receives a PreparedRun and returns the finished RunState)."
            )
            raise InvariantViolationError(msg)
        check_persistent_io(plan, resource_defs, executor_def.name)
        prepared = PreparedRun(
            recon_job=recon,
            job_def=job_def,
            plan=plan,
            spec=spec,
            resource_defs=resource_defs,
            run_config=config,
            tags=run_tags,
            instance=instance,
            run_id=run_id,
            raise_on_error=raise_on_error,
            parent_run_id=parent_run_id,
            root_run_id=root_run_id,
        )
        state = executor.execute(prepared)
    state.run.parent_run_id = parent_run_id
    state.run.root_run_id = root_run_id
    return JobExecutionResult(state, job_def, resource_defs, config)


def _execute_op_job(
    recon: ReconstructableJob,
    job_def: Any,
    instance: Any,
    run_config: Any,
    tags: dict[str, str],
    raise_on_error: bool,
    op_selection: Sequence[str] | None,
) -> JobExecutionResult:
    """Run an op job with its executor: each op a step in the multiprocess pool by default, or in
    this process. Like Dagster, the default IO manager is the filesystem one either way."""
    from weir._execution._mp_worker import OpRunSpec
    from weir._execution.asset_job import launch_config
    from weir._execution.executor_def import (
        InProcessExecutor,
        execution_config_from_run_config,
        multi_or_in_process_executor,
    )
    from weir._execution.multiprocess import MultiprocessExecutor
    from weir._execution.op_job import OpJobExecutionResult
    from weir._execution.run_execution import make_run_id

    config = launch_config(job_def._config, job_def._config_mapping, run_config)
    executor_def = job_def.executor_def or multi_or_in_process_executor
    executor = executor_def.create_executor(
        execution_config_from_run_config(config, executor_def.name)
    )
    if not isinstance(executor, MultiprocessExecutor):
        if not isinstance(executor, InProcessExecutor):
            logger.info(
                "Op job %r runs in process under execute_job: the %s executor runs asset jobs only.",
                job_def.name,
                executor_def.name,
            )
        return _execute_op_job_in_process(
            job_def, instance, run_config, tags, raise_on_error, op_selection
        )
    nodes = job_def._select(op_selection)
    node_config = job_def._node_config(nodes, config)
    resource_defs = job_def.out_of_process_resources()
    job_def.check_resources(nodes, resource_defs, config)
    check_persistent_op_io(nodes, resource_defs, executor_def.name)
    prepared = PreparedRun(
        recon_job=recon,
        job_def=job_def,
        plan=None,
        spec=OpRunSpec(tuple(op_selection) if op_selection is not None else None, config),
        resource_defs=resource_defs,
        run_config=config,
        tags=tags,
        instance=instance,
        run_id=make_run_id(),
        raise_on_error=raise_on_error,
        op_nodes=nodes,
        node_config=node_config,
    )
    state = executor.execute(prepared)
    return OpJobExecutionResult(state, job_def, resource_defs, config)


def _reexecute_op_job(
    job_def: Any,
    instance: Any,
    run_config: Any,
    tags: dict[str, str],
    raise_on_error: bool,
    step_selection: Sequence[str],
    parent_run_id: Any,
    root_run_id: Any,
) -> JobExecutionResult:
    """Re-run the selected ops of an op job in this process; the other ops' outputs are loaded from
    the parent run (or the ancestor that produced them). A mapped op ``op[key]`` re-runs for every key."""
    from weir._io.filesystem import fs_io_manager

    if not step_selection:
        msg = f"Nothing to re-execute: the step selection for run {parent_run_id!r} is empty."
        raise InvariantViolationError(msg)
    handles = sorted({key.partition("[")[0] for key in step_selection})
    resources = None if "io_manager" in job_def.resource_defs else {"io_manager": fs_io_manager}
    result = job_def._run_in_process(
        run_config=run_config,
        instance=instance,
        raise_on_error=raise_on_error,
        op_selection=handles,
        tags=tags,
        resources=resources,
        parent_run_id=parent_run_id,
        root_run_id=root_run_id,
    )
    return _OpJobExecutionResult(result, job_def)


def _execute_op_job_in_process(
    job_def: Any,
    instance: Any,
    run_config: Any,
    tags: dict[str, str],
    raise_on_error: bool,
    op_selection: Sequence[str] | None,
) -> JobExecutionResult:
    from weir._io.filesystem import fs_io_manager

    resources = None if "io_manager" in job_def.resource_defs else {"io_manager": fs_io_manager}
    result = job_def.execute_in_process(
        run_config=run_config,  # as given: execute_in_process applies the job's config mapping
        instance=instance,
        raise_on_error=raise_on_error,
        op_selection=op_selection,
        tags=tags,
        resources=resources,
    )
    return _OpJobExecutionResult(result, job_def)


class _OpJobExecutionResult(JobExecutionResult):
    """An op job's in-process result behind the ``JobExecutionResult`` interface."""

    def __init__(self, inner: Any, job_def: Any) -> None:
        super().__init__(inner._state, job_def, {}, {})
        self._inner = inner

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        return self._inner.output_for_node(node_name, output_name)

    def output_value(self, output_name: str = "result") -> Any:
        return self._inner.output_value(output_name)

    def asset_value(self, asset_key: Any) -> Any:
        return self._inner.asset_value(asset_key)
