"""Partition mappings between multi-dimension definitions, dimension by dimension.

- :class:`MultiToSingleDimensionPartitionMapping`: a multi-partitioned asset and a
  single-dimension one, related through the dimension that matches the single definition (or
  the one time dimension, for a time-window single definition).
- :class:`MultiPartitionMapping`: two multi-partitioned assets; each upstream dimension named
  in the mapping is related to one downstream dimension by a :class:`DimensionPartitionMapping`
  (any mapping: identity, time window, static ...); dimensions not named depend on all
  partitions of the other side, as in Dagster.

Both work for any number of dimensions (Dagster stops at two) and on bitmaps: the source subset
is cut into boxes (one index range per dimension; a whole product or a single key is one box),
each mapped dimension range goes through its dimension mapping once, and the target is built as
a union of product boxes. A key-by-key walk over the product never happens, so mapping a
365 x 50 x 20 definition costs a handful of big-integer operations.
"""

from __future__ import annotations

import abc
import difflib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from weir._partitions.definition import PartitionsDefinition
from weir._partitions.mapping import IdentityPartitionMapping
from weir._partitions.mapping_base import (
    NonexistentPartitionsSubset,
    NonexistentUpstreamPartitionsError,
    PartitionMapping,
    UpstreamPartitionsResult,
    checked_subset,
    make_subset,
)
from weir._partitions.multi import MultiPartitionsDefinition
from weir._partitions.subset import PartitionsSubset, mixed_radix_digits, split_run_into_boxes
from weir.errors import DefinitionError

__all__ = [
    "DimensionDependency",
    "DimensionPartitionMapping",
    "InferSingleToMultiDimensionDepsResult",
    "MultiPartitionMapping",
    "MultiToSingleDimensionPartitionMapping",
    "infer_dimension_dependency",
]

logger = logging.getLogger(__name__)


class DimensionDependency(NamedTuple):
    """One dimension-to-dimension link: ``partition_mapping`` relates the upstream dimension to the
    downstream one (a name of None stands for a single-dimension definition itself)."""

    partition_mapping: PartitionMapping
    upstream_dimension_name: str | None = None
    downstream_dimension_name: str | None = None


class InferSingleToMultiDimensionDepsResult(NamedTuple):
    """Whether a multi and a single-dimension definition can be related, and how (or why not)."""

    can_infer: bool
    inference_failure_reason: str | None = None
    dimension_dependency: DimensionDependency | None = None


def _fail(reason: str) -> InferSingleToMultiDimensionDepsResult:
    return InferSingleToMultiDimensionDepsResult(False, inference_failure_reason=reason)


def infer_dimension_dependency(
    upstream_partitions_def: PartitionsDefinition,
    downstream_partitions_def: PartitionsDefinition,
    partition_dimension_name: str | None = None,
) -> InferSingleToMultiDimensionDepsResult:
    """Find the dimension of the multi definition (on either side) that the other, single
    definition corresponds to: one equal to it (identity), else the only time dimension when the
    single definition is a time window (``TimeWindowPartitionMapping()``)."""
    from weir._partitions.time_window_mapping import (
        TimeWindowPartitionMapping,
        is_time_window_definition,
    )

    multis = [
        pd
        for pd in (upstream_partitions_def, downstream_partitions_def)
        if isinstance(pd, MultiPartitionsDefinition)
    ]
    if len(multis) != 1:
        return _fail(
            "Can only use MultiToSingleDimensionPartitionMapping when upstream asset is "
            "multipartitioned and the downstream asset is single dimensional, or vice versa. "
            f"Instead received {len(multis)} multi-partitioned assets."
        )
    multi = multis[0]
    upstream_is_multi = multi is upstream_partitions_def
    single = downstream_partitions_def if upstream_is_multi else upstream_partitions_def
    dims = multi.partitions_defs
    if partition_dimension_name is not None:
        dims = [dim for dim in dims if dim.name == partition_dimension_name]
        if not dims:
            close = difflib.get_close_matches(
                partition_dimension_name, multi.partition_dimension_names, n=1
            )
            hint = f" Did you mean {close[0]!r}?" if close else ""
            return _fail(
                f"Provided partition dimension name {partition_dimension_name!r} not found in "
                f"multipartitions definition {multi!r}; its dimensions are "
                f"{multi.partition_dimension_names}.{hint}"
            )

    def dependency(mapping: PartitionMapping, name: str) -> InferSingleToMultiDimensionDepsResult:
        return InferSingleToMultiDimensionDepsResult(
            True,
            dimension_dependency=DimensionDependency(
                mapping,
                upstream_dimension_name=name if upstream_is_multi else None,
                downstream_dimension_name=None if upstream_is_multi else name,
            ),
        )

    matching = [dim for dim in dims if dim.partitions_def == single]
    if len(matching) == 1:
        return dependency(IdentityPartitionMapping(), matching[0].name)
    if len(matching) > 1:
        return _fail(
            "partition dimension name must be specified when multiple dimensions of the "
            f"MultiPartitionsDefinition match the single dimension partitions def: dimensions "
            f"{[dim.name for dim in matching]} all equal {single!r}. Pass "
            "MultiToSingleDimensionPartitionMapping(partition_dimension_name=...)."
        )
    time_dims = [dim for dim in dims if is_time_window_definition(dim.partitions_def)]
    if len(time_dims) == 1 and is_time_window_definition(single):
        return dependency(TimeWindowPartitionMapping(), time_dims[0].name)
    return _fail(
        "MultiToSingleDimensionPartitionMapping can only be used when: \n(a) The single dimensional "
        "partitions definition is a dimension of the MultiPartitionsDefinition.\n(b) The single "
        "dimensional partitions definition is a TimeWindowPartitionsDefinition and the "
        f"MultiPartitionsDefinition has a single time dimension.\nGot {single!r} and {multi!r}."
    )


# -- the engine: map a bitmap box by box ---------------------------------------------------------------
class _Axes(NamedTuple):
    names: list[str | None]
    defs: list[PartitionsDefinition]
    sizes: list[int]


def _axes(partitions_def: PartitionsDefinition, current_time: datetime | None, store: Any) -> _Axes:
    if isinstance(partitions_def, MultiPartitionsDefinition):
        dims = partitions_def.partitions_defs
        defs = [dim.partitions_def for dim in dims]
        names: list[str | None] = [dim.name for dim in dims]
    else:
        defs, names = [partitions_def], [None]
    return _Axes(names, defs, [pd.get_num_partitions(current_time, store) for pd in defs])


Box = tuple[tuple[int, int], ...]


def boxes_of(runs: Sequence[tuple[int, int]], sizes: Sequence[int]) -> list[Box]:
    """Cut index runs over a mixed-radix product (first dimension slowest) into boxes: per
    dimension one ``[start, stop)`` digit range. A full product, one key, or one run inside the
    last dimension is one box; any run is at most about twice as many boxes as dimensions."""
    if not runs or 0 in sizes:
        return []
    if len(sizes) == 1:
        return [((start, stop),) for start, stop in runs]
    boxes: list[Box] = []
    for run_start, run_stop in runs:
        for start, stop in split_run_into_boxes(run_start, run_stop, sizes):
            # a box run spans its digit range in every dimension from its first to its last key
            first = mixed_radix_digits(start, sizes)
            last = mixed_radix_digits(stop - 1, sizes)
            boxes.append(tuple((lo, hi + 1) for lo, hi in zip(first, last, strict=True)))
    return boxes


def _merge_boxes(boxes: set[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Merge boxes (per dimension a bitmap) that differ in one dimension only, dimension by
    dimension: a product distributes over a union in one coordinate."""
    current = list(boxes)
    width = len(current[0]) if current else 0
    for k in range(width):
        grouped: dict[tuple[int, ...], int] = {}
        for box in current:
            rest = box[:k] + box[k + 1 :]
            grouped[rest] = grouped.get(rest, 0) | box[k]
        current = [(*rest[:k], bits, *rest[k:]) for rest, bits in grouped.items()]
    return current


def _product_bits(target_def: PartitionsDefinition, box: tuple[int, ...], target: _Axes) -> int:
    if len(box) == 1:
        return box[0]
    assert isinstance(target_def, MultiPartitionsDefinition)
    runs = [
        PartitionsSubset(dim_def, bits).index_runs()
        for dim_def, bits in zip(target.defs, box, strict=True)
    ]
    if any(not dim_runs for dim_runs in runs):
        return 0
    return target_def._subset_for_runs(runs, target.sizes).bits


def _map_dimensions(
    mapping: PartitionMapping,
    source_subset: PartitionsSubset,
    target_def: PartitionsDefinition,
    links: Sequence[tuple[str | None, str | None, PartitionMapping]],
    to_upstream: bool,
    current_time: datetime | None,
    store: Any,
) -> tuple[int, NonexistentPartitionsSubset, NonexistentPartitionsSubset]:
    """Map ``source_subset`` onto ``target_def`` through per-dimension ``links``
    ``(source dimension, target dimension, mapping)``; unlinked target dimensions take every
    partition, unlinked source dimensions do not matter. Returns the target bitmap and the
    required-but-missing and allowed-missing keys of the linked target dimensions."""
    source = _axes(source_subset.partitions_def, current_time, store)
    target = _axes(target_def, current_time, store)
    link_by_target: dict[int, tuple[int, PartitionMapping]] = {}
    for source_name, target_name, dim_mapping in links:
        link_by_target[target.names.index(target_name)] = (
            source.names.index(source_name),
            dim_mapping,
        )
    full = [(1 << size) - 1 for size in target.sizes]
    cache: dict[
        tuple[int, int, int], tuple[int, NonexistentPartitionsSubset, NonexistentPartitionsSubset]
    ] = {}
    missing = NonexistentPartitionsSubset()
    allowed = NonexistentPartitionsSubset()

    def mapped(
        target_pos: int, source_pos: int, dim_mapping: PartitionMapping, lo: int, hi: int
    ) -> int:
        nonlocal missing, allowed
        key = (target_pos, lo, hi)
        if key not in cache:
            cache[key] = _map_one_dimension(
                mapping,
                dim_mapping,
                source,
                source_pos,
                target,
                target_pos,
                lo,
                hi,
                to_upstream,
                current_time,
                store,
            )
            _, dim_missing, dim_allowed = cache[key]
            missing = missing | dim_missing
            allowed = allowed | dim_allowed
        return cache[key][0]

    target_boxes: set[tuple[int, ...]] = set()
    for box in boxes_of(source_subset.index_runs(), source.sizes):
        target_box = tuple(
            mapped(t, *link_by_target[t], *box[link_by_target[t][0]])
            if t in link_by_target
            else full[t]
            for t in range(len(target.sizes))
        )
        target_boxes.add(target_box)
    bits = 0
    for target_box in _merge_boxes(target_boxes):
        bits |= _product_bits(target_def, target_box, target)
    return bits, missing, allowed


def _map_one_dimension(
    mapping: PartitionMapping,
    dim_mapping: PartitionMapping,
    source: _Axes,
    source_pos: int,
    target: _Axes,
    target_pos: int,
    lo: int,
    hi: int,
    to_upstream: bool,
    current_time: datetime | None,
    store: Any,
) -> tuple[int, NonexistentPartitionsSubset, NonexistentPartitionsSubset]:
    source_dim, target_dim = source.defs[source_pos], target.defs[target_pos]
    subset = make_subset(source_dim, ((1 << (hi - lo)) - 1) << lo, store)
    try:
        if to_upstream:
            result = dim_mapping.get_upstream_mapped_partitions_result_for_partitions(
                subset, source_dim, target_dim, current_time, store
            )
            return (
                result.partitions_subset.bits,
                result.required_but_nonexistent_subset,
                result.allowed_nonexistent_subset,
            )
        downstream = dim_mapping.get_downstream_partitions_for_partitions(
            subset, source_dim, target_dim, current_time, store
        )
        return downstream.bits, NonexistentPartitionsSubset(), NonexistentPartitionsSubset()
    except NonexistentUpstreamPartitionsError as exc:
        where = _where(mapping, source, source_pos, target, target_pos, to_upstream)
        raise NonexistentUpstreamPartitionsError(
            f"{where}: {exc}",
            result=exc.result,
            downstream_partition_keys=exc.downstream_partition_keys,
        ) from exc
    except DefinitionError as exc:
        where = _where(mapping, source, source_pos, target, target_pos, to_upstream)
        raise DefinitionError(f"{where}: {exc}") from exc


def _where(
    mapping: PartitionMapping,
    source: _Axes,
    source_pos: int,
    target: _Axes,
    target_pos: int,
    to_upstream: bool,
) -> str:
    def name(axes: _Axes, pos: int, role: str) -> str:
        dim = axes.names[pos]
        return f"the {role} definition" if dim is None else f"{role} dimension {dim!r}"

    down, up = (source, target) if to_upstream else (target, source)
    down_pos, up_pos = (source_pos, target_pos) if to_upstream else (target_pos, source_pos)
    return (
        f"{type(mapping).__name__} mapping {name(down, down_pos, 'downstream')} to "
        f"{name(up, up_pos, 'upstream')}"
    )


class _DimensionwiseMapping(PartitionMapping):
    """A mapping given as per-dimension links (:meth:`get_dimension_dependencies`)."""

    @abc.abstractmethod
    def get_dimension_dependencies(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
    ) -> Sequence[DimensionDependency]:
        """The dimension-to-dimension links between the two definitions."""

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        source = checked_subset(
            downstream_partitions_subset, downstream_partitions_def, "downstream", self
        )
        assert downstream_partitions_def is not None  # checked by checked_subset
        links = [
            (dep.downstream_dimension_name, dep.upstream_dimension_name, dep.partition_mapping)
            for dep in self.get_dimension_dependencies(
                upstream_partitions_def, downstream_partitions_def
            )
        ]
        mapped, missing, allowed = _map_dimensions(
            self,
            source,
            upstream_partitions_def,
            links,
            True,
            current_time,
            dynamic_partitions_store,
        )
        return UpstreamPartitionsResult(
            make_subset(upstream_partitions_def, mapped, dynamic_partitions_store),
            missing,
            allowed_nonexistent_subset=allowed,
        )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        source = checked_subset(
            upstream_partitions_subset, upstream_partitions_def, "upstream", self
        )
        if downstream_partitions_def is None:
            msg = f"{type(self).__name__} needs a partitioned downstream asset (downstream_partitions_def is None)."
            raise DefinitionError(msg)
        links = [
            (dep.upstream_dimension_name, dep.downstream_dimension_name, dep.partition_mapping)
            for dep in self.get_dimension_dependencies(
                upstream_partitions_def, downstream_partitions_def
            )
        ]
        mapped, _missing, _allowed = _map_dimensions(
            self,
            source,
            downstream_partitions_def,
            links,
            False,
            current_time,
            dynamic_partitions_store,
        )
        return make_subset(downstream_partitions_def, mapped, dynamic_partitions_store)


class MultiToSingleDimensionPartitionMapping(_DimensionwiseMapping):
    """Relates a multi-partitioned asset and a single-dimension one (either may be upstream).

    For a single-dimension key X, every multi-partition key whose value in the matching
    dimension is X is a dependency (or, for a time-window single definition and a time dimension
    of another granularity, every key whose time value overlaps X).

    Args:
        partition_dimension_name: The dimension of the multi definition that corresponds to the
            single definition. Optional when exactly one dimension equals the single definition
            (or, for a time window, when there is exactly one time dimension).
    """

    def __init__(self, partition_dimension_name: str | None = None) -> None:
        if partition_dimension_name is not None and not isinstance(partition_dimension_name, str):
            msg = (
                "MultiToSingleDimensionPartitionMapping(partition_dimension_name=...) takes a "
                f"dimension name (str) or None, got {partition_dimension_name!r}."
            )
            raise DefinitionError(msg)
        self.partition_dimension_name = partition_dimension_name

    def _fields(self) -> tuple[Any, ...]:
        return (self.partition_dimension_name,)

    def __repr__(self) -> str:
        return f"MultiToSingleDimensionPartitionMapping(partition_dimension_name={self.partition_dimension_name!r})"

    @property
    def description(self) -> str:
        return (
            "Assumes that the single-dimension partitions definition is a dimension of the "
            "multi-partitions definition. For a single-dimension partition key X, any "
            "multi-partition key with X in the matching dimension is a dependency."
        )

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        if upstream_partitions_def is None or downstream_partitions_def is None:
            msg = (
                "MultiToSingleDimensionPartitionMapping relates two partitioned assets, but the "
                f"{'upstream' if upstream_partitions_def is None else 'downstream'} asset is not "
                "partitioned. Use AllPartitionMapping() for an unpartitioned side."
            )
            raise DefinitionError(msg)
        self.get_dimension_dependencies(upstream_partitions_def, downstream_partitions_def)

    def get_dimension_dependencies(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
    ) -> Sequence[DimensionDependency]:
        found = infer_dimension_dependency(
            upstream_partitions_def, downstream_partitions_def, self.partition_dimension_name
        )
        if not found.can_infer or found.dimension_dependency is None:
            raise DefinitionError(str(found.inference_failure_reason))
        return [found.dimension_dependency]


class DimensionPartitionMapping(NamedTuple):
    """For a :class:`MultiPartitionMapping`: the downstream dimension an upstream dimension maps
    to, and the mapping between the two dimensions' definitions.

    Args:
        dimension_name: The name of the dimension in the downstream multi definition.
        partition_mapping: Relates the upstream dimension's partitions to this dimension's.
    """

    dimension_name: str
    partition_mapping: PartitionMapping


class MultiPartitionMapping(_DimensionwiseMapping):
    """Relates two multi-partitioned assets dimension by dimension.

    Args:
        downstream_mappings_by_upstream_dimension: ``{upstream dimension name:
            DimensionPartitionMapping(downstream dimension name, mapping)}``. Dimensions on
            either side that no entry names depend on all partitions of the other side's.

    Example::

        dg.MultiPartitionMapping(
            {
                "abc": dg.DimensionPartitionMapping("123", dg.StaticPartitionMapping({"a": "1"})),
                "weekly": dg.DimensionPartitionMapping("daily", dg.TimeWindowPartitionMapping()),
            }
        )

    Any number of dimensions works (Dagster allows two).
    """

    def __init__(
        self, downstream_mappings_by_upstream_dimension: Mapping[str, DimensionPartitionMapping]
    ) -> None:
        given = downstream_mappings_by_upstream_dimension
        if not isinstance(given, Mapping):
            msg = (
                "MultiPartitionMapping takes a mapping of upstream dimension name to "
                f"DimensionPartitionMapping(dimension_name, partition_mapping); got {type(given).__name__}."
            )
            raise DefinitionError(msg)
        seen: dict[str, str] = {}
        for upstream_dim, dim_mapping in given.items():
            if not isinstance(upstream_dim, str) or not isinstance(
                dim_mapping, DimensionPartitionMapping
            ):
                msg = (
                    "MultiPartitionMapping: each entry maps an upstream dimension name (str) to a "
                    f"DimensionPartitionMapping(dimension_name, partition_mapping); got {upstream_dim!r}: "
                    f"{dim_mapping!r}."
                )
                raise DefinitionError(msg)
            if not isinstance(dim_mapping.partition_mapping, PartitionMapping):
                msg = (
                    f"MultiPartitionMapping: the mapping for upstream dimension {upstream_dim!r} must be "
                    f"a PartitionMapping, got {dim_mapping.partition_mapping!r}."
                )
                raise DefinitionError(msg)
            if dim_mapping.dimension_name in seen:
                msg = (
                    f"MultiPartitionMapping: downstream dimension {dim_mapping.dimension_name!r} is mapped "
                    f"from two upstream dimensions ({seen[dim_mapping.dimension_name]!r} and "
                    f"{upstream_dim!r}); map each downstream dimension at most once."
                )
                raise DefinitionError(msg)
            seen[dim_mapping.dimension_name] = upstream_dim
        self.downstream_mappings_by_upstream_dimension: dict[str, DimensionPartitionMapping] = dict(
            given
        )

    def _fields(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.downstream_mappings_by_upstream_dimension.items())),)

    def __repr__(self) -> str:
        return f"MultiPartitionMapping({self.downstream_mappings_by_upstream_dimension!r})"

    @property
    def description(self) -> str:
        return "\n ".join(
            f"Upstream dimension '{upstream_dim}' mapped to downstream dimension "
            f"'{dim_mapping.dimension_name}' using {type(dim_mapping.partition_mapping).__name__}."
            for upstream_dim, dim_mapping in self.downstream_mappings_by_upstream_dimension.items()
        )

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        self._check_dimensions(upstream_partitions_def, downstream_partitions_def)

    def get_dimension_dependencies(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
    ) -> Sequence[DimensionDependency]:
        self._check_dimensions(upstream_partitions_def, downstream_partitions_def)
        return [
            DimensionDependency(
                dim_mapping.partition_mapping, upstream_dim, dim_mapping.dimension_name
            )
            for upstream_dim, dim_mapping in self.downstream_mappings_by_upstream_dimension.items()
        ]

    def _check_dimensions(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        for role, pd in (
            ("upstream", upstream_partitions_def),
            ("downstream", downstream_partitions_def),
        ):
            if not isinstance(pd, MultiPartitionsDefinition):
                msg = (
                    "Both partitions defs provided to a MultiPartitionMapping must be "
                    f"multi-partitioned; the {role} one is {pd!r}. Use "
                    "MultiToSingleDimensionPartitionMapping between a multi and a single definition."
                )
                raise DefinitionError(msg)
        assert isinstance(upstream_partitions_def, MultiPartitionsDefinition)
        assert isinstance(downstream_partitions_def, MultiPartitionsDefinition)
        for upstream_dim, dim_mapping in self.downstream_mappings_by_upstream_dimension.items():
            for role, name, pd in (
                ("upstream", upstream_dim, upstream_partitions_def),
                ("downstream", dim_mapping.dimension_name, downstream_partitions_def),
            ):
                if name not in pd.partition_dimension_names:
                    close = difflib.get_close_matches(name, pd.partition_dimension_names, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    msg = (
                        f"Dimension mapping has a{'n' if role == 'upstream' else ''} {role} dimension "
                        f"name {name!r} that is not in the {role} partitions def (dimensions "
                        f"{pd.partition_dimension_names}).{hint}"
                    )
                    raise DefinitionError(msg)
            dim_mapping.partition_mapping.validate_partition_mapping(
                upstream_partitions_def.get_partitions_def_for_dimension(upstream_dim),
                downstream_partitions_def.get_partitions_def_for_dimension(
                    dim_mapping.dimension_name
                ),
            )
