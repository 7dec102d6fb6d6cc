"""``with_resources``: bind resources to asset definitions (the older way to give assets resources).

``Definitions(resources=...)`` is the usual way; ``with_resources`` returns copies of asset,
source-asset and check definitions that carry the resources each one needs, so they run with
``materialize`` alone. Dagster's rules: a definition gets only the resources it needs (directly,
or through the resources it needs), a resource already bound to it may not be replaced by a
different one, and every required key must then be provided (``io_manager`` has a default).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from weir._config.resources import (
    MissingResourceError,
    ResourceConfigError,
    ResourceDefinition,
    is_configurable_resource,
)
from weir.errors import DefinitionError, InvalidInvocationError

__all__ = ["with_resources"]


def with_resources(
    definitions: Iterable[Any],
    resource_defs: Mapping[str, Any],
    resource_config_by_key: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Copies of ``definitions`` (assets, source assets, checks) with ``resource_defs`` bound.

    Resources already bound to a definition win over those given here. ``resource_config_by_key``
    configures some of them: ``{"db": {"config": {"url": "..."}}}`` (checked when the run starts,
    like run config). Raises ``DefinitionError`` when an asset then still lacks a resource it
    requires (``io_manager`` always has a default).

    Example::

        assets = dg.with_resources([orders], {"db": Db(url="...")})
    """
    if hasattr(definitions, "with_resources") or isinstance(definitions, (str, bytes)):
        msg = (
            "with_resources() takes a list of definitions, got a single "
            f"{type(definitions).__name__}; wrap it: with_resources([my_asset], {{...}})."
        )
        raise DefinitionError(msg)
    resources = dict(resource_defs)
    for key, config in (resource_config_by_key or {}).items():
        if key not in resources:
            msg = (
                f"with_resources(): resource_config_by_key has config for {key!r}, which is not in "
                f"resource_defs {sorted(resources)}. Add the resource or remove its config."
            )
            raise DefinitionError(msg)
        resources[key] = _configured_resource(resources[key], config, key)
    out: list[Any] = []
    for definition in definitions:
        method = getattr(definition, "with_resources", None)
        if method is not None:
            relevant = _relevant_resources(definition, resources)
            _check_conflicts(definition, relevant)
            bound = method(relevant)
            _check_requirements(bound)
            out.append(bound)
        elif hasattr(definition, "io_manager_key") and hasattr(definition, "resource_defs"):
            out.append(_bind_source_asset(definition, resources))
        else:
            out.append(definition)
    return out


def _io_keys(definition: Any) -> set[str]:
    node = getattr(definition, "node_def", None) if getattr(definition, "has_node", True) else None
    keys: set[str] = set()
    for out in getattr(node, "outs", {}).values():
        keys.add(getattr(out, "io_manager_key", None) or "io_manager")
    for inp in getattr(node, "ins", {}).values():
        if getattr(inp, "input_manager_key", None):
            keys.add(inp.input_manager_key)
    return keys


def _relevant_resources(definition: Any, resources: Mapping[str, Any]) -> dict[str, Any]:
    """The resources ``definition`` needs, directly or through the resources it needs."""
    wanted = set(getattr(definition, "required_resource_keys", ()) or ()) | _io_keys(definition)
    key_by_id = {id(value): key for key, value in resources.items()}
    pending = list(wanted)
    while pending:
        dep = resources.get(pending.pop())
        deps = set(getattr(dep, "required_resource_keys", ()) or ())
        # nested resources that are also top-level resources (shared, configured by run config)
        deps |= {key_by_id[id(v)] for v in _nested_resource_values(dep) if id(v) in key_by_id}
        for key in deps - wanted:
            wanted.add(key)
            pending.append(key)
    return {key: value for key, value in resources.items() if key in wanted}


def _nested_resource_values(obj: Any) -> list[Any]:
    if not is_configurable_resource(obj):
        return []
    values = obj.values.values() if hasattr(obj, "resource_cls") else obj.__dict__.values()
    return [v for v in values if is_configurable_resource(v) or isinstance(v, ResourceDefinition)]


def _check_conflicts(definition: Any, resources: Mapping[str, Any]) -> None:
    existing = getattr(definition, "resource_defs", {}) or {}
    clashes = sorted(
        key
        for key, value in resources.items()
        if key in existing and existing[key] is not value and key != "io_manager"
    )
    if clashes:
        msg = (
            f"{definition!r} has conflicting resource definitions with provided resources for the "
            f"following keys: {', '.join(clashes)}. Either remove the existing resources from the "
            "asset or change the resource keys so that they don't overlap."
        )
        raise InvalidInvocationError(msg)


def _bind_source_asset(definition: Any, resources: Mapping[str, Any]) -> Any:
    io_key = definition.io_manager_key
    if (
        io_key not in resources
        and io_key not in definition.resource_defs
        and io_key != "io_manager"
    ):
        msg = (
            f"SourceAsset with asset key {definition.key.to_user_string()!r} requires IO manager with "
            f"key {io_key!r}, but none was provided. Add {io_key!r} to the resources."
        )
        raise DefinitionError(msg)
    bound = copy.copy(definition)  # bind the IO manager it is loaded with
    extra = {io_key: resources[io_key]} if io_key in resources else {}
    bound.resource_defs = {**extra, **definition.resource_defs}
    return bound


def _configured_resource(obj: Any, config: Any, key: str) -> Any:
    inner = (
        config.get("config")
        if isinstance(config, Mapping) and set(config) == {"config"}
        else config
    )
    if isinstance(obj, ResourceDefinition):
        return obj.configured(inner)
    if is_configurable_resource(obj):
        from weir._config._configurable import (
            PartialResource,
            _split_values,
            check_configurable_config,
        )

        path = f"root:resources:{key}:config"
        if inner is not None and not isinstance(inner, Mapping):
            msg = f"with_resources(): config for {key!r} must be a dict of field values, got {inner!r}."
            raise ResourceConfigError(msg, [msg])
        problems = check_configurable_config(obj, inner, path)
        if problems:
            from weir._config._evaluate import format_problems

            raise ResourceConfigError(
                format_problems(f"Error in config for resource {key!r}", problems), problems
            )
        cls = obj.resource_cls if isinstance(obj, PartialResource) else type(obj)
        values, others = _split_values(cls, obj)
        return PartialResource(cls, {**values, **others, **(inner or {})})
    if inner:
        msg = f"with_resources(): resource {key!r} ({type(obj).__name__}) takes no config."
        raise ResourceConfigError(msg, [msg])
    return obj


def _check_requirements(definition: Any) -> None:
    required = set(getattr(definition, "required_resource_keys", ()) or ()) | _io_keys(definition)
    bound = set(getattr(definition, "resource_defs", {}) or {})
    missing = sorted(required - bound - {"io_manager"})
    if missing:
        name = getattr(getattr(definition, "node_def", None), "name", None) or repr(definition)
        msg = (
            f"resource with key {missing[0]!r} required by op {name!r} was not provided. Please "
            f"provide a resource to key {missing[0]!r} in with_resources(..., {{{missing[0]!r}: ...}}), "
            f"or change the required key to one of the provided keys: {sorted(bound)}."
        )
        raise MissingResourceError(msg)
