"""Built-in plugin: the core's partition types (``static``, ``time_window``, ``dynamic``, ``multi``)."""

from __future__ import annotations

from typing import Any

from weir.hookspecs import hookimpl

__all__ = ["weir_register_partition_types"]


@hookimpl
def weir_register_partition_types() -> list[type[Any]]:
    """Register the static, time-window, dynamic and multi partitions definitions."""
    # Imported here, not at module level, so registering the plugin costs nothing.
    from weir._partitions.dynamic import DynamicPartitionsDefinition
    from weir._partitions.multi import MultiPartitionsDefinition
    from weir._partitions.static import StaticPartitionsDefinition
    from weir._partitions.time_window import TimeWindowPartitionsDefinition

    return [
        StaticPartitionsDefinition,
        TimeWindowPartitionsDefinition,
        DynamicPartitionsDefinition,
        MultiPartitionsDefinition,
    ]
