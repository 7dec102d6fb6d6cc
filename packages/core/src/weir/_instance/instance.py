"""The instance: where runs, the event log, asset records and stored values live.

``Instance.ephemeral()`` keeps everything in memory (what ``materialize`` and tests use);
``Instance.get()`` opens the home ``$WEIR_HOME`` (default ``./.weir``) and the storage its
``weir.yaml`` chooses, SQLite at ``<home>/weir.db`` by default. Storage backends come from the
``weir_storage_for_url`` hook, so ``postgresql://`` works once ``weir-resource-postgres`` is
installed. The query API keeps Dagster's names (``get_runs``, ``fetch_materializations`` ...).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from weir._execution.events import DagsterEvent, DagsterEventType
from weir._execution.run import DagsterRun
from weir._instance.records import (
    AssetCheckExecutionRecord,
    AssetRecordsFilter,
    EventLogConnection,
    EventLogEntry,
    EventLogRecord,
    EventRecordsFilter,
    EventRecordsResult,
    RunRecord,
    RunsFilter,
)
from weir._instance.storage import InstanceStorage
from weir._instance.worker_liveness import dead_run_entries
from weir._model.asset_key import AssetKey
from weir.errors import InvariantViolationError

__all__ = ["RUNLESS_JOB_NAME", "RUNLESS_RUN_ID", "DagsterInstance", "Instance", "InstanceRef"]

logger = logging.getLogger(__name__)

RUNLESS_RUN_ID = ""
"""The run id of asset events reported outside any run (``report_runless_asset_event``)."""
RUNLESS_JOB_NAME = ""

_process_temp_root: str | None = None
_temp_lock = threading.Lock()


def _process_temp_home() -> str:
    """One temporary home per process for ephemeral instances, removed at exit."""
    global _process_temp_root
    with _temp_lock:
        if _process_temp_root is None:
            _process_temp_root = tempfile.mkdtemp(prefix="weir-ephemeral-")
            atexit.register(shutil.rmtree, _process_temp_root, True)
        return _process_temp_root


def default_home() -> str | None:
    """``$WEIR_HOME``, else ``$DAGSTER_HOME`` (so a ported project keeps its layout), else None."""
    return os.environ.get("WEIR_HOME") or os.environ.get("DAGSTER_HOME") or None


class InstanceRef(NamedTuple):
    """What another process needs to open the same instance (picklable)."""

    root_directory: str | None
    storage_url: str | None  # None: an ephemeral instance (the other process gets its own)
    artifact_dir: str | None = None


def _cursor_int(cursor: Any) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        return int(cursor)
    except (TypeError, ValueError):
        msg = f"Invalid cursor {cursor!r}: pass the cursor string a previous call returned."
        raise InvariantViolationError(msg) from None


def _type_values(of_type: Any) -> set[str] | None:
    if of_type is None:
        return None
    items = of_type if isinstance(of_type, (set, frozenset, list, tuple)) else [of_type]
    return {t.value if isinstance(t, DagsterEventType) else str(t) for t in items}


def _page(
    records: list[EventLogRecord], limit: int | None, cursor: str | None
) -> tuple[list[EventLogRecord], str, bool]:
    """``(records, next cursor, has_more)`` of a page fetched with one record beyond ``limit``."""
    has_more = limit is not None and len(records) > limit
    records = records[:limit] if limit is not None else records
    next_cursor = str(records[-1].storage_id) if records else (cursor or "")
    return records, next_cursor, has_more


class Instance:
    """Runs, the event log and the storage directory of a weir deployment.

    Build one with :meth:`ephemeral`, :meth:`get`, :meth:`local_temp` or
    :func:`weir.instance_for_test`; use it as a context manager to release its storage.
    """

    def __init__(
        self,
        root_directory: str | os.PathLike[str] | None = None,
        *,
        storage: InstanceStorage | None = None,
        is_ephemeral: bool | None = None,
        storage_url: str | None = None,
        artifact_dir: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self._root = str(root_directory) if root_directory is not None else None
        if storage is None and storage_url is None:
            from weir._instance.memory_storage import InMemoryInstanceStorage

            storage = InMemoryInstanceStorage()
        self._storage_or_none = storage  # opened on first use when only a URL is given
        self._storage_lock = threading.Lock()
        self._storage_url = storage_url
        self._is_ephemeral = storage_url is None if is_ephemeral is None else is_ephemeral
        self._artifact_dir = artifact_dir
        self._settings = dict(settings or {})

    # -- constructors -----------------------------------------------------------------------
    @staticmethod
    def ephemeral(
        tempdir: str | None = None, preload: Sequence[Any] | None = None, settings: Any = None
    ) -> Instance:
        """An instance that keeps runs and events in memory, for tests and one-off runs."""
        return Instance(tempdir or default_home(), is_ephemeral=True, settings=settings)

    @staticmethod
    def get() -> Instance:
        """The instance of ``$WEIR_HOME`` (default ``./.weir``), storage chosen by its ``weir.yaml``."""
        home = default_home() or os.path.join(os.getcwd(), ".weir")
        return Instance.from_home(home)

    @staticmethod
    def from_home(home: str | os.PathLike[str]) -> Instance:
        """Open the instance whose home folder is ``home`` (created if missing)."""
        from weir._instance.config import load_instance_settings

        os.makedirs(home, exist_ok=True)
        settings = load_instance_settings(home)
        return Instance(
            settings.home,
            storage_url=settings.storage_url,
            artifact_dir=settings.artifact_dir,
            settings=settings.other,
        )

    @staticmethod
    def local_temp(tempdir: str | None = None, overrides: Any = None) -> Instance:
        """A persistent (SQLite) instance in a new temporary folder, or in ``tempdir``."""
        home = tempdir or tempfile.mkdtemp(prefix="weir-instance-")
        if overrides:
            _write_config(home, overrides)
        return Instance.from_home(home)

    @staticmethod
    def from_ref(ref: InstanceRef) -> Instance:
        """Open the instance ``ref`` describes (used by worker processes)."""
        if ref.storage_url is None:
            return Instance(ref.root_directory, is_ephemeral=True)
        return Instance(
            ref.root_directory, storage_url=ref.storage_url, artifact_dir=ref.artifact_dir
        )

    def get_ref(self) -> InstanceRef:
        return InstanceRef(self.root_directory, self._storage_url, self._artifact_dir)

    # -- layout and lifecycle ---------------------------------------------------------------
    @property
    def is_ephemeral(self) -> bool:
        return self._is_ephemeral

    @property
    def is_persistent(self) -> bool:
        return not self._is_ephemeral

    @property
    def root_directory(self) -> str:
        return self._root or _process_temp_home()

    def storage_directory(self) -> str:
        """Where the filesystem IO manager stores values (``<home>/storage`` by default)."""
        return self._artifact_dir or str(Path(self.root_directory) / "storage")

    @property
    def _storage(self) -> InstanceStorage:
        storage = self._storage_or_none
        if storage is None:
            with self._storage_lock:
                storage = self._storage_or_none
                if storage is None:
                    assert self._storage_url is not None
                    storage = self._storage_or_none = storage_for_url(self._storage_url)
        return storage

    @property
    def storage(self) -> InstanceStorage:
        """The storage backend (opened on first use)."""
        return self._storage

    @property
    def settings(self) -> Mapping[str, Any]:
        """The other sections of ``weir.yaml`` (``run_coordinator``, ``concurrency`` ...)."""
        return self._settings

    def upgrade(self) -> None:
        """Migrate the storage's schema to this weir's version (keeps every record)."""
        self._storage.upgrade()

    def dispose(self) -> None:
        if self._storage_or_none is not None:
            self._storage_or_none.dispose()

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # -- runs -------------------------------------------------------------------------------
    def add_run(self, run: DagsterRun) -> DagsterRun:
        self._storage.add_run(run)
        return run

    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        order_by: str | None = None,
        ascending: bool = False,
        cursor: str | None = None,
    ) -> list[RunRecord]:
        """Stored runs with their timestamps, newest first. A run whose process died is marked
        FAILURE here first (see ``worker_liveness``)."""
        records = self._storage.get_run_records(filters, limit, cursor, ascending)
        return self._reap(
            records, lambda: self._storage.get_run_records(filters, limit, cursor, ascending)
        )

    def get_runs(
        self,
        filters: RunsFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        ascending: bool = False,
    ) -> list[DagsterRun]:
        return [
            r.dagster_run for r in self.get_run_records(filters, limit, None, ascending, cursor)
        ]

    def get_run_ids(
        self, filters: RunsFilter | None = None, cursor: str | None = None, limit: int | None = None
    ) -> list[str]:
        return [run.run_id for run in self.get_runs(filters, cursor, limit)]

    def get_run_record_by_id(self, run_id: str) -> RunRecord | None:
        records = self.get_run_records(RunsFilter(run_ids=[run_id]), limit=1)
        return records[0] if records else None

    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        record = self.get_run_record_by_id(run_id)
        return record.dagster_run if record is not None else None

    def has_run(self, run_id: str) -> bool:
        return self._storage.get_runs_count(RunsFilter(run_ids=[run_id])) > 0

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        return self._storage.get_runs_count(filters)

    def add_run_tags(self, run_id: str, new_tags: Mapping[str, str]) -> None:
        self._storage.add_run_tags(run_id, new_tags)

    def delete_run(self, run_id: str) -> None:
        """Remove a run with its tags and events (the values its steps stored stay)."""
        self._storage.delete_run(run_id)

    def _reap(self, records: list[RunRecord], reread: Any) -> list[RunRecord]:
        entries = dead_run_entries(self._storage, records)
        if not entries:
            return records
        for run_id, (expected, batch) in entries.items():
            written = self._storage.store_events(batch, expect_status={run_id: expected})
            if written is not None:
                logger.warning("%s", batch[-1].message)
        return reread()  # type: ignore[no-any-return]

    # -- events -----------------------------------------------------------------------------
    def store_events(self, entries: Sequence[EventLogEntry]) -> list[int]:
        """Store a batch of log entries in one transaction; returns their storage ids."""
        return self._storage.store_events(entries) or []

    def store_event(self, entry: EventLogEntry) -> None:
        self._storage.store_events([entry])

    handle_new_event = store_event

    def report_dagster_event(self, event: DagsterEvent, run_id: str, log_level: int = 10) -> None:
        self.store_event(EventLogEntry.from_event(run_id, event))

    def all_logs(self, run_id: str, of_type: Any = None) -> list[EventLogEntry]:
        """Every log entry of a run in order; ``of_type`` keeps events of one or several types."""
        records = self._storage.get_records_for_run(run_id, of_type=_type_values(of_type))
        return [r.event_log_entry for r in records]

    def get_records_for_run(
        self,
        run_id: str,
        cursor: str | None = None,
        of_type: Any = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> EventLogConnection:
        """A page of a run's event records; pass the returned ``cursor`` to get the next page."""
        after = _cursor_int(cursor)
        fetch = limit + 1 if limit is not None else None
        records = self._storage.get_records_for_run(
            run_id, after, _type_values(of_type), fetch, ascending
        )
        return EventLogConnection(*_page(records, limit, cursor))

    def get_event_records(
        self,
        event_records_filter: EventRecordsFilter,
        limit: int | None = None,
        ascending: bool = False,
    ) -> list[EventLogRecord]:
        f = event_records_filter
        return self._storage.fetch_event_records(
            [f.event_type.value],
            asset_key=f.asset_key,
            partitions=f.asset_partitions,
            after_storage_id=f.after_storage_id,
            before_storage_id=f.before_storage_id,
            after_timestamp=f.after_timestamp,
            before_timestamp=f.before_timestamp,
            storage_ids=f.storage_ids,
            limit=limit,
            ascending=ascending,
        )

    def _fetch(
        self,
        event_type: str,
        records_filter: Any,
        limit: int | None,
        cursor: str | None,
        ascending: bool,
    ) -> EventRecordsResult:
        f = (
            records_filter
            if isinstance(records_filter, AssetRecordsFilter)
            else AssetRecordsFilter(records_filter)
        )
        after, before = f.after_storage_id, f.before_storage_id
        position = _cursor_int(cursor)
        if position is not None:
            if ascending:
                after = position if after is None else max(after, position)
            else:
                before = position if before is None else min(before, position)
        fetch = limit + 1 if limit is not None else None
        records = self._storage.fetch_event_records(
            [event_type],
            asset_key=f.asset_key,
            partitions=f.asset_partitions,
            after_storage_id=after,
            before_storage_id=before,
            after_timestamp=f.after_timestamp,
            before_timestamp=f.before_timestamp,
            storage_ids=f.storage_ids,
            limit=fetch,
            ascending=ascending,
        )
        return EventRecordsResult(*_page(records, limit, cursor))

    def fetch_materializations(
        self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False
    ) -> EventRecordsResult:
        """Materializations of an asset (an ``AssetKey`` or ``AssetRecordsFilter``), newest first."""
        return self._fetch("ASSET_MATERIALIZATION", records_filter, limit, cursor, ascending)

    def fetch_observations(
        self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False
    ) -> EventRecordsResult:
        """Observations of an asset (an ``AssetKey`` or ``AssetRecordsFilter``), newest first."""
        return self._fetch("ASSET_OBSERVATION", records_filter, limit, cursor, ascending)

    def fetch_failed_materializations(
        self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False
    ) -> EventRecordsResult:
        return self._fetch("ASSET_FAILED_TO_MATERIALIZE", records_filter, limit, cursor, ascending)

    def get_latest_materialization_event(self, asset_key: Any) -> EventLogEntry | None:
        records = self._storage.fetch_event_records(
            ["ASSET_MATERIALIZATION"],
            asset_key=AssetKey.from_coercible(asset_key),
            limit=1,
            ascending=False,
        )
        return records[0].event_log_entry if records else None

    def get_latest_materialization_events(
        self, asset_keys: Iterable[Any]
    ) -> dict[AssetKey, EventLogEntry | None]:
        return {
            AssetKey.from_coercible(k): self.get_latest_materialization_event(k) for k in asset_keys
        }

    # -- assets -----------------------------------------------------------------------------
    def get_asset_keys(
        self,
        prefix: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> list[AssetKey]:
        after = AssetKey.from_user_string(cursor) if isinstance(cursor, str) and cursor else cursor
        return list(self._storage.get_asset_keys(prefix, limit, after))

    def has_asset_key(self, asset_key: Any) -> bool:
        key = AssetKey.from_coercible(asset_key)
        return key in self._storage.get_asset_keys(list(key.path))

    def get_materialized_partitions(
        self, asset_key: Any, before_cursor: int | None = None, after_cursor: int | None = None
    ) -> set[str]:
        return self._storage.get_materialized_partitions(
            AssetKey.from_coercible(asset_key), before_cursor, after_cursor
        )

    def get_partition_status(self, asset_key: Any, partitions_def: Any) -> Any:
        """Which partitions of the asset are materialized, failed, in progress (and missing), as
        compact subsets of ``partitions_def``; fast for assets with very many partitions."""
        from weir._instance.partition_status import partition_status

        return partition_status(self, AssetKey.from_coercible(asset_key), partitions_def)

    def get_status_by_partition(
        self, asset_key: Any, partition_keys: Sequence[str], partitions_def: Any
    ) -> dict[str, Any]:
        """Dagster's per-key view: ``{key: AssetPartitionStatus or None}`` for ``partition_keys``."""
        from weir._instance.partition_status import AssetPartitionStatus

        status = self.get_partition_status(asset_key, partitions_def)
        out: dict[str, Any] = {}
        for key in partition_keys:
            if key in status.in_progress:
                out[key] = AssetPartitionStatus.IN_PROGRESS
            elif key in status.failed:
                out[key] = AssetPartitionStatus.FAILED
            elif key in status.materialized:
                out[key] = AssetPartitionStatus.MATERIALIZED
            else:
                out[key] = None
        return out

    def wipe_assets(self, asset_keys: Sequence[Any]) -> None:
        """Forget the assets' materializations, observations and check results (runs stay)."""
        self._storage.wipe_assets([AssetKey.from_coercible(k) for k in asset_keys])

    def report_runless_asset_event(self, asset_event: Any) -> None:
        """Record an ``AssetMaterialization``, ``AssetObservation`` or ``AssetCheckEvaluation``
        that happened outside any run (e.g. reported by an external system)."""
        from weir._execution.events import AssetObservationData, StepMaterializationData
        from weir._model.asset_checks import AssetCheckEvaluation
        from weir._model.results import AssetMaterialization, AssetObservation

        data: Any
        if isinstance(asset_event, AssetMaterialization):
            event_type, data = "ASSET_MATERIALIZATION", StepMaterializationData(asset_event)
        elif isinstance(asset_event, AssetObservation):
            event_type, data = "ASSET_OBSERVATION", AssetObservationData(asset_event)
        elif isinstance(asset_event, AssetCheckEvaluation):
            event_type, data = "ASSET_CHECK_EVALUATION", asset_event
        else:
            msg = (
                "report_runless_asset_event takes an AssetMaterialization, AssetObservation or "
                f"AssetCheckEvaluation, got {type(asset_event).__name__}."
            )
            raise InvariantViolationError(msg)
        key = asset_event.asset_key.to_user_string()
        event = DagsterEvent(
            event_type, RUNLESS_JOB_NAME, None, f"Reported {event_type} for {key}.", data
        )
        self.store_event(EventLogEntry.from_event(RUNLESS_RUN_ID, event))

    # -- asset checks -----------------------------------------------------------------------
    def get_asset_check_execution_history(
        self, check_key: Any, limit: int | None = None, cursor: int | None = None
    ) -> list[AssetCheckExecutionRecord]:
        return self._storage.get_asset_check_executions(check_key, limit, cursor)

    def get_latest_asset_check_execution(self, check_key: Any) -> AssetCheckExecutionRecord | None:
        records = self._storage.get_asset_check_executions(check_key, limit=1)
        return records[0] if records else None

    # -- dynamic partitions -----------------------------------------------------------------
    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> None:
        if isinstance(partition_keys, str):
            msg = (
                f"add_dynamic_partitions({partitions_def_name!r}, ...) takes a list of keys, got the "
                f"string {partition_keys!r}. Wrap it in a list."
            )
            raise InvariantViolationError(msg)
        self._storage.add_dynamic_partitions(partitions_def_name, list(partition_keys))

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._storage.delete_dynamic_partition(partitions_def_name, partition_key)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return self._storage.get_dynamic_partitions(partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return self._storage.has_dynamic_partition(partitions_def_name, partition_key)

    def __repr__(self) -> str:
        kind = "ephemeral" if self._is_ephemeral else _display_url(self._storage_url or "")
        return f"Instance({kind}, root={self._root or '<per-process temp>'})"


def storage_for_url(url: str) -> InstanceStorage:
    """The storage an installed plugin provides for ``url`` (``weir_storage_for_url``)."""
    from weir.plugins import PluginRegistry, default_plugin_manager

    return PluginRegistry(default_plugin_manager()).storage_for_url(url)  # type: ignore[no-any-return]


def _display_url(url: str) -> str:
    """``url`` with any password masked."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _write_config(home: str, overrides: Mapping[str, Any]) -> None:
    import yaml

    os.makedirs(home, exist_ok=True)
    Path(home, "weir.yaml").write_text(yaml.safe_dump(dict(overrides)), encoding="utf-8")


DagsterInstance = Instance
