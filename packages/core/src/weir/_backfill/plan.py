"""The backfill plan preview: which assets and partitions a backfill will run, and why, before it runs.

``plan_backfill(assets, partition_range=..., instance=...)`` resolves the target (the selected,
partitioned assets and the requested partitions of their shared partitions definition), asks the
instance about each asset's partitions and sorts them by reason:

- ``missing``: never materialized (or a run for it is still in progress);
- ``failed``: the last attempt failed;
- ``upstream_changed``: an upstream asset (selected or not) has a materialization newer than this
  partition's last one, for the upstream partitions its partition mapping reads;
- ``requested``: up to date, but asked for.

It also splits the target into the runs the backfill policy gives. Everything stays a
``PartitionsSubset`` bitmap until the text view lists a few key ranges, so a plan over 100,000
partitions prints in a handful of lines.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from weir._backfill.policy import BackfillPolicy
from weir._model.asset_key import AssetKey
from weir._partitions.definition import PartitionsDefinition
from weir._partitions.key_range import PartitionKeyRange
from weir._partitions.subset import PartitionsSubset
from weir.errors import DefinitionError

__all__ = [
    "BackfillPlan",
    "BackfillReason",
    "BackfillTarget",
    "PlanEntry",
    "PlannedRun",
    "describe_subset",
    "plan_backfill",
    "resolve_backfill_policy",
    "resolve_target",
    "split_into_runs",
]

logger = logging.getLogger(__name__)

_BIG_KEY_LIST = 5_000  # above this, read all of an asset's materializations instead of an IN list


class BackfillReason(str, enum.Enum):
    """Why a partition of an asset is in a backfill (the values are what the text view prints)."""

    MISSING = "missing"
    FAILED = "failed"
    UPSTREAM_CHANGED = "upstream_changed"
    REQUESTED = "requested"


class PlanEntry(NamedTuple):
    """The partitions of one asset that run for one reason."""

    asset_key: AssetKey
    reason: BackfillReason
    subset: PartitionsSubset


class PlannedRun(NamedTuple):
    """One run of a backfill: a partition key range (``start == end`` for one partition)."""

    key_range: PartitionKeyRange
    num_partitions: int

    @property
    def partition_key(self) -> str | None:
        """The partition key when the run covers one partition, else None."""
        return self.key_range.start if self.num_partitions == 1 else None

    def describe(self) -> str:
        if self.num_partitions == 1:
            return str(self.key_range.start)
        return f"{self.key_range.start}...{self.key_range.end} ({self.num_partitions:,})"


class BackfillTarget(NamedTuple):
    """The resolved target of a backfill: assets (in dependency order), their definition, partitions."""

    resolved: Any
    asset_keys: tuple[AssetKey, ...]
    partitions_def: PartitionsDefinition
    subset: PartitionsSubset


def _user(key: AssetKey) -> str:
    return key.to_user_string()


def resolve_target(
    assets: Iterable[Any],
    *,
    partition_keys: Sequence[str] | None,
    partition_range: Any,
    selection: Any,
    instance: Any,
    resources: Mapping[str, Any] | None,
) -> BackfillTarget:
    """Validate a backfill request; every error is raised here, before anything runs."""
    from weir._graph.resolve import resolve_assets
    from weir._model.assets_definition import AssetsDefinition

    if isinstance(assets, (AssetsDefinition, str)) or not isinstance(assets, Iterable):
        msg = f"A backfill takes a list of assets, got {type(assets).__name__}; wrap it in a list."
        raise DefinitionError(msg)
    resolved = resolve_assets(list(assets), resource_keys=list(resources or {}))
    graph = resolved.graph
    if selection is None:
        keys = {k for ad in resolved.assets_defs if ad.is_executable for k in ad.keys}
    else:
        from weir._graph.selection import AssetSelection

        keys = set(AssetSelection.from_coercible(selection).resolve(graph))
    keys = {k for k in keys if k in graph.materializable_asset_keys}
    if not keys:
        msg = (
            f"The backfill selects no materializable asset (selection={selection!r}). Pass the "
            "assets to backfill, or a selection that matches some of them."
        )
        raise DefinitionError(msg)
    ordered = tuple(graph.toposort(keys))
    unpartitioned = [_user(k) for k in ordered if graph.get(k).spec.partitions_def is None]
    if unpartitioned:
        msg = (
            f"A backfill runs partitions, but {unpartitioned} {'is' if len(unpartitioned) == 1 else 'are'} "
            "not partitioned. Leave them out of the selection and materialize them separately."
        )
        raise DefinitionError(msg)
    first = ordered[0]
    pdef: PartitionsDefinition = graph.get(first).spec.partitions_def
    for key in ordered[1:]:
        other = graph.get(key).spec.partitions_def
        if other != pdef:
            msg = (
                f"All assets of a backfill must share one partitions definition, but {_user(first)!r} "
                f"has {pdef!r} and {_user(key)!r} has {other!r}. Backfill them separately, one "
                "backfill per partitions definition."
            )
            raise DefinitionError(msg)
    subset = _target_subset(pdef, partition_keys, partition_range, instance)
    _check_upstream_partitions_exist(graph, ordered, subset, instance)
    return BackfillTarget(resolved, ordered, pdef, subset)


def _check_upstream_partitions_exist(
    graph: Any, keys: Sequence[AssetKey], subset: PartitionsSubset, instance: Any
) -> None:
    """Map the target through every partitioned dependency once: a mapping that needs upstream
    partitions that do not exist raises here (naming them), not in the middle of the backfill."""
    from weir._partitions.mapping import infer_partition_mapping

    pdef = subset.partitions_def
    for key in keys:
        node = graph.get(key)
        mappings = {dep.asset_key: dep.partition_mapping for dep in node.spec.deps}
        for parent in sorted(node.parent_keys, key=_user):
            parent_node = graph.node_for(parent)
            updef = parent_node.spec.partitions_def if parent_node is not None else None
            if updef is None:
                continue
            mapping = infer_partition_mapping(mappings.get(parent), pdef, updef)
            mapping.get_upstream_mapped_partitions_result_for_partitions(
                subset, pdef, updef, dynamic_partitions_store=instance
            )


def _target_subset(
    pdef: PartitionsDefinition, partition_keys: Any, partition_range: Any, instance: Any
) -> PartitionsSubset:
    if partition_keys is not None and partition_range is not None:
        msg = "Pass partition_keys or partition_range to a backfill, not both."
        raise DefinitionError(msg)
    empty = PartitionsSubset(pdef, 0, dynamic_partitions_store=instance)
    if partition_keys is not None:
        if isinstance(partition_keys, str):
            msg = f"partition_keys takes a list of keys, got the string {partition_keys!r}. Wrap it in a list."
            raise DefinitionError(msg)
        subset = empty.with_partition_keys(list(partition_keys), instance)
        what = f"partition_keys={list(partition_keys)!r:.200}"
    elif partition_range is not None:
        if not isinstance(partition_range, PartitionKeyRange):
            try:
                start, end = partition_range
            except (TypeError, ValueError) as exc:
                msg = (
                    "partition_range takes a PartitionKeyRange(start, end) or a (start, end) pair, "
                    f"got {partition_range!r}."
                )
                raise DefinitionError(msg) from exc
            partition_range = PartitionKeyRange(start, end)
        subset = empty.with_partition_key_range(partition_range, dynamic_partitions_store=instance)
        what = f"partition_range {partition_range.start}...{partition_range.end}"
    else:
        subset = PartitionsSubset(
            pdef,
            pdef.subset_with_all_partitions(dynamic_partitions_store=instance).bits,
            dynamic_partitions_store=instance,
        )
        what = "all partitions"
    if subset.is_empty:
        msg = (
            f"The backfill targets no partition ({what} of {pdef!r}). Pass the partition keys or "
            "the key range to backfill."
        )
        raise DefinitionError(msg)
    return subset


def resolve_backfill_policy(target: BackfillTarget, explicit: Any) -> BackfillPolicy:
    """The policy given, else the one every selected asset declares, else ``multi_run(1)``."""
    if explicit is not None:
        if not isinstance(explicit, BackfillPolicy):
            msg = f"backfill_policy must be a BackfillPolicy, got {type(explicit).__name__} {explicit!r}."
            raise DefinitionError(msg)
        return explicit
    by_asset: dict[AssetKey, Any] = {}
    for key in target.asset_keys:
        ad = target.resolved.assets_def_by_key[key]
        by_asset[key] = getattr(ad, "backfill_policy", None)
    declared = {p for p in by_asset.values() if p is not None}
    if len(declared) > 1 or (declared and None in by_asset.values()):
        shown = ", ".join(f"{_user(k)}: {p!r}" for k, p in by_asset.items())
        msg = (
            f"The selected assets declare different backfill policies ({shown}). Pass "
            "backfill_policy= to choose one for this backfill, or backfill them separately."
        )
        raise DefinitionError(msg)
    return declared.pop() if declared else BackfillPolicy.multi_run(1)


def split_into_runs(
    subset: PartitionsSubset, policy: BackfillPolicy, instance: Any = None
) -> list[PlannedRun]:
    """The runs ``policy`` gives for ``subset``, in partition order: each contiguous run of indices
    cut into pieces of at most ``max_partitions_per_run`` (a multi-partitions piece further into boxes)."""
    pdef = subset.partitions_def
    limit = policy.max_partitions_per_run
    by_runs = getattr(pdef, "key_ranges_for_index_runs", None)
    out: list[PlannedRun] = []
    for start, stop in subset.index_runs():
        step = stop - start if limit is None else limit
        for piece in range(start, stop, step):
            end = min(piece + step, stop)
            if by_runs is not None:
                for key_range in by_runs([(piece, end)], None, instance):
                    size = len(
                        PartitionsSubset(pdef, 0).with_partition_key_range(
                            key_range, dynamic_partitions_store=instance
                        )
                    )
                    out.append(PlannedRun(key_range, size))
            else:
                out.append(
                    PlannedRun(
                        PartitionKeyRange(
                            pdef.key_at(piece, dynamic_partitions_store=instance),
                            pdef.key_at(end - 1, dynamic_partitions_store=instance),
                        ),
                        end - piece,
                    )
                )
    return out


def describe_subset(subset: PartitionsSubset, max_ranges: int = 4, instance: Any = None) -> str:
    """Compact text for a subset: key ranges as ``a...b (n)``, at most ``max_ranges`` of them."""
    if subset.is_empty:
        return "-"
    runs = subset.index_runs()
    pdef = subset.partitions_def
    instance = subset._store_or_default(instance)
    shown = runs if len(runs) <= max_ranges else runs[: max_ranges - 1]
    parts = []
    for start, stop in shown:
        first = pdef.key_at(start, dynamic_partitions_store=instance)
        if stop - start == 1:
            parts.append(str(first))
        else:
            last = pdef.key_at(stop - 1, dynamic_partitions_store=instance)
            parts.append(f"{first}...{last} ({stop - start:,})")
    if len(shown) < len(runs):
        rest = runs[len(shown) :]
        hidden = sum(stop - start for start, stop in rest)
        parts.append(f"and {hidden:,} more in {len(rest):,} ranges")
    text = ", ".join(parts)
    return text if len(runs) == 1 else f"{text}; {len(subset):,} in all"


class BackfillPlan:
    """What a backfill will run and why, computed before anything runs.

    Attributes:
        asset_keys: The selected assets, in dependency order.
        partitions_def: Their shared partitions definition.
        target: The requested partitions.
        policy: The backfill policy that splits them into runs.
        entries: ``PlanEntry(asset_key, reason, subset)`` for every non-empty (asset, reason).
        runs: The runs the backfill would launch, in partition order.
    """

    def __init__(
        self,
        asset_keys: Sequence[AssetKey],
        partitions_def: PartitionsDefinition,
        target: PartitionsSubset,
        policy: BackfillPolicy,
        entries: Sequence[PlanEntry],
        runs: Sequence[PlannedRun],
    ) -> None:
        self.asset_keys = tuple(asset_keys)
        self.partitions_def = partitions_def
        self.target = target
        self.policy = policy
        self.entries = tuple(entries)
        self.runs = tuple(runs)

    def subset_for(self, asset_key: Any, reason: BackfillReason | str) -> PartitionsSubset:
        """The partitions of ``asset_key`` that run for ``reason`` (empty if none)."""
        key = AssetKey.from_coercible(asset_key)
        wanted = BackfillReason(reason)
        for entry in self.entries:
            if entry.asset_key == key and entry.reason is wanted:
                return entry.subset
        return self.target._derive(0)

    def reasons_for(self, asset_key: Any) -> dict[str, list[str]]:
        """``{reason: [partition keys]}`` for one asset (lists keys: for small plans and tests)."""
        key = AssetKey.from_coercible(asset_key)
        return {
            e.reason.value: list(e.subset.get_partition_keys())
            for e in self.entries
            if e.asset_key == key
        }

    def to_text(self) -> str:
        """A compact table: one line per (asset, reason), key ranges collapsed."""
        n = len(self.target)
        head = (
            f"Backfill plan: {len(self.asset_keys)} asset{'s' if len(self.asset_keys) != 1 else ''} x "
            f"{n:,} partition{'s' if n != 1 else ''} of {type(self.partitions_def).__name__}, "
            f"{len(self.runs):,} run{'s' if len(self.runs) != 1 else ''} ({self.policy!r})"
        )
        rows = [("asset", "reason", "partitions")]
        for entry in self.entries:
            rows.append((_user(entry.asset_key), entry.reason.value, describe_subset(entry.subset)))
        width0 = max(len(r[0]) for r in rows)
        width1 = max(len(r[1]) for r in rows)
        lines = [head, ""]
        lines += [f"  {a:<{width0}}  {b:<{width1}}  {c}" for a, b, c in rows]
        runs = [r.describe() for r in self.runs]
        if len(runs) > 6:
            runs = [*runs[:3], f"... {len(runs) - 4:,} more ...", runs[-1]]
        lines += ["", "Runs: " + "; ".join(runs)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (
            f"BackfillPlan({len(self.asset_keys)} assets, {len(self.target):,} partitions, "
            f"{len(self.runs):,} runs)"
        )


# -- reasons ----------------------------------------------------------------------------------
def _last_ids(instance: Any, asset_key: AssetKey, keys: Sequence[str]) -> dict[str, int]:
    """``partition key -> storage id of its last materialization`` for ``keys``."""
    if not keys:
        return {}
    wanted = set(keys)
    records = instance.storage.fetch_event_records(
        ["ASSET_MATERIALIZATION"],
        asset_key=asset_key,
        partitions=None if len(keys) > _BIG_KEY_LIST else list(keys),
    )
    out: dict[str, int] = {}
    for record in records:
        key = record.partition_key
        if key in wanted and record.storage_id > out.get(key, -1):
            out[key] = record.storage_id
    return out


def _newest_id(instance: Any, asset_key: AssetKey) -> int | None:
    records = instance.storage.fetch_event_records(
        ["ASSET_MATERIALIZATION"], asset_key=asset_key, limit=1, ascending=False
    )
    return records[0].storage_id if records else None


def _upstream_changed(
    instance: Any, graph: Any, key: AssetKey, candidates: PartitionsSubset
) -> PartitionsSubset:
    """The partitions of ``candidates`` (all materialized) with an upstream materialization newer
    than their own last one."""
    from weir._partitions.mapping import infer_partition_mapping

    pdef = candidates.partitions_def
    changed = candidates._derive(0)
    parents = graph.get(key).parent_keys
    if candidates.is_empty or not parents:
        return changed
    keys = list(candidates.get_partition_keys(dynamic_partitions_store=instance))
    own = _last_ids(instance, key, keys)
    oldest_own = min(own.values(), default=-1)
    mappings = {dep.asset_key: dep.partition_mapping for dep in graph.get(key).spec.deps}
    changed_keys: set[str] = set()
    for parent in sorted(parents, key=_user):
        node = graph.node_for(parent)
        updef = node.spec.partitions_def if node is not None else None
        newest = _newest_id(instance, parent)
        if newest is None or newest < oldest_own:
            continue  # nothing upstream is newer than any candidate
        if updef is None:
            changed_keys.update(k for k in keys if own.get(k, -1) < newest)
            continue
        mapping = infer_partition_mapping(mappings.get(parent), pdef, updef)
        whole = mapping.get_upstream_mapped_partitions_result_for_partitions(
            candidates, pdef, updef, dynamic_partitions_store=instance
        ).partitions_subset
        up_ids = _last_ids(
            instance, parent, list(whole.get_partition_keys(dynamic_partitions_store=instance))
        )
        if not up_ids:
            continue
        for down in keys:
            if down in changed_keys:
                continue
            one = PartitionsSubset(pdef, 0).with_partition_keys([down], instance)
            mapped = mapping.get_upstream_mapped_partitions_result_for_partitions(
                one, pdef, updef, dynamic_partitions_store=instance
            ).partitions_subset
            newest_up = max(
                (
                    up_ids.get(k, -1)
                    for k in mapped.get_partition_keys(dynamic_partitions_store=instance)
                ),
                default=-1,
            )
            if newest_up > own.get(down, -1):
                changed_keys.add(down)
    if not changed_keys:
        return changed
    return changed.with_partition_keys(sorted(changed_keys), instance)


def plan_entries(target: BackfillTarget, instance: Any) -> list[PlanEntry]:
    """The (asset, reason, subset) entries of a plan, in asset order then reason order."""
    graph = target.resolved.graph
    pdef = target.partitions_def
    wanted = target.subset
    entries: list[PlanEntry] = []
    for key in target.asset_keys:
        status = instance.get_partition_status(key, pdef)
        failed = wanted & _same_def(status.failed, wanted)
        materialized = wanted & _same_def(status.materialized, wanted)
        missing = wanted - failed - materialized
        changed = _upstream_changed(instance, graph, key, materialized)
        requested = materialized - changed
        for reason, subset in (
            (BackfillReason.MISSING, missing),
            (BackfillReason.FAILED, failed),
            (BackfillReason.UPSTREAM_CHANGED, changed),
            (BackfillReason.REQUESTED, requested),
        ):
            if not subset.is_empty:
                entries.append(PlanEntry(key, reason, subset))
    return entries


def _same_def(subset: Any, like: PartitionsSubset) -> PartitionsSubset:
    return like._derive(subset.bits)


def plan_backfill(
    assets: Iterable[Any],
    *,
    partition_keys: Sequence[str] | None = None,
    partition_range: Any = None,
    selection: Any = None,
    instance: Any,
    resources: Mapping[str, Any] | None = None,
    backfill_policy: BackfillPolicy | None = None,
) -> BackfillPlan:
    """Preview a backfill: which assets and partitions will run, why, and in which runs.

    Nothing runs and nothing is written. Errors (unknown keys, an empty target, assets with
    different partitions definitions, conflicting backfill policies) are the ones
    :func:`launch_backfill` would raise.

    Example::

        plan = dg.plan_backfill([raw, daily], partition_range=("2024-01-01", "2024-01-31"),
                                instance=instance)
        print(plan)            # a compact table; plan.entries / plan.runs hold the data
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
    entries = plan_entries(target, instance)
    return BackfillPlan(
        target.asset_keys, target.partitions_def, target.subset, policy, entries, runs
    )
