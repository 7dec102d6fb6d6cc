"""Which partitions a run targets, and what that means for each step and each input.

A run targets one partition key or an inclusive key range (a single-run backfill). Each asset step
works on that key or range within its asset's partitions definition; each input from a partitioned
upstream asset reads the upstream partitions its partition mapping (explicit, or Dagster's inferred
default) gives. Everything is computed on ``PartitionsSubset`` bitmaps, so a range of 100,000
partitions costs no Python object per key until someone lists the keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.errors import DefinitionError

__all__ = [
    "PARTITION_TAG",
    "RANGE_END_TAG",
    "RANGE_START_TAG",
    "RunPartitions",
    "StepPartitions",
    "check_run_partitions",
]

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class RunPartitions:
    """The partition key, or the inclusive key range, of a run (neither: an unpartitioned run)."""

    __slots__ = ("key", "key_range")

    def __init__(self, key: str | None = None, key_range: Any = None) -> None:
        if key is not None and key_range is not None:
            msg = "A run targets a partition key or a partition key range, not both."
            raise DefinitionError(msg)
        self.key = key
        self.key_range = key_range

    @staticmethod
    def from_tags(tags: Mapping[str, str]) -> RunPartitions:
        if PARTITION_TAG in tags:
            return RunPartitions(tags[PARTITION_TAG])
        if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
            from weir._partitions.key_range import PartitionKeyRange

            return RunPartitions(
                key_range=PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
            )
        return RunPartitions()

    @property
    def is_set(self) -> bool:
        return self.key is not None or self.key_range is not None

    def describe(self) -> str:
        if self.key is not None:
            return f"partition {self.key!r}"
        if self.key_range is not None:
            return f"partitions {self.key_range.start!r}...{self.key_range.end!r}"
        return "no partition"

    def tags(self, partitions_def: Any = None) -> dict[str, str]:
        """Dagster's run tags: ``dagster/partition`` (plus ``dagster/partition/<dim>`` for a
        multi-partition key) or the range start/end tags."""
        if self.key is not None:
            tags = {PARTITION_TAG: str(self.key)}
            dims = getattr(partitions_def, "partition_dimension_names", None)
            if dims:
                for dim, value in zip(dims, str(self.key).split("|"), strict=False):
                    tags[f"{PARTITION_TAG}/{dim}"] = value
            return tags
        if self.key_range is not None:
            return {
                RANGE_START_TAG: str(self.key_range.start),
                RANGE_END_TAG: str(self.key_range.end),
            }
        return {}

    def subset(self, partitions_def: Any, instance: Any = None) -> Any:
        """The run's partitions as a subset of ``partitions_def`` (validated: unknown keys raise)."""
        if self.key is not None:
            index = partitions_def.require_index(self.key, dynamic_partitions_store=instance)
            return partitions_def.empty_subset().with_index_range(index, index + 1)
        start, stop = partitions_def.index_range(self.key_range, dynamic_partitions_store=instance)
        return partitions_def.empty_subset().with_index_range(start, stop)


def check_run_partitions(
    run_partitions: RunPartitions, partitioned: Iterable[tuple[Any, Any]], instance: Any = None
) -> Any:
    """Validate the run's partitions against the ``(asset key, partitions def)`` pairs of its
    partitioned assets and return their shared definition (None when nothing is partitioned).

    Errors (before anything runs): a key or range for a run without partitioned assets; assets with
    different partitions definitions in one partitioned run; a key that is not a partition.
    """
    pairs = list(partitioned)
    if not pairs:
        if run_partitions.is_set:
            msg = (
                f"The run targets {run_partitions.describe()}, but none of its assets is partitioned. "
                "Remove partition_key, or select partitioned assets."
            )
            raise DefinitionError(msg)
        return None
    if not run_partitions.is_set:
        return pairs[0][1]
    first_key, first_def = pairs[0]
    for key, pdef in pairs[1:]:
        if pdef != first_def:
            msg = (
                f"All assets of a partitioned run must share one partitions definition, but "
                f"{first_key.to_user_string()!r} has {first_def!r} and {key.to_user_string()!r} has "
                f"{pdef!r}. Run them separately, one run per partitions definition."
            )
            raise DefinitionError(msg)
    run_partitions.subset(first_def, instance)  # raises for an unknown key
    return first_def


class StepPartitions:
    """The partitions one step works on: its assets' definition and the run's keys within it."""

    __slots__ = ("_keys", "_subset", "instance", "partitions_def", "run_partitions")

    def __init__(
        self, run_partitions: RunPartitions, partitions_def: Any, instance: Any = None
    ) -> None:
        self.run_partitions = run_partitions
        self.partitions_def = partitions_def
        self.instance = instance
        self._subset: Any = None
        self._keys: list[str] | None = None

    @property
    def is_partitioned(self) -> bool:
        return self.partitions_def is not None and self.run_partitions.is_set

    @property
    def subset(self) -> Any:
        if self._subset is None:
            self._subset = self.run_partitions.subset(self.partitions_def, self.instance)
        return self._subset

    @property
    def partition_key(self) -> str | None:
        return self.run_partitions.key

    @property
    def key_range(self) -> Any:
        from weir._partitions.key_range import PartitionKeyRange

        rp = self.run_partitions
        if rp.key_range is not None:
            return rp.key_range
        return PartitionKeyRange(rp.key, rp.key) if rp.key is not None else None

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            self._keys = self.subset.get_partition_keys(dynamic_partitions_store=self.instance)
        return self._keys

    def upstream(self, upstream_def: Any, mapping: Any) -> UpstreamPartitions:
        """The partitions of an upstream asset this step reads, through ``mapping`` (or the
        inferred default)."""
        from weir._partitions.mapping import infer_partition_mapping

        chosen = infer_partition_mapping(mapping, self.partitions_def, upstream_def)
        if self.is_partitioned:
            downstream = self.subset
        elif self.partitions_def is not None:  # a partitioned asset run without a key: all of it
            downstream = self.partitions_def.subset_with_all_partitions(
                dynamic_partitions_store=self.instance
            )
        else:
            downstream = None
        result = chosen.get_upstream_mapped_partitions_result_for_partitions(
            downstream, self.partitions_def, upstream_def, dynamic_partitions_store=self.instance
        )
        missing = result.required_but_nonexistent_subset
        if missing is not None and not missing.is_empty:
            keys = list(missing.get_partition_keys())
            shown = ", ".join(repr(k) for k in keys[:5]) + (
                f" and {len(keys) - 5} more" if len(keys) > 5 else ""
            )
            msg = (
                f"{self.run_partitions.describe().capitalize()} depends, through {chosen!r}, on upstream "
                f"partitions that do not exist in {upstream_def!r}: {shown}. Add them (dynamic "
                "partitions), change the partition mapping, or pick partitions whose upstream exists."
            )
            raise DefinitionError(msg)
        return UpstreamPartitions(upstream_def, result.partitions_subset, self.instance)


class UpstreamPartitions:
    """The upstream partitions an input reads (keys listed on demand)."""

    __slots__ = ("_keys", "instance", "partitions_def", "subset")

    def __init__(self, partitions_def: Any, subset: Any, instance: Any) -> None:
        self.partitions_def = partitions_def
        self.subset = subset
        self.instance = instance
        self._keys: list[str] | None = None

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            self._keys = self.subset.get_partition_keys(dynamic_partitions_store=self.instance)
        return self._keys
