"""The storage contract, part 3: assets (known keys, wipes, materialized partitions), asset
check executions and dynamic partitions."""

from __future__ import annotations

from typing import Any

import pytest

from weir._execution.run import DagsterRunStatus
from weir._instance.records import AssetCheckExecutionRecordStatus
from weir._instance.storage import InstanceStorage
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.testing._contract_helpers import ContractHelpers, assert_same_fields

__all__ = ["AssetsContract"]

S = DagsterRunStatus
PLANNED = AssetCheckExecutionRecordStatus.PLANNED
SUCCEEDED = AssetCheckExecutionRecordStatus.SUCCEEDED
FAILED = AssetCheckExecutionRecordStatus.FAILED


class AssetsContract(ContractHelpers):
    """Tests of assets, asset checks and dynamic partitions (mixed into ``InstanceStorageContract``)."""

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
