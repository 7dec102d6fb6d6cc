"""The multiprocess executor, ``execute_job`` and ``reconstructable``.

Jobs live in ``mp_fixtures/jobs.py`` (worker processes import them, as with Dagster). Steps record
pids and times in their values, or in files, so tests check what ran where and when rather than
wall-clock budgets.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir._execution.execute_job import (
    JobExecutionResult,
    ReexecutionOptions,
    UnmetExecutorRequirementsError,
    execute_job,
)
from weir._execution.executor_def import (
    in_process_executor,
    multi_or_in_process_executor,
    multiprocess_executor,
)
from weir._execution.reconstructable import (
    ReconstructableJob,
    build_reconstructable_job,
    reconstructable,
)
from weir.errors import ConfigError, ExecutionError, InvariantViolationError, StepExecutionError

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def importable_fixtures(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Worker processes get the parent's sys.path, so ``mp_fixtures`` must be on it."""
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    yield


@pytest.fixture
def jobs() -> Any:
    from mp_fixtures import jobs as module

    return module


@pytest.fixture
def instance(tmp_path: Path) -> Any:
    return dg.DagsterInstance.local_temp(str(tmp_path / "home"))


def _types(result: Any, step_key: str | None = None) -> list[str]:
    return [
        e.event_type_value for e in result.all_events if step_key is None or e.step_key == step_key
    ]


def _stored_types(instance: Any, run_id: str) -> list[str]:
    """The run's event types as the instance stored them, without the planned events (written
    when the run is created, not part of the execution's event stream)."""
    return [
        e.dagster_event.event_type_value
        for e in instance.all_logs(run_id)
        if e.is_dagster_event and not e.dagster_event.event_type_value.endswith("_PLANNED")
    ]


def _failure(result: Any, node: str) -> Any:
    """The error info of ``node``'s failure (asserting there is one)."""
    failure = result.failure_data_for_node(node)
    assert failure is not None and failure.error is not None, f"{node} did not fail"
    return failure.error


def _messages(result: Any, text: str) -> list[str]:
    return [e.message for e in result.all_events if e.message and text in e.message]


# -- the happy path --------------------------------------------------------------------------------


def test_values_cross_processes_through_the_filesystem_io_manager(jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(jobs.get_values_job), instance=instance)
    assert isinstance(result, JobExecutionResult)
    assert result.success
    summary = result.asset_value("summary")
    assert summary["doubled"] == 20 and summary["squared"] == 30
    assert summary["pid"] != os.getpid()  # computed in a worker
    assert result.output_for_node("doubled") == [2, 4, 6, 8]
    stored = Path(instance.storage_directory()) / "summary"
    assert stored.exists()  # the default IO manager wrote under the instance's storage
    assert instance.get_run_by_id(result.run_id).status is dg.DagsterRunStatus.SUCCESS
    assert _stored_types(instance, result.run_id) == _types(result)


def test_events_name_the_parent_and_the_workers(jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(jobs.get_values_job), instance=instance)
    events = result.all_events
    assert events[0].event_type_value == "PIPELINE_START"
    assert events[1].message == (
        f"Executing steps using multiprocess executor: parent process (pid: {os.getpid()})"
    )
    assert events[-1].event_type_value == "PIPELINE_SUCCESS"
    for step in ("numbers", "doubled", "squared", "summary"):
        kinds = _types(result, step)
        assert kinds[:3] == ["STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "STEP_START"]
        assert kinds[-1] == "STEP_SUCCESS"
        dispatch = next(e for e in events if e.step_key == step)
        assert str(dispatch.message).startswith(f'Dispatching step "{step}" to worker ')
        assert dispatch.pid == os.getpid()
        start = next(e for e in events if e.step_key == step and e.is_step_start)
        assert start.pid != os.getpid()  # step events keep the worker's pid
    assert events.index(
        next(e for e in events if e.step_key == "numbers" and e.is_step_success)
    ) < events.index(next(e for e in events if e.step_key == "doubled" and e.is_step_start))


def test_steps_run_in_parallel_in_different_workers(
    jobs: Any, instance: Any, tmp_path: Path
) -> None:
    # each step waits until the other one has started: they can only meet if both run at once
    config = {"folder": str(tmp_path)}
    result = execute_job(
        reconstructable(jobs.get_parallel_job),
        instance=instance,
        run_config={
            "ops": {"meet_a": {"config": config}, "meet_b": {"config": config}},
            "execution": {"config": {"multiprocess": {"max_concurrent": 2}}},
        },
    )
    assert result.success
    a, b = result.asset_value("meet_a"), result.asset_value("meet_b")
    assert a["met"] and b["met"], (a, b)
    assert a["pid"] != b["pid"] and os.getpid() not in (a["pid"], b["pid"])


def test_tag_concurrency_limits_keep_tagged_steps_apart(jobs: Any, instance: Any) -> None:
    limits = [{"key": "database", "value": "warehouse", "limit": 1}]
    result = execute_job(
        reconstructable(jobs.get_limited_job),
        instance=instance,
        run_config={
            "execution": {
                "config": {"multiprocess": {"max_concurrent": 2, "tag_concurrency_limits": limits}}
            }
        },
    )
    assert result.success
    a, b = result.asset_value("limited_a"), result.asset_value("limited_b")
    first, second = sorted((a, b), key=lambda v: v["start"])
    assert second["start"] >= first["end"], (a, b)


def test_resources_are_initialised_once_per_worker_not_per_step(
    jobs: Any, instance: Any, tmp_path: Path
) -> None:
    log_dir = tmp_path / "tracker"
    log_dir.mkdir()
    result = execute_job(
        reconstructable(jobs.get_tracked_job),
        instance=instance,
        run_config={
            "resources": {"tracker": {"config": {"log_dir": str(log_dir)}}},
            "execution": {"config": {"multiprocess": {"max_concurrent": 2}}},
        },
    )
    assert result.success
    steps = (log_dir / "steps.log").read_text().split()
    step_pids = Counter(steps[1::2])
    setups = Counter((log_dir / "setup.log").read_text().split())
    teardowns = Counter((log_dir / "teardown.log").read_text().split())
    assert len(steps) // 2 == 6
    assert len(setups) <= 2 and all(n == 1 for n in setups.values())  # once per worker
    assert sum(setups.values()) < 6
    assert set(step_pids) <= set(setups)  # every step ran in a worker that set up once
    assert teardowns == setups  # and tore down once, before execute_job returned
    resource_inits = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_SUCCESS"]
    assert len(resource_inits) == len(setups)


def test_forkserver_start_method(jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(jobs.get_forkserver_job), instance=instance)
    assert result.success
    assert result.asset_value("squared") == [1, 4, 9, 16]
    ready = _messages(result, "is ready")
    assert ready and all("start method forkserver" in m for m in ready)
    worker_pids = {int(m.split("(pid: ")[1].split(")")[0]) for m in ready}
    starts = {e.pid for e in result.all_events if e.is_step_start}
    assert starts and starts <= worker_pids  # the workers' own pids, not the fork server's


# -- failures ----------------------------------------------------------------------------------------


def test_a_failed_step_blocks_downstream_and_the_rest_carries_on(jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(jobs.get_boom_job), instance=instance)
    assert not result.success
    assert result.is_node_failed("boom")
    assert result.is_node_untouched("after_boom")
    assert result.is_node_success("independent")
    error = _failure(result, "boom")
    assert "boom went the asset" in error.message
    assert error.cls_name == "ValueError"
    assert result.get_run_failure_event().message == (
        "Execution of run for \"boom_job\" failed. Steps failed: ['boom']."
    )
    assert instance.get_run_by_id(result.run_id).status is dg.DagsterRunStatus.FAILURE


def test_raise_on_error_raises_after_the_run_naming_the_step(jobs: Any, instance: Any) -> None:
    with pytest.raises(StepExecutionError, match='step "boom" failed') as info:
        execute_job(reconstructable(jobs.get_boom_job), instance=instance, raise_on_error=True)
    assert "ValueError: boom went the asset" in str(info.value)
    assert info.value.step_key == "boom"
    (run,) = instance.get_runs()
    assert run.status is dg.DagsterRunStatus.FAILURE
    assert any(
        e.step_key == "independent" and e.dagster_event.is_step_success
        for e in instance.all_logs(run.run_id)
    )


def test_a_killed_worker_fails_only_its_step_and_is_replaced(jobs: Any, instance: Any) -> None:
    result = execute_job(
        reconstructable(jobs.get_killer_job),
        instance=instance,
        run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 1}}}},
    )
    assert not result.success
    assert result.get_failed_step_keys() == {"killer"}
    assert result.is_node_untouched("after_killer")
    assert result.is_node_success("survivor_1") and result.is_node_success("survivor_2")
    message = _failure(result, "killer").message
    assert 'Step "killer" failed' in message and "SIGKILL" in message
    dead_pid = next(e.pid for e in result.all_events if e.step_key == "killer" and e.is_step_start)
    assert f"(pid: {dead_pid})" in message
    # one worker at a time: after the crash, a new worker ran the survivors
    survivor_pids = {
        e.pid
        for e in result.all_events
        if e.is_step_start and str(e.step_key).startswith("survivor")
    }
    assert dead_pid not in survivor_pids and len(survivor_pids) == 1
    assert result.asset_value("survivor_2") == 2


def test_resource_set_up_failure_in_the_workers_fails_the_run(jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(jobs.get_broken_job), instance=instance)
    assert not result.success
    assert result.is_node_untouched("needs_broken")
    failures = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert failures and "database unreachable" in str(failures[0].message)
    assert result.get_run_failure_event() is not None
    with pytest.raises(dg.ResourceError, match="database unreachable"):
        execute_job(reconstructable(jobs.get_broken_job), instance=instance, raise_on_error=True)


def test_a_job_that_cannot_load_in_the_workers_fails_the_run_with_the_reason(
    jobs: Any, instance: Any
) -> None:
    recon = reconstructable(jobs.get_job_failing_in_workers)
    result = execute_job(recon, instance=instance)
    assert not result.success
    assert not any(e.is_step_start for e in result.all_events)
    reasons = _messages(result, "could not load")
    assert reasons and "a module this job needs is missing in the worker" in reasons[0]
    assert "mp_fixtures.jobs:get_job_failing_in_workers" in reasons[0]
    with pytest.raises(ExecutionError, match="could not start"):
        execute_job(recon, instance=instance, raise_on_error=True)


# -- IO managers and executor config -------------------------------------------------------------------


def test_in_memory_io_manager_across_processes_is_refused_before_the_run(
    jobs: Any, instance: Any
) -> None:
    with pytest.raises(UnmetExecutorRequirementsError) as info:
        execute_job(reconstructable(jobs.get_mem_job), instance=instance)
    message = str(info.value)
    assert 'step "doubled" reads "numbers" from step "numbers" through "io_manager"' in message
    assert "in-memory IO managers" in message and "in_process" in message
    assert instance.get_runs() == []  # nothing ran
    # the same job runs fine in process
    result = execute_job(
        reconstructable(jobs.get_mem_job),
        instance=instance,
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    assert result.success and result.dagster_run.status is dg.DagsterRunStatus.SUCCESS


def test_an_io_manager_that_turns_out_in_memory_fails_the_reading_step(
    jobs: Any, instance: Any
) -> None:
    result = execute_job(reconstructable(jobs.get_sneaky_job), instance=instance)
    assert not result.success
    assert result.is_node_success("numbers")
    message = _failure(result, "doubled").message
    assert "in-memory IO managers keep values inside one process" in message
    assert 'input "numbers" from step "numbers"' in message


@pytest.mark.parametrize(
    ("execution", "expected"),
    [
        (
            {"config": {"multiprocess": {"max_concurrent": "four"}}},
            "root:execution:config:multiprocess:max_concurrent: expected a non-negative integer",
        ),
        (
            {"config": {"multiprocess": {"max_concurent": 2}}},
            'unexpected config entry "max_concurent" at path root:execution:config:multiprocess.'
            " Expected one of",
        ),
        (
            {"config": {"multiprocess": {"start_method": {"fork": {}}}}},
            'unexpected config entry "fork" at path root:execution:config:multiprocess:start_method',
        ),
        (
            {"config": {"threads": {}}},
            'unexpected config entry "threads" at path root:execution:config',
        ),
        (
            {"config": {"multiprocess": {"tag_concurrency_limits": [{"key": "db", "limit": 0}]}}},
            "tag_concurrency_limits[0]:limit: expected a positive integer",
        ),
    ],
)
def test_bad_executor_config_is_a_config_error_before_any_step_runs(
    jobs: Any, instance: Any, execution: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        execute_job(
            reconstructable(jobs.get_values_job),
            instance=instance,
            run_config={"execution": execution},
        )
    assert expected in str(info.value)
    assert instance.get_runs() == []


def test_every_executor_config_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        multiprocess_executor.resolve_config(
            {
                "max_concurrent": -1,
                "start_method": {"forkserver": {"preload_modules": "x"}},
                "bogus": 1,
            }
        )
    assert len(info.value.errors) == 3
    assert "2 error(s)" not in str(info.value) and "3 error(s)" in str(info.value)


def test_in_process_executor_chosen_by_run_config_or_on_the_job(jobs: Any, instance: Any) -> None:
    by_config = execute_job(
        reconstructable(jobs.get_values_job),
        instance=instance,
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    on_job = execute_job(reconstructable(jobs.get_in_process_job), instance=instance)
    for result in (by_config, on_job):
        assert result.success
        assert {e.pid for e in result.all_events} == {os.getpid()}
        assert "Executing steps in process" in str(result.all_events[1].message)
    assert on_job.asset_value("doubled") == [2, 4, 6, 8]


def test_execute_in_process_always_stays_in_process(jobs: Any) -> None:
    result = jobs.get_forkserver_job().execute_in_process()
    assert result.success
    assert {e.pid for e in result.all_events} == {os.getpid()}


def test_executors_are_registered_through_the_plugin_hook() -> None:
    from weir.plugins import PluginRegistry, get_plugin_manager

    executors = PluginRegistry(get_plugin_manager(autoload=False)).executors()
    assert executors.get("multiprocess") is multiprocess_executor
    assert executors.get("multi_or_in_process") is multi_or_in_process_executor
    assert executors.get("in_process") is in_process_executor


# -- op jobs, results, re-execution ---------------------------------------------------------------------


def test_op_jobs_run_in_the_pool_with_the_filesystem_io_manager(jobs: Any, instance: Any) -> None:
    with execute_job(reconstructable(jobs.op_pipeline), instance=instance) as result:
        assert result.success
        assert result.output_for_node("add_one") == 4
    assert os.getpid() not in {e.pid for e in result.all_events if e.is_step_start}
    stored = list(Path(instance.storage_directory()).rglob("add_one/result"))
    assert stored, "the op output should have been written by the filesystem IO manager"
    in_process = execute_job(
        reconstructable(jobs.op_pipeline),
        instance=instance,
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    assert in_process.success and in_process.output_for_node("add_one") == 4
    assert {e.pid for e in in_process.all_events} == {os.getpid()}


def test_result_as_a_context_manager_initialises_io_managers_once(jobs: Any, instance: Any) -> None:
    with execute_job(reconstructable(jobs.values_job), instance=instance) as result:
        assert result.asset_value("doubled") == [2, 4, 6, 8]
        assert result.asset_value("squared") == [1, 4, 9, 16]
        assert len(result._live) == 1  # one io_manager, reused for both reads
    assert result._live == {}


def test_reexecution_from_failure_runs_only_what_failed(
    jobs: Any, instance: Any, tmp_path: Path
) -> None:
    config = {"ops": {"flaky": {"config": {"flag_file": str(tmp_path / "flag")}}}}
    first = execute_job(reconstructable(jobs.get_flaky_job), instance=instance, run_config=config)
    assert not first.success and first.is_node_success("stable")
    options = ReexecutionOptions.from_failure(first.run_id, instance)
    assert sorted(options.step_selection) == ["after_flaky", "flaky"]
    second = execute_job(
        reconstructable(jobs.get_flaky_job), instance=instance, reexecution_options=options
    )
    assert second.success
    assert second.is_node_untouched("stable")  # loaded from the first run's storage
    assert second.asset_value("after_flaky") == 22
    assert second.dagster_run.parent_run_id == first.run_id
    assert second.dagster_run.tags["dagster/root_run_id"] == first.run_id
    with pytest.raises(InvariantViolationError, match="not FAILURE"):
        ReexecutionOptions.from_failure(second.run_id, instance)


# -- reconstructable --------------------------------------------------------------------------------------


def test_reconstructable_points_at_modules_and_pickles_only_the_pointer(jobs: Any) -> None:
    import pickle

    by_function = reconstructable(jobs.get_values_job)
    assert (by_function.module_name, by_function.attribute) == (
        "mp_fixtures.jobs",
        "get_values_job",
    )
    by_object = reconstructable(jobs.values_job)
    assert (by_object.module_name, by_object.attribute) == ("mp_fixtures.jobs", "values_job")
    assert by_object.get_definition() is jobs.values_job
    copy = pickle.loads(pickle.dumps(by_object))
    assert copy == by_object and copy._loaded is None
    assert copy.get_definition() is jobs.values_job
    decorated = reconstructable(jobs.op_pipeline)
    assert decorated.attribute == "op_pipeline" and decorated.job_name == "op_pipeline"
    built = build_reconstructable_job("mp_fixtures.jobs", "get_values_job")
    assert built.get_definition().name == "values_job"


def test_reconstructable_refuses_what_workers_cannot_import(jobs: Any) -> None:
    with pytest.raises(InvariantViolationError, match="cannot reconstruct a lambda"):
        reconstructable(lambda: jobs.values_job)

    def nested() -> Any:
        return jobs.values_job

    with pytest.raises(InvariantViolationError, match="not defined at module scope"):
        reconstructable(nested)
    local_job = jobs.values_defs.get_job_def("values_job")._copy(name="local_only")
    with pytest.raises(InvariantViolationError, match="no imported module holds it at top level"):
        reconstructable(local_job)
    with pytest.raises(InvariantViolationError, match="takes a job or a module-level function"):
        reconstructable(42)
    with pytest.raises(InvariantViolationError, match=r"wrap it so worker processes can import it"):
        execute_job(jobs.values_job)  # type: ignore[arg-type]


def test_reconstructable_errors_at_load_time_are_clear(jobs: Any) -> None:
    missing = ReconstructableJob(attribute="no_such_job", module_name="mp_fixtures.jobs")
    with pytest.raises(InvariantViolationError, match="has no attribute 'no_such_job'"):
        missing.get_definition()
    unresolved = ReconstructableJob(attribute="unresolved", module_name="mp_fixtures.bad_jobs")
    with pytest.raises(InvariantViolationError, match=r'defs.get_job_def\("unresolved_job"\)'):
        unresolved.get_definition()
    nowhere = ReconstructableJob(attribute="job", module_name="mp_fixtures.no_such_module")
    with pytest.raises(
        InvariantViolationError, match="Could not import module 'mp_fixtures.no_such_module'"
    ):
        nowhere.get_definition()


# -- a script: jobs defined in __main__, and Ctrl-C ---------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    import weir as dg
    from weir._execution.execute_job import execute_job
    from weir._execution.reconstructable import reconstructable

    PID_DIR = Path(os.environ["WEIR_TEST_PID_DIR"])


    def _sleeper(name):
        @dg.asset(name=name)
        def _asset() -> int:
            (PID_DIR / f"{name}.{os.getpid()}").write_text("started")
            time.sleep(float(os.environ.get("WEIR_TEST_SLEEP", "60")))
            return os.getpid()

        return _asset


    defs = dg.Definitions(
        assets=[_sleeper("nap_a"), _sleeper("nap_b")], jobs=[dg.define_asset_job("naps")]
    )


    def get_job():
        return defs.get_job_def("naps")


    if __name__ == "__main__":
        instance = dg.DagsterInstance.ephemeral()
        try:
            result = execute_job(
                reconstructable(get_job),
                instance=instance,
                run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}},
            )
            print("RESULT", result.success, sorted({result.asset_value("nap_a"), result.asset_value("nap_b")} - {os.getpid()}) != [])
        except KeyboardInterrupt:
            (run,) = instance.get_runs()
            events = [e.dagster_event.event_type_value for e in instance.all_logs(run.run_id)]
            print("CANCELED", run.status.value, events[-1], "STEP_FAILURE" in events)
            sys.exit(3)
    """
)


def _run_script(tmp_path: Path, sleep: str) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "naps.py"
    script.write_text(SCRIPT, encoding="utf-8")
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    env = {
        **os.environ,
        "WEIR_TEST_PID_DIR": str(pid_dir),
        "WEIR_TEST_SLEEP": sleep,
        "WEIR_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, pid_dir


def _process_exists(pid: int) -> bool:
    """Whether ``pid`` is still a running process (a zombie has already stopped running)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_job_defined_in_a_script_runs_through_its_file(tmp_path: Path) -> None:
    proc, _ = _run_script(tmp_path, sleep="0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "RESULT True True" in out


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="checks /proc for leftover workers"
)
def test_ctrl_c_cancels_the_run_and_leaves_no_worker_behind(tmp_path: Path) -> None:
    proc, pid_dir = _run_script(tmp_path, sleep="60")
    try:
        deadline = time.monotonic() + 30
        while len(list(pid_dir.iterdir())) < 2:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the workers never started their steps"
            time.sleep(0.05)
        worker_pids = {int(p.name.rsplit(".", 1)[1]) for p in pid_dir.iterdir()}
        assert len(worker_pids) == 2 and proc.pid not in worker_pids
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    assert "CANCELED CANCELED PIPELINE_CANCELED True" in out
    deadline = time.monotonic() + 5
    while any(_process_exists(pid) for pid in worker_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in worker_pids if _process_exists(pid)], (
        "worker processes outlived the run"
    )


# -- retries, hooks and checks in the workers ------------------------------------------------------------


def test_retries_hooks_and_checks_run_in_the_workers(
    jobs: Any, instance: Any, tmp_path: Path
) -> None:
    log_dir = tmp_path / "hooks"
    log_dir.mkdir()
    result = execute_job(
        reconstructable(jobs.get_retry_job),
        instance=instance,
        run_config={"resources": {"tracker": {"config": {"log_dir": str(log_dir)}}}},
    )
    assert result.success, [e.message for e in result.get_step_failure_events()]
    kinds = _types(result, "retried")
    assert "STEP_UP_FOR_RETRY" in kinds and "STEP_RESTARTED" in kinds
    assert kinds.count("STEP_WORKER_STARTING") == 2  # the retry was dispatched again
    assert result.retry_attempts_for_node("retried") == 1
    assert result.asset_value("after_retried") == 101
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    hooks = [line.split() for line in (log_dir / "hooks.log").read_text().splitlines()]
    assert {step for step, _ in hooks} >= {"retried", "after_retried"}
    assert str(os.getpid()) not in {pid for _, pid in hooks}  # hooks ran in the workers


def test_retries_disabled_by_executor_config(jobs: Any, instance: Any, tmp_path: Path) -> None:
    result = execute_job(
        reconstructable(jobs.get_retry_job),
        instance=instance,
        run_config={
            "resources": {"tracker": {"config": {"log_dir": str(tmp_path)}}},
            "execution": {"config": {"multiprocess": {"retries": {"disabled": {}}}}},
        },
    )
    assert not result.success
    assert "retries are disabled" in _failure(result, "retried").message
    assert result.is_node_untouched("after_retried")


def test_bad_resource_config_fails_before_any_worker_starts(jobs: Any, instance: Any) -> None:
    with pytest.raises(ConfigError, match="log_dir"):
        execute_job(
            reconstructable(jobs.get_tracked_job),
            instance=instance,
            run_config={"resources": {"tracker": {"config": {"log_dri": "/tmp"}}}},
        )
    assert instance.get_runs() == []


# -- op jobs in the pool ------------------------------------------------------------------------------


@pytest.fixture
def op_jobs() -> Any:
    from mp_fixtures import op_jobs as module

    return module


def _index(result: Any, step_key: str, kind: str) -> int:
    return next(
        i
        for i, e in enumerate(result.all_events)
        if e.step_key == step_key and e.event_type_value == kind
    )


def test_a_diamond_of_ops_runs_across_two_workers(
    op_jobs: Any, instance: Any, tmp_path: Path
) -> None:
    # left and right each wait until the other has started: they meet only if both run at once
    meet = {"config": {"folder": str(tmp_path)}}
    result = execute_job(
        reconstructable(op_jobs.diamond),
        instance=instance,
        run_config={
            "ops": {"left": meet, "right": meet},
            "execution": {"config": {"multiprocess": {"max_concurrent": 2}}},
        },
    )
    assert result.success
    left, right = result.output_for_node("left"), result.output_for_node("right")
    assert left["met"] and right["met"], (left, right)
    assert left["pid"] != right["pid"] and os.getpid() not in (left["pid"], right["pid"])
    joined = result.output_for_node("join")
    assert joined["total"] == 11 + 20
    assert joined["pids"][2] in (left["pid"], right["pid"])  # the pool has two workers
    for step in ("source", "left", "right", "join"):
        kinds = _types(result, step)
        assert kinds[:3] == ["STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "STEP_START"]
        assert kinds[-1] == "STEP_SUCCESS"
    for upstream in ("left", "right"):
        assert _index(result, upstream, "STEP_SUCCESS") < _index(result, "join", "STEP_START")
    assert list(Path(instance.storage_directory()).rglob("join/result"))
    run = instance.get_run_by_id(result.run_id)
    assert run.status is dg.DagsterRunStatus.SUCCESS
    assert run.step_keys_to_execute == ["source", "left", "right", "join"]
    assert _stored_types(instance, result.run_id) == _types(result)


def test_dynamic_fan_out_maps_and_collects_across_workers(op_jobs: Any, instance: Any) -> None:
    result = execute_job(
        reconstructable(op_jobs.get_fan_job),
        instance=instance,
        run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}},
    )
    assert result.success
    # the fanning op reported its keys; one step per key, dispatched only after that
    mapped = [f"{op}[{k}]" for op in ("square", "plus_pid") for k in ("k3", "k1", "k2")]
    fan_done = _index(result, "fan_out", "STEP_SUCCESS")
    for step in mapped:
        assert _index(result, step, "STEP_WORKER_STARTING") > fan_done
        start = result.all_events[_index(result, step, "STEP_START")]
        assert start.pid != os.getpid()
    for k in ("k3", "k1", "k2"):  # plus_pid[k] waits for square[k] only
        assert _index(result, f"square[{k}]", "STEP_SUCCESS") < _index(
            result, f"plus_pid[{k}]", "STEP_START"
        )
    with result:
        squares = result.output_for_node("square")
        assert list(squares.items()) == [("k3", 9), ("k1", 1), ("k2", 4)]  # the fan's key order
        assert {k: v["value"] for k, v in result.output_for_node("plus_pid").items()} == {
            "k3": 10,
            "k1": 2,
            "k2": 5,
        }
        gathered = result.output_for_node("gather")
        assert gathered["values"] == [10, 2, 5]  # collected in key order, whatever ran first
        assert os.getpid() not in gathered["pids"]
        assert result.output_for_node("inner") == 2.5  # a nested graph's output
        assert result.output_for_node("inner.halve") == 2.5
        assert result.output_value("half") == 2.5
        assert result.output_value("gathered")["values"] == [10, 2, 5]
    # the same values as in process
    in_process = op_jobs.fan_job.execute_in_process()
    assert in_process.output_for_node("square") == squares
    assert in_process.output_for_node("gather")["values"] == [10, 2, 5]


def test_a_failing_op_blocks_only_its_downstream(op_jobs: Any, instance: Any) -> None:
    result = execute_job(reconstructable(op_jobs.failing), instance=instance)
    assert not result.success
    assert result.get_failed_step_keys() == {"explode", "fragile[b]"}
    error = _failure(result, "explode")
    assert error.cls_name == "ValueError" and "the op exploded" in error.message
    assert result.is_node_untouched("after_explode")
    assert result.is_node_success("after_bystander")
    # a failed mapped step stops its own key downstream, and the collect; the other keys go on
    assert {e.step_key for e in result.all_events if e.is_step_success} >= {
        "fragile[a]",
        "fragile[c]",
        "shout[a]",
        "shout[c]",
    }
    assert not [e for e in result.all_events if e.step_key == "shout[b]"]
    assert result.is_node_untouched("gather_shouts")
    with result:
        assert result.output_for_node("after_bystander") == 42
        assert result.output_for_node("shout") == {"a": "A!", "c": "C!"}
    message = str(result.get_run_failure_event().message)
    assert message.startswith('Execution of run for "failing" failed. Steps failed: [')
    assert "'explode'" in message and "'fragile[b]'" in message
    # in process, the same steps fail and the same ones are left out
    in_process = op_jobs.failing.execute_in_process(raise_on_error=False)
    assert in_process.get_failed_step_keys() == result.get_failed_step_keys()
    assert in_process.is_node_untouched("gather_shouts")
    assert in_process.output_for_node("shout") == {"a": "A!", "c": "C!"}
    with pytest.raises(StepExecutionError, match='step "(explode|fragile\\[b\\])" failed'):
        execute_job(reconstructable(op_jobs.failing), instance=instance, raise_on_error=True)


def test_a_failure_ahead_of_a_long_chain_blocks_all_of_it(op_jobs: Any, instance: Any) -> None:
    result = execute_job(
        reconstructable(op_jobs.long_chain),
        instance=instance,
        run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 1}}}},
    )
    assert result.get_failed_step_keys() == {"head"}
    assert not [e for e in result.all_events if str(e.step_key).startswith("link_")]
    assert result.get_run_failure_event() is not None


def test_op_retries_and_hooks_run_in_the_workers(
    op_jobs: Any, instance: Any, tmp_path: Path
) -> None:
    result = execute_job(
        reconstructable(op_jobs.retrying),
        instance=instance,
        run_config={"resources": {"hook_dir": {"config": {"folder": str(tmp_path)}}}},
    )
    assert not result.success
    kinds = _types(result, "flaky_op")
    assert kinds.count("STEP_WORKER_STARTING") == 2  # the retry went back to the parent
    assert "STEP_UP_FOR_RETRY" in kinds and "STEP_RESTARTED" in kinds
    assert kinds[-1] != "STEP_FAILURE" and result.is_node_success("flaky_op")
    assert result.retry_attempts_for_node("flaky_op") == 1
    with result:
        assert result.output_for_node("after_flaky") == 101
    # the job's op_retry_policy (max_retries=1) applies to always_fails, then it fails for good
    assert _types(result, "always_fails").count("STEP_WORKER_STARTING") == 2
    error = _failure(result, "always_fails")
    assert error.cls_name == "ConnectionError" and "down for good" in error.message
    assert result.get_failed_step_keys() == {"always_fails"}
    hooks = [line.split() for line in (tmp_path / "hooks.log").read_text().splitlines()]
    assert [h[0] for h in hooks if h[1] == "after_flaky"] == ["success"]
    assert [h[0] for h in hooks if h[1] == "flaky_op"] == ["success"]  # a retry is no failure
    assert [h[0] for h in hooks if h[1] == "always_fails"] == ["failure"]
    assert str(os.getpid()) not in {h[2] for h in hooks}  # hooks ran in the workers


def test_retries_disabled_for_an_op_job(op_jobs: Any, instance: Any, tmp_path: Path) -> None:
    result = execute_job(
        reconstructable(op_jobs.retrying),
        instance=instance,
        run_config={
            "resources": {"hook_dir": {"config": {"folder": str(tmp_path)}}},
            "execution": {"config": {"multiprocess": {"retries": {"disabled": {}}}}},
        },
    )
    assert "retries are disabled" in _failure(result, "flaky_op").message
    assert result.is_node_untouched("after_flaky")


def test_a_killed_worker_fails_only_its_op(op_jobs: Any, instance: Any) -> None:
    result = execute_job(
        reconstructable(op_jobs.killing),
        instance=instance,
        run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 1}}}},
    )
    assert result.get_failed_step_keys() == {"kill_self"}
    assert "SIGKILL" in _failure(result, "kill_self").message
    assert result.is_node_untouched("after_kill")
    assert result.is_node_success("survivor")


def test_op_job_in_memory_io_and_bad_config_are_refused_before_the_run(
    op_jobs: Any, instance: Any
) -> None:
    with pytest.raises(UnmetExecutorRequirementsError) as info:
        execute_job(reconstructable(op_jobs.in_memory), instance=instance)
    message = str(info.value)
    assert 'step "second" reads "x" from step "first" through "io_manager"' in message
    assert "in-memory IO managers" in message and "in_process" in message
    with pytest.raises(ConfigError) as config_info:
        execute_job(
            reconstructable(op_jobs.diamond),
            instance=instance,
            run_config={"ops": {"left": {"config": {"folder": 3}}, "rigth": {}}},
        )
    text = str(config_info.value)
    assert "root:ops:left:config:folder" in text and '"rigth"' in text
    assert "root:ops:right:config" in text  # every problem at once, the missing config too
    with pytest.raises(ConfigError, match="hook_dir"):
        execute_job(reconstructable(op_jobs.retrying), instance=instance)
    assert instance.get_runs() == []  # nothing ran
    # in process, the in-memory job runs
    result = execute_job(
        reconstructable(op_jobs.in_memory),
        instance=instance,
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    assert result.success and result.output_for_node("second") == 2
