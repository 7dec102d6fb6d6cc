"""Pydantic-configured resources: ``ConfigurableResource`` and the factory base it shares with
``ConfigurableIOManagerFactory``.

Kept apart from :mod:`weir._config.resources` because it imports pydantic, which a run that uses
no configurable resource never needs. ``weir._config.resources`` re-exports these names lazily.

Life of a configurable resource in a run (:func:`initialize_configurable`):

1. run config for its key (``resources: {key: {config: {...}}}``) is merged over the values given
   in code and validated (a ``configure_at_launch()`` partial gets all of its missing values here);
2. fields holding other resources are initialised first (shared when the same object is also a
   top-level resource) and the live values replace them in a copy of the resource;
3. deferred values are resolved (the seam where ``EnvVar`` plugs in with the config issue);
4. ``yield_for_execution(context)`` runs: by default ``setup_for_execution``, then the value
   (the resource itself, or what a factory creates), then ``teardown_after_execution`` at the end.

Resources without lifecycle hooks, nested resources or run config skip the copy and the context
manager entirely: they cost one ``isinstance`` per run.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from weir._config.config import resolve_config_param
from weir._config.resources import (
    _LAZY_CONFIG,
    InitResourceContext,
    ResourceConfigError,
    ResourceDefinition,
    Resources,
)

if TYPE_CHECKING:
    from weir._config._runtime import _Initializer

__all__ = [
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "PartialResource",
    "initialize_configurable",
]


class ConfigurableResourceFactory(BaseModel):
    """Base of pydantic-configured resources: the fields are config, ``create_resource`` makes the value.

    Subclass :class:`ConfigurableResource` (the value is the resource itself) or
    ``ConfigurableIOManagerFactory`` (the value is the IO manager it creates).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @abstractmethod
    def create_resource(self, context: InitResourceContext) -> Any:
        """The live value handed to steps."""

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Called once per run before the first step that needs this resource. Override to connect."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Called once when the run ends, even if it failed. Override to disconnect."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Any]:
        """The whole lifecycle as one context manager; override it instead of the two hooks.

        The default runs ``setup_for_execution``, yields the value, then runs
        ``teardown_after_execution``.
        """
        self.setup_for_execution(context)
        try:
            yield self.create_resource(context)
        finally:
            self.teardown_after_execution(context)

    @classmethod
    def configure_at_launch(cls, **values: Any) -> PartialResource:
        """A resource whose missing config comes from run config (``resources.<key>.config``).

        Values given here are defaults that run config may override.
        """
        return PartialResource(cls, values)

    @classmethod
    def from_resource_context(cls, context: InitResourceContext) -> Any:
        """Build the value from a legacy ``InitResourceContext`` (its ``resource_config`` are the fields)."""
        instance = cls(**(context.resource_config or {}))
        return instance.create_resource(context)


class ConfigurableResource(ConfigurableResourceFactory):
    """A resource configured by its pydantic fields; steps receive the resource object itself.

    Example::

        class Warehouse(dg.ConfigurableResource):
            url: str

            def query(self, sql: str) -> list[tuple]:
                ...

        @dg.asset
        def orders(warehouse: Warehouse) -> list[tuple]:
            return warehouse.query("select * from orders")

        dg.Definitions(assets=[orders], resources={"warehouse": Warehouse(url="duckdb:///w.db")})

    Fields typed as another ``ConfigurableResource`` are nested resources: they are initialised
    first. ``setup_for_execution``/``teardown_after_execution`` (or ``yield_for_execution``) run
    on a per-run copy, so state set there (private attributes) never leaks between runs.
    """

    def create_resource(self, context: InitResourceContext) -> Any:
        return self


class PartialResource:
    """A ``ConfigurableResource`` class with part of its config; the rest comes from run config."""

    __slots__ = ("resource_cls", "values")

    def __init__(self, resource_cls: type[ConfigurableResourceFactory], values: Mapping[str, Any]):
        self.resource_cls = resource_cls
        self.values = dict(values)

    def __repr__(self) -> str:
        return f"PartialResource({self.resource_cls.__name__}, given={sorted(self.values)})"


_HOOK_NAMES = ("setup_for_execution", "teardown_after_execution", "yield_for_execution")
_has_hooks_cache: dict[type, bool] = {}


def _has_lifecycle(cls: type) -> bool:
    hit = _has_hooks_cache.get(cls)
    if hit is None:
        hit = any(
            getattr(cls, name) is not getattr(ConfigurableResourceFactory, name)
            for name in _HOOK_NAMES
        )
        _has_hooks_cache[cls] = hit
    return hit


def _is_nested_resource(value: Any) -> bool:
    return isinstance(value, (ConfigurableResourceFactory, PartialResource, ResourceDefinition))


def _run_config_for(init: _Initializer, key: str | None) -> Mapping[str, Any] | None:
    if key is None:
        return None
    raw = init.resources_config.get(key)
    if raw is None:
        return None
    if isinstance(
        raw, BaseModel
    ):  # RunConfig(resources={"db": Db(...)}) not yet turned into a dict
        from weir._config.config import config_to_dict

        return config_to_dict(raw)
    cfg = raw.get("config") if isinstance(raw, Mapping) else raw
    if cfg is not None and not isinstance(cfg, Mapping):
        msg = (
            f"Invalid config for resource {key!r}: root:resources:{key} must look like "
            f"{{'config': {{<field>: <value>, ...}}}}, got a {type(raw).__name__}."
        )
        raise ResourceConfigError(msg, [msg])
    return cfg


def _resolve_deferred_values(resource: ConfigurableResourceFactory, label: str) -> dict[str, Any]:
    """Field values to replace before set-up because they are only known at run time.

    The seam for ``EnvVar`` (config issue): it resolves each ``EnvVar`` field here, raising a
    ``ConfigError`` that names the variable (never its value) when it is unset. Nothing to do yet.
    """
    return {}


def initialize_configurable(init: _Initializer, obj: Any, *, key: str | None, label: str) -> Any:
    """Bring one configurable resource (or partial) to life inside ``init``; return its live value."""
    run_config = _run_config_for(init, key)
    path = f"root:resources:{key if key is not None else label}:config"
    resource: ConfigurableResourceFactory
    if isinstance(obj, PartialResource):
        merged = {**obj.values, **(run_config or {})}
        resource = resolve_config_param(obj.resource_cls, merged, path=path)
    elif run_config:
        current = {name: getattr(obj, name) for name in type(obj).model_fields}
        resource = resolve_config_param(type(obj), {**current, **run_config}, path=path)
    else:
        resource = obj

    updates: dict[str, Any] = {}
    nested_live: dict[str, Any] = {}
    for name in type(resource).model_fields:
        value = getattr(resource, name)
        if _is_nested_resource(value):
            live = init.init_nested(value, label=f"{label}.{name}")
            updates[name] = live
            nested_live[name] = live
    updates.update(_resolve_deferred_values(resource, label))

    hooks = _has_lifecycle(type(resource))
    if updates or hooks:
        # a per-run copy: set-up state never leaks into the user's object or between runs
        resource = resource.model_copy(update=updates)
    ctx = InitResourceContext(
        resource_config=_LAZY_CONFIG,
        resources=Resources(nested_live),
        instance=init.instance,
        run_id=init.run_id,
        log=init.log,
        resource_def=resource,
    )
    if not hooks:
        return resource.create_resource(ctx)
    cm = resource.yield_for_execution(ctx)
    value = cm.__enter__()
    exit_: Callable[..., Any] = cm.__exit__
    init.teardowns.append((label, lambda: exit_(None, None, None)))
    return value
