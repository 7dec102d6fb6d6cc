"""Partitions at the edges of a step: what its output contexts, input contexts and
materialization events say about partitions in a partitioned run."""

from __future__ import annotations

from typing import Any

from weir._execution.run_partitions import RunPartitions, StepPartitions

__all__ = [
    "input_partitions",
    "materialized_partitions",
    "output_partition_args",
    "step_partitions",
]


def step_partitions(state: Any, assets_def: Any) -> StepPartitions | None:
    """The partitions an asset step works on (None for an unpartitioned run of an
    unpartitioned asset). Cached per partitions definition on the run state."""
    run_partitions: RunPartitions = state.run_partitions
    pdef = getattr(assets_def, "partitions_def", None) if assets_def is not None else None
    if pdef is None and not run_partitions.is_set:
        return None
    cache: dict[Any, StepPartitions] = state.step_partitions_cache
    found = cache.get(pdef)
    if found is None:
        found = cache[pdef] = StepPartitions(run_partitions, pdef, state.instance)
    return found


def output_partition_args(sp: StepPartitions | None, partitioned_asset: bool) -> dict[str, Any]:
    """Keyword arguments of ``OutputContext`` for an asset output."""
    if sp is None or not partitioned_asset or not sp.is_partitioned:
        return {"partition_key": sp.partition_key if sp is not None else None}
    rp = sp.run_partitions
    if rp.key is not None:
        return {"partition_key": rp.key, "asset_partitions_def": sp.partitions_def}
    return {"asset_partition_key_range": rp.key_range, "asset_partitions_def": sp.partitions_def}


def input_partitions(
    ctx: Any,
    upstream_ctx: Any,
    sp: StepPartitions | None,
    upstream_def: Any,
    mapping: Any,
    instance: Any,
) -> None:
    """Point an input context (and the upstream output context it reads) at the upstream
    partitions the input depends on. Unpartitioned upstream assets are left alone."""
    if upstream_def is None:
        return
    if sp is None:
        sp = StepPartitions(RunPartitions(), None, instance)
    upstream = sp.upstream(upstream_def, mapping)
    keys = upstream.keys
    for target in (ctx, upstream_ctx):
        if target is None:
            continue
        target._partitions_def = upstream_def
        if len(keys) == 1:
            target._partition_key = keys[0]
            target._partition_key_range = None
            target._partition_keys = None
        else:
            from weir._partitions.key_range import PartitionKeyRange

            target._partition_key = None
            target._partition_key_range = (
                PartitionKeyRange(keys[0], keys[-1]) if keys else PartitionKeyRange("", "")
            )
            target._partition_keys = keys


def materialized_partitions(sp: StepPartitions | None, partitioned_asset: bool) -> list[str | None]:
    """The partition of each materialization event an asset output records: one per key of the
    run's range (Dagster's behaviour), the run's key, or None."""
    if sp is None or not partitioned_asset or not sp.is_partitioned:
        return [None]
    if sp.run_partitions.key is not None:
        return [sp.run_partitions.key]
    return list(sp.keys)
