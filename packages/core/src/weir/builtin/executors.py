"""Built-in plugin: the core's executors (``in_process``, ``multiprocess``, ``multi_or_in_process``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.hookspecs import hookimpl

if TYPE_CHECKING:
    from weir._execution.executor_def import ExecutorDefinition

__all__ = ["weir_register_executors"]


@hookimpl
def weir_register_executors() -> list[ExecutorDefinition]:
    """Register ``in_process_executor``, ``multiprocess_executor`` and ``multi_or_in_process_executor``."""
    from weir._execution.executor_def import (
        in_process_executor,
        multi_or_in_process_executor,
        multiprocess_executor,
    )

    return [in_process_executor, multiprocess_executor, multi_or_in_process_executor]
