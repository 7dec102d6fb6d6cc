"""The storage contract, part 2: the event log (storing batches, reading a run's events, field-
by-field round trips, conditional writes with ``expect_status``, ``fetch_event_records``) and
concurrent writers and readers."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from weir._execution.events import (
    AssetMaterializationPlannedData,
    AssetObservationData,
    HandledOutputData,
    LoadedInputData,
    SerializableErrorInfo,
    StepFailureData,
    StepMaterializationData,
    StepOutputData,
    TypeCheckData,
)
from weir._execution.run import DagsterRunStatus
from weir._instance.records import EventLogEntry
from weir._instance.storage import InstanceStorage
from weir._model.asset_checks import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
    AssetCheckSeverity,
)
from weir._model.asset_key import AssetKey
from weir._model.metadata import MetadataValue
from weir._model.results import AssetMaterialization, AssetObservation
from weir._model.table import TableColumn, TableSchema
from weir.testing._contract_helpers import ContractHelpers, assert_same_fields

__all__ = ["EventsContract"]

S = DagsterRunStatus


class EventsContract(ContractHelpers):
    """Tests of the event log and its concurrency (mixed into ``InstanceStorageContract``)."""

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
