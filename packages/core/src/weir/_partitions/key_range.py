"""The values that name partitions: ``PartitionKeyRange`` and ``MultiPartitionKey``.

``PartitionKeyRange(start, end)`` is an inclusive range of partition keys.

A range is read in the order of its partitions definition: ``PartitionKeyRange("2024-01-01",
"2024-01-03")`` over a daily definition holds three keys. On a multi-partitions definition a
range is a box, as in Dagster: every key whose value in each dimension lies between the values of
``start`` and ``end`` in that dimension.

``MultiPartitionKey`` is a key of a multi-partitions definition: a ``str`` (the dimension values
joined with ``|`` in dimension-name order, as Dagster writes it) that also knows its parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from weir.errors import InvariantViolationError

__all__ = [
    "MULTIPARTITION_KEY_DELIMITER",
    "MultiPartitionKey",
    "PartitionDimensionKey",
    "PartitionKeyRange",
    "make_multi_partition_keys",
]


class PartitionKeyRange(NamedTuple):
    """The partition keys from ``start`` to ``end``, both included.

    Example::

        import weir as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01")
        days.get_partition_keys_in_range(dg.PartitionKeyRange("2024-01-01", "2024-01-03"))
        # ['2024-01-01', '2024-01-02', '2024-01-03']
    """

    start: str
    """The first key of the range."""
    end: str
    """The last key of the range (included)."""


MULTIPARTITION_KEY_DELIMITER = "|"
"""Joins the dimension values of a multi-partition key."""

_str_new = str.__new__


class PartitionDimensionKey(NamedTuple):
    """One dimension's part of a multi-partition key."""

    dimension_name: str
    partition_key: str


class MultiPartitionKey(str):
    """A partition key of a multi-partitions definition: a ``str`` that knows its dimensions.

    ``MultiPartitionKey({"region": "us", "date": "2024-01-01"})`` is the string
    ``"2024-01-01|us"`` (values in dimension-name order); ``.keys_by_dimension`` gives the parts
    back. It equals, and hashes like, that plain string.
    """

    _dimension_names: tuple[str, ...]
    _values: tuple[str, ...] | None = None  # None: split the string (values hold no "|")

    def __new__(cls, keys_by_dimension: Mapping[str, str]) -> MultiPartitionKey:
        if not isinstance(keys_by_dimension, Mapping):
            msg = (
                "MultiPartitionKey takes a mapping of dimension name to key, e.g. "
                f'MultiPartitionKey({{"date": "2024-01-01", "region": "us"}}); got '
                f"{type(keys_by_dimension).__name__} {keys_by_dimension!r}."
            )
            raise InvariantViolationError(msg)
        names = tuple(sorted(keys_by_dimension))
        values = tuple(keys_by_dimension[name] for name in names)
        for name, value in zip(names, values, strict=True):
            if not isinstance(name, str) or not isinstance(value, str):
                msg = (
                    f"MultiPartitionKey: dimension names and keys must be strings, got "
                    f"{name!r}: {value!r}."
                )
                raise InvariantViolationError(msg)
        return cls._from_values(names, values)

    @classmethod
    def _from_values(cls, names: tuple[str, ...], values: Sequence[str]) -> MultiPartitionKey:
        key: MultiPartitionKey = _str_new(cls, MULTIPARTITION_KEY_DELIMITER.join(values))
        key._dimension_names = names
        key._values = tuple(values)
        return key

    def _parts(self) -> tuple[str, ...]:
        values = self._values
        if values is None:
            return tuple(str.split(self, MULTIPARTITION_KEY_DELIMITER))
        return values

    @property
    def dimension_keys(self) -> list[PartitionDimensionKey]:
        """The (dimension name, key) pairs, in dimension-name order."""
        return [
            PartitionDimensionKey(name, value)
            for name, value in zip(self._dimension_names, self._parts(), strict=True)
        ]

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        """``{dimension name: key}``."""
        return dict(zip(self._dimension_names, self._parts(), strict=True))

    def __getnewargs__(self) -> tuple[dict[str, str]]:  # type: ignore[override]
        # Pickle (and copy) rebuild the key from its dimensions, not from the joined string.
        return (self.keys_by_dimension,)


def make_multi_partition_keys(
    joined: Iterable[str], names: tuple[str, ...]
) -> list[MultiPartitionKey]:
    """Wrap ``|``-joined strings (whose values hold no ``|``) as keys: the listing hot path."""
    out: list[MultiPartitionKey] = []
    append = out.append
    for text in joined:
        key: MultiPartitionKey = _str_new(MultiPartitionKey, text)
        key._dimension_names = names
        append(key)
    return out
