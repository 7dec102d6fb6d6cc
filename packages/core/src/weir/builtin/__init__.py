"""The core's default plugins, registered through the same hooks as third-party plugins.

Each module here is a plugin: a module of ``@hookimpl`` functions. ``get_plugin_manager``
registers them, under their module name, before any entry-point plugin, so a name in
:data:`BUILTIN_PLUGINS` can be passed to ``disabled=`` (or ``WEIR_DISABLED_PLUGINS``) to switch
a built-in off. The modules are import-light: the classes they register are imported inside
the hook functions.
"""

from __future__ import annotations

__all__ = ["BUILTIN_DISTRIBUTION", "BUILTIN_PLUGINS"]

BUILTIN_PLUGINS: tuple[str, ...] = (
    "weir.builtin.io_managers",
    "weir.builtin.executors",
    "weir.builtin.storage",
    "weir.builtin.partitions",
)
"""Module names of the built-in plugins, in registration order; each is also its plugin name."""

BUILTIN_DISTRIBUTION = "weir (built-in)"
"""How error messages and ``list_plugins()`` name the distribution of a built-in plugin."""
