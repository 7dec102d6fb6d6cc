"""``build_output_context`` and ``build_input_context``: IO manager contexts for unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._io.contexts import _NOT_GIVEN, InputContext, OutputContext
from weir._model.asset_key import AssetKey

__all__ = ["build_input_context", "build_output_context"]


def _live_resources(resources: Mapping[str, Any] | None, instance: Any) -> Any:
    if resources is None:
        return None
    from weir._config.resources import Resources, initialize_resources

    if isinstance(resources, Resources):
        return resources
    cm = initialize_resources(resources, list(resources), instance=instance, run_id=None)
    live = cm.__enter__()
    live._teardown = lambda: cm.__exit__(None, None, None)
    return live


def _coerce_key(asset_key: Any) -> AssetKey | None:
    return None if asset_key is None else AssetKey.from_coercible(asset_key)


def build_output_context(
    step_key: str | None = None,
    name: str | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    mapping_key: str | None = None,
    config: Any = None,
    dagster_type: Any = None,
    version: str | None = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    op_def: Any = None,
    asset_key: Any = None,
    partition_key: str | None = None,
    asset_partitions_def: Any = None,
    asset_partition_key_range: Any = None,
    instance: Any = None,
    asset_spec: Any = None,
    metadata: Mapping[str, Any] | None = None,
    output_metadata: Mapping[str, Any] | None = None,
) -> OutputContext:
    """An ``OutputContext`` for testing an IO manager's ``handle_output``.

    ``resources`` (any values ``resources=`` accepts) are initialised now; use the context in a
    ``with`` block to tear them down. ``metadata`` is the deprecated name of
    ``definition_metadata``.

    Example::

        ctx = dg.build_output_context(asset_key=["raw", "orders"], partition_key="2024-01-01")
        assert ctx.get_asset_identifier() == ["raw", "orders", "2024-01-01"]
    """
    return OutputContext(
        step_key=step_key,
        name=name,
        run_id=run_id,
        definition_metadata=definition_metadata if definition_metadata is not None else metadata,
        output_metadata=output_metadata,
        mapping_key=mapping_key,
        config=config,
        dagster_type=_NOT_GIVEN if dagster_type is None else dagster_type,
        version=version,
        resource_config=resource_config,
        resources=_live_resources(resources, instance),
        op_def=op_def,
        asset_key=_coerce_key(asset_key) if asset_spec is None else asset_spec.key,
        asset_spec=asset_spec,
        partition_key=partition_key,
        asset_partition_key_range=asset_partition_key_range,
        asset_partitions_def=asset_partitions_def,
        instance=instance,
    )


def build_input_context(
    name: str | None = None,
    config: Any = None,
    definition_metadata: Mapping[str, Any] | None = None,
    upstream_output: OutputContext | None = None,
    dagster_type: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    op_def: Any = None,
    step_context: Any = None,
    asset_key: Any = None,
    partition_key: str | None = None,
    asset_partition_key_range: Any = None,
    asset_partitions_def: Any = None,
    instance: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> InputContext:
    """An ``InputContext`` for testing an IO manager's ``load_input``.

    Example::

        upstream = dg.build_output_context(asset_key="orders")
        ctx = dg.build_input_context(asset_key="orders", upstream_output=upstream)
    """
    return InputContext(
        name=name,
        config=config,
        definition_metadata=definition_metadata if definition_metadata is not None else metadata,
        upstream_output=upstream_output,
        dagster_type=_NOT_GIVEN if dagster_type is None else dagster_type,
        resource_config=resource_config,
        resources=_live_resources(resources, instance),
        op_def=op_def,
        step_context=step_context,
        asset_key=_coerce_key(asset_key),
        partition_key=partition_key,
        asset_partition_key_range=asset_partition_key_range,
        asset_partitions_def=asset_partitions_def,
        instance=instance,
    )
