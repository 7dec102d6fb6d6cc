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
    """A job's default config as a dict (a ``ConfigMapping`` is kept aside by the caller)."""
    from weir._config.config_mapping import run_config_to_dict

    return run_config_to_dict(config)


def split_job_config(config: Any) -> tuple[Any, Any]:
    """``(default run config, config mapping or None)`` from a job's ``config=`` argument. A
    ``PartitionedConfig`` is kept whole as the defaults: it gives a run config per partition key."""
    if config is not None and hasattr(config, "resolve_from_unvalidated_config"):
        return {}, config
    if is_partitioned_config(config):
        return config, None
    return _config_dict(config), None


def is_partitioned_config(config: Any) -> bool:
    return config is not None and hasattr(config, "get_run_config_for_partition_key")


def launch_config(
    defaults: Any,
    mapping: Any,
    run_config: Any,
    partition_key: str | None = None,
    job_name: str = "",
) -> dict[str, Any]:
    """The run config a launch uses: the mapping applied to what was given, or the given config
    merged over the job's defaults (for a partitioned config, the partition's config)."""
    from weir._config.config_mapping import merge_run_config, run_config_to_dict

    given = run_config_to_dict(run_config)
    if mapping is not None:
        return run_config_to_dict(mapping.resolve_from_unvalidated_config(given))
    if is_partitioned_config(defaults):
        if partition_key is None:
            if given:
                return given  # explicit run config for a partitioned job: used as is, like Dagster
            from weir.errors import ConfigError

            msg = (
                f"Job {job_name!r} has a partitioned config ({defaults!r}): pass partition_key=... "
                "to get the run config of a partition, or pass run_config explicitly."
            )
            raise ConfigError(msg, [msg])
        defaults = run_config_to_dict(defaults.get_run_config_for_partition_key(partition_key))
    return merge_run_config(defaults, given)


def partition_tags(config: Any, partition_key: str | None, job_name: str) -> dict[str, str]:
    """The run tags a partitioned config adds for ``partition_key`` (none otherwise)."""
    if partition_key is None or not is_partitioned_config(config):
        return {}
    return dict(config.get_tags_for_partition_key(partition_key, job_name=job_name))


def check_resource_config(
    job_name: str, resources: dict[str, Any], config: dict[str, Any], required: Any
) -> None:
    """Validate the ``resources`` part of run config before any step runs (every problem at once)."""
    from weir._config._evaluate import format_problems
    from weir._config.validate import validate_resource_config
    from weir.errors import ConfigError

    problems = validate_resource_config(resources, config.get("resources"), required_keys=required)
    if problems:
        raise ConfigError(
            format_problems(f"Error in config for job {job_name}", problems), problems
        )


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
        self._config, self._config_mapping = split_job_config(config)
        self.description = description
        self.tags = {k: v if isinstance(v, str) else _json(v) for k, v in (tags or {}).items()}
        self.run_tags = {
            k: v if isinstance(v, str) else _json(v)
            for k, v in (run_tags if run_tags is not None else self.tags).items()
        }
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        if partitions_def is None and is_partitioned_config(self._config):
            self.partitions_def = self._config.partitions_def  # a partitioned config brings its own
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
        return dict(self._config) if not is_partitioned_config(self._config) else {}

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
        for cd in self._resolved.check_defs:
            resources.update(cd.resource_defs)
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
        checks = self._check_keys
        if asset_selection is not None:
            from weir._graph.selection import AssetSelection

            selection = AssetSelection.from_coercible(list(asset_selection))
            wanted = set(selection.resolve(self._resolved.graph))
            outside = wanted - keys
            if outside:
                msg = f"asset_selection includes {sorted(k.to_user_string() for k in outside)}, which are not in job {self.name!r}."
                raise DefinitionError(msg)
            keys = frozenset(wanted)
            checks = checks & frozenset(selection.resolve_checks(self._resolved.graph))
        if op_selection is not None:
            wanted_ops = set(op_selection)
            keys = frozenset(
                k for k in keys if self._resolved.assets_def_by_key[k].node_name in wanted_ops
            )
            checks = frozenset(
                c for c in checks if _check_step_name(self._resolved, c) in wanted_ops
            )
        config = launch_config(
            self._config, self._config_mapping, run_config, partition_key, self.name
        )
        plan = build_plan(self._resolved, keys, run_config=config, check_keys=checks)
        all_resources = self._all_resources(resources)
        check_resource_config(self.name, all_resources, config, plan.resource_keys)
        run_tags = {
            **partition_tags(self._config, partition_key, self.name),
            **self.run_tags,
            **(tags or {}),
        }
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
            hook_defs=self.hook_defs,
            op_retry_policy=self.op_retry_policy,
        )
        return ExecuteInProcessResult(state, self)

    def __repr__(self) -> str:
        return f"JobDefinition({self.name!r}, assets={len(self._asset_keys)})"


def _check_step_name(resolved: ResolvedAssets, key: AssetCheckKey) -> str | None:
    """The step that evaluates check ``key``: its own step, or the step of the asset declaring it."""
    cd = resolved.check_def_by_key.get(key)
    if cd is not None:
        return str(cd.node_def.name)
    ad = resolved.assets_def_by_key.get(key.asset_key)
    return ad.node_name if ad is not None else None


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
