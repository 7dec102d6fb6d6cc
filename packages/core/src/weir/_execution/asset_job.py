"""Asset jobs: ``define_asset_job`` (resolved against a Definitions' graph) and ``JobDefinition``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir._execution.result import ExecuteInProcessResult
from weir._graph.resolve import DEFAULT_IO_MANAGER_KEY, ResolvedAssets
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import DefinitionError, InvariantViolationError

__all__ = ["JobDefinition", "UnresolvedAssetJobDefinition", "define_asset_job"]


def _config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    to_dict = getattr(config, "to_config_dict", None)
    if to_dict is not None:
        return dict(to_dict())
    if isinstance(config, Mapping):
        return dict(config)
    msg = f"Job config must be a dict or a RunConfig, got {type(config).__name__}."
    raise DefinitionError(msg)


def default_io_manager(kind: str) -> Any:
    """The ``io_manager`` used when none is provided: filesystem (under the instance's storage
    directory) for asset jobs and ``materialize``, in-memory for ``materialize_to_memory``."""
    if kind == "mem":
        from weir._io.memory import InMemoryIOManager

        return InMemoryIOManager()
    from weir._io.filesystem import fs_io_manager

    return fs_io_manager


class JobDefinition:
    """A runnable selection of assets with resources, an executor, config and tags."""

    def __init__(
        self,
        *,
        name: str,
        resolved: ResolvedAssets,
        asset_keys: Iterable[AssetKey],
        check_keys: Iterable[AssetCheckKey] = (),
        resource_defs: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        config: Any = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: Any = None,
        hooks: Iterable[Any] | None = None,
        op_retry_policy: Any = None,
        default_io_manager_kind: str = "fs",
    ) -> None:
        self.name = name
        self._resolved = resolved
        self._asset_keys = frozenset(asset_keys)
        self._check_keys = frozenset(check_keys)
        self._resource_defs = dict(resource_defs or {})
        self.executor_def = executor_def
        self._config = _config_dict(config)
        self.description = description
        self.tags = {k: v if isinstance(v, str) else _json(v) for k, v in (tags or {}).items()}
        self.run_tags = {
            k: v if isinstance(v, str) else _json(v)
            for k, v in (run_tags if run_tags is not None else self.tags).items()
        }
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        self.hook_defs = frozenset(hooks or ())
        self.op_retry_policy = op_retry_policy
        self._default_io_manager_kind = default_io_manager_kind

    @property
    def asset_selection(self) -> frozenset[AssetKey]:
        return self._asset_keys

    @property
    def asset_layer(self) -> ResolvedAssets:
        return self._resolved

    @property
    def resource_defs(self) -> dict[str, Any]:
        return self._resource_defs

    @property
    def run_config(self) -> dict[str, Any]:
        return dict(self._config)

    def with_top_level_resources(self, resources: Mapping[str, Any]) -> JobDefinition:
        merged = {**resources, **self._resource_defs}
        if merged == self._resource_defs:
            return self
        return self._copy(resource_defs=merged)

    def _copy(self, **changes: Any) -> JobDefinition:
        values: dict[str, Any] = {
            "name": self.name,
            "resolved": self._resolved,
            "asset_keys": self._asset_keys,
            "check_keys": self._check_keys,
            "resource_defs": self._resource_defs,
            "executor_def": self.executor_def,
            "config": self._config,
            "description": self.description,
            "tags": self.tags,
            "run_tags": self.run_tags,
            "metadata": self.metadata,
            "partitions_def": self.partitions_def,
            "hooks": self.hook_defs,
            "op_retry_policy": self.op_retry_policy,
            "default_io_manager_kind": self._default_io_manager_kind,
        }
        values.update(changes)
        return JobDefinition(**values)

    def _all_resources(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        for ad in self._resolved.assets_defs:
            resources.update(ad.resource_defs)
        resources.update(self._resource_defs)
        if extra:
            resources.update(extra)
        if DEFAULT_IO_MANAGER_KEY not in resources:
            resources[DEFAULT_IO_MANAGER_KEY] = default_io_manager(self._default_io_manager_kind)
        return resources

    def execute_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Iterable[str] | None = None,
        asset_selection: Iterable[Any] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> ExecuteInProcessResult:
        """Run this job in the current process, step after step, and return the result."""
        from weir._execution.plan import build_plan
        from weir._execution.run_execution import execute_plan
        from weir._instance.instance import Instance

        keys = self._asset_keys
        if asset_selection is not None:
            from weir._graph.selection import AssetSelection

            wanted = set(
                AssetSelection.from_coercible(list(asset_selection)).resolve(self._resolved.graph)
            )
            outside = wanted - keys
            if outside:
                msg = f"asset_selection includes {sorted(k.to_user_string() for k in outside)}, which are not in job {self.name!r}."
                raise DefinitionError(msg)
            keys = frozenset(wanted)
        if op_selection is not None:
            wanted_ops = set(op_selection)
            keys = frozenset(
                k for k in keys if self._resolved.assets_def_by_key[k].node_name in wanted_ops
            )
        config = _config_dict(run_config) if run_config is not None else dict(self._config)
        plan = build_plan(self._resolved, keys, run_config=config)
        all_resources = self._all_resources(resources)
        run_tags = {**self.run_tags, **(tags or {})}
        state = execute_plan(
            plan=plan,
            resolved=self._resolved,
            resource_defs=all_resources,
            job_name=self.name,
            instance=instance if instance is not None else Instance.ephemeral(),
            run_config=config,
            tags=run_tags,
            run_id=run_id,
            partition_key=partition_key,
            raise_on_error=raise_on_error,
        )
        return ExecuteInProcessResult(state, self)

    def __repr__(self) -> str:
        return f"JobDefinition({self.name!r}, assets={len(self._asset_keys)})"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


class UnresolvedAssetJobDefinition:
    """A job over an asset selection; it becomes a ``JobDefinition`` inside ``Definitions``."""

    def __init__(
        self,
        name: str,
        selection: Any = None,
        config: Any = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: Any = None,
        executor_def: Any = None,
        hooks: Iterable[Any] | None = None,
        op_retry_policy: Any = None,
    ) -> None:
        self.name = name
        self.selection = selection
        self.config = config
        self.description = description
        self.tags = dict(tags or {})
        self.run_tags = dict(run_tags) if run_tags is not None else None
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        self.executor_def = executor_def
        self.hooks = list(hooks or ())
        self.op_retry_policy = op_retry_policy

    def resolve(
        self,
        resolved: ResolvedAssets,
        *,
        resources: Mapping[str, Any] | None = None,
        executor_def: Any = None,
    ) -> JobDefinition:
        graph = resolved.graph
        if self.selection is None:
            keys = set(graph.materializable_asset_keys)
            checks = set(graph.asset_check_keys)
        else:
            from weir._graph.selection import AssetSelection

            sel = AssetSelection.from_coercible(self.selection)
            keys = set(sel.resolve(graph))
            checks = set(sel.resolve_checks(graph)) if hasattr(sel, "resolve_checks") else set()
            external = sorted(
                k.to_user_string() for k in keys if k not in graph.materializable_asset_keys
            )
            if external:
                keys -= {k for k in keys if k not in graph.materializable_asset_keys}
        if not keys and not checks and self.selection is not None:
            raise InvariantViolationError(
                f"Job {self.name!r}: its selection {self.selection!r} matches no materializable assets."
            )
        return JobDefinition(
            name=self.name,
            resolved=resolved,
            asset_keys=keys,
            check_keys=checks,
            resource_defs=resources,
            executor_def=self.executor_def or executor_def,
            config=self.config,
            description=self.description,
            tags=self.tags,
            run_tags=self.run_tags,
            metadata=self.metadata,
            partitions_def=self.partitions_def,
            hooks=self.hooks,
            op_retry_policy=self.op_retry_policy,
        )

    def __repr__(self) -> str:
        return f"UnresolvedAssetJobDefinition({self.name!r})"


def define_asset_job(
    name: str,
    selection: Any = None,
    config: Any = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    executor_def: Any = None,
    hooks: Iterable[Any] | None = None,
    op_retry_policy: Any = None,
    **kwargs: Any,
) -> UnresolvedAssetJobDefinition:
    """A job that materializes ``selection`` (a selection string, keys, asset definitions or an AssetSelection)."""
    from weir._model.asset_key import check_valid_name

    check_valid_name(name, "Job name") if not name.startswith("__") else None
    return UnresolvedAssetJobDefinition(
        name,
        selection=selection,
        config=config,
        description=description,
        tags=tags,
        run_tags=run_tags,
        metadata=metadata,
        partitions_def=partitions_def,
        executor_def=executor_def,
        hooks=hooks,
        op_retry_policy=op_retry_policy,
    )
