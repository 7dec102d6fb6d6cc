"""Graph-backed assets: ``@graph_asset``, ``@graph_multi_asset`` and ``AssetsDefinition.from_graph``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from weir._model.asset_in_out import NO_TYPE, AssetDep, AssetIn, AssetOut, coerce_dep
from weir._model.asset_key import (
    AssetKey,
    CoercibleToAssetKey,
    CoercibleToAssetKeyPrefix,
    check_valid_name,
    coerce_key_prefix,
)
from weir._model.asset_spec import AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir._model.graph_definition import GraphDefinition, GraphOut, graph
from weir._model.op_definition import InputDefinition, OutputDefinition
from weir.errors import DefinitionError

__all__ = ["GraphAssetNode", "assets_definition_from_graph", "graph_asset", "graph_multi_asset"]


class GraphAssetNode:
    """A graph seen as the computation of an asset step (the node protocol the engine reads)."""

    is_graph = True
    fn_info = None
    compute_fn = None
    retry_policy = None
    config_schema = None
    pool = None

    def __init__(
        self,
        graph_def: GraphDefinition,
        outs: Mapping[str, OutputDefinition],
        code_version: str | None = None,
    ) -> None:
        self.graph_def = graph_def
        self.name = graph_def.name
        self.description = graph_def.description
        self.tags = dict(graph_def.tags)
        self.ins = {n: InputDefinition(n) for n in graph_def.input_names}
        self.outs = dict(outs)
        self.code_version = code_version

    @property
    def required_resource_keys(self) -> frozenset[str]:
        return self.graph_def.required_resource_keys

    @property
    def input_names(self) -> list[str]:
        return list(self.ins)

    @property
    def output_names(self) -> list[str]:
        return list(self.outs)

    def __repr__(self) -> str:
        return f"GraphAssetNode({self.name!r})"


def _input_keys(
    params: list[str], ins: Mapping[str, AssetIn] | None, what: str
) -> tuple[dict[str, AssetKey], dict[str, AssetDep]]:
    ins = dict(ins or {})
    unknown = set(ins) - set(params)
    if unknown:
        msg = f"{what}: ins= names {sorted(unknown)}, which are not parameters of the function ({params})."
        raise DefinitionError(msg)
    keys = {p: ins[p].resolve_key(p) if p in ins else AssetKey([p]) for p in params}
    deps = {
        p: AssetDep(k, partition_mapping=ins[p].partition_mapping if p in ins else None)
        for p, k in keys.items()
    }
    return keys, deps


def graph_asset(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    config: Any = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    group_name: str | None = None,
    partitions_def: Any = None,
    hooks: Iterable[Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    owners: Any = None,
    kinds: Iterable[str] | None = None,
    automation_condition: Any = None,
    backfill_policy: Any = None,
    resource_defs: Mapping[str, Any] | None = None,
    check_specs: Any = None,
    code_version: str | None = None,
    key: CoercibleToAssetKey | None = None,
    deps: Iterable[Any] | None = None,
) -> Any:
    """An asset computed by a graph of ops: parameters are upstream assets, the returned op output
    is the asset's value. The ops run as steps ``<asset op name>.<op>``."""

    def inner(fn: Callable[..., Any]) -> AssetsDefinition:
        if key is not None and (name is not None or key_prefix is not None):
            raise DefinitionError(
                "Cannot specify a name or key prefix for @graph_asset when the key argument is provided."
            )
        asset_key = (
            AssetKey.from_coercible(key)
            if key is not None
            else AssetKey(
                [
                    *coerce_key_prefix(key_prefix),
                    check_valid_name(name or fn.__name__, "Asset name"),
                ]
            )
        )
        op_name = asset_key.to_python_identifier()
        what = f"@graph_asset {asset_key.to_user_string()!r}"
        graph_def: GraphDefinition = graph(name=op_name, description=description, config=config)(fn)
        params = list(inspect.signature(fn).parameters)
        keys_by_input, input_deps = _input_keys(params, ins, what)
        all_deps = list(input_deps.values()) + [coerce_dep(d) for d in deps or ()]
        node = GraphAssetNode(
            graph_def,
            {"result": OutputDefinition("result", dagster_type=NO_TYPE, code_version=code_version)},
            code_version,
        )
        if "result" not in graph_def.output_mappings:
            msg = f"{what}: the function must return the output of an op (the asset's value)."
            raise DefinitionError(msg)
        spec = AssetSpec(
            asset_key,
            deps=all_deps,
            description=description or graph_def.description,
            metadata=metadata,
            group_name=group_name,
            code_version=code_version,
            automation_condition=automation_condition,
            owners=owners,
            tags=tags,
            kinds=kinds,
            partitions_def=partitions_def,
        )
        return AssetsDefinition(
            node_def=node,  # type: ignore[arg-type]
            keys_by_input_name=keys_by_input,
            keys_by_output_name={"result": asset_key},
            specs=[spec],
            check_specs=check_specs or (),
            resource_defs=resource_defs,
            backfill_policy=backfill_policy,
            hooks=hooks,
            input_deps=input_deps,
        )

    if compose_fn is not None:
        return inner(compose_fn)
    return inner


def graph_multi_asset(
    *,
    outs: Mapping[str, AssetOut],
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    partitions_def: Any = None,
    hooks: Iterable[Any] | None = None,
    backfill_policy: Any = None,
    group_name: str | None = None,
    can_subset: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    check_specs: Any = None,
    config: Any = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Several assets computed by one graph; the function returns a dict (or tuple) of op outputs."""

    def inner(fn: Callable[..., Any]) -> AssetsDefinition:
        op_name = check_valid_name(name or fn.__name__, "graph_multi_asset name")
        what = f"@graph_multi_asset {op_name!r}"
        if not outs:
            raise DefinitionError(f"{what}: outs= is empty.")
        graph_def: GraphDefinition = graph(
            name=op_name, description=description, config=config, out={n: GraphOut() for n in outs}
        )(fn)
        params = list(inspect.signature(fn).parameters)
        keys_by_input, input_deps = _input_keys(params, ins, what)
        out_defs: dict[str, OutputDefinition] = {}
        keys_by_output: dict[str, AssetKey] = {}
        specs = []
        for out_name, out in outs.items():
            key = out.resolve_key(out_name)
            keys_by_output[out_name] = key
            out_defs[out_name] = OutputDefinition(
                out_name,
                dagster_type=out.dagster_type,
                is_required=out.is_required,
                io_manager_key=out.io_manager_key,
                metadata=out.metadata,
            )
            specs.append(
                AssetSpec(
                    key,
                    deps=list(input_deps.values()),
                    description=out.description,
                    metadata=out.metadata,
                    group_name=out.group_name or group_name,
                    code_version=out.code_version,
                    owners=out.owners,
                    tags=out.tags,
                    kinds=out.kinds,
                    partitions_def=partitions_def,
                    skippable=not out.is_required,
                )
            )
        return AssetsDefinition(
            node_def=GraphAssetNode(graph_def, out_defs),  # type: ignore[arg-type]
            keys_by_input_name=keys_by_input,
            keys_by_output_name=keys_by_output,
            specs=specs,
            can_subset=can_subset,
            check_specs=check_specs or (),
            resource_defs=resource_defs,
            backfill_policy=backfill_policy,
            hooks=hooks,
            input_deps=input_deps,
        )

    return inner


def assets_definition_from_graph(
    graph_def: GraphDefinition,
    *,
    keys_by_input_name: Mapping[str, AssetKey] | None = None,
    keys_by_output_name: Mapping[str, AssetKey] | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    group_name: str | None = None,
    partitions_def: Any = None,
    resource_defs: Mapping[str, Any] | None = None,
    can_subset: bool = False,
    check_specs: Any = None,
    **_ignored: Any,
) -> AssetsDefinition:
    """``AssetsDefinition.from_graph``: graph inputs load assets, graph outputs are assets."""
    if not isinstance(graph_def, GraphDefinition):
        msg = (
            f"AssetsDefinition.from_graph takes a GraphDefinition (from @graph), got {graph_def!r}."
        )
        raise DefinitionError(msg)
    if not graph_def.output_mappings:
        msg = f"from_graph({graph_def.name!r}): the graph has no outputs, so it cannot produce assets."
        raise DefinitionError(msg)
    prefix = coerce_key_prefix(key_prefix)
    in_keys = {n: AssetKey.from_coercible(k) for n, k in (keys_by_input_name or {}).items()}
    out_keys = {n: AssetKey.from_coercible(k) for n, k in (keys_by_output_name or {}).items()}
    for n in graph_def.input_names:
        in_keys.setdefault(n, AssetKey([*prefix, n]))
    for n in graph_def.output_mappings:
        out_keys.setdefault(n, AssetKey([*prefix, n]))
    input_deps = {n: AssetDep(k) for n, k in in_keys.items()}
    specs = [
        AssetSpec(
            k, deps=list(input_deps.values()), group_name=group_name, partitions_def=partitions_def
        )
        for k in out_keys.values()
    ]
    outs = {n: OutputDefinition(n) for n in graph_def.output_mappings}
    return AssetsDefinition(
        node_def=GraphAssetNode(graph_def, outs),  # type: ignore[arg-type]
        keys_by_input_name=in_keys,
        keys_by_output_name=out_keys,
        specs=specs,
        can_subset=can_subset,
        check_specs=check_specs or (),
        resource_defs=resource_defs,
        input_deps=input_deps,
    )
