"""The state tables of the SQL storage: dynamic partitions, key-value pairs, states and ticks.

:class:`SqlStateStore` reads and writes the ``dynamic_partitions``, ``kvs``, ``states`` and
``ticks`` tables. State and tick bodies are stored as JSON text, so a body that is not JSON
raises ``StorageError`` naming the record before anything is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir._instance import sql_schema as schema
from weir._instance._sql_base import SqlStorageBase, bounds, chunks, new_id, page
from weir._instance.records import StoredRecord
from weir.errors import StorageError

__all__ = ["SqlStateStore"]

_partitions = schema.dynamic_partitions
_kvs = schema.kvs
_states = schema.states
_ticks = schema.ticks


def _dump_body(body: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(body))
    except (TypeError, ValueError) as exc:
        msg = (
            f"The body of {what} cannot be stored: {exc}. Bodies are stored as JSON; use only "
            "dicts, lists, str, int, float, bool and None in them."
        )
        raise StorageError(msg) from exc


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(row.id, row.key, row.kind, row.status, row.timestamp, json.loads(row.body))


class SqlStateStore(SqlStorageBase):
    """Dynamic partitions, the key-value store, named state records and ticks in SQL tables."""

    # -- dynamic partitions ----------------------------------------------------------------------
    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        now = time.time()
        rows = [
            {"partitions_def_name": name, "partition": key, "create_timestamp": now}
            for key in dict.fromkeys(keys)
        ]
        unique = ("partitions_def_name", "partition")
        if rows:
            self._write(
                f"add partitions to {name!r}",
                lambda conn: self._upsert(conn, _partitions, rows, unique, ()),
            )

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        c = _partitions.c
        stmt = _partitions.delete().where(c.partitions_def_name == name, c.partition == key)
        self._change(f"delete a partition of {name!r}", stmt)

    def get_dynamic_partitions(self, name: str) -> list[str]:
        c = _partitions.c
        query = sa.select(c.partition).where(c.partitions_def_name == name).order_by(c.id)
        return self._values(f"read the partitions of {name!r}", query)

    def has_dynamic_partition(self, name: str, key: str) -> bool:
        c = _partitions.c
        query = sa.select(c.id).where(c.partitions_def_name == name, c.partition == key).limit(1)
        return bool(self._values(f"read the partitions of {name!r}", query))

    # -- key-value store ---------------------------------------------------------------------------
    def kvs_get(self, keys: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(dict.fromkeys(keys))):
            query = sa.select(_kvs.c.key, _kvs.c.value).where(_kvs.c.key.in_(chunk))
            found.update((k, v) for k, v in self._rows("read key-value pairs", query))
        return found

    def kvs_set(self, pairs: Mapping[str, str]) -> None:
        rows = [{"key": k, "value": v} for k, v in pairs.items()]
        if rows:
            self._write(
                "store key-value pairs",
                lambda conn: self._upsert(conn, _kvs, rows, ("key",), ("value",)),
            )

    # -- named state records -----------------------------------------------------------------------
    def put_state(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"the {kind} state {key!r}")
        row = {"kind": kind, "key": key, "status": status, "timestamp": timestamp, "body": text}

        def put(conn: Connection) -> StoredRecord:
            self._upsert(conn, _states, [row], ("kind", "key"), ("status", "timestamp", "body"))
            query = sa.select(_states).where(_states.c.kind == kind, _states.c.key == key)
            return _stored(conn.execute(query).one())

        return self._write(f"store the {kind} state {key!r}", put)

    def get_states(
        self,
        kind: str,
        key: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: int | None = None,
    ) -> list[StoredRecord]:
        c = _states.c
        query = sa.select(_states).where(c.kind == kind)
        if key is not None:
            query = query.where(c.key == key)
        if statuses:
            query = query.where(c.status.in_(list(statuses)))
        if cursor is not None:
            query = query.where(c.id < cursor)
        rows = self._rows(f"read {kind} states", page(query, c.id, False, limit))
        return [_stored(r) for r in rows]

    def delete_state(self, kind: str, key: str) -> None:
        stmt = _states.delete().where(_states.c.kind == kind, _states.c.key == key)
        self._change(f"delete the {kind} state {key!r}", stmt)

    # -- ticks --------------------------------------------------------------------------------------
    def add_tick(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        text = _dump_body(body, f"a tick of the {kind} {key!r}")
        row = {"kind": kind, "key": key, "status": status, "timestamp": timestamp, "body": text}
        tick_id = self._write(
            f"add a tick of the {kind} {key!r}",
            lambda conn: new_id(conn.execute(_ticks.insert(), [row])),
        )
        return StoredRecord(tick_id, key, kind, status, timestamp, json.loads(text))

    def update_tick(self, tick_id: int, status: str, body: Mapping[str, Any]) -> None:
        text = _dump_body(body, f"tick {tick_id}")
        stmt = _ticks.update().where(_ticks.c.id == tick_id).values(status=status, body=text)
        self._change(f"update tick {tick_id}", stmt)

    def get_ticks(
        self,
        kind: str,
        key: str,
        statuses: Sequence[str] | None = None,
        before_timestamp: float | None = None,
        after_timestamp: float | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        c = _ticks.c
        query = sa.select(_ticks).where(
            c.kind == kind, c.key == key, *bounds(c.timestamp, after_timestamp, before_timestamp)
        )
        if statuses:
            query = query.where(c.status.in_(list(statuses)))
        query = query.order_by(c.timestamp.desc(), c.id.desc())
        if limit is not None:
            query = query.limit(max(limit, 0))
        return [_stored(r) for r in self._rows(f"read ticks of {key!r}", query)]

    def purge_ticks(self, kind: str, key: str | None, before_timestamp: float) -> int:
        stmt = _ticks.delete().where(_ticks.c.kind == kind, _ticks.c.timestamp < before_timestamp)
        if key is not None:
            stmt = stmt.where(_ticks.c.key == key)
        return self._change(f"purge {kind} ticks", stmt)
