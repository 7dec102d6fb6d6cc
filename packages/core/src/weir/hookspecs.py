"""Every hook a weir plugin can implement: the single source of truth for the plugin contract.

A plugin is a module (or any object) with functions named after these hooks and decorated
with :data:`hookimpl`. Third-party plugins are found through the entry-point group
``weir.plugins``; the core's own defaults (``weir.builtin.*``) are registered through the very
same hooks. :func:`weir.plugins.get_plugin_manager` builds a manager that knows these specs.

Three kinds of hook:

* **collect** -- every plugin's result is gathered. The ``weir_register_*`` hooks return a
  list of items, each carrying a ``plugin_name`` (a ``ClassVar[str]`` on classes, an attribute
  on executor definitions). Two items with one name are an error naming both plugins.
* **firstresult** -- plugins are asked in turn (last registered first) and the first answer
  that is not ``None`` wins.
* **observer** -- every plugin is called for its side effects; return values are ignored.

Example, a complete plugin module (``my_package/plugin.py``)::

    from typing import ClassVar

    import weir as dg


    class MyIOManager(dg.ConfigurableIOManager):
        plugin_name: ClassVar[str] = "mine"
        ...


    @dg.hookimpl
    def weir_register_io_managers() -> list[type]:
        return [MyIOManager]

and in its ``pyproject.toml``::

    [project.entry-points."weir.plugins"]
    mine = "my_package.plugin"

Hook implementations may accept fewer arguments than the spec declares (pluggy passes only
the ones they name), never more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from weir._execution.events import DagsterEvent
    from weir._execution.executor_def import ExecutorDefinition

__all__ = [
    "PROJECT_NAME",
    "hookimpl",
    "hookspec",
    "weir_on_event",
    "weir_register_commands",
    "weir_register_components",
    "weir_register_executors",
    "weir_register_io_managers",
    "weir_register_partition_types",
    "weir_register_resources",
    "weir_storage_for_url",
]

PROJECT_NAME = "weir"
"""The pluggy project name; hook functions are matched by the ``weir_`` prefix."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker for hook specifications. Only this module declares hooks."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Decorator for hook implementations in plugins, e.g. ``@hookimpl`` or ``@hookimpl(trylast=True)``."""


@hookspec
def weir_register_io_managers() -> list[type[Any]]:  # type: ignore[empty-body]
    """Register IO manager classes.

    Kind: collect. Every plugin's list is gathered into one registry keyed by ``plugin_name``;
    look them up with ``PluginRegistry().io_managers().get(name)``.

    Returns:
        A list of IO manager classes (typically ``ConfigurableIOManager`` subclasses). Each
        class must define ``plugin_name: ClassVar[str]``, unique across every installed plugin:
        the core registers ``"filesystem"`` and ``"in_memory"``. A second class under a name
        that is already taken makes the registry raise ``PluginError`` naming both classes and
        both distributions.

    Keep the plugin module import-light: import the vendor SDK (duckdb, boto3 ...) where the
    IO manager opens its connection, not at the top of the plugin module.
    """


@hookspec
def weir_register_resources() -> list[type[Any]]:  # type: ignore[empty-body]
    """Register resource classes.

    Kind: collect. Gathered into a registry keyed by ``plugin_name``
    (``PluginRegistry().resources()``), e.g. for ``weir plugins list`` and for resources named
    in YAML.

    Returns:
        A list of resource classes (typically ``ConfigurableResource`` subclasses), each with a
        unique ``plugin_name: ClassVar[str]`` (``"duckdb"``, ``"s3"`` ...). The attribute is
        called ``plugin_name`` rather than ``name`` because pydantic resources often have a
        config field called ``name``.
    """


@hookspec
def weir_register_components() -> list[type[Any]]:  # type: ignore[empty-body]
    """Register component types usable as ``type:`` in a ``defs.yaml`` file.

    Kind: collect. Gathered into a registry keyed by ``plugin_name``
    (``PluginRegistry().components()``).

    Returns:
        A list of component classes, each with a unique ``plugin_name: ClassVar[str]``: the
        value a ``defs.yaml`` file writes after ``type:``. The component's config model is its
        YAML schema.
    """


@hookspec
def weir_register_partition_types() -> list[type[Any]]:  # type: ignore[empty-body]
    """Register partitions-definition types, so partitions can be serialised by name.

    Kind: collect. Gathered into a registry keyed by ``plugin_name``
    (``PluginRegistry().partition_types()``); the name is what a stored or serialised
    partitions definition records to find its class again.

    Returns:
        A list of partitions-definition classes, each with a unique
        ``plugin_name: ClassVar[str]`` (``"static"``, ``"daily"`` ...).
    """


@hookspec
def weir_register_executors() -> list[ExecutorDefinition]:  # type: ignore[empty-body]
    """Register executor definitions: ways of running a run's steps.

    Kind: collect. Gathered into a registry keyed by ``plugin_name``
    (``PluginRegistry().executors()``); the core registers ``"in_process"``, ``"multiprocess"``
    and ``"multi_or_in_process"``.

    Returns:
        A list of ``ExecutorDefinition`` objects (instances, not classes). Their
        ``plugin_name`` is the executor's name (``"in_process"``, ``"multiprocess"``,
        ``"dask"`` ...), unique across every installed plugin.
    """


@hookspec(firstresult=True)
def weir_storage_for_url(url: str) -> Any | None:
    """Return an instance storage for ``url``, or ``None`` if this plugin does not handle it.

    Kind: firstresult. Plugins are asked in turn, the last registered first, so a third-party
    plugin is asked before the core's built-ins; the first result that is not ``None`` wins.
    A built-in fallback should be marked ``@hookimpl(trylast=True)``. Call it through
    ``PluginRegistry().storage_for_url(url)``, which raises ``PluginError`` listing the
    supported schemes when no plugin answers.

    Args:
        url: A storage URL such as ``"sqlite:///path/to/weir.db"`` or
            ``"postgresql://user@host/db"``. Look at its scheme and return ``None`` quickly for
            schemes you do not own; never open a connection for someone else's URL.

    Returns:
        The instance storage object for the URL, or ``None``. A plugin that implements this
        hook should declare the schemes it handles as a module-level
        ``WEIR_STORAGE_SCHEMES: tuple[str, ...]`` (e.g. ``("postgresql", "postgres")``) so the
        "unknown scheme" error can list them. Raise ``StorageError`` (with the cause kept) when
        the URL is yours but the storage cannot be opened.
    """


@hookspec
def weir_register_commands(cli: Any) -> None:
    """Add sub-commands to the ``weir`` command line.

    Kind: collect (called once for every plugin, for its effect on ``cli``; return values are
    ignored).

    Args:
        cli: The ``weir`` command group of the CLI package. Add commands to it with its own
            decorator, e.g. ``@cli.command()``. Import the CLI library inside this function,
            so that loading the plugin stays cheap for programs that never build the CLI.
    """


@hookspec
def weir_on_event(event: DagsterEvent) -> None:
    """Observe every event a run emits: for alerts, metrics and tracing.

    Kind: observer. Every plugin is called for every event, in the process that emits it;
    return values are ignored. Keep it fast (it runs on the execution path) and never mutate
    the event. When an observer raises, the others still see the event, then the caller gets
    a ``PluginError`` naming the failing plugin (``PluginRegistry().notify_event(event)``).

    Args:
        event: The ``DagsterEvent`` just emitted (``event.event_type``, ``event.job_name``,
            ``event.step_key``, ``event.message`` and its type-specific data).
    """
