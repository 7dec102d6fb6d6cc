"""The persistent instance survives crashes and concurrent writers.

A run killed with SIGKILL mid-step is found dead and marked FAILURE the next time the instance looks;
what it committed stays; re-execution from failure finishes it. Eight processes (in-process and
multiprocess executors) write runs into one SQLite instance at once without a lock error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import weir as dg

TESTS_DIR = Path(__file__).resolve().parent


def _env(home: Path, signal_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WEIR_HOME": str(home),
        "WEIR_TEST_SIGNAL_DIR": str(signal_dir),
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }


_RUN_JOB = textwrap.dedent(
    """
    import sys
    import weir as dg
    from mp_fixtures import instance_jobs

    job = getattr(instance_jobs, sys.argv[1])
    with dg.Instance.get() as instance:
        result = dg.execute_job(dg.reconstructable(job), instance=instance, raise_on_error=False)
        print("RUN", result.run_id, result.success)
    """
)


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run process exited early ({process.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path.name} never appeared")
        time.sleep(0.02)


@pytest.mark.parametrize("job", ["get_crash_job", "get_crash_job_multiprocess"])
def test_a_run_killed_mid_step_is_marked_failed_and_re_executes_from_failure(
    tmp_path: Path, job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, signals = tmp_path / "home", tmp_path / "signals"
    signals.mkdir()
    env = _env(home, signals)
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN_JOB, job],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _wait_for(signals / "second.started", process)
    os.killpg(process.pid, signal.SIGKILL)  # the run process and, for multiprocess, its workers
    process.wait()

    monkeypatch.setenv("WEIR_HOME", str(home))
    monkeypatch.setenv("WEIR_TEST_SIGNAL_DIR", str(signals))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    with dg.Instance.get() as instance:
        (run,) = instance.get_runs()
        assert run.status is dg.DagsterRunStatus.FAILURE  # noticed dead on this read
        logs = instance.all_logs(run.run_id)
        succeeded = [
            e.step_key for e in logs if e.is_dagster_event and e.dagster_event.is_step_success
        ]
        assert succeeded == ["first"]  # committed before the kill, still there
        assert "killed or crashed" in logs[-1].message
        assert logs[-1].dagster_event_type is dg.DagsterEventType.RUN_FAILURE
        # a second look does not mark it again
        assert instance.get_run_by_id(run.run_id).status is dg.DagsterRunStatus.FAILURE
        assert len(instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)) == 1

        (signals / "second.may_finish").write_text("", encoding="utf-8")
        from mp_fixtures import instance_jobs

        options = dg.ReexecutionOptions.from_failure(run.run_id, instance)
        assert options.step_selection == ["second", "third"]
        result = dg.execute_job(
            dg.reconstructable(getattr(instance_jobs, job)),
            instance=instance,
            reexecution_options=options,
        )
        assert result.success
        assert result.asset_value("third") == 3  # "first" was loaded from the killed run's output
        child = instance.get_run_by_id(result.run_id)
        assert child.parent_run_id == run.run_id and child.root_run_id == run.run_id
        assert instance.get_runs_count() == 2


def test_eight_processes_write_one_sqlite_instance_without_lock_errors(tmp_path: Path) -> None:
    home, signals = tmp_path / "home", tmp_path / "signals"
    signals.mkdir()
    env = _env(home, signals)
    jobs = ["get_chain_job"] * 6 + ["get_chain_job_multiprocess"] * 2
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RUN_JOB, job],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for job in jobs
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "locked" not in err.lower(), err
        assert out.strip().endswith("True"), out + err
    with dg.Instance.from_home(home) as instance:
        runs = instance.get_runs()
        assert len(runs) == 8
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        for run in runs:
            steps = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            assert len(steps) == 10
        ids = [
            r.storage_id for run in runs for r in instance.get_records_for_run(run.run_id).records
        ]
        assert len(ids) == len(set(ids))
        # the materializations of all eight runs are indexed
        latest = instance.fetch_materializations(dg.AssetKey("link_9"), limit=100)
        assert len(latest.records) == 8


@pytest.mark.parametrize(
    ("job_name", "rerun", "reused", "check"),
    [
        ("numbers_job", ["double_them", "total"], "load_numbers", ("total", 12)),
        ("dynamic_job", ["per_key", "gather"], "fan_out", ("gather", 3)),
    ],
)
def test_op_jobs_re_execute_from_failure_with_the_parent_outputs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    job_name: str,
    rerun: list[str],
    reused: str,
    check: tuple[str, int],
) -> None:
    signals = tmp_path / "signals"
    signals.mkdir()
    monkeypatch.setenv("WEIR_TEST_SIGNAL_DIR", str(signals))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    from mp_fixtures import instance_jobs

    job = getattr(instance_jobs, job_name)
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        first = dg.execute_job(dg.reconstructable(job), instance=instance, raise_on_error=False)
        assert not first.success
        options = dg.ReexecutionOptions.from_failure(first.run_id, instance)
        assert options.step_selection == rerun
        second = dg.execute_job(
            dg.reconstructable(job), instance=instance, reexecution_options=options
        )
        assert second.success
        assert second.output_for_node(check[0]) == check[1]
        assert len(list(signals.glob(f"{reused}.*"))) == 1  # ran once: its output was reused
        run = instance.get_run_by_id(second.run_id)
        assert (
            run.parent_run_id == first.run_id and run.tags["dagster/parent_run_id"] == first.run_id
        )
        started = {e.step_key for e in instance.all_logs(second.run_id, of_type="STEP_START")}
        assert reused not in started
        # re-executing the re-execution finds the reused output two runs up
        third = dg.execute_job(
            dg.reconstructable(job),
            instance=instance,
            reexecution_options=dg.ReexecutionOptions(second.run_id, [check[0]]),
        )
        assert third.output_for_node(check[0]) == check[1]
        assert instance.get_run_by_id(third.run_id).root_run_id == first.run_id


def test_partitioned_runs_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEIR_TEST_SIGNAL_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    from mp_fixtures import instance_jobs

    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        tags = {
            "dagster/asset_partition_range_start": "2024-01-02",
            "dagster/asset_partition_range_end": "2024-01-04",
        }
        ranged = dg.execute_job(
            dg.reconstructable(instance_jobs.get_days_job_multiprocess),
            instance=instance,
            tags=tags,
        )
        assert ranged.success
        stored = Path(instance.storage_directory()) / "day_keys"
        assert sorted(p.name for p in stored.iterdir()) == [
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
        ]
        status = instance.get_partition_status("day_count", instance_jobs.DAYS)
        assert status.materialized.get_partition_keys() == [
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
        ]
        single = dg.execute_job(
            dg.reconstructable(instance_jobs.get_days_job_multiprocess),
            instance=instance,
            tags={"dagster/partition": "2024-01-05"},
        )
        assert single.success and single.asset_value("day_count") == 1  # one {key: [...]} dict
