"""The asset indexes of the in-memory storage: events by asset, asset keys, check executions.

:class:`MemoryAssetIndex` is a part of
:class:`~weir._instance.memory_storage.InMemoryInstanceStorage`: it keeps the event log's
per-asset index (one list per event type and asset key, in storage-id order) and the asset check
executions, answers the asset and check queries, and removes events from every index when a run
is deleted or an asset wiped. Its state is created by
``InMemoryInstanceStorage.__init__`` and read and written under the storage's one lock.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

from weir._instance.records import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
    EventLogEntry,
    EventLogRecord,
)
from weir._instance.storage import InstanceStorage
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import StorageError

__all__ = [
    "CHECK_EVALUATION",
    "CHECK_PLANNED",
    "MemoryAssetIndex",
    "as_asset_key",
    "storage_id_of",
    "window",
]

_MATERIALIZATION = "ASSET_MATERIALIZATION"
_OBSERVATION = "ASSET_OBSERVATION"
CHECK_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
_PLANNED = AssetCheckExecutionRecordStatus.PLANNED
_SUCCEEDED = AssetCheckExecutionRecordStatus.SUCCEEDED
_FAILED = AssetCheckExecutionRecordStatus.FAILED


def storage_id_of(record: EventLogRecord) -> int:
    """The sort key of every event list: the record's storage id."""
    return record.storage_id


def as_asset_key(value: Any) -> AssetKey:
    """``value`` as an ``AssetKey`` (keys pass through; strings and paths are coerced)."""
    return value if isinstance(value, AssetKey) else AssetKey.from_coercible(value)


def _check_key(value: Any) -> AssetCheckKey:
    if isinstance(value, str):
        value = AssetCheckKey.from_user_string(value)
    return AssetCheckKey(as_asset_key(value.asset_key), value.name)


def _copy_check(row: AssetCheckExecutionRecord) -> AssetCheckExecutionRecord:
    return AssetCheckExecutionRecord(
        row.key, row.id, row.run_id, row.status, row.event, row.create_timestamp, row.partition
    )


def window(records: list[EventLogRecord], after: int | None, before: int | None) -> tuple[int, int]:
    """The index range of ``records`` (sorted by storage id) strictly between the bounds."""
    lo = bisect_right(records, after, key=storage_id_of) if after is not None else 0
    hi = bisect_left(records, before, key=storage_id_of) if before is not None else len(records)
    return lo, hi


class MemoryAssetIndex(InstanceStorage):
    """Asset keys, materialized partitions and check executions of the in-memory storage."""

    # Set by InMemoryInstanceStorage.__init__; guarded by _lock. Every list is in storage-id order.
    _lock: threading.Lock
    _by_run: dict[str, list[EventLogRecord]]
    _by_type: dict[str, list[EventLogRecord]]
    _by_type_asset: dict[tuple[str, AssetKey], list[EventLogRecord]]
    _types_by_asset: dict[AssetKey, set[str]]
    _key_strings: dict[AssetKey, str]
    _next_check_id: int
    _checks: dict[int, AssetCheckExecutionRecord]
    _checks_by_key: dict[AssetCheckKey, list[AssetCheckExecutionRecord]]
    _planned: dict[tuple[str, AssetCheckKey, str | None], list[AssetCheckExecutionRecord]]

    # -- index maintenance (called by store_events with the lock held) ------------------------
    @staticmethod
    def _check_info(event_type: str, data: Any) -> tuple[AssetCheckKey, str | None, bool]:
        try:
            key = AssetCheckKey(as_asset_key(data.asset_key), data.check_name)
            partition = getattr(data, "partition", None)
            passed = bool(data.passed) if event_type == CHECK_EVALUATION else False
        except AttributeError as exc:
            msg = (
                f"A {event_type} event needs a payload with asset_key, check_name and partition"
                f"{' and passed' if event_type == CHECK_EVALUATION else ''}; got {data!r}."
            )
            raise StorageError(msg) from exc
        return key, partition, passed

    def _index_asset_event(self, event_type: str, key: AssetKey, record: EventLogRecord) -> None:
        bucket = self._by_type_asset.get((event_type, key))
        if bucket is None:
            self._by_type_asset[(event_type, key)] = [record]
            types = self._types_by_asset.get(key)
            if types is None:
                self._types_by_asset[key] = {event_type}
            else:
                types.add(event_type)
        else:
            bucket.append(record)

    def _record_check(
        self, event_type: str, check: tuple[AssetCheckKey, str | None, bool], entry: EventLogEntry
    ) -> None:
        key, partition, passed = check
        slot = (entry.run_id, key, partition)
        if event_type == CHECK_PLANNED:
            row = self._new_check(key, entry.run_id, _PLANNED, None, entry.timestamp, partition)
            self._planned.setdefault(slot, []).append(row)
            return
        status = _SUCCEEDED if passed else _FAILED
        waiting = self._planned.get(slot)
        if waiting:
            row = waiting.pop()
            if not waiting:
                del self._planned[slot]
            row.status = status
            row.event = entry
        else:
            self._new_check(key, entry.run_id, status, entry, entry.timestamp, partition)

    def _new_check(
        self,
        key: AssetCheckKey,
        run_id: str,
        status: AssetCheckExecutionRecordStatus,
        event: EventLogEntry | None,
        timestamp: float,
        partition: str | None,
    ) -> AssetCheckExecutionRecord:
        row = AssetCheckExecutionRecord(
            key, self._next_check_id, run_id, status, event, timestamp, partition
        )
        self._next_check_id += 1
        self._checks[row.id] = row
        self._checks_by_key.setdefault(key, []).append(row)
        return row

    # -- assets -------------------------------------------------------------------------------------
    def _key_string(self, key: AssetKey) -> str:
        text = self._key_strings.get(key)
        if text is None:
            text = self._key_strings[key] = key.to_string()
        return text

    def get_asset_keys(
        self, prefix: Sequence[str] | None = None, limit: int | None = None, cursor: Any = None
    ) -> list[Any]:
        with self._lock:
            keys = [
                key
                for key, types in self._types_by_asset.items()
                if _MATERIALIZATION in types or _OBSERVATION in types
            ]
            if prefix:
                keys = [key for key in keys if key.has_prefix(prefix)]
            pairs = sorted((self._key_string(key), key) for key in keys)
        if cursor is not None:
            after = as_asset_key(cursor).to_string()
            pairs = [pair for pair in pairs if pair[0] > after]
        if limit is not None:
            pairs = pairs[: max(limit, 0)]
        return [key for _, key in pairs]

    def get_materialized_partitions(
        self,
        asset_key: Any,
        before_storage_id: int | None = None,
        after_storage_id: int | None = None,
    ) -> set[str]:
        key = as_asset_key(asset_key)
        with self._lock:
            records = self._by_type_asset.get((_MATERIALIZATION, key))
            if not records:
                return set()
            lo, hi = window(records, after_storage_id, before_storage_id)
            partitions = {records[i].partition_key for i in range(lo, hi)}
        partitions.discard(None)
        return partitions  # type: ignore[return-value]

    def wipe_assets(self, asset_keys: Sequence[Any]) -> None:
        with self._lock:
            for raw in asset_keys:
                key = as_asset_key(raw)
                types = self._types_by_asset.get(key)
                if types:
                    doomed = [
                        record
                        for event_type in list(types)
                        for record in self._by_type_asset.get((event_type, key), ())
                    ]
                    self._discard_events(doomed)
                self._discard_checks(
                    [
                        row
                        for check_key, rows in self._checks_by_key.items()
                        if check_key.asset_key == key
                        for row in rows
                    ]
                )
                self._key_strings.pop(key, None)

    def _discard_events(self, doomed: list[EventLogRecord]) -> None:
        """Remove these records from every index (called with the lock held)."""
        if not doomed:
            return
        ids = {record.storage_id for record in doomed}
        run_ids: set[str] = set()
        types: set[str] = set()
        typed_keys: set[tuple[str, AssetKey]] = set()
        for record in doomed:
            entry = record.event_log_entry
            run_ids.add(entry.run_id)
            event = entry.dagster_event
            if event is None:
                continue
            types.add(event.event_type_value)
            key = event.asset_key
            if key is not None:
                typed_keys.add((event.event_type_value, as_asset_key(key)))
        for run_id in run_ids:
            _filter_out(self._by_run, run_id, ids)
        for event_type in types:
            _filter_out(self._by_type, event_type, ids)
        for typed_key in typed_keys:
            if not _filter_out(self._by_type_asset, typed_key, ids):
                event_type, key = typed_key
                remaining = self._types_by_asset.get(key)
                if remaining is not None:
                    remaining.discard(event_type)
                    if not remaining:
                        del self._types_by_asset[key]

    def _discard_checks(self, rows: list[AssetCheckExecutionRecord]) -> None:
        for row in rows:
            self._checks.pop(row.id, None)
            siblings = self._checks_by_key.get(row.key)
            if siblings is not None:
                siblings.remove(row)
                if not siblings:
                    del self._checks_by_key[row.key]
            slot = (row.run_id, row.key, row.partition)
            waiting = self._planned.get(slot)
            if waiting is not None and row in waiting:
                waiting.remove(row)
                if not waiting:
                    del self._planned[slot]

    # -- asset checks ---------------------------------------------------------------------------
    def get_asset_check_executions(
        self,
        check_key: Any,
        limit: int | None = None,
        cursor: int | None = None,
        partition: str | None = None,
    ) -> list[AssetCheckExecutionRecord]:
        key = _check_key(check_key)
        found: list[AssetCheckExecutionRecord] = []
        with self._lock:
            for row in reversed(self._checks_by_key.get(key, ())):
                if limit is not None and len(found) >= limit:
                    break
                if cursor is not None and row.id >= cursor:
                    continue
                if partition is not None and row.partition != partition:
                    continue
                found.append(_copy_check(row))
        return found


def _filter_out(index: dict[Any, list[EventLogRecord]], slot: Any, ids: set[int]) -> bool:
    """Drop records with these ids from ``index[slot]``; False when the slot is now empty (and gone)."""
    records = index.get(slot)
    if records is None:
        return False
    kept = [record for record in records if record.storage_id not in ids]
    if kept:
        index[slot] = kept
        return True
    del index[slot]
    return False
