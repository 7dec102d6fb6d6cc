"""``InMemoryIOManager``: keeps outputs in a dict, for tests and ``materialize_to_memory``.

Asset values are keyed by the asset key (and partition key), not by run, so a later run in the
same process -- with the same manager object -- can load an asset an earlier run stored. Op
outputs are keyed by ``(run_id, step_key, output name[, mapping key])``. Nothing survives the
process; ``mem_io_manager`` (the legacy definition) even starts empty in every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from weir._io.io_manager import IOManager, IOManagerDefinition
from weir.errors import WeirError

if TYPE_CHECKING:
    from weir._io.contexts import InputContext, OutputContext

__all__ = ["InMemoryIOManager", "MissingInMemoryValueError", "mem_io_manager"]


class MissingInMemoryValueError(WeirError, KeyError):
    """The in-memory IO manager holds no value for the requested asset or op output."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InMemoryIOManager(IOManager):
    """Stores every output in the ``values`` dict of this object.

    Keys: ``("asset", (path...), partition_key | None)`` for assets and
    ``("op", run_id, step_key, output_name, mapping_key | None)`` for op outputs.
    """

    plugin_name: ClassVar[str] = "in_memory"

    def __init__(self) -> None:
        self.values: dict[tuple[Any, ...], Any] = {}

    @staticmethod
    def _output_key(context: OutputContext) -> tuple[Any, ...]:
        key = context._asset_key
        if key is not None:
            partition = context.asset_partition_key if context.has_asset_partitions else None
            return ("asset", key.parts, partition)
        return ("op", context.run_id, context.step_key, context.name, context.mapping_key)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[self._output_key(context)] = obj

    def load_input(self, context: InputContext) -> Any:
        key = context._asset_key
        if key is not None:
            partition = context.asset_partition_key if context.has_asset_partitions else None
            slot: tuple[Any, ...] = ("asset", key.parts, partition)
        else:
            upstream = context.upstream_output
            if upstream is None:
                msg = (
                    f"The in-memory IO manager cannot load input {context._name!r}: it has neither an asset "
                    "key nor an upstream output. Connect the input to an upstream output or asset."
                )
                raise MissingInMemoryValueError(msg)
            slot = self._output_key(upstream)
        try:
            return self.values[slot]
        except KeyError:
            raise MissingInMemoryValueError(self._missing_message(slot)) from None

    def _missing_message(self, slot: tuple[Any, ...]) -> str:
        if slot[0] == "asset":
            name = "/".join(slot[1])
            part = f" (partition {slot[2]!r})" if slot[2] is not None else ""
            return (
                f"The in-memory IO manager holds no value for asset {name!r}{part}. It keeps values "
                f"only in this Python process and this IOManager object: materialize {name!r} first with "
                "the same InMemoryIOManager instance, or use a persistent IO manager such as "
                "FilesystemIOManager."
            )
        _kind, run_id, step_key, output, mapping_key = slot
        mapped = f" (mapping key {mapping_key!r})" if mapping_key else ""
        return (
            f"The in-memory IO manager holds no value for output {output!r} of step {step_key!r} in run "
            f"{run_id!r}{mapped}. Values of op outputs live only for the run that produced them."
        )

    def __repr__(self) -> str:
        return f"InMemoryIOManager({len(self.values)} values)"


def _make_mem_io_manager(_init_context: Any) -> InMemoryIOManager:
    return InMemoryIOManager()


mem_io_manager = IOManagerDefinition(
    _make_mem_io_manager,
    description="Stores outputs in memory; every run starts with an empty store.",
)
"""The legacy definition of the in-memory IO manager (a fresh ``InMemoryIOManager`` per run)."""
