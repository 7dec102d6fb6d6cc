"""Loading an asset's stored value outside of a run (``Definitions.load_asset_value``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir._model.asset_key import AssetKey

if TYPE_CHECKING:
    from weir._model.definitions import Definitions

__all__ = ["load_asset_value"]


def load_asset_value(
    defs: Definitions,
    key: AssetKey,
    *,
    instance: Any = None,
    partition_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    from weir._config.resources import initialize_resources
    from weir._execution.asset_job import default_io_manager
    from weir._instance.instance import Instance
    from weir._io.contexts import InputContext, OutputContext

    resolved = defs._resolved
    ad = resolved.assets_def_by_key.get(key)
    manager_key = resolved.io_manager_key_for(key)
    resources: dict[str, Any] = dict(ad.resource_defs) if ad is not None else {}
    resources.update(defs.resources)
    resources.setdefault("io_manager", default_io_manager("fs"))
    instance = instance if instance is not None else Instance.ephemeral()
    spec = ad.specs_by_key.get(key) if ad is not None else None
    with initialize_resources(resources, [manager_key], instance=instance) as live:
        upstream = OutputContext(
            step_key=ad.node_name
            if ad is not None and ad.node_name
            else key.to_python_identifier(),
            name=ad.get_output_name_for_asset_key(key)
            if ad is not None and ad.has_node
            else "result",
            asset_key=key,
            asset_spec=spec,
            definition_metadata=spec.metadata if spec is not None else {},
            resources=live,
            instance=instance,
            partition_key=partition_key,
        )
        ctx = InputContext(
            name=key.to_python_identifier(),
            asset_key=key,
            upstream_output=upstream,
            metadata=dict(metadata or {}),
            definition_metadata=dict(metadata or {}),
            resources=live,
            instance=instance,
            partition_key=partition_key,
        )
        return live.get(manager_key).load_input(ctx)
