"""The write lane: DuckDB lets one process at a time open a file, so parallel writers must wait
for the lock (with backoff) instead of failing, and give up past a deadline with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from weir_io_duckdb import DuckDBConnectionError, DuckDBLockTimeoutError, DuckDBResource

WRITERS = 8
ROWS_PER_PARTITION = 50_000

_WRITER = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import weir as dg
    from weir_io_duckdb import DuckDBPandasIOManager

    database, key, go, rows = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    logging.getLogger("weir_io_duckdb.resource").setLevel(logging.DEBUG)
    parts = dg.StaticPartitionsDefinition([f"p{i}" for i in range(16)])

    @dg.asset(partitions_def=parts, metadata={"partition_expr": "part"})
    def shared(context) -> pd.DataFrame:
        return pd.DataFrame({"part": context.partition_key, "x": np.arange(rows)})

    print("ready", flush=True)
    while not go.exists():  # start together, so the writers really contend for the file
        time.sleep(0.005)
    manager = DuckDBPandasIOManager(database=database, lock_timeout_s=120)
    for _ in range(2):
        result = dg.materialize([shared], partition_key=key, resources={"io_manager": manager})
        assert result.success
    print("done", flush=True)
    """
)

_HOLDER = textwrap.dedent(
    """
    import sys, time
    import duckdb
    conn = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.close()
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def test_eight_parallel_writer_processes_all_succeed(tmp_path: Path) -> None:
    database = tmp_path / "shared.duckdb"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                str(database),
                f"p{i}",
                str(go),
                str(ROWS_PER_PARTITION),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for i in range(WRITERS)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", (
                proc.stderr.read() if proc.stderr else ""
            )
        go.touch()
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "done" in out
    retries = sum(err.count("is locked; retrying") for _, err in outputs)
    assert retries > 0, "the writers never contended for the lock: the test proved nothing"
    with duckdb.connect(str(database)) as conn:
        rows = conn.execute(
            "SELECT part, count(*), count(DISTINCT x) FROM public.shared GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert rows == [(f"p{i}", ROWS_PER_PARTITION, ROWS_PER_PARTITION) for i in range(WRITERS)]


def _hold_lock(database: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_lane_waits_for_a_lock_that_is_released(tmp_path: Path) -> None:
    database = tmp_path / "wait.duckdb"
    holder = _hold_lock(database, 1.0)
    try:
        started = time.monotonic()
        with DuckDBResource(database=str(database), lock_timeout_s=60).get_connection() as conn:
            assert conn.execute("SELECT 42").fetchone() == (42,)
        assert time.monotonic() - started > 0.3  # it did wait for the holder
    finally:
        holder.wait(timeout=30)


def test_lock_held_past_the_deadline_is_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "held.duckdb"
    holder = _hold_lock(database, 30)
    try:
        resource = DuckDBResource(database=str(database), lock_timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(DuckDBLockTimeoutError) as info:
            with resource.get_connection():
                pass
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait(timeout=30)
    message = str(info.value)
    assert str(database) in message
    assert "for 0.5 s (lock_timeout_s;" in message
    assert "raise lock_timeout_s" in message
    assert isinstance(info.value.__cause__, duckdb.Error)


def test_unopenable_database_fails_at_once_with_the_path(tmp_path: Path) -> None:
    database = tmp_path / "missing_folder" / "x.duckdb"
    resource = DuckDBResource(database=str(database), lock_timeout_s=60)
    started = time.monotonic()
    with pytest.raises(DuckDBConnectionError) as info:
        with resource.get_connection():
            pass
    assert not isinstance(info.value, DuckDBLockTimeoutError)
    assert time.monotonic() - started < 5
    assert str(database) in str(info.value)


def test_resource_connection_config_and_close(tmp_path: Path) -> None:
    resource = DuckDBResource(database=str(tmp_path / "r.duckdb"), connection_config={"threads": 1})
    with resource.get_connection() as conn:
        assert conn.execute("SELECT current_setting('threads')").fetchone() == (1,)
        conn.execute("CREATE TABLE t AS SELECT 1 AS a")
    with pytest.raises(duckdb.Error):
        conn.execute("SELECT 1")  # closed on exit
    with resource.get_connection() as again:
        assert again.execute("SELECT a FROM t").fetchall() == [(1,)]
