"""Terminal output of the CLI: consoles, error exits and the summary of a finished run.

Exit codes: 0 success; 1 the work failed (a step of the run failed, validation found an
error); 2 the command could not start (bad options, user code that does not load, an unknown
asset or job, unreadable or invalid run config).
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text

__all__ = [
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "fail",
    "print_run_summary",
    "stderr_console",
    "stdout_console",
]

EXIT_FAILURE = 1
EXIT_USAGE = 2


_PIPE_WIDTH = 200


def stdout_console() -> Console:
    """A console on the current ``sys.stdout`` (click's test runner swaps it).

    Output to a pipe or file is laid out for 200 columns (unless ``COLUMNS`` says otherwise),
    so that tables keep run ids and keys whole for ``grep`` and scripts.
    """
    console = Console(soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _PIPE_WIDTH
    return console


def stderr_console() -> Console:
    """A console on the current ``sys.stderr``."""
    return Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE, *, details: str | None = None) -> NoReturn:
    """Print ``Error: message`` (and ``details``, e.g. a traceback) on stderr and exit ``code``."""
    console = stderr_console()
    if details:
        console.print(Text(details.rstrip()))
    console.print(Text("Error: ", style="bold red") + Text(message))
    raise click.exceptions.Exit(code)


def print_run_summary(result: Any) -> bool:
    """Print the run id, its steps and status; on failure, each failing step and its error.

    Returns:
        Whether the run succeeded.
    """
    console = stdout_console()
    succeeded = [e.step_key for e in result.get_step_success_events()]
    failed = result.get_step_failure_events()
    skipped = [e.step_key for e in result.get_step_skipped_events()]
    status = getattr(result.dagster_run.status, "value", str(result.dagster_run.status))
    console.print(Text(f"Run {result.run_id} of job {result.dagster_run.job_name}"))
    console.print(Text(f"  steps succeeded: {len(succeeded)} ({', '.join(succeeded) or '-'})"))
    if failed:
        names = ", ".join(str(e.step_key) for e in failed)
        console.print(Text(f"  steps failed: {len(failed)} ({names})"))
    if skipped:
        console.print(Text(f"  steps skipped: {len(skipped)} ({', '.join(skipped)})"))
    style = "bold green" if result.success else "bold red"
    console.print(Text("  status: ") + Text(status, style=style))
    if result.success:
        return True
    errors = stderr_console()
    for event in failed:
        errors.print(
            Text("Error: ", style="bold red")
            + Text(f"step {event.step_key!r} failed: {_error_text(event)}")
        )
    if not failed:
        errors.print(Text("Error: ", style="bold red") + Text(f"run {result.run_id} {status}."))
    return False


def _error_text(event: Any) -> str:
    data = getattr(event, "step_failure_data", None)
    error = getattr(data, "error", None)
    if error is None:
        return str(event.message or "no error recorded")
    text = str(error.message).strip()
    cause = getattr(error, "cause", None)
    if cause is not None and cause.message and str(cause.message).strip() not in text:
        text += f" (caused by {str(cause.message).strip()})"
    return text
