"""Re-executing some ops of an op job: the other ops' outputs come from the runs that made them.

The parent run's ``STEP_OUTPUT`` events say which outputs it produced (and the mapping keys of
dynamic and mapped outputs). An op the parent did not run itself was loaded from *its* parent, so
the search walks up the chain of parent runs; the first run that produced an output is the one its
IO manager stored it under (``<storage>/<run_id>/<step_key>/<output>`` for the filesystem one).
"""

from __future__ import annotations

from collections.abc import Iterable

from weir._execution.op_execution import OpRunState, op_output_record
from weir._execution.op_graph import OpNode
from weir.errors import InvariantViolationError

__all__ = ["load_parent_outputs"]


def _run_chain(state: OpRunState, parent_run_id: str) -> list[str]:
    chain: list[str] = []
    run_id: str | None = parent_run_id
    while run_id is not None and run_id not in chain:
        run = state.instance.get_run_by_id(run_id)
        if run is None:
            if not chain:
                msg = f"Cannot re-execute run {run_id!r}: this instance has no such run."
                raise InvariantViolationError(msg)
            break  # an ancestor was deleted: what it produced cannot be found
        chain.append(run_id)
        run_id = run.parent_run_id
    return chain


def load_parent_outputs(
    state: OpRunState, all_nodes: Iterable[OpNode], selected: set[str], parent_run_id: str
) -> None:
    """Make the outputs of the ops outside ``selected`` loadable in ``state`` from earlier runs."""
    nodes = {n.handle: n for n in all_nodes}
    seen: set[tuple[str, str, str | None]] = set()
    for run_id in _run_chain(state, parent_run_id):
        for entry in state.instance.all_logs(run_id, of_type="STEP_OUTPUT"):
            data = entry.dagster_event.step_output_data
            step_key, output, dynamic_key = data.step_key, data.output_name, data.mapping_key
            handle, _, rest = step_key.partition("[")
            step_mapping_key = rest[:-1] if rest else None
            node = nodes.get(handle)
            if node is None or handle in selected or (step_key, output, dynamic_key) in seen:
                continue
            seen.add((step_key, output, dynamic_key))
            key = dynamic_key if dynamic_key is not None else step_mapping_key
            if key is not None:
                keys = state.mapping_keys.setdefault((handle, output), [])
                if key not in keys:
                    keys.append(key)
            record_key, record = op_output_record(
                state, node, output, step_mapping_key, dynamic_key, run_id
            )
            state.output_records[record_key] = record
            state.emitted.setdefault(step_key, set()).add(output)
            if step_mapping_key is not None:
                state.emitted.setdefault(handle, set()).add(output)
