"""Running a job of the user's Definitions against the persistent instance, as Dagster's CLI does.

The run goes through ``weir.execute_job`` with a reconstructable pointer back to the CLI's own
loader (``weir_cli._loading.reconstruct_job``), so the job's executor applies: the
multiprocess executor's workers import the user's code themselves, once each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from weir_cli._loading import LoadedDefinitions
from weir_cli._output import EXIT_FAILURE, EXIT_USAGE, fail, print_run_summary

__all__ = ["execute_and_report"]


def execute_and_report(
    loaded: LoadedDefinitions,
    job_name: str,
    *,
    run_config: Mapping[str, Any] | None,
    tags: Mapping[str, str],
    asset_selection: Sequence[Any] | None = None,
) -> None:
    """Run ``job_name`` in ``$WEIR_HOME``'s instance, print a summary, exit 1 if it failed.

    Problems found before any step runs (invalid run config, an unknown partition) exit 2.
    """
    import weir as dg
    from weir.errors import (
        ConfigError,
        DefinitionError,
        InvalidInvocationError,
        InvariantViolationError,
        SelectionError,
        WeirError,
    )

    target = loaded.target
    recon = dg.build_reconstructable_job(
        "weir_cli._loading",
        "reconstruct_job",
        [
            target.module_name,
            target.python_file,
            target.attribute,
            target.working_directory,
            job_name,
        ],
    )
    with dg.DagsterInstance.get() as instance:
        try:
            with dg.execute_job(
                recon,
                instance=instance,
                run_config=dict(run_config) if run_config is not None else None,
                tags=dict(tags),
                asset_selection=asset_selection,
            ) as result:
                succeeded = print_run_summary(result)
        except (
            ConfigError,
            DefinitionError,
            SelectionError,
            InvalidInvocationError,
            InvariantViolationError,
        ) as exc:
            fail(f"The run of {job_name!r} could not start: {exc}", EXIT_USAGE)
        except WeirError as exc:
            fail(f"The run of {job_name!r} failed: {exc}", EXIT_FAILURE)
    if not succeeded:
        raise click.exceptions.Exit(EXIT_FAILURE)
