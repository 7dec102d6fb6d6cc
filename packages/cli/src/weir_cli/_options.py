"""Options and helpers shared by the commands: where the user's code is, and the CLI state."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from weir_cli._output import EXIT_USAGE, fail

if TYPE_CHECKING:
    import pluggy

    from weir_cli._loading import LoadedDefinitions

__all__ = [
    "CliState",
    "code_location_options",
    "load_or_exit",
    "pass_state",
    "run_config_options",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """What the group passes to its commands (``ctx.obj``)."""

    verbose: bool = False
    plugin_manager: pluggy.PluginManager | None = None


def code_location_options(function: F) -> F:
    """The options that say where the user's code is: ``-m -f -a -d`` and ``-v``."""
    options = [
        click.option("-m", "--module-name", help="Import this module and use its Definitions."),
        click.option(
            "-f",
            "--python-file",
            type=click.Path(dir_okay=False),
            help="Load this Python file and use its Definitions.",
        ),
        click.option(
            "-a",
            "--attribute",
            help="The Definitions attribute (or a function returning one) in the module or file.",
        ),
        click.option(
            "-d",
            "--working-directory",
            type=click.Path(file_okay=False),
            help="Put this folder on sys.path (default: the current directory).",
        ),
        click.option(
            "-v",
            "--verbose",
            "verbose_here",
            is_flag=True,
            help="Show the full traceback when the code fails to load.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_config_options(function: F) -> F:
    """The options that give a run its config and tags: ``-c``, ``--config-json``, ``--tags``."""
    options = [
        click.option(
            "-c",
            "--config",
            "config_files",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False),
            help="Run config YAML file; repeat to merge several.",
        ),
        click.option("--config-json", help="Run config as a JSON string."),
        click.option("--tags", "tags_json", help='Run tags as JSON, e.g. \'{"team": "data"}\'.'),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def load_or_exit(
    ctx: click.Context,
    *,
    module_name: str | None,
    python_file: str | None,
    attribute: str | None,
    working_directory: str | None,
    verbose_here: bool,
    exit_code: int = EXIT_USAGE,
) -> LoadedDefinitions:
    """Load the user's Definitions, or print one clear error and exit ``exit_code``."""
    from weir_cli._loading import CodeLoadError, load_definitions, target_from_options

    try:
        target = target_from_options(
            module_name=module_name,
            python_file=python_file,
            attribute=attribute,
            working_directory=working_directory,
        )
        return load_definitions(target)
    except CodeLoadError as exc:
        verbose = verbose_here or _state(ctx).verbose
        details = traceback.format_exc() if verbose else None
        hint = "" if verbose else "\n(run with -v/--verbose for the full traceback)"
        fail(exc.render() + (hint if exc.__cause__ is not None else ""), exit_code, details=details)


def _state(ctx: click.Context) -> CliState:
    state = ctx.find_object(CliState)
    return state if state is not None else CliState()


def pass_state(function: F) -> F:
    """Give a command the :class:`CliState` as its first argument."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(_state(click.get_current_context()), *args, **kwargs)

    return wrapper  # type: ignore[return-value]
