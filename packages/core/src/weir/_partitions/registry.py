"""Serialising partitions definitions by type name, through the partition-type registry.

``partitions_def_to_serializable(defn)`` gives ``defn.to_serializable()``: a JSON-ready dict
whose ``"type"`` is the class's ``plugin_name``. ``partitions_def_from_serializable(data)`` finds
the class registered under that name through the ``weir_register_partition_types`` hook
(``PluginRegistry().partition_types()``) and rebuilds the definition, so a plugin's partition type
round-trips like the core's. A class rebuilds from its ``from_serializable(data)`` classmethod
when it has one, else from ``cls(**fields)``.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from typing import Any

from weir._partitions.definition import PartitionsDefinition
from weir.errors import DefinitionError

__all__ = ["partitions_def_from_serializable", "partitions_def_to_serializable"]

logger = logging.getLogger(__name__)

# The registry of the outermost call, so nested definitions (dimensions of a multi definition)
# are decoded with the same plugins without threading it through every from_serializable.
_active_registry: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "weir_partition_registry", default=None
)


def partitions_def_to_serializable(partitions_def: PartitionsDefinition) -> dict[str, Any]:
    """The JSON-ready description of ``partitions_def`` (``{"type": plugin_name, ...}``).

    Raises:
        DefinitionError: ``partitions_def`` is not a partitions definition, or its
            ``to_serializable()`` does not record its ``plugin_name`` as ``"type"``.
    """
    if not isinstance(partitions_def, PartitionsDefinition):
        msg = f"Expected a partitions definition to serialise, got {type(partitions_def).__name__}."
        raise DefinitionError(msg)
    data = partitions_def.to_serializable()
    kind = type(partitions_def).plugin_name
    if not isinstance(data, dict) or data.get("type") != kind:
        msg = (
            f"{type(partitions_def).__qualname__}.to_serializable() must return a dict with "
            f'"type": {kind!r} (its plugin_name); got {data!r:.200}.'
        )
        raise DefinitionError(msg)
    return data


def partitions_def_from_serializable(
    data: Mapping[str, Any], *, registry: Any = None
) -> PartitionsDefinition:
    """Rebuild the partitions definition that ``data`` describes.

    Args:
        data: A dict from :func:`partitions_def_to_serializable`.
        registry: The ``weir.plugins.PluginRegistry`` to find types in; default: the one over
            ``default_plugin_manager()`` (or, inside a nested call, the outer call's).

    Raises:
        DefinitionError: ``data`` is not a dict with a string ``"type"``, or the class rejects it.
        PluginError: No installed plugin registers the type; the message names the installed
            partition types (with a did-you-mean).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        msg = (
            "A serialised partitions definition is a dict with a string 'type' (the partition "
            f"type's plugin_name, e.g. 'static'); got {data!r:.200}."
        )
        raise DefinitionError(msg)
    if registry is None:
        registry = _active_registry.get()
    if registry is None:
        from weir.plugins import PluginRegistry, default_plugin_manager

        registry = PluginRegistry(default_plugin_manager())
    cls = registry.partition_types().get(data["type"])
    token = _active_registry.set(registry)
    try:
        from_serializable = getattr(cls, "from_serializable", None)
        if from_serializable is not None:
            result = from_serializable(dict(data))
        else:
            fields = {key: value for key, value in data.items() if key != "type"}
            try:
                result = cls(**fields)
            except TypeError as exc:
                msg = (
                    f"Cannot rebuild partition type {data['type']!r} ({cls.__qualname__}) from "
                    f"{sorted(fields)}: {exc}. Give the class a from_serializable(data) classmethod."
                )
                raise DefinitionError(msg) from exc
    finally:
        _active_registry.reset(token)
    if not isinstance(result, PartitionsDefinition):
        msg = (
            f"Partition type {data['type']!r} ({cls.__qualname__}) rebuilt a "
            f"{type(result).__name__}, not a partitions definition."
        )
        raise DefinitionError(msg)
    return result
