"""``DynamicPartitionsDefinition``: partition keys added and deleted at run time.

The keys of a named definition live in the instance (``instance.add_dynamic_partitions(name,
keys)``; sensors return ``build_add_request`` / ``build_delete_request``), in the order they were
added, so every method that needs them takes ``dynamic_partitions_store`` -- the instance, e.g.
``context.instance``. The instance is the truth: nothing is cached between calls; one call lists
the keys at most once, and membership asks the store (``has_dynamic_partition``) without listing.

The legacy form, ``DynamicPartitionsDefinition(partition_fn)``, calls the function for the keys
(Dagster deprecated it; it still works here).
"""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from weir._partitions.definition import PartitionsDefinition, UnknownPartitionKeyError
from weir._partitions.requests import AddDynamicPartitionsRequest, DeleteDynamicPartitionsRequest
from weir._partitions.static import check_partition_key_substrings
from weir.errors import DefinitionError, InvariantViolationError

__all__ = ["DynamicPartitionsDefinition", "DynamicPartitionsStore"]

logger = logging.getLogger(__name__)


@runtime_checkable
class DynamicPartitionsStore(Protocol):
    """What a dynamic partitions definition reads its keys from (``weir.Instance`` is one)."""

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]: ...

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool: ...


class DynamicPartitionsDefinition(PartitionsDefinition):
    """A partitions definition whose keys are added and removed while the deployment runs.

    Args:
        partition_fn: Deprecated (as in Dagster): a function ``(current_time) -> keys`` giving
            the keys. Pass ``name`` instead.
        name: The name the instance keeps the keys under. Exactly one of ``partition_fn`` and
            ``name`` is required.

    Example::

        import weir as dg

        fruits = dg.DynamicPartitionsDefinition(name="fruits")

        @dg.sensor(job=fruit_job)
        def new_fruits(context):
            return dg.SensorResult(
                run_requests=[dg.RunRequest(partition_key="apple")],
                dynamic_partitions_requests=[fruits.build_add_request(["apple"])],
            )

        instance.add_dynamic_partitions("fruits", ["pear"])
        fruits.get_partition_keys(dynamic_partitions_store=instance)  # [..., 'pear']
    """

    plugin_name: ClassVar[str] = "dynamic"
    _bulk_listing_is_cheap: ClassVar[bool] = True  # one store call lists every key

    def __init__(
        self,
        partition_fn: Callable[[datetime | None], Sequence[Any]] | None = None,
        name: str | None = None,
    ) -> None:
        if partition_fn is None and name is None:
            msg = (
                "Must provide either partition_fn or name to DynamicPartitionsDefinition, e.g. "
                'DynamicPartitionsDefinition(name="fruits").'
            )
            raise DefinitionError(msg)
        if partition_fn is not None and name is not None:
            msg = "Cannot provide both partition_fn and name to DynamicPartitionsDefinition."
            raise DefinitionError(msg)
        if partition_fn is not None and not callable(partition_fn):
            msg = (
                f"DynamicPartitionsDefinition(partition_fn=...) must be a function, got "
                f"{type(partition_fn).__name__}. To name the definition use name=..."
            )
            raise DefinitionError(msg)
        if name is not None and (not isinstance(name, str) or not name):
            msg = f"DynamicPartitionsDefinition(name=...) must be a non-empty string, got {name!r}."
            raise DefinitionError(msg)
        if partition_fn is not None:
            warnings.warn(
                "DynamicPartitionsDefinition(partition_fn=...) is deprecated (as in Dagster 2.0): "
                "give the definition a name and add keys through the instance or a sensor's "
                "build_add_request().",
                DeprecationWarning,
                stacklevel=2,
            )
        self.partition_fn = partition_fn
        self.name = name

    # -- reading the keys ------------------------------------------------------------------------
    def _require_name(self, action: str) -> str:
        if self.name is None:
            msg = (
                f"Cannot {action}: this DynamicPartitionsDefinition was built from a partition_fn "
                "and has no name. Use DynamicPartitionsDefinition(name=...)."
            )
            raise InvariantViolationError(msg)
        return self.name

    def _store(self, dynamic_partitions_store: Any) -> Any:
        if dynamic_partitions_store is None:
            msg = (
                f"The keys of DynamicPartitionsDefinition(name={self.name!r}) live in the instance, "
                "but no instance was given. Pass dynamic_partitions_store=context.instance (or a "
                "weir.Instance) to this call."
            )
            raise InvariantViolationError(msg)
        if not isinstance(dynamic_partitions_store, DynamicPartitionsStore):
            msg = (
                f"dynamic_partitions_store must be an instance (a weir.Instance, or an object with "
                f"get_dynamic_partitions and has_dynamic_partition), got "
                f"{type(dynamic_partitions_store).__name__}."
            )
            raise InvariantViolationError(msg)
        return dynamic_partitions_store

    def _keys(self, current_time: datetime | None, dynamic_partitions_store: Any) -> list[str]:
        """Every key, read once from the function or the store."""
        if self.partition_fn is not None:
            produced = self.partition_fn(current_time)
            # Legacy partition functions may return Partition-like objects with a .name.
            return [item if isinstance(item, str) else item.name for item in produced]
        store = self._store(dynamic_partitions_store)
        return list(store.get_dynamic_partitions(self.name))

    # -- index primitives ------------------------------------------------------------------------
    def get_num_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int:
        """How many keys the store (or function) holds now."""
        return len(self._keys(current_time, dynamic_partitions_store))

    def key_at(
        self, index: int, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str:
        """The key at ``index`` in the order keys were added."""
        keys = self._keys(current_time, dynamic_partitions_store)
        try:
            return keys[index]
        except IndexError:
            msg = (
                f"Partition index {index} is out of range for {self!r} ({len(keys):,} partitions)."
            )
            raise IndexError(msg) from None

    def index_of(
        self, key: str, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int | None:
        """The position of ``key`` among the keys, or None (asks the store first, lists only on a hit)."""
        if not isinstance(key, str):
            return None
        if self.partition_fn is None and not self.has_partition_key(
            key, current_time, dynamic_partitions_store
        ):
            return None
        keys = self._keys(current_time, dynamic_partitions_store)
        try:
            return keys.index(key)
        except ValueError:  # deleted between the two calls
            return None

    def indices_of(
        self,
        keys: Iterable[str],
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> list[int | None]:
        """The position of each of ``keys`` (None when absent), with one listing of the store."""
        existing = self._keys(current_time, dynamic_partitions_store)
        get = dict(zip(existing, range(len(existing)), strict=True)).get
        return [get(key) if isinstance(key, str) else None for key in keys]

    # -- Dagster's API, one listing per call ------------------------------------------------------
    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """Every key, in the order it was added."""
        return self._keys(current_time, dynamic_partitions_store)

    def iter_partition_keys(
        self,
        start: int = 0,
        stop: int | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> Iterator[str]:
        """The keys with index in ``[start, stop)``."""
        return iter(self._keys(current_time, dynamic_partitions_store)[start:stop])

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> bool:
        """Whether ``partition_key`` exists; asks the store's ``has_dynamic_partition`` (no listing)."""
        if not isinstance(partition_key, str):
            return False
        if self.partition_fn is not None:
            return partition_key in self._keys(current_time, None)
        store = self._store(dynamic_partitions_store)
        return bool(store.has_dynamic_partition(self.name, partition_key))

    def index_range(
        self,
        partition_key_range: Any,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> tuple[int, int]:
        """``[start, stop)`` indices of an inclusive key range, from one listing."""
        return self._positions(
            partition_key_range, self._keys(current_time, dynamic_partitions_store)
        )

    def get_partition_keys_in_range(
        self, partition_key_range: Any, dynamic_partitions_store: Any = None
    ) -> list[str]:
        """The keys from ``range.start`` to ``range.end`` (both included), in the order added."""
        keys = self._keys(None, dynamic_partitions_store)
        start, stop = self._positions(partition_key_range, keys)
        return keys[start:stop]

    def _positions(self, partition_key_range: Any, keys: list[str]) -> tuple[int, int]:
        ends = []
        for key in (partition_key_range.start, partition_key_range.end):
            try:
                ends.append(keys.index(key))
            except ValueError:
                raise UnknownPartitionKeyError(self._message_for_unknown(key, keys)) from None
        if ends[1] < ends[0]:
            msg = (
                f"Partition key range {partition_key_range.start}...{partition_key_range.end} ends "
                f"before it starts in {self!r} (keys are in the order they were added). Swap the ends."
            )
            raise DefinitionError(msg)
        return ends[0], ends[1] + 1

    def _unknown_key_message(
        self, partition_key: str, current_time: datetime | None, dynamic_partitions_store: Any
    ) -> str:
        return self._message_for_unknown(
            partition_key, self._keys(current_time, dynamic_partitions_store)
        )

    def _message_for_unknown(self, partition_key: str, keys: list[str]) -> str:
        hint = ""
        if 0 < len(keys) <= 10_000:
            close = difflib.get_close_matches(str(partition_key), keys, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
        if not keys:
            hint = " It has no keys yet: add them with instance.add_dynamic_partitions() or a sensor's build_add_request()."
        elif not hint:
            hint = f" Keys run from {keys[0]!r} to {keys[-1]!r}."
        return (
            f"Partition key {partition_key!r} is not a partition of {self!r} "
            f"({len(keys):,} partitions).{hint}"
        )

    # -- sensor requests -------------------------------------------------------------------------
    def build_add_request(self, partition_keys: Sequence[str]) -> AddDynamicPartitionsRequest:
        """A request (for ``SensorResult.dynamic_partitions_requests``) adding ``partition_keys``."""
        request = AddDynamicPartitionsRequest(
            self._require_name("build an add request"), partition_keys
        )
        check_partition_key_substrings(
            request.partition_keys,
            f"build_add_request() of DynamicPartitionsDefinition {self.name!r}",
        )
        return request

    def build_delete_request(self, partition_keys: Sequence[str]) -> DeleteDynamicPartitionsRequest:
        """A request (for ``SensorResult.dynamic_partitions_requests``) deleting ``partition_keys``."""
        return DeleteDynamicPartitionsRequest(
            self._require_name("build a delete request"), partition_keys
        )

    # -- serialisation ---------------------------------------------------------------------------
    def to_serializable(self) -> dict[str, Any]:
        """``{"type": "dynamic", "name": name}`` (the keys stay in the instance)."""
        return {"type": self.plugin_name, "name": self._require_name("serialise the definition")}

    @classmethod
    def from_serializable(cls, data: dict[str, Any]) -> DynamicPartitionsDefinition:
        """The definition :meth:`to_serializable` described."""
        name = data.get("name")
        if not isinstance(name, str) or not name:
            msg = (
                "A serialised DynamicPartitionsDefinition needs 'name', a non-empty string; got "
                f"{name!r}. Was it written by to_serializable()?"
            )
            raise DefinitionError(msg)
        return cls(name=name)

    # -- identity --------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DynamicPartitionsDefinition)
            and self.name == other.name
            and self.partition_fn == other.partition_fn
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name, self.partition_fn))

    def __repr__(self) -> str:
        if self.name is not None:
            return f"{type(self).__name__}(name={self.name!r})"
        fn = getattr(self.partition_fn, "__qualname__", repr(self.partition_fn))
        return f"{type(self).__name__}(partition_fn={fn})"

    def __str__(self) -> str:
        if self.name is not None:
            return f'Dynamic partitions: "{self.name}"'
        return repr(self)
