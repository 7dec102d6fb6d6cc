"""Requests to add or delete the keys of a dynamic partitions definition.

A sensor returns them in ``SensorResult(dynamic_partitions_requests=[...])``; the daemon applies
them to the instance before it launches the sensor's run requests. Build them with
``DynamicPartitionsDefinition.build_add_request`` / ``build_delete_request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from weir.errors import InvariantViolationError

__all__ = ["AddDynamicPartitionsRequest", "DeleteDynamicPartitionsRequest"]


def _checked(
    kind: str, partitions_def_name: object, partition_keys: object
) -> tuple[str, list[str]]:
    if not isinstance(partitions_def_name, str) or not partitions_def_name:
        msg = (
            f"{kind}: partitions_def_name must be the non-empty name of a "
            f"DynamicPartitionsDefinition, got {partitions_def_name!r}."
        )
        raise InvariantViolationError(msg)
    if isinstance(partition_keys, str) or not isinstance(partition_keys, Sequence):
        msg = (
            f"{kind}({partitions_def_name!r}, ...): partition_keys must be a list of strings, got "
            f"{type(partition_keys).__name__} {partition_keys!r}. Wrap a single key in a list."
        )
        raise InvariantViolationError(msg)
    keys = list(partition_keys)
    for position, key in enumerate(keys):
        if not isinstance(key, str):
            msg = (
                f"{kind}({partitions_def_name!r}, ...): partition key #{position} is "
                f"{type(key).__name__} {key!r}; partition keys are strings."
            )
            raise InvariantViolationError(msg)
    return partitions_def_name, keys


class _RequestFields(NamedTuple):
    partitions_def_name: str
    partition_keys: list[str]

    def __eq__(self, other: object) -> bool:
        # An add request never equals a delete request with the same fields.
        return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other


class AddDynamicPartitionsRequest(_RequestFields):
    """Add ``partition_keys`` to the dynamic partitions definition named ``partitions_def_name``.

    Keys already present are left as they are.

    Example::

        fruits = dg.DynamicPartitionsDefinition(name="fruits")
        request = fruits.build_add_request(["apple", "pear"])
        # AddDynamicPartitionsRequest(partitions_def_name='fruits', partition_keys=['apple', 'pear'])
    """

    __slots__ = ()

    def __new__(
        cls, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> AddDynamicPartitionsRequest:
        name, keys = _checked(cls.__name__, partitions_def_name, partition_keys)
        return super().__new__(cls, name, keys)


class DeleteDynamicPartitionsRequest(_RequestFields):
    """Delete ``partition_keys`` from the dynamic partitions definition named ``partitions_def_name``.

    Keys that are not present are ignored.
    """

    __slots__ = ()

    def __new__(
        cls, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> DeleteDynamicPartitionsRequest:
        name, keys = _checked(cls.__name__, partitions_def_name, partition_keys)
        return super().__new__(cls, name, keys)
