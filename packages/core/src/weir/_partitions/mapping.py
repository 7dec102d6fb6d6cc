"""The key-to-key partition mappings and the inferred default mapping.

The contract (:class:`PartitionMapping`, :class:`UpstreamPartitionsResult`,
:class:`NonexistentPartitionsSubset`, :class:`NonexistentUpstreamPartitionsError`) is in
``mapping_base`` and re-exported here. This module holds the mappings that relate keys one by
one or wholesale (identity, all, last, static, specific) and :func:`infer_partition_mapping`;
time windows are in ``time_window_mapping`` and multi-dimension mappings in ``multi_mapping``.

The mappings work on indices and index runs of bitmap subsets, so mapping 20 years of hourly
partitions builds no Python object per partition.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from weir._partitions.definition import PartitionsDefinition
from weir._partitions.mapping_base import (
    NonexistentPartitionsSubset,
    NonexistentUpstreamPartitionsError,
    PartitionMapping,
    UpstreamPartitionsResult,
    all_bits,
    indices_of,
    make_subset,
    same_definition,
    shown_keys,
    subset_bits,
)
from weir._partitions.subset import PartitionsSubset, bits_from_indices
from weir.errors import DefinitionError

__all__ = [
    "AllPartitionMapping",
    "IdentityPartitionMapping",
    "LastPartitionMapping",
    "NonexistentPartitionsSubset",
    "NonexistentUpstreamPartitionsError",
    "PartitionMapping",
    "SpecificPartitionsPartitionMapping",
    "StaticPartitionMapping",
    "UpstreamPartitionsResult",
    "infer_partition_mapping",
]

logger = logging.getLogger(__name__)


# -- key-to-key mappings -----------------------------------------------------------------------------------
class IdentityPartitionMapping(PartitionMapping):
    """Each downstream partition depends on the upstream partition with the same key.

    With one definition on both sides this is the bitmap itself. With different definitions
    (say static lists that overlap) keys are matched by value: downstream keys the upstream lacks
    are reported in ``required_but_nonexistent_subset``, and upstream keys the downstream lacks are
    dropped when mapping downstream.
    """

    def _fields(self) -> tuple[Any, ...]:
        return ()

    @property
    def description(self) -> str:
        return (
            "Assumes upstream and downstream assets share the same partitions definition. Maps "
            "each partition in the downstream asset to the same partition in the upstream asset."
        )

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        if type(upstream_partitions_def) is not type(downstream_partitions_def):
            msg = (
                "Upstream and downstream partitions definitions must match, or a different partition "
                f"mapping must be provided. Got upstream definition {upstream_partitions_def!r} and "
                f"downstream definition {downstream_partitions_def!r}; IdentityPartitionMapping "
                "matches keys one to one."
            )
            raise DefinitionError(msg)

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        bits = subset_bits(
            downstream_partitions_subset, downstream_partitions_def, "downstream", self
        )
        if same_definition(downstream_partitions_def, upstream_partitions_def):
            return UpstreamPartitionsResult(
                make_subset(upstream_partitions_def, bits, dynamic_partitions_store)
            )
        assert downstream_partitions_subset is not None  # checked by subset_bits
        found, missing = _match_keys(
            downstream_partitions_subset,
            upstream_partitions_def,
            current_time,
            dynamic_partitions_store,
        )
        return UpstreamPartitionsResult(
            make_subset(
                upstream_partitions_def, bits_from_indices(found), dynamic_partitions_store
            ),
            NonexistentPartitionsSubset(missing),
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        bits = subset_bits(upstream_partitions_subset, upstream_partitions_def, "upstream", self)
        if downstream_partitions_def is None:
            msg = "IdentityPartitionMapping needs a partitioned downstream asset (downstream_partitions_def is None)."
            raise DefinitionError(msg)
        if same_definition(upstream_partitions_def, downstream_partitions_def):
            return make_subset(downstream_partitions_def, bits, dynamic_partitions_store)
        found, _missing = _match_keys(
            upstream_partitions_subset,
            downstream_partitions_def,
            current_time,
            dynamic_partitions_store,
        )
        return make_subset(
            downstream_partitions_def, bits_from_indices(found), dynamic_partitions_store
        )


def _match_keys(
    subset: PartitionsSubset,
    target_def: PartitionsDefinition,
    current_time: datetime | None,
    dynamic_partitions_store: Any,
) -> tuple[list[int], list[str]]:
    """The indices in ``target_def`` of the subset's keys, and the keys it does not have.

    Costs one lookup per key of the subset, never a listing of ``target_def``."""
    keys = subset.get_partition_keys(current_time, dynamic_partitions_store)
    found: list[int] = []
    missing: list[str] = []
    for key, index in zip(
        keys, indices_of(target_def, keys, current_time, dynamic_partitions_store), strict=True
    ):
        if index is None:
            missing.append(key)
        else:
            found.append(index)
    return found, missing


class AllPartitionMapping(PartitionMapping):
    """Every downstream partition depends on every upstream partition.

    The usual mapping when the downstream asset is not partitioned; the input then loads as a
    ``dict`` of partition key to value.
    """

    def _fields(self) -> tuple[Any, ...]:
        return ()

    @property
    def description(self) -> str:
        return "Each downstream partition depends on all partitions of the upstream asset."

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        bits = all_bits(upstream_partitions_def, current_time, dynamic_partitions_store)
        return UpstreamPartitionsResult(
            make_subset(upstream_partitions_def, bits, dynamic_partitions_store)
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        bits = subset_bits(upstream_partitions_subset, upstream_partitions_def, "upstream", self)
        if not bits:
            return make_subset(downstream_partitions_def, 0, dynamic_partitions_store)
        everything = all_bits(downstream_partitions_def, current_time, dynamic_partitions_store)
        return make_subset(downstream_partitions_def, everything, dynamic_partitions_store)


class LastPartitionMapping(PartitionMapping):
    """Every downstream partition depends on the last upstream partition only (for time windows:
    the latest complete one at ``current_time``)."""

    def _fields(self) -> tuple[Any, ...]:
        return ()

    @property
    def description(self) -> str:
        return "Each downstream partition depends on the last partition of the upstream asset."

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        count = upstream_partitions_def.get_num_partitions(current_time, dynamic_partitions_store)
        bits = 1 << (count - 1) if count else 0
        return UpstreamPartitionsResult(
            make_subset(upstream_partitions_def, bits, dynamic_partitions_store)
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        bits = subset_bits(upstream_partitions_subset, upstream_partitions_def, "upstream", self)
        count = upstream_partitions_def.get_num_partitions(current_time, dynamic_partitions_store)
        if count and bits >> (count - 1) & 1:
            everything = all_bits(downstream_partitions_def, current_time, dynamic_partitions_store)
            return make_subset(downstream_partitions_def, everything, dynamic_partitions_store)
        return make_subset(downstream_partitions_def, 0, dynamic_partitions_store)


class StaticPartitionMapping(PartitionMapping):
    """An explicit correspondence from upstream keys to downstream keys.

    Args:
        downstream_partition_keys_by_upstream_partition_key: ``{upstream key: downstream key or
            collection of downstream keys}``. One upstream key may feed several downstream keys
            and several upstream keys may feed one; keys not named have no dependency.

    Example::

        dg.StaticPartitionMapping({"eu-west": "eu", "eu-north": "eu", "global": {"eu", "us"}})

    Dagster requires both sides to be ``StaticPartitionsDefinition``; weir accepts any
    single-dimension definitions whose keys include the mapped ones (dynamic ones too).
    """

    def __init__(
        self,
        downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]],
    ) -> None:
        given = downstream_partition_keys_by_upstream_partition_key
        if not isinstance(given, Mapping):
            msg = (
                "StaticPartitionMapping takes a mapping of upstream partition key to downstream "
                f"key(s), e.g. {{'a': 'x', 'b': ['x', 'y']}}; got {type(given).__name__}."
            )
            raise DefinitionError(msg)
        forward: dict[str, frozenset[str]] = {}
        for upstream_key, downstream in given.items():
            values = [downstream] if isinstance(downstream, str) else downstream
            if (
                not isinstance(upstream_key, str)
                or not isinstance(values, Collection)
                or not all(isinstance(v, str) for v in values)
            ):
                msg = (
                    "StaticPartitionMapping: keys must be strings and values a string or a "
                    f"collection of strings; got {upstream_key!r}: {downstream!r}."
                )
                raise DefinitionError(msg)
            forward[upstream_key] = frozenset(values)
        inverse: dict[str, set[str]] = {}
        for upstream_key, downstream_keys in forward.items():
            for downstream_key in downstream_keys:
                inverse.setdefault(downstream_key, set()).add(upstream_key)
        self.downstream_partition_keys_by_upstream_partition_key: Mapping[
            str, str | Collection[str]
        ] = dict(given)
        self._forward = forward
        self._inverse = {key: frozenset(values) for key, values in inverse.items()}

    def _fields(self) -> tuple[Any, ...]:
        return (tuple(sorted((k, tuple(sorted(v))) for k, v in self._forward.items())),)

    def __repr__(self) -> str:
        return (
            f"StaticPartitionMapping({self.downstream_partition_keys_by_upstream_partition_key!r})"
        )

    @property
    def description(self) -> str:
        return (
            "Maps upstream partitions to their downstream dependencies according to the following "
            f"mapping: \n{self.downstream_partition_keys_by_upstream_partition_key}"
        )

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        if upstream_partitions_def is None or downstream_partitions_def is None:
            msg = (
                "StaticPartitionMapping relates two partitioned assets, but the "
                f"{'upstream' if upstream_partitions_def is None else 'downstream'} asset is not "
                "partitioned. Use AllPartitionMapping() or SpecificPartitionsPartitionMapping([...])."
            )
            raise DefinitionError(msg)
        if (
            getattr(upstream_partitions_def, "plugin_name", "") == "dynamic"
            or getattr(downstream_partitions_def, "plugin_name", "") == "dynamic"
        ):
            return  # dynamic keys are only known at run time, in the instance
        self._indices(
            upstream_partitions_def, sorted(self._forward), "source", "upstream", None, None
        )
        self._indices(
            downstream_partitions_def, sorted(self._inverse), "target", "downstream", None, None
        )

    def _indices(
        self,
        partitions_def: PartitionsDefinition,
        keys: Sequence[str],
        what: str,
        role: str,
        current_time: datetime | None,
        dynamic_partitions_store: Any,
    ) -> list[int]:
        found = indices_of(partitions_def, keys, current_time, dynamic_partitions_store)
        extra = [key for key, index in zip(keys, found, strict=True) if index is None]
        if extra:
            msg = (
                f"StaticPartitionMapping: mapping {what} partitions not in the {role} partitions "
                f"definition: {shown_keys(extra)} (the {role} definition is {partitions_def!r}). Fix the "
                "keys in the mapping or add them to the definition."
            )
            raise DefinitionError(msg)
        return found  # type: ignore[return-value]

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        subset_bits(downstream_partitions_subset, downstream_partitions_def, "downstream", self)
        assert downstream_partitions_subset is not None
        self._indices(
            upstream_partitions_def,
            sorted(self._forward),
            "source",
            "upstream",
            current_time,
            dynamic_partitions_store,
        )
        wanted: set[str] = set()
        for key in downstream_partitions_subset.get_partition_keys(
            current_time, dynamic_partitions_store
        ):
            wanted.update(self._inverse.get(key, ()))
        found = self._indices(
            upstream_partitions_def,
            sorted(wanted),
            "source",
            "upstream",
            current_time,
            dynamic_partitions_store,
        )
        return UpstreamPartitionsResult(
            make_subset(upstream_partitions_def, bits_from_indices(found), dynamic_partitions_store)
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        subset_bits(upstream_partitions_subset, upstream_partitions_def, "upstream", self)
        self._indices(
            downstream_partitions_def,
            sorted(self._inverse),
            "target",
            "downstream",
            current_time,
            dynamic_partitions_store,
        )
        wanted: set[str] = set()
        for key in upstream_partitions_subset.get_partition_keys(
            current_time, dynamic_partitions_store
        ):
            wanted.update(self._forward.get(key, ()))
        found = self._indices(
            downstream_partitions_def,
            sorted(wanted),
            "target",
            "downstream",
            current_time,
            dynamic_partitions_store,
        )
        return make_subset(
            downstream_partitions_def, bits_from_indices(found), dynamic_partitions_store
        )


class SpecificPartitionsPartitionMapping(PartitionMapping):
    """Every downstream partition depends on the given upstream partitions.

    Args:
        partition_keys: The upstream keys. Keys the upstream definition lacks are reported in
            ``required_but_nonexistent_subset``.
    """

    def __init__(self, partition_keys: Sequence[str]) -> None:
        if isinstance(partition_keys, str) or not all(
            isinstance(key, str) for key in partition_keys
        ):
            msg = (
                "SpecificPartitionsPartitionMapping takes a list of upstream partition keys, e.g. "
                f"SpecificPartitionsPartitionMapping(['a', 'b']); got {partition_keys!r}."
            )
            raise DefinitionError(msg)
        self.partition_keys: list[str] = list(partition_keys)

    def _fields(self) -> tuple[Any, ...]:
        return (tuple(self.partition_keys),)

    def __repr__(self) -> str:
        return f"SpecificPartitionsPartitionMapping({self.partition_keys!r})"

    @property
    def description(self) -> str:
        return f"Each downstream partition depends on the following upstream partitions: {self.partition_keys}"

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        if upstream_partitions_def is None:
            msg = (
                "SpecificPartitionsPartitionMapping names upstream partitions, but the upstream "
                "asset is not partitioned. Remove the mapping or partition the upstream asset."
            )
            raise DefinitionError(msg)

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        found = indices_of(
            upstream_partitions_def, self.partition_keys, current_time, dynamic_partitions_store
        )
        missing = [
            key for key, index in zip(self.partition_keys, found, strict=True) if index is None
        ]
        bits = bits_from_indices(index for index in found if index is not None)
        return UpstreamPartitionsResult(
            make_subset(upstream_partitions_def, bits, dynamic_partitions_store),
            NonexistentPartitionsSubset(missing),
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        bits = subset_bits(upstream_partitions_subset, upstream_partitions_def, "upstream", self)
        found = indices_of(
            upstream_partitions_def, self.partition_keys, current_time, dynamic_partitions_store
        )
        if any(index is not None and bits >> index & 1 for index in found):
            everything = all_bits(downstream_partitions_def, current_time, dynamic_partitions_store)
            return make_subset(downstream_partitions_def, everything, dynamic_partitions_store)
        return make_subset(downstream_partitions_def, 0, dynamic_partitions_store)


# -- the inferred default ----------------------------------------------------------------------------------
def infer_partition_mapping(
    partition_mapping: PartitionMapping | None,
    downstream_partitions_def: PartitionsDefinition | None,
    upstream_partitions_def: PartitionsDefinition | None,
) -> PartitionMapping:
    """The mapping to use for a dependency: ``partition_mapping`` when given, else Dagster's default.

    - either side unpartitioned → :class:`AllPartitionMapping`;
    - one side multi-partitioned and the other a single definition that is one of its dimensions
      (or a time window, with exactly one time dimension) → ``MultiToSingleDimensionPartitionMapping``;
    - both time windows → ``TimeWindowPartitionMapping()``;
    - anything else → :class:`IdentityPartitionMapping`.
    """
    if partition_mapping is not None:
        if not isinstance(partition_mapping, PartitionMapping):
            msg = (
                f"partition_mapping must be a PartitionMapping (e.g. TimeWindowPartitionMapping()), "
                f"got {type(partition_mapping).__name__} {partition_mapping!r}."
            )
            raise DefinitionError(msg)
        return partition_mapping
    if upstream_partitions_def is None or downstream_partitions_def is None:
        return AllPartitionMapping()
    from weir._partitions.multi_mapping import (
        MultiToSingleDimensionPartitionMapping,
        infer_dimension_dependency,
    )
    from weir._partitions.time_window_mapping import (
        TimeWindowPartitionMapping,
        is_time_window_definition,
    )

    if infer_dimension_dependency(
        upstream_partitions_def, downstream_partitions_def, None
    ).can_infer:
        return MultiToSingleDimensionPartitionMapping()
    if is_time_window_definition(upstream_partitions_def) and is_time_window_definition(
        downstream_partitions_def
    ):
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()
