"""Resources: what they are, how they are declared, and how a run brings them to life.

A resource is anything a step uses besides its inputs: a database client, an API wrapper, an
IO manager. ``Definitions(resources={...})`` / ``materialize(resources={...})`` accept:

* a :class:`ConfigurableResource` instance (pydantic; its fields are its config), a
  ``ConfigurableIOManager`` or a ``ConfigurableIOManagerFactory``;
* a legacy :class:`ResourceDefinition` / ``IOManagerDefinition`` (``@resource``, ``@io_manager``),
  whose function may be a generator: the code after ``yield`` is its teardown;
* an object whose class defines ``__weir_resource__(self, init_context)`` (an internal protocol:
  the value is what that method returns, e.g. the default filesystem IO manager, which needs
  the run's instance);
* anything else (an ``IOManager`` instance, a dict, a client object), used as is.

:func:`initialize_resources` is the run-time machinery: it builds only the resources a run
needs (plus what they depend on), dependencies first, each once, and tears them down in
reverse order when the run ends, even when it failed.

This module does not import pydantic: the executor imports it on every run. The pydantic
classes (``ConfigurableResource`` and friends) live in :mod:`weir._config._configurable`, and
the run-time machinery (``initialize_resources``, ``build_resources``) in
:mod:`weir._config._runtime`; both are re-exported from here lazily (module ``__getattr__``),
so ``weir.ConfigurableResource`` and ``from weir._config.resources import initialize_resources``
work as if they were defined here.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, overload

from weir.errors import ConfigError, DefinitionError, ResourceError
from weir.lazy import lazy_getattr

if TYPE_CHECKING:
    from weir._config._configurable import (
        ConfigurableResource,
        ConfigurableResourceFactory,
        PartialResource,
        ResourceDependency,
    )
    from weir._config._runtime import build_resources, initialize_resources
    from weir._config.with_resources import with_resources

__all__ = [
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "InitResourceContext",
    "MissingResourceError",
    "PartialResource",
    "ResourceConfigError",
    "ResourceDefinition",
    "ResourceDependency",
    "ResourceInitError",
    "ResourceParam",
    "Resources",
    "UnknownResourceError",
    "build_init_resource_context",
    "build_resources",
    "initialize_resources",
    "is_configurable_resource",
    "resource",
    "with_resources",
]

logger = logging.getLogger(__name__)

_CONFIGURABLE_MODULE = "weir._config._configurable"
_LAZY_NAMES = {
    # pydantic-based: loaded on first use, not when the executor imports this module
    "ConfigurableResource": _CONFIGURABLE_MODULE,
    "ConfigurableResourceFactory": _CONFIGURABLE_MODULE,
    "PartialResource": _CONFIGURABLE_MODULE,
    "ResourceDependency": _CONFIGURABLE_MODULE,
    # the run-time machinery lives in its own module (it imports this one)
    "initialize_resources": "weir._config._runtime",
    "build_resources": "weir._config._runtime",
    "with_resources": "weir._config.with_resources",
}


__getattr__ = lazy_getattr(globals(), _LAZY_NAMES)


# -- errors -------------------------------------------------------------------------------------


class UnknownResourceError(ResourceError, AttributeError, KeyError):
    """A step asked ``context.resources`` for a key the run does not have.

    It is also an ``AttributeError`` (so ``hasattr``/``getattr(..., default)`` work) and a
    ``KeyError`` (so mapping-style lookups behave like a dict's).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ResourceInitError(ResourceError):
    """A resource failed to initialise; the user's exception is ``user_exception`` and ``__cause__``."""

    def __init__(
        self,
        message: str,
        *,
        resource_key: str | None = None,
        user_exception: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.resource_key = resource_key
        self.user_exception = user_exception


class MissingResourceError(ResourceError, DefinitionError):
    """A resource key something requires was not provided.

    Both a ``ResourceError`` and a ``DefinitionError`` (``DagsterInvalidDefinitionError``, what
    Dagster raises when definitions are loaded with a resource missing).
    """


class ResourceConfigError(ResourceError, ConfigError):
    """A resource's config failed validation (catchable as ``ResourceError`` and ``ConfigError``)."""


# -- ResourceParam ------------------------------------------------------------------------------


class _ResourceParamMarker:
    """The ``Annotated`` metadata that marks a parameter as a plain-object resource."""

    __slots__ = ()
    __weir_resource_param__ = True

    def __repr__(self) -> str:
        return "ResourceParam"


T = TypeVar("T")

ResourceParam = Annotated[T, _ResourceParamMarker()]
"""``ResourceParam[T]`` marks an asset/op parameter as a resource holding a plain object ``T``.

The parameter name is the resource key: ``def my_asset(client: ResourceParam[dict])`` receives
``resources["client"]`` as is (plain objects in ``resources=`` are not wrapped).
"""


# -- the live resources of a run ----------------------------------------------------------------


class Resources(Mapping[str, Any]):
    """The initialised resources of a run: ``resources.db`` or ``resources["db"]``.

    Values are the live objects (a ``ConfigurableResource`` after its set-up, the value a
    legacy ``@resource`` function returned or yielded, the IO manager a factory created).
    """

    __slots__ = ("_teardown", "_values")

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values: dict[str, Any] = dict(values)
        # set by builders (build_*_context) whose resources need tearing down later
        self._teardown: Callable[[], Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise UnknownResourceError(self._unknown_message(name)) from None

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise UnknownResourceError(self._unknown_message(key)) from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._values})

    def __repr__(self) -> str:
        return f"Resources({sorted(self._values)!r})"

    def _unknown_message(self, key: str) -> str:
        return (
            f"Unknown resource {key!r}. Available resources: {sorted(self._values)}."
            f"{_did_you_mean(key, self._values)} Declare {key!r} as a required resource of the "
            "asset/op that uses it (a typed parameter, or required_resource_keys={...})."
        )


def _did_you_mean(key: str, options: Iterable[str]) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, list(options), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


# -- the context a resource is initialised with ----------------------------------------------------


_LAZY_CONFIG: Any = object()


class InitResourceContext:
    """What a resource sees while it is initialised: its config, its dependencies, the run.

    ``resource_config`` is the resource's validated config, ``resources`` the resources it
    depends on, ``instance`` / ``dagster_run`` / ``run_id`` the run, ``log`` a logger and
    ``resource_def`` the definition being initialised. Use ``build_init_resource_context`` to
    make one in tests.
    """

    __slots__ = (
        "_dagster_run",
        "_instance",
        "_log",
        "_resource_config",
        "_resource_def",
        "_resources",
        "_run_id",
        "_teardown",
    )

    def __init__(
        self,
        *,
        resource_config: Any = None,
        resources: Resources | None = None,
        instance: Any = None,
        dagster_run: Any = None,
        run_id: str | None = None,
        log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        resource_def: Any = None,
    ) -> None:
        self._resource_config = resource_config
        self._resources = resources
        self._instance = instance
        self._dagster_run = dagster_run
        self._run_id = run_id
        self._log = log
        self._resource_def = resource_def
        self._teardown: Callable[[], Any] | None = None

    @property
    def resource_config(self) -> Any:
        """The resource's config (a dict for legacy resources; the field values for pydantic ones)."""
        if self._resource_config is _LAZY_CONFIG:
            from weir._config.config import config_to_dict

            self._resource_config = config_to_dict(self._resource_def)
        return self._resource_config

    @property
    def resources(self) -> Resources:
        """The resources this resource depends on."""
        if self._resources is None:
            self._resources = Resources({})
        return self._resources

    @property
    def instance(self) -> Any:
        """The instance of the run (``None`` outside a run unless one was given)."""
        return self._instance

    @property
    def dagster_run(self) -> Any:
        """The run being executed (``None`` outside a run)."""
        if self._dagster_run is None and self._instance is not None and self._run_id:
            get_run = getattr(self._instance, "get_run_by_id", None)
            if get_run is not None:
                self._dagster_run = get_run(self._run_id)
        return self._dagster_run

    @property
    def run_id(self) -> str | None:
        """The run id (``None`` outside a run)."""
        return self._run_id

    @property
    def log(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        """A logger for messages about this resource."""
        return self._log if self._log is not None else logger

    @property
    def resource_def(self) -> Any:
        """The resource definition (or ``ConfigurableResource`` instance) being initialised."""
        return self._resource_def

    def replace_config(self, config: Any) -> InitResourceContext:
        """A copy of this context with another ``resource_config``."""
        return InitResourceContext(
            resource_config=config,
            resources=self._resources,
            instance=self._instance,
            dagster_run=self._dagster_run,
            run_id=self._run_id,
            log=self._log,
            resource_def=self._resource_def,
        )

    # ``with build_init_resource_context(...) as ctx:`` tears its resources down at the end
    def __enter__(self) -> InitResourceContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        teardown, self._teardown = self._teardown, None
        if teardown is not None:
            teardown()

    def __repr__(self) -> str:
        return f"InitResourceContext(run_id={self._run_id!r}, resources={sorted(self.resources)!r})"


def build_init_resource_context(
    config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    instance: Any = None,
) -> InitResourceContext:
    """An ``InitResourceContext`` for calling a resource function directly in a test.

    ``resources`` are initialised now (each may be any value ``resources=`` accepts). Use the
    context in a ``with`` block to tear them down at the end::

        with build_init_resource_context(config={"url": "x"}) as ctx:
            client = my_resource(ctx)
    """
    live = Resources({})
    teardown: Callable[[], Any] | None = None
    if resources:
        from weir._config._runtime import initialize_resources

        cm = initialize_resources(resources, list(resources), instance=instance)
        live = cm.__enter__()
        teardown = lambda: cm.__exit__(None, None, None)  # noqa: E731
    ctx = InitResourceContext(
        resource_config=dict(config) if config is not None else None,
        resources=live,
        instance=instance,
    )
    ctx._teardown = teardown
    return ctx


# -- legacy resource definitions ----------------------------------------------------------------


_NO_CONFIG: Any = object()


class ResourceDefinition:
    """A resource defined by a function of an :class:`InitResourceContext` (the legacy form).

    ``resource_fn(init_context)`` returns the resource, or is a generator that yields it once
    and runs its teardown after the ``yield`` when the run ends (even when it failed).
    ``config_schema`` describes ``init_context.resource_config``: ``None`` (any config) or a
    classic schema (``{"url": str, "port": Field(int, default_value=5432)}``, ``StringSource``
    for values that may come from ``{"env": "VAR"}`` ...; see :mod:`weir._config.schema`),
    checked with defaults applied when the resource is initialised. ``required_resource_keys``
    are the resources it depends on, available as ``init_context.resources``.
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
    ) -> None:
        if not callable(resource_fn):
            msg = f"ResourceDefinition needs a callable resource_fn, got {resource_fn!r}."
            raise ResourceError(msg)
        if isinstance(required_resource_keys, str):
            msg = (
                f"required_resource_keys must be a set of keys, got the string {required_resource_keys!r}; "
                f"write {{{required_resource_keys!r}}}."
            )
            raise ResourceError(msg)
        self._resource_fn = resource_fn
        self._config_schema = config_schema
        self._description = description
        self._required_resource_keys = frozenset(required_resource_keys or ())
        self._version = version
        self._configured_config: Any = _NO_CONFIG
        self._takes_context = _takes_context(resource_fn)

    @property
    def resource_fn(self) -> Callable[..., Any]:
        return self._resource_fn

    @property
    def config_schema(self) -> Any:
        return self._config_schema

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def required_resource_keys(self) -> frozenset[str]:
        return self._required_resource_keys

    @property
    def version(self) -> str | None:
        return self._version

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always ``value``."""
        return ResourceDefinition(_Constant(value), description=description)

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is ``None`` (a placeholder)."""
        return ResourceDefinition.hardcoded_resource(None, description)

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is a fresh ``unittest.mock.MagicMock``."""
        from unittest import mock

        return ResourceDefinition(lambda _ctx: mock.MagicMock(), description=description)

    @staticmethod
    def string_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is its config, a string."""
        return ResourceDefinition(lambda ctx: ctx.resource_config, str, description)

    def configured(
        self, config: Any, config_schema: Any = None, description: str | None = None
    ) -> ResourceDefinition:
        """A copy of this definition with its config fixed to ``config``.

        ``config`` may be a dict (validated against this definition's schema when the resource is
        initialised) or a function of the run config given under ``config_schema``.
        """
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._description = description if description is not None else self._description
        if callable(config):
            new._configured_config = _ConfigMapper(config, self._config_schema)
            new._config_schema = config_schema
        else:
            new._configured_config = config
        return new

    def _resolve_config(self, run_config: Any, key: str) -> Any:
        """Validate the config of resource ``key`` (run config, or what ``configured`` fixed)."""
        path = f"root:resources:{key}:config"
        configured = self._configured_config
        if isinstance(configured, _ConfigMapper):
            outer = _validate_legacy_config(self._config_schema, run_config, path)
            return _validate_legacy_config(configured.schema, configured.fn(outer), path)
        if configured is not _NO_CONFIG:
            if run_config is not None:
                msg = (
                    f"Error in config for resource {key!r}: it was configured in code with .configured(...), "
                    f"so it takes no run config, but {path} was given. Remove resources.{key}.config from the run config."
                )
                raise ResourceConfigError(msg, [msg])
            return _validate_legacy_config(self._config_schema, configured, path, configured=True)
        return _validate_legacy_config(self._config_schema, run_config, path)

    def _config_problems(self, run_config: Any, key: str) -> list[str]:
        """Problems of the config resource ``key`` would get, without reading the environment."""
        from weir._config._evaluate import Evaluation, evaluate_field

        path = f"root:resources:{key}:config"
        configured = self._configured_config
        ev = Evaluation("keep")
        if isinstance(configured, _ConfigMapper) or configured is _NO_CONFIG:
            if self._config_schema is not None:
                evaluate_field(self._config_schema, run_config, path, ev)
        elif run_config is not None:
            ev.problems.append(
                f'Received unexpected config entry "config" at path root:resources:{key}. Resource '
                f"{key!r} was configured in code with .configured(...) and takes no run config."
            )
        return ev.problems

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the resource function directly (for tests): ``my_resource(build_init_resource_context())``.

        A generator resource returns a context manager: ``with my_resource(ctx) as value: ...``.
        """
        context = (
            args[0] if args else kwargs.pop("context", None) or kwargs.pop("init_context", None)
        )
        if context is None:
            context = build_init_resource_context()
        if self._configured_config is not _NO_CONFIG and context.resource_config is None:
            context = context.replace_config(self._resolve_config(None, "<direct call>"))
        result = self._resource_fn(context) if self._takes_context else self._resource_fn()
        if inspect.isgenerator(result):
            return _generator_context(result, "<direct call>")
        return result

    def __repr__(self) -> str:
        fn = getattr(self._resource_fn, "__name__", type(self._resource_fn).__name__)
        return f"{type(self).__name__}({fn})"


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, _context: Any) -> Any:
        return self.value


class _ConfigMapper:
    __slots__ = ("fn", "schema")

    def __init__(self, fn: Callable[[Any], Any], schema: Any) -> None:
        self.fn = fn
        self.schema = schema


def _takes_context(fn: Callable[..., Any]) -> bool:
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        return True
    return bool(params)


@contextmanager
def _generator_context(gen: Iterator[Any], label: str) -> Iterator[Any]:
    value = next(gen)
    try:
        yield value
    finally:
        _finish_generator(gen, label)


def _finish_generator(gen: Iterator[Any], label: str) -> None:
    try:
        next(gen)
    except StopIteration:
        return
    msg = (
        f"Resource {label!r} yielded more than once; a resource generator must yield exactly once."
    )
    raise ResourceError(msg)


@overload
def resource(config_schema: Callable[..., Any]) -> ResourceDefinition: ...


@overload
def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], ResourceDefinition]: ...


def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define a resource from a function of ``init_context`` (bare ``@resource`` or called).

    Example::

        @dg.resource(config_schema={"url": str})
        def db(init_context):
            conn = connect(init_context.resource_config["url"])
            yield conn
            conn.close()  # teardown, runs when the run ends
    """
    if inspect.isfunction(config_schema) or inspect.ismethod(config_schema):
        return ResourceDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> ResourceDefinition:
        return ResourceDefinition(
            fn,
            config_schema=config_schema,
            description=description or inspect.getdoc(fn),
            required_resource_keys=required_resource_keys,
            version=version,
        )

    return decorate


# -- legacy config schemas ----------------------------------------------------------------------


def _validate_legacy_config(schema: Any, value: Any, path: str, *, configured: bool = False) -> Any:
    """Check ``value`` against a legacy ``config_schema``; raise listing every problem.

    ``schema`` is anything :mod:`weir._config.schema` accepts (``None`` means any config).
    Defaults are applied and ``{"env": VAR}`` values of ``*Source`` fields read now, at
    resource initialisation.
    """
    if schema is None:
        return value
    from weir._config._evaluate import CONFIGURED_HINT, RUN_CONFIG_HINT, process_config

    hint = CONFIGURED_HINT if configured else RUN_CONFIG_HINT
    return process_config(schema, value, path, error_cls=ResourceConfigError, missing_hint=hint)


# -- run-time initialisation --------------------------------------------------------------------


def is_configurable_resource(obj: Any) -> bool:
    """Whether ``obj`` is a pydantic-configured resource (``ConfigurableResource``, an IO manager
    factory, or a ``configure_at_launch()`` partial).

    Never imports pydantic: when :mod:`weir._config._configurable` was not loaded yet, no such
    object can exist.
    """
    mod = sys.modules.get(_CONFIGURABLE_MODULE)
    if mod is None:
        return False
    return isinstance(obj, (mod.ConfigurableResourceFactory, mod.PartialResource))


def is_configurable_resource_type(tp: Any) -> bool:
    """Whether ``tp`` is a ``ConfigurableResource`` subclass (without importing pydantic)."""
    mod = sys.modules.get(_CONFIGURABLE_MODULE)
    return mod is not None and isinstance(tp, type) and issubclass(tp, mod.ConfigurableResource)
