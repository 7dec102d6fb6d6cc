"""Many processes on one SQLite instance: no "database is locked", nothing lost, no half batches.

Workers are spawned processes (``sqlite_concurrency_worker.py``), each with its own storage on the
same file, as parallel runs of a deployment are.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance.sqlite_storage import SqliteInstanceStorage

WORKERS = 8
BATCHES = 200
EXTRA_RUNS_EVERY = 20


@pytest.fixture
def worker_module(monkeypatch: pytest.MonkeyPatch):
    # spawned children get the parent's sys.path, so they can import the worker module too
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    import sqlite_concurrency_worker

    return sqlite_concurrency_worker


def test_eight_processes_write_one_file_while_a_reader_reads(tmp_path: Path, worker_module) -> None:
    url = f"sqlite:///{tmp_path / 'weir.db'}"
    # nobody creates the schema beforehand: the workers and the reader race to create it
    reader_storage = SqliteInstanceStorage(url)

    seen: Counter[str] = Counter()
    reader_errors: list[BaseException] = []
    torn: list[str] = []
    stop = threading.Event()

    def read_in_a_loop() -> None:
        cursor = 0
        try:
            while not stop.is_set():
                records = reader_storage.fetch_event_records(
                    ["STEP_OUTPUT", "ASSET_MATERIALIZATION"], after_storage_id=cursor
                )
                per_run = Counter(r.run_id for r in records)
                for run_id, count in per_run.items():
                    if count % (worker_module.OUTPUTS_PER_BATCH + 1):
                        torn.append(f"{run_id}: {count} new events")
                    seen[run_id] += count
                if records:
                    cursor = records[-1].storage_id
                reader_storage.get_run_records(limit=5)
        except BaseException as exc:  # reported by the test below
            reader_errors.append(exc)

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    context = multiprocessing.get_context("spawn")
    try:
        with context.Pool(WORKERS) as pool:
            results = pool.starmap(
                worker_module.write_run,
                [(url, worker, BATCHES, EXTRA_RUNS_EVERY) for worker in range(WORKERS)],
            )
    finally:
        stop.set()
        reader.join()

    assert reader_errors == []
    assert torn == [], "a reader saw part of a batch"
    per_batch = worker_module.OUTPUTS_PER_BATCH + 1
    for worker, batches in enumerate(results):
        assert len(batches) == BATCHES
        ids = [i for batch in batches for i in batch]
        assert all(len(batch) == per_batch for batch in batches)
        assert ids == sorted(ids) and len(set(ids)) == len(ids), f"worker {worker}"
    all_ids = [i for batches in results for batch in batches for i in batch]
    assert len(set(all_ids)) == WORKERS * BATCHES * per_batch

    storage = SqliteInstanceStorage(url)
    extra = (BATCHES + EXTRA_RUNS_EVERY - 1) // EXTRA_RUNS_EVERY
    assert storage.get_runs_count() == WORKERS * (1 + extra)
    for worker in range(WORKERS):
        run_id = f"w{worker}"
        records = storage.get_records_for_run(run_id)
        assert len(records) == BATCHES * per_batch + 2  # + run start and success
        stored_ids = [
            r.storage_id
            for r in records
            if r.event_log_entry.dagster_event.event_type_value
            not in ("PIPELINE_START", "PIPELINE_SUCCESS")
        ]
        assert stored_ids == [i for batch in results[worker] for i in batch]
        assert storage.get_materialized_partitions(run_id) == {str(s) for s in range(BATCHES)}
        (record,) = storage.get_run_records(filters=_ids(run_id))
        assert record.dagster_run.status is DagsterRunStatus.SUCCESS
        assert seen[run_id] <= BATCHES * per_batch  # the reader never saw more than was written
    # after the last write the reader's view catches up completely
    final = storage.fetch_event_records(["STEP_OUTPUT", "ASSET_MATERIALIZATION"])
    assert len(final) == len(all_ids)
    storage.dispose()
    reader_storage.dispose()


def _ids(run_id: str):
    from weir._instance.records import RunsFilter

    return RunsFilter(run_ids=[run_id])


def test_a_dead_run_is_marked_failed_exactly_once_across_processes(
    tmp_path: Path, worker_module
) -> None:
    url = f"sqlite:///{tmp_path / 'weir.db'}"
    storage = SqliteInstanceStorage(url)
    storage.add_run(DagsterRun(run_id="dead", job_name="job"))
    storage.store_events([worker_module._event("dead", "PIPELINE_START")])
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # after every worker has started and opened its storage
    with context.Pool(WORKERS) as pool:
        results = pool.starmap(worker_module.mark_failed_once, [(url, "dead", start_at)] * WORKERS)
    assert sum(r is not None for r in results) == 1
    failures = storage.get_records_for_run("dead", of_type=["PIPELINE_FAILURE"])
    assert len(failures) == 1
    assert storage.get_run_records()[0].dagster_run.status is DagsterRunStatus.FAILURE
    storage.dispose()


def test_threads_of_one_process_share_the_writer_of_a_file(tmp_path: Path, worker_module) -> None:
    url = f"sqlite:///{tmp_path / 'weir.db'}"
    storages = [SqliteInstanceStorage(url), SqliteInstanceStorage(url)]
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        storage = storages[thread % 2]
        run_id = f"t{thread}"
        try:
            storage.add_run(DagsterRun(run_id=run_id, job_name="job"))
            for step in range(50):
                storage.store_events(worker_module.step_batch(run_id, step))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for thread in range(6):
        assert len(storages[0].get_records_for_run(f"t{thread}")) == 50 * 10
    for storage in storages:
        storage.dispose()


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (POSIX)"
)
def test_a_forked_child_opens_its_own_connections(tmp_path: Path, worker_module) -> None:
    storage = SqliteInstanceStorage(f"sqlite:///{tmp_path / 'weir.db'}")
    storage.add_run(DagsterRun(run_id="r", job_name="job"))
    storage.store_events([worker_module._event("r", "STEP_START", "parent")])  # writer open
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(
        target=worker_module.write_with_inherited_storage, args=(storage, "r", results)
    )
    child.start()
    child_id = results.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    (parent_id,) = storage.store_events([worker_module._event("r", "STEP_START", "parent")])
    steps = [r.event_log_entry.step_key for r in storage.get_records_for_run("r")]
    assert steps == ["parent", "child", "parent"]
    assert parent_id > child_id
    storage.dispose()
