"""Finding runs whose process died: a run still marked as in progress whose worker is gone.

A run records the host name and pid of the process that started it (from its ``PIPELINE_START``
event). When the instance next reads such a run and finds that, on this host, no process with that
pid is alive (or it is a zombie), the run was killed or crashed mid-way: the instance marks it
FAILURE with an engine event saying so. The write is conditional on the run's status, so two
processes noticing at once mark it only once. Runs started on other hosts are left alone: their
liveness cannot be checked from here.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Sequence

from weir._execution.events import DagsterEvent
from weir._execution.run import DagsterRunStatus
from weir._instance.records import EventLogEntry, RunRecord
from weir._instance.storage import InstanceStorage

__all__ = ["UNFINISHED_STATUSES", "dead_run_entries", "pid_alive"]

UNFINISHED_STATUSES = frozenset(
    {DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING}
)


@functools.cache
def this_host() -> str:
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this host (a zombie counts as dead)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def dead_run_entries(
    storage: InstanceStorage, records: Sequence[RunRecord]
) -> dict[str, tuple[DagsterRunStatus, list[EventLogEntry]]]:
    """For every unfinished run in ``records`` whose process is dead: the status it must still be
    in, and the entries that mark it failed."""
    unfinished = [r for r in records if r.dagster_run.status in UNFINISHED_STATUSES]
    if not unfinished:
        return {}
    workers = storage.get_run_workers([r.dagster_run.run_id for r in unfinished])
    host = this_host()
    out: dict[str, tuple[DagsterRunStatus, list[EventLogEntry]]] = {}
    for record in unfinished:
        run = record.dagster_run
        worker = workers.get(run.run_id)
        if worker is None or worker[0] != host or pid_alive(worker[1]):
            continue
        pid = worker[1]
        message = (
            f'Run "{run.run_id}" of job "{run.job_name}" was {run.status.value} but its process '
            f"(pid {pid} on {host}) is gone: it was killed or crashed mid-run. Marked FAILURE. Steps "
            "that had finished keep their results; re-execute the run from failure to finish it."
        )
        engine = DagsterEvent(
            "ENGINE_EVENT",
            run.job_name,
            None,
            f"Run process (pid {pid} on {host}) is no longer running.",
        )
        failure = DagsterEvent("PIPELINE_FAILURE", run.job_name, None, message)
        out[run.run_id] = (
            run.status,
            [
                EventLogEntry.from_event(run.run_id, engine),
                EventLogEntry.from_event(run.run_id, failure),
            ],
        )
    return out
