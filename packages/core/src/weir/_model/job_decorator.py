"""``@job``: a graph of ops bound to resources, config, an executor and tags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir._model.graph_definition import GraphDefinition, graph

__all__ = ["job"]


def job(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config: Any = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    logger_defs: Mapping[str, Any] | None = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    partitions_def: Any = None,
    input_values: Mapping[str, Any] | None = None,
    owners: Any = None,
) -> Any:
    """Declare an op job: the body wires ops together, like ``@graph``.

    ``execute_in_process()`` stores outputs in memory unless an ``io_manager`` resource is given.
    """

    def inner(fn: Callable[..., Any]) -> Any:
        graph_def: GraphDefinition = graph(name=name or fn.__name__, description=description)(fn)
        return graph_def.to_job(
            name=name or fn.__name__,
            description=description,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            run_tags=run_tags,
            metadata=metadata,
            logger_defs=logger_defs,
            executor_def=executor_def,
            hooks=hooks,
            op_retry_policy=op_retry_policy,
            partitions_def=partitions_def,
            input_values=input_values,
            owners=owners,
        )

    if compose_fn is not None:
        return inner(compose_fn)
    return inner
