"""The state of the in-memory storage: dynamic partitions, key-value pairs, states and ticks.

:class:`MemoryStateStore` is a part of
:class:`~weir._instance.memory_storage.InMemoryInstanceStorage`. State and tick bodies go through
JSON, as in a SQL backend, so a body that a SQL backend could not store fails here too, and a
caller's later change to its body does not reach the stored record.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._instance.records import StoredRecord
from weir._instance.storage import InstanceStorage
from weir.errors import StorageError

__all__ = ["MemoryStateStore", "StoredRow"]

logger = logging.getLogger(__name__)


class StoredRow:
    """A state record or tick as kept in memory: its body as JSON text, parsed on every read."""

    __slots__ = ("body", "id", "key", "kind", "status", "timestamp")

    def __init__(
        self, id: int, key: str, kind: str, status: str, timestamp: float, body: str
    ) -> None:
        self.id = id
        self.key = key
        self.kind = kind
        self.status = status
        self.timestamp = timestamp
        self.body = body

    def record(self) -> StoredRecord:
        return StoredRecord(
            self.id, self.key, self.kind, self.status, self.timestamp, json.loads(self.body)
        )


def _dump_body(body: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(body)
    except (TypeError, ValueError) as exc:
        msg = (
            f"The body of {what} cannot be stored: {exc}. Bodies are stored as JSON; use only "
            "dicts, lists, str, int, float, bool and None in them."
        )
        raise StorageError(msg) from exc


class MemoryStateStore(InstanceStorage):
    """Dynamic partitions, the key-value store, named state records and ticks, in dicts."""

    # Set by InMemoryInstanceStorage.__init__; guarded by _lock.
    _lock: threading.Lock
    _dynamic_partitions: dict[str, dict[str, None]]
    _kvs: dict[str, str]
    _next_state_id: int
    _states: dict[str, dict[str, StoredRow]]
    _next_tick_id: int
    _ticks: dict[int, StoredRow]
    _ticks_by_instigator: dict[tuple[str, str], dict[int, StoredRow]]

    # -- dynamic partitions ----------------------------------------------------------------------
    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        with self._lock:
            existing = self._dynamic_partitions.setdefault(name, {})
            for key in keys:
                existing.setdefault(key, None)

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        with self._lock:
            existing = self._dynamic_partitions.get(name)
            if existing is not None:
                existing.pop(key, None)

    def get_dynamic_partitions(self, name: str) -> list[str]:
        with self._lock:
            return list(self._dynamic_partitions.get(name, ()))

    def has_dynamic_partition(self, name: str, key: str) -> bool:
        with self._lock:
            return key in self._dynamic_partitions.get(name, ())

    # -- key-value store ---------------------------------------------------------------------------
    def kvs_get(self, keys: Iterable[str]) -> dict[str, str]:
        with self._lock:
            return {key: self._kvs[key] for key in keys if key in self._kvs}

    def kvs_set(self, pairs: Mapping[str, str]) -> None:
        with self._lock:
            self._kvs.update(pairs)

    # -- named state records ------------------------------------------------------------------------
    def put_state(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"the {kind} state {key!r}")
        with self._lock:
            of_kind = self._states.setdefault(kind, {})
            row = of_kind.get(key)
            if row is None:
                row = StoredRow(self._next_state_id, key, kind, status, timestamp, text)
                self._next_state_id += 1
                of_kind[key] = row
            else:  # replaced in place: the record keeps its id (ids order records by creation)
                row.status = status
                row.timestamp = timestamp
                row.body = text
            return row.record()

    def get_states(
        self,
        kind: str,
        key: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: int | None = None,
    ) -> list[StoredRecord]:
        with self._lock:
            of_kind = self._states.get(kind, {})
            if key is not None:
                rows = [of_kind[key]] if key in of_kind else []
            else:
                rows = sorted(of_kind.values(), key=lambda r: r.id, reverse=True)
            wanted = set(statuses) if statuses else None
            found: list[StoredRecord] = []
            for row in rows:
                if limit is not None and len(found) >= limit:
                    break
                if cursor is not None and row.id >= cursor:
                    continue
                if wanted is not None and row.status not in wanted:
                    continue
                found.append(row.record())
            return found

    def delete_state(self, kind: str, key: str) -> None:
        with self._lock:
            self._states.get(kind, {}).pop(key, None)

    # -- ticks --------------------------------------------------------------------------------------
    def add_tick(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"a tick of the {kind} {key!r}")
        with self._lock:
            row = StoredRow(self._next_tick_id, key, kind, status, timestamp, text)
            self._next_tick_id += 1
            self._ticks[row.id] = row
            self._ticks_by_instigator.setdefault((kind, key), {})[row.id] = row
            return row.record()

    def update_tick(self, tick_id: int, status: str, body: Mapping[str, Any]) -> None:
        text = _dump_body(body, f"tick {tick_id}")
        with self._lock:
            row = self._ticks.get(tick_id)
            if row is None:  # purged meanwhile: like a SQL UPDATE of no row, nothing happens
                logger.debug("update_tick: tick %s is not stored; nothing updated", tick_id)
                return
            row.status = status
            row.body = text

    def get_ticks(
        self,
        kind: str,
        key: str,
        statuses: Sequence[str] | None = None,
        before_timestamp: float | None = None,
        after_timestamp: float | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        wanted = set(statuses) if statuses else None
        with self._lock:
            rows = [
                row
                for row in self._ticks_by_instigator.get((kind, key), {}).values()
                if (wanted is None or row.status in wanted)
                and (before_timestamp is None or row.timestamp < before_timestamp)
                and (after_timestamp is None or row.timestamp > after_timestamp)
            ]
            rows.sort(key=lambda r: (r.timestamp, r.id), reverse=True)
            if limit is not None:
                rows = rows[: max(limit, 0)]
            return [row.record() for row in rows]

    def purge_ticks(self, kind: str, key: str | None, before_timestamp: float) -> int:
        with self._lock:
            instigators = [
                ik
                for ik in self._ticks_by_instigator
                if ik[0] == kind and (key is None or ik[1] == key)
            ]
            purged = 0
            for instigator in instigators:
                ticks = self._ticks_by_instigator[instigator]
                old = [
                    tick_id for tick_id, row in ticks.items() if row.timestamp < before_timestamp
                ]
                for tick_id in old:
                    del ticks[tick_id]
                    del self._ticks[tick_id]
                purged += len(old)
                if not ticks:
                    del self._ticks_by_instigator[instigator]
            return purged
