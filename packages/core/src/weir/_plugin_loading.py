"""Loading the plugins of the entry-point group ``weir.plugins`` (used by :mod:`weir.plugins`).

Each entry point is imported before pluggy registers it, so that a failure can name the entry
point and its distribution. A plugin that fails to import is, by default, left out with a
warning and recorded as a :class:`BrokenPlugin`: one broken package must not stop every run of
an unrelated pipeline. Errors that a registry lookup then hits (an unknown IO manager name, a
storage URL no plugin serves) list the broken plugins, since one of them may be what is missing.
In strict mode (``WEIR_STRICT_PLUGINS=1``, or ``get_plugin_manager(strict=True)``, which plugin
authors' test suites want) the import failure is raised instead. A plugin that imports but does
not match the hook specifications, or whose name clashes with another, always raises: that is a
packaging mistake, not an environment problem.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import pluggy

from weir.errors import PluginError

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_DISABLED_PLUGINS",
    "BrokenPlugin",
    "dist_label",
    "load_entry_point_plugins",
]

logger = logging.getLogger("weir.plugins")

ENTRY_POINT_GROUP = "weir.plugins"
"""The entry-point group third-party plugins are registered under."""
ENV_DISABLED_PLUGINS = "WEIR_DISABLED_PLUGINS"


class BrokenPlugin(NamedTuple):
    """An installed plugin left out because it failed to import."""

    name: str
    """Its entry-point name."""
    distribution: str
    """The distribution that declares it."""
    version: str
    """That distribution's version."""
    error: str
    """What went wrong, as ``ExceptionType: message``."""
    message: str
    """The full explanation: where, what, and how to fix or disable it."""


def dist_label(dist: Any) -> tuple[str, str]:
    """(name, version) of an importlib or pluggy distribution object."""
    return str(dist.metadata["Name"]), str(dist.version)


def load_entry_point_plugins(
    pm: pluggy.PluginManager, *, strict: bool
) -> tuple[set[str], list[BrokenPlugin]]:
    """Import and register every ``weir.plugins`` entry point; return the names seen and the
    plugins left out because they failed to import (raised instead when ``strict``).

    Each entry point is imported here first, so a failure can name the entry point and its
    distribution; pluggy then registers them (recording the distribution for
    ``list_plugin_distinfo``), which finds the modules already imported.
    """
    import importlib.metadata  # ~20 ms; only paid when entry points are loaded

    found: dict[str, tuple[importlib.metadata.EntryPoint, Any]] = {}
    loaded: list[tuple[Any, importlib.metadata.EntryPoint, Any]] = []
    seen: set[str] = set()
    broken: list[BrokenPlugin] = []
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            seen.add(ep.name)
            dist_name, dist_version = dist_label(dist)
            if pm.is_blocked(ep.name):
                logger.debug("plugin %s from %s %s is disabled", ep.name, dist_name, dist_version)
                continue
            previous = found.get(ep.name)
            if previous is not None:
                if dist_label(previous[1])[0] == dist_name:
                    continue  # the same distribution twice on sys.path: the first wins
                other_name, other_version = dist_label(previous[1])
                msg = (
                    f"Two distributions register a weir plugin named {ep.name!r}: {other_name} "
                    f"{other_version} ({previous[0].value}) and {dist_name} {dist_version} ({ep.value}). "
                    f"Uninstall one of them, or disable both with {ENV_DISABLED_PLUGINS}={ep.name}."
                )
                raise PluginError(msg)
            if pm.has_plugin(ep.name):
                msg = (
                    f"The entry point {ep.name!r} of {dist_name} {dist_version} uses the name of a "
                    f"built-in weir plugin; rename the entry point in that distribution's "
                    f'[project.entry-points."{ENTRY_POINT_GROUP}"] table.'
                )
                raise PluginError(msg)
            found[ep.name] = (ep, dist)
            try:
                plugin = ep.load()
            except Exception as exc:
                msg = (
                    f"The weir plugin {ep.name!r} (entry point '{ep.name} = {ep.value}' in group "
                    f"{ENTRY_POINT_GROUP!r} of {dist_name} {dist_version}) failed to import: "
                    f"{type(exc).__name__}: {exc}. Fix or upgrade {dist_name}, uninstall it, or "
                    f"disable the plugin with {ENV_DISABLED_PLUGINS}={ep.name}."
                )
                if strict:
                    raise PluginError(msg) from exc
                logger.warning("%s It is left out of this process's plugins.", msg)
                logger.debug("traceback of plugin %s's import", ep.name, exc_info=exc)
                error = f"{type(exc).__name__}: {exc}"
                broken.append(BrokenPlugin(ep.name, dist_name, dist_version, error, msg))
                continue
            for other_plugin, other_ep, _ in loaded:
                if other_plugin is plugin:
                    msg = (
                        f"The entry points {other_ep.name!r} and {ep.name!r} ({dist_name} "
                        f"{dist_version}) point at the same plugin object {ep.value!r}; a plugin "
                        "can be registered once only. Remove one of the entry points."
                    )
                    raise PluginError(msg)
            loaded.append((plugin, ep, dist))

    if loaded:
        # pluggy loads every entry point of the group again (from sys.modules now): keep the
        # broken ones out while it does
        for plugin_name in (b.name for b in broken):
            pm.set_blocked(plugin_name)
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except pluggy.PluginValidationError as exc:
            culprit = next(
                ((ep, dist) for plugin, ep, dist in loaded if plugin is exc.plugin), None
            )
            where = (
                f"{culprit[0].name!r} ({dist_label(culprit[1])[0]} {dist_label(culprit[1])[1]})"
                if culprit is not None
                else repr(exc.plugin)
            )
            name = culprit[0].name if culprit is not None else "<name>"
            msg = (
                f"The weir plugin {where} does not match weir's hook specifications: "
                f"{'; '.join(str(exc).splitlines())}. "
                f"Fix the plugin, or disable it with {ENV_DISABLED_PLUGINS}={name}."
            )
            raise PluginError(msg) from exc
        finally:
            for plugin_name in (b.name for b in broken):
                pm.unblock(plugin_name)
        for _, ep, dist in loaded:
            logger.debug("loaded plugin %s from %s %s", ep.name, *dist_label(dist))
    return seen, broken
