"""Op jobs: a graph of ops bound to resources and config, executed in process."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from weir._execution.asset_job import (
    JobDefinition,
    _json,
    check_resource_config,
    launch_config,
    split_job_config,
)
from weir._execution.op_execution import OpRunState, finish_run, run_op_nodes
from weir._execution.op_graph import OpNode, flatten_graph
from weir._execution.result import ExecuteInProcessResult
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._model.graph_definition import GraphDefinition
from weir.errors import ConfigError, DefinitionError, ResourceError

__all__ = ["OpJobDefinition", "OpJobResult"]


class OpJobResult(ExecuteInProcessResult):
    """Results of an op job: values by node (dicts for dynamic outputs) and graph outputs."""

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        state: OpRunState = self._state  # type: ignore[assignment]
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
        return super().output_for_node(node_name, output_name)

    def output_value(self, output_name: str = "result") -> Any:
        outputs = self._job_def._graph_outputs if self._job_def is not None else {}
        if output_name not in outputs:
            msg = f"The job's graph has no output {output_name!r}; outputs: {sorted(outputs)}."
            raise DefinitionError(msg)
        handle, inner = outputs[output_name]
        return self.output_for_node(handle, inner)


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
        from weir._config.resources import MissingResourceError, initialize_resources
        from weir._execution.run_execution import make_run_id
        from weir._instance.instance import Instance

        config = launch_config(self._config, self._config_mapping, run_config)
        nodes = self._select(op_selection)
        node_config = self._node_config(nodes, config)
        all_resources = self._resources_for(resources)
        keys: set[str] = set()
        for node in nodes:
            keys |= node.op_def.required_resource_keys
            keys |= {o.io_manager_key for o in node.op_def.outs.values()}
            keys |= {i.input_manager_key for i in node.op_def.ins.values() if i.input_manager_key}
        missing = sorted(keys - set(all_resources))
        if missing:
            msg = f"resource with key {missing[0]!r} required by job {self.name!r} was not provided. Provided: {sorted(all_resources)}."
            raise MissingResourceError(msg)
        check_resource_config(self.name, all_resources, config, keys)
        instance = instance if instance is not None else Instance.ephemeral()
        run = DagsterRun(
            run_id=run_id or make_run_id(),
            job_name=self.name,
            run_config=config,
            tags={**self.run_tags, **(tags or {})},
            status=DagsterRunStatus.STARTED,
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
        state.hook_defs = self.hook_defs
        state.op_retry_policy = self.op_retry_policy
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
        instance.store_events(run.run_id, state.events)
        if to_raise is not None and raise_on_error:
            raise to_raise
        return OpJobResult(state, self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"OpJobDefinition({self.name!r}, ops={self.op_handles})"


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
