"""The plugin manager factory and typed registries over weir's hooks.

Nothing is created or loaded when this module is imported. :func:`get_plugin_manager` builds a
fresh ``pluggy.PluginManager``: it adds the specs of :mod:`weir.hookspecs`, blocks disabled
names, registers the built-in plugins (:data:`weir.builtin.BUILTIN_PLUGINS`) through the same
hooks as everyone else, then loads the plugins of the entry-point group ``weir.plugins``.
:func:`default_plugin_manager` caches one such manager for the process.

Hook results are read through typed facades rather than raw ``pm.hook`` calls:
:class:`Registry` (one per ``weir_register_*`` hook: duplicate and unknown names fail with
clear errors) and :class:`PluginRegistry` (all of them, plus storage lookup, event observers,
CLI commands and the plugin list).

Environment switches, read each time a manager is built:

* ``WEIR_DISABLE_PLUGIN_AUTOLOAD=1`` -- do not load entry-point plugins (built-ins still load).
* ``WEIR_DISABLED_PLUGINS=a,b`` -- block these plugin names (entry-point names, or the module
  names of built-ins such as ``weir.builtin.io_managers``).
* ``WEIR_TRACE_PLUGINS=1`` -- log every hook call and its result to this module's logger at
  DEBUG.

Example::

    from weir.plugins import PluginRegistry, get_plugin_manager

    registry = PluginRegistry(get_plugin_manager(autoload=False))
    io_manager_class = registry.io_managers().get("filesystem")
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit

import pluggy

from weir import hookspecs
from weir._plugin_loading import (
    ENTRY_POINT_GROUP,
    ENV_DISABLED_PLUGINS,
    BrokenPlugin,
    dist_label,
    load_entry_point_plugins,
)
from weir.builtin import BUILTIN_DISTRIBUTION, BUILTIN_PLUGINS
from weir.errors import PluginError, WeirError

if TYPE_CHECKING:
    import importlib.metadata

    from weir._execution.events import DagsterEvent
    from weir._execution.executor_def import ExecutorDefinition

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_DISABLED_PLUGINS",
    "ENV_DISABLE_PLUGIN_AUTOLOAD",
    "ENV_STRICT_PLUGINS",
    "ENV_TRACE_PLUGINS",
    "BrokenPlugin",
    "PluginInfo",
    "PluginRegistry",
    "Registry",
    "default_plugin_manager",
    "get_plugin_manager",
    "reset_default_plugin_manager",
]

logger = logging.getLogger(__name__)

ENV_DISABLE_PLUGIN_AUTOLOAD = "WEIR_DISABLE_PLUGIN_AUTOLOAD"
ENV_TRACE_PLUGINS = "WEIR_TRACE_PLUGINS"
ENV_STRICT_PLUGINS = "WEIR_STRICT_PLUGINS"

_DIRECT_DISTRIBUTION = "(registered directly, not from a distribution)"
_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
_HOOK_NAMES: tuple[str, ...] = tuple(name for name in hookspecs.__all__ if name.startswith("weir_"))

T = TypeVar("T")


class PluginInfo(NamedTuple):
    """One registered plugin, as ``weir plugins list`` shows it."""

    name: str
    """The plugin's name: its entry-point name, or the module name of a built-in."""
    distribution: str
    """The distribution it came from (``"weir (built-in)"`` for built-ins)."""
    version: str
    """That distribution's version (``""`` for a plugin registered directly in code)."""


# --------------------------------------------------------------------------- building a manager


def get_plugin_manager(
    *, autoload: bool | None = None, disabled: Collection[str] = (), strict: bool | None = None
) -> pluggy.PluginManager:
    """Build a new plugin manager with weir's hooks, the built-ins and the installed plugins.

    Args:
        autoload: Load the plugins of the entry-point group ``weir.plugins``. ``None`` (the
            default) loads them unless ``WEIR_DISABLE_PLUGIN_AUTOLOAD=1``; an explicit
            ``True`` or ``False`` wins over the environment.
        disabled: Plugin names to block, on top of ``WEIR_DISABLED_PLUGINS``: entry-point
            names (``"duckdb"``) or built-in module names (``"weir.builtin.io_managers"``).
        strict: Raise when an entry-point plugin fails to import, instead of leaving it out
            with a warning. ``None`` (the default) is strict when ``WEIR_STRICT_PLUGINS=1``.

    Returns:
        A ready ``pluggy.PluginManager``; read it through :class:`PluginRegistry`.

    Raises:
        PluginError: An entry-point plugin does not match the hook specs, implements an
            unknown hook, or shares its name with another plugin; or (in strict mode) it failed
            to import. Outside strict mode a plugin that fails to import is left out with a
            warning, listed by :meth:`PluginRegistry.broken_plugins` and named by lookup errors.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if _env_flag(ENV_TRACE_PLUGINS):
        _enable_tracing(pm)

    from_env = _split_names(os.environ.get(ENV_DISABLED_PLUGINS, ""))
    explicit = (disabled,) if isinstance(disabled, str) else tuple(disabled)
    # Block before registering anything, so built-ins can be disabled too.
    for name in (*explicit, *from_env):
        pm.set_blocked(name)

    for module_name in BUILTIN_PLUGINS:
        if pm.is_blocked(module_name):
            logger.debug("built-in plugin %s is disabled", module_name)
            continue
        pm.register(importlib.import_module(module_name), name=module_name)

    do_autoload = autoload if autoload is not None else not _env_flag(ENV_DISABLE_PLUGIN_AUTOLOAD)
    if do_autoload:
        is_strict = strict if strict is not None else _env_flag(ENV_STRICT_PLUGINS)
        seen, broken = load_entry_point_plugins(pm, strict=is_strict)
        if broken:
            _BROKEN[pm] = broken
        for name in from_env:
            if name not in seen and name not in BUILTIN_PLUGINS:
                logger.warning(
                    "%s names %r, which is not an installed plugin (installed: %s); check the spelling",
                    ENV_DISABLED_PLUGINS,
                    name,
                    ", ".join(sorted(seen | set(BUILTIN_PLUGINS))),
                )
    _check_pending(pm)
    return pm


_BROKEN: weakref.WeakKeyDictionary[pluggy.PluginManager, list[BrokenPlugin]] = (
    weakref.WeakKeyDictionary()
)
_default_pm: pluggy.PluginManager | None = None
_default_lock = threading.Lock()


def default_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built by :func:`get_plugin_manager` on first use.

    Settings come from the environment at that first call. A build that raises is not cached,
    so the next call tries again.
    """
    global _default_pm
    pm = _default_pm
    if pm is None:
        with _default_lock:
            if _default_pm is None:
                _default_pm = get_plugin_manager()
            pm = _default_pm
    return pm


def reset_default_plugin_manager() -> None:
    """Forget the cached default manager (for tests, or after installing plugins at run time)."""
    global _default_pm
    with _default_lock:
        _default_pm = None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE_VALUES


def _split_names(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _enable_tracing(pm: pluggy.PluginManager) -> None:
    def write(message: str) -> None:
        logger.debug("%s", message.rstrip("\n"))

    pm.trace.root.setwriter(write)
    pm.enable_tracing()


def _check_pending(pm: pluggy.PluginManager) -> None:
    """Fail on hook implementations that weir would silently never call."""
    for hook_name, caller in vars(pm.hook).items():
        if hook_name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(hook_name, _HOOK_NAMES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (
                f"{_describe_plugin(pm, impl.plugin_name, impl.plugin).capitalize()} implements "
                f"{hook_name!r}, which is not a weir hook.{hint} The hooks are: "
                f"{', '.join(_HOOK_NAMES)}. Mark hooks from newer weir versions with "
                "@hookimpl(optionalhook=True)."
            )
            raise PluginError(msg)
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        for hook_name in _HOOK_NAMES:
            function = getattr(plugin, hook_name, None)
            if (
                callable(function)
                and not hasattr(function, f"{hookspecs.PROJECT_NAME}_spec")  # a re-exported spec
                and pm.parse_hookimpl_opts(plugin, hook_name) is None
            ):
                msg = (
                    f"{_describe_plugin(pm, name, plugin).capitalize()} defines {hook_name}() "
                    "without the @hookimpl decorator, so weir would never call it. Decorate it "
                    "with @weir.hookimpl."
                )
                raise PluginError(msg)
    pm.check_pending()


# --------------------------------------------------------------------------- calling hooks per plugin


def _plugin_origin(pm: pluggy.PluginManager, name: str, plugin: Any) -> tuple[str, str]:
    """(distribution, version) that ``plugin`` came from."""
    if name in BUILTIN_PLUGINS and sys.modules.get(name) is plugin:
        from weir import __version__

        return BUILTIN_DISTRIBUTION, __version__
    for other, dist in pm.list_plugin_distinfo():
        if other is plugin:
            return dist_label(dist)
    return _DIRECT_DISTRIBUTION, ""


def _describe_plugin(pm: pluggy.PluginManager, name: str, plugin: Any) -> str:
    distribution, version = _plugin_origin(pm, name, plugin)
    if distribution == _DIRECT_DISTRIBUTION:
        return f"plugin {name!r} {distribution}"
    return f"plugin {name!r} from {distribution} {version}".rstrip()


def _describe_item(item: Any) -> str:
    if isinstance(item, type):
        return f"{item.__module__}.{item.__qualname__}"
    return repr(item)


def _per_plugin_callers(
    pm: pluggy.PluginManager, hook_name: str
) -> list[tuple[str, Any, pluggy.HookCaller]]:
    """One caller per plugin implementing ``hook_name``, in pluggy's call order.

    Calling each plugin on its own lets errors and duplicates name the plugin responsible;
    the calls still go through pluggy, so tracing and the plugin's own wrappers apply.
    """
    caller: pluggy.HookCaller = getattr(pm.hook, hook_name)
    plugins: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        if impl.wrapper or impl.hookwrapper:
            continue
        if not any(plugin is impl.plugin for _, plugin in plugins):
            plugins.append((impl.plugin_name, impl.plugin))
    everyone = [plugin for _, plugin in plugins]
    return [
        (name, plugin, pm.subset_hook_caller(hook_name, [p for p in everyone if p is not plugin]))
        for name, plugin in plugins
    ]


def _hook_failed(
    pm: pluggy.PluginManager, name: str, plugin: Any, hook_name: str, exc: Exception
) -> PluginError:
    msg = (
        f"{_describe_plugin(pm, name, plugin).capitalize()} raised {type(exc).__name__} in "
        f"{hook_name}(): {exc}. Fix or upgrade the plugin, or disable it with "
        f"{ENV_DISABLED_PLUGINS}={name}."
    )
    return PluginError(msg)


def _call(
    pm: pluggy.PluginManager,
    name: str,
    plugin: Any,
    hook_name: str,
    caller: pluggy.HookCaller,
    kwargs: Mapping[str, Any],
) -> Any:
    try:
        return caller(**kwargs)
    except WeirError:
        raise  # already a weir error with its own message (e.g. StorageError from a storage plugin)
    except Exception as exc:
        raise _hook_failed(pm, name, plugin, hook_name, exc) from exc


# --------------------------------------------------------------------------- registries


class Registry(Generic[T]):
    """A typed view of one ``weir_register_*`` hook: every registered item by ``plugin_name``.

    Modelled on hatchling's class register. Each call reads the hook afresh, so plugins
    registered later are seen.

    Args:
        pm: The plugin manager to read.
        hook_name: A collect hook of :mod:`weir.hookspecs`, e.g. ``"weir_register_io_managers"``.
        kind: What the items are, for messages (``"IO manager"``, ``"executor"`` ...).
        check: Optional validation of one item; returns a description of what is wrong with
            it, or ``None`` when it is acceptable.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        hook_name: str,
        kind: str,
        *,
        check: Callable[[Any], str | None] | None = None,
    ) -> None:
        caller = getattr(pm.hook, hook_name, None)
        if caller is None or not caller.has_spec():
            close = difflib.get_close_matches(hook_name, _HOOK_NAMES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = f"{hook_name!r} is not a hook of weir.hookspecs.{hint}"
            raise PluginError(msg)
        if caller.spec.opts.get("firstresult"):
            msg = (
                f"{hook_name!r} is a firstresult hook; a Registry reads collect hooks only. "
                "Use PluginRegistry.storage_for_url() for storage."
            )
            raise PluginError(msg)
        self._pm = pm
        self._hook_name = hook_name
        self._kind = kind
        self._check = check

    @property
    def hook_name(self) -> str:
        """The hook this registry reads."""
        return self._hook_name

    @property
    def kind(self) -> str:
        """What the items are, as error messages say it."""
        return self._kind

    def collect(self) -> dict[str, T]:
        """Call the hook on every plugin; return the items keyed by ``plugin_name``.

        Raises:
            PluginError: A plugin's hook raised, returned something other than a list, or
                returned an item that fails the check or lacks a ``plugin_name``; or two
                plugins registered different items under one name (both are named, with their
                distributions).
        """
        pm = self._pm
        items: dict[str, T] = {}
        owners: dict[str, tuple[str, str]] = {}  # item name -> (plugin name, description)
        for name, plugin, caller in _per_plugin_callers(pm, self._hook_name):
            where = _describe_plugin(pm, name, plugin)
            for returned in _call(pm, name, plugin, self._hook_name, caller, {}):
                if not isinstance(returned, (list, tuple)):
                    msg = (
                        f"{self._hook_name}() of {where} returned {returned!r}; it must return a "
                        f"list of {self._kind}s, e.g. `return [MyClass]`."
                    )
                    raise PluginError(msg)
                for item in returned:
                    problem = self._check(item) if self._check is not None else None
                    if problem is not None:
                        msg = f"{self._hook_name}() of {where} returned {_describe_item(item)}: {problem}."
                        raise PluginError(msg)
                    key = getattr(item, "plugin_name", None)
                    if not isinstance(key, str) or not key:
                        msg = (
                            f"The {self._kind} {_describe_item(item)} registered by {where} has no "
                            f"usable `plugin_name` (got {key!r}); give it a unique name, e.g. "
                            f'`plugin_name: ClassVar[str] = "my_{self._kind.lower().replace(" ", "_")}"`.'
                        )
                        raise PluginError(msg)
                    existing = items.get(key)
                    if existing is not None:
                        if existing is item:
                            continue  # the same object registered twice is harmless
                        msg = (
                            f"The {self._kind} name {key!r} is registered twice: "
                            f"{_describe_item(existing)} from {owners[key][1]}, and "
                            f"{_describe_item(item)} from {where}. Uninstall one of them, or "
                            f"disable one with {ENV_DISABLED_PLUGINS}={owners[key][0]} or "
                            f"{ENV_DISABLED_PLUGINS}={name}."
                        )
                        raise PluginError(msg)
                    items[key] = item
                    owners[key] = (name, where)
        return items

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self.collect())

    def get(self, name: str) -> T:
        """The item registered under ``name``.

        Raises:
            PluginError: No plugin registers ``name``; the message lists the known names, a
                did-you-mean suggestion, and any disabled plugins.
        """
        items = self.collect()
        try:
            return items[name]
        except KeyError:
            pass
        known = sorted(items)
        close = difflib.get_close_matches(name, known, n=3)
        parts = [f"Unknown {self._kind} {name!r}."]
        if close:
            parts.append(f"Did you mean {' or '.join(repr(c) for c in close)}?")
        if known:
            parts.append(f"Known {self._kind}s: {', '.join(known)}.")
        else:
            parts.append(f"No {self._kind}s are registered.")
        blocked = _blocked_names(self._pm)
        if blocked:
            parts.append(f"Disabled plugins: {', '.join(blocked)}.")
        parts.extend(_broken_note(self._pm))
        parts.append(
            f"Install a plugin that registers it through {self._hook_name}(), or fix the name."
        )
        msg = " ".join(parts)
        raise PluginError(msg)

    def __repr__(self) -> str:
        return f"Registry({self._hook_name!r}, kind={self._kind!r})"


def _broken_note(pm: pluggy.PluginManager) -> list[str]:
    """A sentence naming the plugins that failed to import, if any (one may be the missing one)."""
    broken = _BROKEN.get(pm)
    if not broken:
        return []
    listed = "; ".join(f"{b.name!r} ({b.distribution} {b.version}): {b.error}" for b in broken)
    return [f"These installed plugins failed to import and were left out: {listed}."]


def _blocked_names(pm: pluggy.PluginManager) -> list[str]:
    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is None)


def _must_be_class(item: Any) -> str | None:
    if isinstance(item, type):
        return None
    return f"expected a class, got an instance of {type(item).__name__}; return the class itself"


def _must_be_executor(item: Any) -> str | None:
    from weir._execution.executor_def import ExecutorDefinition

    if isinstance(item, ExecutorDefinition):
        return None
    return f"expected an ExecutorDefinition instance, got {type(item).__name__}"


class PluginRegistry:
    """Everything the installed plugins provide, read through typed registries.

    Args:
        pm: The plugin manager to read; ``None`` uses :func:`default_plugin_manager` (resolved
            at each use, so :func:`reset_default_plugin_manager` takes effect).
    """

    def __init__(self, pm: pluggy.PluginManager | None = None) -> None:
        self._pm = pm

    @property
    def pm(self) -> pluggy.PluginManager:
        """The plugin manager behind this registry."""
        return self._pm if self._pm is not None else default_plugin_manager()

    def io_managers(self) -> Registry[type[Any]]:
        """IO manager classes (``weir_register_io_managers``)."""
        return Registry(self.pm, "weir_register_io_managers", "IO manager", check=_must_be_class)

    def resources(self) -> Registry[type[Any]]:
        """Resource classes (``weir_register_resources``)."""
        return Registry(self.pm, "weir_register_resources", "resource", check=_must_be_class)

    def components(self) -> Registry[type[Any]]:
        """Component types (``weir_register_components``)."""
        return Registry(self.pm, "weir_register_components", "component", check=_must_be_class)

    def partition_types(self) -> Registry[type[Any]]:
        """Partitions-definition types (``weir_register_partition_types``)."""
        return Registry(
            self.pm, "weir_register_partition_types", "partition type", check=_must_be_class
        )

    def executors(self) -> Registry[ExecutorDefinition]:
        """Executor definitions (``weir_register_executors``)."""
        return Registry(self.pm, "weir_register_executors", "executor", check=_must_be_executor)

    def storage_for_url(self, url: str) -> Any:
        """The instance storage a plugin provides for ``url`` (``weir_storage_for_url``).

        Raises:
            PluginError: No plugin handles the URL's scheme; the message lists the schemes the
                installed plugins declare (``WEIR_STORAGE_SCHEMES``). The URL itself is never
                shown, since it may hold a password.
        """
        pm = self.pm
        hook_name = "weir_storage_for_url"
        callers = _per_plugin_callers(pm, hook_name)
        for name, plugin, caller in callers:
            result = _call(pm, name, plugin, hook_name, caller, {"url": url})
            if result is not None:
                return result
        scheme = urlsplit(url).scheme
        supported = []
        for name, plugin, _ in callers:
            schemes = getattr(plugin, "WEIR_STORAGE_SCHEMES", None)
            where = _describe_plugin(pm, name, plugin)
            if isinstance(schemes, (list, tuple)) and schemes:
                supported.append(f"{', '.join(f'{s}://' for s in schemes)} ({where})")
            else:
                supported.append(f"unknown schemes ({where} declares no WEIR_STORAGE_SCHEMES)")
        what = f"the scheme {scheme!r}" if scheme else "a storage URL without a scheme"
        listing = (
            "; ".join(supported)
            if supported
            else f"none: no installed plugin implements {hook_name}"
        )
        msg = " ".join(
            [
                f"No weir plugin provides instance storage for {what}. Supported: {listing}.",
                *_broken_note(pm),
                "Use a URL with a supported scheme, or install the plugin for your database.",
            ]
        )
        raise PluginError(msg)

    def register_commands(self, cli: Any) -> None:
        """Let every plugin add its sub-commands to ``cli`` (``weir_register_commands``)."""
        pm = self.pm
        for name, plugin, caller in _per_plugin_callers(pm, "weir_register_commands"):
            _call(pm, name, plugin, "weir_register_commands", caller, {"cli": cli})

    def notify_event(self, event: DagsterEvent) -> None:
        """Pass ``event`` to every ``weir_on_event`` observer.

        Every observer is called even when an earlier one raises.

        Raises:
            PluginError: One or more observers raised; the message names each failing plugin
                and the first failure is the cause.
        """
        pm = self.pm
        if not pm.hook.weir_on_event.get_hookimpls():
            return  # the common case, kept cheap: this runs for every event
        failures: list[tuple[str, Any, Exception]] = []
        for name, plugin, caller in _per_plugin_callers(pm, "weir_on_event"):
            try:
                caller(event=event)
            except Exception as exc:
                logger.debug("weir_on_event observer %s raised", name, exc_info=True)
                failures.append((name, plugin, exc))
        if not failures:
            return
        first_name, first_plugin, first_exc = failures[0]
        if len(failures) == 1:
            raise _hook_failed(
                pm, first_name, first_plugin, "weir_on_event", first_exc
            ) from first_exc
        described = "; ".join(
            f"{_describe_plugin(pm, name, plugin)} raised {type(exc).__name__}: {exc}"
            for name, plugin, exc in failures
        )
        msg = (
            f"{len(failures)} weir_on_event observers failed: {described}. Fix the plugins, or "
            f"disable them with {ENV_DISABLED_PLUGINS}."
        )
        raise PluginError(msg) from first_exc

    def list_plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution and version, in registration order."""
        pm = self.pm
        return [
            PluginInfo(name, *_plugin_origin(pm, name, plugin))
            for name, plugin in pm.list_name_plugin()
            if plugin is not None
        ]

    def broken_plugins(self) -> list[BrokenPlugin]:
        """The installed plugins left out because they failed to import (empty in strict mode,
        which raises instead)."""
        return list(_BROKEN.get(self.pm, ()))

    def disabled_plugins(self) -> list[str]:
        """The blocked plugin names (from ``disabled=`` and ``WEIR_DISABLED_PLUGINS``), sorted."""
        return _blocked_names(self.pm)
