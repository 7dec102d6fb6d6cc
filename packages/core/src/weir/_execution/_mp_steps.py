"""Step sources of the multiprocess executor: which steps a run has, and what a finished step means.

The coordinator in :mod:`weir._execution.multiprocess` knows workers, messages, retries and limits;
a step source (:class:`StepSource`) knows the steps. :class:`_PlanSteps` is the source for an asset
job's execution plan; an op job's is :class:`~weir._execution.op_job.OpStepGraph`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from weir._execution._mp_worker import output_record

if TYPE_CHECKING:
    from weir._execution.execute_job import PreparedRun
    from weir._execution.plan import Step
    from weir._execution.run import DagsterRun
    from weir._execution.run_execution import RunState

__all__ = ["StepSource"]


class StepSource(Protocol):
    """The steps of one run, as the coordinator schedules them.

    The coordinator knows workers, messages, retries and limits; a step source knows which steps
    exist, what they depend on, what a worker needs to run one (``payload``) and what a finished
    step means for the others. ``succeeded`` and ``failed`` return the steps that became ready
    (and emit ``STEP_SKIPPED`` for those whose upstream outputs were not produced).
    """

    step_keys: list[str]

    def make_state(self, run: DagsterRun) -> Any: ...
    def start_run_record(self, instance: Any, run: DagsterRun) -> None: ...
    def roots(self) -> list[str]: ...
    def priority(self, step_key: str) -> tuple[int, ...]: ...
    def tags(self, step_key: str) -> Mapping[str, Any]: ...
    def payload(self, step_key: str) -> Any: ...
    def succeeded(
        self, step_key: str, outputs: list[tuple[str, bool]], extra: Any
    ) -> list[str]: ...
    def failed(self, step_key: str) -> list[str]: ...
    def unfinished(self) -> bool: ...
    def open_steps(self) -> int: ...
    def abandon(self) -> list[str]: ...


class _PlanSteps:
    """The steps of an asset job's execution plan (all known before the run starts)."""

    def __init__(self, prepared: PreparedRun, emit: Callable[..., Any]) -> None:
        self.prepared = prepared
        self.emit = emit
        self.plan = plan = prepared.plan
        self.step_keys = list(plan.step_keys)
        self.order = {s.key: i for i, s in enumerate(plan.steps)}
        self.children: dict[str, list[str]] = {s.key: [] for s in plan.steps}
        for step in plan.steps:
            for dep in step.dep_steps:
                self.children[dep].append(step.key)
        self.waiting_on = {s.key: len(s.dep_steps) for s in plan.steps}
        self.outcome: dict[str, str] = {}  # success | failed | skipped | blocked
        self.outputs: dict[str, dict[str, bool]] = {}  # step -> {output name: stored}
        self.state: RunState | None = None

    def start_run_record(self, instance: Any, run: DagsterRun) -> None:
        from weir._execution.run_execution import start_run_record
        from weir._execution.run_partitions import RunPartitions

        key = self.prepared.partition_key
        key_range = RunPartitions.from_tags(run.tags).key_range if key is None else None
        start_run_record(instance, run, self.plan, key, key_range)

    def make_state(self, run: DagsterRun) -> RunState:
        from weir._execution.run_execution import RunState
        from weir._execution.run_partitions import RunPartitions

        p = self.prepared
        self.state = RunState(
            run=run,
            job_name=p.job_name,
            instance=p.instance,
            resolved=p.job_def.asset_layer,
            plan=self.plan,
            partition_key=p.partition_key,
            partition_key_range=(
                RunPartitions.from_tags(run.tags).key_range if p.partition_key is None else None
            ),
        )
        return self.state

    def roots(self) -> list[str]:
        return [s.key for s in self.plan.steps if not s.dep_steps]

    def priority(self, step_key: str) -> tuple[int, ...]:
        return (self.order[step_key],)

    def tags(self, step_key: str) -> Mapping[str, Any]:
        return _step_tags(self.plan.step_by_key[step_key])

    def payload(self, step_key: str) -> list[tuple[str, str, bool]]:
        """The upstream outputs the step reads: ``(step key, output name, stored)``."""
        return [
            (
                inp.upstream_step,
                inp.upstream_output or "result",
                self.outputs[inp.upstream_step].get(inp.upstream_output or "result", False),
            )
            for inp in self.plan.step_by_key[step_key].inputs
            if inp.upstream_step is not None
        ]

    def succeeded(self, step_key: str, outputs: list[tuple[str, bool]], extra: Any) -> list[str]:
        assert self.state is not None
        self.outputs[step_key] = dict(outputs)
        step = self.plan.step_by_key[step_key]
        for name, stored in outputs:  # so that the result can load values through IO managers
            self.state.output_records[(step_key, name)] = output_record(
                self.state, step, name, stored
            )
        return self._settle(step_key, "success")

    def failed(self, step_key: str) -> list[str]:
        return self._settle(step_key, "failed")

    def unfinished(self) -> bool:
        return len(self.outcome) < len(self.step_keys)

    def open_steps(self) -> int:
        return len(self.step_keys) - len(self.outcome)

    def abandon(self) -> list[str]:
        remaining = [k for k in self.step_keys if k not in self.outcome]
        for key in remaining:
            self.outcome[key] = "blocked"
        return remaining

    def _settle(self, step_key: str, outcome: str) -> list[str]:
        """``step_key`` finished with ``outcome``; decide what its downstream steps do."""
        self.outcome[step_key] = outcome
        ready: list[str] = []
        todo = [step_key]
        while todo:
            done = todo.pop()
            for child in self.children[done]:
                self.waiting_on[child] -= 1
                if self.waiting_on[child]:
                    continue
                step = self.plan.step_by_key[child]
                if any(self.outcome.get(d) in ("failed", "blocked") for d in step.dep_steps):
                    self.outcome[child] = "blocked"  # untouched: no events, as in process
                    todo.append(child)
                    continue
                missing = self._missing_upstream_outputs(step)
                if missing:
                    self.outcome[child] = "skipped"
                    self.emit(
                        "STEP_SKIPPED",
                        child,
                        f'Skipped execution of step "{child}" because its upstream output(s) {missing} were not produced.',
                    )
                    todo.append(child)
                    continue
                ready.append(child)
        return ready

    def _missing_upstream_outputs(self, step: Step) -> list[str]:
        missing: list[str] = []
        for inp in step.inputs:
            up = inp.upstream_step
            if up is None:
                continue
            if self.outcome.get(up) == "skipped" or inp.upstream_output not in self.outputs.get(
                up, {}
            ):
                missing.append(f"{up}.{inp.upstream_output}")
        for up in step.dep_steps:
            if self.outcome.get(up) == "skipped" and not any(
                i.upstream_step == up for i in step.inputs
            ):
                missing.append(up)
        return missing


def _step_tags(step: Step) -> Mapping[str, Any]:
    return getattr(step.node_def, "tags", None) or {}
