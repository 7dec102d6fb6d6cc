"""Driving a backfill in this process: launch, resume after a crash, cancel.

``launch_backfill`` records the backfill (target, selected assets, chunks) in the instance, then runs
the chunks in partition order. Before each run it marks the chunk ``requested`` and writes the
record; after it, ``succeeded`` or ``failed``. Each run has a deterministic id,
``<backfill id>-<chunk number>`` (``-r<attempt>`` for later attempts), so a driver that resumes
after the first one died finds the run it launched instead of launching a duplicate.

``cancel_backfill`` marks the record CANCELED; a driver re-reads the status before every chunk (and
before every write) and stops starting runs. The run in progress, if any, finishes.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._backfill.plan import (
    BackfillTarget,
    PlannedRun,
    resolve_backfill_policy,
    resolve_target,
    split_into_runs,
)
from weir._backfill.policy import BackfillPolicy
from weir._backfill.record import (
    BackfillChunk,
    BackfillPartitionStatus,
    BackfillRecord,
    BulkActionStatus,
    ChunkStatus,
    get_backfill,
)
from weir._execution.run import DagsterRunStatus
from weir._execution.run_partitions import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from weir.errors import DefinitionError, InvariantViolationError

__all__ = [
    "BACKFILL_ID_TAG",
    "BackfillResult",
    "cancel_backfill",
    "launch_backfill",
    "resume_backfill",
]

logger = logging.getLogger(__name__)

BACKFILL_ID_TAG = "dagster/backfill"
_ID_ALPHABET = string.ascii_lowercase


class BackfillResult:
    """The outcome of driving a backfill (to completion, to cancellation, or as far as it got).

    Attributes:
        backfill_id: The backfill's id.
        record: The stored :class:`BackfillRecord` as the driver left it.
    """

    def __init__(self, record: BackfillRecord) -> None:
        self.record = record
        self.backfill_id = record.backfill_id

    @property
    def status(self) -> BulkActionStatus:
        """The overall status (``COMPLETED_SUCCESS``, ``COMPLETED_FAILED``, ``CANCELED`` ...)."""
        return self.record.status

    @property
    def success(self) -> bool:
        return self.record.status is BulkActionStatus.COMPLETED_SUCCESS

    @property
    def run_ids(self) -> list[str]:
        """Every run launched for the backfill, in partition order."""
        return self.record.run_ids

    def partition_status(self) -> BackfillPartitionStatus:
        """Succeeded / failed / pending / canceled partitions, as subsets."""
        return self.record.partition_status()

    def __repr__(self) -> str:
        return (
            f"BackfillResult({self.backfill_id!r}, {self.status.value}, {len(self.run_ids)} runs)"
        )


def _new_backfill_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def _run_id(backfill_id: str, index: int, attempt: int) -> str:
    base = f"{backfill_id}-{index:04d}"
    return base if attempt == 0 else f"{base}-r{attempt}"


def _run_tags(record: BackfillRecord, run: PlannedRun) -> dict[str, str]:
    tags = {**record.tags, BACKFILL_ID_TAG: record.backfill_id}
    if run.num_partitions == 1:
        tags[PARTITION_TAG] = str(run.key_range.start)
    else:
        tags[RANGE_START_TAG] = str(run.key_range.start)
        tags[RANGE_END_TAG] = str(run.key_range.end)
    return tags


def launch_backfill(
    assets: Iterable[Any],
    *,
    partition_keys: Sequence[str] | None = None,
    partition_range: Any = None,
    selection: Any = None,
    instance: Any,
    resources: Mapping[str, Any] | None = None,
    backfill_policy: BackfillPolicy | None = None,
    tags: Mapping[str, str] | None = None,
    backfill_id: str | None = None,
) -> BackfillResult:
    """Record a backfill of ``assets`` over the given partitions in ``instance`` and run it here.

    Chunks (runs) come from ``backfill_policy``, else the policy the selected assets declare
    (they must agree), else one partition per run. Runs are tagged ``dagster/backfill=<id>`` plus
    the partition or range tags. A failed run does not stop the backfill; the result's status is
    then ``COMPLETED_FAILED``. Everything is validated before the record is written.

    Args:
        assets: The asset definitions (and specs of upstream assets) the runs are built from.
        partition_keys: The partition keys to run; or ``partition_range``, a ``PartitionKeyRange``
            or ``(start, end)``; neither: every partition.
        selection: Which of ``assets`` to run (default: all materializable ones).
        instance: Where the backfill and its runs are recorded.
        resources: Resources for the runs.
        backfill_policy: Overrides the assets' policies.
        tags: Added to every run.
        backfill_id: The id to record it under (default: 8 random letters); must be new.
    """
    target = resolve_target(
        assets,
        partition_keys=partition_keys,
        partition_range=partition_range,
        selection=selection,
        instance=instance,
        resources=resources,
    )
    policy = resolve_backfill_policy(target, backfill_policy)
    runs = split_into_runs(target.subset, policy, instance)
    if backfill_id is None:
        backfill_id = _new_backfill_id()
    elif instance.storage.get_states("backfill", key=backfill_id):
        msg = (
            f"A backfill with id {backfill_id!r} is already recorded. Resume it, or pick a new id."
        )
        raise InvariantViolationError(msg)
    record = BackfillRecord(
        backfill_id,
        BulkActionStatus.REQUESTED,
        target.asset_keys,
        target.partitions_def,
        target.subset,
        policy,
        [BackfillChunk(r.key_range, r.num_partitions) for r in runs],
        tags,
    )
    record.save(instance)
    logger.info(
        "Backfill %s: %d assets, %d partitions in %d runs.",
        backfill_id,
        len(target.asset_keys),
        len(target.subset),
        len(runs),
    )
    return _drive(record, target, instance, resources)


def resume_backfill(
    backfill_id: str,
    assets: Iterable[Any],
    *,
    instance: Any,
    resources: Mapping[str, Any] | None = None,
) -> BackfillResult:
    """Continue a backfill whose driving process died (crashed or was killed).

    ``assets`` are the same definitions the backfill was launched with (code is not stored).
    Chunks that succeeded stay. A chunk left ``requested`` whose run succeeded is marked
    succeeded without a new run; if that run failed, died, or was never stored, the chunk runs
    again under a new attempt id. Chunks not started run. A finished or canceled backfill is
    returned as is, without a run.
    """
    record = get_backfill(backfill_id, instance)
    if record.status.is_finished:
        logger.info(
            "Backfill %s is already %s; nothing to resume.", backfill_id, record.status.value
        )
        return BackfillResult(record)
    target = resolve_target(
        assets,
        partition_keys=None,
        partition_range=None,
        selection=[*record.asset_keys],
        instance=instance,
        resources=resources,
    )
    if target.partitions_def != record.partitions_def:
        msg = (
            f"Backfill {backfill_id!r} was recorded for {record.partitions_def!r}, but the assets now "
            f"have {target.partitions_def!r}. Launch a new backfill for the new partitions."
        )
        raise DefinitionError(msg)
    target = target._replace(subset=record.target)
    return _drive(record, target, instance, resources)


def cancel_backfill(backfill_id: str, instance: Any) -> BackfillRecord:
    """Cancel a backfill: no further chunk starts (a driver in another process sees it before its
    next chunk); the run in progress finishes. Canceling a canceled backfill does nothing; a
    completed one cannot be canceled."""
    record = get_backfill(backfill_id, instance)
    if record.status is BulkActionStatus.CANCELED:
        return record
    if record.status.is_finished:
        msg = f"Backfill {backfill_id!r} already finished ({record.status.value}); there is nothing to cancel."
        raise InvariantViolationError(msg)
    record.status = BulkActionStatus.CANCELED
    for chunk in record.chunks:
        if chunk.status is ChunkStatus.PENDING:
            chunk.status = ChunkStatus.CANCELED
    record.save(instance)
    logger.info("Backfill %s canceled.", backfill_id)
    return record


# -- the driver loop ----------------------------------------------------------------------------
def _canceled(record: BackfillRecord, instance: Any) -> bool:
    stored = instance.storage.get_states("backfill", key=record.backfill_id)
    return bool(stored) and stored[0].status == BulkActionStatus.CANCELED.value


def _save(record: BackfillRecord, instance: Any) -> bool:
    """Write the record unless it was canceled meanwhile; True when canceled (the driver stops)."""
    if _canceled(record, instance):
        record.status = BulkActionStatus.CANCELED
        for chunk in record.chunks:
            if chunk.status is ChunkStatus.PENDING:
                chunk.status = ChunkStatus.CANCELED
        record.save(instance)
        return True
    record.save(instance)
    return False


def _settle_requested(chunk: BackfillChunk, instance: Any) -> None:
    """A chunk left ``requested`` by a dead driver: succeeded if its last run did, else pending."""
    if not chunk.run_ids:
        chunk.status = ChunkStatus.PENDING
        return
    run = instance.get_run_by_id(chunk.run_ids[-1])  # a dead run is marked FAILURE on this read
    if run is None:
        chunk.status = ChunkStatus.PENDING
    elif run.status is DagsterRunStatus.SUCCESS:
        chunk.status = ChunkStatus.SUCCEEDED
    elif run.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        chunk.status = ChunkStatus.PENDING
    else:
        msg = (
            f"Run {run.run_id!r} of this backfill is still {run.status.value}: another process seems "
            "to be driving it. Wait for that process, or cancel the backfill."
        )
        raise InvariantViolationError(msg)


def _execute_chunk(
    target: BackfillTarget,
    record: BackfillRecord,
    run: PlannedRun,
    run_id: str,
    instance: Any,
    resources: Mapping[str, Any] | None,
) -> bool:
    from weir._execution.asset_job import JobDefinition
    from weir._execution.materialize import EPHEMERAL_JOB_NAME

    job = JobDefinition(
        name=EPHEMERAL_JOB_NAME,
        resolved=target.resolved,
        asset_keys=set(target.asset_keys),
        check_keys=set(target.resolved.graph.check_keys_for(target.asset_keys)),
        resource_defs=resources,
        default_io_manager_kind="fs",
    )
    result = job.execute_in_process(
        instance=instance, run_id=run_id, tags=_run_tags(record, run), raise_on_error=False
    )
    return bool(result.success)


def _drive(
    record: BackfillRecord,
    target: BackfillTarget,
    instance: Any,
    resources: Mapping[str, Any] | None,
) -> BackfillResult:
    for chunk in record.chunks:
        if chunk.status is ChunkStatus.REQUESTED:
            _settle_requested(chunk, instance)
    if _save(record, instance):
        return BackfillResult(record)
    for index, chunk in enumerate(record.chunks):
        if chunk.status is not ChunkStatus.PENDING:
            continue
        if _canceled(record, instance):
            _save(record, instance)
            return BackfillResult(record)
        run_id = _run_id(record.backfill_id, index, len(chunk.run_ids))
        chunk.status = ChunkStatus.REQUESTED
        chunk.run_ids.append(run_id)
        if _save(record, instance):
            chunk.status, chunk.run_ids = ChunkStatus.CANCELED, chunk.run_ids[:-1]
            record.save(instance)
            return BackfillResult(record)
        planned = PlannedRun(chunk.key_range, chunk.size)
        logger.info("Backfill %s: run %s for %s.", record.backfill_id, run_id, planned.describe())
        ok = _execute_chunk(target, record, planned, run_id, instance, resources)
        chunk.status = ChunkStatus.SUCCEEDED if ok else ChunkStatus.FAILED
        if _save(record, instance):
            return BackfillResult(record)
    failed = any(c.status is ChunkStatus.FAILED for c in record.chunks)
    record.status = (
        BulkActionStatus.COMPLETED_FAILED if failed else BulkActionStatus.COMPLETED_SUCCESS
    )
    _save(record, instance)
    return BackfillResult(record)
