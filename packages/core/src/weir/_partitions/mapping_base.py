"""The contract every partition mapping implements, its result types, and shared helpers.

A :class:`PartitionMapping` sits on an ``AssetIn(partition_mapping=...)`` or
``AssetDep(partition_mapping=...)`` and answers two questions, with Dagster's method names:

- ``get_upstream_mapped_partitions_result_for_partitions``: a subset of downstream partitions →
  the upstream partitions they read (an :class:`UpstreamPartitionsResult`, which also names the
  required upstream partitions that do not exist);
- ``get_downstream_partitions_for_partitions``: a subset of upstream partitions → the downstream
  partitions that read them.

Every answer is a :class:`~weir._partitions.subset.PartitionsSubset`, a bitmap over the target
definition's indices. The helpers here (checking a subset against a definition, building result
subsets, bitmaps from index runs, bulk key look-ups) are shared by the concrete mappings in
``mapping``, ``time_window_mapping`` and ``multi_mapping``.

Where weir differs from Dagster: nonexistent partitions cannot live in a bitmap of the definition
that lacks them, so ``required_but_nonexistent_subset`` is a :class:`NonexistentPartitionsSubset`
(a key list, built lazily, with the missing time windows when there are any).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from weir._partitions.definition import PartitionsDefinition
from weir._partitions.subset import PartitionsSubset
from weir.errors import DefinitionError, InvariantViolationError

if TYPE_CHECKING:
    from weir._partitions.time_window import TimeWindow

__all__ = [
    "NonexistentPartitionsSubset",
    "NonexistentUpstreamPartitionsError",
    "PartitionMapping",
    "UpstreamPartitionsResult",
    "all_bits",
    "bits_from_runs",
    "checked_subset",
    "indices_of",
    "make_subset",
    "same_definition",
    "shown_keys",
    "subset_bits",
]

logger = logging.getLogger(__name__)

_SHOWN = 10  # keys listed in reprs and error messages


# -- helpers shared by the mapping modules ----------------------------------------------------------
def bits_from_runs(runs: Iterable[tuple[int, int]]) -> int:
    """The bitmap with every index of the ``[start, stop)`` runs set (overlaps allowed).

    Few runs are OR-ed in as masks; many go through one string, so the cost stays linear in the
    highest index instead of runs x width.
    """
    ordered = sorted((start, stop) for start, stop in runs if stop > start)
    if not ordered:
        return 0
    if len(ordered) <= 32:
        bits = 0
        for start, stop in ordered:
            bits |= ((1 << (stop - start)) - 1) << start
        return bits
    pieces: list[str] = []
    position = 0
    for start, stop in ordered:
        if stop <= position:
            continue
        start = max(start, position)
        pieces.append("0" * (start - position))
        pieces.append("1" * (stop - start))
        position = stop
    return int("".join(pieces)[::-1], 2)


def indices_of(
    partitions_def: PartitionsDefinition,
    keys: Sequence[str],
    current_time: datetime | None,
    dynamic_partitions_store: Any,
) -> list[int | None]:
    """The index of each key in ``partitions_def`` (None when absent), in bulk when the
    definition can (one instance query for dynamic partitions)."""
    bulk = getattr(partitions_def, "indices_of", None)
    if bulk is not None:
        return list(bulk(keys, current_time, dynamic_partitions_store))
    return [partitions_def.index_of(key, current_time, dynamic_partitions_store) for key in keys]


def same_definition(a: PartitionsDefinition | None, b: PartitionsDefinition | None) -> bool:
    """Whether two definitions index their partitions identically."""
    return a is b or (a is not None and b is not None and a == b)


def checked_subset(
    subset: Any,
    partitions_def: PartitionsDefinition | None,
    role: str,
    mapping: PartitionMapping,
) -> PartitionsSubset:
    """``subset``, checked to be a subset of ``partitions_def`` (named ``role`` in errors)."""
    name = type(mapping).__name__
    if partitions_def is None:
        msg = (
            f"{name} needs a partitioned {role} asset, but the {role} partitions definition is "
            f"None. Give the {role} asset a partitions_def, or use AllPartitionMapping() / "
            "LastPartitionMapping() for an unpartitioned side."
        )
        raise DefinitionError(msg)
    if subset is None:
        msg = (
            f"{name}: the {role} asset is partitioned by {partitions_def!r} but no {role} "
            f"partitions subset was given. Pass {role}_partitions_def.empty_subset() (or a subset "
            "of it), not None."
        )
        raise DefinitionError(msg)
    if not isinstance(subset, PartitionsSubset):
        msg = (
            f"{name}: the {role} partitions must be a PartitionsSubset (e.g. "
            f"{role}_partitions_def.subset_with_partition_keys([...])), got "
            f"{type(subset).__name__}."
        )
        raise DefinitionError(msg)
    if not same_definition(subset.partitions_def, partitions_def):
        msg = (
            f"{name}: the {role} subset belongs to {subset.partitions_def!r}, not to the {role} "
            f"partitions definition {partitions_def!r}. Build the subset from the {role} "
            "definition."
        )
        raise DefinitionError(msg)
    return subset


def subset_bits(
    subset: Any,
    partitions_def: PartitionsDefinition | None,
    role: str,
    mapping: PartitionMapping,
) -> int:
    """The bitmap of ``subset``, checked to be a subset of ``partitions_def`` (named ``role``)."""
    return checked_subset(subset, partitions_def, role, mapping).bits


def all_bits(
    partitions_def: PartitionsDefinition | None,
    current_time: datetime | None,
    dynamic_partitions_store: Any,
) -> int:
    """The bitmap of every partition of ``partitions_def``."""
    if partitions_def is None:
        msg = (
            "A partition mapping was asked for the partitions of an unpartitioned asset "
            "(partitions definition None); map only between partitioned assets."
        )
        raise DefinitionError(msg)
    return (1 << partitions_def.get_num_partitions(current_time, dynamic_partitions_store)) - 1


def make_subset(
    partitions_def: PartitionsDefinition, bits: int, dynamic_partitions_store: Any
) -> PartitionsSubset:
    """A subset of ``partitions_def`` that remembers the store (dynamic keys list without it)."""
    return PartitionsSubset(partitions_def, bits, dynamic_partitions_store=dynamic_partitions_store)


def shown_keys(keys: Sequence[str]) -> str:
    """The first few ``keys`` and how many more, for reprs and error messages."""
    more = f" and {len(keys) - _SHOWN:,} more" if len(keys) > _SHOWN else ""
    return f"{list(keys[:_SHOWN])}{more}"


# -- results ------------------------------------------------------------------------------------------
class NonexistentPartitionsSubset:
    """Partition keys a mapping required that the target definition does not have.

    They cannot be bits of that definition, so they are kept as keys (listed lazily when they
    come from time windows) together with the missing ``time_windows``, if any. It answers the
    read-only part of the subset API: ``get_partition_keys()``, ``is_empty``, ``len``, ``in``,
    iteration.
    """

    __slots__ = ("_given", "_key_fn", "_keys", "time_windows")

    def __init__(
        self,
        partition_keys: Iterable[str] = (),
        *,
        time_windows: Sequence[TimeWindow] = (),
        key_fn: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self._given = tuple(partition_keys)
        self._key_fn = key_fn
        self._keys: tuple[str, ...] | None = None if key_fn else tuple(dict.fromkeys(self._given))
        self.time_windows: tuple[TimeWindow, ...] = tuple(time_windows)

    def get_partition_keys(self, *_: Any, **__: Any) -> list[str]:
        """The missing keys, in the order they were found."""
        if self._keys is None:
            extra = self._key_fn() if self._key_fn is not None else ()
            self._keys = tuple(dict.fromkeys([*self._given, *extra]))
        return list(self._keys)

    @property
    def is_empty(self) -> bool:
        """Whether nothing is missing."""
        if self._keys is not None:
            return not self._keys
        if self._given or self.time_windows:
            return False
        return not self.get_partition_keys()

    def __len__(self) -> int:
        return len(self.get_partition_keys())

    def __bool__(self) -> bool:
        return not self.is_empty

    def __iter__(self) -> Iterator[str]:
        return iter(self.get_partition_keys())

    def __contains__(self, partition_key: object) -> bool:
        return partition_key in self.get_partition_keys()

    def __or__(self, other: NonexistentPartitionsSubset) -> NonexistentPartitionsSubset:
        if not isinstance(other, NonexistentPartitionsSubset):
            return NotImplemented
        if other.is_empty:
            return self
        if self.is_empty:
            return other
        return NonexistentPartitionsSubset(
            [*self.get_partition_keys(), *other.get_partition_keys()],
            time_windows=[*self.time_windows, *other.time_windows],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NonexistentPartitionsSubset):
            return NotImplemented
        return set(self.get_partition_keys()) == set(other.get_partition_keys())

    def __hash__(self) -> int:
        return hash(frozenset(self.get_partition_keys()))

    def __repr__(self) -> str:
        if self.time_windows:
            windows = ", ".join(
                f"{w.start.isoformat()}..{w.end.isoformat()}" for w in self.time_windows[:3]
            )
            more = f" and {len(self.time_windows) - 3} more" if len(self.time_windows) > 3 else ""
            return f"NonexistentPartitionsSubset(time windows [{windows}{more}])"
        return f"NonexistentPartitionsSubset({shown_keys(self.get_partition_keys())})"


_NOTHING_MISSING = NonexistentPartitionsSubset()


class UpstreamPartitionsResult:
    """The upstream partitions a set of downstream partitions maps to.

    Attributes:
        partitions_subset: The upstream partitions that exist and are required (a bitmap subset
            of the upstream definition).
        required_but_nonexistent_subset: Required upstream partitions that the upstream
            definition does not have. Callers fail on these (as Dagster's do), e.g. an
            ``IdentityPartitionMapping`` between static definitions with different keys.
        allowed_nonexistent_subset: Required upstream partitions that do not exist and were
            dropped because the mapping allows it
            (``TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)``); reported
            for information, never a reason to fail. (weir only; Dagster drops them silently.)
    """

    __slots__ = (
        "allowed_nonexistent_subset",
        "partitions_subset",
        "required_but_nonexistent_subset",
    )

    def __init__(
        self,
        partitions_subset: PartitionsSubset,
        required_but_nonexistent_subset: NonexistentPartitionsSubset | None = None,
        *,
        required_but_nonexistent_partition_keys: Sequence[str] | None = None,
        allowed_nonexistent_subset: NonexistentPartitionsSubset | None = None,
    ) -> None:
        missing = required_but_nonexistent_subset
        if missing is None or isinstance(missing, PartitionsSubset):
            # An empty PartitionsSubset (as Dagster code passes) means nothing is missing.
            if isinstance(missing, PartitionsSubset) and not missing.is_empty:
                missing = NonexistentPartitionsSubset(missing.get_partition_keys())
            else:
                missing = NonexistentPartitionsSubset(required_but_nonexistent_partition_keys or ())
        self.partitions_subset = partitions_subset
        self.required_but_nonexistent_subset: NonexistentPartitionsSubset = missing
        self.allowed_nonexistent_subset: NonexistentPartitionsSubset = (
            allowed_nonexistent_subset
            if allowed_nonexistent_subset is not None
            else _NOTHING_MISSING
        )

    @property
    def required_but_nonexistent_partition_keys(self) -> list[str]:
        """The keys of :attr:`required_but_nonexistent_subset` (Dagster's older field)."""
        return self.required_but_nonexistent_subset.get_partition_keys()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UpstreamPartitionsResult):
            return NotImplemented
        return (
            self.partitions_subset == other.partitions_subset
            and self.required_but_nonexistent_subset == other.required_but_nonexistent_subset
        )

    def __hash__(self) -> int:
        return hash((self.partitions_subset, self.required_but_nonexistent_subset))

    def __repr__(self) -> str:
        return (
            f"UpstreamPartitionsResult(partitions_subset={self.partitions_subset!r}, "
            f"required_but_nonexistent_subset={self.required_but_nonexistent_subset!r})"
        )


class NonexistentUpstreamPartitionsError(InvariantViolationError):
    """Downstream partitions map to upstream partitions that do not exist.

    Attributes:
        result: The :class:`UpstreamPartitionsResult` computed anyway (existing partitions in
            ``partitions_subset``, the missing ones in ``required_but_nonexistent_subset``).
        downstream_partition_keys: Downstream keys whose upstream partitions are missing.
    """

    def __init__(
        self,
        message: str,
        *,
        result: UpstreamPartitionsResult,
        downstream_partition_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.result = result
        self.downstream_partition_keys = list(downstream_partition_keys)


# -- the base class -------------------------------------------------------------------------------------
class PartitionMapping(abc.ABC):
    """How the partitions of an asset depend on the partitions of an upstream asset.

    Subclasses implement the two Dagster-named methods. The built-in mappings are immutable
    values (equal when their parameters are equal), so two ``AssetIn`` objects with equal mappings
    compare equal.
    """

    @abc.abstractmethod
    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        """The upstream partitions that ``downstream_partitions_subset`` depends on.

        Existing ones are in ``partitions_subset``; required ones the upstream definition does not
        have are in ``required_but_nonexistent_subset``.
        """

    @abc.abstractmethod
    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        """The downstream partitions that depend on ``upstream_partitions_subset`` (only
        partitions that exist in ``downstream_partitions_def``)."""

    def validate_partition_mapping(  # noqa: B027 -- optional hook, not abstract (Dagster's is)
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Raise ``DefinitionError`` if this mapping cannot relate the two definitions (checked
        when definitions are built, before any run). The default accepts any pair."""

    @property
    def description(self) -> str:
        """A one-line, human-readable description (shown in UIs and error messages)."""
        return type(self).__name__

    # -- value semantics for the built-in mappings ---------------------------------------------
    def _fields(self) -> tuple[Any, ...] | None:
        """The parameters that make two mappings equal; None (the default) compares by identity."""
        return None

    def __eq__(self, other: object) -> bool:
        fields = self._fields()
        if fields is None or not isinstance(other, PartitionMapping):
            return self is other
        return type(self) is type(other) and fields == other._fields()

    def __hash__(self) -> int:
        fields = self._fields()
        if fields is None:
            return id(self) >> 4
        return hash((type(self).__name__, fields))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
