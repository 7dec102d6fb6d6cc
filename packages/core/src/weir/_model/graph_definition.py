"""``@graph``, ``GraphDefinition``, ``GraphIn`` and ``GraphOut``: ops wired together."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from weir._model.asset_key import check_valid_name
from weir._model.composition import (
    CollectedHandle,
    DynamicHandle,
    GraphInputHandle,
    InvokedNode,
    OutputHandle,
    compose,
    in_composition,
    invoke_in_composition,
)
from weir._model.op_definition import OpDefinition, PendingNodeInvocation
from weir.errors import DefinitionError, InvalidInvocationError

__all__ = ["GraphDefinition", "GraphIn", "GraphOut", "graph"]


class GraphIn:
    """Describes an input of a graph (a parameter of its composition function)."""

    def __init__(self, description: str | None = None) -> None:
        self.description = description


class GraphOut:
    """Describes an output of a graph."""

    def __init__(self, description: str | None = None) -> None:
        self.description = description


class GraphDefinition:
    """Ops and sub-graphs connected by their inputs and outputs. Nothing in it computes by itself."""

    def __init__(
        self,
        *,
        name: str,
        nodes: Mapping[str, InvokedNode],
        input_names: list[str],
        output_mappings: Mapping[str, OutputHandle],
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        config: Any = None,
        ins: Mapping[str, GraphIn] | None = None,
        outs: Mapping[str, GraphOut] | None = None,
    ) -> None:
        self.name = name
        self.nodes = dict(nodes)
        self._input_names = list(input_names)
        self.output_mappings = dict(output_mappings)
        self.description = description
        self.tags = dict(tags or {})
        self.config_mapping = config
        self.ins = dict(ins or {})
        self.outs = dict(outs or {})
        self._validate()

    def _validate(self) -> None:
        for node in self.nodes.values():
            for input_name, binding in node.inputs.items():
                handles = binding if isinstance(binding, list) else [binding]
                for h in handles:
                    if isinstance(h, OutputHandle) and h.node_name not in self.nodes:
                        msg = f"Graph {self.name!r}: input {input_name!r} of {node.name!r} refers to unknown node {h.node_name!r}."
                        raise DefinitionError(msg)
                    if isinstance(h, GraphInputHandle) and h.name not in self._input_names:
                        msg = f"Graph {self.name!r}: input {h.name!r} is not an input of the graph."
                        raise DefinitionError(msg)

    # -- composition protocol -----------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        return list(self._input_names)

    @property
    def output_names(self) -> list[str]:
        return list(self.output_mappings)

    @property
    def dynamic_output_names(self) -> list[str]:
        return [n for n, h in self.output_mappings.items() if isinstance(h, DynamicHandle)]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if in_composition():
            return invoke_in_composition(self, args, kwargs)
        msg = f"Graph {self.name!r} cannot be invoked directly; build a job with .to_job() or call .execute_in_process()."
        raise InvalidInvocationError(msg)

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, alias=name)

    def tag(self, tags: Mapping[str, Any]) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, tags=tags)

    def with_hooks(self, hook_defs: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, hook_defs=hook_defs)

    # -- inspection ------------------------------------------------------------------------------
    @property
    def node_defs(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for node in self.nodes.values():
            seen.setdefault(id(node.definition), node.definition)
        return list(seen.values())

    def iterate_op_defs(self) -> Iterator[OpDefinition]:
        for d in self.node_defs:
            if isinstance(d, GraphDefinition):
                yield from d.iterate_op_defs()
            else:
                yield d

    @property
    def required_resource_keys(self) -> frozenset[str]:
        keys: set[str] = set()
        for op_def in self.iterate_op_defs():
            keys |= op_def.required_resource_keys
            keys |= {o.io_manager_key for o in op_def.outs.values()}
            keys |= {i.input_manager_key for i in op_def.ins.values() if i.input_manager_key}
        return frozenset(keys)

    # -- jobs ------------------------------------------------------------------------------------
    def to_job(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        logger_defs: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        hooks: Any = None,
        op_retry_policy: Any = None,
        partitions_def: Any = None,
        input_values: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        owners: Any = None,
        **_ignored: Any,
    ) -> Any:
        """A job that runs this graph with the given resources, config, executor and tags."""
        from weir._execution.op_job import OpJobDefinition

        return OpJobDefinition(
            name=name or self.name,
            graph_def=self,
            description=description or self.description,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            run_tags=run_tags,
            metadata=metadata,
            executor_def=executor_def,
            hooks=hooks,
            op_retry_policy=op_retry_policy,
            partitions_def=partitions_def,
            input_values=input_values,
        )

    def execute_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        op_selection: Any = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
    ) -> Any:
        job = self.to_job(resource_defs=resources, input_values=input_values)
        return job.execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            run_id=run_id,
        )

    def __repr__(self) -> str:
        return f"GraphDefinition({self.name!r}, nodes={list(self.nodes)})"


def _output_mappings(
    graph_name: str, returned: Any, out: Mapping[str, GraphOut] | None
) -> dict[str, OutputHandle]:
    if returned is None:
        return {}
    if isinstance(returned, CollectedHandle):
        msg = f"Graph {graph_name!r} returns a .collect() result; pass it to an op and return that op's output."
        raise DefinitionError(msg)
    if isinstance(returned, OutputHandle):
        names = list(out) if out else ["result"]
        if len(names) != 1:
            msg = f"Graph {graph_name!r} declares outputs {names} but returns a single value; return a dict {{name: output}}."
            raise DefinitionError(msg)
        return {names[0]: returned}
    if isinstance(returned, Mapping):
        for key, value in returned.items():
            if not isinstance(value, OutputHandle):
                msg = f"Graph {graph_name!r} returns {value!r} for output {key!r}; return outputs of ops."
                raise DefinitionError(msg)
        if out and set(returned) != set(out):
            msg = f"Graph {graph_name!r} declares outputs {sorted(out)} but returns {sorted(returned)}."
            raise DefinitionError(msg)
        return dict(returned)
    if isinstance(returned, tuple):
        if hasattr(returned, "_fields") and not out:
            return dict(zip(returned._fields, returned, strict=True))
        if out and len(out) == len(returned):
            return dict(zip(out, returned, strict=True))
        msg = f"Graph {graph_name!r} returns a tuple of {len(returned)}; declare out={{...}} with that many GraphOut."
        raise DefinitionError(msg)
    msg = f"Graph {graph_name!r} returns {returned!r} (a {type(returned).__name__}); return op outputs (handles), a dict of them, or None."
    raise DefinitionError(msg)


def graph(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input_defs: Any = None,
    output_defs: Any = None,
    ins: Mapping[str, GraphIn] | None = None,
    out: GraphOut | Mapping[str, GraphOut] | None = None,
    tags: Mapping[str, Any] | None = None,
    config: Any = None,
) -> Any:
    """Compose ops (and graphs) into a graph: the body wires calls together; nothing computes in it."""

    def inner(fn: Callable[..., Any]) -> GraphDefinition:
        graph_name = check_valid_name(name or fn.__name__, "Graph name")
        params = [p for p in inspect.signature(fn).parameters]
        unknown = set(ins or {}) - set(params)
        if unknown:
            msg = f"@graph {graph_name!r}: ins= names {sorted(unknown)}, which are not parameters of the function."
            raise DefinitionError(msg)
        nodes, returned = compose(graph_name, fn, params)
        outs = {"result": out} if isinstance(out, GraphOut) else dict(out or {})
        return GraphDefinition(
            name=graph_name,
            nodes=nodes,
            input_names=params,
            output_mappings=_output_mappings(graph_name, returned, outs or None),
            description=description or (inspect.cleandoc(fn.__doc__) if fn.__doc__ else None),
            tags=tags,
            config=config,
            ins=ins,
            outs=outs,
        )

    if compose_fn is not None:
        return inner(compose_fn)
    return inner
