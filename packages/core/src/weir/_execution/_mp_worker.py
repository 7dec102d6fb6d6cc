"""A worker process of the multiprocess executor.

A worker is started once per run slot. It imports the job once (through its
:class:`~weir._execution.reconstructable.ReconstructableJob`), rebuilds the run's plan, initialises
the run's resources once, then executes the steps the parent sends it, one at a time, streaming
every event back as it happens. When the parent says ``stop`` (or goes away), it tears the
resources down and exits.

The protocol is a duplex ``multiprocessing`` pipe carrying tuples:

parent -> worker
    ``("step", step_key, payload, attempt)`` where ``payload`` tells where the step's inputs come
    from (for an asset step, ``(step_key, output_name, stored)`` for each upstream output it reads;
    for an op step, see :meth:`_OpSteps.prepare`) and ``attempt`` is the retry number (0 first);
    ``("stop",)``.
worker -> parent
    ``("ready", pid)``, ``("init_failed", phase, SerializableErrorInfo)``, ``("event", DagsterEvent)``,
    ``("done", step_key, [(output_name, stored), ...], extra)`` (``extra``: for an op step, the
    mapping keys each dynamic output emitted), ``("retry", step_key, seconds)``,
    ``("failed", step_key)``.

An asset step attempt runs through ``run_step_attempt`` (the in-process engine's), an op step
attempt through ``run_op_attempt`` (the in-process op engine's), so retries, hooks and blocking
checks follow the same rules in both executors; a retry goes back to the parent, which dispatches
the next attempt when it is due (possibly to another worker).

Values never travel on the pipe: a step's outputs go through its IO manager (the filesystem one by
default), and the worker running a downstream step loads them from there.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir._execution.events import DagsterEvent, SerializableErrorInfo, StepFailureData
from weir._execution.op_execution import OpRunState

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from weir._execution.op_graph import OpNode
    from weir._execution.plan import ExecutionPlan, Step
    from weir._execution.reconstructable import ReconstructableJob
    from weir._execution.run_execution import RunState

__all__ = [
    "OpRunSpec",
    "PlanSpec",
    "WorkerInit",
    "build_plan_for",
    "is_in_memory_io_manager",
    "output_record",
    "resource_keys_for",
    "worker_main",
]

logger = logging.getLogger(__name__)


class PlanSpec:
    """What decides a run's plan: the same spec gives the same steps in the parent and the workers."""

    def __init__(
        self,
        asset_keys: Iterable[Any],
        check_keys: Iterable[Any] | None,
        run_config: dict[str, Any],
        partition_key: str | None = None,
    ) -> None:
        self.asset_keys = tuple(sorted(asset_keys, key=lambda k: k.to_user_string()))
        self.check_keys = (
            tuple(sorted(check_keys, key=lambda k: k.to_user_string()))
            if check_keys is not None
            else None
        )
        self.run_config = run_config
        self.partition_key = partition_key


class OpRunSpec:
    """What decides an op job run's steps: the same spec gives the same op nodes everywhere."""

    partition_key = None

    def __init__(self, op_selection: tuple[str, ...] | None, run_config: dict[str, Any]) -> None:
        self.op_selection = op_selection
        self.run_config = run_config


def build_plan_for(job_def: Any, spec: PlanSpec) -> ExecutionPlan:
    """The execution plan of ``job_def`` for ``spec`` (validates run config)."""
    from weir._execution.plan import build_plan

    return build_plan(
        job_def.asset_layer, spec.asset_keys, run_config=spec.run_config, check_keys=spec.check_keys
    )


def resource_keys_for(plan: ExecutionPlan, job_def: Any) -> list[str]:
    """The resources a run initialises: the plan's, plus those the job's hooks require."""
    keys = set(plan.resource_keys)
    for hook in getattr(job_def, "hook_defs", ()):
        keys |= set(getattr(hook, "required_resource_keys", ()))
    return sorted(keys)


class WorkerInit:
    """Everything a worker needs to start; pickled to the worker once."""

    def __init__(
        self,
        *,
        recon_job: ReconstructableJob,
        spec: PlanSpec | OpRunSpec,
        run_id: str,
        job_name: str,
        tags: dict[str, str],
        instance_ref: Any,
        step_keys: tuple[str, ...],
        retries_enabled: bool,
        index: int,
        parent_pid: int,
        log_level: int,
    ) -> None:
        self.recon_job = recon_job
        self.spec = spec
        self.run_id = run_id
        self.job_name = job_name
        self.tags = tags
        self.instance_ref = instance_ref  # an InstanceRef: the worker opens the same instance
        self.step_keys = step_keys
        self.retries_enabled = retries_enabled
        self.index = index
        self.parent_pid = parent_pid
        self.log_level = log_level


def is_in_memory_io_manager(value: Any) -> bool:
    """Whether a resource (definition or live object) keeps values in this process's memory."""
    from weir._io.memory import InMemoryIOManager, mem_io_manager

    if isinstance(value, InMemoryIOManager) or value is mem_io_manager:
        return True
    fn = getattr(value, "resource_fn", None)
    return getattr(fn, "__name__", None) == "_make_mem_io_manager"


def _is_pickling_error(exc: Exception) -> bool:
    import pickle

    return isinstance(exc, pickle.PicklingError) or "pickle" in str(exc).lower()


class _Terminated(SystemExit):
    """SIGTERM from the parent: unwind (running resource teardown) and exit."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated(128 + signum)


def _ignore_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C reaches the whole process group; the parent decides, and terminates us if needed."""


def _die_with_parent() -> None:
    """On Linux, get SIGTERM when the process that started us dies (no orphans after a crash).

    (With the forkserver start method that process is the server, which exits with the run's
    process.) Elsewhere a worker notices the closed pipe once its current step ends.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_PDEATHSIG) is not available; relying on the pipe closing.")


class _AssetSteps:
    """How a worker runs the steps of an asset job: its execution plan, through ``run_step_attempt``."""

    def __init__(self, worker: _Worker, job_def: Any) -> None:
        from weir._execution.run import DagsterRun, DagsterRunStatus
        from weir._execution.run_execution import RunState

        init = worker.init
        assert isinstance(init.spec, PlanSpec)
        self.plan = plan = build_plan_for(job_def, init.spec)
        worker.check_steps(list(plan.step_keys))
        self.resource_defs: dict[str, Any] = job_def._all_resources(None)
        self.resource_keys = resource_keys_for(plan, job_def)
        run = DagsterRun(
            run_id=init.run_id,
            job_name=init.job_name,
            run_config=init.spec.run_config,
            tags=init.tags,
            status=DagsterRunStatus.STARTED,
            step_keys_to_execute=list(init.step_keys),
        )
        self.state = RunState(
            run=run,
            job_name=init.job_name,
            instance=worker.instance(),
            resolved=job_def.asset_layer,
            plan=plan,
            partition_key=init.spec.partition_key,
            partition_key_range=_range_from_tags(init.tags, init.spec.partition_key),
            observers=[worker.send_event],
            hook_defs=getattr(job_def, "hook_defs", ()),
            op_retry_policy=getattr(job_def, "op_retry_policy", None),
            retries_enabled=init.retries_enabled,
        )
        self.state.log_sink = worker.send_log

    def prepare(self, step_key: str, upstream: list[tuple[str, str, bool]]) -> list[str]:
        """Record where the step's inputs are; return the inputs an in-memory IO manager holds."""
        state, plan = self.state, self.plan
        for up_key, output_name, stored in upstream:
            if (up_key, output_name) not in state.output_records:
                state.output_records[(up_key, output_name)] = output_record(
                    state, plan.step_by_key[up_key], output_name, stored
                )
        problems = []
        for inp in plan.step_by_key[step_key].inputs:
            if inp.upstream_step is None:
                continue
            record = state.output_records.get((inp.upstream_step, inp.upstream_output or "result"))
            key = inp.input_def.input_manager_key or (
                record.io_manager_key if record is not None else inp.io_manager_key
            )
            if is_in_memory_io_manager(state.resources.get(key)):
                problems.append(
                    f'input "{inp.name}" from step "{inp.upstream_step}" (IO manager "{key}")'
                )
        return problems

    def attempt(self, step_key: str, attempt: int) -> tuple[str, Any]:
        from weir._execution.run_execution import run_step_attempt

        return run_step_attempt(self.state, self.plan.step_by_key[step_key], attempt)

    def outputs(self, step_key: str, emitted: Any) -> tuple[list[tuple[str, bool]], Any]:
        outputs = []
        for name in sorted(emitted):
            record = self.state.output_records.get((step_key, name))
            outputs.append((name, bool(record is not None and record.stored)))
        return outputs, None


class _OpSteps:
    """How a worker runs the steps of an op job: its op nodes, through ``run_op_attempt``."""

    def __init__(self, worker: _Worker, job_def: Any) -> None:
        from weir._execution.op_job import OpJobDefinition
        from weir._execution.run import DagsterRun, DagsterRunStatus

        init, spec = worker.init, worker.init.spec
        assert isinstance(spec, OpRunSpec)
        if not isinstance(job_def, OpJobDefinition):
            msg = f"{init.recon_job.location} gave a {type(job_def).__name__} in worker {init.index}, not the op job the run was planned for."
            raise TypeError(msg)
        nodes = job_def._select(spec.op_selection)
        worker.check_steps([n.handle for n in nodes])
        self.nodes: dict[str, OpNode] = {n.handle: n for n in nodes}
        self.resource_defs = job_def.out_of_process_resources()
        self.resource_keys = sorted(job_def.resource_keys(nodes))
        run = DagsterRun(
            run_id=init.run_id,
            job_name=init.job_name,
            run_config=spec.run_config,
            tags=init.tags,
            status=DagsterRunStatus.STARTED,
            step_keys_to_execute=list(init.step_keys),
        )
        self.state = _StreamingOpRunState(
            worker.send_event,
            run=run,
            job_name=init.job_name,
            instance=worker.instance(),
            resources=None,
            node_config=job_def._node_config(nodes, spec.run_config),
            run_config=spec.run_config,
            input_values=job_def.input_values,
        )
        self.state.hook_defs = job_def.hook_defs
        self.state.op_retry_policy = job_def.op_retry_policy
        self.state.retries_enabled = init.retries_enabled
        self.state.log_sink = worker.send_log
        self.running: tuple[OpNode, str | None] | None = None

    def prepare(self, step_key: str, payload: Any) -> list[str]:
        """Record where the step's inputs are; return the inputs an in-memory IO manager holds.

        ``payload`` is ``(handle, mapping_key, upstream, mapping_keys)``: ``upstream`` lists
        ``(handle, output, step mapping key, dynamic key)`` for every upstream value the step reads
        (the mapping key of the producing step ``op[key]``, and the key of one value of a dynamic
        output), ``mapping_keys`` the keys of the dynamic or mapped outputs it collects or maps over.
        """
        from weir._execution.op_execution import op_output_record
        from weir._execution.types import is_nothing

        handle, mapping_key, upstream, mapping_keys = payload
        state, node = self.state, self.nodes[handle]
        self.running = (node, mapping_key)
        state.output_records.clear()  # each step starts from what the parent says exists
        state.mapping_keys.clear()
        state.emitted.clear()
        state.mapping_keys.update({k: list(v) for k, v in mapping_keys.items()})
        for up_handle, output, step_mapping_key, dynamic_key in upstream:
            record_key, record = op_output_record(
                state, self.nodes[up_handle], output, step_mapping_key, dynamic_key
            )
            state.output_records[record_key] = record
        problems = []
        for name, src in node.inputs.items():
            in_def = node.op_def.ins[name]
            if is_nothing(in_def.dagster_type):
                continue  # an ordering dependency: nothing is loaded
            for up_handle, output in src.sources:
                if up_handle not in self.nodes:
                    continue
                key = (
                    in_def.input_manager_key
                    or self.nodes[up_handle].op_def.outs[output].io_manager_key
                )
                if is_in_memory_io_manager(state.resources.get(key)):
                    problems.append(f'input "{name}" from op "{up_handle}" (IO manager "{key}")')
        return problems

    def attempt(self, step_key: str, attempt: int) -> tuple[str, Any]:
        from weir._execution.op_execution import run_op_attempt

        assert self.running is not None
        node, mapping_key = self.running
        return run_op_attempt(self.state, node, mapping_key, attempt)

    def outputs(self, step_key: str, emitted: Any) -> tuple[list[tuple[str, bool]], Any]:
        assert self.running is not None
        node = self.running[0]
        names = sorted(self.state.emitted.get(step_key, ()))
        outs = node.op_def.outs
        outputs = [(name, outs[name].dagster_type is not None) for name in names]
        dynamic = {
            name: list(self.state.mapping_keys.get((node.handle, name), []))
            for name in names
            if outs[name].is_dynamic
        }
        return outputs, dynamic


def _range_from_tags(tags: dict[str, str], partition_key: str | None) -> Any:
    """The partition range of a range run (Dagster's range tags), None for a single key."""
    if partition_key is not None:
        return None
    from weir._execution.run_partitions import RunPartitions

    return RunPartitions.from_tags(tags).key_range


class _StreamingOpRunState(OpRunState):
    """An op run state that also streams every event to the parent process."""

    def __init__(self, send: Callable[[DagsterEvent], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._send = send

    def emit(
        self, event_type_value: str, step_key: str | None, message: str, data: Any = None
    ) -> DagsterEvent:
        event = super().emit(event_type_value, step_key, message, data)
        self._send(event)
        return event


class _Worker:
    def __init__(self, conn: Connection, init: WorkerInit) -> None:
        self.conn = conn
        self.init = init
        self.pid = os.getpid()
        self.steps: _AssetSteps | _OpSteps | None = None
        self.parent_gone = False

    @property
    def state(self) -> RunState | OpRunState | None:
        return self.steps.state if self.steps is not None else None

    # -- messages ------------------------------------------------------------------------------
    def send(self, message: tuple[Any, ...]) -> None:
        if self.parent_gone:
            return
        try:
            self.conn.send(message)
        except OSError:
            self.parent_gone = True

    def send_log(self, entry: Any) -> None:
        """Send a ``context.log`` entry to the parent, which records it with the step's events."""
        self.send(("log", entry))

    def send_event(self, event: DagsterEvent) -> None:
        if self.parent_gone:
            return
        try:
            self.conn.send(("event", event))
        except OSError:
            self.parent_gone = True  # nobody to report to; the serve loop ends at the next recv
        except Exception as exc:
            # Something in the event's data does not pickle (user metadata, usually): send what does.
            if not _is_pickling_error(exc):
                raise
            logger.warning(
                "Event %s of step %s carries data that cannot be sent to the parent process (%s); "
                "sending it without its data.",
                event.event_type_value,
                event.step_key,
                exc,
            )
            plain = DagsterEvent(
                event.event_type_value,
                event.job_name,
                event.step_key,
                f"{event.message} [event data not transferable between processes: {exc}]",
                None,
                pid=event.pid,
            )
            self.conn.send(("event", plain))

    # -- set-up --------------------------------------------------------------------------------
    def load(self) -> None:
        job_def = self.init.recon_job.get_definition()
        if isinstance(self.init.spec, OpRunSpec):
            self.steps = _OpSteps(self, job_def)
        else:
            self.steps = _AssetSteps(self, job_def)

    def check_steps(self, step_keys: list[str]) -> None:
        init = self.init
        if tuple(step_keys) != init.step_keys:
            msg = (
                f"The job reconstructed in worker {init.index} (pid {self.pid}) from {init.recon_job.location} "
                f"has the steps {step_keys}, but the run's plan has {list(init.step_keys)}. The job must "
                "be built the same way in every process (no randomness or process-specific state in its definition)."
            )
            raise RuntimeError(msg)

    def instance(self) -> Any:
        from weir._instance.instance import Instance

        return Instance.from_ref(self.init.instance_ref)

    @contextmanager
    def resources(self) -> Iterator[None]:
        from weir._config.resources import initialize_resources

        steps = self.steps
        assert steps is not None
        state = steps.state
        keys = steps.resource_keys
        names = ", ".join(keys)
        state.emit(
            "RESOURCE_INIT_STARTED", None, f"Starting initialization of resources [{names}]."
        )
        resources_config = state.run.run_config.get("resources") or {}
        try:
            manager = initialize_resources(
                steps.resource_defs,
                keys,
                instance=state.instance,
                run_id=state.run.run_id,
                resources_config=resources_config,
            )
            live = manager.__enter__()
        except Exception as exc:
            state.emit(
                "RESOURCE_INIT_FAILURE",
                None,
                f"Initialization of resources [{names}] failed: {exc}",
                StepFailureData(SerializableErrorInfo.from_exception(exc)),
            )
            raise
        state.emit(
            "RESOURCE_INIT_SUCCESS", None, f"Finished initialization of resources [{names}]."
        )
        state.resources = live
        exc_info: tuple[Any, Any, Any] = (None, None, None)
        try:
            yield
        except BaseException:
            exc_info = sys.exc_info()
            raise
        finally:
            manager.__exit__(*exc_info)

    # -- steps ---------------------------------------------------------------------------------
    def serve(self) -> None:
        self.send(("ready", self.pid))
        while not self.parent_gone:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                logger.debug("Worker %s: the parent process went away; exiting.", self.init.index)
                return
            if message[0] == "stop":
                return
            if message[0] == "step":
                self.run_step(message[1], message[2], message[3])

    def run_step(self, step_key: str, payload: Any, attempt: int) -> None:
        from weir._execution.step_execution import StepFailed, failure_data
        from weir.errors import ExecutionError

        steps = self.steps
        assert steps is not None
        state = steps.state
        state.emit(
            "STEP_WORKER_STARTED",
            step_key,
            f'Executing step "{step_key}" in worker {self.init.index} (pid: {self.pid}).',
        )
        try:
            problems = steps.prepare(step_key, payload)
            if problems:
                msg = (
                    f'Step "{step_key}" cannot load {", ".join(problems)}: in-memory IO managers keep values '
                    "inside one process, and the multiprocess executor runs steps in separate worker processes. "
                    "Use a persistent IO manager (the default FilesystemIOManager) or run with the in_process executor."
                )
                raise StepFailed(ExecutionError(msg), None, "FRAMEWORK")
            status, result = steps.attempt(step_key, attempt)
        except StepFailed as failure:
            state.emit(
                "STEP_FAILURE",
                step_key,
                f'Execution of step "{step_key}" failed.',
                failure_data(failure.error, failure.user_error, failure.source),
            )
            self.send(("failed", step_key))
        except Exception as exc:  # a bug in weir, or something user code did that escaped the step
            state.emit(
                "STEP_FAILURE",
                step_key,
                f'Execution of step "{step_key}" failed.',
                failure_data(exc, None, "FRAMEWORK"),
            )
            self.send(("failed", step_key))
        else:
            if status == "success":
                outputs, extra = steps.outputs(step_key, result)
                self.send(("done", step_key, outputs, extra))
            elif status == "retry":
                self.send(("retry", step_key, float(result)))
            else:
                self.send(("failed", step_key))
        finally:
            state.events.clear()


def output_record(state: RunState, step: Step, output_name: str, stored: bool) -> Any:
    """The ``OutputRecord`` of an output that ``step`` produced in another process."""
    from weir._execution.step_execution import OutputRecord, _output_context

    keys_by_output = getattr(step.assets_def, "keys_by_output_name", None) or {}
    asset_key = keys_by_output.get(output_name)
    context = _output_context(state, step, output_name, asset_key)
    return OutputRecord(asset_key, step.node_def.outs[output_name].io_manager_key, context, stored)


def worker_main(conn: Connection, init: WorkerInit) -> None:
    """Entry point of a worker process (the ``target`` of its ``multiprocessing.Process``)."""
    signal.signal(signal.SIGINT, _ignore_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent()
    logging.getLogger("weir").setLevel(init.log_level)
    worker = _Worker(conn, init)
    try:
        try:
            worker.load()
        except Exception as exc:
            worker.send(("init_failed", "load", SerializableErrorInfo.from_exception(exc)))
            return
        try:
            with worker.resources():
                worker.serve()
        except Exception as exc:
            if worker.state is not None and worker.state.resources is None:
                worker.send(("init_failed", "resources", SerializableErrorInfo.from_exception(exc)))
                return
            raise
    except _Terminated:
        return
    finally:
        try:
            conn.close()
        except OSError:
            pass
