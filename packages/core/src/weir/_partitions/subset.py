"""``PartitionsSubset``: a set of partitions of one definition, kept as a bitmap.

Bit ``i`` of a Python ``int`` is set when the partition with index ``i`` (in the definition's
order) is in the subset. Set algebra is one big-integer operation, ``len`` is a popcount, and
listing walks the runs of set bits, so a subset of a million partitions costs about 125 KB and
never a Python object per partition until its keys are asked for.

A subset of a dynamic partitions definition needs the instance to turn keys into indices and
back: pass ``dynamic_partitions_store`` to the call, or once to the constructor (it is carried to
the subsets derived from this one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from math import prod
from typing import Any

from weir._partitions.definition import PartitionsDefinition, UnknownPartitionKeyError
from weir._partitions.key_range import PartitionKeyRange
from weir.errors import DefinitionError

__all__ = [
    "PartitionsSubset",
    "bits_from_indices",
    "mixed_radix_digits",
    "repeat_bits",
    "runs_of_sorted",
    "split_run_into_boxes",
]

logger = logging.getLogger(__name__)

_RUN = re.compile("1+")
_FORMAT_VERSION = 1
_DENSE_FRACTION = 4  # list all keys once when the subset covers >= 1/4 of the span it touches


def bits_from_indices(indices: Iterable[int]) -> int:
    """The bitmap with the bits of ``indices`` set, in O(len + highest index) (no quadratic shifts)."""
    chosen = list(indices)
    if not chosen:
        return 0
    lowest = min(chosen)
    if lowest < 0:
        msg = f"Partition indices are never negative, got {lowest}."
        raise DefinitionError(msg)
    buffer = bytearray((max(chosen) >> 3) + 1)
    for index in chosen:
        buffer[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(buffer, "little")


def runs_of_sorted(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Maximal ``[start, stop)`` runs of consecutive values in sorted, distinct ``indices``."""
    runs: list[tuple[int, int]] = []
    if not indices:
        return runs
    start = previous = indices[0]
    for index in indices[1:]:
        if index != previous + 1:
            runs.append((start, previous + 1))
            start = index
        previous = index
    runs.append((start, previous + 1))
    return runs


def repeat_bits(pattern: int, count: int, width: int) -> int:
    """``pattern`` repeated ``count`` times at a stride of ``width`` bits (by doubling)."""
    result = 0
    offset = 0
    chunk, chunk_count = pattern, 1
    while count:
        if count & 1:
            result |= chunk << offset
            offset += chunk_count * width
        count >>= 1
        if count:
            chunk |= chunk << (chunk_count * width)
            chunk_count *= 2
    return result


def mixed_radix_digits(index: int, sizes: Sequence[int]) -> list[int]:
    """The mixed-radix digits of ``index`` (first dimension most significant)."""
    digits = []
    for size in reversed(sizes):
        index, digit = divmod(index, size)
        digits.append(digit)
    digits.reverse()
    return digits


def split_run_into_boxes(start: int, stop: int, sizes: Sequence[int]) -> list[tuple[int, int]]:
    """Split the index run ``[start, stop)`` of a product with dimension ``sizes`` into runs
    that are boxes (fixed leading dimensions, one range in the next, full ranges after it).

    Such a run is exactly the keys of a :class:`PartitionKeyRange` between its ends; a run
    gives at most about twice as many boxes as there are dimensions.
    """
    # strides[j]: how many indices one step of dimension j spans
    strides = [prod(sizes[j + 1 :]) for j in range(len(sizes))]
    boxes: list[tuple[int, int]] = []
    while start < stop:
        for j, stride in enumerate(strides):
            if start % stride or stop - start < stride:
                continue
            digit = (start // stride) % sizes[j]
            count = min(sizes[j] - digit, (stop - start) // stride)
            boxes.append((start, start + count * stride))
            start += count * stride
            break
    return boxes


def _is_definition(value: Any) -> bool:
    return isinstance(value, PartitionsDefinition)


class PartitionsSubset:
    """A set of partition keys of ``partitions_def``, as a bitmap over its indices.

    Args:
        partitions_def: The definition whose partitions the bits index.
        bits: The bitmap: bit ``i`` set means the partition at index ``i`` is in the subset.
        dynamic_partitions_store: Optional instance used by default to resolve dynamic keys.

    Example::

        regions = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
        done = regions.subset_with_partition_keys(["eu", "apac"])
        "us" in done                          # False
        (regions.subset_with_all_partitions() - done).get_partition_keys()   # ['us']
    """

    __slots__ = ("_bits", "_partitions_def", "_store")

    def __init__(
        self,
        partitions_def: PartitionsDefinition,
        bits: int = 0,
        *,
        dynamic_partitions_store: Any = None,
    ) -> None:
        if not isinstance(partitions_def, PartitionsDefinition):
            msg = f"PartitionsSubset needs a partitions definition, got {type(partitions_def).__name__}."
            raise DefinitionError(msg)
        if isinstance(bits, bool) or not isinstance(bits, int) or bits < 0:
            msg = f"PartitionsSubset bits must be a non-negative int (a bitmap over indices), got {bits!r}."
            raise DefinitionError(msg)
        self._partitions_def = partitions_def
        self._bits = bits
        self._store = dynamic_partitions_store

    # -- basic facts -----------------------------------------------------------------------------
    @property
    def partitions_def(self) -> PartitionsDefinition:
        """The definition whose partitions this subset holds."""
        return self._partitions_def

    @property
    def bits(self) -> int:
        """The bitmap (bit ``i`` set: the partition at index ``i`` is in the subset)."""
        return self._bits

    @property
    def is_empty(self) -> bool:
        """Whether the subset holds no partition."""
        return self._bits == 0

    def __len__(self) -> int:
        return self._bits.bit_count()

    def _derive(self, bits: int) -> PartitionsSubset:
        return PartitionsSubset(self._partitions_def, bits, dynamic_partitions_store=self._store)

    def _store_or_default(self, dynamic_partitions_store: Any) -> Any:
        return self._store if dynamic_partitions_store is None else dynamic_partitions_store

    # -- indices ---------------------------------------------------------------------------------
    def index_runs(self) -> list[tuple[int, int]]:
        """The maximal ``[start, stop)`` runs of set bits, in order (found at C speed)."""
        if not self._bits:
            return []
        lowest = (self._bits & -self._bits).bit_length() - 1
        text = bin(self._bits >> lowest)[:1:-1]  # least significant bit first
        return [(m.start() + lowest, m.end() + lowest) for m in _RUN.finditer(text)]

    def indices(self) -> Iterator[int]:
        """The indices of the partitions in the subset, ascending."""
        for start, stop in self.index_runs():
            yield from range(start, stop)

    # -- keys ------------------------------------------------------------------------------------
    def _all_keys_if_better(
        self, runs: Sequence[tuple[int, int]], current_time: datetime | None, store: Any
    ) -> Sequence[str] | None:
        """Every key of the definition when listing them once beats listing per run: the
        definition lists cheaply (static, dynamic: one store call) or the runs are dense."""
        if not runs:
            return None
        span = runs[-1][1] - runs[0][0]
        dense = len(runs) > 1 and len(self) * _DENSE_FRACTION >= span
        if getattr(self._partitions_def, "_bulk_listing_is_cheap", False) or dense:
            return self._partitions_def.get_partition_keys(current_time, store)
        return None

    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """The keys in the subset, in the definition's order."""
        store = self._store_or_default(dynamic_partitions_store)
        runs = self.index_runs()
        if not runs:
            return []
        by_runs = getattr(self._partitions_def, "keys_for_index_runs", None)
        if by_runs is not None:  # e.g. multi-partitions: keys built per run, never the product
            try:
                return list(by_runs(runs, current_time, store))
            except IndexError as exc:
                msg = f"{self!r} holds partition indices past the end of {self._partitions_def!r}: {exc}"
                raise DefinitionError(msg) from exc
        all_keys = self._all_keys_if_better(runs, current_time, store)
        total = (
            len(all_keys)
            if all_keys is not None
            else self._partitions_def.get_num_partitions(current_time, store)
        )
        if runs[-1][1] > total:
            self._raise_out_of_range(total)
        out: list[str] = []
        for start, stop in runs:
            if all_keys is not None:
                out.extend(all_keys[start:stop])
            else:
                out.extend(
                    self._partitions_def.iter_partition_keys(start, stop, current_time, store)
                )
        return out

    def _raise_out_of_range(self, total: int) -> None:
        msg = (
            f"{self!r} holds partition index {self._bits.bit_length() - 1}, but "
            f"{self._partitions_def!r} has only {total:,} partitions now (were keys deleted, or "
            "is the subset from another definition?)."
        )
        raise DefinitionError(msg)

    def get_partition_keys_not_in_subset(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """The keys of the definition that are not in the subset, in order."""
        store = self._store_or_default(dynamic_partitions_store)
        total = self._partitions_def.get_num_partitions(current_time, store)
        complement = ((1 << total) - 1) & ~self._bits
        return self._derive(complement).get_partition_keys(current_time, store)

    def __contains__(self, partition_key: object) -> bool:
        return self.contains(partition_key)

    def contains(
        self,
        partition_key: object,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> bool:
        """Whether ``partition_key`` is in the subset (False for keys of no partition)."""
        if not isinstance(partition_key, str):
            return False
        store = self._store_or_default(dynamic_partitions_store)
        index = self._partitions_def.index_of(partition_key, current_time, store)
        return index is not None and bool(self._bits >> index & 1)

    def _indices_for_keys(
        self, partition_keys: Iterable[str], current_time: datetime | None, store: Any
    ) -> list[int]:
        keys = [partition_keys] if isinstance(partition_keys, str) else list(partition_keys)
        pd = self._partitions_def
        bulk = getattr(pd, "indices_of", None)
        found = (
            list(bulk(keys, current_time, store))
            if bulk is not None
            else [pd.index_of(key, current_time, store) for key in keys]
        )
        for key, index in zip(keys, found, strict=True):
            if index is None:
                raise UnknownPartitionKeyError(pd._unknown_key_message(key, current_time, store))
        return found  # type: ignore[return-value]

    def with_partition_keys(
        self, partition_keys: Iterable[str], dynamic_partitions_store: Any = None
    ) -> PartitionsSubset:
        """A new subset: this one plus ``partition_keys`` (each must be a partition)."""
        store = self._store_or_default(dynamic_partitions_store)
        indices = self._indices_for_keys(partition_keys, None, store)
        return self._derive(self._bits | bits_from_indices(indices))

    def with_index_range(self, start: int, stop: int) -> PartitionsSubset:
        """A new subset: this one plus the partitions with index in ``[start, stop)``."""
        if isinstance(start, bool) or isinstance(stop, bool) or not (0 <= start <= stop):
            msg = f"with_index_range({start!r}, {stop!r}): need 0 <= start <= stop (indices, stop excluded)."
            raise DefinitionError(msg)
        return self._derive(self._bits | (((1 << (stop - start)) - 1) << start))

    def with_partition_key_range(
        self, *args: Any, dynamic_partitions_store: Any = None, current_time: datetime | None = None
    ) -> PartitionsSubset:
        """A new subset: this one plus the keys of a :class:`PartitionKeyRange`.

        Called as ``with_partition_key_range(range)`` or, as in Dagster,
        ``with_partition_key_range(partitions_def, range, dynamic_partitions_store)``. On a
        multi-partitions definition the range is a box (every dimension between its ends).
        """
        positional = list(args)
        if positional and _is_definition(positional[0]):
            self._check_same_definition(positional.pop(0), "with_partition_key_range")
        if not positional:
            msg = "with_partition_key_range() needs a PartitionKeyRange."
            raise DefinitionError(msg)
        key_range = positional.pop(0)
        if positional and dynamic_partitions_store is None:
            dynamic_partitions_store = positional.pop(0)
        store = self._store_or_default(dynamic_partitions_store)
        from weir._partitions.multi import MultiPartitionsDefinition

        pd = self._partitions_def
        if isinstance(pd, MultiPartitionsDefinition):
            box = pd.subset_for_key_range(key_range, current_time, store)
            return self._derive(self._bits | box.bits)
        start, stop = pd.index_range(key_range, current_time, store)
        return self.with_index_range(start, stop)

    # -- ranges ----------------------------------------------------------------------------------
    def get_partition_key_ranges(
        self,
        dynamic_partitions_store: Any = None,
        current_time: datetime | None = None,
        *,
        partitions_def: PartitionsDefinition | None = None,
    ) -> list[PartitionKeyRange]:
        """The subset as maximal inclusive key ranges, in order.

        On a multi-partitions definition each range is a box, so ``get_partition_keys_in_range``
        of each gives back exactly its keys. (A partitions definition passed first, as Dagster's
        ``get_partition_key_ranges(partitions_def, ...)`` does, is accepted and checked.)
        """
        if _is_definition(dynamic_partitions_store):
            partitions_def, dynamic_partitions_store = dynamic_partitions_store, None
        if partitions_def is not None:
            self._check_same_definition(partitions_def, "get_partition_key_ranges")
        store = self._store_or_default(dynamic_partitions_store)
        pd = self._partitions_def
        runs = self.index_runs()
        if not runs:
            return []
        by_runs = getattr(pd, "key_ranges_for_index_runs", None)
        if by_runs is not None:  # e.g. multi-partitions: ranges cut into boxes
            try:
                return list(by_runs(runs, current_time, store))
            except IndexError as exc:
                msg = f"{self!r} holds partition indices past the end of {pd!r}: {exc}"
                raise DefinitionError(msg) from exc
        keys = (
            pd.get_partition_keys(current_time, store)
            if getattr(pd, "_bulk_listing_is_cheap", False)
            else None
        )
        total = len(keys) if keys is not None else pd.get_num_partitions(current_time, store)
        if runs[-1][1] > total:
            self._raise_out_of_range(total)
        if keys is not None:
            return [PartitionKeyRange(keys[start], keys[stop - 1]) for start, stop in runs]
        return [
            PartitionKeyRange(
                pd.key_at(start, current_time, store), pd.key_at(stop - 1, current_time, store)
            )
            for start, stop in runs
        ]

    # -- set algebra -----------------------------------------------------------------------------
    def _check_same_definition(self, other_def: Any, operation: str) -> None:
        if other_def is not self._partitions_def and other_def != self._partitions_def:
            msg = (
                f"Cannot {operation} subsets of different partitions definitions: "
                f"{self._partitions_def!r} and {other_def!r}. Map one subset onto the other's "
                "definition first (e.g. with a partition mapping)."
            )
            raise DefinitionError(msg)

    def _other_bits(self, other: object, operation: str) -> int:
        if not isinstance(other, PartitionsSubset):
            msg = f"Cannot {operation} a PartitionsSubset and {type(other).__name__}."
            raise DefinitionError(msg)
        self._check_same_definition(other._partitions_def, operation)
        return other._bits

    def __or__(self, other: PartitionsSubset) -> PartitionsSubset:
        return self._derive(self._bits | self._other_bits(other, "combine (|)"))

    def __and__(self, other: PartitionsSubset) -> PartitionsSubset:
        return self._derive(self._bits & self._other_bits(other, "intersect (&)"))

    def __sub__(self, other: PartitionsSubset) -> PartitionsSubset:
        return self._derive(self._bits & ~self._other_bits(other, "subtract (-)"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartitionsSubset):
            return NotImplemented
        return self._bits == other._bits and (
            self._partitions_def is other._partitions_def
            or self._partitions_def == other._partitions_def
        )

    def __hash__(self) -> int:
        return hash(self._bits)

    # -- serialisation ---------------------------------------------------------------------------
    def to_serializable(self) -> dict[str, Any]:
        """A compact JSON-ready form: ``{"v": 1, "runs": [[start, length], ...]}`` when the
        subset is a few runs, else ``{"v": 1, "hex": "<the bitmap in hex>"}``."""
        runs = self.index_runs()
        hex_length = (self._bits.bit_length() + 3) // 4
        if len(runs) * 16 <= hex_length:
            return {"v": _FORMAT_VERSION, "runs": [[start, stop - start] for start, stop in runs]}
        return {"v": _FORMAT_VERSION, "hex": format(self._bits, "x")}

    @classmethod
    def from_serializable(
        cls, partitions_def: PartitionsDefinition, data: Mapping[str, Any]
    ) -> PartitionsSubset:
        """The subset of ``partitions_def`` that :meth:`to_serializable` described."""
        if not isinstance(data, Mapping) or data.get("v") != _FORMAT_VERSION:
            msg = (
                f"Not a serialised PartitionsSubset (format version {_FORMAT_VERSION}): {data!r:.200}. "
                "Was it written by PartitionsSubset.to_serializable() of this weir version?"
            )
            raise DefinitionError(msg)
        if "hex" in data:
            try:
                return cls(partitions_def, int(data["hex"], 16) if data["hex"] else 0)
            except (TypeError, ValueError) as exc:
                msg = f"A serialised PartitionsSubset has a bad 'hex' bitmap: {exc}."
                raise DefinitionError(msg) from exc
        runs = data.get("runs")
        bits = 0
        try:
            for start, length in runs:  # type: ignore[union-attr]
                if start < 0 or length < 0:
                    raise ValueError("negative start or length")
                bits |= ((1 << length) - 1) << start
        except (TypeError, ValueError) as exc:
            msg = (
                "A serialised PartitionsSubset needs 'hex' (a hex bitmap) or 'runs' (a list of "
                f"[start, length] pairs of non-negative ints): {exc}."
            )
            raise DefinitionError(msg) from exc
        return cls(partitions_def, bits)

    def __repr__(self) -> str:
        runs = len(self.index_runs()) if self._bits.bit_length() <= 1 << 24 else "many"
        return (
            f"PartitionsSubset({type(self._partitions_def).__name__}, {len(self):,} partitions "
            f"in {runs} runs)"
        )
