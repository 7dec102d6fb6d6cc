"""The storage contract behind an instance: what every backend (memory, SQLite, PostgreSQL) does.

An :class:`InstanceStorage` keeps runs, the event log and the indexes derived from it (asset
materializations/observations, check executions), dynamic partitions, a key-value store, named
state records (schedule/sensor state, backfills, daemon heartbeats) and ticks.

The contract, checked for every backend by ``weir.testing.InstanceStorageContract``:

- ``store_events`` writes a batch atomically: every entry or none. Storage ids grow strictly
  across the whole instance (they are the global cursor). Run-lifecycle events in the batch
  update the run's status and timestamps in the same transaction:

  ============================  ================  ============================================
  event                         run status        also
  ============================  ================  ============================================
  ``PIPELINE_ENQUEUED``         QUEUED
  ``PIPELINE_STARTING``         STARTING
  ``PIPELINE_START``            STARTED           ``start_time``; worker pid (the event's) + host
  ``PIPELINE_SUCCESS``          SUCCESS           ``end_time``
  ``PIPELINE_FAILURE``          FAILURE           ``end_time``
  ``PIPELINE_CANCELING``        CANCELING
  ``PIPELINE_CANCELED``         CANCELED          ``end_time``
  ============================  ================  ============================================

  ``ASSET_MATERIALIZATION`` / ``ASSET_OBSERVATION`` make the asset key known (``get_asset_keys``);
  ``ASSET_CHECK_EVALUATION_PLANNED`` records a PLANNED check execution for the run, and
  ``ASSET_CHECK_EVALUATION`` turns it into SUCCEEDED/FAILED (or adds one if none was planned).
- Readers never see half a batch, and never block the writer.
- Queries return records in storage-id order (ascending unless ``ascending=False``); runs come
  newest first unless ``ascending=True``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance.records import (
    AssetCheckExecutionRecord,
    EventLogEntry,
    EventLogRecord,
    RunRecord,
    RunsFilter,
    StoredRecord,
)

__all__ = ["RUN_STATUS_BY_EVENT", "InstanceStorage"]

RUN_STATUS_BY_EVENT: Mapping[str, DagsterRunStatus] = {
    "PIPELINE_ENQUEUED": DagsterRunStatus.QUEUED,
    "PIPELINE_STARTING": DagsterRunStatus.STARTING,
    "PIPELINE_START": DagsterRunStatus.STARTED,
    "PIPELINE_SUCCESS": DagsterRunStatus.SUCCESS,
    "PIPELINE_FAILURE": DagsterRunStatus.FAILURE,
    "PIPELINE_CANCELING": DagsterRunStatus.CANCELING,
    "PIPELINE_CANCELED": DagsterRunStatus.CANCELED,
}
"""How each run-lifecycle event type changes the run's status (see the module docstring)."""


class InstanceStorage(abc.ABC):
    """Everything an instance stores. Backends subclass this; the instance calls nothing else."""

    #: The storage's URL with any password masked, for reprs and error messages.
    display_url: str = ""

    # -- lifecycle ----------------------------------------------------------------------------
    def upgrade(self) -> None:  # noqa: B027 - optional for storages without a schema
        """Bring the schema to this weir's version (a no-op for storages without one)."""

    def dispose(self) -> None:  # noqa: B027 - optional for storages without connections
        """Release connections and files. The storage is not used afterwards."""

    # -- runs -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_run(self, run: DagsterRun) -> RunRecord:
        """Store a new run. Raises ``RunAlreadyExistsError`` if its run id is stored already."""

    @abc.abstractmethod
    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        """Runs matching ``filters``, newest first (``ascending``: oldest first).

        ``cursor`` is a run id: only runs after it in the chosen order are returned.
        """

    @abc.abstractmethod
    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        """How many runs match ``filters``."""

    @abc.abstractmethod
    def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags of a stored run. Raises ``RunNotFoundError`` for an unknown run."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Remove a run, its tags, its events and the index rows derived from them."""

    @abc.abstractmethod
    def get_run_workers(self, run_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``run_id -> (hostname, pid)`` of the process that started each run (from PIPELINE_START)."""

    # -- events -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def store_events(
        self,
        entries: Sequence[EventLogEntry],
        *,
        expect_status: Mapping[str, DagsterRunStatus] | None = None,
    ) -> list[int] | None:
        """Write ``entries`` in one transaction and return their storage ids, in order.

        ``expect_status`` (``run_id -> status``) makes the write conditional: if any of those runs
        is not in that status when the transaction runs, nothing is written and None is returned.
        The instance uses it to mark a dead run failed exactly once.
        """

    @abc.abstractmethod
    def get_records_for_run(
        self,
        run_id: str,
        cursor: int | None = None,
        of_type: Iterable[str] | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        """Events of one run with storage id after ``cursor`` (ascending) / before it (descending).

        ``of_type`` holds event type values (``"STEP_SUCCESS"``); None means every event, including
        plain log messages.
        """

    @abc.abstractmethod
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
        """Events of the given types across all runs, filtered; bounds are exclusive."""

    @abc.abstractmethod
    def get_asset_keys(
        self, prefix: Sequence[str] | None = None, limit: int | None = None, cursor: Any = None
    ) -> list[Any]:
        """Known asset keys (materialized or observed, not wiped), sorted by their string form.

        ``prefix`` keeps keys whose path starts with it; ``cursor`` (an ``AssetKey``) keeps keys
        after it.
        """

    @abc.abstractmethod
    def get_materialized_partitions(
        self,
        asset_key: Any,
        before_storage_id: int | None = None,
        after_storage_id: int | None = None,
    ) -> set[str]:
        """Partition keys of ``asset_key`` with at least one materialization in the bounds."""

    @abc.abstractmethod
    def wipe_assets(self, asset_keys: Sequence[Any]) -> None:
        """Forget the assets: their materializations, observations, planned events, check
        executions and partition records. Runs and other events stay."""

    # -- asset checks ---------------------------------------------------------------------------
    @abc.abstractmethod
    def get_asset_check_executions(
        self,
        check_key: Any,
        limit: int | None = None,
        cursor: int | None = None,
        partition: str | None = None,
    ) -> list[AssetCheckExecutionRecord]:
        """Executions of one check, newest first; ``cursor`` keeps those with a smaller id."""

    # -- dynamic partitions ----------------------------------------------------------------------
    @abc.abstractmethod
    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Add keys to a dynamic partitions definition; existing keys are kept where they are."""

    @abc.abstractmethod
    def delete_dynamic_partition(self, name: str, key: str) -> None:
        """Remove one key (no error when it is absent)."""

    @abc.abstractmethod
    def get_dynamic_partitions(self, name: str) -> list[str]:
        """The keys of a dynamic partitions definition, in the order they were added."""

    @abc.abstractmethod
    def has_dynamic_partition(self, name: str, key: str) -> bool:
        """Whether ``key`` is a partition of the dynamic partitions definition ``name``."""

    # -- key-value store ---------------------------------------------------------------------------
    @abc.abstractmethod
    def kvs_get(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored values of those keys that exist."""

    @abc.abstractmethod
    def kvs_set(self, pairs: Mapping[str, str]) -> None:
        """Store (insert or overwrite) key-value pairs."""

    # -- named state records: instigator state, backfills, daemon heartbeats ------------------------
    @abc.abstractmethod
    def put_state(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        """Insert or replace the ``(kind, key)`` record."""

    @abc.abstractmethod
    def get_states(
        self,
        kind: str,
        key: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: int | None = None,
    ) -> list[StoredRecord]:
        """Records of one kind, newest (highest id) first; ``cursor`` keeps smaller ids."""

    @abc.abstractmethod
    def delete_state(self, kind: str, key: str) -> None:
        """Remove the ``(kind, key)`` record (no error when it is absent)."""

    # -- ticks --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_tick(
        self, kind: str, key: str, status: str, body: Mapping[str, Any], timestamp: float
    ) -> StoredRecord:
        """Append a tick of the instigator ``(kind, key)``; the record's ``id`` identifies it."""

    @abc.abstractmethod
    def update_tick(self, tick_id: int, status: str, body: Mapping[str, Any]) -> None:
        """Change a stored tick's status and body."""

    @abc.abstractmethod
    def get_ticks(
        self,
        kind: str,
        key: str,
        statuses: Sequence[str] | None = None,
        before_timestamp: float | None = None,
        after_timestamp: float | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        """Ticks of one instigator, newest first."""

    @abc.abstractmethod
    def purge_ticks(self, kind: str, key: str | None, before_timestamp: float) -> int:
        """Delete ticks older than ``before_timestamp``; returns how many were deleted."""
