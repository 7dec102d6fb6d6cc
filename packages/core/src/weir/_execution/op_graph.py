"""Flattening a graph of ops (and nested graphs) into executable op nodes with dotted handles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._model.composition import (
    CollectedHandle,
    GraphInputHandle,
    MappedItemHandle,
    OutputHandle,
)
from weir._model.graph_definition import GraphDefinition
from weir._model.op_definition import OpDefinition
from weir.errors import DefinitionError

__all__ = ["InputSource", "OpNode", "flatten_graph"]


class InputSource:
    """Where an op input gets its value from.

    kind: ``output`` (an upstream op output), ``fan_in`` (a list of outputs), ``mapped`` (one value of a
    dynamic output), ``collect`` (every value of a dynamic output), ``graph_input`` (an input of the
    top-level graph, from ``input_values``), ``config`` (run config ``ops.<handle>.inputs`` or a default).
    """

    __slots__ = ("kind", "name", "sources")

    def __init__(
        self, kind: str, sources: list[tuple[str, str]] | None = None, name: str | None = None
    ) -> None:
        self.kind = kind
        self.sources = sources or []
        self.name = name

    def __repr__(self) -> str:
        return f"InputSource({self.kind}, {self.sources or self.name})"


class OpNode:
    """One op invocation in a flattened graph."""

    __slots__ = ("handle", "hook_defs", "inputs", "is_mapped", "op_def", "retry_policy", "tags")

    def __init__(
        self,
        handle: str,
        op_def: OpDefinition,
        inputs: dict[str, InputSource],
        tags: Mapping[str, Any],
        hook_defs: frozenset[Any],
        retry_policy: Any,
        is_mapped: bool,
    ) -> None:
        self.handle = handle
        self.op_def = op_def
        self.inputs = inputs
        self.tags = dict(tags)
        self.hook_defs = hook_defs
        self.retry_policy = retry_policy
        self.is_mapped = is_mapped

    @property
    def upstream_handles(self) -> set[str]:
        return {h for src in self.inputs.values() for h, _ in src.sources}

    def __repr__(self) -> str:
        return f"OpNode({self.handle!r})"


def flatten_graph(
    graph_def: GraphDefinition, prefix: str = ""
) -> tuple[list[OpNode], dict[str, tuple[str, str]]]:
    """Every op of ``graph_def`` (recursively), in composition order, plus the graph's output map
    (graph output name -> (op handle, output name)). ``prefix`` goes in front of every handle."""
    nodes: list[OpNode] = []
    outputs = _flatten(graph_def, prefix, {}, nodes, inherited_mapped=False)
    return nodes, outputs


def _resolve_output(
    graph_def: GraphDefinition,
    prefix: str,
    node_name: str,
    output_name: str,
    resolved_outputs: dict[str, dict[str, tuple[str, str]]],
) -> tuple[str, str]:
    mapping = resolved_outputs.get(node_name)
    if mapping is not None:  # a nested graph: follow its output mapping to the op inside
        if output_name not in mapping:
            msg = f"Graph {node_name!r} has no output {output_name!r}."
            raise DefinitionError(msg)
        return mapping[output_name]
    return (f"{prefix}{node_name}", output_name)


def _flatten(
    graph_def: GraphDefinition,
    prefix: str,
    graph_inputs: Mapping[str, InputSource],
    nodes: list[OpNode],
    *,
    inherited_mapped: bool,
) -> dict[str, tuple[str, str]]:
    resolved_outputs: dict[str, dict[str, tuple[str, str]]] = {}
    for node in graph_def.nodes.values():
        sources: dict[str, InputSource] = {}
        for input_name, binding in node.inputs.items():
            if isinstance(binding, GraphInputHandle):
                outer = graph_inputs.get(binding.name)
                sources[input_name] = (
                    outer if outer is not None else InputSource("graph_input", name=binding.name)
                )
            elif isinstance(binding, list):
                sources[input_name] = InputSource(
                    "fan_in",
                    [
                        _resolve_output(
                            graph_def, prefix, h.node_name, h.output_name, resolved_outputs
                        )
                        for h in binding
                    ],
                )
            elif isinstance(binding, CollectedHandle):
                sources[input_name] = InputSource(
                    "collect",
                    [
                        _resolve_output(
                            graph_def,
                            prefix,
                            binding.node_name,
                            binding.output_name,
                            resolved_outputs,
                        )
                    ],
                )
            elif isinstance(binding, MappedItemHandle):
                sources[input_name] = InputSource(
                    "mapped",
                    [
                        _resolve_output(
                            graph_def,
                            prefix,
                            binding.node_name,
                            binding.output_name,
                            resolved_outputs,
                        )
                    ],
                )
            elif isinstance(binding, OutputHandle):
                sources[input_name] = InputSource(
                    "output",
                    [
                        _resolve_output(
                            graph_def,
                            prefix,
                            binding.node_name,
                            binding.output_name,
                            resolved_outputs,
                        )
                    ],
                )
        handle = f"{prefix}{node.name}"
        if isinstance(node.definition, GraphDefinition):
            resolved_outputs[node.name] = _flatten(
                node.definition,
                handle + ".",
                sources,
                nodes,
                inherited_mapped=inherited_mapped or node.is_mapped,
            )
            continue
        op_def: OpDefinition = node.definition
        for input_name in op_def.ins:
            if input_name not in sources:
                sources[input_name] = InputSource("config", name=input_name)
        nodes.append(
            OpNode(
                handle,
                op_def,
                sources,
                node.tags,
                node.hook_defs,
                node.retry_policy,
                inherited_mapped or node.is_mapped,
            )
        )
    return {
        out_name: _resolve_output(graph_def, prefix, h.node_name, h.output_name, resolved_outputs)
        for out_name, h in graph_def.output_mappings.items()
    }
