"""``AssetChecksDefinition`` and the decorators that make it: ``@asset_check``, ``@multi_asset_check``.

A check definition is one step: ``@asset_check`` evaluates one check (step key
``<asset op name>_<check name>``), ``@multi_asset_check`` several. A parameter of the function
that names the checked asset (or is mapped with ``additional_ins`` / ``ins``) receives that
asset's value, loaded through its IO manager. The ``load_asset_checks_from_*`` functions collect
check definitions from modules.

>>> import weir as dg
>>> @dg.asset
... def orders() -> list[int]:
...     return [3, 1, 2]
>>> @dg.asset_check(asset=orders, blocking=True)
... def no_negatives(orders: list[int]) -> dg.AssetCheckResult:
...     return dg.AssetCheckResult(passed=all(x >= 0 for x in orders))
>>> no_negatives.node_def.name
'orders_no_negatives'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from weir._model.asset_checks import AssetCheckSpec, asset_key_of
from weir._model.asset_in_out import NO_TYPE, AssetDep, AssetIn, coerce_dep
from weir._model.asset_key import (
    AssetCheckKey,
    AssetKey,
    CoercibleToAssetKeyPrefix,
    check_valid_name,
)
from weir._model.compute_fn import ComputeFnInfo, analyze_compute_fn
from weir._model.op_definition import InputDefinition, OpDefinition
from weir.errors import DefinitionError

__all__ = [
    "AssetChecksDefinition",
    "asset_check",
    "load_asset_checks_from_current_module",
    "load_asset_checks_from_modules",
    "load_asset_checks_from_package_module",
    "multi_asset_check",
]


class AssetChecksDefinition:
    """One step that evaluates one check (``@asset_check``) or several (``@multi_asset_check``).

    ``keys_by_input_name`` maps every input (the checked asset and ``additional_ins``) to an asset
    key; only the inputs that are parameters of the function are loaded.
    """

    def __init__(
        self,
        *,
        node_def: OpDefinition,
        specs: Sequence[AssetCheckSpec],
        keys_by_input_name: Mapping[str, AssetKey],
        can_subset: bool = False,
        resource_defs: Mapping[str, Any] | None = None,
        selected_check_keys: Iterable[AssetCheckKey] | None = None,
        compute_kind: str | None = None,
    ) -> None:
        self._node_def = node_def
        self._specs = tuple(specs)
        self._specs_by_key = {s.key: s for s in self._specs}
        if len(self._specs_by_key) != len(self._specs):
            dupes = sorted(
                {
                    s.key.to_user_string()
                    for s in self._specs
                    if sum(t.key == s.key for t in self._specs) > 1
                }
            )
            msg = f"Asset check definition {node_def.name!r} declares the same check more than once: {dupes}."
            raise DefinitionError(msg)
        self._keys_by_input_name = dict(keys_by_input_name)
        self._can_subset = can_subset
        self._resource_defs = dict(resource_defs or {})
        all_keys = frozenset(self._specs_by_key)
        self._selected = (
            frozenset(selected_check_keys) if selected_check_keys is not None else all_keys
        )
        self.compute_kind = compute_kind

    # -- identity ---------------------------------------------------------------------------
    @property
    def node_def(self) -> OpDefinition:
        return self._node_def

    @property
    def op(self) -> OpDefinition:
        return self._node_def

    @property
    def name(self) -> str:
        return self._node_def.name

    @property
    def node_name(self) -> str:
        return self._node_def.name

    @property
    def has_node(self) -> bool:
        return True

    @property
    def is_executable(self) -> bool:
        return True

    @property
    def can_subset(self) -> bool:
        return self._can_subset

    # -- checks -----------------------------------------------------------------------------
    @property
    def check_specs(self) -> list[AssetCheckSpec]:
        """The selected check specs."""
        return [s for s in self._specs if s.key in self._selected]

    @property
    def check_keys(self) -> frozenset[AssetCheckKey]:
        """The selected check keys (all unless this is a subset)."""
        return self._selected

    @property
    def all_check_keys(self) -> frozenset[AssetCheckKey]:
        return frozenset(self._specs_by_key)

    @property
    def specs_by_check_key(self) -> Mapping[AssetCheckKey, AssetCheckSpec]:
        return self._specs_by_key

    def get_spec_for_check_key(self, key: AssetCheckKey) -> AssetCheckSpec:
        try:
            return self._specs_by_key[key]
        except KeyError:
            msg = f"{self!r} has no check {key.to_user_string()!r}; it has {sorted(k.to_user_string() for k in self._specs_by_key)}."
            raise DefinitionError(msg) from None

    def _single(self) -> AssetCheckSpec:
        if len(self._specs) != 1:
            msg = f"{self!r} evaluates {len(self._specs)} checks; use check_specs / check_keys."
            raise DefinitionError(msg)
        return self._specs[0]

    @property
    def spec(self) -> AssetCheckSpec:
        return self._single()

    @property
    def check_key(self) -> AssetCheckKey:
        return self._single().key

    @property
    def asset_key(self) -> AssetKey:
        return self._single().asset_key

    @property
    def blocking(self) -> bool:
        return self._single().blocking

    @property
    def target_asset_keys(self) -> frozenset[AssetKey]:
        return frozenset(s.asset_key for s in self._specs)

    @property
    def dependency_keys(self) -> frozenset[AssetKey]:
        """Every asset this step must run after: targets, inputs and additional deps."""
        keys = set(self._keys_by_input_name.values())
        for spec in self._specs:
            keys.add(spec.asset_key)
            keys.update(spec.additional_dep_keys)
        return frozenset(keys)

    # -- the AssetsDefinition-like surface the engine and contexts read -----------------------
    @property
    def keys_by_input_name(self) -> Mapping[str, AssetKey]:
        return self._keys_by_input_name

    @property
    def keys_by_output_name(self) -> Mapping[str, AssetKey]:
        return {}

    @property
    def keys(self) -> frozenset[AssetKey]:
        return frozenset()

    @property
    def all_keys(self) -> frozenset[AssetKey]:
        return frozenset()

    @property
    def hook_defs(self) -> frozenset[Any]:
        return frozenset()

    @property
    def resource_defs(self) -> Mapping[str, Any]:
        return self._resource_defs

    @property
    def required_resource_keys(self) -> frozenset[str]:
        keys = set(self._node_def.required_resource_keys)
        for inp in self._node_def.ins.values():
            if inp.input_manager_key:
                keys.add(inp.input_manager_key)
        return frozenset(keys)

    # -- derived definitions ------------------------------------------------------------------
    def _replace(self, **changes: Any) -> AssetChecksDefinition:
        values: dict[str, Any] = {
            "node_def": self._node_def,
            "specs": self._specs,
            "keys_by_input_name": self._keys_by_input_name,
            "can_subset": self._can_subset,
            "resource_defs": self._resource_defs,
            "selected_check_keys": self._selected,
            "compute_kind": self.compute_kind,
        }
        values.update(changes)
        return AssetChecksDefinition(**values)

    def subset_for(self, selected_check_keys: Iterable[AssetCheckKey]) -> AssetChecksDefinition:
        """This definition restricted to ``selected_check_keys``."""
        return self._replace(
            selected_check_keys=frozenset(selected_check_keys) & frozenset(self._specs_by_key)
        )

    def with_resolved_keys(
        self, replacements: Mapping[AssetKey, AssetKey]
    ) -> AssetChecksDefinition:
        """Replace asset keys wherever they occur (targets, inputs, additional deps)."""
        if not replacements:
            return self

        def rk(key: AssetKey) -> AssetKey:
            return replacements.get(key, key)

        specs = [
            s.replace_attributes(
                asset=rk(s.asset_key),
                additional_deps=[
                    AssetDep(rk(d.asset_key), partition_mapping=d.partition_mapping)
                    for d in s.additional_deps
                ],
            )
            for s in self._specs
        ]
        return self._replace(
            specs=specs,
            keys_by_input_name={n: rk(k) for n, k in self._keys_by_input_name.items()},
            selected_check_keys={AssetCheckKey(rk(k.asset_key), k.name) for k in self._selected},
        )

    def with_asset_key_prefix(self, prefix: CoercibleToAssetKeyPrefix) -> AssetChecksDefinition:
        """A copy whose target (and input) asset keys get ``prefix`` in front."""
        keys = set(self.dependency_keys)
        return self.with_resolved_keys({k: k.with_prefix(prefix) for k in keys})

    def with_resources(self, resource_defs: Mapping[str, Any]) -> AssetChecksDefinition:
        return self._replace(resource_defs={**resource_defs, **self._resource_defs})

    # -- direct invocation ----------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the check function directly (``my_check()``, ``my_check(context, value)``)."""
        from weir._execution.check_context import AssetCheckExecutionContext, bind_check_context
        from weir._execution.invocation import invoke_op

        if args and isinstance(args[0], AssetCheckExecutionContext):
            args = (bind_check_context(args[0], self), *args[1:])
        return invoke_op(self._node_def, args, kwargs)

    def __repr__(self) -> str:
        names = [k.to_user_string() for k in self._specs_by_key]
        return f"AssetChecksDefinition({self.name!r}, checks={names})"


def _required_resource_keys(
    info: ComputeFnInfo, explicit: Iterable[str] | None, what: str
) -> frozenset[str]:
    keys = set(explicit or ())
    if isinstance(explicit, str):
        msg = f"{what}: required_resource_keys must be a set of str, not a str."
        raise DefinitionError(msg)
    return frozenset(keys | set(info.resource_params))


def _docstring(fn: Callable[..., Any]) -> str | None:
    doc = getattr(fn, "__doc__", None)
    return inspect.cleandoc(doc) if doc else None


def _input_def(
    name: str, key: AssetKey, info: ComputeFnInfo, asset_in: AssetIn | None
) -> InputDefinition:
    dagster_type = asset_in.dagster_type if asset_in is not None else NO_TYPE
    if dagster_type is NO_TYPE and name in info.input_annotations:
        dagster_type = info.input_annotations[name]
    return InputDefinition(
        name,
        dagster_type=dagster_type,
        metadata=asset_in.metadata if asset_in is not None else None,
        input_manager_key=asset_in.input_manager_key if asset_in is not None else None,
        asset_key=key,
        default_value=info.input_defaults.get(name, NO_TYPE),
    )


def _coerce_asset_in(value: Any, what: str, name: str) -> AssetIn:
    if isinstance(value, AssetIn):
        return value
    try:
        return AssetIn(key=AssetKey.from_coercible_or_definition(value))
    except DefinitionError as exc:
        msg = f"{what}: ins[{name!r}] must be an AssetIn or an asset key, got {value!r}."
        raise DefinitionError(msg) from exc


def asset_check(
    *,
    asset: Any,
    name: str | None = None,
    description: str | None = None,
    blocking: bool = False,
    additional_ins: Mapping[str, AssetIn] | None = None,
    additional_deps: Iterable[Any] | None = None,
    required_resource_keys: Iterable[str] | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config_schema: Any = None,
    compute_kind: str | None = None,
    op_tags: Mapping[str, Any] | None = None,
    retry_policy: Any = None,
    metadata: Mapping[str, Any] | None = None,
    automation_condition: Any = None,
    pool: str | None = None,
    partitions_def: Any = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare a check on ``asset``; the function returns an :class:`AssetCheckResult`.

    A parameter that is not the context, config, a resource or in ``additional_ins`` receives the
    checked asset's value (loaded through its IO manager). The check's name defaults to the
    function name; its step key is ``<asset op name>_<check name>``.
    """

    def inner(fn: Callable[..., Any]) -> AssetChecksDefinition:
        check_name = check_valid_name(name or str(getattr(fn, "__name__", "")), "Asset check name")
        what = f"@asset_check {check_name!r}"
        asset_key = asset_key_of(asset, what)
        info = analyze_compute_fn(fn, what=what)
        extra_ins = dict(additional_ins or {})
        unknown = sorted(set(extra_ins) - set(info.input_params))
        if unknown:
            msg = (
                f"{what}: additional_ins names {unknown}, which are not parameters of the function "
                f"(its input parameters are {info.input_params}). Add the parameter or remove the entry."
            )
            raise DefinitionError(msg)
        keys_by_input: dict[str, AssetKey] = {}
        ins: dict[str, InputDefinition] = {}
        for in_name, asset_in in extra_ins.items():
            key = _coerce_asset_in(asset_in, what, in_name).resolve_key(in_name)
            if key == asset_key:
                msg = (
                    f"{what}: additional_ins[{in_name!r}] is the checked asset {asset_key.to_user_string()!r}; "
                    "the checked asset is loaded through the one parameter not listed in additional_ins."
                )
                raise DefinitionError(msg)
            keys_by_input[in_name] = key
            ins[in_name] = _input_def(in_name, key, info, _coerce_asset_in(asset_in, what, in_name))
        primary = [p for p in info.input_params if p not in extra_ins]
        if len(primary) > 1:
            msg = (
                f"When defining check {check_name!r}, multiple assets provided as parameters: {primary}. "
                "These should either match the target asset or be specified in 'additional_ins'."
            )
            raise DefinitionError(msg)
        if primary:
            ins[primary[0]] = _input_def(primary[0], asset_key, info, None)
            keys_by_input = {primary[0]: asset_key, **keys_by_input}
        else:
            keys_by_input = {asset_key.to_python_identifier(): asset_key, **keys_by_input}
        deps = [coerce_dep(d) for d in additional_deps or ()]
        spec = AssetCheckSpec(
            check_name,
            asset=asset_key,
            description=description or _docstring(fn),
            additional_deps=[d for d in deps if d.asset_key != asset_key],
            blocking=blocking,
            metadata=metadata,
            automation_condition=automation_condition,
            partitions_def=partitions_def,
        )
        node = OpDefinition(
            name=f"{asset_key.to_python_identifier()}_{check_name}",
            compute_fn=fn,
            fn_info=info,
            ins=ins,
            outs={},
            description=spec.description,
            config_schema=config_schema,
            required_resource_keys=_required_resource_keys(info, required_resource_keys, what),
            tags=op_tags,
            retry_policy=retry_policy,
            pool=pool,
        )
        return AssetChecksDefinition(
            node_def=node,
            specs=[spec],
            keys_by_input_name=keys_by_input,
            resource_defs=resource_defs,
            compute_kind=compute_kind,
        )

    return inner


def multi_asset_check(
    *,
    specs: Sequence[AssetCheckSpec],
    name: str | None = None,
    description: str | None = None,
    can_subset: bool = False,
    compute_kind: str | None = None,
    op_tags: Mapping[str, Any] | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    required_resource_keys: Iterable[str] | None = None,
    retry_policy: Any = None,
    config_schema: Any = None,
    ins: Mapping[str, Any] | None = None,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare several checks evaluated by one function, which yields one result per check.

    Parameters named after a checked asset (its last key component) receive that asset's value;
    ``ins={"param": AssetIn(...) or key}`` maps other parameter names to assets. With
    ``can_subset=True`` the function must only yield ``context.selected_asset_check_keys``.
    """

    def inner(fn: Callable[..., Any]) -> AssetChecksDefinition:
        op_name = check_valid_name(
            name or str(getattr(fn, "__name__", "")), "multi_asset_check name"
        )
        what = f"@multi_asset_check {op_name!r}"
        spec_list = list(specs or ())
        if not spec_list or not all(isinstance(s, AssetCheckSpec) for s in spec_list):
            msg = f"{what}: specs= must be a non-empty list of AssetCheckSpec."
            raise DefinitionError(msg)
        info = analyze_compute_fn(fn, what=what)
        explicit = {n: _coerce_asset_in(v, what, n) for n, v in (ins or {}).items()}
        unknown = sorted(set(explicit) - set(info.input_params))
        if unknown:
            msg = f"{what}: ins= names {unknown}, which are not parameters of the function (its input parameters are {info.input_params})."
            raise DefinitionError(msg)
        by_name: dict[str, set[AssetKey]] = {}
        for spec in spec_list:
            by_name.setdefault(spec.asset_key.parts[-1], set()).add(spec.asset_key)
            by_name.setdefault(spec.asset_key.to_python_identifier(), set()).add(spec.asset_key)
        keys_by_input: dict[str, AssetKey] = {}
        input_defs: dict[str, InputDefinition] = {}
        for param in info.input_params:
            asset_in = explicit.get(param)
            if asset_in is not None:
                key = asset_in.resolve_key(param)
            else:
                matches = by_name.get(param, set())
                if len(matches) != 1:
                    targets = sorted({s.asset_key.to_user_string() for s in spec_list})
                    reason = (
                        "matches several checked assets"
                        if matches
                        else "matches none of the checked assets"
                    )
                    msg = (
                        f"{what}: parameter {param!r} {reason} ({targets}). Name the parameter after the "
                        f"asset's last key component, or map it with ins={{{param!r}: AssetIn(key=...)}}."
                    )
                    raise DefinitionError(msg)
                key = next(iter(matches))
            keys_by_input[param] = key
            input_defs[param] = _input_def(param, key, info, asset_in)
        node = OpDefinition(
            name=op_name,
            compute_fn=fn,
            fn_info=info,
            ins=input_defs,
            outs={},
            description=description or _docstring(fn),
            config_schema=config_schema,
            required_resource_keys=_required_resource_keys(info, required_resource_keys, what),
            tags=op_tags,
            retry_policy=retry_policy,
            pool=pool,
        )
        return AssetChecksDefinition(
            node_def=node,
            specs=spec_list,
            keys_by_input_name=keys_by_input,
            can_subset=can_subset,
            resource_defs=resource_defs,
            compute_kind=compute_kind,
        )

    return inner


def load_asset_checks_from_modules(
    modules: Iterable[ModuleType], asset_key_prefix: CoercibleToAssetKeyPrefix | None = None
) -> Sequence[AssetChecksDefinition]:
    """Every asset check defined at module level in ``modules``.

    ``asset_key_prefix`` is put in front of the keys of the checked assets; pass the
    ``key_prefix`` given to ``load_assets_from_modules`` for the same modules.
    """
    from weir._model.module_loaders import find_objects_in_module

    found: list[AssetChecksDefinition] = []
    seen: set[int] = set()
    for module in modules:
        if not isinstance(module, ModuleType):
            msg = f"load_asset_checks_from_modules takes modules, got {module!r} (a {type(module).__name__})."
            raise DefinitionError(msg)
        for _, obj in find_objects_in_module(module, (AssetChecksDefinition,)):
            if id(obj) not in seen:
                seen.add(id(obj))
                found.append(obj)
    if asset_key_prefix:
        found = [c.with_asset_key_prefix(asset_key_prefix) for c in found]
    return found


def load_asset_checks_from_package_module(
    package_module: ModuleType, asset_key_prefix: CoercibleToAssetKeyPrefix | None = None
) -> Sequence[AssetChecksDefinition]:
    """Every asset check defined in ``package_module`` and its submodules."""
    import importlib
    import pkgutil

    modules = [package_module]
    for info in pkgutil.walk_packages(
        getattr(package_module, "__path__", []), prefix=package_module.__name__ + "."
    ):
        modules.append(importlib.import_module(info.name))
    return load_asset_checks_from_modules(modules, asset_key_prefix)


def load_asset_checks_from_current_module(
    asset_key_prefix: CoercibleToAssetKeyPrefix | None = None,
) -> Sequence[AssetChecksDefinition]:
    """Every asset check defined in the module that calls this function."""
    frame = inspect.stack()[1]
    module = inspect.getmodule(frame[0])
    if module is None:
        raise DefinitionError(
            "load_asset_checks_from_current_module could not determine the calling module."
        )
    return load_asset_checks_from_modules([module], asset_key_prefix)
