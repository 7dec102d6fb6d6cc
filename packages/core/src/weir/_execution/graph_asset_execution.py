"""Running the ops of a graph-backed asset inside the asset's step.

The graph's ops run as steps ``<graph>.<op>`` (their events go into the run), fed by the asset's
loaded inputs; the values of the graph's outputs come back to the asset step, which stores and
materializes them like any asset output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._execution.op_execution import OpRunState, run_op_nodes
from weir._execution.op_graph import flatten_graph
from weir._execution.step_execution import StepFailed
from weir._model.results import Output
from weir.errors import ConfigError

if TYPE_CHECKING:
    from weir._execution.plan import Step
    from weir._execution.run_execution import RunState

__all__ = ["run_graph_for_step"]


def _node_config(graph_name: str, nodes: list[Any], step_config: Any) -> dict[str, Any]:
    """Config of each inner op, from ``ops.<graph>.ops.<op>.config`` (nested graphs nest further)."""
    from weir._config.validate import resolve_op_config

    raw_ops = (step_config or {}).get("ops", {}) if isinstance(step_config, dict) else {}
    result: dict[str, Any] = {}
    errors: list[str] = []
    for node in nodes:
        entry: Any = raw_ops
        inner = node.handle[len(graph_name) + 1 :].split(".")
        for i, part in enumerate(inner):
            entry = (entry or {}).get(part)
            if i < len(inner) - 1:
                entry = (entry or {}).get("ops")
        cfg = entry.get("config") if isinstance(entry, dict) else None
        path = f"root:ops:{graph_name}:ops:" + ":ops:".join(inner) + ":config"
        try:
            result[node.handle] = resolve_op_config(node.op_def, cfg, path=path)
        except ConfigError as exc:
            errors.extend(str(e) for e in (exc.errors or [str(exc)]))
    if errors:
        raise ConfigError(
            f"Error in config for graph {graph_name}: {len(errors)} error(s).", errors
        )
    return result


def run_graph_for_step(state: RunState, step: Step, inputs: dict[str, Any]) -> Any:
    """Run the graph behind ``step`` and return its outputs as the step's raw result."""
    graph = step.node_def.graph_def  # type: ignore[attr-defined]
    nodes, outputs = flatten_graph(graph, prefix=f"{step.key}.")
    raw_step_config = ((state.run.run_config.get("ops") or {}).get(step.key)) or {}
    try:
        node_config = _node_config(step.key, nodes, raw_step_config)
    except ConfigError as exc:
        raise StepFailed(exc, None, "FRAMEWORK") from exc
    op_state = OpRunState(
        run=state.run,
        job_name=state.job_name,
        instance=state.instance,
        resources=state.resources,
        node_config=node_config,
        run_config=state.run.run_config,
        input_values=inputs,
    )
    op_state.events = state.events  # inner op events belong to the run, in order
    op_state.hook_defs = frozenset()
    op_state.op_retry_policy = getattr(state, "op_retry_policy", None)
    failed, error = run_op_nodes(op_state, nodes, raise_on_error=True)
    if failed:
        err = error or RuntimeError(f"ops {failed} of graph {step.key!r} failed")
        raise StepFailed(err, err, "USER_CODE")
    values: list[Output[Any]] = []
    for name, (handle, output) in outputs.items():
        record = op_state.output_records.get((handle, output))
        if record is None:
            continue  # an optional output that was not produced
        values.append(Output(_load(op_state, record), name))
    return (v for v in values)  # a generator: the step handles each Output in turn


def _load(op_state: OpRunState, record: Any) -> Any:
    from weir._io.contexts import InputContext

    ctx = InputContext(
        name=record.context.name,
        job_name=op_state.job_name,
        upstream_output=record.context,
        resources=op_state.resources,
        instance=op_state.instance,
        dagster_type=record.context.dagster_type,
    )
    return op_state.resources.get(record.io_manager_key).load_input(ctx)
