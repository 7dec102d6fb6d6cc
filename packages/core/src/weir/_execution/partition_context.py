"""The partition accessors of op and asset execution contexts (``context.partition_key`` ...).

The engine gives a context a :class:`StepPartitionsView`: the step's own partitions and a way to
find the upstream partitions of each input. Contexts built for tests (``build_asset_context
(partition_key=...)``) get a view over the key alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir.errors import InvariantViolationError

__all__ = ["PartitionAccessors", "StepPartitionsView"]


class StepPartitionsView:
    """What a context knows about partitions: the step's (``StepPartitions``) and the inputs'."""

    __slots__ = ("_inputs", "step")

    def __init__(self, step: Any, inputs: Callable[[str], Any] | None = None) -> None:
        self.step = step
        self._inputs = inputs

    def for_input(self, input_name: str) -> Any:
        if self._inputs is None:
            msg = f"No partition information for input {input_name!r} in this context."
            raise InvariantViolationError(msg)
        found = self._inputs(input_name)
        if found is None:
            msg = f"Input {input_name!r} does not read a partitioned asset."
            raise InvariantViolationError(msg)
        return found


def _range_of(keys: list[str]) -> Any:
    from weir._partitions.key_range import PartitionKeyRange

    return PartitionKeyRange(keys[0], keys[-1])


def _window_of(pdef: Any, first_key: str, last_key: str) -> Any:
    """The time window from the start of ``first_key``'s window to the end of ``last_key``'s."""
    window_for = getattr(pdef, "time_window_for_partition_key", None)
    if window_for is None:
        msg = "The asset is not partitioned by time: it has no partition time window."
        raise InvariantViolationError(msg)
    first = window_for(first_key)
    if first_key == last_key:
        return first
    return type(first)(first.start, window_for(last_key).end)


class PartitionAccessors:
    """Mixin: ``partition_key``, ``partition_keys``, ``partition_key_range``,
    ``partition_time_window`` and the ``asset_partition_*_for_input/output`` family."""

    __slots__ = ()

    _partition_key: str | None
    _partitions: StepPartitionsView | None

    def _step_partitions(self, what: str) -> Any:
        view = self._partitions
        step = view.step if view is not None else None
        if step is None or not step.is_partitioned:
            if self._partition_key is not None:
                return None  # a test-built context with a key only
            msg = f"Cannot access {what} for a non-partitioned run. Check context.has_partition_key first."
            raise InvariantViolationError(msg)
        return step

    @property
    def has_partition_key(self) -> bool:
        view = self._partitions
        if view is not None and view.step is not None and view.step.is_partitioned:
            return view.step.partition_key is not None
        return self._partition_key is not None

    @property
    def has_partition_key_range(self) -> bool:
        view = self._partitions
        return bool(view is not None and view.step is not None and view.step.is_partitioned)

    @property
    def partition_key(self) -> str:
        step = self._step_partitions("partition_key")
        if step is None:
            assert self._partition_key is not None
            return self._partition_key
        if step.partition_key is not None:
            from_str = getattr(step.partitions_def, "get_partition_key_from_str", None)
            if (
                from_str is not None
            ):  # a multi-partitioned asset: a MultiPartitionKey, as in Dagster
                return from_str(step.partition_key)  # type: ignore[no-any-return]
            return step.partition_key  # type: ignore[no-any-return]
        rng = step.key_range
        if rng.start == rng.end:
            return rng.start  # type: ignore[no-any-return]
        msg = (
            f"Cannot access partition_key: this run covers the partition range {rng.start}...{rng.end}. "
            "Use context.partition_key_range or context.partition_keys."
        )
        raise InvariantViolationError(msg)

    @property
    def partition_keys(self) -> list[str]:
        step = self._step_partitions("partition_keys")
        if step is None:
            return [self.partition_key]
        return list(step.keys)

    @property
    def partition_key_range(self) -> Any:
        step = self._step_partitions("partition_key_range")
        if step is None:
            return _range_of([self.partition_key])
        return step.key_range

    @property
    def partition_time_window(self) -> Any:
        step = self._step_partitions("partition_time_window")
        if step is None:
            msg = "Cannot access partition_time_window: the context has no partitions definition."
            raise InvariantViolationError(msg)
        rng = step.key_range  # the ends are enough: no need to list every key of a range
        return _window_of(step.partitions_def, rng.start, rng.end)

    # -- per output (the step's own assets) ------------------------------------------------------------
    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        return self.partition_key

    def asset_partition_keys_for_output(self, output_name: str = "result") -> list[str]:
        return self.partition_keys

    def asset_partition_key_range_for_output(self, output_name: str = "result") -> Any:
        return self.partition_key_range

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> Any:
        return self.partition_time_window

    def asset_partitions_def_for_output(self, output_name: str = "result") -> Any:
        step = self._step_partitions("asset_partitions_def_for_output")
        return step.partitions_def if step is not None else None

    # -- per input (upstream assets, through their partition mappings) ----------------------------------
    def _input(self, input_name: str) -> Any:
        view = self._partitions
        if view is None:
            msg = f"Cannot access the partitions of input {input_name!r}: this run is not partitioned."
            raise InvariantViolationError(msg)
        return view.for_input(input_name)

    def asset_partition_keys_for_input(self, input_name: str) -> list[str]:
        return list(self._input(input_name).keys)

    def asset_partition_key_for_input(self, input_name: str) -> str:
        keys = self.asset_partition_keys_for_input(input_name)
        if len(keys) != 1:
            msg = (
                f"Input {input_name!r} reads {len(keys)} partitions, not one. Use "
                "asset_partition_keys_for_input or asset_partition_key_range_for_input."
            )
            raise InvariantViolationError(msg)
        return keys[0]

    def asset_partition_key_range_for_input(self, input_name: str) -> Any:
        keys = self.asset_partition_keys_for_input(input_name)
        if not keys:
            msg = f"Input {input_name!r} reads no partition of its upstream asset."
            raise InvariantViolationError(msg)
        return _range_of(keys)

    def asset_partitions_time_window_for_input(self, input_name: str) -> Any:
        upstream = self._input(input_name)
        keys = upstream.keys
        if not keys:
            msg = f"Input {input_name!r} reads no partition of its upstream asset."
            raise InvariantViolationError(msg)
        return _window_of(upstream.partitions_def, keys[0], keys[-1])

    def asset_partitions_def_for_input(self, input_name: str) -> Any:
        return self._input(input_name).partitions_def
