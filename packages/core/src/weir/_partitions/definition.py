"""The partitions contract: every partitions definition is an ordered key space with an index.

A :class:`PartitionsDefinition` orders its keys (static: as given; time windows: by start; dynamic:
as added to the instance; multi: a mixed-radix product of its dimensions, the first dimension in
name order varying slowest). Each key has an **index** in that order, and everything that must scale
(subsets of partitions, status, ranges, mappings) works on indices, never on one Python object per
key: a 20-year hourly definition does not build 175,000 strings to answer "is this key valid?" or
"how many partitions?".

Subclasses implement the index primitives (:meth:`get_num_partitions`, :meth:`key_at`,
:meth:`index_of`); the Dagster-named methods are built on them here. Keys that depend on the
instance (dynamic partitions) or the clock (time windows) take ``dynamic_partitions_store`` and
``current_time`` as Dagster's methods do.
"""

from __future__ import annotations

import abc
import difflib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from weir.errors import DefinitionError

__all__ = ["PartitionsDefinition", "UnknownPartitionKeyError"]


class UnknownPartitionKeyError(DefinitionError):
    """A partition key that the partitions definition does not have."""


class PartitionsDefinition(abc.ABC):
    """An ordered set of partition keys (abstract; see the static, time-window, dynamic and multi
    definitions).

    Subclasses set ``plugin_name`` (the name under which ``weir_register_partition_types``
    registers them) and implement the four abstract methods.
    """

    plugin_name: ClassVar[str] = ""

    # -- the index primitives subclasses implement ---------------------------------------------------
    @abc.abstractmethod
    def get_num_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int:
        """How many partitions exist (at ``current_time``, in ``dynamic_partitions_store``)."""

    @abc.abstractmethod
    def key_at(
        self, index: int, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str:
        """The key at position ``index`` (0-based; negative counts from the end). IndexError past the end."""

    @abc.abstractmethod
    def index_of(
        self, key: str, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int | None:
        """The position of ``key``, or None if it is not a partition. Must not enumerate all keys."""

    @abc.abstractmethod
    def to_serializable(self) -> dict[str, Any]:
        """A JSON-compatible description (``{"type": plugin_name, ...}``) that
        ``weir._partitions.registry.partitions_def_from_serializable`` turns back into an equal definition."""

    # -- Dagster's API, built on the primitives ------------------------------------------------------
    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> Sequence[str]:
        """Every key, in order. Subclasses override this with a faster bulk version."""
        n = self.get_num_partitions(current_time, dynamic_partitions_store)
        return [self.key_at(i, current_time, dynamic_partitions_store) for i in range(n)]

    def iter_partition_keys(
        self,
        start: int = 0,
        stop: int | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> Iterator[str]:
        """The keys with index in ``[start, stop)``, lazily."""
        n = self.get_num_partitions(current_time, dynamic_partitions_store)
        for i in range(start, n if stop is None else min(stop, n)):
            yield self.key_at(i, current_time, dynamic_partitions_store)

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> bool:
        return self.index_of(partition_key, current_time, dynamic_partitions_store) is not None

    def get_first_partition_key(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str | None:
        if self.get_num_partitions(current_time, dynamic_partitions_store) == 0:
            return None
        return self.key_at(0, current_time, dynamic_partitions_store)

    def get_last_partition_key(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str | None:
        n = self.get_num_partitions(current_time, dynamic_partitions_store)
        if n == 0:
            return None
        return self.key_at(n - 1, current_time, dynamic_partitions_store)

    def get_partition_keys_in_range(
        self, partition_key_range: Any, dynamic_partitions_store: Any = None
    ) -> Sequence[str]:
        """The keys from ``range.start`` to ``range.end``, both included."""
        start, stop = self.index_range(
            partition_key_range, dynamic_partitions_store=dynamic_partitions_store
        )
        return list(
            self.iter_partition_keys(start, stop, dynamic_partitions_store=dynamic_partitions_store)
        )

    def index_range(
        self,
        partition_key_range: Any,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> tuple[int, int]:
        """``[start, stop)`` indices of an inclusive key range; a clear error for unknown ends or
        an end before the start."""
        start = self.require_index(
            partition_key_range.start, current_time, dynamic_partitions_store
        )
        end = self.require_index(partition_key_range.end, current_time, dynamic_partitions_store)
        if end < start:
            msg = (
                f"Partition key range {partition_key_range.start}...{partition_key_range.end} ends "
                f"before it starts in {self!r}. Swap the ends."
            )
            raise DefinitionError(msg)
        return start, end + 1

    def require_index(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> int:
        """The index of ``partition_key``; ``UnknownPartitionKeyError`` with a did-you-mean if absent."""
        index = self.index_of(partition_key, current_time, dynamic_partitions_store)
        if index is not None:
            return index
        raise UnknownPartitionKeyError(
            self._unknown_key_message(partition_key, current_time, dynamic_partitions_store)
        )

    def validate_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> None:
        self.require_index(partition_key, current_time, dynamic_partitions_store)

    def _unknown_key_message(
        self, partition_key: str, current_time: datetime | None, dynamic_partitions_store: Any
    ) -> str:
        n = self.get_num_partitions(current_time, dynamic_partitions_store)
        hint = ""
        if 0 < n <= 10_000:
            close = difflib.get_close_matches(
                str(partition_key),
                list(self.get_partition_keys(current_time, dynamic_partitions_store)),
                n=1,
            )
            hint = f" Did you mean {close[0]!r}?" if close else ""
        elif n:
            first = self.key_at(0, current_time, dynamic_partitions_store)
            last = self.key_at(n - 1, current_time, dynamic_partitions_store)
            hint = f" Keys run from {first!r} to {last!r}."
        return f"Partition key {partition_key!r} is not a partition of {self!r} ({n:,} partitions).{hint}"

    # -- subsets ---------------------------------------------------------------------------------------
    def empty_subset(self) -> Any:
        """A ``PartitionsSubset`` of this definition holding no key."""
        from weir._partitions.subset import PartitionsSubset

        return PartitionsSubset(self, 0)

    def subset_with_partition_keys(
        self, partition_keys: Sequence[str], dynamic_partitions_store: Any = None
    ) -> Any:
        """A ``PartitionsSubset`` holding ``partition_keys`` (every one must exist)."""
        return self.empty_subset().with_partition_keys(partition_keys, dynamic_partitions_store)

    def subset_with_all_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> Any:
        from weir._partitions.subset import PartitionsSubset

        n = self.get_num_partitions(current_time, dynamic_partitions_store)
        return PartitionsSubset(self, (1 << n) - 1)
