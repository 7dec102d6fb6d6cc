"""Worker functions for ``test_sqlite_concurrency.py``: each runs in its own spawned process.

They live in a plain module (not the test file) so that spawned workers can import them by name.
"""

from __future__ import annotations

import time
from typing import Any

from weir._execution.events import DagsterEvent, StepMaterializationData
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance.records import EventLogEntry
from weir._instance.sqlite_storage import SqliteInstanceStorage
from weir._model.results import AssetMaterialization

OUTPUTS_PER_BATCH = 9  # + one materialization = 10 events per batch, as one step writes them


def _event(
    run_id: str, event_type: str, step_key: str | None = None, data: object = None
) -> EventLogEntry:
    return EventLogEntry.from_event(
        run_id, DagsterEvent(event_type, "job", step_key=step_key, event_specific_data=data)
    )


def step_batch(run_id: str, step: int) -> list[EventLogEntry]:
    """The ten events of one step: nine outputs and the materialization of its asset partition."""
    key = f"step_{step}"
    batch = [_event(run_id, "STEP_OUTPUT", key) for _ in range(OUTPUTS_PER_BATCH)]
    materialization = AssetMaterialization(asset_key=run_id, partition=str(step))
    batch.append(
        _event(run_id, "ASSET_MATERIALIZATION", key, StepMaterializationData(materialization))
    )
    return batch


def write_run(url: str, worker: int, batches: int, extra_runs_every: int) -> list[list[int]]:
    """Add a run, write ``batches`` step batches (and now and then another run); the ids."""
    storage = SqliteInstanceStorage(url)
    run_id = f"w{worker}"
    storage.add_run(DagsterRun(run_id=run_id, job_name="job", tags={"worker": str(worker)}))
    storage.store_events([_event(run_id, "PIPELINE_START")])
    ids = []
    for step in range(batches):
        ids.append(storage.store_events(step_batch(run_id, step)))
        if step % extra_runs_every == 0:
            extra = DagsterRun(
                run_id=f"{run_id}-extra-{step}", job_name="extra", tags={"worker": str(worker)}
            )
            storage.add_run(extra)
    storage.store_events([_event(run_id, "PIPELINE_SUCCESS")])
    storage.dispose()
    return ids


def mark_failed_once(url: str, run_id: str, start_at: float) -> list[int] | None:
    """At ``start_at``, try to mark ``run_id`` failed if it is still STARTED (as crash detection does)."""
    storage = SqliteInstanceStorage(url)
    storage.get_runs_count()  # open the connection before the race starts
    time.sleep(max(0.0, start_at - time.time()))
    ids = storage.store_events(
        [_event(run_id, "PIPELINE_FAILURE")], expect_status={run_id: DagsterRunStatus.STARTED}
    )
    storage.dispose()
    return ids


def write_with_inherited_storage(storage: SqliteInstanceStorage, run_id: str, results: Any) -> None:
    """In a forked child: keep using the storage object the parent made (and wrote through)."""
    (storage_id,) = storage.store_events([_event(run_id, "STEP_START", "child")])
    results.put(storage_id)
