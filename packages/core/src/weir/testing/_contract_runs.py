"""The storage contract, part 1: runs (add, query, filter, page, tag, delete) and the run
lifecycle events that move a run's status, start and end times and worker."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest

from weir._execution.events import StepFailureData
from weir._execution.run import DagsterRunStatus
from weir._instance.records import RunRecord, RunsFilter
from weir._instance.storage import InstanceStorage
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import RunAlreadyExistsError, RunNotFoundError
from weir.testing._contract_helpers import (
    ContractHelpers,
    assert_same_fields,
    run_ids_of,
    wait_past,
)

__all__ = ["RunsContract"]

S = DagsterRunStatus
LIFECYCLE = [
    ("PIPELINE_ENQUEUED", S.QUEUED),
    ("PIPELINE_STARTING", S.STARTING),
    ("PIPELINE_START", S.STARTED),
    ("PIPELINE_SUCCESS", S.SUCCESS),
    ("PIPELINE_FAILURE", S.FAILURE),
    ("PIPELINE_CANCELING", S.CANCELING),
    ("PIPELINE_CANCELED", S.CANCELED),
]


class RunsContract(ContractHelpers):
    """Tests of runs and of the run lifecycle (mixed into ``InstanceStorageContract``)."""

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
        assert run_ids_of(storage.get_run_records()) == ["c", "b", "a"]
        assert run_ids_of(storage.get_run_records(ascending=True)) == ["a", "b", "c"]

    def test_empty_storage_has_no_runs(self, storage: InstanceStorage) -> None:
        assert storage.get_run_records() == []
        assert storage.get_runs_count() == 0
        assert storage.get_run_records(RunsFilter(job_name="x")) == []

    def test_runs_filter_run_ids(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c")
        found = storage.get_run_records(RunsFilter(run_ids=["c", "a", "unknown"]))
        assert run_ids_of(found) == ["c", "a"]

    def test_runs_filter_job_name(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl")
        self.add_run(storage, "b", job_name="report")
        self.add_run(storage, "c", job_name="etl_2")
        assert run_ids_of(storage.get_run_records(RunsFilter(job_name="etl"))) == ["a"]

    def test_runs_filter_statuses_use_the_current_status(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "queued", "started", "done", status=S.QUEUED)
        self.store(storage, self.event("started", "PIPELINE_START"))
        self.store(
            storage, self.event("done", "PIPELINE_START"), self.event("done", "PIPELINE_SUCCESS")
        )

        def by(*statuses: DagsterRunStatus) -> list[str]:
            return run_ids_of(storage.get_run_records(RunsFilter(statuses=list(statuses))))

        assert by(S.QUEUED) == ["queued"]
        assert by(S.STARTED, S.SUCCESS) == ["done", "started"]
        assert by(S.FAILURE) == []

    def test_runs_filter_tags_need_every_tag_with_its_value(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", tags={"team": "data", "env": "prod"})
        self.add_run(storage, "b", tags={"team": "data", "env": "dev"})
        self.add_run(storage, "c", tags={"team": "web"})
        assert run_ids_of(storage.get_run_records(RunsFilter(tags={"team": "data"}))) == ["b", "a"]
        assert run_ids_of(
            storage.get_run_records(RunsFilter(tags={"team": "data", "env": "prod"}))
        ) == ["a"]
        assert storage.get_run_records(RunsFilter(tags={"missing": "data"})) == []

    def test_runs_filter_tag_with_a_list_matches_any_value(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", tags={"env": "prod"})
        self.add_run(storage, "b", tags={"env": "dev"})
        self.add_run(storage, "c", tags={"env": "test"})
        self.add_run(storage, "d")
        found = storage.get_run_records(RunsFilter(tags={"env": ["prod", "test"]}))
        assert run_ids_of(found) == ["c", "a"]

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
        assert run_ids_of(after) == ["c", "b"]
        assert run_ids_of(before) == ["b", "a"]
        assert run_ids_of(storage.get_run_records(both)) == ["b"]

    def test_runs_filter_accepts_datetimes(self, storage: InstanceStorage) -> None:
        a, b = self.add_runs_in_order(storage, "a", "b")
        middle = dt.datetime.fromtimestamp(
            (a.create_timestamp + b.create_timestamp) / 2, dt.timezone.utc
        )
        assert run_ids_of(storage.get_run_records(RunsFilter(created_after=middle))) == ["b"]
        assert run_ids_of(storage.get_run_records(RunsFilter(created_before=middle))) == ["a"]

    def test_runs_filter_updated_bounds_follow_changes(self, storage: InstanceStorage) -> None:
        """Decision: a lifecycle event or ``add_run_tags`` sets ``update_timestamp`` to the write time."""
        a, b = self.add_runs_in_order(storage, "a", "b")
        wait_past(b.update_timestamp)
        self.store(storage, self.event("a", "PIPELINE_START"))
        a = self.run_record(storage, "a")
        assert a.update_timestamp > b.update_timestamp
        assert run_ids_of(
            storage.get_run_records(RunsFilter(updated_after=b.update_timestamp))
        ) == ["a"]
        assert run_ids_of(
            storage.get_run_records(RunsFilter(updated_before=a.update_timestamp))
        ) == ["b"]

    def test_runs_filter_exclude_subruns(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "root")
        self.add_run(storage, "child", parent_run_id="root", root_run_id="root")
        assert run_ids_of(storage.get_run_records(RunsFilter(exclude_subruns=True))) == ["root"]
        assert run_ids_of(storage.get_run_records(RunsFilter(exclude_subruns=False))) == [
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
        assert run_ids_of(found) == ["a"]

    def test_runs_filter_empty_lists_do_not_filter(self, storage: InstanceStorage) -> None:
        """Decision (as Dagster): empty ``run_ids``/``statuses``/``tags`` mean "no filter"."""
        self.add_runs_in_order(storage, "a", "b")
        assert run_ids_of(
            storage.get_run_records(RunsFilter(run_ids=[], statuses=[], tags={}))
        ) == [
            "b",
            "a",
        ]

    def test_run_records_limit(self, storage: InstanceStorage) -> None:
        """Decision: ``limit=0`` returns no runs (the number is taken literally)."""
        self.add_runs_in_order(storage, "a", "b", "c")
        assert run_ids_of(storage.get_run_records(limit=2)) == ["c", "b"]
        assert run_ids_of(storage.get_run_records(limit=2, ascending=True)) == ["a", "b"]
        assert storage.get_run_records(limit=0) == []

    def test_run_records_cursor_newest_first(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c", "d")
        assert run_ids_of(storage.get_run_records(cursor="c")) == ["b", "a"]
        assert run_ids_of(storage.get_run_records(cursor="a")) == []

    def test_run_records_cursor_oldest_first(self, storage: InstanceStorage) -> None:
        self.add_runs_in_order(storage, "a", "b", "c", "d")
        assert run_ids_of(storage.get_run_records(cursor="b", ascending=True)) == ["c", "d"]

    def test_run_records_cursor_and_limit_page_through_all_runs(
        self, storage: InstanceStorage
    ) -> None:
        self.add_runs_in_order(storage, *"abcde")
        pages, cursor = [], None
        while True:
            page = run_ids_of(storage.get_run_records(limit=2, cursor=cursor))
            if not page:
                break
            pages.append(page)
            cursor = page[-1]
        assert pages == [["e", "d"], ["c", "b"], ["a"]]

    def test_run_records_cursor_need_not_match_the_filters(self, storage: InstanceStorage) -> None:
        self.add_run(storage, "a", job_name="etl")
        self.add_run(storage, "b", job_name="other")
        self.add_run(storage, "c", job_name="etl")
        assert run_ids_of(storage.get_run_records(RunsFilter(job_name="etl"), cursor="b")) == ["a"]

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
        wait_past(added.update_timestamp)
        storage.add_run_tags("a", {"change": "new", "added": "yes"})
        record = self.run_record(storage, "a")
        assert record.dagster_run.tags == {"keep": "1", "change": "new", "added": "yes"}
        assert record.update_timestamp > added.update_timestamp
        assert run_ids_of(storage.get_run_records(RunsFilter(tags={"change": "new"}))) == ["a"]
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
        assert run_ids_of(storage.get_run_records()) == ["kept"]
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
