"""Collecting definitions from Python modules and packages."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from weir._model.asset_key import AssetKey, CoercibleToAssetKeyPrefix, coerce_key_prefix
from weir._model.asset_spec import AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir._model.source_asset import SourceAsset
from weir.errors import DefinitionError, DuplicateKeyError

__all__ = [
    "find_objects_in_module",
    "load_assets_from_current_module",
    "load_assets_from_modules",
    "load_assets_from_package_module",
    "load_definitions_from_modules",
]


def find_objects_in_module(module: ModuleType, types: tuple[type, ...]) -> list[tuple[str, Any]]:
    found = []
    for attr, value in vars(module).items():
        if isinstance(value, types):
            found.append((attr, value))
        elif (
            isinstance(value, (list, tuple)) and value and all(isinstance(v, types) for v in value)
        ):
            found.extend((attr, v) for v in value)
    return found


def _collect(modules: Iterable[ModuleType], include_specs: bool) -> list[Any]:
    types: tuple[type, ...] = (AssetsDefinition, SourceAsset) + (
        (AssetSpec,) if include_specs else ()
    )
    seen_ids: set[int] = set()
    by_key: dict[AssetKey, tuple[str, Any]] = {}
    result: list[Any] = []
    for module in modules:
        for attr, obj in find_objects_in_module(module, types):
            if id(obj) in seen_ids:
                continue
            seen_ids.add(id(obj))
            keys = obj.all_keys if isinstance(obj, AssetsDefinition) else {obj.key}
            where = f"{module.__name__}.{attr}"
            for key in keys:
                if key in by_key:
                    msg = (
                        f"Asset key {key.to_user_string()!r} is defined more than once: {by_key[key][0]} and {where}. "
                        "Rename one of them or give it a key_prefix."
                    )
                    raise DuplicateKeyError(msg)
                by_key[key] = (where, obj)
            result.append(obj)
    return result


def _apply(
    objs: list[Any],
    group_name: str | None,
    key_prefix: CoercibleToAssetKeyPrefix | None,
    source_key_prefix: CoercibleToAssetKeyPrefix | None,
    automation_condition: Any,
    backfill_policy: Any,
) -> list[Any]:
    prefix = coerce_key_prefix(key_prefix)
    source_prefix = coerce_key_prefix(source_key_prefix)
    replacements: dict[AssetKey, AssetKey] = {}
    for obj in objs:
        if isinstance(obj, AssetsDefinition) and obj.is_executable and prefix:
            for key in obj.all_keys:
                replacements[key] = key.with_prefix(prefix)
        elif isinstance(obj, (SourceAsset, AssetSpec, AssetsDefinition)) and source_prefix:
            for key in obj.all_keys if isinstance(obj, AssetsDefinition) else {obj.key}:
                replacements[key] = key.with_prefix(source_prefix)
    result: list[Any] = []
    for obj in objs:
        if isinstance(obj, AssetsDefinition):
            groups = {k: group_name for k in obj.all_keys} if group_name else None
            result.append(
                obj.with_attributes(
                    asset_key_replacements=replacements,
                    group_names_by_key=groups,
                    automation_condition=automation_condition,
                    backfill_policy=backfill_policy,
                )
            )
        elif isinstance(obj, SourceAsset):
            result.append(obj.with_attributes(key=replacements.get(obj.key), group_name=group_name))
        elif isinstance(obj, AssetSpec):
            changes: dict[str, Any] = {}
            if obj.key in replacements:
                changes["key"] = replacements[obj.key]
            if group_name:
                changes["group_name"] = group_name
            result.append(obj.replace_attributes(**changes) if changes else obj)
    return result


def load_assets_from_modules(
    modules: Iterable[ModuleType],
    group_name: str | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    *,
    automation_condition: Any = None,
    backfill_policy: Any = None,
    source_key_prefix: CoercibleToAssetKeyPrefix | None = None,
    include_specs: bool = False,
) -> Sequence[Any]:
    """Every asset (and source asset) defined at module level in ``modules``.

    ``key_prefix`` prefixes the keys of the loaded assets (their dependencies on each other follow);
    ``group_name`` puts them in one group.
    """
    modules = list(modules)
    for m in modules:
        if not isinstance(m, ModuleType):
            msg = f"load_assets_from_modules takes modules, got {m!r} (a {type(m).__name__})."
            raise DefinitionError(msg)
    objs = _collect(modules, include_specs)
    return _apply(
        objs, group_name, key_prefix, source_key_prefix, automation_condition, backfill_policy
    )


def _walk_package(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    path = getattr(package, "__path__", None)
    if path is None:
        return modules
    for info in pkgutil.walk_packages(path, prefix=package.__name__ + "."):
        modules.append(importlib.import_module(info.name))
    return modules


def load_assets_from_package_module(
    package_module: ModuleType,
    group_name: str | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    *,
    automation_condition: Any = None,
    backfill_policy: Any = None,
    source_key_prefix: CoercibleToAssetKeyPrefix | None = None,
    include_specs: bool = False,
) -> Sequence[Any]:
    """Every asset defined in ``package_module`` and all its submodules."""
    return load_assets_from_modules(
        _walk_package(package_module),
        group_name,
        key_prefix,
        automation_condition=automation_condition,
        backfill_policy=backfill_policy,
        source_key_prefix=source_key_prefix,
        include_specs=include_specs,
    )


def load_assets_from_current_module(
    group_name: str | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    *,
    automation_condition: Any = None,
    backfill_policy: Any = None,
    source_key_prefix: CoercibleToAssetKeyPrefix | None = None,
    include_specs: bool = False,
) -> Sequence[Any]:
    """Every asset defined in the module that calls this function."""
    frame = inspect.stack()[1]
    module = inspect.getmodule(frame[0])
    if module is None:
        raise DefinitionError(
            "load_assets_from_current_module could not determine the calling module."
        )
    return load_assets_from_modules(
        [module],
        group_name,
        key_prefix,
        automation_condition=automation_condition,
        backfill_policy=backfill_policy,
        source_key_prefix=source_key_prefix,
        include_specs=include_specs,
    )


def load_definitions_from_modules(
    modules: Iterable[ModuleType], resources: Any = None, loggers: Any = None, executor: Any = None
) -> Any:
    """A ``Definitions`` with every asset, source asset and job found in ``modules``."""
    from weir._execution.asset_job import JobDefinition, UnresolvedAssetJobDefinition
    from weir._model.definitions import Definitions

    modules = list(modules)
    assets = load_assets_from_modules(modules, include_specs=True)
    jobs: list[Any] = []
    seen: set[int] = set()
    for module in modules:
        for _, job in find_objects_in_module(module, (JobDefinition, UnresolvedAssetJobDefinition)):
            if id(job) not in seen:
                seen.add(id(job))
                jobs.append(job)
    return Definitions(
        assets=assets, jobs=jobs, resources=resources, loggers=loggers, executor=executor
    )
