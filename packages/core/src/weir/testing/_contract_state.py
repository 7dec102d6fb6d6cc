"""The storage contract, part 4: the key-value store, named state records and ticks."""

from __future__ import annotations

from typing import Any

import pytest

from weir._instance.storage import InstanceStorage
from weir.errors import StorageError
from weir.testing._contract_helpers import ContractHelpers, assert_same_fields

__all__ = ["StateContract"]


class StateContract(ContractHelpers):
    """Tests of the key-value store, named states and ticks (mixed into ``InstanceStorageContract``)."""

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
