"""``Definitions``: everything a code location exposes (assets, checks, jobs, schedules, sensors, resources)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir._model.asset_spec import AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir.errors import DefinitionError, DuplicateKeyError, InvariantViolationError

if TYPE_CHECKING:
    from weir._execution.asset_job import JobDefinition
    from weir._graph.asset_graph import AssetGraph
    from weir._graph.resolve import ResolvedAssets

__all__ = ["IMPLICIT_ASSET_JOB_NAME", "Definitions"]

IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"


class Definitions:
    """The set of definitions a code location exposes.

    Construction is cheap; the asset graph is resolved and validated on first use (or by
    :meth:`validate_loadable`) and cached.
    """

    def __init__(
        self,
        assets: Iterable[Any] | None = None,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        jobs: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        executor: Any = None,
        loggers: Mapping[str, Any] | None = None,
        asset_checks: Iterable[Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        component_tree: Any = None,
    ) -> None:
        self._assets = list(assets or ())
        self._schedules = list(schedules or ())
        self._sensors = list(sensors or ())
        self._jobs = list(jobs or ())
        self._resources = dict(resources or {})
        self._executor = executor
        self._loggers = dict(loggers or {})
        self._asset_checks = list(asset_checks or ())
        self._metadata = dict(metadata or {})
        self._component_tree = component_tree
        for name, value in (("assets", assets), ("jobs", jobs), ("asset_checks", asset_checks)):
            if isinstance(value, (str, bytes, Mapping)):
                msg = f"Definitions({name}=...) takes a list, got a {type(value).__name__}."
                raise DefinitionError(msg)

    # -- plain accessors ------------------------------------------------------------------------
    @property
    def assets(self) -> list[Any]:
        return self._assets

    @property
    def schedules(self) -> list[Any]:
        return self._schedules

    @property
    def sensors(self) -> list[Any]:
        return self._sensors

    @property
    def jobs(self) -> list[Any]:
        return self._jobs

    @property
    def resources(self) -> dict[str, Any]:
        return self._resources

    @property
    def executor(self) -> Any:
        return self._executor

    @property
    def loggers(self) -> dict[str, Any]:
        return self._loggers

    @property
    def asset_checks(self) -> list[Any]:
        return self._asset_checks

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    # -- resolution -----------------------------------------------------------------------------
    @functools.cached_property
    def _resolved(self) -> ResolvedAssets:
        from weir._graph.resolve import resolve_assets

        return resolve_assets(
            self._assets, self._asset_checks, resource_keys=self._resources.keys()
        )

    @functools.cached_property
    def _job_defs(self) -> dict[str, JobDefinition]:
        from weir._execution.asset_job import JobDefinition, UnresolvedAssetJobDefinition

        jobs: dict[str, JobDefinition] = {}
        sources: list[Any] = list(self._jobs)
        for automation in (*self._schedules, *self._sensors):
            for job in _targets_of(automation):
                if all(job is not s for s in sources):
                    sources.append(job)
        for job in sources:
            if isinstance(job, UnresolvedAssetJobDefinition):
                resolved = job.resolve(
                    self._resolved, resources=self._resources, executor_def=self._executor
                )
            elif isinstance(job, JobDefinition):
                resolved = job.with_top_level_resources(self._resources)
            else:
                msg = f"Definitions(jobs=...) got {job!r} (a {type(job).__name__}); expected a job from define_asset_job or @job."
                raise DefinitionError(msg)
            existing = jobs.get(resolved.name)
            if existing is not None and existing is not resolved:
                msg = f"Duplicate job definition found for job '{resolved.name}'. Job names must be unique within a Definitions object."
                raise DuplicateKeyError(msg)
            jobs[resolved.name] = resolved
        return jobs

    def resolve_asset_graph(self) -> AssetGraph:
        """The validated asset graph (cached)."""
        return self._resolved.graph

    def resolve_all_asset_keys(self) -> list[AssetKey]:
        return sorted(self._resolved.graph.all_asset_keys)

    def resolve_all_asset_specs(self) -> list[AssetSpec]:
        graph = self._resolved.graph
        return [graph.get(k).spec for k in graph.toposorted_asset_keys]

    def get_assets_def(self, key: CoercibleToAssetKey) -> AssetsDefinition:
        asset_key = AssetKey.from_coercible(key)
        ad = self._resolved.assets_def_by_key.get(asset_key)
        if ad is None:
            msg = f"No asset with key {asset_key.to_user_string()!r} in these Definitions."
            raise DefinitionError(msg)
        return ad

    def resolve_implicit_global_asset_job_def(self) -> JobDefinition:
        from weir._execution.asset_job import define_asset_job

        job = define_asset_job(IMPLICIT_ASSET_JOB_NAME)
        return job.resolve(self._resolved, resources=self._resources, executor_def=self._executor)

    def resolve_job_def(self, name: str) -> JobDefinition:
        if name == IMPLICIT_ASSET_JOB_NAME:
            return self.resolve_implicit_global_asset_job_def()
        job = self._job_defs.get(name)
        if job is None:
            import difflib

            close = difflib.get_close_matches(name, list(self._job_defs), n=3)
            hint = f" Did you mean {close}?" if close else ""
            msg = f"No job named {name!r}; jobs defined: {sorted(self._job_defs)}.{hint}"
            raise DefinitionError(msg)
        return job

    get_job_def = resolve_job_def

    def resolve_all_job_defs(self) -> list[JobDefinition]:
        return list(self._job_defs.values())

    def get_schedule_def(self, name: str) -> Any:
        return _by_name(self._schedules, name, "schedule")

    def get_sensor_def(self, name: str) -> Any:
        return _by_name(self._sensors, name, "sensor")

    def get_repository_def(self) -> Definitions:
        """weir has no separate repository object; the Definitions is its own repository."""
        self._resolved  # noqa: B018 - validate
        return self

    def load_asset_value(
        self,
        asset_key: CoercibleToAssetKey,
        *,
        instance: Any = None,
        partition_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        """Load an asset's stored value through its IO manager (outside of a run)."""
        from weir._execution.value_loader import load_asset_value

        return load_asset_value(
            self,
            AssetKey.from_coercible(asset_key),
            instance=instance,
            partition_key=partition_key,
            metadata=metadata,
        )

    @staticmethod
    def validate_loadable(defs: Definitions) -> None:
        """Resolve everything and raise the first definition error found."""
        from weir._graph.resolve import check_resource_dependencies

        defs._resolved  # noqa: B018
        check_resource_dependencies(defs._resources)
        defs._job_defs  # noqa: B018
        names: set[str] = set()
        for kind, items in (("schedule", defs._schedules), ("sensor", defs._sensors)):
            for item in items:
                name = str(getattr(item, "name", ""))
                if name in names:
                    msg = f"Duplicate {kind} definition found for {kind} {name!r}."
                    raise DuplicateKeyError(msg)
                names.add(name)

    # -- combination --------------------------------------------------------------------------
    @staticmethod
    def merge(*def_sets: Definitions) -> Definitions:
        """Combine several Definitions; conflicting resources, executors or loggers are errors."""
        assets: list[Any] = []
        schedules: list[Any] = []
        sensors: list[Any] = []
        jobs: list[Any] = []
        checks: list[Any] = []
        resources: dict[str, Any] = {}
        resource_owner: dict[str, int] = {}
        loggers: dict[str, Any] = {}
        logger_owner: dict[str, int] = {}
        metadata: dict[str, Any] = {}
        executor: Any = None
        executor_owner = -1
        for index, d in enumerate(def_sets):
            if not isinstance(d, Definitions):
                msg = f"Definitions.merge: argument {index} is a {type(d).__name__}, not a Definitions."
                raise DefinitionError(msg)
            assets += d._assets
            schedules += d._schedules
            sensors += d._sensors
            jobs += d._jobs
            checks += d._asset_checks
            metadata.update(d._metadata)
            for key, value in d._resources.items():
                if key in resources and resources[key] is not value and resources[key] != value:
                    msg = f"Definitions objects {resource_owner[key]} and {index} have different resources with same key '{key}'"
                    raise InvariantViolationError(msg)
                resources[key] = value
                resource_owner.setdefault(key, index)
            for key, value in d._loggers.items():
                if key in loggers and loggers[key] is not value:
                    msg = f"Definitions objects {logger_owner[key]} and {index} have different loggers with same key '{key}'"
                    raise InvariantViolationError(msg)
                loggers[key] = value
                logger_owner.setdefault(key, index)
            if d._executor is not None:
                if executor is not None and executor is not d._executor:
                    msg = f"Definitions objects {executor_owner} and {index} both have an executor"
                    raise InvariantViolationError(msg)
                executor, executor_owner = d._executor, index
        return Definitions(
            assets=assets,
            schedules=schedules,
            sensors=sensors,
            jobs=jobs,
            resources=resources,
            executor=executor,
            loggers=loggers,
            asset_checks=checks,
            metadata=metadata,
        )

    def map_asset_specs(
        self, *, func: Callable[[AssetSpec], AssetSpec], selection: Any = None
    ) -> Definitions:
        """A copy whose asset specs (external specs and those of asset definitions) went through ``func``."""
        selected: set[AssetKey] | None = None
        if selection is not None:
            from weir._graph.selection import AssetSelection

            selected = set(
                AssetSelection.from_coercible(selection).resolve(self.resolve_asset_graph())
            )

        def maybe(spec: AssetSpec) -> AssetSpec:
            return func(spec) if selected is None or spec.key in selected else spec

        new_assets: list[Any] = []
        for obj in self._assets:
            if isinstance(obj, AssetSpec):
                new_assets.append(maybe(obj))
            elif isinstance(obj, AssetsDefinition):
                new_assets.append(obj.map_asset_specs(maybe))
            else:
                new_assets.append(obj)
        return Definitions(
            assets=new_assets,
            schedules=self._schedules,
            sensors=self._sensors,
            jobs=self._jobs,
            resources=self._resources,
            executor=self._executor,
            loggers=self._loggers,
            asset_checks=self._asset_checks,
            metadata=self._metadata,
        )

    def with_resources(self, resources: Mapping[str, Any]) -> Definitions:
        return Definitions.merge(self, Definitions(resources=resources))

    def __repr__(self) -> str:
        return f"Definitions(assets={len(self._assets)}, jobs={len(self._jobs)}, resources={sorted(self._resources)})"


def _targets_of(automation: Any) -> list[Any]:
    jobs = []
    for attr in ("job", "target"):
        value = getattr(automation, attr, None)
        if value is not None and hasattr(value, "name"):
            jobs.append(value)
    return jobs


def _by_name(items: list[Any], name: str, kind: str) -> Any:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    msg = f"No {kind} named {name!r}; defined: {sorted(getattr(i, 'name', '?') for i in items)}."
    raise DefinitionError(msg)
