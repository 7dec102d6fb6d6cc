"""Planning: a selection of assets (and checks) becomes an ordered list of steps.

Everything that can be checked before user code runs is checked here: unknown or external keys,
run config for every step (all problems reported at once, with their paths), step-level cycles.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any

from weir._graph.resolve import DEFAULT_IO_MANAGER_KEY, ResolvedAssets
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.assets_definition import AssetsDefinition
from weir._model.op_definition import InputDefinition
from weir.errors import ConfigError, DefinitionError

__all__ = ["ExecutionPlan", "Step", "StepInput", "build_plan"]


class StepInput:
    """Where one data input of a step comes from."""

    __slots__ = (
        "asset_key",
        "input_def",
        "io_manager_key",
        "name",
        "upstream_output",
        "upstream_step",
    )

    def __init__(
        self,
        name: str,
        asset_key: AssetKey,
        input_def: InputDefinition,
        upstream_step: str | None,
        upstream_output: str | None,
        io_manager_key: str,
    ) -> None:
        self.name = name
        self.asset_key = asset_key
        self.input_def = input_def
        self.upstream_step = upstream_step  # None: load what an earlier run stored
        self.upstream_output = upstream_output
        self.io_manager_key = io_manager_key


class Step:
    """One unit of execution: an op invocation (one asset or multi-asset, or a check)."""

    __slots__ = ("assets_def", "config", "dep_steps", "inputs", "key", "kind", "selected_keys")

    def __init__(
        self,
        key: str,
        assets_def: AssetsDefinition,
        selected_keys: frozenset[AssetKey],
        kind: str = "asset",
    ) -> None:
        self.key = key
        self.assets_def = assets_def
        self.selected_keys = selected_keys
        self.inputs: list[StepInput] = []
        self.dep_steps: set[str] = set()
        self.config: Any = None
        self.kind = kind

    def __repr__(self) -> str:
        return f"Step({self.key!r})"


class ExecutionPlan:
    def __init__(self, steps: list[Step], resource_keys: frozenset[str]) -> None:
        self.steps = steps
        self.step_by_key = {s.key: s for s in steps}
        self.resource_keys = resource_keys

    @property
    def step_keys(self) -> list[str]:
        return [s.key for s in self.steps]


def _topo_steps(steps: dict[str, Step], order: Mapping[str, int]) -> list[Step]:
    indegree = {k: len(s.dep_steps) for k, s in steps.items()}
    children: dict[str, list[str]] = {k: [] for k in steps}
    for k, s in steps.items():
        for d in s.dep_steps:
            children[d].append(k)
    ready = [(order[k], k) for k, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    result: list[Step] = []
    while ready:
        _, k = heapq.heappop(ready)
        result.append(steps[k])
        for c in children[k]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, (order[c], c))
    if len(result) != len(steps):
        stuck = sorted(k for k, n in indegree.items() if n > 0)
        msg = (
            f"The selected steps depend on each other in a cycle: {stuck}. This happens when multi-assets "
            "depend on each other's outputs; split one of them or set can_subset=True."
        )
        raise DefinitionError(msg)
    return result


def build_plan(
    resolved: ResolvedAssets,
    asset_keys: Iterable[AssetKey],
    *,
    run_config: Mapping[str, Any] | None = None,
    check_keys: Iterable[AssetCheckKey] | None = None,
) -> ExecutionPlan:
    """Steps for ``asset_keys`` in a deterministic topological order, with inputs wired."""
    graph = resolved.graph
    selected_by_def: dict[int, tuple[AssetsDefinition, set[AssetKey]]] = {}
    for key in asset_keys:
        ad = resolved.assets_def_by_key.get(key)
        if ad is None:
            msg = f"Cannot materialize {key.to_user_string()!r}: no asset definition produces it."
            raise DefinitionError(msg)
        if not ad.is_executable:
            msg = (
                f"Cannot materialize {key.to_user_string()!r}: it is an external asset (an AssetSpec or SourceAsset), "
                "which weir does not compute. Remove it from the selection; it can still be loaded as an input."
            )
            raise DefinitionError(msg)
        selected_by_def.setdefault(id(ad), (ad, set()))[1].add(key)
    steps: dict[str, Step] = {}
    producer: dict[AssetKey, tuple[str, str]] = {}
    for ad, keys in selected_by_def.values():
        if not ad.can_subset:
            keys = set(ad.keys)  # a non-subsettable multi-asset always runs whole
        name = ad.node_def.name
        if name in steps:
            msg = (
                f"Two asset definitions share the op name {name!r}; give one of them another name."
            )
            raise DefinitionError(msg)
        sub = ad.subset_for(keys) if frozenset(keys) != ad.keys else ad
        steps[name] = Step(name, sub, frozenset(keys))
        for out_name, key in ad.keys_by_output_name.items():
            if key in keys:
                producer[key] = (name, out_name)
    # wire inputs and ordering deps
    for step in steps.values():
        ad = step.assets_def
        node = ad.node_def
        own = ad.all_keys
        for input_name, key in ad.keys_by_input_name.items():
            src = producer.get(key)
            if src is not None:
                step.inputs.append(
                    StepInput(
                        input_name,
                        key,
                        node.ins[input_name],
                        src[0],
                        src[1],
                        resolved.io_manager_key_for(key),
                    )
                )
                step.dep_steps.add(src[0])
            else:
                step.inputs.append(
                    StepInput(
                        input_name,
                        key,
                        node.ins[input_name],
                        None,
                        None,
                        resolved.io_manager_key_for(key),
                    )
                )
        for key in step.selected_keys:
            for parent in graph.parents(key):
                if parent in own:
                    continue
                src = producer.get(parent)
                if src is not None and src[0] != step.key:
                    step.dep_steps.add(src[0])
    order = {k: i for i, k in enumerate(graph.toposorted_asset_keys)}
    step_order = {name: min(order.get(k, 0) for k in s.selected_keys) for name, s in steps.items()}
    ordered = _topo_steps(steps, step_order)
    _resolve_step_config(ordered, run_config or {})
    resource_keys: set[str] = set()
    for step in ordered:
        resource_keys |= step.assets_def.required_resource_keys
        for inp in step.inputs:
            resource_keys.add(inp.input_def.input_manager_key or inp.io_manager_key)
    resource_keys.discard("")
    if not resource_keys and ordered:
        resource_keys.add(DEFAULT_IO_MANAGER_KEY)
    return ExecutionPlan(ordered, frozenset(resource_keys))


def _resolve_step_config(steps: list[Step], run_config: Mapping[str, Any]) -> None:
    ops_config = run_config.get("ops") or {}
    if not isinstance(ops_config, Mapping):
        raise ConfigError(
            "Error in config: root:ops must be a mapping of op name to op config.",
            [f"root:ops is a {type(ops_config).__name__}"],
        )
    errors: list[str] = []
    step_names = {s.key for s in steps}
    for name in ops_config:
        if name not in step_names:
            errors.append(
                f'Received unexpected config entry "{name}" at path root:ops. Expected one of {sorted(step_names)}.'
            )
    for step in steps:
        op = step.assets_def.node_def
        raw = ops_config.get(step.key) or {}
        if not isinstance(raw, Mapping) and not hasattr(raw, "model_dump"):
            errors.append(
                f"root:ops:{step.key} must be a mapping like {{'config': {{...}}}}, got {raw!r}."
            )
            continue
        op_cfg = raw.get("config") if isinstance(raw, Mapping) else raw
        info = op.fn_info
        if info is not None and info.config_cls is not None:
            from weir._config.config import resolve_config_param

            try:
                step.config = resolve_config_param(
                    info.config_cls, op_cfg, path=f"root:ops:{step.key}:config"
                )
            except ConfigError as exc:
                errors.extend(str(e) for e in (exc.errors or [str(exc)]))
        else:
            step.config = op_cfg
    if errors:
        numbered = "\n".join(f"    Error {i}: {e}" for i, e in enumerate(errors, 1))
        msg = f"Error in config for job: {len(errors)} error(s).\n{numbered}"
        raise ConfigError(msg, errors)
