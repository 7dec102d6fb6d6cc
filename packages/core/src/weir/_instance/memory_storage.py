"""In-memory instance storage: what ``Instance.ephemeral()`` (and so every ``materialize``) uses.

Everything lives in Python dicts and lists behind one lock. The event log is indexed three ways
(by run, by event type, by event type and asset key); each index is a list in storage-id order,
so storage-id bounds are binary searches and no query walks events it cannot return. Runs are
copied on the way in and on the way out, as a SQL backend's serialization would do: the engine
keeps mutating its own ``DagsterRun`` object. Event log entries are stored as given (they are not
mutated after storing). State and tick bodies go through JSON, so a body that a SQL backend could
not store fails here too.

It follows the contract of :class:`~weir._instance.storage.InstanceStorage` to the letter;
``weir.testing.InstanceStorageContract`` checks it. The class is built from three parts: runs
and the event log are here, the asset indexes and check executions in
:mod:`weir._instance._memory_assets`, and dynamic partitions, key-value pairs, states and ticks
in :mod:`weir._instance._memory_state`.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._execution.events import DagsterEventType
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance._memory_assets import (
    CHECK_EVALUATION,
    CHECK_PLANNED,
    MemoryAssetIndex,
    as_asset_key,
    storage_id_of,
    window,
)
from weir._instance._memory_state import MemoryStateStore, StoredRow
from weir._instance.records import (
    AssetCheckExecutionRecord,
    EventLogEntry,
    EventLogRecord,
    RunRecord,
    RunsFilter,
)
from weir._instance.storage import RUN_STATUS_BY_EVENT
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import RunAlreadyExistsError, RunNotFoundError

__all__ = ["InMemoryInstanceStorage"]

logger = logging.getLogger(__name__)

_RUN_START = "PIPELINE_START"
_RUN_END_EVENTS = frozenset({"PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"})


_HOSTNAME: list[str] = []


def _hostname() -> str:
    """This machine's name, looked up once (``socket`` is imported only when a run starts)."""
    if not _HOSTNAME:
        import socket

        _HOSTNAME.append(socket.gethostname())
    return _HOSTNAME[0]


def _type_values(event_types: Iterable[Any]) -> list[str]:
    values = [t.value if isinstance(t, DagsterEventType) else str(t) for t in event_types]
    return list(dict.fromkeys(values))


def _copy_run(run: DagsterRun) -> DagsterRun:
    """A copy sharing nothing mutable with ``run`` (nested config included)."""
    new = copy.copy(run)
    new.run_config = copy.deepcopy(run.run_config)
    new.tags = dict(run.tags)
    if run.step_keys_to_execute is not None:
        new.step_keys_to_execute = list(run.step_keys_to_execute)
    return new


class _RunRow:
    __slots__ = (
        "create_timestamp",
        "end_time",
        "run",
        "start_time",
        "storage_id",
        "update_timestamp",
        "worker",
    )

    def __init__(self, storage_id: int, run: DagsterRun, now: float) -> None:
        self.storage_id = storage_id
        self.run = run
        self.create_timestamp = now
        self.update_timestamp = now
        self.start_time: float | None = None
        self.end_time: float | None = None
        self.worker: tuple[str, int] | None = None

    def record(self) -> RunRecord:
        return RunRecord(
            self.storage_id,
            _copy_run(self.run),
            self.create_timestamp,
            self.update_timestamp,
            self.start_time,
            self.end_time,
        )


class InMemoryInstanceStorage(MemoryAssetIndex, MemoryStateStore):
    """Instance storage kept in this process's memory; gone when the process ends.

    Fast (a few microseconds per stored event) and thread-safe (one lock). Used by
    ``Instance.ephemeral()``; the SQL backends behave identically, checked by the same suite.
    """

    display_url = "memory://"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # runs, in storage-id order (dicts keep insertion order)
        self._runs: dict[str, _RunRow] = {}
        self._next_run_id = 1
        # the event log and its indexes; every list is in storage-id order
        self._next_event_id = 1
        self._by_run: dict[str, list[EventLogRecord]] = {}
        self._by_type: dict[str, list[EventLogRecord]] = {}
        self._by_type_asset: dict[tuple[str, AssetKey], list[EventLogRecord]] = {}
        self._types_by_asset: dict[AssetKey, set[str]] = {}
        self._key_strings: dict[AssetKey, str] = {}
        # asset check executions, in id order
        self._next_check_id = 1
        self._checks: dict[int, AssetCheckExecutionRecord] = {}
        self._checks_by_key: dict[AssetCheckKey, list[AssetCheckExecutionRecord]] = {}
        self._planned: dict[
            tuple[str, AssetCheckKey, str | None], list[AssetCheckExecutionRecord]
        ] = {}
        # the rest
        self._dynamic_partitions: dict[str, dict[str, None]] = {}
        self._kvs: dict[str, str] = {}
        self._next_state_id = 1
        self._states: dict[str, dict[str, StoredRow]] = {}
        self._next_tick_id = 1
        self._ticks: dict[int, StoredRow] = {}
        self._ticks_by_instigator: dict[tuple[str, str], dict[int, StoredRow]] = {}

    def __repr__(self) -> str:
        return f"InMemoryInstanceStorage({len(self._runs)} runs)"

    # -- runs -----------------------------------------------------------------------------------
    def add_run(self, run: DagsterRun) -> RunRecord:
        stored = _copy_run(run)
        with self._lock:
            if run.run_id in self._runs:
                msg = (
                    f"A run with id {run.run_id!r} is already stored in {self.display_url}; "
                    "give the new run its own run id."
                )
                raise RunAlreadyExistsError(msg)
            row = _RunRow(self._next_run_id, stored, time.time())
            self._next_run_id += 1
            self._runs[run.run_id] = row
            return row.record()

    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        with self._lock:
            rows = self._candidate_runs(filters)
            if cursor is not None:
                anchor = self._runs.get(cursor)
                if anchor is None:  # as a SQL "id < (select id ...)" with no row: nothing
                    return []
                bound = anchor.storage_id
                rows = [
                    r for r in rows if (r.storage_id > bound if ascending else r.storage_id < bound)
                ]
            if not ascending:
                rows.reverse()
            if filters is not None:
                rows = [r for r in rows if _run_matches(r, filters)]
            if limit is not None:
                rows = rows[: max(limit, 0)]
            return [r.record() for r in rows]

    def _candidate_runs(self, filters: RunsFilter | None) -> list[_RunRow]:
        """Runs that may match, oldest first (a direct lookup when run ids are given)."""
        if filters is not None and filters.run_ids:
            found = [self._runs[i] for i in set(filters.run_ids) if i in self._runs]
            found.sort(key=lambda r: r.storage_id)
            return found
        return list(self._runs.values())

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        with self._lock:
            rows = self._candidate_runs(filters)
            if filters is None:
                return len(rows)
            return sum(1 for r in rows if _run_matches(r, filters))

    def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            row = self._runs.get(run_id)
            if row is None:
                msg = (
                    f"Cannot add tags to run {run_id!r}: no run with that id is stored in "
                    f"{self.display_url}. Check the run id (get_run_records lists the stored runs)."
                )
                raise RunNotFoundError(msg)
            row.run.tags.update(tags)
            row.update_timestamp = time.time()

    def delete_run(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)
            doomed = self._by_run.get(run_id)
            if doomed:
                self._discard_events(list(doomed))
            self._by_run.pop(run_id, None)
            self._discard_checks([row for row in self._checks.values() if row.run_id == run_id])

    def get_run_workers(self, run_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        with self._lock:
            workers: dict[str, tuple[str, int]] = {}
            for run_id in run_ids:
                row = self._runs.get(run_id)
                if row is not None and row.worker is not None:
                    workers[run_id] = row.worker
            return workers

    # -- events -----------------------------------------------------------------------------------
    def store_events(
        self,
        entries: Sequence[EventLogEntry],
        *,
        expect_status: Mapping[str, DagsterRunStatus] | None = None,
    ) -> list[int] | None:
        # Phase 1 reads everything that could raise (payload attributes, key coercion), so that
        # phase 2, which writes, cannot fail half-way: the batch is stored whole or not at all.
        prepared: list[tuple[EventLogEntry, str | None, AssetKey | None, Any]] = []
        for entry in entries:
            event = entry.dagster_event
            if event is None:
                prepared.append((entry, None, None, None))
                continue
            event_type = event.event_type_value
            key = None if event.event_specific_data is None else event.asset_key
            if key is not None and not isinstance(key, AssetKey):
                key = as_asset_key(key)
            check = None
            if event_type in (CHECK_PLANNED, CHECK_EVALUATION):
                check = self._check_info(event_type, event.event_specific_data)
            prepared.append((entry, event_type, key, check))

        with self._lock:
            if expect_status:
                for run_id, status in expect_status.items():
                    row = self._runs.get(run_id)
                    if row is None or row.run.status is not DagsterRunStatus(status):
                        return None
            return self._write(prepared)

    def _write(
        self, prepared: list[tuple[EventLogEntry, str | None, AssetKey | None, Any]]
    ) -> list[int]:
        ids: list[int] = []
        storage_id = self._next_event_id
        by_run = self._by_run
        by_type = self._by_type
        runs = self._runs
        for entry, event_type, key, check in prepared:
            record = EventLogRecord(storage_id, entry)
            ids.append(storage_id)
            storage_id += 1
            run_events = by_run.get(entry.run_id)
            if run_events is None:
                by_run[entry.run_id] = [record]
            else:
                run_events.append(record)
            if event_type is None:
                continue
            type_events = by_type.get(event_type)
            if type_events is None:
                by_type[event_type] = [record]
            else:
                type_events.append(record)
            if key is not None:
                self._index_asset_event(event_type, key, record)
            status = RUN_STATUS_BY_EVENT.get(event_type)
            if status is not None:
                row = runs.get(entry.run_id)
                if row is not None:
                    self._apply_status(row, status, event_type, entry)
            if check is not None:
                self._record_check(event_type, check, entry)
        self._next_event_id = storage_id
        return ids

    def _apply_status(
        self, row: _RunRow, status: DagsterRunStatus, event_type: str, entry: EventLogEntry
    ) -> None:
        row.run.status = status
        row.update_timestamp = time.time()
        if event_type == _RUN_START:
            row.start_time = entry.timestamp
            event = entry.dagster_event
            if event is not None:
                row.worker = (_hostname(), event.pid)
        elif event_type in _RUN_END_EVENTS:
            row.end_time = entry.timestamp

    def get_records_for_run(
        self,
        run_id: str,
        cursor: int | None = None,
        of_type: Iterable[str] | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        wanted = set(_type_values(of_type)) if of_type is not None else None
        with self._lock:
            records = self._by_run.get(run_id)
            if not records:
                return []
            if cursor is None:
                lo, hi = 0, len(records)
            elif ascending:
                lo, hi = window(records, cursor, None)
            else:
                lo, hi = window(records, None, cursor)
            return _collect(
                records,
                lo,
                hi,
                ascending,
                limit,
                (lambda r: _type_of(r) in wanted) if wanted else None,
            )

    def fetch_event_records(
        self,
        event_types: Iterable[str],
        *,
        asset_key: Any = None,
        partitions: Sequence[str] | None = None,
        after_storage_id: int | None = None,
        before_storage_id: int | None = None,
        after_timestamp: float | None = None,
        before_timestamp: float | None = None,
        storage_ids: Sequence[int] | None = None,
        run_ids: Sequence[str] | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        types = _type_values(event_types)
        key = as_asset_key(asset_key) if asset_key is not None else None
        checks: list[Any] = []
        if partitions:
            wanted_partitions = set(partitions)
            checks.append(lambda r: r.partition_key in wanted_partitions)
        if storage_ids:
            wanted_ids = set(storage_ids)
            checks.append(lambda r: r.storage_id in wanted_ids)
        if run_ids:
            wanted_runs = set(run_ids)
            checks.append(lambda r: r.event_log_entry.run_id in wanted_runs)
        if after_timestamp is not None:
            checks.append(lambda r: r.event_log_entry.timestamp > after_timestamp)
        if before_timestamp is not None:
            checks.append(lambda r: r.event_log_entry.timestamp < before_timestamp)
        with self._lock:
            lists: list[list[EventLogRecord]] = []
            for event_type in types:
                found = (
                    self._by_type_asset.get((event_type, key))
                    if key is not None
                    else self._by_type.get(event_type)
                )
                if found:
                    lists.append(found)
            if not lists:
                return []
            if len(lists) == 1:
                records = lists[0]
            else:
                records = sorted((r for found in lists for r in found), key=storage_id_of)
            lo, hi = window(records, after_storage_id, before_storage_id)
            keep = (lambda r: all(c(r) for c in checks)) if checks else None
            return _collect(records, lo, hi, ascending, limit, keep)


def _type_of(record: EventLogRecord) -> str | None:
    event = record.event_log_entry.dagster_event
    return event.event_type_value if event is not None else None


def _collect(
    records: list[EventLogRecord],
    lo: int,
    hi: int,
    ascending: bool,
    limit: int | None,
    keep: Any,
) -> list[EventLogRecord]:
    """``records[lo:hi]`` in the asked order, filtered by ``keep``, at most ``limit`` of them."""
    if limit is not None and limit <= 0:
        return []
    if keep is None:
        if ascending:
            return records[lo:hi] if limit is None else records[lo : min(hi, lo + limit)]
        start = lo if limit is None else max(lo, hi - limit)
        picked = records[start:hi]
        picked.reverse()
        return picked
    indexes = range(lo, hi) if ascending else range(hi - 1, lo - 1, -1)
    found: list[EventLogRecord] = []
    for i in indexes:
        record = records[i]
        if keep(record):
            found.append(record)
            if limit is not None and len(found) >= limit:
                break
    return found


def _run_matches(row: _RunRow, filters: RunsFilter) -> bool:
    run = row.run
    if filters.run_ids and run.run_id not in filters.run_ids:
        return False
    if filters.job_name and run.job_name != filters.job_name:
        return False
    if filters.statuses and run.status not in filters.statuses:
        return False
    if filters.tags:
        for tag, wanted in filters.tags.items():
            value = run.tags.get(tag)
            if value is None:
                return False
            if isinstance(wanted, str):
                if value != wanted:
                    return False
            elif value not in wanted:
                return False
    if filters.snapshot_id and getattr(run, "snapshot_id", None) != filters.snapshot_id:
        return False
    if filters.exclude_subruns and run.parent_run_id is not None:
        return False
    if filters.created_after is not None and not row.create_timestamp > filters.created_after:
        return False
    if filters.created_before is not None and not row.create_timestamp < filters.created_before:
        return False
    if filters.updated_after is not None and not row.update_timestamp > filters.updated_after:
        return False
    return not (
        filters.updated_before is not None and not row.update_timestamp < filters.updated_before
    )
