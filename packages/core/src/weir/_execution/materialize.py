"""``materialize`` and ``materialize_to_memory``: run a list of assets in this process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._execution.asset_job import JobDefinition
from weir._execution.result import ExecuteInProcessResult
from weir._graph.resolve import resolve_assets
from weir._model.assets_definition import AssetsDefinition
from weir.errors import DefinitionError, InvariantViolationError

__all__ = ["EPHEMERAL_JOB_NAME", "materialize", "materialize_to_memory"]

EPHEMERAL_JOB_NAME = "__ephemeral_asset_job__"


def _run(
    assets: Iterable[Any],
    *,
    run_config: Any,
    instance: Any,
    resources: Mapping[str, Any] | None,
    partition_key: str | None,
    raise_on_error: bool,
    tags: Mapping[str, str] | None,
    selection: Any,
    default_io: str,
) -> ExecuteInProcessResult:
    if isinstance(assets, (AssetsDefinition, str)) or not isinstance(assets, Iterable):
        msg = f"materialize() takes a list of assets, got {type(assets).__name__}; wrap it: materialize([{getattr(assets, '__name__', 'asset')}])."
        raise DefinitionError(msg)
    # resolve_assets takes asset checks given among the assets apart itself
    resolved = resolve_assets(list(assets), resource_keys=list(resources or {}))
    graph = resolved.graph
    if selection is None:
        keys = {k for ad in resolved.assets_defs if ad.is_executable for k in ad.keys}
        check_keys = set(graph.asset_check_keys)
    else:
        from weir._graph.selection import AssetSelection

        sel = AssetSelection.from_coercible(selection)
        keys = set(sel.resolve(graph))
        keys = {k for k in keys if k in graph.materializable_asset_keys}
        check_keys = set(sel.resolve_checks(graph))
    job = JobDefinition(
        name=EPHEMERAL_JOB_NAME,
        resolved=resolved,
        asset_keys=keys,
        check_keys=check_keys,
        resource_defs=resources,
        default_io_manager_kind=default_io,
    )
    return job.execute_in_process(
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
    )


def materialize(
    assets: Sequence[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    selection: Any = None,
) -> ExecuteInProcessResult:
    """Materialize ``assets`` in this process.

    ``assets`` may include ``AssetSpec``/``SourceAsset`` objects for upstream data produced elsewhere.
    Values are stored with the filesystem IO manager under the instance's storage directory unless
    ``resources`` provides an ``io_manager``. With ``raise_on_error`` the user's exception is re-raised.
    """
    return _run(
        assets,
        run_config=run_config,
        instance=instance,
        resources=resources,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
        selection=selection,
        default_io="fs",
    )


def materialize_to_memory(
    assets: Sequence[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    selection: Any = None,
) -> ExecuteInProcessResult:
    """Like :func:`materialize`, but every IO manager key is served by one in-memory IO manager."""
    from weir._io.memory import InMemoryIOManager

    resources = dict(resources or {})
    for key, value in resources.items():
        if _is_io_manager(value):
            msg = (
                f"materialize_to_memory() was given an IO manager for resource key {key!r}; it always stores values "
                "in memory. Remove that resource or call materialize() instead."
            )
            raise InvariantViolationError(msg)
    memory = InMemoryIOManager()
    for obj in assets:
        if isinstance(obj, AssetsDefinition) and obj.has_node:
            for out in obj.node_def.outs.values():
                resources.setdefault(out.io_manager_key, memory)
            for inp in obj.node_def.ins.values():
                if inp.input_manager_key:
                    resources.setdefault(inp.input_manager_key, memory)
        else:
            key = getattr(obj, "io_manager_key", None) or "io_manager"
            resources.setdefault(key, memory)
    resources.setdefault("io_manager", memory)
    return _run(
        assets,
        run_config=run_config,
        instance=instance,
        resources=resources,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
        selection=selection,
        default_io="mem",
    )


def _is_io_manager(value: Any) -> bool:
    from weir._io.io_manager import is_io_manager_resource

    return is_io_manager_resource(value)
