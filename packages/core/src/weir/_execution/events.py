"""Run events: ``DagsterEventType`` and ``DagsterEvent``, plus their event-specific payloads."""

from __future__ import annotations

import enum
import os
import traceback
from collections.abc import Sequence
from typing import Any

__all__ = [
    "AssetCheckEvaluationPlanned",
    "AssetMaterializationPlannedData",
    "DagsterEvent",
    "DagsterEventType",
    "HandledOutputData",
    "LoadedInputData",
    "SerializableErrorInfo",
    "StepFailureData",
    "StepMaterializationData",
    "StepOutputData",
    "TypeCheckData",
]


class DagsterEventType(enum.Enum):
    """Every kind of event a run emits. Run-lifecycle values keep Dagster's ``PIPELINE_`` prefix."""

    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_INPUT = "STEP_INPUT"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_WORKER_STARTING = "STEP_WORKER_STARTING"
    STEP_WORKER_STARTED = "STEP_WORKER_STARTED"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_RESTARTED = "STEP_RESTARTED"
    STEP_EXPECTATION_RESULT = "STEP_EXPECTATION_RESULT"

    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    ASSET_FAILED_TO_MATERIALIZE = "ASSET_FAILED_TO_MATERIALIZE"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    ASSET_WIPED = "ASSET_WIPED"
    ASSET_HEALTH_CHANGED = "ASSET_HEALTH_CHANGED"
    ASSET_CHECK_EVALUATION_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"

    RUN_ENQUEUED = "PIPELINE_ENQUEUED"
    RUN_DEQUEUED = "PIPELINE_DEQUEUED"
    RUN_STARTING = "PIPELINE_STARTING"
    RUN_START = "PIPELINE_START"
    RUN_SUCCESS = "PIPELINE_SUCCESS"
    RUN_FAILURE = "PIPELINE_FAILURE"
    RUN_CANCELING = "PIPELINE_CANCELING"
    RUN_CANCELED = "PIPELINE_CANCELED"
    RUN_SUSPENDED = "PIPELINE_SUSPENDED"
    RUN_RESUMED = "PIPELINE_RESUMED"
    # legacy names (aliases of the RUN_* members)
    PIPELINE_ENQUEUED = "PIPELINE_ENQUEUED"
    PIPELINE_DEQUEUED = "PIPELINE_DEQUEUED"
    PIPELINE_STARTING = "PIPELINE_STARTING"
    PIPELINE_START = "PIPELINE_START"
    PIPELINE_SUCCESS = "PIPELINE_SUCCESS"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"
    PIPELINE_CANCELING = "PIPELINE_CANCELING"
    PIPELINE_CANCELED = "PIPELINE_CANCELED"

    OBJECT_STORE_OPERATION = "OBJECT_STORE_OPERATION"
    ASSET_STORE_OPERATION = "ASSET_STORE_OPERATION"
    LOADED_INPUT = "LOADED_INPUT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    ENGINE_EVENT = "ENGINE_EVENT"
    HOOK_COMPLETED = "HOOK_COMPLETED"
    HOOK_ERRORED = "HOOK_ERRORED"
    HOOK_SKIPPED = "HOOK_SKIPPED"
    ALERT_START = "ALERT_START"
    ALERT_SUCCESS = "ALERT_SUCCESS"
    ALERT_FAILURE = "ALERT_FAILURE"
    LOGS_CAPTURED = "LOGS_CAPTURED"
    FRESHNESS_STATE_EVALUATION = "FRESHNESS_STATE_EVALUATION"
    FRESHNESS_STATE_CHANGE = "FRESHNESS_STATE_CHANGE"
    CODE_LOCATION_UPDATED = "CODE_LOCATION_UPDATED"


_T = DagsterEventType
STEP_EVENTS = frozenset(
    {
        _T.STEP_INPUT,
        _T.STEP_START,
        _T.STEP_OUTPUT,
        _T.STEP_FAILURE,
        _T.STEP_SUCCESS,
        _T.STEP_SKIPPED,
        _T.ASSET_MATERIALIZATION,
        _T.ASSET_OBSERVATION,
        _T.STEP_EXPECTATION_RESULT,
        _T.ASSET_CHECK_EVALUATION,
        _T.LOADED_INPUT,
        _T.HANDLED_OUTPUT,
        _T.STEP_UP_FOR_RETRY,
        _T.STEP_RESTARTED,
    }
)
FAILURE_EVENTS = frozenset({_T.RUN_FAILURE, _T.STEP_FAILURE, _T.RUN_CANCELED})


class SerializableErrorInfo:
    """An exception captured as data: message, stack lines, class name and cause."""

    __slots__ = ("cause", "cls_name", "context", "message", "stack")

    def __init__(
        self,
        message: str,
        stack: Sequence[str],
        cls_name: str | None,
        cause: SerializableErrorInfo | None = None,
        context: SerializableErrorInfo | None = None,
    ) -> None:
        self.message = message
        self.stack = list(stack)
        self.cls_name = cls_name
        self.cause = cause
        self.context = context

    @staticmethod
    def from_exception(exc: BaseException) -> SerializableErrorInfo:
        cause = (
            SerializableErrorInfo.from_exception(exc.__cause__)
            if exc.__cause__ is not None
            else None
        )
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        stack = traceback.format_tb(exc.__traceback__) if exc.__traceback__ is not None else []
        return SerializableErrorInfo(message, stack, type(exc).__name__, cause)

    def to_string(self) -> str:
        text = self.message + "\n" + "".join(self.stack)
        if self.cause is not None:
            text += (
                "\nThe above exception was caused by the following exception:\n"
                + self.cause.to_string()
            )
        return text

    def __repr__(self) -> str:
        return f"SerializableErrorInfo({self.cls_name}: {self.message!r})"


class StepFailureData:
    __slots__ = ("error", "error_source", "user_failure_data")

    def __init__(
        self,
        error: SerializableErrorInfo | None,
        user_failure_data: Any = None,
        error_source: str | None = None,
    ) -> None:
        self.error = error
        self.user_failure_data = user_failure_data
        self.error_source = error_source


class TypeCheckData:
    __slots__ = ("description", "label", "metadata", "success")

    def __init__(
        self, success: bool, label: str, description: str | None = None, metadata: Any = None
    ) -> None:
        self.success = success
        self.label = label
        self.description = description
        self.metadata = metadata or {}


class StepOutputData:
    __slots__ = ("mapping_key", "output_name", "step_key", "type_check_data")

    def __init__(
        self,
        step_key: str,
        output_name: str,
        mapping_key: str | None = None,
        type_check_data: TypeCheckData | None = None,
    ) -> None:
        self.step_key = step_key
        self.output_name = output_name
        self.mapping_key = mapping_key
        self.type_check_data = type_check_data


class StepInputData:
    __slots__ = ("input_name", "type_check_data")

    def __init__(self, input_name: str, type_check_data: TypeCheckData | None = None) -> None:
        self.input_name = input_name
        self.type_check_data = type_check_data


class StepMaterializationData:
    __slots__ = ("asset_lineage", "materialization")

    def __init__(self, materialization: Any, asset_lineage: Sequence[Any] = ()) -> None:
        self.materialization = materialization
        self.asset_lineage = list(asset_lineage)


class AssetObservationData:
    __slots__ = ("asset_observation",)

    def __init__(self, asset_observation: Any) -> None:
        self.asset_observation = asset_observation


class HandledOutputData:
    __slots__ = ("manager_key", "metadata", "output_name")

    def __init__(self, output_name: str, manager_key: str, metadata: Any = None) -> None:
        self.output_name = output_name
        self.manager_key = manager_key
        self.metadata = metadata or {}


class LoadedInputData:
    __slots__ = (
        "input_name",
        "manager_key",
        "metadata",
        "upstream_output_name",
        "upstream_step_key",
    )

    def __init__(
        self,
        input_name: str,
        manager_key: str,
        upstream_output_name: str | None = None,
        upstream_step_key: str | None = None,
        metadata: Any = None,
    ) -> None:
        self.input_name = input_name
        self.manager_key = manager_key
        self.upstream_output_name = upstream_output_name
        self.upstream_step_key = upstream_step_key
        self.metadata = metadata or {}


class AssetCheckEvaluationPlanned:
    """Payload of ``ASSET_CHECK_EVALUATION_PLANNED``: a run is going to evaluate this check."""

    __slots__ = ("asset_key", "check_name", "partition")

    def __init__(self, asset_key: Any, check_name: str, partition: str | None = None) -> None:
        self.asset_key = asset_key
        self.check_name = check_name
        self.partition = partition

    @property
    def asset_check_key(self) -> Any:
        from weir._model.asset_key import AssetCheckKey

        return AssetCheckKey(self.asset_key, self.check_name)


class AssetMaterializationPlannedData:
    """Payload of ``ASSET_MATERIALIZATION_PLANNED``: one partition, or (a run over a range) the
    planned partitions as a compact subset ``{"definition": id, "subset": serialized bitmap}``."""

    __slots__ = ("asset_key", "partition", "partitions_subset")

    def __init__(
        self, asset_key: Any, partition: str | None = None, partitions_subset: Any = None
    ) -> None:
        self.asset_key = asset_key
        self.partition = partition
        self.partitions_subset = partitions_subset


_PID = os.getpid()


def _refresh_pid() -> None:
    global _PID
    _PID = os.getpid()


if hasattr(os, "register_at_fork"):  # forked workers (forkserver, fork) report their own pid
    os.register_at_fork(after_in_child=_refresh_pid)


class DagsterEvent:
    """One event of a run: its type, the step it belongs to, a message and type-specific data."""

    __slots__ = (
        "event_specific_data",
        "event_type_value",
        "job_name",
        "logging_tags",
        "message",
        "pid",
        "step_key",
        "step_kind_value",
    )

    def __init__(
        self,
        event_type_value: str,
        job_name: str,
        step_key: str | None = None,
        message: str | None = None,
        event_specific_data: Any = None,
        step_kind_value: str | None = None,
        logging_tags: dict[str, str] | None = None,
        pid: int | None = None,
    ) -> None:
        self.event_type_value = event_type_value
        self.job_name = job_name
        self.step_key = step_key
        self.message = message
        self.event_specific_data = event_specific_data
        self.step_kind_value = (
            step_kind_value if step_kind_value is not None else ("COMPUTE" if step_key else None)
        )
        self.logging_tags = logging_tags or {}
        self.pid = pid if pid is not None else _PID

    @property
    def event_type(self) -> DagsterEventType:
        return DagsterEventType(self.event_type_value)

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def node_name(self) -> str | None:
        if self.step_key is None:
            return None
        return self.step_key.split("[", 1)[0]

    @property
    def node_handle(self) -> str | None:
        return self.node_name

    @property
    def solid_name(self) -> str | None:
        return self.node_name

    # -- predicates -----------------------------------------------------------------------
    @property
    def is_step_event(self) -> bool:
        return self.event_type in STEP_EVENTS

    @property
    def is_step_start(self) -> bool:
        return self.event_type_value == "STEP_START"

    @property
    def is_step_success(self) -> bool:
        return self.event_type_value == "STEP_SUCCESS"

    @property
    def is_step_failure(self) -> bool:
        return self.event_type_value == "STEP_FAILURE"

    @property
    def is_step_skipped(self) -> bool:
        return self.event_type_value == "STEP_SKIPPED"

    @property
    def is_successful_output(self) -> bool:
        return self.event_type_value == "STEP_OUTPUT"

    @property
    def is_failure(self) -> bool:
        return self.event_type in FAILURE_EVENTS

    @property
    def is_run_failure(self) -> bool:
        return self.event_type_value == "PIPELINE_FAILURE"

    @property
    def is_run_success(self) -> bool:
        return self.event_type_value == "PIPELINE_SUCCESS"

    @property
    def is_step_materialization(self) -> bool:
        return self.event_type_value == "ASSET_MATERIALIZATION"

    @property
    def is_asset_materialization_planned(self) -> bool:
        return self.event_type_value == "ASSET_MATERIALIZATION_PLANNED"

    @property
    def is_asset_observation(self) -> bool:
        return self.event_type_value == "ASSET_OBSERVATION"

    @property
    def is_handled_output(self) -> bool:
        return self.event_type_value == "HANDLED_OUTPUT"

    @property
    def is_loaded_input(self) -> bool:
        return self.event_type_value == "LOADED_INPUT"

    @property
    def is_engine_event(self) -> bool:
        return self.event_type_value == "ENGINE_EVENT"

    # -- payload accessors ------------------------------------------------------------------
    @property
    def step_materialization_data(self) -> StepMaterializationData:
        return self.event_specific_data

    @property
    def asset_key(self) -> Any:
        data = self.event_specific_data
        if isinstance(data, StepMaterializationData):
            return data.materialization.asset_key
        if isinstance(data, AssetObservationData):
            return data.asset_observation.asset_key
        if isinstance(data, AssetMaterializationPlannedData):
            return data.asset_key
        return getattr(data, "asset_key", None)

    @property
    def partition(self) -> str | None:
        data = self.event_specific_data
        if isinstance(data, StepMaterializationData):
            return data.materialization.partition
        if isinstance(data, AssetObservationData):
            return data.asset_observation.partition
        return getattr(data, "partition", None)

    @property
    def materialization(self) -> Any:
        return self.event_specific_data.materialization

    @property
    def asset_observation_data(self) -> AssetObservationData:
        return self.event_specific_data

    @property
    def step_failure_data(self) -> StepFailureData:
        return self.event_specific_data

    @property
    def step_output_data(self) -> StepOutputData:
        return self.event_specific_data

    @property
    def asset_check_evaluation_data(self) -> Any:
        return self.event_specific_data

    def __repr__(self) -> str:
        step = f", step_key={self.step_key!r}" if self.step_key else ""
        return f"DagsterEvent({self.event_type.name}{step}, message={self.message!r})"
