"""What the instance stores and returns: log entries, event and run records, and query filters.

The names and fields follow Dagster's (``EventLogEntry``, ``EventLogRecord``, ``RunsFilter``,
``EventRecordsFilter``, ``AssetRecordsFilter``, ``RunRecord``, ``EventRecordsResult``) so code that
queries a Dagster instance runs against a weir one.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from typing import Any

from weir._execution.events import DagsterEvent, DagsterEventType
from weir._execution.run import DagsterRun, DagsterRunStatus

__all__ = [
    "AssetCheckExecutionRecord",
    "AssetCheckExecutionRecordStatus",
    "AssetRecordsFilter",
    "EventLogConnection",
    "EventLogEntry",
    "EventLogRecord",
    "EventRecordsFilter",
    "EventRecordsResult",
    "RunRecord",
    "RunsFilter",
    "StoredRecord",
]


def _event_type_value(event_type: Any) -> str:
    return event_type.value if isinstance(event_type, DagsterEventType) else str(event_type)


class EventLogEntry:
    """One line of a run's event log: a ``DagsterEvent`` (or a plain log message) with its time.

    ``dagster_event`` is None for messages logged with ``context.log``.
    """

    __slots__ = (
        "dagster_event",
        "error_info",
        "job_name",
        "level",
        "run_id",
        "step_key",
        "timestamp",
        "user_message",
    )

    def __init__(
        self,
        error_info: Any = None,
        level: int | str = 10,
        user_message: str = "",
        run_id: str = "",
        timestamp: float | None = None,
        step_key: str | None = None,
        job_name: str | None = None,
        dagster_event: DagsterEvent | None = None,
    ) -> None:
        self.error_info = error_info
        self.level = level
        self.user_message = user_message
        self.run_id = run_id
        self.timestamp = time.time() if timestamp is None else timestamp
        self.step_key = step_key
        self.job_name = job_name
        self.dagster_event = dagster_event

    @staticmethod
    def from_event(
        run_id: str, event: DagsterEvent, timestamp: float | None = None
    ) -> EventLogEntry:
        """Wrap an engine event for storage (level DEBUG, as Dagster logs engine events)."""
        return EventLogEntry(
            None,
            10,
            event.message or "",
            run_id,
            timestamp,
            event.step_key,
            event.job_name,
            event,
        )

    @property
    def pipeline_name(self) -> str | None:
        return self.job_name

    @property
    def is_dagster_event(self) -> bool:
        return self.dagster_event is not None

    def get_dagster_event(self) -> DagsterEvent:
        if self.dagster_event is None:
            msg = "This log entry is a plain message, not a DagsterEvent; check is_dagster_event first."
            raise ValueError(msg)
        return self.dagster_event

    @property
    def dagster_event_type(self) -> DagsterEventType | None:
        return self.dagster_event.event_type if self.dagster_event is not None else None

    @property
    def message(self) -> str:
        if self.dagster_event is not None and self.dagster_event.message:
            return self.dagster_event.message
        return self.user_message

    @property
    def asset_materialization(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_MATERIALIZATION":
            return None
        return event.step_materialization_data.materialization

    @property
    def asset_observation(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_OBSERVATION":
            return None
        return event.asset_observation_data.asset_observation

    @property
    def asset_check_evaluation(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_CHECK_EVALUATION":
            return None
        return event.event_specific_data

    def __repr__(self) -> str:
        kind = self.dagster_event.event_type_value if self.dagster_event else "LOG"
        return f"EventLogEntry({kind}, run_id={self.run_id!r}, step_key={self.step_key!r})"


class EventLogRecord:
    """A stored log entry with its ``storage_id``: the instance-wide, ever-increasing cursor."""

    __slots__ = ("event_log_entry", "storage_id")

    def __init__(self, storage_id: int, event_log_entry: EventLogEntry) -> None:
        self.storage_id = storage_id
        self.event_log_entry = event_log_entry

    @property
    def run_id(self) -> str:
        return self.event_log_entry.run_id

    @property
    def timestamp(self) -> float:
        return self.event_log_entry.timestamp

    @property
    def event_type(self) -> DagsterEventType | None:
        return self.event_log_entry.dagster_event_type

    @property
    def asset_key(self) -> Any:
        event = self.event_log_entry.dagster_event
        return event.asset_key if event is not None else None

    @property
    def partition_key(self) -> str | None:
        event = self.event_log_entry.dagster_event
        return event.partition if event is not None else None

    @property
    def asset_materialization(self) -> Any:
        return self.event_log_entry.asset_materialization

    @property
    def asset_observation(self) -> Any:
        return self.event_log_entry.asset_observation

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EventLogRecord) and other.storage_id == self.storage_id

    def __hash__(self) -> int:
        return hash(self.storage_id)

    def __repr__(self) -> str:
        return f"EventLogRecord(storage_id={self.storage_id}, {self.event_log_entry!r})"


class EventRecordsResult:
    """A page of event records: ``records``, the ``cursor`` to pass for the next page, ``has_more``."""

    __slots__ = ("cursor", "has_more", "records")

    def __init__(self, records: Sequence[EventLogRecord], cursor: str, has_more: bool) -> None:
        self.records = list(records)
        self.cursor = cursor
        self.has_more = has_more

    def __iter__(self) -> Any:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"EventRecordsResult({len(self.records)} records, cursor={self.cursor!r}, has_more={self.has_more})"


class EventLogConnection(EventRecordsResult):
    """The page ``get_records_for_run`` returns (Dagster's name for the same shape)."""

    __slots__ = ()


class RunsFilter:
    """Which runs ``get_runs`` / ``get_runs_count`` / ``get_run_records`` return; fields AND together."""

    __slots__ = (
        "created_after",
        "created_before",
        "exclude_subruns",
        "job_name",
        "run_ids",
        "snapshot_id",
        "statuses",
        "tags",
        "updated_after",
        "updated_before",
    )

    def __init__(
        self,
        run_ids: Sequence[str] | None = None,
        job_name: str | None = None,
        statuses: Sequence[DagsterRunStatus] | None = None,
        tags: Mapping[str, str | Sequence[str]] | None = None,
        snapshot_id: str | None = None,
        updated_after: Any = None,
        updated_before: Any = None,
        created_after: Any = None,
        created_before: Any = None,
        exclude_subruns: bool | None = None,
    ) -> None:
        self.run_ids = list(run_ids) if run_ids is not None else None
        self.job_name = job_name
        self.statuses = [DagsterRunStatus(s) for s in statuses] if statuses is not None else None
        self.tags = dict(tags) if tags is not None else None
        self.snapshot_id = snapshot_id
        self.updated_after = _timestamp(updated_after)
        self.updated_before = _timestamp(updated_before)
        self.created_after = _timestamp(created_after)
        self.created_before = _timestamp(created_before)
        self.exclude_subruns = exclude_subruns

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) is not None
        )
        return f"RunsFilter({fields})"


def _timestamp(value: Any) -> float | None:
    """Accept a datetime or an epoch float (Dagster takes datetimes)."""
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


class RunRecord:
    """A stored run with its bookkeeping: storage id, create/update/start/end timestamps."""

    __slots__ = (
        "create_timestamp",
        "dagster_run",
        "end_time",
        "start_time",
        "storage_id",
        "update_timestamp",
    )

    def __init__(
        self,
        storage_id: int,
        dagster_run: DagsterRun,
        create_timestamp: float,
        update_timestamp: float,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> None:
        self.storage_id = storage_id
        self.dagster_run = dagster_run
        self.create_timestamp = create_timestamp
        self.update_timestamp = update_timestamp
        self.start_time = start_time
        self.end_time = end_time

    def __repr__(self) -> str:
        return f"RunRecord(storage_id={self.storage_id}, {self.dagster_run!r})"


class _RecordsFilterBase:
    __slots__ = (
        "after_storage_id",
        "after_timestamp",
        "asset_key",
        "asset_partitions",
        "before_storage_id",
        "before_timestamp",
        "storage_ids",
    )

    def __init__(
        self,
        asset_key: Any = None,
        asset_partitions: Sequence[str] | None = None,
        after_storage_id: int | None = None,
        before_storage_id: int | None = None,
        after_timestamp: float | None = None,
        before_timestamp: float | None = None,
        storage_ids: Sequence[int] | None = None,
    ) -> None:
        from weir._model.asset_key import AssetKey

        self.asset_key = AssetKey.from_coercible(asset_key) if asset_key is not None else None
        self.asset_partitions = list(asset_partitions) if asset_partitions is not None else None
        self.after_storage_id = after_storage_id
        self.before_storage_id = before_storage_id
        self.after_timestamp = after_timestamp
        self.before_timestamp = before_timestamp
        self.storage_ids = list(storage_ids) if storage_ids is not None else None


class AssetRecordsFilter(_RecordsFilterBase):
    """Which materializations/observations of one asset ``fetch_*`` returns."""

    __slots__ = ()


class EventRecordsFilter(_RecordsFilterBase):
    """Which events ``get_event_records`` returns: an event type plus optional asset and bounds.

    ``after_cursor`` / ``before_cursor`` are Dagster's names for the storage-id bounds.
    """

    __slots__ = ("event_type",)

    def __init__(
        self,
        event_type: DagsterEventType | str,
        asset_key: Any = None,
        asset_partitions: Sequence[str] | None = None,
        after_cursor: int | None = None,
        before_cursor: int | None = None,
        after_timestamp: float | None = None,
        before_timestamp: float | None = None,
        storage_ids: Sequence[int] | None = None,
    ) -> None:
        super().__init__(
            asset_key,
            asset_partitions,
            after_cursor,
            before_cursor,
            after_timestamp,
            before_timestamp,
            storage_ids,
        )
        self.event_type = DagsterEventType(_event_type_value(event_type))

    @property
    def after_cursor(self) -> int | None:
        return self.after_storage_id

    @property
    def before_cursor(self) -> int | None:
        return self.before_storage_id


class AssetCheckExecutionRecordStatus(enum.Enum):
    PLANNED = "PLANNED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class AssetCheckExecutionRecord:
    """One execution of an asset check: planned in a run, then evaluated (or not)."""

    __slots__ = ("create_timestamp", "event", "id", "key", "partition", "run_id", "status")

    def __init__(
        self,
        key: Any,
        id: int,
        run_id: str,
        status: AssetCheckExecutionRecordStatus,
        event: EventLogEntry | None,
        create_timestamp: float,
        partition: str | None = None,
    ) -> None:
        self.key = key
        self.id = id
        self.run_id = run_id
        self.status = status
        self.event = event
        self.create_timestamp = create_timestamp
        self.partition = partition

    @property
    def evaluation(self) -> Any:
        return self.event.asset_check_evaluation if self.event is not None else None

    def __repr__(self) -> str:
        return f"AssetCheckExecutionRecord({self.key!r}, run_id={self.run_id!r}, status={self.status.value})"


class StoredRecord:
    """A JSON body kept under a name: schedule/sensor state, ticks, backfills, daemon heartbeats.

    The storage only indexes ``key``, ``kind``, ``status`` and ``timestamp``; the layers that own
    these records (automation, backfills) define what ``body`` holds.
    """

    __slots__ = ("body", "id", "key", "kind", "status", "timestamp")

    def __init__(
        self,
        id: int,
        key: str,
        kind: str,
        status: str,
        timestamp: float,
        body: Mapping[str, Any],
    ) -> None:
        self.id = id
        self.key = key
        self.kind = kind
        self.status = status
        self.timestamp = timestamp
        self.body = dict(body)

    def __repr__(self) -> str:
        return f"StoredRecord({self.kind} {self.key!r}, status={self.status!r})"
