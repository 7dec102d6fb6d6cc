"""The instance storage contract: behaviour every storage backend must have, as pytest tests.

A backend (memory, SQLite, PostgreSQL, a plugin's) subclasses :class:`InstanceStorageContract` in
a class whose name starts with ``Test`` and says how to make a fresh, empty storage, either by
overriding the ``storage`` fixture (it may use other fixtures, and tears the storage down) or the
``make_storage`` method (the default fixture calls ``dispose()`` afterwards)::

    from weir.testing import InstanceStorageContract


    class TestSqliteStorage(InstanceStorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            storage = SqliteInstanceStorage(f"sqlite:///{tmp_path / 'weir.db'}")
            storage.upgrade()
            yield storage
            storage.dispose()

Every method of :class:`~weir._instance.storage.InstanceStorage` is tested to the letter of its
docstring. Where the docstrings leave a choice open, the suite decides, and the test that pins a
decision says so in its docstring (search for "Decision:"). Stored values are compared field by
field with what was written, never by identity, so a backend that serializes must keep every field.

The decisions, in short: runs are ordered by storage id (the order they were added); every bound
(created/updated, storage id, timestamp) is exclusive; an empty filter list means "no filter" (as
in Dagster) while ``limit=0`` means no rows; a run cursor naming no stored run selects nothing;
``update_timestamp`` is the write time of the last lifecycle event or tag change; start/end
times are the lifecycle entries' timestamps; events of runs that are not stored are kept; asset
keys sort by ``AssetKey.to_string()`` in code-point order; wiping an asset deletes every event
carrying its key and its check executions; an evaluation completes the PLANNED execution of the
same run, check and partition, else adds one; replacing a state keeps its id; state and tick
bodies are JSON; ticks come newest timestamp first; updating or deleting an absent record is no
error.
"""

from __future__ import annotations

import datetime as dt
import enum
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from weir._execution.events import (
    AssetCheckEvaluationPlanned,
    AssetMaterializationPlannedData,
    AssetObservationData,
    DagsterEvent,
    HandledOutputData,
    LoadedInputData,
    SerializableErrorInfo,
    StepFailureData,
    StepMaterializationData,
    StepOutputData,
    TypeCheckData,
)
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance.records import (
    AssetCheckExecutionRecordStatus,
    EventLogEntry,
    RunRecord,
    RunsFilter,
)
from weir._instance.storage import InstanceStorage
from weir._model.asset_checks import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
    AssetCheckSeverity,
)
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.metadata import MetadataValue
from weir._model.results import AssetMaterialization, AssetObservation
from weir._model.table import TableColumn, TableSchema
from weir.errors import RunAlreadyExistsError, RunNotFoundError, StorageError

__all__ = ["InstanceStorageContract", "PlannedCheckData", "assert_same_fields"]

S = DagsterRunStatus
PLANNED = AssetCheckExecutionRecordStatus.PLANNED
SUCCEEDED = AssetCheckExecutionRecordStatus.SUCCEEDED
FAILED = AssetCheckExecutionRecordStatus.FAILED
LIFECYCLE = [
    ("PIPELINE_ENQUEUED", S.QUEUED),
    ("PIPELINE_STARTING", S.STARTING),
    ("PIPELINE_START", S.STARTED),
    ("PIPELINE_SUCCESS", S.SUCCESS),
    ("PIPELINE_FAILURE", S.FAILURE),
    ("PIPELINE_CANCELING", S.CANCELING),
    ("PIPELINE_CANCELED", S.CANCELED),
]


# The engine's planned-check payload under the name this suite used before the engine had one
# (test_sql_storage.py imports it); new code should use AssetCheckEvaluationPlanned itself.
PlannedCheckData = AssetCheckEvaluationPlanned


def _slots(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__weakref__", "__dict__") and name not in names:
                names.append(name)
    return names


def assert_same_fields(actual: Any, expected: Any, where: str = "value") -> None:
    """Assert ``actual`` has ``expected``'s type and, recursively, every field equal.

    Objects are compared attribute by attribute (``__slots__`` and ``__dict__``), containers item by
    item, so a failure names the exact field (``entry.dagster_event.pid``) that did not survive.
    Dict key order is not compared (JSON columns may reorder keys).
    """
    if type(actual) is not type(expected):
        msg = f"{where}: expected a {type(expected).__name__} ({expected!r}), got a {type(actual).__name__} ({actual!r})"
        raise AssertionError(msg)
    if expected is None or isinstance(expected, (str, int, float, bytes, enum.Enum)):
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_same_fields(actual[key], value, f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_same_fields(got, want, f"{where}[{i}]")
    elif isinstance(expected, (set, frozenset)):
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    else:
        names = _slots(type(expected)) + sorted(getattr(expected, "__dict__", {}))
        if not names:  # a field-less value (e.g. MetadataValue.null()): its type is all there is
            assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"
        for name in names:
            assert_same_fields(getattr(actual, name), getattr(expected, name), f"{where}.{name}")


def _key(value: Any) -> AssetKey:
    return value if isinstance(value, AssetKey) else AssetKey.from_coercible(value)


def _wait_past(timestamp: float) -> None:
    """Sleep (a few ms at most) until the clock is clearly past ``timestamp``."""
    while time.time() <= timestamp + 0.002:
        time.sleep(0.001)


def _run_ids(records: list[RunRecord]) -> list[str]:
    return [r.dagster_run.run_id for r in records]


class InstanceStorageContract:
    """Base class of the storage contract suite (not collected itself: no ``Test`` prefix)."""

    job_name = "contract_job"

    # -- what a subclass provides ----------------------------------------------------------------
    def make_storage(self) -> InstanceStorage:
        """A fresh, empty storage. Override this or the ``storage`` fixture."""
        msg = (
            f"{type(self).__name__} must say how to build the storage under test: override the "
            "`storage` fixture or the `make_storage()` method."
        )
        raise NotImplementedError(msg)

    @pytest.fixture
    def storage(self) -> Iterator[InstanceStorage]:
        """The storage under test (by default ``make_storage()``, disposed afterwards)."""
        storage = self.make_storage()
        try:
            yield storage
        finally:
            storage.dispose()

    # -- helpers: runs -----------------------------------------------------------------------------
    def make_run(self, run_id: str | None = None, **fields: Any) -> DagsterRun:
        """A ``DagsterRun`` of ``job_name`` (any ``DagsterRun`` keyword may be given)."""
        fields.setdefault("job_name", self.job_name)
        return DagsterRun(run_id=run_id or uuid.uuid4().hex, **fields)

    def add_run(
        self, storage: InstanceStorage, run_id: str | None = None, **fields: Any
    ) -> RunRecord:
        return storage.add_run(self.make_run(run_id, **fields))

    def add_runs_in_order(
        self, storage: InstanceStorage, *run_ids: str, **fields: Any
    ) -> list[RunRecord]:
        """Add runs whose create timestamps are strictly increasing (a few ms apart)."""
        records: list[RunRecord] = []
        for run_id in run_ids:
            if records:
                _wait_past(records[-1].create_timestamp)
            records.append(self.add_run(storage, run_id, **fields))
        return records

    def run_record(self, storage: InstanceStorage, run_id: str) -> RunRecord:
        found = storage.get_run_records(RunsFilter(run_ids=[run_id]))
        assert len(found) == 1, f"expected run {run_id!r} to be stored once, got {found!r}"
        return found[0]

    # -- helpers: events -----------------------------------------------------------------------------
    def event(
        self,
        run_id: str,
        event_type: str,
        data: Any = None,
        *,
        step_key: str | None = None,
        message: str | None = None,
        timestamp: float | None = None,
        pid: int | None = None,
        logging_tags: dict[str, str] | None = None,
    ) -> EventLogEntry:
        """A stored-form engine event: ``EventLogEntry.from_event(run_id, DagsterEvent(...))``."""
        event = DagsterEvent(
            event_type,
            self.job_name,
            step_key,
            message if message is not None else f"{event_type} event",
            data,
            logging_tags=logging_tags,
            pid=pid,
        )
        return EventLogEntry.from_event(run_id, event, timestamp)

    def log_message(
        self, run_id: str, message: str, *, level: int = 20, timestamp: float | None = None
    ) -> EventLogEntry:
        """A plain ``context.log`` line (no ``DagsterEvent``)."""
        return EventLogEntry(None, level, message, run_id, timestamp, "a_step", self.job_name, None)

    def materialization(
        self, run_id: str, asset_key: Any, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = StepMaterializationData(AssetMaterialization(_key(asset_key), partition=partition))
        return self.event(run_id, "ASSET_MATERIALIZATION", data, step_key="a_step", **kw)

    def observation(
        self, run_id: str, asset_key: Any, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = AssetObservationData(AssetObservation(_key(asset_key), partition=partition))
        return self.event(run_id, "ASSET_OBSERVATION", data, step_key="a_step", **kw)

    def planned_materialization(
        self, run_id: str, asset_key: Any, partition: str | None = None
    ) -> EventLogEntry:
        data = AssetMaterializationPlannedData(_key(asset_key), partition)
        return self.event(run_id, "ASSET_MATERIALIZATION_PLANNED", data)

    def planned_check_data(
        self, asset_key: AssetKey, check_name: str, partition: str | None
    ) -> Any:
        """The ``ASSET_CHECK_EVALUATION_PLANNED`` payload, as the engine builds it."""
        return AssetCheckEvaluationPlanned(asset_key, check_name, partition)

    def check_planned(
        self, run_id: str, asset_key: Any, check_name: str, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = self.planned_check_data(_key(asset_key), check_name, partition)
        return self.event(run_id, "ASSET_CHECK_EVALUATION_PLANNED", data, **kw)

    def check_evaluation(
        self,
        run_id: str,
        asset_key: Any,
        check_name: str,
        passed: bool = True,
        partition: str | None = None,
        **kw: Any,
    ) -> EventLogEntry:
        data = AssetCheckEvaluation(_key(asset_key), check_name, passed, partition=partition)
        return self.event(run_id, "ASSET_CHECK_EVALUATION", data, step_key="a_check", **kw)

    def store(self, storage: InstanceStorage, *entries: EventLogEntry) -> list[int]:
        ids = storage.store_events(list(entries))
        assert ids is not None, "an unconditional store_events must return the storage ids"
        return ids

    # == runs ===================================================================================
    def test_add_run_returns_a_record_of_the_stored_run(self, storage: InstanceStorage) -> None:
        before = time.time()
        record = self.add_run(storage, "r1", status=S.QUEUED)
        after = time.time()
        assert isinstance(record, RunRecord)
        assert isinstance(record.storage_id, int)
        assert record.dagster_run.run_id == "r1"
        assert record.dagster_run.status is S.QUEUED
        assert before - 1 <= record.create_timestamp <= after + 1
        assert record.update_timestamp == record.create_timestamp
        assert record.start_time is None and record.end_time is None

    def test_add_run_twice_raises_run_already_exists(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "dup", job_name="first")
        with pytest.raises(RunAlreadyExistsError, match="dup"):
            self.add_run(storage, "dup", job_name="second")
        assert self.run_record(storage, "dup").dagster_run.job_name == "first"
        assert storage.get_runs_count() == 1

    def test_run_round_trip_keeps_every_field(self, storage: InstanceStorage) -> None:
        run = self.make_run(
            "full",
            run_config={
                "ops": {"a": {"config": {"n": 3, "rate": 0.5, "on": True, "none": None}}},
                "resources": {
                    "db": {"config": {"hosts": ["h1", "h2"], "nested": {"x": [1, {"y": "z"}]}}}
                },
            },
            tags={"team": "data", "dagster/partition": "2024-01-01"},
            status=S.QUEUED,
            asset_selection=[AssetKey(["raw", "orders"]), AssetKey("summary")],
            parent_run_id="parent",
            root_run_id="root",
            step_keys_to_execute=["raw__orders", "summary"],
        )
        added = storage.add_run(run)
        assert_same_fields(added.dagster_run, run, "add_run().dagster_run")
        assert_same_fields(self.run_record(storage, "full").dagster_run, run, "stored run")

    def test_run_without_optional_fields_round_trips(self, storage: InstanceStorage) -> None:
        run = self.make_run("bare")
        storage.add_run(run)
        stored = self.run_record(storage, "bare").dagster_run
        assert_same_fields(stored, run, "stored run")
        assert stored.asset_selection is None and stored.step_keys_to_execute is None

    def test_stored_run_is_independent_of_the_callers_object(
        self, storage: InstanceStorage
    ) -> None:
        run = self.make_run(
            "mine", run_config={"ops": {"a": {"config": {"n": 1}}}}, tags={"t": "1"}
        )
        returned = storage.add_run(run).dagster_run
        run.status = S.SUCCESS
        run.tags["t"] = "changed"
        run.run_config["ops"]["a"]["config"]["n"] = 2
        returned.tags["extra"] = "x"
        stored = self.run_record(storage, "mine").dagster_run
        assert stored.status is S.NOT_STARTED
        assert stored.tags == {"t": "1"}
        assert stored.run_config == {"ops": {"a": {"config": {"n": 1}}}}

    def test_run_records_come_newest_first_or_oldest_first(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c")
        assert _run_ids(storage.get_run_records()) == ["c", "b", "a"]
        assert _run_ids(storage.get_run_records(ascending=True)) == ["a", "b", "c"]

    def test_empty_storage_has_no_runs(self, storage: InstanceStorage) -> None:
        assert storage.get_run_records() == []
        assert storage.get_runs_count() == 0
        assert storage.get_run_records(RunsFilter(job_name="x")) == []

    def test_runs_filter_run_ids(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c")
        found = storage.get_run_records(RunsFilter(run_ids=["c", "a", "unknown"]))
        assert _run_ids(found) == ["c", "a"]

    def test_runs_filter_job_name(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl")
        self.add_run(storage, "b", job_name="report")
        self.add_run(storage, "c", job_name="etl_2")
        assert _run_ids(storage.get_run_records(RunsFilter(job_name="etl"))) == ["a"]

    def test_runs_filter_statuses_use_the_current_status(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "queued", "started", "done", status=S.QUEUED)
        self.store(storage, self.event("started", "PIPELINE_START"))
        self.store(
            storage, self.event("done", "PIPELINE_START"), self.event("done", "PIPELINE_SUCCESS")
        )

        def by(*statuses: DagsterRunStatus) -> list[str]:
            return _run_ids(storage.get_run_records(RunsFilter(statuses=list(statuses))))

        assert by(S.QUEUED) == ["queued"]
        assert by(S.STARTED, S.SUCCESS) == ["done", "started"]
        assert by(S.FAILURE) == []

    def test_runs_filter_tags_need_every_tag_with_its_value(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", tags={"team": "data", "env": "prod"})
        self.add_run(storage, "b", tags={"team": "data", "env": "dev"})
        self.add_run(storage, "c", tags={"team": "web"})
        assert _run_ids(storage.get_run_records(RunsFilter(tags={"team": "data"}))) == ["b", "a"]
        assert _run_ids(
            storage.get_run_records(RunsFilter(tags={"team": "data", "env": "prod"}))
        ) == ["a"]
        assert storage.get_run_records(RunsFilter(tags={"missing": "data"})) == []

    def test_runs_filter_tag_with_a_list_matches_any_value(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", tags={"env": "prod"})
        self.add_run(storage, "b", tags={"env": "dev"})
        self.add_run(storage, "c", tags={"env": "test"})
        self.add_run(storage, "d")
        found = storage.get_run_records(RunsFilter(tags={"env": ["prod", "test"]}))
        assert _run_ids(found) == ["c", "a"]

    def test_runs_filter_snapshot_id_matches_runs_without_snapshot_none(
        self, storage: InstanceStorage
    ) -> None:
        """Decision: runs carry no snapshot id (yet), so a ``snapshot_id`` filter matches none."""
        self.add_run(storage, "a")
        assert storage.get_run_records(RunsFilter(snapshot_id="abc123")) == []

    def test_runs_filter_created_bounds_are_exclusive(self, storage: InstanceStorage) -> None:
        a, _, c = self.add_runs_in_order(storage, "a", "b", "c")
        after = storage.get_run_records(RunsFilter(created_after=a.create_timestamp))
        before = storage.get_run_records(RunsFilter(created_before=c.create_timestamp))
        both = RunsFilter(created_after=a.create_timestamp, created_before=c.create_timestamp)
        assert _run_ids(after) == ["c", "b"]
        assert _run_ids(before) == ["b", "a"]
        assert _run_ids(storage.get_run_records(both)) == ["b"]

    def test_runs_filter_accepts_datetimes(self, storage: InstanceStorage) -> None:
        a, b = self.add_runs_in_order(storage, "a", "b")
        middle = dt.datetime.fromtimestamp(
            (a.create_timestamp + b.create_timestamp) / 2, dt.timezone.utc
        )
        assert _run_ids(storage.get_run_records(RunsFilter(created_after=middle))) == ["b"]
        assert _run_ids(storage.get_run_records(RunsFilter(created_before=middle))) == ["a"]

    def test_runs_filter_updated_bounds_follow_changes(self, storage: InstanceStorage) -> None:
        """Decision: a lifecycle event or ``add_run_tags`` sets ``update_timestamp`` to the write time."""
        a, b = self.add_runs_in_order(storage, "a", "b")
        _wait_past(b.update_timestamp)
        self.store(storage, self.event("a", "PIPELINE_START"))
        a = self.run_record(storage, "a")
        assert a.update_timestamp > b.update_timestamp
        assert _run_ids(storage.get_run_records(RunsFilter(updated_after=b.update_timestamp))) == [
            "a"
        ]
        assert _run_ids(storage.get_run_records(RunsFilter(updated_before=a.update_timestamp))) == [
            "b"
        ]

    def test_runs_filter_exclude_subruns(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "root")
        self.add_run(storage, "child", parent_run_id="root", root_run_id="root")
        assert _run_ids(storage.get_run_records(RunsFilter(exclude_subruns=True))) == ["root"]
        assert _run_ids(storage.get_run_records(RunsFilter(exclude_subruns=False))) == [
            "child",
            "root",
        ]

    def test_runs_filter_fields_combine_with_and(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl", tags={"env": "prod"})
        self.add_run(storage, "b", job_name="etl", tags={"env": "dev"})
        self.add_run(storage, "c", job_name="other", tags={"env": "prod"})
        found = storage.get_run_records(
            RunsFilter(job_name="etl", tags={"env": "prod"}, statuses=[S.NOT_STARTED])
        )
        assert _run_ids(found) == ["a"]

    def test_runs_filter_empty_lists_do_not_filter(self, storage: InstanceStorage) -> None:
        """Decision (as Dagster): empty ``run_ids``/``statuses``/``tags`` mean "no filter"."""
        self.add_runs_in_order(storage, "a", "b")
        assert _run_ids(storage.get_run_records(RunsFilter(run_ids=[], statuses=[], tags={}))) == [
            "b",
            "a",
        ]

    def test_run_records_limit(self, storage: InstanceStorage) -> None:
        """Decision: ``limit=0`` returns no runs (the number is taken literally)."""
        self.add_runs_in_order(storage, "a", "b", "c")
        assert _run_ids(storage.get_run_records(limit=2)) == ["c", "b"]
        assert _run_ids(storage.get_run_records(limit=2, ascending=True)) == ["a", "b"]
        assert storage.get_run_records(limit=0) == []

    def test_run_records_cursor_newest_first(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c", "d")
        assert _run_ids(storage.get_run_records(cursor="c")) == ["b", "a"]
        assert _run_ids(storage.get_run_records(cursor="a")) == []

    def test_run_records_cursor_oldest_first(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c", "d")
        assert _run_ids(storage.get_run_records(cursor="b", ascending=True)) == ["c", "d"]

    def test_run_records_cursor_and_limit_page_through_all_runs(
        self, storage: InstanceStorage
    ) -> None:
        self.add_runs_in_order(storage, *"abcde")
        pages, cursor = [], None
        while True:
            page = _run_ids(storage.get_run_records(limit=2, cursor=cursor))
            if not page:
                break
            pages.append(page)
            cursor = page[-1]
        assert pages == [["e", "d"], ["c", "b"], ["a"]]

    def test_run_records_cursor_need_not_match_the_filters(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl")
        self.add_run(storage, "b", job_name="other")
        self.add_run(storage, "c", job_name="etl")
        assert _run_ids(storage.get_run_records(RunsFilter(job_name="etl"), cursor="b")) == ["a"]

    def test_run_records_unknown_cursor_returns_nothing(self, storage: InstanceStorage) -> None:
        """Decision (as Dagster's SQL storage): a cursor naming no stored run selects no runs."""
        self.add_run(storage, "a")
        assert storage.get_run_records(cursor="never-stored") == []

    def test_runs_count_follows_the_filters(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl")
        self.add_run(storage, "b", job_name="etl", tags={"env": "prod"})
        self.add_run(storage, "c", job_name="other")
        assert storage.get_runs_count() == 3
        assert storage.get_runs_count(RunsFilter(job_name="etl")) == 2
        assert storage.get_runs_count(RunsFilter(tags={"env": "prod"})) == 1
        assert storage.get_runs_count(RunsFilter(job_name="nope")) == 0

    def test_add_run_tags_adds_and_overwrites(self, storage: InstanceStorage) -> None:
        added = self.add_run(storage, "a", tags={"keep": "1", "change": "old"})
        _wait_past(added.update_timestamp)
        storage.add_run_tags("a", {"change": "new", "added": "yes"})
        record = self.run_record(storage, "a")
        assert record.dagster_run.tags == {"keep": "1", "change": "new", "added": "yes"}
        assert record.update_timestamp > added.update_timestamp
        assert _run_ids(storage.get_run_records(RunsFilter(tags={"change": "new"}))) == ["a"]
        assert storage.get_run_records(RunsFilter(tags={"change": "old"})) == []

    def test_add_run_tags_of_an_unknown_run_raises_run_not_found(
        self, storage: InstanceStorage
    ) -> None:
        with pytest.raises(RunNotFoundError, match="ghost"):
            storage.add_run_tags("ghost", {"a": "b"})

    def test_delete_run_removes_the_run_and_its_events(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "gone")
        self.add_run(storage, "kept")
        self.store(
            storage, self.event("gone", "PIPELINE_START", pid=11), self.log_message("gone", "hi")
        )
        kept_ids = self.store(storage, self.event("kept", "PIPELINE_START"))
        storage.delete_run("gone")
        assert _run_ids(storage.get_run_records()) == ["kept"]
        assert storage.get_runs_count() == 1
        assert storage.get_records_for_run("gone") == []
        assert storage.get_run_workers(["gone"]) == {}
        assert [r.storage_id for r in storage.fetch_event_records(["PIPELINE_START"])] == kept_ids

    def test_delete_run_removes_the_index_rows_of_its_events(
        self, storage: InstanceStorage
    ) -> None:
        """Decision: an asset key known only from the deleted run's events is no longer known."""
        self.add_run(storage, "gone")
        self.add_run(storage, "kept")
        self.store(
            storage,
            self.materialization("gone", "only_gone", "p1"),
            self.materialization("gone", "shared", "p1"),
            self.check_planned("gone", "shared", "chk"),
            self.check_evaluation("gone", "shared", "chk"),
        )
        self.store(storage, self.materialization("kept", "shared", "p2"))
        storage.delete_run("gone")
        assert storage.get_asset_keys() == [AssetKey("shared")]
        assert storage.get_materialized_partitions(AssetKey("shared")) == {"p2"}
        assert storage.get_materialized_partitions(AssetKey("only_gone")) == set()
        assert (
            storage.fetch_event_records(["ASSET_MATERIALIZATION"], asset_key=AssetKey("only_gone"))
            == []
        )
        assert storage.get_asset_check_executions(AssetCheckKey(AssetKey("shared"), "chk")) == []

    def test_delete_unknown_run_does_nothing(self, storage: InstanceStorage) -> None:
        """Decision: deleting a run that is not stored is no error (as deleting absent records)."""
        self.add_run(storage, "a")
        storage.delete_run("never-stored")
        assert storage.get_runs_count() == 1

    def test_a_deleted_run_id_can_be_used_again(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "again", job_name="first")
        storage.delete_run("again")
        self.add_run(storage, "again", job_name="second")
        assert self.run_record(storage, "again").dagster_run.job_name == "second"

    # == run lifecycle ============================================================================
    @pytest.mark.parametrize(("event_type", "status"), LIFECYCLE)
    def test_lifecycle_event_sets_the_run_status(
        self, storage: InstanceStorage, event_type: str, status: DagsterRunStatus
    ) -> None:
        self.add_run(storage, "r")
        self.store(storage, self.event("r", event_type))
        assert self.run_record(storage, "r").dagster_run.status is status
        assert storage.get_runs_count(RunsFilter(statuses=[status])) == 1

    def test_run_start_sets_start_time_and_worker(self, storage: InstanceStorage) -> None:
        """Decision: the event carries only a pid; the host is the storing process's
        ``socket.gethostname()`` (the run worker stores its own PIPELINE_START)."""
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START", timestamp=1_700_000_000.25, pid=4242))
        record = self.run_record(storage, "r")
        assert record.start_time == 1_700_000_000.25
        assert record.end_time is None
        assert storage.get_run_workers(["r"]) == {"r": (socket.gethostname(), 4242)}

    @pytest.mark.parametrize(
        "event_type", ["PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"]
    )
    def test_run_end_events_set_end_time(self, storage: InstanceStorage, event_type: str) -> None:
        """Decision: start/end times are the timestamps of the lifecycle events' log entries."""
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START", timestamp=100.5))
        self.store(storage, self.event("r", event_type, timestamp=160.75))
        record = self.run_record(storage, "r")
        assert (record.start_time, record.end_time) == (100.5, 160.75)

    def test_other_events_leave_the_run_status_alone(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START", timestamp=5.0))
        self.store(
            storage,
            self.event("r", "STEP_START", step_key="s"),
            self.event("r", "ENGINE_EVENT"),
            self.event("r", "STEP_FAILURE", StepFailureData(None), step_key="s"),
            self.log_message("r", "hello"),
        )
        record = self.run_record(storage, "r")
        assert record.dagster_run.status is S.STARTED
        assert (record.start_time, record.end_time) == (5.0, None)

    def test_lifecycle_events_apply_in_batch_order(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "r")
        self.store(
            storage,
            self.event("r", "PIPELINE_STARTING"),
            self.event("r", "PIPELINE_START"),
            self.event("r", "PIPELINE_FAILURE"),
        )
        assert self.run_record(storage, "r").dagster_run.status is S.FAILURE

    def test_run_workers_cover_only_started_runs(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "started")
        self.add_run(storage, "waiting")
        self.store(storage, self.event("started", "PIPELINE_START", pid=7))
        workers = storage.get_run_workers(["started", "waiting", "unknown"])
        assert workers == {"started": (socket.gethostname(), 7)}

    def test_lifecycle_event_of_an_unstored_run_is_stored_without_a_run(
        self, storage: InstanceStorage
    ) -> None:
        """Decision: events of a run that is not stored are kept; they create no run."""
        ids = self.store(storage, self.event("nowhere", "PIPELINE_START"))
        assert [r.storage_id for r in storage.get_records_for_run("nowhere")] == ids
        assert storage.get_runs_count() == 0
        assert storage.get_run_workers(["nowhere"]) == {}

    # == events ===================================================================================
    def test_store_events_returns_strictly_increasing_ids(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a")
        self.add_run(storage, "b")
        first = self.store(storage, self.event("a", "STEP_START"), self.event("a", "STEP_SUCCESS"))
        second = self.store(storage, self.event("b", "STEP_START"), self.log_message("b", "x"))
        third = self.store(storage, self.event("a", "ENGINE_EVENT"))
        ids = first + second + third
        assert all(isinstance(i, int) for i in ids)
        assert ids == sorted(ids) and len(set(ids)) == 5

    def test_storing_an_empty_batch_returns_no_ids(self, storage: InstanceStorage) -> None:
        assert storage.store_events([]) == []

    def test_records_for_run_are_that_runs_events_in_order(self, storage: InstanceStorage) -> None:
        a1 = self.store(storage, self.event("a", "STEP_START"))
        self.store(storage, self.event("b", "STEP_START"))
        a2 = self.store(storage, self.event("a", "STEP_SUCCESS"), self.log_message("a", "done"))
        records = storage.get_records_for_run("a")
        assert [r.storage_id for r in records] == a1 + a2
        assert all(r.run_id == "a" for r in records)

    def test_plain_log_entries_are_stored_and_returned(self, storage: InstanceStorage) -> None:
        error = SerializableErrorInfo("ValueError: bad", ["  File 'x.py', line 1\n"], "ValueError")
        entry = EventLogEntry(
            error, 40, "something failed", "r", 1234.5, "a_step", self.job_name, None
        )
        self.store(storage, entry)
        (record,) = storage.get_records_for_run("r")
        assert record.event_log_entry.dagster_event is None
        assert record.event_type is None
        assert_same_fields(record.event_log_entry, entry, "plain log entry")

    def test_records_for_run_of_type(self, storage: InstanceStorage) -> None:
        self.store(
            storage,
            self.event("r", "STEP_START"),
            self.log_message("r", "x"),
            self.event("r", "STEP_OUTPUT", StepOutputData("s", "result")),
            self.event("r", "STEP_SUCCESS"),
        )

        def of_type(*types: str) -> list[str | None]:
            return [
                r.event_log_entry.dagster_event.event_type_value
                for r in storage.get_records_for_run("r", of_type=list(types))
                if r.event_log_entry.dagster_event
            ]

        assert of_type("STEP_SUCCESS") == ["STEP_SUCCESS"]
        assert of_type("STEP_SUCCESS", "STEP_START") == ["STEP_START", "STEP_SUCCESS"]
        assert of_type("PIPELINE_FAILURE") == []

    def test_records_for_run_cursor_ascending_keeps_later_events(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(storage, *(self.event("r", "ENGINE_EVENT") for _ in range(4)))
        assert [r.storage_id for r in storage.get_records_for_run("r", cursor=ids[1])] == ids[2:]
        assert storage.get_records_for_run("r", cursor=ids[3]) == []

    def test_records_for_run_cursor_descending_keeps_earlier_events(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(storage, *(self.event("r", "ENGINE_EVENT") for _ in range(4)))
        found = storage.get_records_for_run("r", cursor=ids[2], ascending=False)
        assert [r.storage_id for r in found] == [ids[1], ids[0]]

    def test_records_for_run_limit_in_both_orders(self, storage: InstanceStorage) -> None:
        ids = self.store(storage, *(self.event("r", "ENGINE_EVENT") for _ in range(5)))
        assert [r.storage_id for r in storage.get_records_for_run("r", limit=2)] == ids[:2]
        assert [
            r.storage_id for r in storage.get_records_for_run("r", limit=2, ascending=False)
        ] == [ids[4], ids[3]]

    def test_records_for_run_filters_combine(self, storage: InstanceStorage) -> None:
        ids = self.store(
            storage,
            self.event("r", "STEP_START"),
            self.event("r", "STEP_SUCCESS"),
            self.event("r", "STEP_START"),
            self.event("r", "STEP_SUCCESS"),
            self.event("r", "STEP_START"),
        )
        found = storage.get_records_for_run(
            "r", cursor=ids[4], of_type=["STEP_START"], limit=1, ascending=False
        )
        assert [r.storage_id for r in found] == [ids[2]]

    def test_records_for_an_unknown_run_are_empty(self, storage: InstanceStorage) -> None:
        self.store(storage, self.event("r", "STEP_START"))
        assert storage.get_records_for_run("other") == []

    def _round_trip_payloads(self) -> dict[str, tuple[str, Any]]:
        key = AssetKey(["round", "trip"])
        metadata = {
            "text": MetadataValue.text("hello"),
            "rows": MetadataValue.int(42),
            "ratio": MetadataValue.float(0.125),
            "ok": MetadataValue.bool(True),
            "json": MetadataValue.json({"a": [1, 2, {"b": None}], "c": "d"}),
            "path": MetadataValue.path("/tmp/out.parquet"),
            "url": MetadataValue.url("https://example.com/x"),
            "md": MetadataValue.md("# title"),
            "at": MetadataValue.timestamp(1_700_000_000.5),
            "asset": MetadataValue.asset(AssetKey(["up", "stream"])),
            "run": MetadataValue.dagster_run("abc"),
            "null": MetadataValue.null(),
            "schema": MetadataValue.table_schema(
                TableSchema([TableColumn("id", "int"), TableColumn("name")])
            ),
        }
        error = SerializableErrorInfo(
            "ValueError: boom",
            ['  File "x.py", line 3, in f\n    raise ValueError("boom")\n'],
            "ValueError",
            cause=SerializableErrorInfo("KeyError: 'k'", [], "KeyError"),
        )
        return {
            "materialization": (
                "ASSET_MATERIALIZATION",
                StepMaterializationData(
                    AssetMaterialization(
                        key,
                        "made",
                        metadata,
                        "2024-01-01",
                        {"dagster/code_version": "v1", "dagster/data_version": "dv"},
                    )
                ),
            ),
            "observation": (
                "ASSET_OBSERVATION",
                AssetObservationData(AssetObservation(key, None, {"rows": 3}, None, {})),
            ),
            "check_evaluation": (
                "ASSET_CHECK_EVALUATION",
                AssetCheckEvaluation(
                    key,
                    "non_negative",
                    False,
                    {"min": MetadataValue.int(-1)},
                    AssetCheckEvaluationTargetMaterializationData(7, "up-run", 99.5),
                    AssetCheckSeverity.WARN,
                    "too small",
                    True,
                    "p1",
                ),
            ),
            "check_planned": (
                "ASSET_CHECK_EVALUATION_PLANNED",
                self.planned_check_data(key, "non_negative", "p1"),
            ),
            "materialization_planned": (
                "ASSET_MATERIALIZATION_PLANNED",
                AssetMaterializationPlannedData(key, "p1"),
            ),
            "step_failure": ("STEP_FAILURE", StepFailureData(error, None, "USER_CODE_ERROR")),
            "step_output": (
                "STEP_OUTPUT",
                StepOutputData(
                    "a_step",
                    "result",
                    "m1",
                    TypeCheckData(True, "result", "checked", {"n": MetadataValue.int(1)}),
                ),
            ),
            "handled_output": (
                "HANDLED_OUTPUT",
                HandledOutputData("result", "io_manager", {"path": MetadataValue.path("/tmp/x")}),
            ),
            "loaded_input": (
                "LOADED_INPUT",
                LoadedInputData("x", "io_manager", "result", "up", {}),
            ),
            "engine_event": ("ENGINE_EVENT", None),
            "run_start": ("PIPELINE_START", None),
        }

    @pytest.mark.parametrize(
        "payload",
        [
            "materialization",
            "observation",
            "check_evaluation",
            "check_planned",
            "materialization_planned",
            "step_failure",
            "step_output",
            "handled_output",
            "loaded_input",
            "engine_event",
            "run_start",
        ],
    )
    def test_event_round_trip_keeps_every_field(
        self, storage: InstanceStorage, payload: str
    ) -> None:
        event_type, data = self._round_trip_payloads()[payload]
        self.add_run(storage, "r")
        entry = self.event(
            "r",
            event_type,
            data,
            step_key=None if event_type in ("ENGINE_EVENT", "PIPELINE_START") else "round__trip",
            message=f"a {payload} — with unicode ✓",
            timestamp=1_700_000_123.456789,
            pid=31337,
            logging_tags={"job_name": self.job_name, "run_id": "r", "step_key": "round__trip"},
        )
        self.store(storage, entry)
        (record,) = storage.get_records_for_run("r")
        assert_same_fields(record.event_log_entry, entry, "entry")

    def test_event_record_exposes_its_fields(self, storage: InstanceStorage) -> None:
        (sid,) = self.store(storage, self.materialization("r", ["a", "b"], "p", timestamp=77.5))
        (record,) = storage.get_records_for_run("r")
        assert record.storage_id == sid
        assert (record.run_id, record.timestamp, record.partition_key) == ("r", 77.5, "p")
        assert record.asset_key == AssetKey(["a", "b"])
        assert record.event_type is not None and record.event_type.value == "ASSET_MATERIALIZATION"
        assert record.asset_materialization.asset_key == AssetKey(["a", "b"])

    def test_expect_status_writes_when_the_status_matches(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START"))
        ids = storage.store_events(
            [self.event("r", "PIPELINE_FAILURE")], expect_status={"r": S.STARTED}
        )
        assert ids is not None and len(ids) == 1
        assert [
            r.storage_id for r in storage.get_records_for_run("r", of_type=["PIPELINE_FAILURE"])
        ] == ids
        assert self.run_record(storage, "r").dagster_run.status is S.FAILURE

    def test_expect_status_writes_nothing_when_the_status_differs(
        self, storage: InstanceStorage
    ) -> None:
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START"), self.event("r", "PIPELINE_SUCCESS"))
        before = [r.storage_id for r in storage.get_records_for_run("r")]
        result = storage.store_events(
            [self.log_message("r", "marking failed"), self.event("r", "PIPELINE_FAILURE")],
            expect_status={"r": S.STARTED},
        )
        assert result is None
        assert [r.storage_id for r in storage.get_records_for_run("r")] == before
        record = self.run_record(storage, "r")
        assert record.dagster_run.status is S.SUCCESS and record.end_time is not None

    def test_expect_status_of_an_unstored_run_writes_nothing(
        self, storage: InstanceStorage
    ) -> None:
        """Decision: a run that is not stored is "not in that status"."""
        assert (
            storage.store_events(
                [self.event("ghost", "PIPELINE_FAILURE")], expect_status={"ghost": S.STARTED}
            )
            is None
        )
        assert storage.get_records_for_run("ghost") == []

    def test_expect_status_needs_every_run_to_match(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a")
        self.add_run(storage, "b", status=S.QUEUED)
        entries = [self.event("a", "PIPELINE_FAILURE"), self.event("b", "PIPELINE_FAILURE")]
        assert (
            storage.store_events(entries, expect_status={"a": S.NOT_STARTED, "b": S.STARTED})
            is None
        )
        assert storage.get_records_for_run("a") == [] and storage.get_records_for_run("b") == []
        assert (
            storage.store_events(entries, expect_status={"a": S.NOT_STARTED, "b": S.QUEUED})
            is not None
        )

    def test_expect_status_marks_a_dead_run_failed_exactly_once(
        self, storage: InstanceStorage
    ) -> None:
        self.add_run(storage, "r")
        self.store(storage, self.event("r", "PIPELINE_START"))
        outcomes = [
            storage.store_events(
                [self.event("r", "PIPELINE_FAILURE")], expect_status={"r": S.STARTED}
            )
            for _ in range(3)
        ]
        assert [o is not None for o in outcomes] == [True, False, False]
        assert len(storage.get_records_for_run("r", of_type=["PIPELINE_FAILURE"])) == 1

    # == fetch_event_records ======================================================================
    def _fetch_ids(self, storage: InstanceStorage, types: list[str], **kw: Any) -> list[int]:
        return [r.storage_id for r in storage.fetch_event_records(types, **kw)]

    def test_fetch_event_records_by_type_across_runs(self, storage: InstanceStorage) -> None:
        a = self.store(storage, self.event("a", "STEP_SUCCESS"), self.event("a", "STEP_START"))
        b = self.store(storage, self.event("b", "STEP_SUCCESS"), self.log_message("b", "x"))
        assert self._fetch_ids(storage, ["STEP_SUCCESS"]) == [a[0], b[0]]

    def test_fetch_event_records_of_several_types_in_storage_order(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(
            storage,
            self.event("a", "STEP_START"),
            self.event("a", "ENGINE_EVENT"),
            self.event("a", "STEP_SUCCESS"),
            self.event("b", "STEP_START"),
        )
        assert self._fetch_ids(storage, ["STEP_SUCCESS", "STEP_START"]) == [ids[0], ids[2], ids[3]]

    def test_fetch_event_records_with_no_types_returns_nothing(
        self, storage: InstanceStorage
    ) -> None:
        """Decision: ``event_types`` selects; an empty selection selects no events."""
        self.store(storage, self.event("a", "STEP_START"))
        assert storage.fetch_event_records([]) == []

    def test_fetch_event_records_asset_key(self, storage: InstanceStorage) -> None:
        ids = self.store(
            storage,
            self.materialization("r", ["a", "b"]),
            self.materialization("r", "a"),
            self.materialization("r", ["a", "b"]),
            self.observation("r", ["a", "b"]),
        )
        assert self._fetch_ids(
            storage, ["ASSET_MATERIALIZATION"], asset_key=AssetKey(["a", "b"])
        ) == [ids[0], ids[2]]
        assert self._fetch_ids(
            storage, ["ASSET_MATERIALIZATION", "ASSET_OBSERVATION"], asset_key=AssetKey(["a", "b"])
        ) == [ids[0], ids[2], ids[3]]
        assert self._fetch_ids(storage, ["STEP_SUCCESS"], asset_key=AssetKey("a")) == []

    def test_fetch_event_records_partitions(self, storage: InstanceStorage) -> None:
        ids = self.store(
            storage, *(self.materialization("r", "a", p) for p in ["p1", "p2", None, "p3", "p1"])
        )
        assert self._fetch_ids(
            storage, ["ASSET_MATERIALIZATION"], asset_key=AssetKey("a"), partitions=["p1", "p3"]
        ) == [ids[0], ids[3], ids[4]]

    def test_fetch_event_records_storage_id_bounds_are_exclusive(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(storage, *(self.event("r", "STEP_START") for _ in range(5)))
        assert self._fetch_ids(storage, ["STEP_START"], after_storage_id=ids[1]) == ids[2:]
        assert self._fetch_ids(storage, ["STEP_START"], before_storage_id=ids[3]) == ids[:3]
        assert (
            self._fetch_ids(
                storage, ["STEP_START"], after_storage_id=ids[0], before_storage_id=ids[4]
            )
            == ids[1:4]
        )

    def test_fetch_event_records_timestamp_bounds_are_exclusive(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(
            storage, *(self.event("r", "STEP_START", timestamp=t) for t in (10.0, 20.0, 30.0))
        )
        assert self._fetch_ids(storage, ["STEP_START"], after_timestamp=10.0) == ids[1:]
        assert self._fetch_ids(storage, ["STEP_START"], before_timestamp=30.0) == ids[:2]
        assert self._fetch_ids(
            storage, ["STEP_START"], after_timestamp=10.0, before_timestamp=30.0
        ) == [ids[1]]

    def test_fetch_event_records_order_is_storage_id_not_timestamp(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(
            storage,
            self.event("r", "STEP_START", timestamp=50.0),
            self.event("r", "STEP_START", timestamp=5.0),
        )
        assert self._fetch_ids(storage, ["STEP_START"]) == ids

    def test_fetch_event_records_storage_ids(self, storage: InstanceStorage) -> None:
        ids = self.store(storage, *(self.event("r", "STEP_START") for _ in range(4)))
        assert self._fetch_ids(storage, ["STEP_START"], storage_ids=[ids[3], ids[1], 10**9]) == [
            ids[1],
            ids[3],
        ]

    def test_fetch_event_records_run_ids(self, storage: InstanceStorage) -> None:
        a = self.store(storage, self.event("a", "STEP_START"))
        self.store(storage, self.event("b", "STEP_START"))
        c = self.store(storage, self.event("c", "STEP_START"))
        assert self._fetch_ids(storage, ["STEP_START"], run_ids=["c", "a"]) == a + c

    def test_fetch_event_records_limit_and_descending(self, storage: InstanceStorage) -> None:
        ids = self.store(storage, *(self.event("r", "STEP_START") for _ in range(5)))
        assert self._fetch_ids(storage, ["STEP_START"], limit=2) == ids[:2]
        assert self._fetch_ids(storage, ["STEP_START"], ascending=False) == ids[::-1]
        assert self._fetch_ids(storage, ["STEP_START"], limit=2, ascending=False) == [
            ids[4],
            ids[3],
        ]
        assert self._fetch_ids(
            storage, ["STEP_START"], before_storage_id=ids[3], limit=2, ascending=False
        ) == [ids[2], ids[1]]

    def test_fetch_event_records_empty_filter_lists_do_not_filter(
        self, storage: InstanceStorage
    ) -> None:
        """Decision (as ``RunsFilter``): empty ``partitions``/``storage_ids``/``run_ids`` mean "no filter"."""
        ids = self.store(
            storage, self.materialization("r", "a", "p"), self.materialization("r", "a")
        )
        assert (
            self._fetch_ids(
                storage, ["ASSET_MATERIALIZATION"], partitions=[], storage_ids=[], run_ids=[]
            )
            == ids
        )

    def test_fetch_event_records_filters_combine(self, storage: InstanceStorage) -> None:
        ids = self.store(
            storage,
            self.materialization("a", "k", "p1", timestamp=1.0),
            self.materialization("b", "k", "p1", timestamp=2.0),
            self.materialization("a", "k", "p2", timestamp=3.0),
            self.materialization("a", "k", "p1", timestamp=4.0),
            self.materialization("a", "other", "p1", timestamp=5.0),
        )
        found = self._fetch_ids(
            storage,
            ["ASSET_MATERIALIZATION"],
            asset_key=AssetKey("k"),
            partitions=["p1"],
            run_ids=["a"],
            after_timestamp=0.5,
            before_storage_id=ids[4],
        )
        assert found == [ids[0], ids[3]]

    # == assets ===================================================================================
    def test_materialized_and_observed_assets_are_known(self, storage: InstanceStorage) -> None:
        self.store(
            storage,
            self.materialization("r", "made"),
            self.observation("r", ["seen", "it"]),
            self.materialization("r", "made"),
        )
        assert storage.get_asset_keys() == [AssetKey("made"), AssetKey(["seen", "it"])]

    def test_planned_and_check_events_do_not_make_assets_known(
        self, storage: InstanceStorage
    ) -> None:
        self.store(
            storage,
            self.planned_materialization("r", "planned"),
            self.check_planned("r", "checked", "c"),
            self.check_evaluation("r", "checked", "c"),
        )
        assert storage.get_asset_keys() == []

    def test_asset_keys_sort_by_their_storage_string(self, storage: InstanceStorage) -> None:
        """Decision: "their string form" is ``AssetKey.to_string()`` (JSON), compared by code point.

        These four keys sort differently by JSON string, by user string ``a/b`` and as tuples,
        so the test pins the first (a PostgreSQL backend needs ``COLLATE "C"`` for it).
        """
        keys = [AssetKey("b"), AssetKey(["a", "b"]), AssetKey("a.b"), AssetKey("a!")]
        self.store(storage, *(self.materialization("r", k) for k in keys))
        assert storage.get_asset_keys() == [
            AssetKey("a!"),
            AssetKey(["a", "b"]),
            AssetKey("a.b"),
            AssetKey("b"),
        ]

    def test_asset_keys_prefix_matches_whole_path_components(
        self, storage: InstanceStorage
    ) -> None:
        keys = [
            AssetKey("a"),
            AssetKey(["a", "b"]),
            AssetKey(["a", "b", "c"]),
            AssetKey("ab"),
            AssetKey(["x", "a"]),
        ]
        self.store(storage, *(self.materialization("r", k) for k in keys))
        # in JSON-string order '["a", "b", "c"]' < '["a", "b"]' < '["a"]' (',' sorts before ']')
        assert storage.get_asset_keys(prefix=["a"]) == [
            AssetKey(["a", "b", "c"]),
            AssetKey(["a", "b"]),
            AssetKey("a"),
        ]
        assert storage.get_asset_keys(prefix=["a", "b"]) == [
            AssetKey(["a", "b", "c"]),
            AssetKey(["a", "b"]),
        ]
        assert storage.get_asset_keys(prefix=["zz"]) == []

    def test_asset_keys_limit_and_cursor(self, storage: InstanceStorage) -> None:
        self.store(storage, *(self.materialization("r", k) for k in ["d", "a", "c", "b"]))
        assert storage.get_asset_keys(limit=2) == [AssetKey("a"), AssetKey("b")]
        assert storage.get_asset_keys(cursor=AssetKey("b")) == [AssetKey("c"), AssetKey("d")]
        assert storage.get_asset_keys(cursor=AssetKey("bb"), limit=1) == [AssetKey("c")]

    def test_non_ascii_asset_keys_round_trip(self, storage: InstanceStorage) -> None:
        key = AssetKey(["données", "früh"])
        self.store(storage, self.materialization("r", key, "été"))
        assert storage.get_asset_keys() == [key]
        assert storage.get_materialized_partitions(key) == {"été"}

    def test_wipe_forgets_the_asset_and_its_asset_events(self, storage: InstanceStorage) -> None:
        """Decision: wiping deletes every event whose asset key is the wiped key (materializations,
        observations, planned events, check events), from every query including the run's log."""
        self.add_run(storage, "r")
        self.store(
            storage,
            self.planned_materialization("r", "w", "p"),
            self.materialization("r", "w", "p"),
            self.observation("r", "w"),
            self.check_planned("r", "w", "c"),
            self.check_evaluation("r", "w", "c"),
        )
        storage.wipe_assets([AssetKey("w")])
        assert storage.get_asset_keys() == []
        assert storage.get_materialized_partitions(AssetKey("w")) == set()
        types = [
            "ASSET_MATERIALIZATION",
            "ASSET_OBSERVATION",
            "ASSET_MATERIALIZATION_PLANNED",
            "ASSET_CHECK_EVALUATION_PLANNED",
            "ASSET_CHECK_EVALUATION",
        ]
        assert storage.fetch_event_records(types) == []
        assert storage.get_records_for_run("r") == []

    def test_wipe_keeps_runs_and_other_events(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "r")
        kept = self.store(
            storage, self.event("r", "PIPELINE_START"), self.event("r", "STEP_START", step_key="s")
        )
        self.store(storage, self.materialization("r", "w"))
        kept += self.store(
            storage,
            self.materialization("r", "other", "p"),
            self.log_message("r", "note"),
            self.event("r", "PIPELINE_SUCCESS"),
        )
        storage.wipe_assets([AssetKey("w")])
        assert [r.storage_id for r in storage.get_records_for_run("r")] == kept
        assert storage.get_asset_keys() == [AssetKey("other")]
        assert storage.get_materialized_partitions(AssetKey("other")) == {"p"}
        assert self.run_record(storage, "r").dagster_run.status is S.SUCCESS

    def test_wipe_removes_check_executions_of_that_asset_only(
        self, storage: InstanceStorage
    ) -> None:
        self.store(
            storage, self.check_evaluation("r", "w", "c"), self.check_evaluation("r", "other", "c")
        )
        storage.wipe_assets([AssetKey("w")])
        assert storage.get_asset_check_executions(AssetCheckKey(AssetKey("w"), "c")) == []
        assert len(storage.get_asset_check_executions(AssetCheckKey(AssetKey("other"), "c"))) == 1

    def test_an_asset_materialized_after_a_wipe_is_known_again(
        self, storage: InstanceStorage
    ) -> None:
        self.store(storage, self.materialization("r1", "w", "old"))
        storage.wipe_assets([AssetKey("w")])
        new = self.store(storage, self.materialization("r2", "w", "new"))
        assert storage.get_asset_keys() == [AssetKey("w")]
        assert storage.get_materialized_partitions(AssetKey("w")) == {"new"}
        assert self._fetch_ids(storage, ["ASSET_MATERIALIZATION"], asset_key=AssetKey("w")) == new

    def test_wiping_an_unknown_asset_does_nothing(self, storage: InstanceStorage) -> None:
        ids = self.store(storage, self.materialization("r", "a"))
        storage.wipe_assets([AssetKey("never")])
        assert self._fetch_ids(storage, ["ASSET_MATERIALIZATION"]) == ids

    def test_materialized_partitions(self, storage: InstanceStorage) -> None:
        self.store(
            storage,
            self.materialization("r", "a", "p1"),
            self.materialization("r", "a", "p2"),
            self.materialization("r", "a", "p1"),
            self.materialization("r", "a"),
            self.observation("r", "a", "observed_only"),
            self.planned_materialization("r", "a", "planned_only"),
            self.materialization("r", "b", "other_asset"),
        )
        assert storage.get_materialized_partitions(AssetKey("a")) == {"p1", "p2"}

    def test_materialized_partitions_storage_id_bounds_are_exclusive(
        self, storage: InstanceStorage
    ) -> None:
        ids = self.store(
            storage, *(self.materialization("r", "a", p) for p in ["p1", "p2", "p3", "p4"])
        )
        assert storage.get_materialized_partitions(AssetKey("a"), after_storage_id=ids[1]) == {
            "p3",
            "p4",
        }
        assert storage.get_materialized_partitions(AssetKey("a"), before_storage_id=ids[1]) == {
            "p1"
        }
        assert storage.get_materialized_partitions(
            AssetKey("a"), after_storage_id=ids[0], before_storage_id=ids[3]
        ) == {"p2", "p3"}

    def test_materialized_partitions_of_an_unknown_asset_are_empty(
        self, storage: InstanceStorage
    ) -> None:
        assert storage.get_materialized_partitions(AssetKey("never")) == set()

    # == asset checks =============================================================================
    def _executions(self, storage: InstanceStorage, asset: str, check: str, **kw: Any) -> list[Any]:
        return storage.get_asset_check_executions(AssetCheckKey(AssetKey(asset), check), **kw)

    def test_a_planned_check_is_a_planned_execution(self, storage: InstanceStorage) -> None:
        self.store(storage, self.check_planned("r", "a", "c", "p", timestamp=12.5))
        (record,) = self._executions(storage, "a", "c")
        assert record.key == AssetCheckKey(AssetKey("a"), "c")
        assert (record.run_id, record.status, record.partition) == ("r", PLANNED, "p")
        assert record.event is None and record.evaluation is None
        assert record.create_timestamp == 12.5

    @pytest.mark.parametrize(("passed", "status"), [(True, SUCCEEDED), (False, FAILED)])
    def test_an_evaluation_completes_the_planned_execution(
        self, storage: InstanceStorage, passed: bool, status: Any
    ) -> None:
        self.store(storage, self.check_planned("r", "a", "c", timestamp=12.5))
        planned_id = self._executions(storage, "a", "c")[0].id
        evaluation = self.check_evaluation("r", "a", "c", passed)
        self.store(storage, evaluation)
        (record,) = self._executions(storage, "a", "c")
        assert (record.id, record.status, record.create_timestamp) == (planned_id, status, 12.5)
        assert_same_fields(record.event, evaluation, "execution.event")
        assert record.evaluation.passed is passed

    def test_an_evaluation_without_a_plan_adds_an_execution(self, storage: InstanceStorage) -> None:
        self.store(storage, self.check_evaluation("r", "a", "c", False, "p", timestamp=3.0))
        (record,) = self._executions(storage, "a", "c")
        assert (record.run_id, record.status, record.partition, record.create_timestamp) == (
            "r",
            FAILED,
            "p",
            3.0,
        )

    def test_an_evaluation_completes_the_plan_of_its_own_run_and_partition(
        self, storage: InstanceStorage
    ) -> None:
        self.store(
            storage,
            self.check_planned("r1", "a", "c", "p1"),
            self.check_planned("r2", "a", "c", "p1"),
            self.check_planned("r2", "a", "c", "p2"),
        )
        self.store(storage, self.check_evaluation("r2", "a", "c", True, "p1"))
        statuses = {(r.run_id, r.partition): r.status for r in self._executions(storage, "a", "c")}
        assert statuses == {("r1", "p1"): PLANNED, ("r2", "p1"): SUCCEEDED, ("r2", "p2"): PLANNED}

    def test_a_second_evaluation_in_a_run_adds_an_execution(self, storage: InstanceStorage) -> None:
        """Decision: an evaluation completes a PLANNED execution; with none left it adds one."""
        self.store(
            storage, self.check_planned("r", "a", "c"), self.check_evaluation("r", "a", "c", False)
        )
        self.store(storage, self.check_evaluation("r", "a", "c", True))
        assert [r.status for r in self._executions(storage, "a", "c")] == [SUCCEEDED, FAILED]

    def test_check_executions_come_newest_first(self, storage: InstanceStorage) -> None:
        for run_id in ("r1", "r2", "r3"):
            self.store(storage, self.check_planned(run_id, "a", "c"))
        self.store(storage, self.check_evaluation("r1", "a", "c"))
        records = self._executions(storage, "a", "c")
        assert [r.run_id for r in records] == ["r3", "r2", "r1"]
        assert [r.id for r in records] == sorted((r.id for r in records), reverse=True)

    def test_check_executions_cursor_keeps_smaller_ids(self, storage: InstanceStorage) -> None:
        for run_id in ("r1", "r2", "r3", "r4"):
            self.store(storage, self.check_evaluation(run_id, "a", "c"))
        ids = [r.id for r in self._executions(storage, "a", "c")]
        assert [r.id for r in self._executions(storage, "a", "c", cursor=ids[1])] == ids[2:]
        assert [r.run_id for r in self._executions(storage, "a", "c", cursor=ids[0], limit=2)] == [
            "r3",
            "r2",
        ]

    def test_check_executions_limit(self, storage: InstanceStorage) -> None:
        for run_id in ("r1", "r2", "r3"):
            self.store(storage, self.check_evaluation(run_id, "a", "c"))
        assert [r.run_id for r in self._executions(storage, "a", "c", limit=2)] == ["r3", "r2"]

    def test_check_executions_partition(self, storage: InstanceStorage) -> None:
        self.store(
            storage,
            self.check_evaluation("r1", "a", "c", partition="p1"),
            self.check_evaluation("r2", "a", "c", partition="p2"),
            self.check_evaluation("r3", "a", "c", partition="p1"),
            self.check_evaluation("r4", "a", "c"),
        )
        assert [r.run_id for r in self._executions(storage, "a", "c", partition="p1")] == [
            "r3",
            "r1",
        ]
        assert [r.run_id for r in self._executions(storage, "a", "c")] == ["r4", "r3", "r2", "r1"]

    def test_check_executions_are_per_check(self, storage: InstanceStorage) -> None:
        self.store(
            storage,
            self.check_evaluation("r", "a", "c1"),
            self.check_evaluation("r", "a", "c2"),
            self.check_evaluation("r", "b", "c1"),
        )
        assert [r.key for r in self._executions(storage, "a", "c1")] == [
            AssetCheckKey(AssetKey("a"), "c1")
        ]
        assert self._executions(storage, "z", "c1") == []

    # == dynamic partitions =======================================================================
    def test_dynamic_partitions_keep_the_order_they_were_added_in(
        self, storage: InstanceStorage
    ) -> None:
        storage.add_dynamic_partitions("regions", ["eu", "us"])
        storage.add_dynamic_partitions("regions", ["apac", "africa"])
        assert storage.get_dynamic_partitions("regions") == ["eu", "us", "apac", "africa"]

    def test_dynamic_partitions_ignore_duplicates(self, storage: InstanceStorage) -> None:
        storage.add_dynamic_partitions("regions", ["eu", "us", "eu"])
        assert storage.get_dynamic_partitions("regions") == ["eu", "us"]
        storage.add_dynamic_partitions("regions", ["us", "apac"])
        assert storage.get_dynamic_partitions("regions") == ["eu", "us", "apac"]

    def test_dynamic_partition_delete(self, storage: InstanceStorage) -> None:
        storage.add_dynamic_partitions("regions", ["eu", "us", "apac"])
        storage.delete_dynamic_partition("regions", "us")
        storage.delete_dynamic_partition("regions", "never")
        storage.delete_dynamic_partition("no_such_def", "eu")
        assert storage.get_dynamic_partitions("regions") == ["eu", "apac"]
        assert not storage.has_dynamic_partition("regions", "us")

    def test_a_dynamic_partition_added_again_goes_last(self, storage: InstanceStorage) -> None:
        storage.add_dynamic_partitions("regions", ["eu", "us"])
        storage.delete_dynamic_partition("regions", "eu")
        storage.add_dynamic_partitions("regions", ["eu"])
        assert storage.get_dynamic_partitions("regions") == ["us", "eu"]

    def test_has_dynamic_partition(self, storage: InstanceStorage) -> None:
        storage.add_dynamic_partitions("regions", ["eu"])
        assert storage.has_dynamic_partition("regions", "eu")
        assert not storage.has_dynamic_partition("regions", "us")
        assert not storage.has_dynamic_partition("other", "eu")

    def test_dynamic_partition_definitions_are_independent(self, storage: InstanceStorage) -> None:
        storage.add_dynamic_partitions("a", ["x", "y"])
        storage.add_dynamic_partitions("b", ["y", "z"])
        storage.delete_dynamic_partition("a", "y")
        assert storage.get_dynamic_partitions("a") == ["x"]
        assert storage.get_dynamic_partitions("b") == ["y", "z"]
        assert storage.get_dynamic_partitions("unknown") == []

    # == key-value store ==========================================================================
    def test_kvs_returns_only_stored_keys(self, storage: InstanceStorage) -> None:
        storage.kvs_set({"a": "1", "b": "2"})
        assert storage.kvs_get(["a", "missing", "b"]) == {"a": "1", "b": "2"}
        assert storage.kvs_get([]) == {}

    def test_kvs_set_overwrites(self, storage: InstanceStorage) -> None:
        storage.kvs_set({"cursor": "10", "other": "x"})
        storage.kvs_set({"cursor": "11"})
        assert storage.kvs_get(["cursor", "other"]) == {"cursor": "11", "other": "x"}

    def test_kvs_values_round_trip_unchanged(self, storage: InstanceStorage) -> None:
        value = '{"json": ["in", "a", "string"]} and ünïcode and "quotes"\n'
        storage.kvs_set({"k": value, "empty": ""})
        assert storage.kvs_get(["k", "empty"]) == {"k": value, "empty": ""}

    # == named state records ======================================================================
    def test_put_state_returns_the_stored_record(self, storage: InstanceStorage) -> None:
        body = {"cursor": "5", "nested": {"list": [1, 2.5, None, True], "s": "x"}}
        record = storage.put_state("sensor", "my_sensor", "RUNNING", body, 100.0)
        assert (record.kind, record.key, record.status, record.timestamp) == (
            "sensor",
            "my_sensor",
            "RUNNING",
            100.0,
        )
        assert isinstance(record.id, int)
        (stored,) = storage.get_states("sensor")
        assert_same_fields(stored.body, body, "state body")
        assert (stored.id, stored.status, stored.timestamp) == (record.id, "RUNNING", 100.0)

    def test_put_state_replaces_the_record_and_keeps_its_id(self, storage: InstanceStorage) -> None:
        """Decision: replacing a ``(kind, key)`` record keeps its id, so ids order records by creation."""
        first = storage.put_state("sensor", "s", "RUNNING", {"v": 1}, 1.0)
        storage.put_state("sensor", "later", "RUNNING", {}, 2.0)
        second = storage.put_state("sensor", "s", "STOPPED", {"v": 2}, 3.0)
        assert second.id == first.id
        (stored,) = storage.get_states("sensor", key="s")
        assert (stored.status, stored.body, stored.timestamp) == ("STOPPED", {"v": 2}, 3.0)
        assert [r.key for r in storage.get_states("sensor")] == ["later", "s"]

    def test_stored_state_is_independent_of_the_callers_body(
        self, storage: InstanceStorage
    ) -> None:
        body: dict[str, Any] = {"nested": {"n": 1}}
        storage.put_state("sensor", "s", "RUNNING", body, 1.0)
        body["nested"]["n"] = 2
        storage.get_states("sensor")[0].body["nested"]["n"] = 3
        assert storage.get_states("sensor")[0].body == {"nested": {"n": 1}}

    def test_a_body_that_is_not_json_raises_storage_error(self, storage: InstanceStorage) -> None:
        with pytest.raises(StorageError, match="my_sensor"):
            storage.put_state("sensor", "my_sensor", "RUNNING", {"when": object()}, 1.0)
        assert storage.get_states("sensor") == []

    def test_states_come_newest_first_and_filter(self, storage: InstanceStorage) -> None:
        for i, status in enumerate(["REQUESTED", "COMPLETED", "REQUESTED", "FAILED"]):
            storage.put_state("backfill", f"b{i}", status, {}, float(i))

        def keys(**kw: Any) -> list[str]:
            return [r.key for r in storage.get_states("backfill", **kw)]

        assert keys() == ["b3", "b2", "b1", "b0"]
        assert keys(key="b1") == ["b1"]
        assert keys(key="missing") == []
        assert keys(statuses=["REQUESTED", "FAILED"]) == ["b3", "b2", "b0"]
        assert keys(limit=2) == ["b3", "b2"]
        assert keys(statuses=["REQUESTED"], limit=1) == ["b2"]

    def test_states_cursor_keeps_smaller_ids(self, storage: InstanceStorage) -> None:
        ids = [
            storage.put_state("backfill", f"b{i}", "REQUESTED", {}, float(i)).id for i in range(4)
        ]
        assert [r.key for r in storage.get_states("backfill", cursor=ids[2])] == ["b1", "b0"]
        assert [r.key for r in storage.get_states("backfill", cursor=ids[2], limit=1)] == ["b1"]

    def test_state_kinds_are_independent(self, storage: InstanceStorage) -> None:
        storage.put_state("sensor", "same", "RUNNING", {"k": "sensor"}, 1.0)
        storage.put_state("schedule", "same", "STOPPED", {"k": "schedule"}, 1.0)
        storage.delete_state("sensor", "same")
        assert storage.get_states("sensor") == []
        assert [r.body for r in storage.get_states("schedule")] == [{"k": "schedule"}]
        assert storage.get_states("unknown_kind") == []

    def test_delete_state(self, storage: InstanceStorage) -> None:
        storage.put_state("sensor", "a", "RUNNING", {}, 1.0)
        storage.put_state("sensor", "b", "RUNNING", {}, 1.0)
        storage.delete_state("sensor", "a")
        storage.delete_state("sensor", "never")
        assert [r.key for r in storage.get_states("sensor")] == ["b"]

    # == ticks ====================================================================================
    def test_add_tick_returns_the_stored_tick(self, storage: InstanceStorage) -> None:
        body = {"run_ids": ["r1"], "cursor": None, "skip_reason": "ünïcode"}
        tick = storage.add_tick("sensor", "s", "STARTED", body, 50.0)
        assert (tick.kind, tick.key, tick.status, tick.timestamp) == (
            "sensor",
            "s",
            "STARTED",
            50.0,
        )
        (stored,) = storage.get_ticks("sensor", "s")
        assert stored.id == tick.id
        assert_same_fields(stored.body, body, "tick body")

    def test_update_tick_changes_status_and_body_only(self, storage: InstanceStorage) -> None:
        tick = storage.add_tick("sensor", "s", "STARTED", {"a": 1}, 50.0)
        storage.update_tick(tick.id, "SUCCESS", {"a": 2, "run_ids": ["r"]})
        (stored,) = storage.get_ticks("sensor", "s")
        assert (stored.id, stored.status, stored.body, stored.timestamp) == (
            tick.id,
            "SUCCESS",
            {"a": 2, "run_ids": ["r"]},
            50.0,
        )

    def test_updating_an_unknown_tick_does_nothing(self, storage: InstanceStorage) -> None:
        """Decision: like deleting absent records, updating a tick that is gone (purged) is no error."""
        tick = storage.add_tick("sensor", "s", "STARTED", {}, 1.0)
        storage.update_tick(tick.id + 1000, "SUCCESS", {})
        assert [(t.id, t.status) for t in storage.get_ticks("sensor", "s")] == [
            (tick.id, "STARTED")
        ]

    def test_ticks_come_newest_first_by_timestamp(self, storage: InstanceStorage) -> None:
        """Decision: "newest" is the largest tick timestamp (ties: the later added tick first)."""
        storage.add_tick("sensor", "s", "SUCCESS", {"n": 1}, 10.0)
        storage.add_tick("sensor", "s", "SUCCESS", {"n": 2}, 30.0)
        storage.add_tick("sensor", "s", "SUCCESS", {"n": 3}, 20.0)
        storage.add_tick("sensor", "s", "SUCCESS", {"n": 4}, 30.0)
        assert [t.body["n"] for t in storage.get_ticks("sensor", "s")] == [4, 2, 3, 1]

    def test_ticks_filters(self, storage: InstanceStorage) -> None:
        for n, (status, ts) in enumerate(
            [("SUCCESS", 10.0), ("SKIPPED", 20.0), ("FAILURE", 30.0), ("SUCCESS", 40.0)]
        ):
            storage.add_tick("schedule", "daily", status, {"n": n}, ts)

        def ns(**kw: Any) -> list[int]:
            return [t.body["n"] for t in storage.get_ticks("schedule", "daily", **kw)]

        assert ns(statuses=["SUCCESS", "FAILURE"]) == [3, 2, 0]
        assert ns(before_timestamp=30.0) == [1, 0]
        assert ns(after_timestamp=20.0) == [3, 2]
        assert ns(after_timestamp=10.0, before_timestamp=40.0) == [2, 1]
        assert ns(limit=2) == [3, 2]
        assert ns(statuses=["SUCCESS"], limit=1) == [3]

    def test_ticks_are_per_instigator(self, storage: InstanceStorage) -> None:
        storage.add_tick("sensor", "a", "SUCCESS", {}, 1.0)
        storage.add_tick("sensor", "b", "SUCCESS", {}, 1.0)
        storage.add_tick("schedule", "a", "SUCCESS", {}, 1.0)
        assert [t.key for t in storage.get_ticks("sensor", "a")] == ["a"]
        assert [t.kind for t in storage.get_ticks("schedule", "a")] == ["schedule"]
        assert storage.get_ticks("sensor", "unknown") == []

    def test_purge_ticks_deletes_older_ticks_and_counts_them(
        self, storage: InstanceStorage
    ) -> None:
        for ts in (10.0, 20.0, 30.0):
            storage.add_tick("sensor", "s", "SUCCESS", {}, ts)
        storage.add_tick("sensor", "t", "SUCCESS", {}, 10.0)
        storage.add_tick("schedule", "s", "SUCCESS", {}, 10.0)
        assert storage.purge_ticks("sensor", "s", 20.0) == 1
        assert [t.timestamp for t in storage.get_ticks("sensor", "s")] == [30.0, 20.0]
        assert (
            len(storage.get_ticks("sensor", "t")) == 1
            and len(storage.get_ticks("schedule", "s")) == 1
        )

    def test_purge_ticks_of_every_instigator_of_a_kind(self, storage: InstanceStorage) -> None:
        for key in ("a", "b"):
            storage.add_tick("sensor", key, "SUCCESS", {}, 10.0)
            storage.add_tick("sensor", key, "SUCCESS", {}, 50.0)
        storage.add_tick("schedule", "a", "SUCCESS", {}, 10.0)
        assert storage.purge_ticks("sensor", None, 20.0) == 2
        assert [len(storage.get_ticks("sensor", k)) for k in ("a", "b")] == [1, 1]
        assert len(storage.get_ticks("schedule", "a")) == 1
        assert storage.purge_ticks("sensor", None, 20.0) == 0

    # == concurrency ==============================================================================
    def test_concurrent_writers_get_distinct_increasing_ids(self, storage: InstanceStorage) -> None:
        writers, batches, size = 4, 15, 4
        results: dict[int, list[list[int]]] = {}
        barrier = threading.Barrier(writers)

        def write(n: int) -> None:
            barrier.wait()
            results[n] = [
                self.store(storage, *(self.event(f"run{n}", "ENGINE_EVENT") for _ in range(size)))
                for _ in range(batches)
            ]

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        all_ids = [i for n in range(writers) for batch in results[n] for i in batch]
        assert len(set(all_ids)) == writers * batches * size
        for n in range(writers):
            ids = [i for batch in results[n] for i in batch]
            assert ids == sorted(ids)
            assert [r.storage_id for r in storage.get_records_for_run(f"run{n}")] == ids

    def test_readers_never_see_half_a_batch(self, storage: InstanceStorage) -> None:
        batches, size = 25, 8
        done = threading.Event()
        seen: list[int] = []

        def read() -> None:
            while not done.is_set():
                seen.append(len(storage.get_records_for_run("r")))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for _ in range(batches):
                self.store(storage, *(self.event("r", "ENGINE_EVENT") for _ in range(size)))
        finally:
            done.set()
            reader.join(timeout=60)
        assert [n for n in seen if n % size] == []
        assert len(storage.get_records_for_run("r")) == batches * size
