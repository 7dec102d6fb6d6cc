"""Composition: what happens when ops and graphs are called inside a ``@graph`` / ``@job`` body.

Inside a composition function nothing computes: each call records a node invocation and returns
handles to its outputs, which later calls take as inputs. The recorded nodes and edges become a
``GraphDefinition``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir.errors import DefinitionError

__all__ = [
    "CollectedHandle",
    "DynamicHandle",
    "GraphInputHandle",
    "InvokedNode",
    "OutputHandle",
    "compose",
    "in_composition",
    "invoke_in_composition",
]


class OutputHandle:
    """The output ``output_name`` of the invoked node ``node_name``."""

    __slots__ = ("node_name", "output_name")

    def __init__(self, node_name: str, output_name: str) -> None:
        self.node_name = node_name
        self.output_name = output_name

    def __repr__(self) -> str:
        return f"OutputHandle({self.node_name}.{self.output_name})"

    def __iter__(self) -> Any:
        msg = (
            f"Output {self.output_name!r} of {self.node_name!r} is a single value while composing a graph; "
            "an op with several outputs must declare them with out={...}."
        )
        raise DefinitionError(msg)


class DynamicHandle(OutputHandle):
    """A dynamic output (``DynamicOut``) or the result of mapping over one."""

    __slots__ = ()

    def map(self, fn: Callable[[Any], Any]) -> DynamicHandle:
        """Run ``fn``'s ops once per dynamic value; returns the dynamic result of ``fn``."""
        state = _current()
        state.mapping_stack.append(self)
        try:
            result = fn(MappedItemHandle(self.node_name, self.output_name))
        finally:
            state.mapping_stack.pop()
        if not isinstance(result, OutputHandle):
            msg = (
                "The function passed to .map() must return the output of an op (a handle), got "
                + type(result).__name__
            )
            raise DefinitionError(msg)
        return DynamicHandle(result.node_name, result.output_name)

    def collect(self) -> CollectedHandle:
        """Fan in: downstream receives a list of every mapped value."""
        return CollectedHandle(self.node_name, self.output_name)


class MappedItemHandle(OutputHandle):
    """One value of a dynamic output, as seen inside ``.map(fn)``."""

    __slots__ = ()


class CollectedHandle(OutputHandle):
    """Every value of a dynamic output, as a list (``.collect()``)."""

    __slots__ = ()


class GraphInputHandle:
    """An input of the graph being composed (a parameter of the composition function)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"GraphInputHandle({self.name})"


class InvokedNode:
    """One invocation of an op or graph inside a composition."""

    __slots__ = ("definition", "hook_defs", "inputs", "is_mapped", "name", "retry_policy", "tags")

    def __init__(
        self,
        name: str,
        definition: Any,
        inputs: dict[str, Any],
        *,
        tags: Mapping[str, Any] | None,
        hook_defs: Any,
        retry_policy: Any,
        is_mapped: bool,
    ) -> None:
        self.name = name
        self.definition = definition
        self.inputs = inputs  # input name -> handle | list of handles (fan-in) | GraphInputHandle
        self.tags = dict(tags or {})
        self.hook_defs = frozenset(hook_defs or ())
        self.retry_policy = retry_policy
        self.is_mapped = is_mapped

    def __repr__(self) -> str:
        return f"InvokedNode({self.name!r}, {self.definition!r})"


class _CompositionState:
    def __init__(self, graph_name: str) -> None:
        self.graph_name = graph_name
        self.nodes: dict[str, InvokedNode] = {}
        self.counts: dict[str, int] = {}
        self.mapping_stack: list[DynamicHandle] = []


_STACK: list[_CompositionState] = []


def in_composition() -> bool:
    return bool(_STACK)


def _current() -> _CompositionState:
    if not _STACK:
        raise DefinitionError("This operation is only valid inside a @graph or @job body.")
    return _STACK[-1]


def _unique_name(state: _CompositionState, base: str) -> str:
    count = state.counts.get(base, 0) + 1
    state.counts[base] = count
    name = base if count == 1 else f"{base}_{count}"
    while name in state.nodes:
        count += 1
        state.counts[base] = count
        name = f"{base}_{count}"
    return name


def _check_binding(node_desc: str, input_name: str, value: Any) -> Any:
    if isinstance(value, (OutputHandle, GraphInputHandle)):
        return value
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, OutputHandle) for v in value)
    ):
        return list(value)  # fan-in
    msg = (
        f"In a graph body, input {input_name!r} of {node_desc} was given {value!r} (a {type(value).__name__}); "
        "inside @graph/@job you can only pass outputs of other ops or graph inputs. Values belong in run config "
        "or in input_values= of the job."
    )
    raise DefinitionError(msg)


def invoke_in_composition(
    definition: Any,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    alias: str | None = None,
    tags: Mapping[str, Any] | None = None,
    hook_defs: Any = None,
    retry_policy: Any = None,
) -> Any:
    """Record a call of ``definition`` (an op or graph) and return handles to its outputs."""
    state = _current()
    input_names = list(definition.input_names)
    desc = f"{type(definition).__name__.replace('Definition', '').lower()} {definition.name!r}"
    if len(args) > len(input_names):
        msg = f"{desc} takes {len(input_names)} input(s) {input_names} but got {len(args)} positional argument(s) in the graph body."
        raise DefinitionError(msg)
    bindings: dict[str, Any] = {}
    for name, value in zip(input_names, args, strict=False):
        bindings[name] = _check_binding(desc, name, value)
    for name, value in kwargs.items():
        if name not in input_names:
            msg = f"{desc} has no input {name!r}; its inputs are {input_names}."
            raise DefinitionError(msg)
        if name in bindings:
            msg = f"{desc}: input {name!r} was given twice."
            raise DefinitionError(msg)
        bindings[name] = _check_binding(desc, name, value)
    node_name = alias or _unique_name(state, definition.name)
    if alias is not None and alias in state.nodes:
        msg = (
            f"Two nodes in graph {state.graph_name!r} are named {alias!r}; aliases must be unique."
        )
        raise DefinitionError(msg)
    is_mapped = bool(state.mapping_stack) or any(
        isinstance(v, MappedItemHandle) for v in bindings.values()
    )
    state.nodes[node_name] = InvokedNode(
        node_name,
        definition,
        bindings,
        tags=tags,
        hook_defs=hook_defs,
        retry_policy=retry_policy,
        is_mapped=is_mapped,
    )
    outputs = list(definition.output_names)
    dynamic = set(getattr(definition, "dynamic_output_names", ()))

    def handle(out_name: str) -> OutputHandle:
        if out_name in dynamic:
            return DynamicHandle(node_name, out_name)
        if is_mapped:
            return DynamicHandle(node_name, out_name)
        return OutputHandle(node_name, out_name)

    if not outputs:
        return None
    if len(outputs) == 1:
        return handle(outputs[0])
    tuple_type = namedtuple(f"{definition.name}_outputs", outputs)  # type: ignore[misc]
    return tuple_type(*(handle(o) for o in outputs))


def compose(
    graph_name: str, fn: Callable[..., Any], input_names: Sequence[str]
) -> tuple[dict[str, InvokedNode], Any]:
    """Run the composition function ``fn`` and return the invoked nodes and what it returned."""
    state = _CompositionState(graph_name)
    _STACK.append(state)
    try:
        returned = fn(**{n: GraphInputHandle(n) for n in input_names})
    finally:
        _STACK.pop()
    return state.nodes, returned
