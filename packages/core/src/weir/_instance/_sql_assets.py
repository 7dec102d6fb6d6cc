"""The asset indexes of the SQL storage: asset keys, materialized partitions, check executions.

:class:`SqlAssetIndex` keeps the ``asset_keys`` and ``asset_check_executions`` tables in step
with the event log (``store_events`` hands it each indexed asset or check event of a batch, in
batch order, inside the batch's transaction) and answers the queries on them. Wiping an asset
deletes every event carrying its key and its check executions; deleting a run refreshes the
keys its events pointed at (:func:`refresh_asset_keys`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir._instance import sql_schema as schema
from weir._instance._sql_base import SqlStorageBase, bounds, chunks, key_string, page
from weir._instance.records import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
    EventLogEntry,
)
from weir._instance.serdes import deserialize
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import StorageError

__all__ = [
    "ASSET_INDEX_TYPES",
    "CHECK_EVALUATION",
    "CHECK_PLANNED",
    "MATERIALIZATION",
    "OBSERVATION",
    "SqlAssetIndex",
    "refresh_asset_keys",
]

MATERIALIZATION = "ASSET_MATERIALIZATION"
OBSERVATION = "ASSET_OBSERVATION"
CHECK_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
ASSET_INDEX_TYPES = frozenset({MATERIALIZATION, OBSERVATION})
"""The event types that make an asset key known (``get_asset_keys``)."""
_WIPED_TYPES = (
    MATERIALIZATION,
    OBSERVATION,
    "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_FAILED_TO_MATERIALIZE",
    CHECK_PLANNED,
    CHECK_EVALUATION,
)
_PLANNED = AssetCheckExecutionRecordStatus.PLANNED.value

_events = schema.event_logs
_keys = schema.asset_keys
_checks = schema.asset_check_executions


class SqlAssetIndex(SqlStorageBase):
    """Asset keys, materialized partitions and asset check executions of the SQL storage."""

    # -- index maintenance (inside store_events' transaction) ------------------------------------
    def _index_asset_event(
        self,
        conn: Connection,
        entry: EventLogEntry,
        row: dict[str, Any],
        storage_id: int,
        materialized: dict[str, dict[str, Any]],
        observed: dict[str, dict[str, Any]],
    ) -> None:
        """Index one asset or check event; materializations/observations are collected into
        ``materialized``/``observed`` (the latest per key) for :meth:`_upsert_asset_keys`."""
        event_type = row["dagster_event_type"]
        key = row["asset_key"]
        if event_type == CHECK_PLANNED:
            _plan_check(conn, entry)
        elif event_type == CHECK_EVALUATION:
            _evaluate_check(conn, entry, row["event"], storage_id)
        elif key is not None and event_type == MATERIALIZATION:
            materialized[key] = {
                "asset_key": key,
                "last_materialization_storage_id": storage_id,
                "last_materialization_timestamp": entry.timestamp,
                "last_run_id": entry.run_id,
                "create_timestamp": entry.timestamp,
            }
        elif key is not None:
            observed[key] = {
                "asset_key": key,
                "last_observation_storage_id": storage_id,
                "last_observation_timestamp": entry.timestamp,
                "create_timestamp": entry.timestamp,
            }

    def _upsert_asset_keys(
        self,
        conn: Connection,
        materialized: dict[str, dict[str, Any]],
        observed: dict[str, dict[str, Any]],
    ) -> None:
        """Point each key at its latest materialization/observation of the batch."""
        if materialized:
            columns = ("last_materialization_storage_id", "last_materialization_timestamp")
            rows = list(materialized.values())
            self._upsert(conn, _keys, rows, ("asset_key",), (*columns, "last_run_id"))
        if observed:
            columns = ("last_observation_storage_id", "last_observation_timestamp")
            self._upsert(conn, _keys, list(observed.values()), ("asset_key",), columns)

    # -- assets -----------------------------------------------------------------------------------
    def get_asset_keys(
        self, prefix: Sequence[str] | None = None, limit: int | None = None, cursor: Any = None
    ) -> list[Any]:
        c = _keys.c
        known = sa.or_(
            c.last_materialization_storage_id.is_not(None),
            c.last_observation_storage_id.is_not(None),
        )
        texts = sorted(self._values("read asset keys", sa.select(c.asset_key).where(known)))
        if cursor is not None:
            after = key_string(cursor)
            texts = [t for t in texts if t > after]
        keys = [AssetKey(json.loads(t)) for t in texts]
        if prefix:
            keys = [k for k in keys if k.has_prefix(prefix)]
        return keys[: max(limit, 0)] if limit is not None else keys

    def get_materialized_partitions(
        self,
        asset_key: Any,
        before_storage_id: int | None = None,
        after_storage_id: int | None = None,
    ) -> set[str]:
        c = _events.c
        query = (
            sa.select(c.partition)
            .distinct()
            .where(
                c.asset_key == key_string(asset_key),
                c.dagster_event_type == MATERIALIZATION,
                c.partition.is_not(None),
                *bounds(c.id, after_storage_id, before_storage_id),
            )
        )
        return set(self._values("read materialized partitions", query))

    def wipe_assets(self, asset_keys: Sequence[Any]) -> None:
        texts = list(dict.fromkeys(key_string(k) for k in asset_keys))
        forgotten = dict.fromkeys(
            (
                "last_materialization_storage_id",
                "last_materialization_timestamp",
                "last_observation_storage_id",
                "last_observation_timestamp",
                "last_run_id",
            )
        )

        def wipe(conn: Connection) -> None:
            for chunk in chunks(texts):
                events = _events.c
                conn.execute(
                    _events.delete().where(
                        events.asset_key.in_(chunk), events.dagster_event_type.in_(_WIPED_TYPES)
                    )
                )
                conn.execute(_checks.delete().where(_checks.c.asset_key.in_(chunk)))
                values = {**forgotten, "wipe_timestamp": time.time()}
                conn.execute(_keys.update().where(_keys.c.asset_key.in_(chunk)).values(values))

        if texts:
            self._write(f"wipe {len(texts)} assets", wipe)

    # -- asset checks ---------------------------------------------------------------------------
    def get_asset_check_executions(
        self,
        check_key: Any,
        limit: int | None = None,
        cursor: int | None = None,
        partition: str | None = None,
    ) -> list[AssetCheckExecutionRecord]:
        if isinstance(check_key, str):
            check_key = AssetCheckKey.from_user_string(check_key)
        check = AssetCheckKey(AssetKey.from_coercible(check_key.asset_key), check_key.name)
        c = _checks.c
        query = sa.select(_checks).where(
            c.asset_key == key_string(check.asset_key), c.check_name == check.name
        )
        if partition is not None:
            query = query.where(c.partition == partition)
        if cursor is not None:
            query = query.where(c.id < cursor)
        rows = self._rows("read check executions", page(query, c.id, False, limit))
        return [
            AssetCheckExecutionRecord(
                check,
                row.id,
                row.run_id,
                AssetCheckExecutionRecordStatus(row.execution_status),
                deserialize(row.evaluation_event) if row.evaluation_event is not None else None,
                row.create_timestamp,
                row.partition,
            )
            for row in rows
        ]


def _check_identity(entry: EventLogEntry) -> tuple[str, str, str | None]:
    data = entry.get_dagster_event().event_specific_data
    key = getattr(data, "asset_key", None)
    name = getattr(data, "check_name", None)
    if key is None or name is None:
        msg = (
            f"The check event {entry!r} has no asset_key/check_name in its data "
            f"({type(data).__name__}); a check event must say which check it is about."
        )
        raise StorageError(msg)
    return key_string(key), name, getattr(data, "partition", None)


def _plan_check(conn: Connection, entry: EventLogEntry) -> None:
    key, name, partition = _check_identity(entry)
    row = {
        "asset_key": key,
        "check_name": name,
        "partition": partition,
        "run_id": entry.run_id,
        "execution_status": _PLANNED,
        "create_timestamp": entry.timestamp,
    }
    conn.execute(_checks.insert(), [row])


def _evaluate_check(conn: Connection, entry: EventLogEntry, text: str, storage_id: int) -> None:
    key, name, partition = _check_identity(entry)
    data = entry.get_dagster_event().event_specific_data
    status = (
        AssetCheckExecutionRecordStatus.SUCCEEDED
        if getattr(data, "passed", False)
        else AssetCheckExecutionRecordStatus.FAILED
    ).value
    c = _checks.c
    values = {
        "execution_status": status,
        "evaluation_event": text,
        "evaluation_event_timestamp": entry.timestamp,
        "evaluation_event_storage_id": storage_id,
    }
    updated = conn.execute(
        _checks.update()
        .where(
            c.run_id == entry.run_id,
            c.asset_key == key,
            c.check_name == name,
            c.partition.is_not_distinct_from(partition),
            c.execution_status == _PLANNED,
        )
        .values(values)
    ).rowcount
    if not updated:
        row = {
            "asset_key": key,
            "check_name": name,
            "partition": partition,
            "run_id": entry.run_id,
            "create_timestamp": entry.timestamp,
            **values,
        }
        conn.execute(_checks.insert(), [row])


def refresh_asset_keys(conn: Connection, keys: Sequence[str]) -> None:
    """Point each key's last materialization/observation at the newest remaining event."""
    c = _events.c
    for key in keys:
        values: dict[str, Any] = {}
        for event_type, prefix in (
            (MATERIALIZATION, "materialization"),
            (OBSERVATION, "observation"),
        ):
            latest = conn.execute(
                sa.select(c.id, c.timestamp, c.run_id)
                .where(c.asset_key == key, c.dagster_event_type == event_type)
                .order_by(c.id.desc())
                .limit(1)
            ).first()
            values[f"last_{prefix}_storage_id"] = latest.id if latest else None
            values[f"last_{prefix}_timestamp"] = latest.timestamp if latest else None
            if event_type == MATERIALIZATION:
                values["last_run_id"] = latest.run_id if latest else None
        conn.execute(_keys.update().where(_keys.c.asset_key == key).values(values))
