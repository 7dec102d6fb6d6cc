"""``weir run list``: the most recent runs of the instance."""

from __future__ import annotations

import datetime

import click
from rich.table import Table

from weir_cli._output import EXIT_FAILURE, fail, stdout_console

__all__ = ["run"]


@click.group()
def run() -> None:
    """Inspect the runs stored in the instance."""


@run.command(name="list")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs."
)
def list_runs(limit: int) -> None:
    """List recent runs, newest first: run id, job, status, start time."""
    import weir as dg
    from weir.errors import WeirError

    try:
        with dg.DagsterInstance.get() as inst:
            records = inst.get_run_records(limit=limit)
    except WeirError as exc:
        fail(f"Cannot read the runs: {exc}", EXIT_FAILURE)
    console = stdout_console()
    if not records:
        console.print("No runs yet.")
        return
    table = Table()
    table.add_column("run id", no_wrap=True, min_width=36)
    table.add_column("job", overflow="fold")
    table.add_column("status")
    table.add_column("started", no_wrap=True)
    for record in records:
        run_ = record.dagster_run
        started = (
            datetime.datetime.fromtimestamp(record.start_time).isoformat(
                sep=" ", timespec="seconds"
            )
            if record.start_time is not None
            else "-"
        )
        table.add_row(run_.run_id, run_.job_name, run_.status.value, started)
    console.print(table)
