"""The multiprocess executor: a pool of warm worker processes per run.

Dagster starts one interpreter per step, which re-imports the code location and re-initialises
resources every time (0.6-1.6 s per step). weir starts up to ``max_concurrent`` workers per run;
each imports the job once (through its :func:`~weir.reconstructable` pointer) and initialises
resources once, then runs the steps it is sent one after another (see
:mod:`weir._execution._mp_worker`). The parent process:

* schedules steps as their upstream steps finish, in plan order, within ``max_concurrent`` and
  ``tag_concurrency_limits``; a failed step blocks its downstream steps, the others carry on.
  What the steps are comes from a *step source* (:mod:`weir._execution._mp_steps`): the
  execution plan of an asset job, or the op graph of an op job (``@job``), whose mapped steps
  ``op[key]`` appear once the worker that ran the fanning op reports the dynamic output's mapping
  keys (see :class:`~weir._execution.op_job.OpStepGraph`);
* merges the events the workers stream back, in arrival order, and records the run;
* replaces a worker that dies (``SIGKILL``, a segfault, ``os._exit``): only the step it was running
  fails, with an error naming the step, the worker's pid and the signal or exit code;
* on Ctrl-C (``KeyboardInterrupt``) terminates the workers, marks the run ``CANCELED`` and re-raises;
  no worker outlives the run.

Values between steps go through IO managers (the filesystem one by default), never through the
pipes; in-memory IO managers are refused before the run starts.
"""

from __future__ import annotations

import heapq
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from weir._execution._mp_limits import TagConcurrencyLimits
from weir._execution._mp_steps import _PlanSteps
from weir._execution._mp_worker import WorkerInit, worker_main
from weir._execution.event_sink import RunEventSink
from weir._execution.events import DagsterEvent, SerializableErrorInfo, StepFailureData
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir.errors import ExecutionError, ResourceError, StepExecutionError

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

    from weir._execution._mp_steps import StepSource
    from weir._execution.execute_job import PreparedRun

__all__ = ["MultiprocessExecutor", "WorkerCrashedError"]

logger = logging.getLogger(__name__)

_MAX_CONCURRENT_ENV = (
    "WEIR_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT",
    "DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT",
)
_STOP_TIMEOUT_S = 30.0  # resource teardown in the workers after the last step
_TERMINATE_TIMEOUT_S = 5.0  # after SIGTERM, before SIGKILL


class WorkerCrashedError(ExecutionError):
    """A worker process died while it ran a step (killed by a signal, or exited abruptly)."""


class _ExecutionInterrupted(ExecutionError):
    """The run was canceled (Ctrl-C) while the step was running."""


def _default_max_concurrent() -> int:
    for name in _MAX_CONCURRENT_ENV:
        value = os.environ.get(name)
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                logger.warning("Ignoring %s=%r: not an integer.", name, value)
    return multiprocessing.cpu_count()


def _format_duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "an unknown cause"
    if exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


class MultiprocessExecutor:
    """Runs a run's steps in a pool of warm worker processes (see the module docstring)."""

    name = "multiprocess"

    def __init__(
        self,
        max_concurrent: int | None = None,
        start_method: str = "spawn",
        preload_modules: list[str] | None = None,
        tag_concurrency_limits: list[dict[str, Any]] | None = None,
        retries: Any = None,
    ) -> None:
        if start_method not in multiprocessing.get_all_start_methods():
            from weir._execution.execute_job import UnmetExecutorRequirementsError

            msg = (
                f"The start_method {start_method!r} is not available on this platform; "
                f"use one of {multiprocessing.get_all_start_methods()}."
            )
            raise UnmetExecutorRequirementsError(msg)
        self.max_concurrent = max_concurrent or _default_max_concurrent()
        self.start_method = start_method
        self.preload_modules = preload_modules
        self.tag_concurrency_limits = list(tag_concurrency_limits or [])
        self.retries = retries

    @staticmethod
    def from_config(config: Mapping[str, Any]) -> MultiprocessExecutor:
        """The executor for validated ``multiprocess_executor`` config."""
        return MultiprocessExecutor(
            max_concurrent=config.get("max_concurrent"),
            start_method=config.get("start_method") or "spawn",
            preload_modules=config.get("preload_modules"),
            tag_concurrency_limits=config.get("tag_concurrency_limits"),
            retries=config.get("retries"),
        )

    def context(self, prepared: PreparedRun) -> BaseContext:
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            preload = list(self.preload_modules or [])
            if self.preload_modules is None and prepared.recon_job.module_name:
                preload.append(prepared.recon_job.module_name)
            ctx.set_forkserver_preload(["weir._execution._mp_worker", *preload])  # type: ignore[attr-defined]
        return ctx

    def execute(self, prepared: PreparedRun) -> Any:
        """Run ``prepared`` to the end and return its state (events, output records, status):
        a ``RunState`` for an asset job, an ``OpRunState`` for an op job."""
        return _Coordinator(self, prepared).run()

    def __repr__(self) -> str:
        return f"MultiprocessExecutor(max_concurrent={self.max_concurrent}, start_method={self.start_method!r})"


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, index: int, process: BaseProcess, conn: Connection) -> None:
        self.index = index
        self.process = process
        self.conn = conn
        self.pid = process.pid
        self.status = "starting"  # starting | idle | busy | init_failed | stopping | gone
        self.step: str | None = None
        self.started_at = time.perf_counter()

    @property
    def alive(self) -> bool:
        return self.status in ("starting", "idle", "busy")

    def __repr__(self) -> str:
        return f"worker {self.index} (pid: {self.pid})"


class _Coordinator:
    """The parent side of one multiprocess run."""

    def __init__(self, executor: MultiprocessExecutor, prepared: PreparedRun) -> None:
        self.executor = executor
        self.prepared = prepared
        self.source: StepSource
        if prepared.op_nodes is not None:
            from weir._execution.op_job import OpStepGraph

            self.source = OpStepGraph(prepared, self.emit)
        else:
            self.source = _PlanSteps(prepared, self.emit)
        self.ready: list[tuple[tuple[int, ...], str]] = []
        # (due, priority, step): waiting to retry
        self.retries: list[tuple[float, tuple[int, ...], str]] = []
        self.attempts: dict[str, int] = {}  # step -> number of the next attempt (0 first)
        self.failed: list[str] = []
        self.workers: list[_Worker] = []
        self.tag_limits = TagConcurrencyLimits(executor.tag_concurrency_limits)
        self.init_failure: tuple[str, SerializableErrorInfo] | None = None
        self.startup_crashes = 0
        self.idle_crashes = 0
        self.state: Any = None  # RunState (asset jobs) or OpRunState (op jobs)
        self.observers = _plugin_observers()
        self.ctx: BaseContext | None = None

    # -- events -----------------------------------------------------------------------------------
    def emit(self, event_type: str, step_key: str | None, message: str, data: Any = None) -> None:
        assert self.state is not None
        event = self.state.emit(event_type, step_key, message, data)
        for observer in self.observers:
            observer(event)

    def record(self, event: DagsterEvent) -> None:
        """An event streamed from a worker: keep it as is (its pid is the worker's)."""
        assert self.state is not None
        self.state.events.append(event)
        if self.state.sink is not None:
            self.state.sink.add(event)
        for observer in self.observers:
            observer(event)

    # -- run ----------------------------------------------------------------------------------------
    def run(self) -> Any:
        p = self.prepared
        run = DagsterRun(
            run_id=p.run_id,
            job_name=p.job_name,
            run_config=p.run_config,
            tags=p.tags,
            status=DagsterRunStatus.NOT_STARTED,
            step_keys_to_execute=self.source.step_keys,
            parent_run_id=p.parent_run_id,
            root_run_id=p.root_run_id,
        )
        self.source.start_run_record(p.instance, run)
        self.state = state = self.source.make_state(run)
        state.sink = RunEventSink(p.instance, run.run_id)
        run.status = DagsterRunStatus.STARTED
        start = time.perf_counter()
        self.emit("PIPELINE_START", None, f'Started execution of run for "{p.job_name}".')
        self.emit(
            "ENGINE_EVENT",
            None,
            f"Executing steps using multiprocess executor: parent process (pid: {os.getpid()})",
        )
        try:
            self._make_ready(self.source.roots())
            if self.ready:
                self.ctx = self.executor.context(p)
                for _ in range(min(self.executor.max_concurrent, self.source.open_steps())):
                    self._start_worker()
                self._loop()
            self._stop_workers()
        except KeyboardInterrupt:
            self._cancel(start)
            raise
        finally:
            self._kill_leftovers()
        self._finish(start)
        return state

    def _finish(self, start: float) -> None:
        state, p = self.state, self.prepared
        assert state is not None
        elapsed = time.perf_counter() - start
        self.emit(
            "ENGINE_EVENT",
            None,
            f"Multiprocess executor: parent process exiting after {_format_duration(elapsed)} (pid: {os.getpid()})",
        )
        failed_steps = [k for k in self.failed if not k.startswith("<")]
        if self.failed or self.init_failure is not None:
            state.run.status = DagsterRunStatus.FAILURE
            self.emit(
                "PIPELINE_FAILURE",
                None,
                f'Execution of run for "{p.job_name}" failed. Steps failed: {failed_steps}.',
            )
        else:
            state.run.status = DagsterRunStatus.SUCCESS
            self.emit("PIPELINE_SUCCESS", None, f'Finished execution of run for "{p.job_name}".')
        if state.sink is not None:
            state.sink.flush(final=True)
        if p.raise_on_error:
            self._raise_first_failure()

    def _raise_first_failure(self) -> None:
        assert self.state is not None
        if self.init_failure is not None and not self.failed:
            phase, info = self.init_failure
            cls = ResourceError if phase == "resources" else ExecutionError
            msg = f"The worker processes of run {self.prepared.run_id!r} could not start: {info.message}"
            raise cls(msg)
        for event in self.state.events:
            if event.event_type_value == "STEP_FAILURE":
                data = event.event_specific_data
                error = getattr(data, "error", None)
                detail = error.to_string() if error is not None else "(no error details)"
                msg = f'Execution of step "{event.step_key}" failed in worker process {event.pid}:\n{detail}'
                raise StepExecutionError(msg, step_key=event.step_key)

    # -- scheduling ---------------------------------------------------------------------------------
    def _make_ready(self, step_keys: list[str]) -> None:
        for key in step_keys:
            heapq.heappush(self.ready, (self.source.priority(key), key))

    def _next_step(self) -> str | None:
        """The first ready step (in plan order) that the tag concurrency limits allow."""
        held: list[tuple[tuple[int, ...], str]] = []
        chosen: str | None = None
        while self.ready:
            item = heapq.heappop(self.ready)
            if self.tag_limits.fits(self.source.tags(item[1])):
                chosen = item[1]
                break
            held.append(item)
        for item in held:
            heapq.heappush(self.ready, item)
        return chosen

    def _dispatch(self) -> None:
        for worker in self.workers:
            if worker.status != "idle" or not self.ready:
                continue
            step_key = self._next_step()
            if step_key is None:
                return
            payload = self.source.payload(step_key)
            self.emit(
                "STEP_WORKER_STARTING",
                step_key,
                f'Dispatching step "{step_key}" to worker {worker.index} (pid: {worker.pid}).',
            )
            worker.status, worker.step = "busy", step_key
            self.tag_limits.acquire(self.source.tags(step_key))
            try:
                worker.conn.send(("step", step_key, payload, self.attempts.get(step_key, 0)))
            except OSError:
                pass  # the worker just died; its sentinel reports it and the step fails there

    # -- the loop -----------------------------------------------------------------------------------
    def _unfinished(self) -> bool:
        return self.source.unfinished()

    def _loop(self) -> None:
        while self._unfinished():
            timeout = self._release_due_retries()
            self._dispatch()
            live = [w for w in self.workers if w.alive]
            if not live:
                if not self._replace_worker():
                    self._abandon()
                    return
                continue
            waitables: list[Any] = []
            for worker in live:
                waitables += [worker.conn, worker.process.sentinel]
            for ready in wait(waitables, timeout):
                owner = self._owner(ready)
                if owner is None:
                    continue
                self._drain(owner)
                if ready is not owner.conn:  # the process sentinel: the worker exited
                    self._on_exit(owner)

    def _release_due_retries(self) -> float | None:
        """Make the retries that are due ready; return how long until the next one (None: none)."""
        now = time.monotonic()
        while self.retries and self.retries[0][0] <= now:
            _, priority, step_key = heapq.heappop(self.retries)
            heapq.heappush(self.ready, (priority, step_key))
        return max(0.0, self.retries[0][0] - now) if self.retries else None

    def _owner(self, waitable: Any) -> _Worker | None:
        for worker in self.workers:
            if worker.status != "gone" and (
                waitable is worker.conn or waitable == worker.process.sentinel
            ):
                return worker
        return None

    def _drain(self, worker: _Worker) -> None:
        """Handle every message the worker has sent so far."""
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            return  # the worker exited; its sentinel tells how

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "event":
            self.record(message[1])
        elif kind == "log":
            if self.state is not None and self.state.sink is not None:
                self.state.sink.add_entry(message[1])
        elif kind == "ready":
            worker.status = "idle"
            elapsed = time.perf_counter() - worker.started_at
            self.startup_crashes = 0
            self.emit(
                "ENGINE_EVENT",
                None,
                f"Worker {worker.index} (pid: {worker.pid}) is ready: it loaded {self.prepared.recon_job.location} "
                f"and initialised resources in {_format_duration(elapsed)} (start method {self.executor.start_method}).",
            )
        elif kind == "done":
            _, step_key, outputs, extra = message
            self._release(worker)
            self._make_ready(self.source.succeeded(step_key, outputs, extra))
        elif kind == "retry":
            _, step_key, seconds = message
            self._release(worker)
            self.attempts[step_key] = self.attempts.get(step_key, 0) + 1
            heapq.heappush(
                self.retries,
                (time.monotonic() + seconds, self.source.priority(step_key), step_key),
            )
        elif kind == "failed":
            step_key = message[1]
            self.failed.append(step_key)
            self._release(worker)
            self._make_ready(self.source.failed(step_key))
        elif kind == "init_failed":
            _, phase, info = message
            worker.status = "init_failed"
            if self.init_failure is None:
                self.init_failure = (phase, info)
            what = (
                "initialise resources"
                if phase == "resources"
                else f"load {self.prepared.recon_job.location}"
            )
            self.emit(
                "ENGINE_EVENT",
                None,
                f"Worker {worker.index} (pid: {worker.pid}) could not {what}: {info.message}",
                StepFailureData(info, None, "FRAMEWORK"),
            )
        else:
            logger.warning("Ignoring an unknown message from %r: %r", worker, kind)

    def _release(self, worker: _Worker) -> None:
        if worker.step is not None:
            self.tag_limits.release(self.source.tags(worker.step))
        worker.step = None
        if worker.status == "busy":
            worker.status = "idle"

    def _on_exit(self, worker: _Worker) -> None:
        """The worker's process ended: account for it, and replace it if work remains."""
        worker.process.join(1.0)
        exitcode = worker.process.exitcode
        previous, worker.status = worker.status, "gone"
        if previous in ("init_failed", "stopping"):
            return
        how = _describe_exit(exitcode)
        if previous == "busy" and worker.step is not None:
            step_key = worker.step
            self._release(worker)
            msg = (
                f'Step "{step_key}" failed: its worker process {worker.index} (pid: {worker.pid}) died while running it '
                f"({how}). The other steps carry on; a new worker replaces the dead one."
            )
            error = WorkerCrashedError(msg)
            self.emit(
                "STEP_FAILURE",
                step_key,
                f'Execution of step "{step_key}" failed: worker {worker.index} (pid: {worker.pid}) died ({how}).',
                StepFailureData(SerializableErrorInfo.from_exception(error), None, "FRAMEWORK"),
            )
            self.failed.append(step_key)
            self._make_ready(self.source.failed(step_key))
        elif previous == "starting":
            self.startup_crashes += 1
            self.emit(
                "ENGINE_EVENT",
                None,
                f"Worker {worker.index} (pid: {worker.pid}) exited before it was ready ({how}).",
            )
        else:
            self.idle_crashes += 1
            self.emit(
                "ENGINE_EVENT",
                None,
                f"Worker {worker.index} (pid: {worker.pid}) exited while idle ({how}).",
            )
        if self._unfinished() and not self._replaceable_gone():
            self._replace_worker()

    def _replaceable_gone(self) -> bool:
        """True when replacing workers would only repeat a failure (crash loops, failed set-up)."""
        return (
            self.init_failure is not None
            or self.startup_crashes >= 3
            or self.idle_crashes > 2 * self.executor.max_concurrent
        )

    def _replace_worker(self) -> bool:
        if self._replaceable_gone() or not self._unfinished():
            return False
        live = sum(1 for w in self.workers if w.alive)
        wanted = min(self.executor.max_concurrent, self.source.open_steps())
        if live >= wanted:
            return live > 0
        self._start_worker()
        return True

    def _start_worker(self) -> None:
        assert self.ctx is not None
        p = self.prepared
        index = len(self.workers) + 1
        init = WorkerInit(
            recon_job=p.recon_job,
            spec=p.spec,
            run_id=p.run_id,
            job_name=p.job_name,
            tags=p.tags,
            instance_ref=p.instance.get_ref(),
            step_keys=tuple(self.source.step_keys),
            retries_enabled="disabled" not in (self.executor.retries or {}),
            index=index,
            parent_pid=os.getpid(),
            log_level=logging.getLogger("weir").getEffectiveLevel(),
        )
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(child_conn, init), name=f"weir-worker-{index}", daemon=False
        )
        process.start()
        child_conn.close()
        self.workers.append(_Worker(index, process, parent_conn))

    def _abandon(self) -> None:
        """No worker can run the remaining steps: they stay untouched and the run fails."""
        remaining = self.source.abandon()
        if self.init_failure is None:
            info = SerializableErrorInfo(
                f"ExecutionError: no worker process could be started for run {self.prepared.run_id!r}.",
                [],
                "ExecutionError",
            )
            self.init_failure = ("workers", info)
        self.emit(
            "ENGINE_EVENT",
            None,
            f"Multiprocess executor: no worker process is available; steps not executed: {remaining}.",
        )

    # -- shutting down ---------------------------------------------------------------------------
    def _stop_workers(self) -> None:
        """Ask every live worker to tear its resources down and exit; wait for them."""
        for worker in self.workers:
            if worker.alive:
                worker.status = "stopping"
                try:
                    worker.conn.send(("stop",))
                except OSError:
                    pass
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        for worker in self.workers:
            if worker.process.exitcode is None and worker.process.pid is not None:
                worker.process.join(max(0.0, deadline - time.monotonic()))
            self._drain(worker)

    def _cancel(self, start: float) -> None:
        state, p = self.state, self.prepared
        assert state is not None
        running = [w for w in self.workers if w.status == "busy" and w.step is not None]
        state.run.status = DagsterRunStatus.CANCELING
        self.emit(
            "PIPELINE_CANCELING",
            None,
            f'Execution of run for "{p.job_name}" is being canceled (KeyboardInterrupt); terminating '
            f"{sum(1 for w in self.workers if w.alive)} worker process(es).",
        )
        self._terminate_all()
        for worker in running:
            self._drain(worker)
            error = _ExecutionInterrupted(
                f'Execution of step "{worker.step}" was interrupted: the run was canceled and worker '
                f"{worker.index} (pid: {worker.pid}) was terminated."
            )
            self.emit(
                "STEP_FAILURE",
                worker.step,
                f'Execution of step "{worker.step}" was interrupted.',
                StepFailureData(SerializableErrorInfo.from_exception(error), None, "INTERRUPT"),
            )
        state.run.status = DagsterRunStatus.CANCELED
        self.emit(
            "PIPELINE_CANCELED",
            None,
            f'Execution of run for "{p.job_name}" canceled after {_format_duration(time.perf_counter() - start)}.',
        )
        if state.sink is not None:
            state.sink.flush()

    def _terminate_all(self) -> None:
        """SIGTERM every worker (they tear resources down and exit), SIGKILL those that linger."""
        for worker in self.workers:
            if worker.process.exitcode is None and worker.process.pid is not None:
                worker.process.terminate()
        deadline = time.monotonic() + _TERMINATE_TIMEOUT_S
        for worker in self.workers:
            if worker.process.pid is not None:
                worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None and worker.process.pid is not None:
                worker.process.kill()
                worker.process.join(1.0)
            worker.status = "gone"

    def _kill_leftovers(self) -> None:
        """Whatever happened, no worker outlives the run."""
        for worker in self.workers:
            if worker.process.pid is not None and worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join(1.0)
            try:
                worker.conn.close()
            except OSError:
                pass


def _plugin_observers() -> list[Callable[[DagsterEvent], Any]]:
    """Event observers of loaded plugins (``weir_on_event``), called in the parent for every event."""
    from weir.plugins import PluginRegistry, default_plugin_manager

    pm = default_plugin_manager()
    if not pm.hook.weir_on_event.get_hookimpls():
        return []
    return [PluginRegistry(pm).notify_event]
