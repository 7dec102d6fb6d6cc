"""``weir definitions validate``: load the user's Definitions and check that they resolve."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.text import Text

from weir_cli._options import CliState, code_location_options, load_or_exit
from weir_cli._output import EXIT_FAILURE, fail, stdout_console

__all__ = ["definitions"]

_VALIDATION_ENV = ("WEIR_IS_DEFS_VALIDATION_CLI", "DAGSTER_IS_DEFS_VALIDATION_CLI")


@click.group()
def definitions() -> None:
    """Check your Definitions."""


@contextmanager
def _validation_env() -> Iterator[None]:
    """Set ``WEIR_IS_DEFS_VALIDATION_CLI=1`` (and Dagster's name) while user code loads."""
    saved = {name: os.environ.get(name) for name in _VALIDATION_ENV}
    os.environ.update(dict.fromkeys(_VALIDATION_ENV, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@definitions.command()
@code_location_options
@click.pass_context
def validate(ctx: click.Context, **location: Any) -> None:
    """Load the Definitions and resolve everything; exit 1 on any error."""
    import weir as dg
    from weir.errors import WeirError

    with _validation_env():
        loaded = load_or_exit(ctx, exit_code=EXIT_FAILURE, **location)
    where = loaded.target.describe()
    try:
        dg.Definitions.validate_loadable(loaded.definitions)
    except WeirError as exc:
        state = ctx.find_object(CliState)
        verbose = location.get("verbose_here") or (state is not None and state.verbose)
        details = traceback.format_exc() if verbose else None
        fail(f"Validation failed for {where}: {exc}", EXIT_FAILURE, details=details)
    stdout_console().print(Text(f"Validation successful for {where}."))
