"""A worker process of the multiprocess executor.

A worker is started once per run slot. It imports the job once (through its
:class:`~weir._execution.reconstructable.ReconstructableJob`), rebuilds the run's plan, initialises
the run's resources once, then executes the steps the parent sends it, one at a time, streaming
every event back as it happens. When the parent says ``stop`` (or goes away), it tears the
resources down and exits.

The protocol is a duplex ``multiprocessing`` pipe carrying tuples:

parent -> worker
    ``("step", step_key, upstream, attempt)`` where ``upstream`` lists ``(step_key, output_name,
    stored)`` for the outputs of upstream steps this step reads (produced in any process) and
    ``attempt`` is the retry number (0 first); ``("stop",)``.
worker -> parent
    ``("ready", pid)``, ``("init_failed", phase, SerializableErrorInfo)``, ``("event", DagsterEvent)``,
    ``("done", step_key, [(output_name, stored), ...])``, ``("retry", step_key, seconds)``,
    ``("failed", step_key)``.

A step attempt runs through ``run_step_attempt`` (the in-process engine's), so retries, hooks and
blocking checks follow the same rules in both executors; a retry goes back to the parent, which
dispatches the next attempt when it is due (possibly to another worker).

Values never travel on the pipe: a step's outputs go through its IO manager (the filesystem one by
default), and the worker running a downstream step loads them from there.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir._execution.events import DagsterEvent, SerializableErrorInfo, StepFailureData

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from weir._execution.plan import ExecutionPlan, Step
    from weir._execution.reconstructable import ReconstructableJob
    from weir._execution.run_execution import RunState

__all__ = [
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
        spec: PlanSpec,
        run_id: str,
        job_name: str,
        tags: dict[str, str],
        instance_root: str,
        instance_is_ephemeral: bool,
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
        self.instance_root = instance_root
        self.instance_is_ephemeral = instance_is_ephemeral
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


class _Worker:
    def __init__(self, conn: Connection, init: WorkerInit) -> None:
        self.conn = conn
        self.init = init
        self.pid = os.getpid()
        self.state: RunState | None = None
        self.plan: ExecutionPlan | None = None
        self.resource_defs: dict[str, Any] = {}
        self.resource_keys: list[str] = []
        self.parent_gone = False

    # -- messages ------------------------------------------------------------------------------
    def send(self, message: tuple[Any, ...]) -> None:
        if self.parent_gone:
            return
        try:
            self.conn.send(message)
        except OSError:
            self.parent_gone = True

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
        from weir._execution.run import DagsterRun, DagsterRunStatus
        from weir._execution.run_execution import RunState
        from weir._instance.instance import Instance

        init = self.init
        job_def = init.recon_job.get_definition()
        plan = build_plan_for(job_def, init.spec)
        if tuple(plan.step_keys) != init.step_keys:
            msg = (
                f"The job reconstructed in worker {init.index} (pid {self.pid}) from {init.recon_job.location} "
                f"has the steps {plan.step_keys}, but the run's plan has {list(init.step_keys)}. The job must "
                "be built the same way in every process (no randomness or process-specific state in its definition)."
            )
            raise RuntimeError(msg)
        run = DagsterRun(
            run_id=init.run_id,
            job_name=init.job_name,
            run_config=init.spec.run_config,
            tags=init.tags,
            status=DagsterRunStatus.STARTED,
            step_keys_to_execute=list(init.step_keys),
        )
        instance = Instance(init.instance_root, is_ephemeral=init.instance_is_ephemeral)
        self.plan = plan
        self.resource_defs = job_def._all_resources(None)
        self.resource_keys = resource_keys_for(plan, job_def)
        self.state = RunState(
            run=run,
            job_name=init.job_name,
            instance=instance,
            resolved=job_def.asset_layer,
            plan=plan,
            partition_key=init.spec.partition_key,
            observers=[self.send_event],
            hook_defs=getattr(job_def, "hook_defs", ()),
            op_retry_policy=getattr(job_def, "op_retry_policy", None),
            retries_enabled=init.retries_enabled,
        )

    @contextmanager
    def resources(self) -> Iterator[None]:
        from weir._config.resources import initialize_resources

        state, plan = self.state, self.plan
        assert state is not None and plan is not None
        keys = self.resource_keys
        names = ", ".join(keys)
        state.emit(
            "RESOURCE_INIT_STARTED", None, f"Starting initialization of resources [{names}]."
        )
        resources_config = state.run.run_config.get("resources") or {}
        try:
            manager = initialize_resources(
                self.resource_defs,
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

    def _record_upstream(self, upstream: list[tuple[str, str, bool]]) -> None:
        state, plan = self.state, self.plan
        assert state is not None and plan is not None
        for step_key, output_name, stored in upstream:
            if (step_key, output_name) in state.output_records:
                continue
            producer = plan.step_by_key[step_key]
            state.output_records[(step_key, output_name)] = output_record(
                state, producer, output_name, stored
            )

    def _in_memory_inputs(self, step: Step) -> list[str]:
        state = self.state
        assert state is not None
        problems = []
        for inp in step.inputs:
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

    def run_step(self, step_key: str, upstream: list[tuple[str, str, bool]], attempt: int) -> None:
        from weir._execution.run_execution import run_step_attempt
        from weir._execution.step_execution import StepFailed, failure_data
        from weir.errors import ExecutionError

        state, plan = self.state, self.plan
        assert state is not None and plan is not None
        step = plan.step_by_key[step_key]
        state.emit(
            "STEP_WORKER_STARTED",
            step_key,
            f'Executing step "{step_key}" in worker {self.init.index} (pid: {self.pid}).',
        )
        try:
            self._record_upstream(upstream)
            problems = self._in_memory_inputs(step)
            if problems:
                msg = (
                    f'Step "{step_key}" cannot load {", ".join(problems)}: in-memory IO managers keep values '
                    "inside one process, and the multiprocess executor runs steps in separate worker processes. "
                    "Use a persistent IO manager (the default FilesystemIOManager) or run with the in_process executor."
                )
                raise StepFailed(ExecutionError(msg), None, "FRAMEWORK")
            status, payload = run_step_attempt(state, step, attempt)
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
                outputs = []
                for name in sorted(payload):
                    record = state.output_records.get((step_key, name))
                    outputs.append((name, bool(record is not None and record.stored)))
                self.send(("done", step_key, outputs))
            elif status == "retry":
                self.send(("retry", step_key, float(payload)))
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
