"""``weir job list`` and ``weir job execute``."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from weir_cli._options import code_location_options, load_or_exit, run_config_options
from weir_cli._output import EXIT_USAGE, fail, stdout_console

__all__ = ["job"]


@click.group()
def job() -> None:
    """List and execute the jobs of your Definitions."""


@job.command(name="list")
@code_location_options
@click.pass_context
def list_jobs(ctx: click.Context, **location: Any) -> None:
    """Print the job names, one per line."""
    from weir.errors import WeirError

    loaded = load_or_exit(ctx, **location)
    try:
        names = sorted(j.name for j in loaded.definitions.resolve_all_job_defs())
    except WeirError as exc:
        fail(f"The Definitions in {loaded.target.describe()} are invalid: {exc}", EXIT_USAGE)
    console = stdout_console()
    for name in names:
        console.print(Text(name))


@job.command()
@click.option("-j", "--job", "job_name", required=True, help="The job to execute.")
@run_config_options
@code_location_options
@click.pass_context
def execute(
    ctx: click.Context,
    job_name: str,
    config_files: tuple[str, ...],
    config_json: str | None,
    tags_json: str | None,
    **location: Any,
) -> None:
    """Execute a job with its executor, in the instance of $WEIR_HOME."""
    from weir.errors import WeirError
    from weir_cli._execute import execute_and_report
    from weir_cli._run_config import RunConfigInputError, parse_tags, run_config_from_options

    try:
        run_config = run_config_from_options(config_files, config_json)
        tags = parse_tags(tags_json)
    except RunConfigInputError as exc:
        fail(str(exc), EXIT_USAGE)
    loaded = load_or_exit(ctx, **location)
    try:
        loaded.definitions.resolve_job_def(job_name)
    except WeirError as exc:
        fail(f"{exc} (in {loaded.target.describe()})", EXIT_USAGE)
    execute_and_report(loaded, job_name, run_config=run_config, tags=tags)
