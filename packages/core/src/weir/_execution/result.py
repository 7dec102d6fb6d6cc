"""``ExecuteInProcessResult``: the outcome of an in-process run, its events and its output values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from weir._execution.events import DagsterEvent, StepFailureData
from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir.errors import DefinitionError, InvariantViolationError

if TYPE_CHECKING:
    from weir._execution.run import DagsterRun
    from weir._execution.run_execution import RunState

__all__ = ["ExecuteInProcessResult"]


class ExecuteInProcessResult:
    """What happened in a run: success, events, and the values the steps produced.

    Output values are loaded on demand through the IO managers that stored them.
    """

    def __init__(self, state: RunState, job_def: Any = None) -> None:
        self._state = state
        self._job_def = job_def

    # -- run ---------------------------------------------------------------------------------
    @property
    def success(self) -> bool:
        return self._state.run.is_success

    @property
    def run_id(self) -> str:
        return self._state.run.run_id

    @property
    def dagster_run(self) -> DagsterRun:
        return self._state.run

    @property
    def job_def(self) -> Any:
        return self._job_def

    # -- events ------------------------------------------------------------------------------
    @property
    def all_events(self) -> list[DagsterEvent]:
        return list(self._state.events)

    @property
    def all_node_events(self) -> list[DagsterEvent]:
        return [e for e in self._state.events if e.step_key is not None]

    def events_for_node(self, node_name: str) -> list[DagsterEvent]:
        return [
            e for e in self._state.events if e.step_key is not None and e.node_name == node_name
        ]

    def filter_events(self, event_filter: Callable[[DagsterEvent], bool]) -> list[DagsterEvent]:
        return [e for e in self._state.events if event_filter(e)]

    def _of_type(self, value: str) -> list[DagsterEvent]:
        return [e for e in self._state.events if e.event_type_value == value]

    def get_step_success_events(self) -> list[DagsterEvent]:
        return self._of_type("STEP_SUCCESS")

    def get_step_failure_events(self) -> list[DagsterEvent]:
        return self._of_type("STEP_FAILURE")

    def get_step_skipped_events(self) -> list[DagsterEvent]:
        return self._of_type("STEP_SKIPPED")

    def get_failed_step_keys(self) -> set[str]:
        return {e.step_key for e in self.get_step_failure_events() if e.step_key}

    def get_run_success_event(self) -> DagsterEvent:
        events = self._of_type("PIPELINE_SUCCESS")
        if not events:
            raise InvariantViolationError("The run did not succeed; it has no RUN_SUCCESS event.")
        return events[0]

    def get_run_failure_event(self) -> DagsterEvent:
        events = self._of_type("PIPELINE_FAILURE")
        if not events:
            raise InvariantViolationError("The run did not fail; it has no RUN_FAILURE event.")
        return events[0]

    def get_asset_materialization_events(self) -> list[DagsterEvent]:
        return self._of_type("ASSET_MATERIALIZATION")

    def get_asset_materialization_planned_events(self) -> list[DagsterEvent]:
        return self._of_type("ASSET_MATERIALIZATION_PLANNED")

    def get_asset_observation_events(self) -> list[DagsterEvent]:
        return self._of_type("ASSET_OBSERVATION")

    def get_asset_check_evaluations(self) -> list[Any]:
        return [e.event_specific_data for e in self._of_type("ASSET_CHECK_EVALUATION")]

    def asset_materializations_for_node(self, node_name: str) -> Sequence[Any]:
        return [
            e.event_specific_data.materialization
            for e in self.events_for_node(node_name)
            if e.event_type_value == "ASSET_MATERIALIZATION"
        ]

    def asset_observations_for_node(self, node_name: str) -> Sequence[Any]:
        return [
            e.event_specific_data.asset_observation
            for e in self.events_for_node(node_name)
            if e.event_type_value == "ASSET_OBSERVATION"
        ]

    def expectation_results_for_node(self, node_name: str) -> Sequence[Any]:
        return [
            e.event_specific_data
            for e in self.events_for_node(node_name)
            if e.event_type_value == "STEP_EXPECTATION_RESULT"
        ]

    def retry_attempts_for_node(self, node_name: str) -> int:
        return len(
            [e for e in self.events_for_node(node_name) if e.event_type_value == "STEP_RESTARTED"]
        )

    def failure_data_for_node(self, node_name: str) -> StepFailureData | None:
        for e in self.events_for_node(node_name):
            if e.event_type_value == "STEP_FAILURE":
                return e.event_specific_data  # type: ignore[no-any-return]
        return None

    def _node_events(self, node_name: str, value: str) -> bool:
        return any(e.event_type_value == value for e in self.events_for_node(node_name))

    def is_node_success(self, node_name: str) -> bool:
        return self._node_events(node_name, "STEP_SUCCESS")

    def is_node_failed(self, node_name: str) -> bool:
        return self._node_events(node_name, "STEP_FAILURE")

    def is_node_skipped(self, node_name: str) -> bool:
        return self._node_events(node_name, "STEP_SKIPPED")

    def is_node_untouched(self, node_name: str) -> bool:
        return not self.events_for_node(node_name)

    # -- values ------------------------------------------------------------------------------
    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        record = self._state.output_records.get((node_name, output_name))
        if record is None:
            produced = sorted({f"{s}.{o}" for s, o in self._state.output_records})
            msg = f"No output {output_name!r} of node {node_name!r} was produced in this run. Outputs produced: {produced}."
            raise DefinitionError(msg)
        if not record.stored:
            msg = f"Output {output_name!r} of node {node_name!r} has no stored value (a MaterializeResult or '-> None' asset)."
            raise DefinitionError(msg)
        return self._load(record)

    def output_value(self, output_name: str = "result") -> Any:
        for (_step, name), record in self._state.output_records.items():
            if name == output_name and record.stored:
                return self._load(record)
        msg = f"No output named {output_name!r} was produced in this run."
        raise DefinitionError(msg)

    def asset_value(self, asset_key: CoercibleToAssetKey) -> Any:
        key = (
            AssetKey.from_user_string(asset_key)
            if isinstance(asset_key, str)
            else AssetKey.from_coercible(asset_key)
        )
        for record in self._state.output_records.values():
            if record.asset_key == key:
                if not record.stored:
                    msg = f"Asset {key.to_user_string()!r} has no stored value (it returned a MaterializeResult or is '-> None')."
                    raise DefinitionError(msg)
                return self._load(record)
        produced = sorted(
            r.asset_key.to_user_string() for r in self._state.output_records.values() if r.asset_key
        )
        msg = f"Asset {key.to_user_string()!r} was not materialized in this run. Materialized: {produced}."
        raise DefinitionError(msg)

    def _load(self, record: Any) -> Any:
        from weir._io.contexts import InputContext

        manager = self._state.resources.get(record.io_manager_key)
        ctx = InputContext(
            name=record.context.name,
            job_name=self._state.job_name,
            upstream_output=record.context,
            asset_key=record.asset_key,
            resources=self._state.resources,
            instance=self._state.instance,
            partition_key=self._state.partition_key,
            dagster_type=record.context.dagster_type,
        )
        return manager.load_input(ctx)

    def __repr__(self) -> str:
        return f"ExecuteInProcessResult(run_id={self.run_id!r}, success={self.success})"
