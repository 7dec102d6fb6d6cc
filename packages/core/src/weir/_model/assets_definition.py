"""``AssetsDefinition``: one computation (an op) that materializes one or more assets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from weir._model.asset_in_out import AssetDep
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.asset_spec import AssetSpec
from weir._model.op_definition import OpDefinition
from weir.errors import DefinitionError

__all__ = ["AssetsDefinition"]

# shared immutable defaults: most definitions have no hooks, resources or input deps
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NO_HOOKS: frozenset[Any] = frozenset()
_NO_CHECK_KEYS: frozenset[AssetCheckKey] = frozenset()
_NO_RESOURCE_KEYS: frozenset[str] = frozenset()
_DEFAULT_IO_MANAGER_ONLY: frozenset[str] = frozenset({"io_manager"})


class AssetsDefinition:
    """A set of asset keys computed together by one op (``@asset``: one key; ``@multi_asset``: many).

    An ``AssetsDefinition`` without an op describes external assets (``AssetSpec`` given directly to
    ``Definitions``): they are in the graph but cannot be materialized by weir.
    """

    # Derived key sets are built on first use: ``None`` in ``_selected`` / ``_selected_checks``
    # means "every key" (the common case), and ``_all_keys`` / ``_output_names_by_key`` are caches.
    __slots__ = (
        "__weakref__",
        "_all_keys",
        "_backfill_policy",
        "_can_subset",
        "_check_specs",
        "_execution_type",
        "_hooks",
        "_input_deps",
        "_keys_by_input_name",
        "_keys_by_output_name",
        "_node_def",
        "_output_names_by_key",
        "_required_resource_keys",
        "_resource_defs",
        "_selected",
        "_selected_checks",
        "_specs_by_key",
    )

    def __init__(
        self,
        *,
        node_def: OpDefinition | None,
        keys_by_input_name: Mapping[str, AssetKey],
        keys_by_output_name: Mapping[str, AssetKey],
        specs: Sequence[AssetSpec],
        can_subset: bool = False,
        selected_asset_keys: Iterable[AssetKey] | None = None,
        check_specs: Sequence[Any] = (),
        selected_check_keys: Iterable[AssetCheckKey] | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        backfill_policy: Any = None,
        hooks: Iterable[Any] | None = None,
        execution_type: str | None = None,
        input_deps: Mapping[str, AssetDep] | None = None,
    ) -> None:
        self._node_def = node_def
        self._keys_by_input_name = dict(keys_by_input_name)
        self._keys_by_output_name = dict(keys_by_output_name)
        if len(specs) == 1:
            only = specs[0]
            self._specs_by_key = {only.key: only}
        else:
            self._specs_by_key = {s.key: s for s in specs}
            if len(self._specs_by_key) != len(specs):
                dupes = sorted(
                    {
                        s.key.to_user_string()
                        for s in specs
                        if sum(t.key == s.key for t in specs) > 1
                    }
                )
                msg = f"An asset definition lists the same asset key more than once: {dupes}."
                raise DefinitionError(msg)
        self._output_names_by_key: dict[AssetKey, str] | None = None
        self._can_subset = can_subset
        self._all_keys: frozenset[AssetKey] | None = None
        self._selected: frozenset[AssetKey] | None = (
            frozenset(selected_asset_keys) if selected_asset_keys is not None else None
        )
        self._check_specs = tuple(check_specs) if check_specs else ()
        self._selected_checks: frozenset[AssetCheckKey] | None
        if selected_check_keys is not None:
            self._selected_checks = frozenset(selected_check_keys)
        else:  # every check: known to be none, or computed on first use
            self._selected_checks = None if self._check_specs else _NO_CHECK_KEYS
        self._resource_defs = dict(resource_defs) if resource_defs else _EMPTY
        self._backfill_policy = backfill_policy
        self._hooks = frozenset(hooks) if hooks else _NO_HOOKS
        self._execution_type = execution_type or (
            "MATERIALIZATION" if node_def is not None else "UNEXECUTABLE"
        )
        self._input_deps = dict(input_deps) if input_deps else _EMPTY
        self._required_resource_keys: frozenset[str] | None = None

    def _all_check_keys(self) -> frozenset[AssetCheckKey]:
        return frozenset(c.key for c in self._check_specs) if self._check_specs else _NO_CHECK_KEYS

    def _output_names(self) -> dict[AssetKey, str]:
        names = self._output_names_by_key
        if names is None:
            names = self._output_names_by_key = {k: n for n, k in self._keys_by_output_name.items()}
        return names

    # -- identity -------------------------------------------------------------------------
    @property
    def node_def(self) -> OpDefinition:
        if self._node_def is None:
            msg = f"Asset(s) {self._key_list()} are external (not executable) and have no op."
            raise DefinitionError(msg)
        return self._node_def

    @property
    def op(self) -> OpDefinition:
        return self.node_def

    @property
    def has_node(self) -> bool:
        return self._node_def is not None

    @property
    def node_name(self) -> str | None:
        return self._node_def.name if self._node_def is not None else None

    def _key_list(self) -> list[str]:
        return [k.to_user_string() for k in self._specs_by_key]

    @property
    def keys(self) -> frozenset[AssetKey]:
        """The selected asset keys (all keys unless this is a subset)."""
        selected = self._selected
        return selected if selected is not None else self.all_keys

    @property
    def key(self) -> AssetKey:
        if self._selected is None and len(self._specs_by_key) == 1:
            return next(iter(self._specs_by_key))
        keys = self.keys
        if len(keys) != 1:
            msg = f"This definition has {len(keys)} asset keys ({self._key_list()}); use .keys."
            raise DefinitionError(msg)
        return next(iter(keys))

    @property
    def all_keys(self) -> frozenset[AssetKey]:
        keys = self._all_keys
        if keys is None:
            keys = self._all_keys = frozenset(self._specs_by_key)
        return keys

    @property
    def is_subset(self) -> bool:
        return (self._selected is not None and self._selected != self.all_keys) or (
            self._selected_checks is not None and self._selected_checks != self._all_check_keys()
        )

    @property
    def can_subset(self) -> bool:
        return self._can_subset

    @property
    def is_executable(self) -> bool:
        return self._node_def is not None

    @property
    def is_materializable(self) -> bool:
        return self._execution_type == "MATERIALIZATION"

    @property
    def is_observable(self) -> bool:
        return self._execution_type == "OBSERVATION"

    @property
    def execution_type(self) -> str:
        return self._execution_type

    # -- specs ----------------------------------------------------------------------------
    @property
    def specs(self) -> Iterable[AssetSpec]:
        selected = self._selected
        if selected is None:
            return list(self._specs_by_key.values())
        return [s for k, s in self._specs_by_key.items() if k in selected]

    @property
    def specs_by_key(self) -> Mapping[AssetKey, AssetSpec]:
        return self._specs_by_key

    def get_asset_spec(self, key: AssetKey | None = None) -> AssetSpec:
        key = key if key is not None else self.key
        try:
            return self._specs_by_key[key]
        except KeyError:
            msg = f"Asset key {key.to_user_string()!r} is not produced by this definition ({self._key_list()})."
            raise DefinitionError(msg) from None

    @property
    def asset_deps(self) -> Mapping[AssetKey, set[AssetKey]]:
        return {k: set(s._dep_keys) for k, s in self._specs_by_key.items()}

    @property
    def dependency_keys(self) -> set[AssetKey]:
        return {k for s in self._specs_by_key.values() for k in s._dep_keys}

    @property
    def keys_by_input_name(self) -> Mapping[str, AssetKey]:
        return self._keys_by_input_name

    @property
    def keys_by_output_name(self) -> Mapping[str, AssetKey]:
        return self._keys_by_output_name

    @property
    def input_deps(self) -> Mapping[str, AssetDep]:
        return self._input_deps

    def get_output_name_for_asset_key(self, key: AssetKey) -> str:
        try:
            return self._output_names()[key]
        except KeyError:
            msg = f"Asset key {key.to_user_string()!r} is not an output of this definition ({self._key_list()})."
            raise DefinitionError(msg) from None

    def get_io_manager_key_for_asset_key(self, key: AssetKey) -> str:
        output_names = self._output_names()
        if self._node_def is not None and key in output_names:
            return self._node_def.outs[output_names[key]].io_manager_key
        spec = self._specs_by_key.get(key)
        if spec is not None:
            return str(spec.metadata.get("dagster/io_manager_key", "io_manager"))
        return "io_manager"

    @property
    def group_names_by_key(self) -> Mapping[AssetKey, str]:
        return {k: s.effective_group_name for k, s in self._specs_by_key.items()}

    @property
    def metadata_by_key(self) -> Mapping[AssetKey, Mapping[str, Any]]:
        return {k: s.metadata for k, s in self._specs_by_key.items()}

    @property
    def tags_by_key(self) -> Mapping[AssetKey, Mapping[str, str]]:
        return {k: s.tags for k, s in self._specs_by_key.items()}

    @property
    def owners_by_key(self) -> Mapping[AssetKey, Sequence[str]]:
        return {k: s.owners for k, s in self._specs_by_key.items()}

    @property
    def code_versions_by_key(self) -> Mapping[AssetKey, str | None]:
        return {k: s.code_version for k, s in self._specs_by_key.items()}

    @property
    def descriptions_by_key(self) -> Mapping[AssetKey, str | None]:
        return {k: s.description for k, s in self._specs_by_key.items()}

    @property
    def partitions_def(self) -> Any:
        for spec in self._specs_by_key.values():
            if spec.partitions_def is not None:
                return spec.partitions_def
        return None

    @property
    def backfill_policy(self) -> Any:
        return self._backfill_policy

    @property
    def resource_defs(self) -> Mapping[str, Any]:
        return self._resource_defs

    @property
    def required_resource_keys(self) -> frozenset[str]:
        cached = self._required_resource_keys
        if cached is None:
            cached = self._required_resource_keys = self._compute_required_resource_keys()
        return cached

    def _compute_required_resource_keys(self) -> frozenset[str]:
        if self._node_def is None:
            return _NO_RESOURCE_KEYS
        keys = set(self._node_def.required_resource_keys)
        for out in self._node_def.outs.values():
            keys.add(out.io_manager_key)
        for inp in self._node_def.ins.values():
            if inp.input_manager_key:
                keys.add(inp.input_manager_key)
        # most definitions need only the default IO manager: share that set
        return _DEFAULT_IO_MANAGER_ONLY if keys == _DEFAULT_IO_MANAGER_ONLY else frozenset(keys)

    @property
    def hook_defs(self) -> frozenset[Any]:
        return self._hooks

    # -- checks ---------------------------------------------------------------------------
    @property
    def check_specs(self) -> Iterable[Any]:
        selected = self._selected_checks
        if selected is None:
            return list(self._check_specs)
        return [c for c in self._check_specs if c.key in selected]

    @property
    def check_keys(self) -> frozenset[AssetCheckKey]:
        selected = self._selected_checks
        if selected is None:
            selected = self._selected_checks = self._all_check_keys()
        return selected

    # -- derived definitions ----------------------------------------------------------------
    def _replace(self, **changes: Any) -> AssetsDefinition:
        values: dict[str, Any] = {
            "node_def": self._node_def,
            "keys_by_input_name": self._keys_by_input_name,
            "keys_by_output_name": self._keys_by_output_name,
            "specs": list(self._specs_by_key.values()),
            "can_subset": self._can_subset,
            "selected_asset_keys": self._selected,
            "check_specs": self._check_specs,
            "selected_check_keys": self._selected_checks,
            "resource_defs": self._resource_defs,
            "backfill_policy": self._backfill_policy,
            "hooks": self._hooks,
            "execution_type": self._execution_type,
            "input_deps": self._input_deps,
        }
        values.update(changes)
        return AssetsDefinition(**values)

    def subset_for(
        self,
        selected_asset_keys: Iterable[AssetKey],
        selected_asset_check_keys: Iterable[AssetCheckKey] | None = None,
    ) -> AssetsDefinition:
        """This definition restricted to ``selected_asset_keys`` (and checks)."""
        keys = frozenset(selected_asset_keys) & self.all_keys
        checks = (
            frozenset(selected_asset_check_keys) & self._all_check_keys()
            if selected_asset_check_keys is not None
            else self.check_keys
        )
        return self._replace(selected_asset_keys=keys, selected_check_keys=checks)

    def with_resolved_keys(self, replacements: Mapping[AssetKey, AssetKey]) -> AssetsDefinition:
        """Replace asset keys everywhere they occur (outputs, inputs, deps, checks)."""
        if not replacements:
            return self

        def rk(key: AssetKey) -> AssetKey:
            return replacements.get(key, key)

        specs = []
        for spec in self._specs_by_key.values():
            deps = [
                AssetDep(
                    rk(d.asset_key), partition_mapping=d.partition_mapping, metadata=d.metadata
                )
                for d in spec.deps
            ]
            specs.append(spec.replace_attributes(key=rk(spec.key), deps=deps))
        checks = [_check_with_key(c, rk) for c in self._check_specs]
        return self._replace(
            keys_by_input_name={n: rk(k) for n, k in self._keys_by_input_name.items()},
            keys_by_output_name={n: rk(k) for n, k in self._keys_by_output_name.items()},
            specs=specs,
            selected_asset_keys=None if self._selected is None else {rk(k) for k in self._selected},
            check_specs=checks,
            selected_check_keys=None
            if self._selected_checks is None
            else {AssetCheckKey(rk(c.asset_key), c.name) for c in self._selected_checks},
            input_deps={
                n: AssetDep(
                    rk(d.asset_key), partition_mapping=d.partition_mapping, metadata=d.metadata
                )
                for n, d in self._input_deps.items()
            },
        )

    def with_attributes(
        self,
        *,
        asset_key_replacements: Mapping[AssetKey, AssetKey] | None = None,
        group_names_by_key: Mapping[AssetKey, str] | None = None,
        tags_by_key: Mapping[AssetKey, Mapping[str, str]] | None = None,
        automation_condition: Any = None,
        backfill_policy: Any = None,
        **_ignored: Any,
    ) -> AssetsDefinition:
        """A copy with keys replaced and/or groups, tags, automation conditions changed."""
        result = self
        if group_names_by_key or tags_by_key or automation_condition is not None:
            specs = []
            for spec in self._specs_by_key.values():
                changes: dict[str, Any] = {}
                if group_names_by_key and spec.key in group_names_by_key:
                    new_group = group_names_by_key[spec.key]
                    if spec.group_name not in (None, "default", new_group):
                        msg = (
                            f"Asset {spec.key.to_user_string()!r} already has group {spec.group_name!r}; "
                            f"cannot also assign group {new_group!r}."
                        )
                        raise DefinitionError(msg)
                    changes["group_name"] = new_group
                if tags_by_key and spec.key in tags_by_key:
                    changes["tags"] = {**spec.tags, **tags_by_key[spec.key]}
                if automation_condition is not None:
                    changes["automation_condition"] = automation_condition
                specs.append(spec.replace_attributes(**changes) if changes else spec)
            result = result._replace(specs=specs)
        if backfill_policy is not None:
            result = result._replace(backfill_policy=backfill_policy)
        if asset_key_replacements:
            result = result.with_resolved_keys(asset_key_replacements)
        return result

    def map_asset_specs(self, fn: Callable[[AssetSpec], AssetSpec]) -> AssetsDefinition:
        """Apply ``fn`` to every spec; the key and the deps that are data inputs must stay the same."""
        specs = []
        for spec in self._specs_by_key.values():
            new = fn(spec)
            if new.key != spec.key:
                msg = f"map_asset_specs may not change an asset's key ({spec.key.to_user_string()!r} -> {new.key.to_user_string()!r})."
                raise DefinitionError(msg)
            input_keys = set(self._keys_by_input_name.values())
            missing = input_keys & set(spec.dep_keys) - set(new.dep_keys)
            if missing:
                msg = f"map_asset_specs may not remove data dependencies {sorted(k.to_user_string() for k in missing)} of {spec.key.to_user_string()!r}."
                raise DefinitionError(msg)
            specs.append(new)
        return self._replace(specs=specs)

    @staticmethod
    def from_op(op_def: Any, **kwargs: Any) -> AssetsDefinition:
        """An asset definition computed by an existing op: inputs load assets, outputs are assets.

        Keyword arguments: ``keys_by_input_name``, ``keys_by_output_name``, ``key_prefix``,
        ``internal_asset_deps``, ``group_name``, ``group_names_by_output_name``, ``can_subset`` ...
        """
        from weir._model.assets_from_op import assets_definition_from_op

        return assets_definition_from_op(op_def, **kwargs)

    @staticmethod
    def from_graph(graph_def: Any, **kwargs: Any) -> AssetsDefinition:
        """Assets computed by a graph of ops: graph inputs load assets, graph outputs are assets."""
        from weir._model.graph_asset import assets_definition_from_graph

        return assets_definition_from_graph(graph_def, **kwargs)

    def with_resources(self, resource_defs: Mapping[str, Any]) -> AssetsDefinition:
        return self._replace(resource_defs={**resource_defs, **self._resource_defs})

    # -- direct invocation ------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from weir._execution.invocation import invoke_assets_definition

        return invoke_assets_definition(self, args, kwargs)

    def __repr__(self) -> str:
        keys = self._key_list()
        return (
            f"AssetsDefinition(keys={keys})"
            if len(keys) != 1
            else f"AssetsDefinition(key={keys[0]!r})"
        )


def _check_with_key(check_spec: Any, rk: Callable[[AssetKey], AssetKey]) -> Any:
    new_key = rk(check_spec.asset_key)
    if new_key == check_spec.asset_key or not hasattr(check_spec, "with_asset_key"):
        return check_spec
    return check_spec.with_asset_key(new_key)
