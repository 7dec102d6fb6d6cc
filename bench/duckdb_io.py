"""DuckDB IO manager cost against the raw DuckDB floor.

A pandas frame of N rows (100,000 and 1,000,000; 4 columns) is written by one asset and read back
by a second asset through the library's ``DuckDBPandasIOManager`` (weir-io-duckdb, or Dagster's
dagster-duckdb-pandas), into a table that exists (a warm-up round creates it). The floor does the
same with DuckDB by hand, the fastest way: the frame handed over as an Arrow table,
``CREATE OR REPLACE TABLE ... AS SELECT *``, then ``SELECT *`` back through Arrow into pandas. Both
sides are measured again with a 10-row frame and that fixed cost (the run, connections, schema
creation) is subtracted, so the ratio compares the cost of the data only. The four measurements
are interleaved round by round, so drift in the machine's speed affects them alike. The row count
read back is checked.

Usage: ``python bench/duckdb_io.py --lib weir [--repeat 5] [--quick]``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, summarize


def _frame(n: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "amount": rng.random(n),
            "day": pd.date_range("2024-01-01", periods=n, freq="s"),
            "label": np.where(rng.random(n) > 0.5, "paid", "refunded"),
        }
    )


def _io_manager_class(lib: str) -> Any:
    if lib == "weir":
        from weir_io_duckdb import DuckDBPandasIOManager
    else:
        from dagster_duckdb_pandas import DuckDBPandasIOManager
    return DuckDBPandasIOManager


def _floor_once(path: str, table: Any, rows: int) -> float:
    """One write + read back by hand: the fastest way DuckDB offers (Arrow in, Arrow out)."""
    import duckdb

    start = time.perf_counter()
    with duckdb.connect(path) as connection:
        connection.register("frame_view", table)
        connection.execute("CREATE SCHEMA IF NOT EXISTS bench")
        connection.execute("CREATE OR REPLACE TABLE bench.data AS SELECT * FROM frame_view")
    with duckdb.connect(path) as connection:
        relation = connection.sql("SELECT * FROM bench.data")  # a relation: no extra copy
        fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        back = fetch().to_pandas()
    elapsed = time.perf_counter() - start
    if len(back) != rows:
        raise AssertionError("floor lost rows")
    return elapsed


def _io_job(dg: ModuleType, lib: str, frame: Any, database: str) -> Any:
    """A callable running one write + read back through the library's IO manager."""
    manager = _io_manager_class(lib)(database=database)

    @dg.asset(key_prefix=["bench"])
    def data() -> Any:
        return frame

    @dg.asset(key_prefix=["bench"], ins={"data": dg.AssetIn(key=["bench", "data"])})
    def rows(data: Any) -> Any:
        return dg.MaterializeResult(metadata={"rows": len(data)})  # no IO for the count

    def once() -> float:
        start = time.perf_counter()
        result = dg.materialize([data, rows], resources={"io_manager": manager})
        elapsed = time.perf_counter() - start
        (mat,) = result.asset_materializations_for_node("bench__rows")
        if mat.metadata["rows"].value != len(frame):
            raise AssertionError("rows lost")
        return elapsed

    return once


def run(dg: ModuleType, lib: str, n: int, repeat: int) -> dict[str, Any]:
    """The four measurements (IO manager and floor, at 10 and ``n`` rows) interleaved round by
    round, so that a machine whose speed drifts during the run skews all four alike; each starts
    from a warm-up round that creates its table, so every timed write replaces an existing table.
    """
    import pyarrow as pa

    try:
        small, big = _frame(10), _frame(n)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            jobs = {
                "overhead": _io_job(dg, lib, small, str(root / "small.duckdb")),
                "io": _io_job(dg, lib, big, str(root / "big.duckdb")),
                "floor_small": lambda: _floor_once(
                    str(root / "floor_small.duckdb"),
                    pa.Table.from_pandas(small, preserve_index=False),
                    len(small),
                ),
                "floor": lambda: _floor_once(
                    str(root / "floor.duckdb"),
                    pa.Table.from_pandas(big, preserve_index=False),
                    len(big),
                ),
            }
            samples: dict[str, list[float]] = {name: [] for name in jobs}
            for name, job in jobs.items():
                job()  # warm-up: creates the table
            for _ in range(repeat):
                for name, job in jobs.items():
                    samples[name].append(job())
    except Exception as exc:
        return {"error": error_text(exc)}
    figures = {name: summarize(values) for name, values in samples.items()}
    # the cost of the data: each side minus its own fixed cost (run, connections) at 10 rows
    net = figures["io"]["median_ms"] - figures["overhead"]["median_ms"]
    floor_net = figures["floor"]["median_ms"] - figures["floor_small"]["median_ms"]
    return {
        "io_manager": figures["io"],
        "run_overhead": figures["overhead"],
        "floor": figures["floor"],
        "floor_fixed": figures["floor_small"],
        "io_ms": round(net, 2),
        "floor_ms": round(floor_net, 2),
        "ratio_to_floor": round(net / floor_net, 3),
    }


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=9)
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else args.default_repeat)
    sizes = (100_000,) if args.quick else (100_000, 1_000_000)
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
        except Exception as exc:
            results["warmup"] = {"error": error_text(exc)}
        else:
            run(dg, args.lib, 1000, 1)  # warm-up: imports
            results = {str(n): run(dg, args.lib, n, repeat) for n in sizes}
    emit("duckdb_io", args.lib, results, repeat=repeat, sizes=list(sizes))


if __name__ == "__main__":
    main()
