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
from weir._model.op_definition import InputDefinition, OpDefinition
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
        asset_key: AssetKey | None,
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
    """One unit of execution: an op invocation (an asset or multi-asset, a check, or a plain op).

    ``node_def`` is the op that runs; ``assets_def`` is the definition it belongs to (an
    ``AssetsDefinition``, an ``AssetChecksDefinition``, or ``None`` for a plain op);
    ``selected_keys`` are the asset keys it materializes and ``check_specs`` the checks it
    evaluates in this run. ``hook_defs`` are the hooks attached to the node itself (job-level
    hooks are added at run time).
    """

    __slots__ = (
        "assets_def",
        "check_specs",
        "config",
        "dep_steps",
        "hook_defs",
        "inputs",
        "key",
        "kind",
        "node_def",
        "selected_keys",
    )

    def __init__(
        self,
        key: str,
        assets_def: Any,
        selected_keys: frozenset[AssetKey] = frozenset(),
        kind: str = "asset",
        *,
        node_def: OpDefinition | None = None,
        check_specs: Iterable[Any] | None = None,
        hook_defs: Iterable[Any] | None = None,
    ) -> None:
        self.key = key
        self.assets_def = assets_def
        self.node_def: OpDefinition = node_def if node_def is not None else assets_def.node_def
        self.selected_keys = selected_keys
        if check_specs is not None:
            self.check_specs: tuple[Any, ...] = tuple(check_specs)
        else:
            self.check_specs = tuple(assets_def.check_specs) if assets_def is not None else ()
        if hook_defs is not None:
            self.hook_defs: frozenset[Any] = frozenset(hook_defs)
        else:
            self.hook_defs = getattr(assets_def, "hook_defs", None) or frozenset()
        self.inputs: list[StepInput] = []
        self.dep_steps: set[str] = set()
        self.config: Any = None
        self.kind = kind

    @property
    def retry_policy(self) -> Any:
        return self.node_def.retry_policy

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


def _topo_steps(steps: dict[str, Step], order: Mapping[str, tuple[int, int]]) -> list[Step]:
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
            "depend on each other's outputs (split one of them or set can_subset=True), or when a blocking "
            "check reads an asset that is downstream of the asset it checks (make it non-blocking or drop "
            "that input)."
        )
        raise DefinitionError(msg)
    return result


def _unknown_check(resolved: ResolvedAssets, key: AssetCheckKey) -> DefinitionError:
    known = sorted(k.to_user_string() for k in resolved.graph.asset_check_keys)
    msg = (
        f"Cannot execute asset check {key.to_user_string()!r}: no asset or @asset_check definition declares "
        f"it. Known checks: {known}."
    )
    return DefinitionError(msg)


def build_plan(
    resolved: ResolvedAssets,
    asset_keys: Iterable[AssetKey],
    *,
    run_config: Mapping[str, Any] | None = None,
    check_keys: Iterable[AssetCheckKey] | None = None,
) -> ExecutionPlan:
    """Steps for ``asset_keys`` and ``check_keys`` in a deterministic topological order, with inputs wired.

    ``check_keys=None`` selects the checks of the selected assets (as selecting assets does).
    Checks declared on an asset (``check_specs=``) run in the asset's step; separate checks get a
    step each, after the asset they check. A blocking check's step is put between its asset and
    the assets downstream of it, so its failure stops them.
    """
    graph = resolved.graph
    asset_keys = list(asset_keys)
    # id(definition) -> (definition, selected asset keys, selected check keys)
    groups: dict[int, tuple[AssetsDefinition, set[AssetKey], set[AssetCheckKey]]] = {}
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
        group = groups.get(id(ad))
        if group is None:
            group = groups[id(ad)] = (ad, set(), set())
        group[1].add(key)
    if check_keys is None:
        check_keys = graph.check_keys_for(asset_keys) if graph.asset_check_keys else ()
    check_groups: dict[int, tuple[Any, set[AssetCheckKey]]] = {}
    for ck in check_keys:
        cd = resolved.check_def_by_key.get(ck)
        if cd is not None:
            check_groups.setdefault(id(cd), (cd, set()))[1].add(ck)
            continue
        owner = resolved.assets_def_by_key.get(ck.asset_key)
        if owner is None or ck not in owner.check_keys:
            raise _unknown_check(resolved, ck)
        groups.setdefault(id(owner), (owner, set(), set()))[2].add(ck)
    steps: dict[str, Step] = {}
    producer: dict[AssetKey, tuple[str, str]] = {}
    for ad, keys, checks in groups.values():
        if not ad.can_subset:
            keys = set(ad.keys)  # a non-subsettable multi-asset always runs whole, with its checks
            checks = set(ad.check_keys)
        name = ad.node_def.name
        if name in steps:
            msg = (
                f"Two asset definitions share the op name {name!r}; give one of them another name."
            )
            raise DefinitionError(msg)
        selected = frozenset(keys)
        if selected == ad.keys and frozenset(checks) == ad.check_keys:
            sub = ad
        else:
            sub = ad.subset_for(selected, checks)
        steps[name] = Step(name, sub, selected)
        for out_name, key in ad.keys_by_output_name.items():
            if key in keys:
                producer[key] = (name, out_name)
    check_steps: list[Step] = []
    for cd, checks in check_groups.values():
        if checks != set(cd.all_check_keys):
            if not cd.can_subset:
                msg = (
                    f"{cd.name!r} evaluates the checks {sorted(k.to_user_string() for k in cd.all_check_keys)} in "
                    f"one step and cannot run only {sorted(k.to_user_string() for k in checks)}; select all of "
                    "them, or pass can_subset=True to @multi_asset_check and yield only "
                    "context.selected_asset_check_keys."
                )
                raise DefinitionError(msg)
            cd = cd.subset_for(checks)
        name = cd.node_def.name
        if name in steps:
            msg = (
                f"The asset check step {name!r} has the same name as another step; give the check (or the "
                "asset) another name."
            )
            raise DefinitionError(msg)
        step = Step(name, cd, frozenset(), "check")
        steps[name] = step
        check_steps.append(step)
    # wire inputs and ordering deps
    for step in steps.values():
        ad = step.assets_def
        node = step.node_def
        for input_name, key in ad.keys_by_input_name.items():
            src = producer.get(key)
            input_def = node.ins.get(input_name)
            if src is not None:
                step.dep_steps.add(src[0])
            if input_def is None:
                continue  # an ordering-only dependency
            step.inputs.append(
                StepInput(
                    input_name,
                    key,
                    input_def,
                    src[0] if src is not None else None,
                    src[1] if src is not None else None,
                    resolved.io_manager_key_for(key),
                )
            )
        if step.kind == "check":
            for key in ad.dependency_keys:
                src = producer.get(key)
                if src is not None:
                    step.dep_steps.add(src[0])
            continue
        own = ad.all_keys
        for key in step.selected_keys:
            for parent in graph.parents(key):
                if parent in own:
                    continue
                src = producer.get(parent)
                if src is not None and src[0] != step.key:
                    step.dep_steps.add(src[0])
    for step in check_steps:
        _block_downstream(step, graph, producer, steps)
    order = {k: i for i, k in enumerate(graph.toposorted_asset_keys)}
    step_order = {name: _step_order(s, order) for name, s in steps.items()}
    ordered = _topo_steps(steps, step_order)
    _resolve_step_config(ordered, run_config or {})
    resource_keys: set[str] = set()
    for step in ordered:
        resource_keys |= step.assets_def.required_resource_keys
        for inp in step.inputs:
            resource_keys.add(inp.input_def.input_manager_key or inp.io_manager_key)
        for hook in step.hook_defs:
            resource_keys |= hook.required_resource_keys
    resource_keys.discard("")
    if not resource_keys and ordered:
        resource_keys.add(DEFAULT_IO_MANAGER_KEY)
    return ExecutionPlan(ordered, frozenset(resource_keys))


def _block_downstream(
    check_step: Step,
    graph: Any,
    producer: Mapping[AssetKey, tuple[str, str]],
    steps: Mapping[str, Step],
) -> None:
    """Make the steps downstream of a blocking check's asset wait for the check."""
    for spec in check_step.check_specs:
        if not spec.blocking:
            continue
        target_src = producer.get(spec.asset_key)
        target_step = target_src[0] if target_src is not None else None
        for child in graph.children(spec.asset_key):
            src = producer.get(child)
            if src is not None and src[0] not in (target_step, check_step.key):
                steps[src[0]].dep_steps.add(check_step.key)


def _step_order(step: Step, order: Mapping[AssetKey, int]) -> tuple[int, int]:
    """Sort key among ready steps: assets by their topological position, checks right after theirs."""
    if step.kind == "check":
        positions = [order.get(k, 0) for k in step.assets_def.dependency_keys]
        return (max(positions, default=0), 1)
    if step.selected_keys:
        return (min(order.get(k, 0) for k in step.selected_keys), 0)
    positions = [order.get(spec.asset_key, 0) for spec in step.check_specs]
    return (min(positions, default=0), 0)


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
        op = step.node_def
        raw = ops_config.get(step.key) or {}
        if not isinstance(raw, Mapping) and not hasattr(raw, "model_dump"):
            errors.append(
                f"root:ops:{step.key} must be a mapping like {{'config': {{...}}}}, got {raw!r}."
            )
            continue
        op_cfg = raw.get("config") if isinstance(raw, Mapping) else raw
        info = op.fn_info
        if (info is not None and info.config_cls is not None) or op.config_schema is not None:
            # a Config parameter or a config_schema=: validated (every problem listed) and
            # defaults applied by the config layer
            from weir._config.validate import resolve_op_config

            try:
                step.config = resolve_op_config(op, op_cfg, path=f"root:ops:{step.key}:config")
            except ConfigError as exc:
                errors.extend(str(e) for e in (exc.errors or [str(exc)]))
        else:
            step.config = op_cfg
    if errors:
        from weir._config._evaluate import format_problems

        raise ConfigError(format_problems("Error in config for job", errors), errors)
