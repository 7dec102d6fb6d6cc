"""Partition mappings: which upstream partitions a downstream partition depends on, and back.

A :class:`PartitionMapping` sits on an ``AssetIn(partition_mapping=...)`` or
``AssetDep(partition_mapping=...)`` and answers two questions, with Dagster's method names:

- ``get_upstream_mapped_partitions_result_for_partitions``: a subset of downstream partitions →
  the upstream partitions they read (an :class:`UpstreamPartitionsResult`, which also names the
  required upstream partitions that do not exist);
- ``get_downstream_partitions_for_partitions``: a subset of upstream partitions → the downstream
  partitions that read them.

Every answer is a :class:`~weir._partitions.subset.PartitionsSubset`, a bitmap over the target
definition's indices: the mappings here work on indices and index runs, so mapping 20 years of
hourly partitions builds no Python object per partition. This module holds the base class, the
key-to-key mappings (identity, all, last, static, specific) and :func:`infer_partition_mapping`;
time windows are in ``time_window_mapping`` and multi-dimension mappings in ``multi_mapping``.

Where weir differs from Dagster: nonexistent partitions cannot live in a bitmap of the definition
that lacks them, so ``required_but_nonexistent_subset`` is a :class:`NonexistentPartitionsSubset`
(a key list, built lazily, with the missing time windows when there are any).
"""

from __future__ import annotations

import abc
import logging
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from weir._partitions.definition import PartitionsDefinition
from weir._partitions.subset import PartitionsSubset, bits_from_indices
from weir.errors import DefinitionError, InvariantViolationError

if TYPE_CHECKING:
    from weir._partitions.time_window import TimeWindow

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

_RUN = re.compile("1+")
_SHOWN = 10  # keys listed in reprs and error messages


# -- helpers shared by the mapping modules ----------------------------------------------------------
def index_runs(bits: int) -> list[tuple[int, int]]:
    """The maximal ``[start, stop)`` runs of set bits of ``bits`` (found at C speed)."""
    if not bits:
        return []
    lowest = (bits & -bits).bit_length() - 1
    text = bin(bits >> lowest)[:1:-1]  # least significant bit first
    return [(m.start() + lowest, m.end() + lowest) for m in _RUN.finditer(text)]


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


def subset_bits(
    subset: Any,
    partitions_def: PartitionsDefinition | None,
    role: str,
    mapping: PartitionMapping,
) -> int:
    """The bitmap of ``subset``, checked to be a subset of ``partitions_def`` (named ``role``)."""
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
    return subset.bits


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


def _shown(keys: Sequence[str]) -> str:
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
        return f"NonexistentPartitionsSubset({_shown(self.get_partition_keys())})"


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
                f"definition: {_shown(extra)} (the {role} definition is {partitions_def!r}). Fix the "
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
