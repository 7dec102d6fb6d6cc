"""``weir plugins list``: the registered plugins, the disabled ones and the broken ones."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from weir_cli._options import CliState, pass_state
from weir_cli._output import EXIT_FAILURE, fail, stdout_console

__all__ = ["plugins"]


@click.group()
def plugins() -> None:
    """Inspect weir's plugins (entry-point group weir.plugins)."""


@plugins.command(name="list")
@pass_state
def list_plugins(state: CliState) -> None:
    """List the plugins: name, distribution, version; disabled and broken ones too."""
    from weir.errors import WeirError
    from weir.plugins import PluginRegistry

    try:
        registry = PluginRegistry(state.plugin_manager)
        registered = registry.list_plugins()
        disabled = registry.disabled_plugins()
        broken = registry.broken_plugins()
    except WeirError as exc:
        fail(str(exc), EXIT_FAILURE)
    table = Table(title="weir plugins")
    table.add_column("name", overflow="fold")
    table.add_column("distribution", overflow="fold")
    table.add_column("version")
    table.add_column("status", overflow="fold")
    for info in registered:
        table.add_row(info.name, info.distribution, info.version, "loaded")
    for name in disabled:
        table.add_row(name, "", "", Text("disabled", style="yellow"))
    for plugin in broken:
        table.add_row(
            plugin.name,
            plugin.distribution,
            plugin.version,
            Text(f"broken: {plugin.error}", style="red"),
        )
    stdout_console().print(table)
