"""``StaticPartitionsDefinition``: a fixed list of partition keys, in the order given.

Built for scale: the definition keeps the list it is given (one copy) and builds its key → index
dict only on the first lookup, so a million keys are defined and listed in well under a second.
Keys are checked once: they must be strings, unique, and free of ``...`` (it separates the ends
of a range in the UI and CLI) and control characters, as in Dagster.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from weir._partitions.definition import PartitionsDefinition
from weir.errors import DefinitionError

__all__ = [
    "INVALID_PARTITION_SUBSTRINGS",
    "StaticPartitionsDefinition",
    "check_partition_key_substrings",
]

logger = logging.getLogger(__name__)

INVALID_PARTITION_SUBSTRINGS: tuple[str, ...] = (
    "...",
    "\a",
    "\b",
    "\f",
    "\n",
    "\r",
    "\t",
    "\v",
    "\0",
)
"""Substrings no partition key may contain: ``...`` separates range ends; the rest do not display."""

_JOIN = "\x1f"  # not an invalid substring, so joining keys with it creates no false hit
_REPR_KEYS = 10  # reprs list at most this many keys (error messages embed reprs)


def check_partition_key_substrings(keys: Sequence[str], where: str) -> None:
    """Raise ``DefinitionError`` if any key holds one of :data:`INVALID_PARTITION_SUBSTRINGS`.

    One pass over the joined keys per substring (C speed), so a million keys cost milliseconds;
    only a failing list is scanned key by key to name the culprit.
    """
    joined = _JOIN.join(keys)
    if not any(bad in joined for bad in INVALID_PARTITION_SUBSTRINGS):
        return
    for position, key in enumerate(keys):
        found = [bad for bad in INVALID_PARTITION_SUBSTRINGS if bad in key]
        if found:
            msg = (
                f"{found} are invalid substrings in a partition key: {key!r} (key #{position} of "
                f"{where}). Partition keys may not contain '...' (it separates the ends of a "
                "range) or control characters; rename the key."
            )
            raise DefinitionError(msg)


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed, ordered list of partition keys.

    Args:
        partition_keys: The keys, unique strings, in the order partitions are listed. (As in
            Dagster, a single string is read as a sequence of one-character keys.)

    Raises:
        DefinitionError: A key is not a string, is duplicated ("Partition keys must be unique.
            Duplicate instances of partition keys: [...]") or contains ``...`` or a control
            character.

    Example::

        import weir as dg

        oceans = dg.StaticPartitionsDefinition(["arctic", "atlantic", "indian", "pacific"])

        @dg.asset(partitions_def=oceans)
        def ocean_stats(context: dg.AssetExecutionContext) -> None:
            context.log.info(context.partition_key)
    """

    plugin_name: ClassVar[str] = "static"
    _bulk_listing_is_cheap: ClassVar[bool] = True  # read by PartitionsSubset: slice the list

    def __init__(self, partition_keys: Sequence[str]) -> None:
        if isinstance(partition_keys, (set, frozenset, dict)) or not isinstance(
            partition_keys, (Sequence, str)
        ):
            msg = (
                "StaticPartitionsDefinition(partition_keys=...) takes a list or tuple of strings, "
                f"got {type(partition_keys).__name__}. The order of the keys is the order of the "
                "partitions, so pass an ordered sequence (e.g. sorted(keys))."
            )
            raise DefinitionError(msg)
        keys = list(partition_keys)
        if set(map(type, keys)) - {str}:
            for position, key in enumerate(keys):
                if not isinstance(key, str):
                    msg = (
                        f"StaticPartitionsDefinition: partition key #{position} is "
                        f"{type(key).__name__} {key!r}; partition keys must be strings "
                        f"(e.g. str({key!r}))."
                    )
                    raise DefinitionError(msg)
        check_partition_key_substrings(keys, "StaticPartitionsDefinition")
        if len(set(keys)) != len(keys):
            duplicates = [key for key, count in Counter(keys).items() if count > 1]
            shown = duplicates[:20]
            more = f" and {len(duplicates) - 20:,} more" if len(duplicates) > 20 else ""
            msg = f"Partition keys must be unique. Duplicate instances of partition keys: {shown}{more}."
            raise DefinitionError(msg)
        self._keys: list[str] = keys
        self._index: dict[str, int] | None = None
        self._hash: int | None = None

    # -- index primitives ------------------------------------------------------------------------
    def get_num_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int:
        """The number of keys."""
        return len(self._keys)

    def key_at(
        self, index: int, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str:
        """The key at ``index`` (negative counts from the end)."""
        try:
            return self._keys[index]
        except IndexError:
            msg = f"Partition index {index} is out of range for {self!r} ({len(self._keys):,} partitions)."
            raise IndexError(msg) from None

    def index_of(
        self, key: str, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int | None:
        """The position of ``key``, or None. The first call builds the key → index dict."""
        if not isinstance(key, str):
            return None
        return self._index_dict().get(key)

    def indices_of(
        self,
        keys: Iterable[str],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[int | None]:
        """The position of each of ``keys`` (None for a key that is not a partition), in bulk."""
        get = self._index_dict().get
        return [get(key) if isinstance(key, str) else None for key in keys]

    def _index_dict(self) -> dict[str, int]:
        index = self._index
        if index is None:
            index = self._index = dict(zip(self._keys, range(len(self._keys)), strict=True))
        return index

    # -- Dagster's API -------------------------------------------------------------------------
    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """Every key, in order (a new list each call)."""
        return list(self._keys)

    def iter_partition_keys(
        self,
        start: int = 0,
        stop: int | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> Iterator[str]:
        """The keys with index in ``[start, stop)``."""
        return iter(self._keys[start:stop])

    def get_partition_keys_in_range(
        self, partition_key_range: Any, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """The keys from ``partition_key_range.start`` to ``.end``, both included."""
        start, stop = self.index_range(partition_key_range)
        return self._keys[start:stop]

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> bool:
        """Whether ``partition_key`` is one of the keys."""
        return self.index_of(partition_key) is not None

    # -- serialisation -------------------------------------------------------------------------
    def to_serializable(self) -> dict[str, Any]:
        """``{"type": "static", "partition_keys": [...]}``."""
        return {"type": self.plugin_name, "partition_keys": list(self._keys)}

    @classmethod
    def from_serializable(cls, data: dict[str, Any]) -> StaticPartitionsDefinition:
        """The definition :meth:`to_serializable` described."""
        keys = data.get("partition_keys")
        if not isinstance(keys, list):
            msg = (
                "A serialised StaticPartitionsDefinition needs 'partition_keys', a list of strings; "
                f"got {type(keys).__name__}. Was it written by to_serializable()?"
            )
            raise DefinitionError(msg)
        return cls(keys)

    # -- identity --------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, StaticPartitionsDefinition) and self._keys == other._keys

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((type(self).__name__, tuple(self._keys)))
        return self._hash

    def __repr__(self) -> str:
        keys = self._keys
        if len(keys) <= _REPR_KEYS:
            return f"{type(self).__name__}(partition_keys={keys})"
        head = ", ".join(repr(k) for k in keys[:3])
        return (
            f"{type(self).__name__}(partition_keys=[{head}, ..., {keys[-1]!r}] "
            f"({len(keys):,} keys))"
        )
