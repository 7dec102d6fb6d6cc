"""Partition status of an asset: which partitions are materialized, failed or in progress.

The materialized set is kept as a compact bitmap (``PartitionsSubset``) in the instance's key-value
store, with the storage id it is valid up to; a read applies only the materializations stored since
(one indexed query, usually empty) and writes the cache back when it moved. So the status of a
100,000-partition asset costs a bitmap decode, not 100,000 rows. A cache written for another
partitions definition (the asset's definition changed) is rebuilt from the event log.

A partition is FAILED when a run that planned it ended in failure (or was canceled) after its last
materialization, IN_PROGRESS when such a run is still going, MATERIALIZED when it has a
materialization otherwise. These follow Dagster's ``AssetPartitionStatus``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from weir._execution.run import DagsterRunStatus
from weir._instance.records import RunsFilter
from weir.errors import DefinitionError

__all__ = [
    "AssetPartitionStatus",
    "PartitionStatus",
    "definition_id",
    "partition_status",
    "refresh_partition_status",
]

_CACHE_PREFIX = "weir/partition_status/"
_FAILED = [DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
_RUNNING = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


class AssetPartitionStatus(enum.Enum):
    """The status of one partition (Dagster's names)."""

    MATERIALIZED = "MATERIALIZED"
    IN_PROGRESS = "IN_PROGRESS"
    FAILED = "FAILED"


class PartitionStatus:
    """The partitions of an asset by status, as subsets of its partitions definition."""

    __slots__ = ("failed", "in_progress", "materialized", "partitions_def")

    def __init__(
        self, partitions_def: Any, materialized: Any, failed: Any, in_progress: Any
    ) -> None:
        self.partitions_def = partitions_def
        self.materialized = materialized
        self.failed = failed
        self.in_progress = in_progress

    @property
    def missing(self) -> Any:
        """Partitions never materialized, and not failed or running either."""
        everything = self.partitions_def.subset_with_all_partitions()
        return everything - self.materialized - self.failed - self.in_progress

    def counts_by_dimension(self, dimension_name: str) -> dict[str, dict[str, int]]:
        """For a multi-partitioned asset: ``{dimension key: {status: count}}`` along one dimension
        (e.g. how many partitions of each region are materialized), from index arithmetic on the
        bitmaps, without listing the product's keys."""
        names = list(getattr(self.partitions_def, "partition_dimension_names", None) or [])
        if dimension_name not in names:
            msg = f"{dimension_name!r} is not a dimension of {self.partitions_def!r}" + (
                f" (dimensions: {names})." if names else " (it is not multi-partitioned)."
            )
            raise DefinitionError(msg)
        position = names.index(dimension_name)
        dims = [d.partitions_def for d in self.partitions_def.partitions_defs]
        sizes = [d.get_num_partitions() for d in dims]
        stride = 1
        for size in sizes[position + 1 :]:
            stride *= size
        size = sizes[position]
        dim_def = dims[position]
        counts: dict[str, dict[str, int]] = {}
        for status, subset in (
            ("materialized", self.materialized),
            ("failed", self.failed),
            ("in_progress", self.in_progress),
            ("missing", self.missing),
        ):
            tally = [0] * size
            for start, stop in subset.index_runs():
                for index in range(start, stop):
                    tally[(index // stride) % size] += 1
            for digit, count in enumerate(tally):
                if count:
                    counts.setdefault(dim_def.key_at(digit), {})[status] = count
        return counts

    def __repr__(self) -> str:
        return (
            f"PartitionStatus(materialized={len(self.materialized)}, failed={len(self.failed)}, "
            f"in_progress={len(self.in_progress)})"
        )


def definition_id(partitions_def: Any) -> str:
    """A short, stable id of a partitions definition (its serialized form, hashed): bitmaps are
    only meaningful under the definition they were made for."""
    text = json.dumps(partitions_def.to_serializable(), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _materialized(instance: Any, asset_key: Any, partitions_def: Any) -> Any:
    """The materialized subset, through the cache in the key-value store."""
    from weir._partitions.subset import PartitionsSubset

    storage = instance.storage
    cache_key = _CACHE_PREFIX + asset_key.to_string()
    definition = definition_id(partitions_def)
    cached = storage.kvs_get([cache_key]).get(cache_key)
    subset, cursor = partitions_def.empty_subset(), None
    if cached is not None:
        data = json.loads(cached)
        if data.get("definition") == definition:
            subset = PartitionsSubset.from_serializable(partitions_def, data["subset"])
            cursor = data["cursor"]
    # anything stored since the cache was written? (a range scan over new ids only)
    if cursor is not None and not storage.fetch_event_records(
        ["ASSET_MATERIALIZATION"], asset_key=asset_key, after_storage_id=cursor, limit=1
    ):
        return subset
    latest = storage.fetch_event_records(
        ["ASSET_MATERIALIZATION"], asset_key=asset_key, limit=1, ascending=False
    )
    if not latest:
        return subset
    newest = latest[0].storage_id
    fresh = storage.get_materialized_partitions(
        asset_key, after_storage_id=cursor, before_storage_id=newest + 1
    )
    indices = _indices(partitions_def, fresh, instance)
    subset = _with_indices(subset, indices)
    payload = {"definition": definition, "cursor": newest, "subset": subset.to_serializable()}
    storage.kvs_set({cache_key: json.dumps(payload)})
    return subset


def _indices(partitions_def: Any, keys: Any, instance: Any) -> list[int]:
    """Indices of ``keys`` that are partitions of the definition (others: removed or renamed keys)."""
    bulk = getattr(partitions_def, "indices_of", None)
    found = (
        bulk(keys, dynamic_partitions_store=instance)
        if bulk
        else [partitions_def.index_of(k, dynamic_partitions_store=instance) for k in keys]
    )
    return [i for i in found if i is not None]


def _with_indices(subset: Any, indices: Sequence[int]) -> Any:
    from weir._partitions.subset import bits_from_indices

    return subset._derive(subset.bits | bits_from_indices(indices))


def _planned_by(
    instance: Any,
    asset_key: Any,
    partitions_def: Any,
    statuses: list[DagsterRunStatus],
    after: dict[str, int],
) -> Any:
    """Partitions planned by runs in ``statuses`` later than their last materialization."""
    runs = instance.storage.get_run_records(RunsFilter(statuses=statuses))
    if not runs:
        return partitions_def.empty_subset()
    records = instance.storage.fetch_event_records(
        ["ASSET_MATERIALIZATION_PLANNED"],
        asset_key=asset_key,
        run_ids=[r.dagster_run.run_id for r in runs],
    )
    keys = [
        r.partition_key
        for r in records
        if r.partition_key is not None and r.storage_id > after.get(r.partition_key, -1)
    ]
    planned = _with_indices(partitions_def.empty_subset(), _indices(partitions_def, keys, instance))
    return planned | _planned_ranges(records, partitions_def, after, instance)


def _planned_ranges(records: Any, partitions_def: Any, after: dict[str, int], instance: Any) -> Any:
    """The partitions that range runs planned (one subset per event), minus those materialized
    after the plan; subsets planned under another definition are skipped (their bits mean other keys)."""
    from weir._partitions.subset import PartitionsSubset

    found = partitions_def.empty_subset()
    definition = None
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        payload = getattr(data, "partitions_subset", None)
        if not payload:
            continue
        definition = definition or definition_id(partitions_def)
        if payload.get("definition") != definition:
            continue
        subset = PartitionsSubset.from_serializable(partitions_def, payload["subset"])
        later = [k for k, sid in after.items() if sid > record.storage_id]
        if later:
            subset = subset - _with_indices(
                partitions_def.empty_subset(), _indices(partitions_def, later, instance)
            )
        found = found | subset
    return found


def partition_status(instance: Any, asset_key: Any, partitions_def: Any) -> PartitionStatus:
    """The status of every partition of ``asset_key`` under ``partitions_def``."""
    materialized = _materialized(instance, asset_key, partitions_def)
    # when each partition was last materialized matters only for partitions some failed or running
    # run planned; look those up (few) instead of all materializations
    planned_failed = _planned_by(instance, asset_key, partitions_def, _FAILED, {})
    planned_running = _planned_by(instance, asset_key, partitions_def, _RUNNING, {})
    if planned_failed.is_empty and planned_running.is_empty:
        empty = partitions_def.empty_subset()
        return PartitionStatus(partitions_def, materialized, empty, empty)
    last_materialized: dict[str, int] = {}
    candidates = (planned_failed | planned_running).get_partition_keys(
        dynamic_partitions_store=instance
    )
    for record in instance.storage.fetch_event_records(
        ["ASSET_MATERIALIZATION"], asset_key=asset_key, partitions=candidates
    ):
        last_materialized[record.partition_key] = max(
            record.storage_id, last_materialized.get(record.partition_key, -1)
        )
    failed = _planned_by(instance, asset_key, partitions_def, _FAILED, last_materialized)
    running = _planned_by(instance, asset_key, partitions_def, _RUNNING, last_materialized)
    return PartitionStatus(
        partitions_def, materialized - failed - running, failed - running, running
    )


def refresh_partition_status(instance: Any, partitioned: Any) -> None:
    """Bring the cached status bitmaps of ``(asset key, partitions def)`` pairs up to date (the
    engine calls this after a partitioned run, so status reads stay cheap). Never raises: a
    failure only means the next read does the work."""
    import logging

    done: set[Any] = set()
    for asset_key, partitions_def in partitioned:
        if asset_key in done:
            continue
        done.add(asset_key)
        try:
            _materialized(instance, asset_key, partitions_def)
        except Exception:  # a cache refresh must not fail the run
            logging.getLogger(__name__).warning(
                "Could not refresh the partition status of %s.",
                asset_key.to_user_string(),
                exc_info=True,
            )
