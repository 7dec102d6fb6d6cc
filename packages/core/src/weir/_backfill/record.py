"""The stored backfill record: target, runs (chunks), their status, and per-partition status.

A backfill is one named state record of kind ``"backfill"`` in the instance's storage, keyed by the
backfill id. Its body holds everything a driver needs to resume after a crash:

``{"version": 1, "partitions_def": {...}, "target": <serialised subset>, "asset_keys": [...],
"policy": {...}, "tags": {...}, "created": ts, "chunks": [{"start", "end", "size", "status",
"run_ids"}, ...]}``

A chunk is ``pending`` (not started), ``requested`` (marked just before its run is launched),
``succeeded``, ``failed`` or ``canceled``. The record's status uses Dagster's ``BulkActionStatus``
names.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from typing import Any

from weir._backfill.policy import BackfillPolicy
from weir._model.asset_key import AssetKey
from weir._partitions.key_range import PartitionKeyRange
from weir._partitions.subset import PartitionsSubset
from weir.errors import WeirError

__all__ = [
    "BACKFILL_KIND",
    "BackfillChunk",
    "BackfillNotFoundError",
    "BackfillPartitionStatus",
    "BackfillRecord",
    "BulkActionStatus",
    "ChunkStatus",
    "get_backfill",
    "get_backfills",
]

BACKFILL_KIND = "backfill"
_VERSION = 1


class BackfillNotFoundError(WeirError):
    """No backfill with that id is recorded in the instance."""


class BulkActionStatus(enum.Enum):
    """A backfill's overall status (Dagster's ``BulkActionStatus`` names)."""

    REQUESTED = "REQUESTED"
    CANCELED = "CANCELED"
    COMPLETED_SUCCESS = "COMPLETED_SUCCESS"
    COMPLETED_FAILED = "COMPLETED_FAILED"

    @property
    def is_finished(self) -> bool:
        return self is not BulkActionStatus.REQUESTED


class ChunkStatus(str, enum.Enum):
    """The status of one run (chunk) of a backfill."""

    PENDING = "pending"
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class BackfillChunk:
    """One run of a backfill: an inclusive key range, its status and the run ids of its attempts."""

    __slots__ = ("key_range", "run_ids", "size", "status")

    def __init__(
        self,
        key_range: PartitionKeyRange,
        size: int,
        status: ChunkStatus = ChunkStatus.PENDING,
        run_ids: Sequence[str] = (),
    ) -> None:
        self.key_range = key_range
        self.size = size
        self.status = status
        self.run_ids = list(run_ids)

    def to_body(self) -> dict[str, Any]:
        return {
            "start": self.key_range.start,
            "end": self.key_range.end,
            "size": self.size,
            "status": self.status.value,
            "run_ids": list(self.run_ids),
        }

    @staticmethod
    def from_body(data: Mapping[str, Any]) -> BackfillChunk:
        return BackfillChunk(
            PartitionKeyRange(data["start"], data["end"]),
            int(data["size"]),
            ChunkStatus(data["status"]),
            data.get("run_ids", ()),
        )

    def __repr__(self) -> str:
        return (
            f"BackfillChunk({self.key_range.start}...{self.key_range.end}, {self.status.value}, "
            f"runs={self.run_ids})"
        )


class BackfillPartitionStatus:
    """The partitions of a backfill by status, as subsets of its partitions definition."""

    __slots__ = ("canceled", "failed", "pending", "succeeded")

    def __init__(
        self,
        succeeded: PartitionsSubset,
        failed: PartitionsSubset,
        pending: PartitionsSubset,
        canceled: PartitionsSubset,
    ) -> None:
        self.succeeded = succeeded
        self.failed = failed
        self.pending = pending
        self.canceled = canceled

    def __repr__(self) -> str:
        return (
            f"BackfillPartitionStatus(succeeded={len(self.succeeded)}, failed={len(self.failed)}, "
            f"pending={len(self.pending)}, canceled={len(self.canceled)})"
        )


class BackfillRecord:
    """A backfill as recorded in the instance (what ``get_backfill`` returns).

    Attributes:
        backfill_id: Its id (runs carry it in the ``dagster/backfill`` tag).
        status: The overall :class:`BulkActionStatus`.
        asset_keys: The selected assets.
        partitions_def: Their partitions definition.
        target: The requested partitions (a ``PartitionsSubset``).
        policy: The backfill policy the chunks came from.
        chunks: The runs, in partition order, with their status and run ids.
        tags: Extra tags given to every run.
    """

    def __init__(
        self,
        backfill_id: str,
        status: BulkActionStatus,
        asset_keys: Sequence[AssetKey],
        partitions_def: Any,
        target: PartitionsSubset,
        policy: BackfillPolicy,
        chunks: Sequence[BackfillChunk],
        tags: Mapping[str, str] | None = None,
        created: float | None = None,
    ) -> None:
        self.backfill_id = backfill_id
        self.status = status
        self.asset_keys = tuple(asset_keys)
        self.partitions_def = partitions_def
        self.target = target
        self.policy = policy
        self.chunks = list(chunks)
        self.tags = dict(tags or {})
        self.created = time.time() if created is None else created

    @property
    def run_ids(self) -> list[str]:
        """Every run id launched for this backfill, in chunk order."""
        return [run_id for chunk in self.chunks for run_id in chunk.run_ids]

    def chunk_subset(self, chunk: BackfillChunk) -> PartitionsSubset:
        return self.target._derive(0).with_partition_key_range(chunk.key_range)

    def partition_status(self) -> BackfillPartitionStatus:
        """Which target partitions succeeded, failed, are pending (not run, or running) or were canceled."""
        by_status: dict[ChunkStatus, int] = {status: 0 for status in ChunkStatus}
        for chunk in self.chunks:
            by_status[chunk.status] |= self.chunk_subset(chunk).bits
        pending = by_status[ChunkStatus.PENDING] | by_status[ChunkStatus.REQUESTED]
        derive = self.target._derive
        return BackfillPartitionStatus(
            derive(by_status[ChunkStatus.SUCCEEDED]),
            derive(by_status[ChunkStatus.FAILED]),
            derive(pending),
            derive(by_status[ChunkStatus.CANCELED]),
        )

    def to_body(self) -> dict[str, Any]:
        from weir._partitions.registry import partitions_def_to_serializable

        return {
            "version": _VERSION,
            "partitions_def": partitions_def_to_serializable(self.partitions_def),
            "target": self.target.to_serializable(),
            "asset_keys": [key.to_user_string() for key in self.asset_keys],
            "policy": self.policy.to_serializable(),
            "tags": dict(self.tags),
            "created": self.created,
            "chunks": [chunk.to_body() for chunk in self.chunks],
        }

    @staticmethod
    def from_stored(record: Any, instance: Any = None) -> BackfillRecord:
        """Rebuild from a stored state record; ``instance`` resolves dynamic partition keys."""
        from weir._partitions.registry import partitions_def_from_serializable

        body = record.body
        if body.get("version") != _VERSION:
            msg = (
                f"Backfill {record.key!r} was recorded in format version {body.get('version')!r}; "
                f"this weir reads version {_VERSION}. Upgrade weir, or launch a new backfill."
            )
            raise WeirError(msg)
        pdef = partitions_def_from_serializable(body["partitions_def"])
        return BackfillRecord(
            record.key,
            BulkActionStatus(record.status),
            [AssetKey.from_user_string(k) for k in body["asset_keys"]],
            pdef,
            PartitionsSubset(
                pdef,
                PartitionsSubset.from_serializable(pdef, body["target"]).bits,
                dynamic_partitions_store=instance,
            ),
            BackfillPolicy.from_serializable(body["policy"]),
            [BackfillChunk.from_body(c) for c in body["chunks"]],
            body.get("tags"),
            body.get("created"),
        )

    def save(self, instance: Any) -> None:
        """Write the record (replacing the stored one)."""
        instance.storage.put_state(
            BACKFILL_KIND, self.backfill_id, self.status.value, self.to_body(), time.time()
        )

    def __repr__(self) -> str:
        return (
            f"BackfillRecord({self.backfill_id!r}, {self.status.value}, {len(self.asset_keys)} assets, "
            f"{len(self.target):,} partitions, {len(self.chunks)} runs)"
        )


def get_backfill(backfill_id: str, instance: Any) -> BackfillRecord:
    """The recorded backfill ``backfill_id``; ``BackfillNotFoundError`` if there is none."""
    records = instance.storage.get_states(BACKFILL_KIND, key=backfill_id)
    if not records:
        known = [r.key for r in instance.storage.get_states(BACKFILL_KIND, limit=5)]
        hint = f" Recent backfills: {known}." if known else " The instance has no backfill."
        msg = f"No backfill with id {backfill_id!r} in {instance!r}.{hint}"
        raise BackfillNotFoundError(msg)
    return BackfillRecord.from_stored(records[0], instance)


def get_backfills(
    instance: Any,
    statuses: Sequence[BulkActionStatus] | None = None,
    limit: int | None = None,
) -> list[BackfillRecord]:
    """Recorded backfills, newest first; ``statuses`` keeps those in one of them."""
    wanted = [s.value for s in statuses] if statuses is not None else None
    records = instance.storage.get_states(BACKFILL_KIND, statuses=wanted, limit=limit)
    return [BackfillRecord.from_stored(r, instance) for r in records]
