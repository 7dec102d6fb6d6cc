"""Writing a run's events to the instance as the run goes, one transaction per step.

The engine hands every event to a :class:`RunEventSink`. Events accumulate until a step ends
(``STEP_SUCCESS``, ``STEP_FAILURE``, ``STEP_SKIPPED``, ``STEP_UP_FOR_RETRY``) or the run starts or
ends; then the batch is written in one transaction. Messages logged with ``context.log`` join the
batch of their step as plain entries (no ``dagster_event``), as Dagster stores them. So a step's outputs, materializations and
success are committed together, and a run killed mid-step loses only the step in flight.

A batch that cannot be written (the database restarted, say) stays pending and is retried at the
next boundary; the final write at the end of the run raises ``StorageError`` if it still fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from weir._execution.events import DagsterEvent
from weir.errors import StorageError

__all__ = ["RunEventSink", "planned_events"]

logger = logging.getLogger(__name__)

_FLUSH_AFTER = frozenset(
    {
        "PIPELINE_START",
        "STEP_SUCCESS",
        "STEP_FAILURE",
        "STEP_SKIPPED",
        "STEP_UP_FOR_RETRY",
        "RESOURCE_INIT_FAILURE",
        "PIPELINE_SUCCESS",
        "PIPELINE_FAILURE",
        "PIPELINE_CANCELED",
    }
)


class RunEventSink:
    """Collects one run's events and writes them to ``instance`` in per-step batches."""

    __slots__ = ("_entry", "_failures", "_instance", "_pending", "run_id")

    def __init__(self, instance: Any, run_id: str) -> None:
        from weir._instance.records import EventLogEntry

        self._instance = instance
        self.run_id = run_id
        self._pending: list[Any] = []
        self._failures = 0
        self._entry = EventLogEntry.from_event

    def add(self, event: DagsterEvent) -> None:
        self._pending.append(self._entry(self.run_id, event, time.time()))
        if event.event_type_value in _FLUSH_AFTER:
            self.flush(
                final=event.event_type_value.startswith("PIPELINE_")
                and event.event_type_value != "PIPELINE_START"
            )

    def add_entry(self, entry: Any) -> None:
        """Queue a plain log entry (a ``context.log`` message); it is written with its step."""
        self._pending.append(entry)

    def flush(self, *, final: bool = False) -> None:
        """Write what is pending. Mid-run, a storage failure is logged and retried later."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            self._instance.store_events(batch)
        except StorageError as exc:
            self._pending = batch + self._pending
            self._failures += 1
            if final:
                msg = (
                    f"Run {self.run_id!r} finished but its last {len(self._pending)} event(s) could not be "
                    f"recorded in the instance: {exc}"
                )
                raise StorageError(msg) from exc
            logger.warning(
                "Could not record %d event(s) of run %s (will retry at the next step): %s",
                len(batch),
                self.run_id,
                exc,
            )


def planned_events(
    job_name: str,
    asset_steps: Iterable[tuple[str, Sequence[Any]]],
    check_steps: Iterable[tuple[str, Sequence[Any]]],
    partition: str | None,
    partitioned: Any = None,
    partitions_subset: Any = None,
) -> list[DagsterEvent]:
    """``ASSET_MATERIALIZATION_PLANNED`` / ``ASSET_CHECK_EVALUATION_PLANNED`` events of a run.

    ``asset_steps`` pairs each step key with the asset keys it will materialize, ``check_steps``
    with the check keys it will evaluate. ``partition`` / ``partitions_subset`` apply to the asset
    keys in ``partitioned`` (all of them when it is None). They are stored when the run is created (not part of
    the run's execution event stream, as in Dagster).
    """
    from weir._execution.events import AssetCheckEvaluationPlanned, AssetMaterializationPlannedData

    events = []
    for step_key, keys in asset_steps:
        for key in keys:
            events.append(
                DagsterEvent(
                    "ASSET_MATERIALIZATION_PLANNED",
                    job_name,
                    step_key,
                    f"{job_name} intends to materialize asset {key.to_string()}",
                    AssetMaterializationPlannedData(key, partition, partitions_subset)
                    if partitioned is None or key in partitioned
                    else AssetMaterializationPlannedData(key),
                )
            )
    for step_key, check_keys in check_steps:
        for check in check_keys:
            events.append(
                DagsterEvent(
                    "ASSET_CHECK_EVALUATION_PLANNED",
                    job_name,
                    step_key,
                    f"{job_name} intends to execute asset check {check.name} on asset {check.asset_key.to_string()}",
                    AssetCheckEvaluationPlanned(check.asset_key, check.name, partition),
                )
            )
    return events
