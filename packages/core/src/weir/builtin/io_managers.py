"""Built-in plugin: the core's IO managers (``filesystem`` and ``in_memory``)."""

from __future__ import annotations

from typing import Any

from weir.hookspecs import hookimpl

__all__ = ["weir_register_io_managers"]


@hookimpl
def weir_register_io_managers() -> list[type[Any]]:
    """Register ``FilesystemIOManager`` (``"filesystem"``) and ``InMemoryIOManager`` (``"in_memory"``)."""
    # Imported here, not at module level, so registering the plugin costs nothing.
    from weir._io.filesystem import FilesystemIOManager
    from weir._io.memory import InMemoryIOManager

    return [FilesystemIOManager, InMemoryIOManager]
