"""Turn user definitions (assets, specs, source assets, checks) into a validated asset graph.

Validation reports: duplicate keys (naming both definitions), data inputs no asset produces (with a
did-you-mean), dependency cycles (named edge by edge, by ``AssetGraph``) and a resource nobody
provides. Unprefixed inputs resolve against the downstream asset's key prefix, as in Dagster.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._graph.asset_graph import AssetGraph, AssetNode, did_you_mean, new_asset_node
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.asset_spec import AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir._model.source_asset import SourceAsset
from weir.errors import DefinitionError, DuplicateKeyError

__all__ = [
    "ResolvedAssets",
    "check_resource_dependencies",
    "describe_definition",
    "resolve_assets",
]

DEFAULT_IO_MANAGER_KEY = "io_manager"


def describe_definition(obj: Any) -> str:
    """A short, locatable description of a definition for error messages."""
    node = getattr(obj, "_node_def", None)
    fn = getattr(node, "compute_fn", None)
    if fn is not None:
        code = getattr(fn, "__code__", None)
        where = f" at {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
        return f"{fn.__module__}.{fn.__qualname__}{where}"
    return repr(obj)


class ResolvedAssets:
    """The validated result: definitions with resolved keys, indexes and the asset graph."""

    def __init__(
        self,
        assets_defs: Sequence[AssetsDefinition],
        check_defs: Sequence[Any],
        graph: AssetGraph,
        *,
        assets_def_by_key: dict[AssetKey, AssetsDefinition] | None = None,
    ) -> None:
        self.assets_defs = list(assets_defs)
        self.check_defs = list(check_defs)
        self.graph = graph
        if assets_def_by_key is None:
            assets_def_by_key = {}
            for ad in self.assets_defs:
                for key in ad.specs_by_key:
                    assets_def_by_key[key] = ad
        self.assets_def_by_key: dict[AssetKey, AssetsDefinition] = assets_def_by_key
        self.check_def_by_key: dict[AssetCheckKey, Any] = {}
        for cd in self.check_defs:
            for ck in cd.check_keys:
                self.check_def_by_key[ck] = cd

    def io_manager_key_for(self, key: AssetKey) -> str:
        ad = self.assets_def_by_key.get(key)
        return (
            ad.get_io_manager_key_for_asset_key(key) if ad is not None else DEFAULT_IO_MANAGER_KEY
        )


def _coerce_assets(assets: Iterable[Any]) -> tuple[list[AssetsDefinition], list[Any]]:
    """``(asset definitions, checks)``: specs and source assets become external definitions; asset
    checks passed among the assets (Dagster accepts that) are taken out and kept as checks."""
    from weir._model.asset_checks_definition import AssetChecksDefinition

    result: list[AssetsDefinition] = []
    checks: list[Any] = []
    index = -1  # position among the non-check objects, as error messages count them
    for obj in assets:
        if type(obj) is AssetsDefinition:
            result.append(obj)
            continue
        if isinstance(obj, AssetChecksDefinition):
            checks.append(obj)
            continue
        index = len(result)
        if isinstance(obj, AssetsDefinition):
            result.append(obj)
        elif isinstance(obj, AssetSpec):
            result.append(
                AssetsDefinition(
                    node_def=None, keys_by_input_name={}, keys_by_output_name={}, specs=[obj]
                )
            )
        elif isinstance(obj, SourceAsset):
            result.append(
                AssetsDefinition(
                    node_def=None,
                    keys_by_input_name={},
                    keys_by_output_name={},
                    specs=[obj.to_asset_spec()],
                    resource_defs=obj.resource_defs,
                )
            )
        else:
            hint = ""
            if callable(obj):
                hint = " Did you forget to decorate it with @asset?"
            msg = (
                f"assets[{index}] is {obj!r} (a {type(obj).__name__}); expected an AssetsDefinition (from @asset / "
                f"@multi_asset), an AssetSpec or a SourceAsset.{hint}"
            )
            raise DefinitionError(msg)
    return result, checks


def _did_you_mean(key: AssetKey, candidates: Iterable[AssetKey]) -> list[str]:
    cands = {c.to_user_string(): c for c in candidates}
    wanted = key.to_user_string()
    close = difflib.get_close_matches(wanted, list(cands), n=5, cutoff=0.6)
    last = key.parts[-1]
    same_name = [s for s, c in cands.items() if c.parts[-1] == last and s not in close]
    return sorted(set(close + same_name))


def _resolve_key(
    key: AssetKey, prefixes: Sequence[tuple[str, ...]], all_keys: Mapping[AssetKey, Any]
) -> AssetKey:
    if key in all_keys:
        return key
    for prefix in prefixes:
        if prefix:
            candidate = AssetKey([*prefix, *key.parts])
            if candidate in all_keys:
                return candidate
    return key


def _validate_checks(
    check_defs: Sequence[Any],
    assets_defs: Sequence[AssetsDefinition],
    owner: Mapping[AssetKey, Any],
) -> list[Any]:
    """Every check is a check definition with a unique key whose target and inputs are defined."""
    if not check_defs:
        return []
    from weir._model.asset_checks_definition import AssetChecksDefinition

    seen: dict[AssetCheckKey, Any] = {}
    for ad in assets_defs:
        for ck in ad.check_keys:
            seen[ck] = ad
    result: list[Any] = []
    for index, cd in enumerate(check_defs):
        if not isinstance(cd, AssetChecksDefinition):
            hint = " Did you forget to decorate it with @asset_check?" if callable(cd) else ""
            msg = (
                f"asset_checks[{index}] is {cd!r} (a {type(cd).__name__}); expected a definition made by "
                f"@asset_check or @multi_asset_check.{hint}"
            )
            raise DefinitionError(msg)
        for spec in cd.check_specs:
            other = seen.get(spec.key)
            if other is not None and other is not cd:
                msg = (
                    f"Duplicate asset check key: {spec.key.to_user_string()!r} is defined by "
                    f"{describe_definition(other)} and by {describe_definition(cd)}. Give one of the checks "
                    "another name."
                )
                raise DuplicateKeyError(msg)
            seen[spec.key] = cd
            wanted = [("targets asset", spec.asset_key)]
            wanted += [("lists in additional_deps the asset", k) for k in spec.additional_dep_keys]
            for role, key in wanted:
                if key not in owner:
                    msg = (
                        f"Asset check {spec.key.to_user_string()!r} ({describe_definition(cd)}) {role} "
                        f"{key.to_user_string()!r}, which is not in these Definitions.{did_you_mean(key, owner)} "
                        f"Pass the asset in Definitions(assets=...) (or declare it external with "
                        f"AssetSpec({key.to_user_string()!r})), or fix the check's asset=."
                    )
                    raise DefinitionError(msg)
        for input_name, key in cd.keys_by_input_name.items():
            if key not in owner:
                msg = (
                    f"Input {input_name!r} of asset check {cd.name!r} ({describe_definition(cd)}) is the asset "
                    f"{key.to_user_string()!r}, which is not in these Definitions.{did_you_mean(key, owner)} "
                    "Add the asset, or fix additional_ins / ins."
                )
                raise DefinitionError(msg)
        result.append(cd)
    return result


def _missing_resource(msg: str) -> Exception:
    """Both a ``ResourceError`` and a ``DagsterInvalidDefinitionError``, as Dagster users catch either."""
    from weir._config.resources import MissingResourceError

    return MissingResourceError(msg)


def check_resource_dependencies(resources: Mapping[str, Any]) -> None:
    """Raise when a resource (an ``@io_manager(required_resource_keys=...)``, say) needs a
    resource key that ``resources`` does not provide."""
    provided = {*resources, DEFAULT_IO_MANAGER_KEY}
    for key, value in resources.items():
        required = getattr(value, "required_resource_keys", None)
        if not required or not isinstance(required, (set, frozenset, list, tuple)):
            continue
        missing = sorted(set(required) - provided)
        if missing:
            close = difflib.get_close_matches(missing[0], sorted(provided), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (
                f"resource with key {missing[0]!r} required by resource with key {key!r} was not "
                f"provided. Provide a resource under {missing[0]!r} in Definitions(resources=...); "
                f"the provided keys are {sorted(provided)}.{hint}"
            )
            raise _missing_resource(msg)


def _resolve_def_keys(
    ad: AssetsDefinition, owner: Mapping[AssetKey, AssetsDefinition]
) -> AssetsDefinition:
    """``ad`` with its unprefixed input/dep keys resolved against its own key prefix, where the key
    as written is not defined but the prefixed one is (as Dagster does)."""
    unresolved = [k for spec in ad.specs_by_key.values() for k in spec._dep_keys if k not in owner]
    unresolved += [k for k in ad.keys_by_input_name.values() if k not in owner]
    if not unresolved:
        return ad
    own_keys = ad.all_keys
    prefixes = list(dict.fromkeys(k.parts[:-1] for k in own_keys))
    replacements: dict[AssetKey, AssetKey] = {}
    for key in unresolved:
        new = _resolve_key(key, prefixes, owner)
        if new != key and key not in own_keys:
            replacements[key] = new
    return ad.with_resolved_keys(replacements) if replacements else ad


def _raise_unproduced_input(
    resolved_defs: Sequence[AssetsDefinition], owner: Mapping[AssetKey, AssetsDefinition]
) -> None:
    """Raise for the first data input that no asset produces (with a did-you-mean)."""
    for ad in resolved_defs:
        for input_name, key in ad.keys_by_input_name.items():
            if key not in owner:
                suggestions = _did_you_mean(key, owner)
                hint = f" Did you mean one of the following? {suggestions}" if suggestions else ""
                msg = (
                    f'Input asset "{key.to_user_string()}" (parameter {input_name!r} of {describe_definition(ad)}) '
                    f"is not produced by any of the provided assets and is not one of the provided sources "
                    f"(AssetSpec / SourceAsset).{hint} Add the upstream asset, or name it with ins={{'{input_name}': "
                    f"AssetIn(key=...)}}."
                )
                raise DefinitionError(msg)


def _raise_missing_resources(
    resolved_defs: Sequence[AssetsDefinition], check_defs: Sequence[Any], provided: set[str]
) -> None:
    """Raise for the first asset (then check) that needs a resource nobody provides."""
    for ad in resolved_defs:
        if not ad.is_executable:
            continue
        needed = ad.required_resource_keys - provided
        if not needed:
            continue
        available = provided | set(ad.resource_defs)
        missing = sorted(needed - available)
        if missing:
            res_key = missing[0]
            msg = (
                f"resource with key {res_key!r} required by op {ad.node_def.name!r} was not provided. Please provide "
                f"a resource to key {res_key!r} in Definitions(resources=...) (or materialize(resources=...)), or "
                f"change the required key to one of the following keys which points to a resource: "
                f"{sorted(available)}"
            )
            close = difflib.get_close_matches(res_key, sorted(available), n=1)
            if close:
                msg += f". Did you mean {close[0]!r}?"
            raise _missing_resource(msg)
    for cd in check_defs:
        required = set(getattr(cd, "required_resource_keys", ()))
        missing = sorted(required - provided - set(getattr(cd, "resource_defs", {}) or {}))
        if missing:
            msg = f"resource with key {missing[0]!r} required by asset check {getattr(cd, 'name', cd)!r} was not provided."
            raise _missing_resource(msg)


def resolve_assets(
    assets: Iterable[Any],
    asset_checks: Iterable[Any] = (),
    *,
    resource_keys: Iterable[str] | None = None,
    default_resource_keys: Iterable[str] = (DEFAULT_IO_MANAGER_KEY,),
) -> ResolvedAssets:
    """Validate and index ``assets`` (and checks). ``resource_keys``: the keys provided at top level;
    ``None`` skips the missing-resource check (e.g. when resources come at launch time).

    Problems are reported in this order: an invalid object, a duplicate asset key, a data input no
    asset produces, a bad check, a missing resource. One pass over the definitions resolves keys,
    builds the graph nodes and notes whether a later check can fail; the passes that find and
    report the problem run only then.
    """
    defs, checks_in_assets = _coerce_assets(assets)
    # 1. duplicate keys, naming both definitions
    owner: dict[AssetKey, AssetsDefinition] = {}
    for ad in defs:
        for key in ad.specs_by_key:
            other = owner.setdefault(key, ad)
            if other is not ad:
                msg = (
                    f"Duplicate asset key: {key!r} is defined twice: by {describe_definition(other)} and by "
                    f"{describe_definition(ad)}. Give one of them another name or key_prefix."
                )
                raise DuplicateKeyError(msg)
    provided: set[str] | None = (
        None if resource_keys is None else {*resource_keys, *default_resource_keys}
    )
    # 2. one pass: resolve unprefixed input/dep keys against the downstream key prefix (only
    #    definitions with a key that is not defined as written need any work), build the graph
    #    nodes (undefined non-data deps become external stubs) and note later problems
    defined = owner.keys()
    is_defined = owner.__contains__
    resolved_defs: list[AssetsDefinition] = []
    assets_def_by_key: dict[AssetKey, AssetsDefinition] = {}
    nodes: list[AssetNode] = []
    stubs: dict[AssetKey, AssetNode] = {}
    checks_by_asset: dict[AssetKey, set[AssetCheckKey]] = {}
    inputs_missing = resources_missing = False
    # The loop reads AssetsDefinition/AssetSpec internals directly: it runs for every asset on
    # every load, and the public properties would double its cost.
    for ad in defs:
        specs = ad._specs_by_key
        input_keys = ad._keys_by_input_name
        if (input_keys and not all(map(is_defined, input_keys.values()))) or not (
            all(defined >= spec._parent_key_set() for spec in specs.values())
            if len(specs) != 1
            else defined >= next(iter(specs.values()))._parent_key_set()
        ):
            ad = _resolve_def_keys(ad, owner)
            specs = ad._specs_by_key
            input_keys = ad._keys_by_input_name
            if input_keys and not all(map(is_defined, input_keys.values())):
                inputs_missing = True
        resolved_defs.append(ad)
        external = ad._node_def is None
        if (
            provided is not None
            and not external
            and not provided.issuperset(ad.required_resource_keys)
        ):
            resources_missing = True
        materializable = ad._execution_type == "MATERIALIZATION"
        node_name = None if external else ad.node_name
        for key, spec in specs.items():
            assets_def_by_key[key] = ad
            parents = spec._parent_key_set()
            if not defined >= parents:
                for parent in parents:
                    if parent not in owner and parent not in stubs:
                        stubs[parent] = AssetNode(
                            parent,
                            AssetSpec(parent),
                            frozenset(),
                            is_materializable=False,
                            is_external=True,
                        )
            nodes.append(
                new_asset_node(key, spec, parents, materializable, external, node_name, ad)
            )
        if ad._check_specs:
            for ck in ad.check_keys:
                checks_by_asset.setdefault(ck.asset_key, set()).add(ck)
    # 3. data inputs must be produced by something
    if inputs_missing:
        _raise_unproduced_input(resolved_defs, owner)
    # 4. checks: valid definitions, unique keys, targets and inputs that exist
    check_defs = _validate_checks([*checks_in_assets, *asset_checks], resolved_defs, owner)
    # 5. resources
    if provided is not None and (resources_missing or check_defs):
        _raise_missing_resources(resolved_defs, check_defs, provided)
    # 6. the graph, with checks hung on their assets
    for cd in check_defs:
        for ck in cd.check_keys:
            checks_by_asset.setdefault(ck.asset_key, set()).add(ck)
    if checks_by_asset:
        for node in nodes:
            checks = checks_by_asset.get(node.key)
            if checks:
                node.check_keys = frozenset(checks)
    nodes.extend(stubs.values())
    graph = AssetGraph(nodes)
    return ResolvedAssets(resolved_defs, check_defs, graph, assets_def_by_key=assets_def_by_key)
