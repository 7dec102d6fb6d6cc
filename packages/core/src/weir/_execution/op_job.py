"""Op jobs: a graph of ops bound to resources and config.

``execute_in_process`` runs the ops in this process (values in memory by default); under
``execute_job`` the multiprocess executor runs them in worker processes, scheduled by
:class:`OpStepGraph`, and :class:`OpJobExecutionResult` reads the values back.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from weir._execution.asset_job import (
    JobDefinition,
    _json,
    check_resource_config,
    is_partitioned_config,
    launch_config,
    partition_tags,
    split_job_config,
)
from weir._execution.execute_job import JobExecutionResult
from weir._execution.op_execution import (
    OpRunState,
    finish_run,
    missing_upstream_outputs,
    op_output_record,
    op_step_key,
    run_op_nodes,
    same_key_upstream,
)
from weir._execution.op_graph import OpNode, flatten_graph
from weir._execution.result import ExecuteInProcessResult
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._model.graph_definition import GraphDefinition
from weir.errors import ConfigError, DefinitionError, ResourceError

__all__ = [
    "OpJobDefinition",
    "OpJobExecutionResult",
    "OpJobOutputs",
    "OpJobResult",
    "OpStepGraph",
]


class OpJobOutputs:
    """``output_for_node`` and ``output_value`` of op job results: values by node (dicts for
    dynamic outputs) and graph outputs, loaded through whatever ``_load`` the result has."""

    _state: Any
    _job_def: Any
    if TYPE_CHECKING:

        def _load(self, record: Any) -> Any: ...

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        state: OpRunState = self._state
        graph_outputs = (
            self._job_def._node_outputs.get(node_name) if self._job_def is not None else None
        )
        if graph_outputs is not None and output_name in graph_outputs:  # a nested graph's output
            handle, inner = graph_outputs[output_name]
            return self.output_for_node(handle, inner)
        keys = state.mapping_keys.get((node_name, output_name))
        if keys is not None:
            return {
                k: self._load(state.output_records[(f"{node_name}[{k}]", output_name)])
                for k in keys
            }
        return super().output_for_node(node_name, output_name)  # type: ignore[misc]

    def output_value(self, output_name: str = "result") -> Any:
        outputs = self._job_def._graph_outputs if self._job_def is not None else {}
        if output_name not in outputs:
            msg = f"The job's graph has no output {output_name!r}; outputs: {sorted(outputs)}."
            raise DefinitionError(msg)
        handle, inner = outputs[output_name]
        return self.output_for_node(handle, inner)


class OpJobResult(OpJobOutputs, ExecuteInProcessResult):
    """Results of an op job: values by node (dicts for dynamic outputs) and graph outputs."""


class OpJobExecutionResult(OpJobOutputs, JobExecutionResult):
    """The result of an op job that ``execute_job`` ran in worker processes: the same values as
    :class:`OpJobResult`, loaded through the job's IO managers initialised in this process."""


class OpJobDefinition(JobDefinition):
    """A job built from ``@job`` or ``GraphDefinition.to_job``."""

    def __init__(
        self,
        *,
        name: str,
        graph_def: GraphDefinition,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        hooks: Iterable[Any] | None = None,
        op_retry_policy: Any = None,
        partitions_def: Any = None,
        input_values: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.graph_def = graph_def
        self.description = description
        self._resource_defs = dict(resource_defs or {})
        self.executor_def = executor_def
        self._config, self._config_mapping = split_job_config(config)
        self.tags = {k: v if isinstance(v, str) else _json(v) for k, v in (tags or {}).items()}
        self.run_tags = {
            k: v if isinstance(v, str) else _json(v)
            for k, v in (run_tags if run_tags is not None else self.tags).items()
        }
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        if partitions_def is None and is_partitioned_config(self._config):
            self.partitions_def = self._config.partitions_def  # a partitioned config brings its own
        self.hook_defs = frozenset(hooks or ())
        self.op_retry_policy = op_retry_policy
        self.input_values = dict(input_values or {})
        self._nodes, self._graph_outputs = flatten_graph(graph_def)
        self._node_outputs = _nested_graph_outputs(graph_def)
        self._asset_keys = frozenset()
        self._check_keys = frozenset()
        self._default_io_manager_kind = "mem"

    @property
    def graph(self) -> GraphDefinition:
        return self.graph_def

    @property
    def op_handles(self) -> list[str]:
        return [n.handle for n in self._nodes]

    def with_top_level_resources(self, resources: Mapping[str, Any]) -> OpJobDefinition:
        merged = {**resources, **self._resource_defs}
        if merged == self._resource_defs:
            return self
        job = OpJobDefinition.__new__(OpJobDefinition)
        job.__dict__.update(self.__dict__)
        job._resource_defs = merged
        return job

    def out_of_process_resources(self) -> dict[str, Any]:
        """The resources of a run in worker processes: the job's, with the filesystem IO manager
        as the default ``io_manager`` (as in Dagster; in process the default keeps values in memory)."""
        if "io_manager" in self._resource_defs:
            return self._resources_for(None)
        from weir._io.filesystem import fs_io_manager

        return self._resources_for({"io_manager": fs_io_manager})

    def resource_keys(self, nodes: list[OpNode]) -> set[str]:
        """The resources that running ``nodes`` needs: their ops', IO and input managers, hooks'."""
        keys: set[str] = set()
        for node in nodes:
            keys |= node.op_def.required_resource_keys
            keys |= {o.io_manager_key for o in node.op_def.outs.values()}
            keys |= {i.input_manager_key for i in node.op_def.ins.values() if i.input_manager_key}
            for hook in node.hook_defs:
                keys |= set(getattr(hook, "required_resource_keys", ()))
        for hook in self.hook_defs:
            keys |= set(getattr(hook, "required_resource_keys", ()))
        return keys

    def check_resources(
        self, nodes: list[OpNode], resources: Mapping[str, Any], config: dict[str, Any]
    ) -> set[str]:
        """Fail before the run when a resource ``nodes`` need is missing or its config is bad;
        returns the keys to initialise."""
        from weir._config.resources import MissingResourceError

        keys = self.resource_keys(nodes)
        missing = sorted(keys - set(resources))
        if missing:
            msg = f"resource with key {missing[0]!r} required by job {self.name!r} was not provided. Provided: {sorted(resources)}."
            raise MissingResourceError(msg)
        check_resource_config(self.name, dict(resources), config, keys)
        return keys

    def _resources_for(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        resources = {**self._resource_defs, **(extra or {})}
        if "io_manager" not in resources:
            from weir._io.memory import InMemoryIOManager

            resources["io_manager"] = InMemoryIOManager()
        return resources

    def _select(self, op_selection: Iterable[str] | None) -> list[OpNode]:
        if op_selection is None:
            return self._nodes
        wanted = set(op_selection)
        known = {n.handle for n in self._nodes}
        unknown = wanted - known - {h.split(".")[0] for h in known}
        if unknown:
            msg = f"op_selection names {sorted(unknown)}, which are not ops of job {self.name!r} ({sorted(known)})."
            raise DefinitionError(msg)
        return [n for n in self._nodes if n.handle in wanted or n.handle.split(".")[0] in wanted]

    def _node_config(self, nodes: list[OpNode], run_config: Mapping[str, Any]) -> dict[str, Any]:
        ops_config = run_config.get("ops") or {}
        errors: list[str] = []
        result: dict[str, Any] = {}
        handles = {n.handle for n in nodes}
        top = {h.split(".")[0] for h in handles}
        for name in ops_config:
            if name not in handles and name not in top:
                errors.append(
                    f'Received unexpected config entry "{name}" at path root:ops. Expected one of {sorted(top)}.'
                )
        for node in nodes:
            raw = _nested_get(ops_config, node.handle)
            cfg = raw.get("config") if isinstance(raw, Mapping) else None
            from weir._config.validate import resolve_op_config

            path = "root:ops:" + ":ops:".join(node.handle.split(".")) + ":config"
            try:
                result[node.handle] = resolve_op_config(node.op_def, cfg, path=path)
            except ConfigError as exc:
                errors.extend(str(e) for e in (exc.errors or [str(exc)]))
        if errors:
            from weir._config._evaluate import format_problems

            raise ConfigError(
                format_problems(f"Error in config for job {self.name}", errors), errors
            )
        return result

    def execute_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Iterable[str] | None = None,
        asset_selection: Iterable[Any] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> OpJobResult:
        """Run the job's ops in this process, in dependency order; outputs stay in memory by default."""
        return self._run_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=partition_key,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            asset_selection=asset_selection,
            run_id=run_id,
            input_values=input_values,
            tags=tags,
            resources=resources,
        )

    def _run_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Iterable[str] | None = None,
        asset_selection: Iterable[Any] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
    ) -> OpJobResult:
        """``execute_in_process``, plus re-execution: with ``parent_run_id``, the outputs of the ops
        outside ``op_selection`` are loaded from the runs that produced them (parent, grandparent ...)."""
        from weir._config.resources import initialize_resources
        from weir._execution.event_sink import RunEventSink
        from weir._execution.run_execution import make_run_id
        from weir._instance.instance import Instance

        if partition_key is not None and self.partitions_def is not None:  # before any record
            self.partitions_def.validate_partition_key(
                partition_key, dynamic_partitions_store=instance
            )
        config = launch_config(
            self._config, self._config_mapping, run_config, partition_key, self.name
        )
        nodes = self._select(op_selection)
        node_config = self._node_config(nodes, config)
        all_resources = self._resources_for(resources)
        keys = self.check_resources(nodes, all_resources, config)
        instance = instance if instance is not None else Instance.ephemeral()
        run = DagsterRun(
            run_id=run_id or make_run_id(),
            job_name=self.name,
            run_config=config,
            tags={
                **partition_tags(self._config, partition_key, self.name),
                **self.run_tags,
                **(tags or {}),
            },
            status=DagsterRunStatus.NOT_STARTED,
            step_keys_to_execute=[n.handle for n in nodes],
            parent_run_id=parent_run_id,
            root_run_id=root_run_id,
        )
        instance.add_run(run)
        state = OpRunState(
            run=run,
            job_name=self.name,
            instance=instance,
            resources=None,
            node_config=node_config,
            run_config=config,
            input_values={**self.input_values, **(input_values or {})},
        )
        state.partition_key = partition_key
        state.hook_defs = self.hook_defs
        state.op_retry_policy = self.op_retry_policy
        if parent_run_id is not None:
            from weir._execution.op_reexecution import load_parent_outputs

            load_parent_outputs(state, self._nodes, {n.handle for n in nodes}, parent_run_id)
        sink = state.sink = RunEventSink(instance, run.run_id)
        run.status = DagsterRunStatus.STARTED
        start = time.perf_counter()
        state.emit("PIPELINE_START", None, f'Started execution of run for "{self.name}".')
        state.emit("ENGINE_EVENT", None, f"Executing steps in process (pid: {os.getpid()})")
        names = ", ".join(sorted(keys))
        to_raise: BaseException | None = None
        try:
            state.emit(
                "RESOURCE_INIT_STARTED", None, f"Starting initialization of resources [{names}]."
            )
            with initialize_resources(
                all_resources,
                sorted(keys),
                instance=instance,
                run_id=run.run_id,
                resources_config=config.get("resources") or {},
            ) as live:
                state.emit(
                    "RESOURCE_INIT_SUCCESS",
                    None,
                    f"Finished initialization of resources [{names}].",
                )
                state.resources = live
                failed, to_raise = run_op_nodes(state, nodes, raise_on_error)
        except ResourceError as exc:
            state.emit(
                "RESOURCE_INIT_FAILURE",
                None,
                f"Initialization of resources [{names}] failed: {exc}",
            )
            failed, to_raise = ["<resources>"], exc
        finish_run(state, [f for f in failed if not f.startswith("<")] or failed, start)
        sink.flush(final=True)
        if to_raise is not None and raise_on_error:
            raise to_raise
        return OpJobResult(state, self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"OpJobDefinition({self.name!r}, ops={self.op_handles})"


class OpStepGraph:
    """The steps of an op job run by the multiprocess executor (its step source).

    One step per op; an op mapped over a dynamic output (``.map()``) gets one step ``op[key]`` per
    mapping key, created when the worker that ran the fanning op reports the keys. A mapped op
    that reads another mapped op's output for the same key waits for that step only; an op that
    collects (``.collect()``) or reads a whole op waits for all of its steps. As in process, a
    failed step blocks what reads from it (no events), an output that was not produced skips its
    readers (``STEP_SKIPPED``), and the rest of the run carries on.
    """

    def __init__(self, prepared: Any, emit: Any) -> None:
        self.prepared = prepared
        self.emit = emit
        nodes: list[OpNode] = prepared.op_nodes
        self.nodes = nodes
        self.by_handle = {n.handle: n for n in nodes}
        self.index = {n.handle: i for i, n in enumerate(nodes)}
        self.step_keys = [n.handle for n in nodes]
        # what each op waits for: whole ops (finished), and mapped ops read key by key (resolved)
        self.whole: dict[str, set[str]] = {}
        self.per_key: dict[str, dict[str, str]] = {}  # mapped op -> {upstream mapped op: output}
        self.children: dict[str, set[str]] = {n.handle: set() for n in nodes}
        for node in nodes:
            upstream = {h for h in node.upstream_handles if h in self.by_handle}
            per_key = same_key_upstream(node, self.by_handle)
            self.whole[node.handle] = upstream - per_key.keys()
            self.per_key[node.handle] = per_key
            for h in upstream:
                self.children[h].add(node.handle)
        self.status: dict[str, str] = {}  # handle -> resolved | finished (absent: waiting)
        self.node_outcome: dict[str, str] = {}  # finished handle -> ok | bad | skipped | blocked
        self.keys: dict[str, list[str | None]] = {}  # resolved handle -> its steps' mapping keys
        self.key_pos: dict[str, dict[str, int]] = {}
        self.open: dict[str, int] = {}  # resolved handle -> steps without an outcome
        self.steps: dict[str, tuple[str, str | None]] = {}  # step key -> (handle, mapping key)
        self.outcome: dict[str, str] = {}  # step key -> success | failed | skipped | blocked
        self.made_ready: set[str] = set()
        self.ready: list[str] = []
        self._todo: deque[tuple[str, str, str | None]] = deque()
        self.state: OpRunState | None = None

    # -- the StepSource interface -------------------------------------------------------------------
    def start_run_record(self, instance: Any, run: DagsterRun) -> None:
        instance.add_run(run)

    def make_state(self, run: DagsterRun) -> OpRunState:
        p = self.prepared
        state = OpRunState(
            run=run,
            job_name=p.job_name,
            instance=p.instance,
            resources=None,
            node_config=p.node_config,
            run_config=p.run_config,
            input_values=p.job_def.input_values,
        )
        state.hook_defs = p.job_def.hook_defs
        state.op_retry_policy = p.job_def.op_retry_policy
        self.state = state
        return state

    def roots(self) -> list[str]:
        self._todo.extend(("resolve", n.handle, None) for n in self.nodes)
        return self._take_ready()

    def priority(self, step_key: str) -> tuple[int, ...]:
        handle, key = self.steps[step_key]
        return (self.index[handle], self.key_pos[handle][key] if key is not None else 0)

    def tags(self, step_key: str) -> Mapping[str, Any]:
        node = self.by_handle[self.steps[step_key][0]]
        return {**node.op_def.tags, **node.tags} if node.tags else node.op_def.tags

    def payload(self, step_key: str) -> tuple[Any, ...]:
        """``(handle, mapping key, upstream values, mapping keys)``; see ``_OpSteps.prepare``."""
        state = self.state
        assert state is not None
        handle, key = self.steps[step_key]
        node = self.by_handle[handle]
        upstream: list[tuple[str, str, str | None, str | None]] = []
        mapping_keys: dict[tuple[str, str], list[str]] = {}
        for src in node.inputs.values():
            sources = [(h, o) for h, o in src.sources if h in self.by_handle]
            if src.kind in ("output", "mapped") and sources:
                h, o = sources[0]
                if h in self.per_key[handle]:  # the same key of a mapped op
                    if op_step_key(h, key) in self.steps:  # else loading fails, naming it
                        upstream.append((h, o, key, None))
                        if src.kind == "output":
                            mapping_keys[(h, o)] = [key] if key is not None else []
                elif src.kind == "mapped":  # one value of a dynamic output
                    upstream.append((h, o, None, key))
                else:
                    upstream.append((h, o, None, None))
            elif src.kind == "fan_in":
                upstream += [(h, o, None, None) for h, o in sources]
            elif src.kind == "collect" and sources:
                h, o = sources[0]
                keys = state.mapping_keys.get((h, o), [])
                mapping_keys[(h, o)] = list(keys)
                mapped = self.by_handle[h].is_mapped
                upstream += [(h, o, k, None) if mapped else (h, o, None, k) for k in keys]
        return handle, key, upstream, mapping_keys

    def succeeded(self, step_key: str, outputs: list[tuple[str, bool]], extra: Any) -> list[str]:
        """Record what the step produced (output records, mapping keys), then settle it."""
        from bisect import insort

        state = self.state
        assert state is not None
        handle, key = self.steps[step_key]
        node = self.by_handle[handle]
        state.emitted[step_key] = {name for name, _ in outputs}
        dynamic: Mapping[str, list[str]] = extra or {}
        for name, _stored in outputs:
            if name in dynamic and key is None:
                state.mapping_keys[(handle, name)] = list(dynamic[name])
                for dynamic_key in dynamic[name]:
                    record_key, record = op_output_record(state, node, name, None, dynamic_key)
                    state.output_records[record_key] = record
                continue
            record_key, record = op_output_record(state, node, name, key, None)
            state.output_records[record_key] = record
            if key is not None:  # keep the keys of a mapped output in the dynamic output's order
                keys = state.mapping_keys.setdefault((handle, name), [])
                if key not in keys:
                    insort(keys, key, key=self.key_pos[handle].__getitem__)
        self._settle(step_key, "success")
        return self._take_ready()

    def failed(self, step_key: str) -> list[str]:
        self._settle(step_key, "failed")
        return self._take_ready()

    def unfinished(self) -> bool:
        return any(self.status.get(n.handle) != "finished" for n in self.nodes)

    def open_steps(self) -> int:
        waiting = [n for n in self.nodes if n.handle not in self.status]
        if any(n.is_mapped for n in waiting):
            return len(self.nodes) + len(self.steps)  # how many keys is not known yet
        return len(waiting) + sum(self.open.values())

    def abandon(self) -> list[str]:
        """No worker can run what is left: every unfinished op and step stays untouched."""
        remaining = [k for k in self.steps if k not in self.outcome]
        remaining += [n.handle for n in self.nodes if n.handle not in self.status]
        for step_key in [k for k in self.steps if k not in self.outcome]:
            self.outcome[step_key] = "blocked"
        for node in self.nodes:
            if self.status.get(node.handle) != "finished":
                self.status[node.handle] = "finished"
                self.node_outcome[node.handle] = "blocked"
        return remaining

    # -- resolution -----------------------------------------------------------------------------------
    # Work is queued (``_todo``) rather than recursed into, so a long chain of blocked or skipped
    # ops settles in a loop: ("resolve", handle, None) or ("step", handle, mapping key).
    def _take_ready(self) -> list[str]:
        while self._todo:
            action, handle, key = self._todo.popleft()
            if action == "resolve":
                self._try_resolve(handle)
            else:
                self._try_step(handle, key)
        ready, self.ready = self.ready, []
        return ready

    def _try_resolve(self, handle: str) -> None:
        """Create the op's steps once what it waits for is known (or block or skip it)."""
        state = self.state
        assert state is not None
        if handle in self.status:
            return
        whole, per_key = self.whole[handle], self.per_key[handle]
        if any(self.status.get(h) != "finished" for h in whole):
            return
        if any(h not in self.status for h in per_key):
            return
        node = self.by_handle[handle]
        if any(self.node_outcome.get(h) in ("bad", "blocked") for h in whole) or any(
            self.node_outcome.get(h) == "blocked" for h in per_key
        ):
            self._finish_node(handle, "blocked")  # untouched: no events, as in process
            return
        skipped = {h for h, outcome in self.node_outcome.items() if outcome == "skipped"}
        missing = missing_upstream_outputs(node, self.by_handle, skipped, state)
        if missing:
            self.emit(
                "STEP_SKIPPED",
                handle,
                f'Skipped execution of step "{handle}" because its upstream output(s) {missing} were not produced.',
            )
            self._finish_node(handle, "skipped")
            return
        keys = self._keys_of(node)
        self.keys[handle] = keys
        self.key_pos[handle] = {k: i for i, k in enumerate(keys) if k is not None}
        self.status[handle] = "resolved"
        self.open[handle] = len(keys)
        for key in keys:
            self.steps[op_step_key(handle, key)] = (handle, key)
            self._todo.append(("step", handle, key))
        if not keys:
            self._finish_node(handle, "ok")
            return
        for child in self._children(handle):
            if handle in self.per_key[child]:
                self._todo.append(("resolve", child, None))

    def _keys_of(self, node: OpNode) -> list[str | None]:
        """The mapping keys of the op's steps: ``[None]`` for an ordinary op; for a mapped op the
        keys of the dynamic output it maps over, or of the mapped op it reads (as in process)."""
        state = self.state
        assert state is not None
        if not node.is_mapped:
            return [None]
        for src in node.inputs.values():
            if src.kind not in ("mapped", "output") or not src.sources:
                continue
            h, o = src.sources[0]
            if h in self.per_key[node.handle]:
                return list(self.keys.get(h, []))
            if src.kind == "mapped":
                return list(state.mapping_keys.get((h, o), []))
        return []

    def _try_step(self, handle: str, key: str | None) -> None:
        """Make step ``handle[key]`` ready once the same key of the mapped ops it reads is done."""
        state = self.state
        assert state is not None
        step_key = op_step_key(handle, key)
        if step_key in self.outcome or step_key in self.made_ready:
            return
        missing: list[str] = []
        for up, output in self.per_key[handle].items():
            up_step = op_step_key(up, key)
            if up_step not in self.steps:
                continue  # an op of a mapped graph that did not run per key: loading fails, naming it
            outcome = self.outcome.get(up_step)
            if outcome is None:
                return  # not finished yet
            if outcome in ("failed", "blocked"):
                self._settle(step_key, "blocked")  # untouched: no events, as in process
                return
            if outcome == "skipped" or output not in state.emitted.get(up_step, ()):
                missing.append(f"{up_step}.{output}")
        if missing:
            self.emit(
                "STEP_SKIPPED",
                step_key,
                f'Skipped execution of step "{step_key}" because its upstream output(s) {missing} were not produced.',
            )
            self._settle(step_key, "skipped")
            return
        self.made_ready.add(step_key)
        self.ready.append(step_key)

    def _settle(self, step_key: str, outcome: str) -> None:
        handle, key = self.steps[step_key]
        self.outcome[step_key] = outcome
        self.open[handle] -= 1
        for child in self._children(handle):
            if handle in self.per_key[child] and self.status.get(child) == "resolved":
                self._todo.append(("step", child, key))
        if self.open[handle] == 0:
            bad = any(
                self.outcome[op_step_key(handle, k)] in ("failed", "blocked")
                for k in self.keys[handle]
            )
            self._finish_node(handle, "bad" if bad else "ok")

    def _finish_node(self, handle: str, outcome: str) -> None:
        self.status[handle] = "finished"
        self.node_outcome[handle] = outcome
        self._todo.extend(("resolve", child, None) for child in self._children(handle))

    def _children(self, handle: str) -> list[str]:
        return sorted(self.children[handle], key=self.index.__getitem__)


def _nested_get(ops_config: Mapping[str, Any], handle: str) -> Any:
    parts = handle.split(".")
    if len(parts) == 1:
        return ops_config.get(handle)
    node: Any = ops_config
    for i, part in enumerate(parts):
        node = (node or {}).get(part)
        if i < len(parts) - 1:
            node = (node or {}).get("ops")
    return node


def _nested_graph_outputs(graph_def: GraphDefinition) -> dict[str, dict[str, tuple[str, str]]]:
    """For every nested graph node (by dotted handle), its outputs -> (op handle, output)."""
    result: dict[str, dict[str, tuple[str, str]]] = {}

    def walk(g: GraphDefinition, prefix: str) -> None:
        for node in g.nodes.values():
            if isinstance(node.definition, GraphDefinition):
                handle = f"{prefix}{node.name}"
                _, outputs = flatten_graph(node.definition)
                result[handle] = {k: (f"{handle}.{h}", o) for k, (h, o) in outputs.items()}
                walk(node.definition, handle + ".")

    walk(graph_def, "")
    return result
