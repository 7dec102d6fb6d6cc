"""The ``weir`` command group: global options, shared loading options and plugin commands.

:data:`cli` is what the console script runs. :func:`build_cli` builds a fresh group; plugins add
their sub-commands to it through the ``weir_register_commands`` hook the first time its
commands are listed or looked up, so ``weir --version`` never loads a plugin.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from weir_cli._logging import LOG_LEVELS, configure_logging
from weir_cli._options import CliState

if TYPE_CHECKING:
    import pluggy

__all__ = ["WeirGroup", "build_cli", "cli"]

logger = logging.getLogger(__name__)


class WeirGroup(click.Group):
    """A click group that asks the installed plugins for more commands on first use.

    Args:
        plugin_manager: The plugin manager to read; ``None`` uses weir's default one.
    """

    def __init__(
        self, *args: Any, plugin_manager: pluggy.PluginManager | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plugin_manager = plugin_manager
        self._plugin_commands_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        from weir.errors import WeirError
        from weir.plugins import PluginRegistry

        try:
            PluginRegistry(self.plugin_manager).register_commands(self)
        except WeirError as exc:
            # the built-in commands (plugins list among them) must keep working
            logger.warning("Plugin commands were not added: %s", exc)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    import weir

    try:
        cli_version = version("weir-cli")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        from weir_cli import __version__ as cli_version
    return f"weir-cli {cli_version}, weir {weir.__version__}"


def build_cli(plugin_manager: pluggy.PluginManager | None = None) -> WeirGroup:
    """A new ``weir`` group with the built-in commands.

    Args:
        plugin_manager: Read plugins (and their commands) from this manager instead of weir's
            default one, e.g. in tests: ``build_cli(get_plugin_manager(autoload=False))``.
    """
    from weir_cli.commands import asset, definitions, instance, job, plugins, run

    @click.group(
        cls=WeirGroup,
        plugin_manager=plugin_manager,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @click.version_option(version=_version(), prog_name="weir", message="%(version)s")
    @click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="warning",
        show_default=True,
        help="Level of weir's and libraries' log messages (context.log.info always shows).",
    )
    @click.option(
        "-v", "--verbose", is_flag=True, help="Show full tracebacks when user code fails to load."
    )
    @click.pass_context
    def weir(ctx: click.Context, log_level: str, verbose: bool) -> None:
        """weir: an asset-centric data orchestrator with a Dagster-compatible API."""
        configure_logging(log_level)
        group = ctx.command
        ctx.obj = CliState(verbose=verbose, plugin_manager=getattr(group, "plugin_manager", None))

    for command in (
        asset.asset,
        definitions.definitions,
        instance.instance,
        job.job,
        plugins.plugins,
        run.run,
    ):
        weir.add_command(command)
    return weir  # type: ignore[return-value]


cli = build_cli()
"""The ``weir`` command (the console script's entry point)."""
