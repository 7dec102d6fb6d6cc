"""Pydantic-configured resources: ``ConfigurableResource``, the factory base it shares with
``ConfigurableIOManagerFactory``, ``ResourceDependency`` and ``configure_at_launch()`` partials.

Kept apart from :mod:`weir._config.resources` because it imports pydantic, which a run that uses
no configurable resource never needs. ``weir._config.resources`` re-exports these names lazily.

A ``ConfigurableResource`` is a :class:`~weir._config.config.Config`: its fields are its config
(with the same types, ``EnvVar`` support and secret masking), except fields holding other
resources (a ``ConfigurableResource`` type, or ``ResourceDependency[T]`` for anything else),
which are nested resources.

Life of a configurable resource in a run (:func:`initialize_configurable`):

1. when needed, its config is rebuilt: the values given in code (``EnvVar`` values as
   references), with run config for its key (``resources: {key: {config: {...}}}``) merged
   over them, checked against its schema (every problem at once, paths
   ``root:resources:<key>:config:<field>``), environment variables read, the model built (a
   ``configure_at_launch()`` partial gets all its missing values here);
2. fields holding other resources are initialised first (shared when the same object is also a
   top-level resource) and the live values replace them in a copy of the resource;
3. ``yield_for_execution(context)`` runs: by default ``setup_for_execution``, then the value
   (the resource itself, or what a factory creates), then ``teardown_after_execution`` at the end.

Resources without lifecycle hooks, nested resources, ``EnvVar`` values or run config skip the
rebuild, the copy and the context manager: they cost a few attribute checks per run.
"""

from __future__ import annotations

import typing
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, SkipValidation

from weir._config._pydantic_schema import schema_for_model
from weir._config.config import Config, _private, build_model, config_to_dict
from weir._config.config_mapping import merge_run_config
from weir._config.env_var import is_env_reference
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
    "ResourceDependency",
    "check_configurable_config",
    "initialize_configurable",
]


class _ResourceDependencyMarker:
    """The ``Annotated`` metadata that marks a field as holding a resource of any kind."""

    __slots__ = ()
    __weir_resource_dependency__ = True

    def __repr__(self) -> str:
        return "ResourceDependency"


T = TypeVar("T")

ResourceDependency = Annotated[T, SkipValidation, _ResourceDependencyMarker()]
"""``ResourceDependency[T]`` types a ``ConfigurableResource`` field that holds another resource
which is not a ``ConfigurableResource`` (a legacy ``ResourceDefinition``, a plain client object).

The value is not validated; a ``ResourceDefinition`` is initialised before the resource that
holds it, and the field then holds its live value.
"""


def _optional_inner(ann: Any) -> Any:
    args = typing.get_args(ann)
    if type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return ann


def _placeholder(cls: type[BaseModel], name: str, value: Any) -> Any:
    """A stand-in that passes validation for a nested resource field given a partial/definition."""
    if not isinstance(value, (PartialResource, ResourceDefinition)):
        return value
    info = cls.model_fields.get(name)
    ann = _optional_inner(info.annotation) if info is not None else None
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann.model_construct()
    return value


class ConfigurableResourceFactory(Config):
    """Base of pydantic-configured resources: the fields are config, ``create_resource`` makes the value.

    Subclass :class:`ConfigurableResource` (the value is the resource itself) or
    ``ConfigurableIOManagerFactory`` (the value is the IO manager it creates).
    """

    def __init__(self, **data: Any) -> None:
        nested: dict[str, Any] | None = None
        for name, value in data.items():
            if isinstance(value, (PartialResource, ResourceDefinition)):
                stand_in = _placeholder(type(self), name, value)
                if stand_in is not value:
                    nested = nested or {}
                    nested[name] = value
                    data[name] = stand_in
        super().__init__(**data)
        if nested:  # a configure_at_launch() partial (or a definition) held until run time
            self.__dict__.update(nested)

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
    if isinstance(raw, BaseModel):  # RunConfig(resources={"db": Db(...)}), not yet a dict
        return config_to_dict(raw, env_as="object")
    cfg = raw.get("config") if isinstance(raw, Mapping) else raw
    if cfg is not None and not isinstance(cfg, Mapping):
        msg = (
            f"Invalid config for resource {key!r}: root:resources:{key} must look like "
            f"{{'config': {{<field>: <value>, ...}}}}, got a {type(raw).__name__}."
        )
        raise ResourceConfigError(msg, [msg])
    return cfg


def _split_values(
    cls: type[ConfigurableResourceFactory], obj: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config values, resource-valued fields)`` of a resource instance or partial.

    Config values keep ``EnvVar`` objects (resolved when the model is rebuilt); nested models
    become dicts. Fields outside the config schema hold resources and are returned as they are.
    """
    config_names = schema_for_model(cls).fields
    if isinstance(obj, PartialResource):
        given = obj.values
    else:
        env = _private(obj, "_weir_env") or {}
        given = {name: env.get(name, obj.__dict__.get(name)) for name in cls.model_fields}
    config: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for name, value in given.items():
        if name in config_names:
            config[name] = (
                value if is_env_reference(value) else config_to_dict(value, env_as="object")
            )
        else:
            others[name] = value
    return config, others


def _needs_rebuild(obj: Any) -> bool:
    if isinstance(obj, PartialResource):
        return True
    from weir._config.config import has_env_references

    return has_env_references(obj)


def initialize_configurable(init: _Initializer, obj: Any, *, key: str | None, label: str) -> Any:
    """Bring one configurable resource (or partial) to life inside ``init``; return its live value."""
    run_config = _run_config_for(init, key)
    path = f"root:resources:{key if key is not None else label}:config"
    cls: type[ConfigurableResourceFactory] = (
        obj.resource_cls if isinstance(obj, PartialResource) else type(obj)
    )
    resource: ConfigurableResourceFactory
    if run_config or _needs_rebuild(obj):
        config, others = _split_values(cls, obj)
        merged = merge_run_config(config, run_config)  # run config wins, entry by entry
        stand_ins = {name: _placeholder(cls, name, value) for name, value in others.items()}
        resource = build_model(
            cls, merged, path=path, extra_values=stand_ins, error_cls=ResourceConfigError
        )
        nested_source = others
    else:
        resource = obj
        nested_source = {name: obj.__dict__.get(name) for name in cls.model_fields}

    updates: dict[str, Any] = {}
    for name, value in nested_source.items():
        if _is_nested_resource(value):
            updates[name] = init.init_nested(value, label=f"{label}.{name}")

    hooks = _has_lifecycle(cls)
    if updates or (hooks and resource is obj):
        # a per-run copy: set-up state never leaks into the user's object or between runs
        resource = resource.model_copy(update=updates)
    ctx = InitResourceContext(
        resource_config=_LAZY_CONFIG,
        resources=Resources(updates),
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


def check_configurable_config(
    obj: Any, run_config: Mapping[str, Any] | None, path: str
) -> list[str]:
    """The config problems of a configurable resource (or partial) with ``run_config`` merged in.

    Environment variables are not read (this runs before a run, at planning or in
    ``validate_run_config``): only the shape of every value is checked.
    """
    from weir._config._evaluate import Evaluation, evaluate

    cls = obj.resource_cls if isinstance(obj, PartialResource) else type(obj)
    config, _others = _split_values(cls, obj)
    ev = Evaluation("keep")
    evaluate(schema_for_model(cls), merge_run_config(config, run_config), path, (), ev)
    return ev.problems
