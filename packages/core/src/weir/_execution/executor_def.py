"""Executor definitions: how the steps of a run are executed (in process, in worker processes ...)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ExecutorDefinition", "in_process_executor", "multi_or_in_process_executor"]


class ExecutorDefinition:
    """A named way of executing a run's steps, with optional config.

    ``name`` is the registry name (``in_process``, ``multiprocess`` ...). ``executor_creation_fn``
    builds the executor from its resolved config; executors that are built into the engine
    (the in-process one) leave it ``None``.
    """

    def __init__(
        self,
        name: str,
        config_schema: Any = None,
        executor_creation_fn: Callable[[Mapping[str, Any]], Any] | None = None,
        description: str | None = None,
        default_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.config_schema = config_schema
        self.executor_creation_fn = executor_creation_fn
        self.description = description
        self.default_config = dict(default_config or {})

    @property
    def plugin_name(self) -> str:
        return self.name

    def configured(self, config: Mapping[str, Any], name: str | None = None) -> ExecutorDefinition:
        """A copy with ``config`` as its default config."""
        return ExecutorDefinition(
            name or self.name,
            self.config_schema,
            self.executor_creation_fn,
            self.description,
            {**self.default_config, **config},
        )

    def __repr__(self) -> str:
        return f"ExecutorDefinition({self.name!r})"


in_process_executor = ExecutorDefinition(
    "in_process", description="Runs every step one after another in the launching process."
)

# Dagster's default for Definitions. Until the multiprocess executor lands (issue 3) it runs in
# process; the name is kept so ported code that refers to it keeps working.
multi_or_in_process_executor = ExecutorDefinition(
    "multi_or_in_process",
    description="Multiprocess unless run config selects in_process (in process until the multiprocess executor lands).",
)
