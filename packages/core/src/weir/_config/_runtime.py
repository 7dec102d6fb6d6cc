"""Bringing a run's resources to life: :func:`initialize_resources` and :func:`build_resources`.

Re-exported by :mod:`weir._config.resources` (import them from there). The executor calls
``initialize_resources`` once per run with the resources the plan needs; it builds each one
(dependencies first, each once), yields a :class:`~weir._config.resources.Resources`, and tears
everything down in reverse order when the run ends, even when it failed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import _GeneratorContextManager, contextmanager
from typing import Any

from weir._config.resources import (
    InitResourceContext,
    MissingResourceError,
    ResourceConfigError,
    ResourceDefinition,
    ResourceInitError,
    Resources,
    _did_you_mean,
    _finish_generator,
    is_configurable_resource,
)
from weir.errors import ConfigError, ResourceError

__all__ = ["build_resources", "initialize_resources"]

logger = logging.getLogger(__name__)


class _Initializer:
    """Builds the resources of one run: dependencies first, each once, teardowns recorded."""

    def __init__(
        self,
        resource_defs: Mapping[str, Any],
        *,
        instance: Any,
        run_id: str | None,
        resources_config: Mapping[str, Any] | None,
        log: logging.Logger | None,
    ) -> None:
        self.defs = resource_defs
        self.instance = instance
        self.run_id = run_id
        self.resources_config = resources_config or {}
        self.log = log
        self.live: dict[str, Any] = {}
        self.teardowns: list[tuple[str, Callable[[], Any]]] = []
        self._in_progress: list[str] = []
        self._nested: dict[int, tuple[Any, Any]] = {}  # id(def) -> (def, live value)
        self._key_by_id: dict[int, str] | None = None

    # -- by key --
    def init_key(self, key: str, required_by: str | None = None) -> Any:
        if key in self.live:
            return self.live[key]
        if key not in self.defs:
            raise self._missing(key, required_by)
        if key in self._in_progress:
            cycle = " -> ".join([*self._in_progress[self._in_progress.index(key) :], key])
            msg = f"Resources depend on each other in a cycle: {cycle}. Break the cycle in their required_resource_keys."
            raise ResourceError(msg)
        self._in_progress.append(key)
        try:
            value = self.init_value(self.defs[key], key=key, label=key)
        finally:
            self._in_progress.pop()
        self.live[key] = value
        return value

    def _missing(self, key: str, required_by: str | None) -> MissingResourceError:
        by = f" (required by {required_by})" if required_by else ""
        provided = sorted(self.defs)
        msg = (
            f"Resource {key!r}{by} was not provided. Provided resource keys: {provided}."
            f"{_did_you_mean(key, provided)} Add it to Definitions(resources={{{key!r}: ...}}) or "
            f"materialize(..., resources={{{key!r}: ...}}), or rename the parameter/required key."
        )
        return MissingResourceError(msg)

    # -- nested (a field of a ConfigurableResource) --
    def init_nested(self, obj: Any, label: str) -> Any:
        if self._key_by_id is None:
            self._key_by_id = {id(v): k for k, v in self.defs.items()}
        key = self._key_by_id.get(id(obj))
        if key is not None:  # the same object is also a top-level resource: share it
            return self.init_key(key, required_by=f"resource {label.split('.')[0]!r}")
        hit = self._nested.get(id(obj))
        if hit is not None:
            return hit[1]
        value = self.init_value(obj, key=None, label=label)
        self._nested[id(obj)] = (obj, value)
        return value

    # -- any definition --
    def init_value(self, obj: Any, *, key: str | None, label: str) -> Any:
        try:
            if isinstance(obj, ResourceDefinition):
                return self._init_definition(obj, key, label)
            if is_configurable_resource(obj):
                from weir._config._configurable import initialize_configurable

                return initialize_configurable(self, obj, key=key, label=label)
            hook = getattr(type(obj), "__weir_resource__", None)
            if hook is not None:
                return hook(obj, self.context(resource_def=obj, resource_config=None))
            return obj
        except ResourceError:
            raise
        except ConfigError as exc:
            msg = f"Invalid config for resource {label!r}: {exc}"
            raise ResourceConfigError(
                msg, exc.errors, config_type=exc.config_type, config_value=exc.config_value
            ) from exc
        except Exception as exc:
            what = type(obj).__name__
            msg = (
                f"Error while initializing resource {label!r} ({what}): {type(exc).__name__}: {exc}. "
                "The resource's set-up code raised; see the cause above."
            )
            raise ResourceInitError(msg, resource_key=label, user_exception=exc) from exc

    def _init_definition(self, rdef: ResourceDefinition, key: str | None, label: str) -> Any:
        deps = {}
        for dep in sorted(rdef.required_resource_keys):
            deps[dep] = self.init_key(dep, required_by=f"resource {label!r}")
        raw = self.resources_config.get(key) if key is not None else None
        run_config = raw.get("config") if isinstance(raw, Mapping) else None
        config = rdef._resolve_config(run_config, label)
        ctx = self.context(resource_def=rdef, resource_config=config, resources=Resources(deps))
        fn = rdef.resource_fn
        result = fn(ctx) if rdef._takes_context else fn()
        if inspect.isgenerator(result):
            value = next(result)
            self.teardowns.append((label, lambda: _finish_generator(result, label)))
            return value
        if isinstance(result, _GeneratorContextManager):  # a @contextmanager resource function
            value = result.__enter__()
            self.teardowns.append((label, lambda: result.__exit__(None, None, None)))
            return value
        return result

    def context(
        self, *, resource_def: Any, resource_config: Any, resources: Resources | None = None
    ) -> InitResourceContext:
        return InitResourceContext(
            resource_config=resource_config,
            resources=resources,
            instance=self.instance,
            run_id=self.run_id,
            log=self.log,
            resource_def=resource_def,
        )

    def teardown(self, *, body_failed: bool) -> None:
        """Tear down in reverse order of set-up; a failing teardown is logged, never raised."""
        while self.teardowns:
            label, fn = self.teardowns.pop()
            try:
                fn()
            except Exception:
                (self.log or logger).exception(
                    "Teardown of resource %r failed%s.",
                    label,
                    " (after the run had already failed)" if body_failed else "",
                )


@contextmanager
def initialize_resources(
    resource_defs: Mapping[str, Any],
    required_keys: Iterable[str],
    *,
    instance: Any = None,
    run_id: str | None = None,
    resources_config: Mapping[str, Any] | None = None,
    log: logging.Logger | None = None,
) -> Iterator[Resources]:
    """Initialise ``required_keys`` (and what they depend on) from ``resource_defs``.

    Yields a :class:`Resources` with every initialised key. Dependencies are built first, each
    resource once; on exit every teardown runs in reverse order, also when the body raised. A
    failing teardown is logged and does not hide the body's error. A missing key raises
    ``ResourceError`` naming it and the provided keys; a failing set-up raises
    ``ResourceInitError`` (a ``ResourceError``) naming the resource, with the cause kept; bad
    resource config raises ``ResourceConfigError`` (both a ``ResourceError`` and a ``ConfigError``).
    ``resources_config`` is the ``resources`` part of run config: ``{key: {"config": {...}}}``.
    """
    init = _Initializer(
        resource_defs,
        instance=instance,
        run_id=run_id,
        resources_config=resources_config,
        log=log,
    )
    try:
        for key in required_keys:
            init.init_key(key)
    except BaseException:
        init.teardown(body_failed=True)
        raise
    live = Resources(init.live)
    failed = False
    try:
        yield live
    except BaseException:
        failed = True
        raise
    finally:
        init.teardown(body_failed=failed)


@contextmanager
def build_resources(
    resources: Mapping[str, Any],
    instance: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    dagster_run: Any = None,
    log_manager: Any = None,
) -> Iterator[Resources]:
    """Initialise ``resources`` outside a run (for scripts and tests); tear them down on exit.

    ``resource_config`` gives config per key, as ``{key: {"config": ...}}`` or ``{key: ...}``.

    Example::

        with dg.build_resources({"db": Db(url="...")}) as resources:
            resources.db.query(...)
    """
    config: dict[str, Any] = {}
    for key, value in (resource_config or {}).items():
        wrapped = isinstance(value, Mapping) and set(value) == {"config"}
        config[key] = value if wrapped else {"config": value}
    run_id = getattr(dagster_run, "run_id", None)
    log = log_manager if isinstance(log_manager, logging.Logger) else None
    with initialize_resources(
        resources,
        list(resources),
        instance=instance,
        run_id=run_id,
        resources_config=config,
        log=log,
    ) as live:
        yield live
