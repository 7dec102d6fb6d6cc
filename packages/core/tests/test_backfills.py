"""Backfills: the plan preview, policies, the recorded driver, resume after a kill, cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir._backfill.driver import (
    BACKFILL_ID_TAG,
    cancel_backfill,
    launch_backfill,
    resume_backfill,
)
from weir._backfill.plan import BackfillReason, plan_backfill
from weir._backfill.policy import BackfillPolicy, BackfillPolicyType
from weir._backfill.record import (
    BackfillNotFoundError,
    BulkActionStatus,
    ChunkStatus,
    get_backfill,
    get_backfills,
)
from weir._instance.records import RunsFilter
from weir._partitions.definition import UnknownPartitionKeyError
from weir._partitions.mapping_base import NonexistentUpstreamPartitionsError
from weir.errors import DefinitionError, InvariantViolationError

TESTS_DIR = Path(__file__).resolve().parent
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")  # 4 days


@pytest.fixture
def instance(tmp_path: Path) -> Any:
    with dg.Instance.ephemeral(str(tmp_path)) as inst:
        yield inst


def _keys(subset: Any) -> list[str]:
    return list(subset.get_partition_keys())


# -- policy -----------------------------------------------------------------------------------
def test_backfill_policy_has_dagsters_api() -> None:
    single = BackfillPolicy.single_run()
    assert single.policy_type is BackfillPolicyType.SINGLE_RUN
    assert single.max_partitions_per_run is None
    multi = BackfillPolicy.multi_run(max_partitions_per_run=3)
    assert multi.policy_type is BackfillPolicyType.MULTI_RUN
    assert multi.max_partitions_per_run == 3
    assert BackfillPolicy.multi_run().max_partitions_per_run == 1
    assert multi == BackfillPolicy.multi_run(3) and multi != single
    assert len({multi, BackfillPolicy.multi_run(3), single}) == 2
    assert repr(single) == "BackfillPolicy.single_run()"
    assert repr(multi) == "BackfillPolicy.multi_run(max_partitions_per_run=3)"
    with pytest.raises(DefinitionError, match="positive int"):
        BackfillPolicy.multi_run(0)


# -- plan ---------------------------------------------------------------------------------------
FAIL: set[str] = set()


@dg.asset(partitions_def=DAYS)
def raw(context: dg.AssetExecutionContext) -> int:
    return 1


@dg.asset(partitions_def=DAYS)
def daily(context: dg.AssetExecutionContext, raw: int) -> int:
    if context.partition_key in FAIL:
        raise RuntimeError("daily fails on purpose")
    return raw + 1


def test_plan_gives_each_partition_its_reason(instance: Any) -> None:
    for key in ["2024-01-01", "2024-01-02", "2024-01-03"]:
        dg.materialize([raw, daily], partition_key=key, instance=instance)
    FAIL.add("2024-01-02")
    try:
        failed = dg.materialize(
            [raw, daily], partition_key="2024-01-02", instance=instance, raise_on_error=False
        )
    finally:
        FAIL.clear()
    assert not failed.success
    dg.materialize([raw], partition_key="2024-01-03", instance=instance)  # raw newer than daily

    plan = plan_backfill([raw, daily], instance=instance)  # every partition
    assert plan.reasons_for("raw") == {
        "missing": ["2024-01-04"],
        "requested": ["2024-01-01", "2024-01-02", "2024-01-03"],
    }
    assert plan.reasons_for("daily") == {
        "missing": ["2024-01-04"],
        "failed": ["2024-01-02"],
        "upstream_changed": ["2024-01-03"],
        "requested": ["2024-01-01"],
    }
    assert _keys(plan.subset_for("daily", BackfillReason.FAILED)) == ["2024-01-02"]
    assert plan.subset_for("daily", "missing") == plan.subset_for("raw", "missing")
    assert [r.partition_key for r in plan.runs] == DAYS.get_partition_keys()
    assert [e.reason for e in plan.entries][:2] == [
        BackfillReason.MISSING,
        BackfillReason.REQUESTED,
    ]
    # nothing ran and nothing was recorded
    assert instance.get_runs_count() == 5
    assert get_backfills(instance) == []

    # an upstream outside the selection counts too
    only_daily = plan_backfill([raw, daily], selection=[daily], instance=instance)
    assert only_daily.asset_keys == (dg.AssetKey("daily"),)
    assert only_daily.reasons_for("daily")["upstream_changed"] == ["2024-01-03"]


def test_upstream_changed_follows_the_partition_mapping(instance: Any) -> None:
    @dg.asset(partitions_def=DAYS)
    def source() -> int:
        return 1

    @dg.asset(
        partitions_def=DAYS,
        ins={
            "source": dg.AssetIn(
                partition_mapping=dg.TimeWindowPartitionMapping(
                    start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True
                )
            )
        },
    )
    def rolling(source: Any) -> int:
        return 2

    for key in DAYS.get_partition_keys():
        dg.materialize([source], partition_key=key, instance=instance)
        dg.materialize([source, rolling], selection=[rolling], partition_key=key, instance=instance)
    dg.materialize([source], partition_key="2024-01-02", instance=instance)
    plan = plan_backfill([source, rolling], selection=[rolling], instance=instance)
    # 01-02 reads 01-01..01-02, 01-03 reads 01-02..01-03
    assert plan.reasons_for("rolling") == {
        "upstream_changed": ["2024-01-02", "2024-01-03"],
        "requested": ["2024-01-01", "2024-01-04"],
    }


def test_plan_text_collapses_ranges(instance: Any) -> None:
    year = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")

    @dg.asset(partitions_def=year)
    def big() -> None:
        return None

    dg.materialize([big], partition_key="2024-03-01", instance=instance)
    plan = plan_backfill([big], instance=instance, backfill_policy=BackfillPolicy.multi_run(30))
    text = plan.to_text()
    assert str(plan) == text
    lines = text.splitlines()
    assert lines[2].split() == ["asset", "reason", "partitions"]
    assert lines[3].split(maxsplit=2) == [
        "big",
        "missing",
        "2024-01-01...2024-02-29 (60), 2024-03-02...2024-12-31 (305); 365 in all",
    ]
    assert lines[4].split() == ["big", "requested", "2024-03-01"]
    assert "366 partitions" in text and "13 runs" in text
    assert "... 9 more ...; 2024-12-26...2024-12-31 (6)" in text
    assert "2024-01-01...2024-01-30 (30)" in text  # the first run
    assert len(text.splitlines()) < 10
    assert "2024-06-15" not in text  # never one line (or one mention) per partition

    scattered = plan_backfill(
        [big],
        partition_keys=[f"2024-0{m}-0{d}" for m in range(1, 8) for d in (1, 3)],
        instance=instance,
    )
    line = next(line for line in scattered.to_text().splitlines() if "missing" in line)
    assert "and 10 more in 10 ranges; 13 in all" in line


def test_bad_targets_fail_before_anything_runs(instance: Any) -> None:
    with pytest.raises(UnknownPartitionKeyError, match="2024-02-30"):
        plan_backfill([raw], partition_keys=["2024-01-01", "2024-02-30"], instance=instance)
    with pytest.raises(UnknownPartitionKeyError, match="1999-01-01"):
        launch_backfill([raw], partition_range=("1999-01-01", "2024-01-02"), instance=instance)
    with pytest.raises(DefinitionError, match="targets no partition"):
        launch_backfill([raw], partition_keys=[], instance=instance)
    with pytest.raises(DefinitionError, match="ends before it starts"):
        plan_backfill([raw], partition_range=("2024-01-03", "2024-01-01"), instance=instance)
    with pytest.raises(DefinitionError, match="not both"):
        plan_backfill(
            [raw],
            partition_keys=["2024-01-01"],
            partition_range=("2024-01-01", "2024-01-02"),
            instance=instance,
        )

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def letters() -> None:
        return None

    @dg.asset
    def plain() -> None:
        return None

    with pytest.raises(DefinitionError, match="share one partitions definition.*'letters'"):
        launch_backfill([raw, letters], instance=instance)
    with pytest.raises(DefinitionError, match=r"\['plain'\] is not partitioned"):
        plan_backfill([raw, plain], instance=instance)
    assert instance.get_runs_count() == 0
    assert get_backfills(instance) == []


# -- launching --------------------------------------------------------------------------------
SEEN: list[tuple[str, ...]] = []


def _recording_asset(name: str, policy: BackfillPolicy | None = None) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=DAYS, backfill_policy=policy)
    def recorded(context: dg.AssetExecutionContext) -> None:
        SEEN.append(tuple(context.partition_keys))
        rng = context.partition_key_range
        SEEN.append(("range", rng.start, rng.end))

    return recorded


def test_single_run_policy_runs_the_range_once(instance: Any) -> None:
    SEEN.clear()
    asset = _recording_asset("whole", BackfillPolicy.single_run())
    result = launch_backfill(
        [asset], partition_range=("2024-01-01", "2024-01-03"), instance=instance, tags={"team": "a"}
    )
    assert result.status is BulkActionStatus.COMPLETED_SUCCESS and result.success
    assert SEEN == [
        ("2024-01-01", "2024-01-02", "2024-01-03"),
        ("range", "2024-01-01", "2024-01-03"),
    ]
    (run,) = instance.get_runs()
    assert run.run_id == result.run_ids[0] == f"{result.backfill_id}-0000"
    assert run.tags[BACKFILL_ID_TAG] == result.backfill_id
    assert run.tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert run.tags["dagster/asset_partition_range_end"] == "2024-01-03"
    assert run.tags["team"] == "a"
    status = instance.get_partition_status("whole", DAYS)
    assert _keys(status.materialized) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert _keys(result.partition_status().succeeded) == _keys(status.materialized)
    assert result.partition_status().pending.is_empty


def test_multi_run_policy_and_the_default(instance: Any) -> None:
    SEEN.clear()
    asset = _recording_asset("pairs")
    result = launch_backfill(
        [asset],
        instance=instance,
        backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=3),
    )
    assert [c.key_range for c in result.record.chunks] == [
        ("2024-01-01", "2024-01-03"),
        ("2024-01-04", "2024-01-04"),
    ]
    assert SEEN[0::2] == [("2024-01-01", "2024-01-02", "2024-01-03"), ("2024-01-04",)]
    runs = instance.get_runs(RunsFilter(tags={BACKFILL_ID_TAG: result.backfill_id}))
    assert len(runs) == 2
    single = next(r for r in runs if r.run_id.endswith("-0001"))
    assert single.tags["dagster/partition"] == "2024-01-04"

    SEEN.clear()
    default = launch_backfill(
        [asset], partition_keys=["2024-01-04", "2024-01-02"], instance=instance
    )
    assert default.record.policy == BackfillPolicy.multi_run(1)
    assert SEEN[0::2] == [("2024-01-02",), ("2024-01-04",)]  # partition order, one per run


def test_assets_policies_must_agree(instance: Any) -> None:
    a = _recording_asset("a", BackfillPolicy.single_run())
    b = _recording_asset("b", BackfillPolicy.multi_run(2))
    with pytest.raises(
        DefinitionError, match="different backfill policies.*a: BackfillPolicy.single_run"
    ):
        launch_backfill([a, b], instance=instance)
    plan = plan_backfill([a, b], instance=instance, backfill_policy=BackfillPolicy.multi_run(2))
    assert len(plan.runs) == 2
    assert plan_backfill([a], instance=instance).policy == BackfillPolicy.single_run()


def test_a_failed_run_does_not_stop_the_backfill(instance: Any) -> None:
    FAIL.add("2024-01-02")
    try:
        result = launch_backfill([raw, daily], instance=instance)
    finally:
        FAIL.clear()
    assert result.status is BulkActionStatus.COMPLETED_FAILED
    status = result.partition_status()
    assert _keys(status.failed) == ["2024-01-02"]
    assert _keys(status.succeeded) == ["2024-01-01", "2024-01-03", "2024-01-04"]
    stored = get_backfill(result.backfill_id, instance)
    assert stored.status is BulkActionStatus.COMPLETED_FAILED
    assert [c.status for c in stored.chunks] == [
        ChunkStatus.SUCCEEDED,
        ChunkStatus.FAILED,
        ChunkStatus.SUCCEEDED,
        ChunkStatus.SUCCEEDED,
    ]
    assert get_backfills(instance, statuses=[BulkActionStatus.COMPLETED_SUCCESS]) == []
    assert [b.backfill_id for b in get_backfills(instance)] == [result.backfill_id]
    # the plan now explains the failure
    assert plan_backfill([raw, daily], instance=instance).reasons_for("daily")["failed"] == [
        "2024-01-02"
    ]


# -- cancel and unknown ids -------------------------------------------------------------------
def test_cancel_stops_new_chunks(instance: Any) -> None:
    @dg.asset(partitions_def=DAYS)
    def cancels_itself(context: dg.AssetExecutionContext) -> None:
        # another process would do this; the driver checks the record before each chunk
        (record,) = get_backfills(context.instance)
        cancel_backfill(record.backfill_id, context.instance)

    result = launch_backfill([cancels_itself], instance=instance, backfill_id="stopme")
    assert result.status is BulkActionStatus.CANCELED
    assert instance.get_runs_count() == 1  # the run in progress finished; none started after
    status = result.partition_status()
    assert _keys(status.succeeded) == ["2024-01-01"]
    assert _keys(status.canceled) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert get_backfill("stopme", instance).status is BulkActionStatus.CANCELED
    # resuming a canceled backfill runs nothing
    assert (
        resume_backfill("stopme", [cancels_itself], instance=instance).status
        is BulkActionStatus.CANCELED
    )
    assert instance.get_runs_count() == 1
    assert cancel_backfill("stopme", instance).status is BulkActionStatus.CANCELED  # idempotent


def test_finished_and_unknown_backfills(instance: Any) -> None:
    asset = _recording_asset("done")
    launch_backfill([asset], partition_keys=["2024-01-01"], instance=instance, backfill_id="done1")
    with pytest.raises(InvariantViolationError, match="already finished"):
        cancel_backfill("done1", instance)
    with pytest.raises(InvariantViolationError, match="already recorded"):
        launch_backfill([asset], instance=instance, backfill_id="done1")
    assert resume_backfill("done1", [asset], instance=instance).run_ids == ["done1-0000"]
    assert instance.get_runs_count() == 1
    with pytest.raises(BackfillNotFoundError, match=r"'nope'.*Recent backfills: \['done1'\]"):
        get_backfill("nope", instance)
    with pytest.raises(BackfillNotFoundError, match="'nope'"):
        resume_backfill("nope", [asset], instance=instance)
    with pytest.raises(BackfillNotFoundError, match="'nope'"):
        cancel_backfill("nope", instance)


# -- a killed driver --------------------------------------------------------------------------
_DRIVE = textwrap.dedent(
    """
    import sys
    from mp_fixtures import backfill_jobs

    backfill_jobs.main(sys.argv[1])
    """
)


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the driver exited early ({process.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"{path.name} never appeared")
        time.sleep(0.02)


def test_resume_after_the_driver_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, signals = tmp_path / "home", tmp_path / "signals"
    signals.mkdir()
    env = {
        **os.environ,
        "WEIR_HOME": str(home),
        "WEIR_TEST_SIGNAL_DIR": str(signals),
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", _DRIVE, "killed"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _wait_for(signals / "events.started", process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    monkeypatch.setenv("WEIR_HOME", str(home))
    monkeypatch.setenv("WEIR_TEST_SIGNAL_DIR", str(signals))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    from mp_fixtures import backfill_jobs

    (signals / "events.may_finish").write_text("", encoding="utf-8")
    with dg.Instance.get() as instance:
        before = get_backfill("killed", instance)
        assert before.status is BulkActionStatus.REQUESTED
        assert [c.status for c in before.chunks] == [
            ChunkStatus.SUCCEEDED,
            ChunkStatus.REQUESTED,
            ChunkStatus.PENDING,
            ChunkStatus.PENDING,
        ]
        result = resume_backfill("killed", [backfill_jobs.events], instance=instance)
        assert result.status is BulkActionStatus.COMPLETED_SUCCESS
        assert result.record.chunks[1].run_ids == ["killed-0001", "killed-0001-r1"]
        assert instance.get_run_by_id("killed-0001").status is dg.DagsterRunStatus.FAILURE
        runs = instance.get_runs(RunsFilter(tags={BACKFILL_ID_TAG: "killed"}))
        assert len(runs) == 4 + 1  # chunks + the one re-run
        status = instance.get_partition_status("events", backfill_jobs.DAYS)
        assert _keys(status.materialized) == backfill_jobs.DAYS.get_partition_keys()
        # a second resume is a no-op
        assert resume_backfill("killed", [backfill_jobs.events], instance=instance).success
        assert instance.get_runs_count() == 5
    ran = (signals / "events.log").read_text(encoding="utf-8").split()
    assert ran == ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04"]


def test_dynamic_partitions_are_read_from_the_instance(instance: Any) -> None:
    customers = dg.DynamicPartitionsDefinition(name="customers")

    @dg.asset(partitions_def=customers)
    def per_customer() -> None:
        return None

    instance.add_dynamic_partitions("customers", ["acme", "globex", "initech"])
    plan = plan_backfill([per_customer], instance=instance)
    assert "missing  acme...initech (3)" in plan.to_text()
    result = launch_backfill([per_customer], partition_keys=["acme", "initech"], instance=instance)
    stored = get_backfill(result.backfill_id, instance)
    assert _keys(stored.partition_status().succeeded) == ["acme", "initech"]
    with pytest.raises(UnknownPartitionKeyError, match="'hooli'"):
        plan_backfill([per_customer], partition_keys=["hooli"], instance=instance)


def test_a_mapping_to_nonexistent_upstream_partitions_fails_in_the_plan(instance: Any) -> None:
    @dg.asset(partitions_def=DAYS)
    def today() -> int:
        return 1

    @dg.asset(
        partitions_def=DAYS,
        ins={"today": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
    )
    def yesterday(today: Any) -> int:
        return 1

    dg.materialize([today], partition_key="2024-01-01", instance=instance)
    dg.materialize([today, yesterday], partition_key="2024-01-02", instance=instance)
    dg.materialize([today], partition_key="2024-01-02", instance=instance)
    plan = plan_backfill([today, yesterday], partition_keys=["2024-01-02"], instance=instance)
    assert plan.reasons_for("yesterday") == {"upstream_changed": ["2024-01-02"]}
    with pytest.raises(NonexistentUpstreamPartitionsError, match="(?s)do not exist.*2023-12-31"):
        plan_backfill([today, yesterday], partition_keys=["2024-01-01"], instance=instance)
    with pytest.raises(NonexistentUpstreamPartitionsError):
        launch_backfill([today, yesterday], instance=instance)
    assert get_backfills(instance) == []


def test_a_failed_single_run_chunk_plans_its_range_as_failed(tmp_path: Path) -> None:
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")

    @dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
    def always_fails(context: dg.AssetExecutionContext) -> None:
        raise RuntimeError("no data")

    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = dg.launch_backfill([always_fails], instance=instance)
        assert not result.success
        plan = dg.plan_backfill([always_fails], instance=instance)
        failed = plan.subset_for(dg.AssetKey("always_fails"), dg.BackfillReason.FAILED)
        assert failed.get_partition_keys() == days.get_partition_keys()
