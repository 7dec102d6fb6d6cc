"""``MultiPartitionsDefinition``: the product of two or more partitions definitions.

A key is a :class:`MultiPartitionKey`, a ``str`` whose dimension values are joined with ``|`` in
dimension-**name** order (``{"date", "region"}`` → ``"2024-01-01|us"``), exactly as Dagster
writes it. Dagster stops at two dimensions; weir takes any number from two up, and two-dimension
definitions behave exactly as Dagster's.

Keys are ordered as a mixed-radix number whose digits are the dimensions' indices, the first
dimension (in name order) varying slowest, which is the order ``itertools.product`` gives. So
``index_of`` is O(dimensions) (one ``index_of`` per dimension) and a selection per dimension
becomes a bitmap (:meth:`MultiPartitionsDefinition.subset_for_dimension_keys`) without listing
the product. A :class:`~weir._partitions.key_range.PartitionKeyRange` over a multi definition is
a box, as in Dagster: every key whose value in each dimension lies between the ends' values.
"""

from __future__ import annotations

import difflib
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from math import prod
from typing import Any, ClassVar, NamedTuple

from weir._partitions.definition import PartitionsDefinition, UnknownPartitionKeyError
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.key_range import (
    MULTIPARTITION_KEY_DELIMITER,
    MultiPartitionKey,
    PartitionKeyRange,
    make_multi_partition_keys,
)
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.subset import (
    PartitionsSubset,
    mixed_radix_digits,
    repeat_bits,
    runs_of_sorted,
    split_run_into_boxes,
)
from weir.errors import DefinitionError, InvalidInvocationError, InvariantViolationError

__all__ = [
    "INVALID_MULTI_PARTITION_KEY_CHARACTERS",
    "MultiPartitionsDefinition",
    "PartitionDimensionDefinition",
]

logger = logging.getLogger(__name__)

INVALID_MULTI_PARTITION_KEY_CHARACTERS = frozenset("|,[]")
"""Characters a dimension's keys may not contain (``|`` joins values; the rest mark lists)."""
MULTIDIMENSIONAL_PARTITION_TAG_PREFIX = "dagster/partition/"
PARTITION_TAG = "dagster/partition"


class PartitionDimensionDefinition(NamedTuple):
    """One dimension of a multi-partitions definition: its name and its partitions definition."""

    name: str
    partitions_def: PartitionsDefinition


def _bad_key_in(keys: Sequence[str]) -> str | None:
    """The first key holding a character a multi-partition key cannot carry, or None."""
    joined = "\x1f".join(keys)
    if not any(char in joined for char in INVALID_MULTI_PARTITION_KEY_CHARACTERS):
        return None
    return next(key for key in keys if INVALID_MULTI_PARTITION_KEY_CHARACTERS & set(key))


def _invalid_character_message(dimension: str, key: str) -> str:
    return (
        f"Invalid character in partition key for dimension {dimension}. A multi-partitions "
        "definition cannot contain partition keys with the following characters: |, [, ], , "
        f"(found in {key!r}). Rename the key."
    )


def _is_time_based(partitions_def: PartitionsDefinition) -> bool:
    return not isinstance(partitions_def, MultiPartitionsDefinition) and callable(
        getattr(partitions_def, "time_window_for_partition_key", None)
    )


class MultiPartitionsDefinition(PartitionsDefinition):
    """The cross-product of two or more partitions definitions, one per named dimension.

    Args:
        partitions_defs: ``{dimension name: partitions definition}``, at least two. Dimensions
            may be static, time-window or named dynamic definitions (or plugin types); they are
            ordered by name. Static keys may not contain ``|``, ``[``, ``]`` or ``,``.

    Example::

        import weir as dg

        partitions = dg.MultiPartitionsDefinition(
            {
                "date": dg.DailyPartitionsDefinition(start_date="2024-01-01"),
                "region": dg.StaticPartitionsDefinition(["eu", "us"]),
            }
        )
        partitions.get_partition_keys()[:2]  # ['2024-01-01|eu', '2024-01-01|us']
    """

    plugin_name: ClassVar[str] = "multi"

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]) -> None:
        if not isinstance(partitions_defs, Mapping):
            msg = (
                "MultiPartitionsDefinition takes a mapping of dimension name to partitions "
                f"definition, e.g. {{'date': daily, 'region': regions}}; got "
                f"{type(partitions_defs).__name__}."
            )
            raise DefinitionError(msg)
        if len(partitions_defs) < 2:
            msg = (
                "A MultiPartitionsDefinition needs at least 2 partitions definitions (dimensions); "
                f"yours has {len(partitions_defs)} ({sorted(map(str, partitions_defs))}). For a "
                "single dimension, use that partitions definition directly."
            )
            raise InvalidInvocationError(msg)
        for name, partitions_def in partitions_defs.items():
            _check_dimension(name, partitions_def)
        self._dimensions: list[PartitionDimensionDefinition] = sorted(
            (PartitionDimensionDefinition(name, pd) for name, pd in partitions_defs.items()),
            key=lambda dim: dim.name,
        )
        self._names: tuple[str, ...] = tuple(dim.name for dim in self._dimensions)
        self._defs: tuple[PartitionsDefinition, ...] = tuple(
            dim.partitions_def for dim in self._dimensions
        )

    # -- dimensions -------------------------------------------------------------------------------
    @property
    def partitions_defs(self) -> list[PartitionDimensionDefinition]:
        """The dimensions, in name order."""
        return list(self._dimensions)

    @property
    def partition_dimension_names(self) -> list[str]:
        """The dimension names, sorted."""
        return list(self._names)

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        """The partitions definition of ``dimension_name``."""
        return self._dimensions[self._dimension_position(dimension_name)].partitions_def

    def _dimension_position(self, dimension_name: str) -> int:
        try:
            return self._names.index(dimension_name)
        except ValueError:
            close = difflib.get_close_matches(str(dimension_name), self._names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (
                f"Invalid dimension name {dimension_name!r}: the dimensions of this "
                f"MultiPartitionsDefinition are {list(self._names)}.{hint}"
            )
            raise DefinitionError(msg) from None

    def _time_dimensions(self) -> list[PartitionDimensionDefinition]:
        return [dim for dim in self._dimensions if _is_time_based(dim.partitions_def)]

    @property
    def has_time_window_dimension(self) -> bool:
        """Whether a dimension is time-based."""
        return bool(self._time_dimensions())

    @property
    def time_window_dimension(self) -> PartitionDimensionDefinition:
        """The one time-based dimension (an error unless there is exactly one)."""
        found = self._time_dimensions()
        if len(found) != 1:
            msg = (
                "Expected exactly one time window partitioned dimension in this "
                f"MultiPartitionsDefinition, found {len(found)} ({[d.name for d in found]}); "
                f"dimensions: {list(self._names)}."
            )
            raise DefinitionError(msg)
        return found[0]

    @property
    def time_window_partitions_def(self) -> PartitionsDefinition:
        """The partitions definition of the time-based dimension."""
        return self.time_window_dimension.partitions_def

    @property
    def primary_dimension(self) -> PartitionDimensionDefinition:
        """The time-based dimension when there is exactly one, else the first by name."""
        found = self._time_dimensions()
        return found[0] if len(found) == 1 else self._dimensions[0]

    @property
    def secondary_dimension(self) -> PartitionDimensionDefinition:
        """The first dimension (by name) that is not the primary one."""
        primary = self.primary_dimension
        return next(dim for dim in self._dimensions if dim.name != primary.name)

    def time_window_for_partition_key(self, partition_key: str) -> Any:
        """The ``TimeWindow`` of ``partition_key``'s time-based dimension."""
        dim = self.time_window_dimension
        value = self.get_partition_key_from_str(partition_key).keys_by_dimension[dim.name]
        return dim.partitions_def.time_window_for_partition_key(value)  # type: ignore[attr-defined]

    # -- keys ------------------------------------------------------------------------------------
    def get_partition_key_from_str(self, partition_key_str: str) -> MultiPartitionKey:
        """Parse ``"a|b"`` into a :class:`MultiPartitionKey` of this definition's dimensions."""
        if (
            isinstance(partition_key_str, MultiPartitionKey)
            and partition_key_str._dimension_names == self._names
        ):
            return partition_key_str
        if not isinstance(partition_key_str, str):
            msg = f"A multi-partition key is a string like 'a|b', got {type(partition_key_str).__name__}."
            raise UnknownPartitionKeyError(msg)
        parts = partition_key_str.split(MULTIPARTITION_KEY_DELIMITER)
        if len(parts) != len(self._names):
            msg = (
                f"Expected {len(self._names)} partition keys in partition key string "
                f"{partition_key_str!r}, but got {len(parts)}: keys of this definition join one "
                f"key per dimension ({', '.join(self._names)}) with '|'."
            )
            raise UnknownPartitionKeyError(msg)
        return MultiPartitionKey._from_values(self._names, parts)

    get_multipartition_key_from_str = get_partition_key_from_str

    def _split(self, key: Any) -> tuple[str, ...] | None:
        if isinstance(key, MultiPartitionKey):
            return key._parts() if key._dimension_names == self._names else None
        if not isinstance(key, str):
            return None
        parts = key.split(MULTIPARTITION_KEY_DELIMITER)
        return tuple(parts) if len(parts) == len(self._names) else None

    def _sizes(self, current_time: datetime | None, store: Any) -> list[int]:
        return [pd.get_num_partitions(current_time, store) for pd in self._defs]

    def _dimension_key_lists(self, current_time: datetime | None, store: Any) -> list[list[str]]:
        lists = []
        for dim in self._dimensions:
            keys = list(dim.partitions_def.get_partition_keys(current_time, store))
            if not isinstance(dim.partitions_def, StaticPartitionsDefinition):
                bad = _bad_key_in(keys)
                if bad is not None:
                    raise DefinitionError(_invalid_character_message(dim.name, bad))
            lists.append(keys)
        return lists

    # -- index primitives ------------------------------------------------------------------------
    def get_num_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int:
        """The product of the dimensions' partition counts."""
        return prod(self._sizes(current_time, dynamic_partitions_store))

    def key_at(
        self, index: int, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> MultiPartitionKey:
        """The key at ``index`` (mixed radix, first dimension slowest)."""
        sizes = self._sizes(current_time, dynamic_partitions_store)
        total = prod(sizes)
        position = index + total if index < 0 else index
        if not 0 <= position < total:
            msg = f"Partition index {index} is out of range for {self!r} ({total:,} partitions)."
            raise IndexError(msg)
        digits = mixed_radix_digits(position, sizes)
        values = [
            pd.key_at(digit, current_time, dynamic_partitions_store)
            for pd, digit in zip(self._defs, digits, strict=True)
        ]
        return MultiPartitionKey._from_values(self._names, values)

    def index_of(
        self, key: str, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int | None:
        """The position of ``key``: one ``index_of`` per dimension, combined in mixed radix."""
        parts = self._split(key)
        if parts is None:
            return None
        index = 0
        for position, (pd, value) in enumerate(zip(self._defs, parts, strict=True)):
            digit = pd.index_of(value, current_time, dynamic_partitions_store)
            if digit is None:
                return None
            if position:
                index *= pd.get_num_partitions(current_time, dynamic_partitions_store)
            index += digit
        return index

    def indices_of(
        self,
        keys: Iterable[str],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[int | None]:
        """The position of each of ``keys`` (None when not a partition), one bulk lookup per dimension."""
        split = [self._split(key) for key in keys]
        per_dimension: list[list[int | None]] = []
        for position, pd in enumerate(self._defs):
            values = [parts[position] if parts is not None else "" for parts in split]
            per_dimension.append(_bulk_indices(pd, values, current_time, dynamic_partitions_store))
        sizes = self._sizes(current_time, dynamic_partitions_store)
        result: list[int | None] = []
        for row, parts in enumerate(split):
            if parts is None:
                result.append(None)
                continue
            index = 0
            for position, size in enumerate(sizes):
                digit = per_dimension[position][row]
                if digit is None:
                    index = -1
                    break
                index = index * size + digit
            result.append(None if index < 0 else index)
        return result

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> bool:
        """Whether ``partition_key`` is a key (each dimension's value exists in its dimension)."""
        if (
            isinstance(partition_key, MultiPartitionKey)
            and partition_key._dimension_names != self._names
        ):
            msg = (
                f"Invalid partition key {partition_key!r}. The dimensions of the partition key "
                f"{list(partition_key._dimension_names)} are not the dimensions of the partitions "
                f"definition {list(self._names)}."
            )
            raise UnknownPartitionKeyError(msg)
        parts = self._split(partition_key)
        if parts is None:
            return False
        return all(
            pd.has_partition_key(value, current_time, dynamic_partitions_store)
            for pd, value in zip(self._defs, parts, strict=True)
        )

    def _unknown_key_message(
        self, partition_key: str, current_time: datetime | None, dynamic_partitions_store: Any
    ) -> str:
        parts = self._split(partition_key)
        where = f"{self!r}"
        if parts is None:
            return (
                f"Partition key {partition_key!r} is not a partition of {where}: its keys join one "
                f"key per dimension ({', '.join(self._names)}) with '|', e.g. "
                f"{'|'.join('<' + name + '>' for name in self._names)!r}."
            )
        for dim, value in zip(self._dimensions, parts, strict=True):
            pd = dim.partitions_def
            if pd.index_of(value, current_time, dynamic_partitions_store) is None:
                inner = pd._unknown_key_message(value, current_time, dynamic_partitions_store)
                return f"Partition key {partition_key!r} is not a partition of {where}: in dimension {dim.name!r}: {inner}"
        return f"Partition key {partition_key!r} is not a partition of {where}."

    # -- Dagster's API, in bulk ------------------------------------------------------------------
    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> list[MultiPartitionKey]:
        """Every key in order, built from one listing per dimension."""
        lists = self._dimension_key_lists(current_time, dynamic_partitions_store)
        joined: list[str] = lists[0]
        for keys in lists[1:]:
            joined = [
                prefix + MULTIPARTITION_KEY_DELIMITER + key for prefix in joined for key in keys
            ]
        return make_multi_partition_keys(joined, self._names)

    def iter_partition_keys(
        self,
        start: int = 0,
        stop: int | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> Iterator[MultiPartitionKey]:
        """The keys with index in ``[start, stop)``, lazily."""
        lists = self._dimension_key_lists(current_time, dynamic_partitions_store)
        names = self._names
        for values in itertools.islice(itertools.product(*lists), start, stop):
            key: MultiPartitionKey = str.__new__(
                MultiPartitionKey, MULTIPARTITION_KEY_DELIMITER.join(values)
            )
            key._dimension_names = names
            yield key

    def _boxes(
        self, runs: Sequence[tuple[int, int]], current_time: datetime | None, store: Any
    ) -> tuple[list[list[str]], list[tuple[list[int], list[int]]]]:
        """One key list per dimension, and the runs cut into boxes as (first, last) digits."""
        lists = self._dimension_key_lists(current_time, store)
        sizes = [len(keys) for keys in lists]
        total = prod(sizes)
        boxes = []
        for run_start, run_stop in runs:
            if run_start < 0 or run_stop > total:
                msg = (
                    f"Partition indices {run_start}..{run_stop - 1} are out of range for {self!r} "
                    f"({total:,} partitions)."
                )
                raise IndexError(msg)
            for start, stop in split_run_into_boxes(run_start, run_stop, sizes):
                boxes.append(
                    (mixed_radix_digits(start, sizes), mixed_radix_digits(stop - 1, sizes))
                )
        return lists, boxes

    def keys_for_index_runs(
        self,
        runs: Sequence[tuple[int, int]],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[MultiPartitionKey]:
        """The keys of the index runs ``[start, stop)``, in order, from one listing per dimension
        (each run is cut into boxes, each box one ``itertools.product``)."""
        lists, boxes = self._boxes(runs, current_time, dynamic_partitions_store)
        joined: list[str] = []
        for first, last in boxes:
            vary = next((j for j in range(len(lists)) if first[j] != last[j]), len(lists) - 1)
            parts: list[Sequence[str]] = [[lists[j][first[j]]] for j in range(vary)]
            parts.append(lists[vary][first[vary] : last[vary] + 1])
            parts.extend(lists[vary + 1 :])
            joined.extend(map(MULTIPARTITION_KEY_DELIMITER.join, itertools.product(*parts)))
        return make_multi_partition_keys(joined, self._names)

    def key_ranges_for_index_runs(
        self,
        runs: Sequence[tuple[int, int]],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[PartitionKeyRange]:
        """The index runs as key ranges that are boxes (``get_partition_keys_in_range`` of
        each gives exactly its run's keys)."""
        lists, boxes = self._boxes(runs, current_time, dynamic_partitions_store)

        def key(digits: list[int]) -> MultiPartitionKey:
            return MultiPartitionKey._from_values(
                self._names, [keys[d] for keys, d in zip(lists, digits, strict=True)]
            )

        return [PartitionKeyRange(key(first), key(last)) for first, last in boxes]

    def _box_digit_ranges(
        self, partition_key_range: Any, current_time: datetime | None, store: Any
    ) -> list[tuple[int, int]]:
        """Per dimension, the ``[start, stop)`` index range between the range ends' values."""
        start = self.get_partition_key_from_str(partition_key_range.start)._parts()
        end = self.get_partition_key_from_str(partition_key_range.end)._parts()
        return [
            pd.index_range(PartitionKeyRange(lo, hi), current_time, store)
            for pd, lo, hi in zip(self._defs, start, end, strict=True)
        ]

    def get_partition_keys_in_range(
        self, partition_key_range: Any, dynamic_partitions_store: Any = None
    ) -> list[MultiPartitionKey]:
        """The keys of the box between ``range.start`` and ``range.end`` (Dagster's semantics)."""
        start = self.get_partition_key_from_str(partition_key_range.start)._parts()
        end = self.get_partition_key_from_str(partition_key_range.end)._parts()
        lists = [
            list(
                pd.get_partition_keys_in_range(PartitionKeyRange(lo, hi), dynamic_partitions_store)
            )
            for pd, lo, hi in zip(self._defs, start, end, strict=True)
        ]
        names = self._names
        return [
            MultiPartitionKey._from_values(names, values) for values in itertools.product(*lists)
        ]

    def index_range(
        self,
        partition_key_range: Any,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> tuple[int, int]:
        """``[start, stop)`` of a key range whose box is one contiguous run of indices."""
        ranges = self._box_digit_ranges(partition_key_range, current_time, dynamic_partitions_store)
        sizes = self._sizes(current_time, dynamic_partitions_store)
        varying = [j for j, (lo, hi) in enumerate(ranges) if hi - lo != 1]
        first = varying[0] if varying else len(sizes) - 1
        if any(ranges[j] != (0, sizes[j]) for j in range(first + 1, len(sizes))):
            msg = (
                f"PartitionKeyRange({partition_key_range.start!r}, {partition_key_range.end!r}) over "
                f"{self!r} selects a box of keys (each dimension between its ends) that is not one "
                "contiguous run of partition indices. Use PartitionsSubset.with_partition_key_range() "
                "or get_partition_keys_in_range() instead."
            )
            raise DefinitionError(msg)
        start = self.require_index(
            partition_key_range.start, current_time, dynamic_partitions_store
        )
        end = self.require_index(partition_key_range.end, current_time, dynamic_partitions_store)
        return start, end + 1

    def get_multipartition_keys_with_dimension_value(
        self,
        dimension_name: str,
        dimension_partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[MultiPartitionKey]:
        """Every key whose ``dimension_name`` value is ``dimension_partition_key``, in order."""
        subset = self.subset_for_dimension_keys(
            {dimension_name: [dimension_partition_key]}, current_time, dynamic_partitions_store
        )
        return self.keys_for_index_runs(subset.index_runs(), current_time, dynamic_partitions_store)

    def get_tags_for_partition_key(self, partition_key: str) -> dict[str, str]:
        """Run tags: ``dagster/partition`` and one ``dagster/partition/<dimension>`` per dimension."""
        key = self.get_partition_key_from_str(partition_key)
        tags = {PARTITION_TAG: str(key)}
        for name, value in zip(self._names, key._parts(), strict=True):
            tags[MULTIDIMENSIONAL_PARTITION_TAG_PREFIX + name] = value
        return tags

    def filter_valid_partition_keys(
        self,
        partition_keys: Iterable[str],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> set[MultiPartitionKey]:
        """The keys of ``partition_keys`` that are partitions of this definition."""
        keys = list(partition_keys)
        found = self.indices_of(keys, current_time, dynamic_partitions_store)
        return {
            self.get_partition_key_from_str(key)
            for key, index in zip(keys, found, strict=True)
            if index is not None
        }

    # -- per-dimension selection ------------------------------------------------------------------
    def subset_for_dimension_keys(
        self,
        keys_by_dimension: Mapping[str, Sequence[str]],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        """The subset of keys whose value in each named dimension is one of the given keys
        (dimensions not named: any value). Built as a bitmap, without listing the product.

        Example: ``subset_for_dimension_keys({"region": ["us"]})`` is every date in ``us``.
        """
        selected: list[list[int] | None] = [None] * len(self._names)
        for name, keys in keys_by_dimension.items():
            position = self._dimension_position(name)
            if isinstance(keys, str):
                msg = f"subset_for_dimension_keys({{{name!r}: ...}}) takes a list of keys, got the string {keys!r}."
                raise InvariantViolationError(msg)
            pd = self._defs[position]
            keys = list(keys)
            indices = _bulk_indices(pd, keys, current_time, dynamic_partitions_store)
            for key, index in zip(keys, indices, strict=True):
                if index is None:
                    inner = pd._unknown_key_message(key, current_time, dynamic_partitions_store)
                    raise UnknownPartitionKeyError(f"In dimension {name!r} of {self!r}: {inner}")
            selected[position] = sorted({index for index in indices if index is not None})
        sizes = self._sizes(current_time, dynamic_partitions_store)
        ranges = [
            runs_of_sorted(chosen) if chosen is not None else [(0, size)]
            for chosen, size in zip(selected, sizes, strict=True)
        ]
        return self._subset_for_runs(ranges, sizes)

    def subset_for_key_range(
        self,
        partition_key_range: Any,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        """The subset holding the box of keys between the range's ends (Dagster's range semantics)."""
        ranges = [
            [r]
            for r in self._box_digit_ranges(
                partition_key_range, current_time, dynamic_partitions_store
            )
        ]
        return self._subset_for_runs(ranges, self._sizes(current_time, dynamic_partitions_store))

    def _subset_for_runs(
        self, runs_by_dimension: list[list[tuple[int, int]]], sizes: list[int]
    ) -> PartitionsSubset:
        mask = 0
        for start, stop in runs_by_dimension[-1]:
            mask |= ((1 << (stop - start)) - 1) << start
        stride = sizes[-1]
        for runs, size in zip(reversed(runs_by_dimension[:-1]), reversed(sizes[:-1]), strict=True):
            widened = 0
            for start, stop in runs:
                widened |= repeat_bits(mask, stop - start, stride) << (start * stride)
            mask = widened
            stride *= size
        return PartitionsSubset(self, mask)

    # -- serialisation ---------------------------------------------------------------------------
    def to_serializable(self) -> dict[str, Any]:
        """``{"type": "multi", "partitions_defs": {name: <serialised dimension>}}``."""
        from weir._partitions.registry import partitions_def_to_serializable

        return {
            "type": self.plugin_name,
            "partitions_defs": {
                dim.name: partitions_def_to_serializable(dim.partitions_def)
                for dim in self._dimensions
            },
        }

    @classmethod
    def from_serializable(cls, data: dict[str, Any]) -> MultiPartitionsDefinition:
        """The definition :meth:`to_serializable` described (dimensions found through the registry)."""
        from weir._partitions.registry import partitions_def_from_serializable

        dims = data.get("partitions_defs")
        if not isinstance(dims, dict):
            msg = (
                "A serialised MultiPartitionsDefinition needs 'partitions_defs', a mapping of "
                f"dimension name to serialised definition; got {type(dims).__name__}."
            )
            raise DefinitionError(msg)
        return cls({name: partitions_def_from_serializable(sub) for name, sub in dims.items()})

    # -- identity --------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultiPartitionsDefinition) and self._dimensions == other._dimensions
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._dimensions)))

    def __repr__(self) -> str:
        inner = ", ".join(f"{dim.name!r}: {dim.partitions_def!r}" for dim in self._dimensions)
        return f"{type(self).__name__}({{{inner}}})"

    def __str__(self) -> str:
        lines = [f"{dim.name.capitalize()}: {dim.partitions_def}" for dim in self._dimensions]
        return "Multi-partitioned, with dimensions: \n" + " \n".join(lines)


def _bulk_indices(
    partitions_def: PartitionsDefinition,
    keys: Sequence[str],
    current_time: datetime | None,
    store: Any,
) -> list[int | None]:
    """``partitions_def.indices_of`` when it has one (one store call), else one ``index_of`` per key."""
    bulk = getattr(partitions_def, "indices_of", None)
    if bulk is not None:
        return list(bulk(keys, current_time, store))
    return [partitions_def.index_of(key, current_time, store) for key in keys]


def _check_dimension(name: object, partitions_def: object) -> None:
    if not isinstance(name, str) or not name:
        msg = f"MultiPartitionsDefinition: dimension names must be non-empty strings, got {name!r}."
        raise DefinitionError(msg)
    if not isinstance(partitions_def, PartitionsDefinition):
        msg = (
            f"Invalid partitions definition type {type(partitions_def).__name__} for dimension "
            f"{name!r}: each dimension must be a partitions definition (static, time window, "
            "dynamic, or a registered plugin type)."
        )
        raise DefinitionError(msg)
    if isinstance(partitions_def, MultiPartitionsDefinition):
        msg = (
            f"Dimension {name!r} is itself a MultiPartitionsDefinition; nesting is not supported. "
            "List all its dimensions in this one (weir allows any number of dimensions)."
        )
        raise DefinitionError(msg)
    if isinstance(partitions_def, DynamicPartitionsDefinition) and partitions_def.name is None:
        msg = "DynamicPartitionsDefinition must have a name to be used in a MultiPartitionsDefinition."
        raise DefinitionError(msg)
    if isinstance(partitions_def, StaticPartitionsDefinition):
        bad = _bad_key_in(partitions_def.get_partition_keys())
        if bad is not None:
            raise DefinitionError(_invalid_character_message(name, bad))
    fmt = getattr(partitions_def, "fmt", None)
    if isinstance(fmt, str) and INVALID_MULTI_PARTITION_KEY_CHARACTERS & set(fmt):
        msg = (
            f"Invalid character in the key format {fmt!r} of dimension {name}: a multi-partitions "
            "definition cannot contain partition keys with the following characters: |, [, ], ,. "
            "Use another fmt."
        )
        raise DefinitionError(msg)
