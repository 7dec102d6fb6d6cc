"""DuckDB IO manager cost against the raw DuckDB floor.

A pandas frame of N rows (100,000 and 1,000,000; 4 columns) is written by one asset and read back
by a second asset through the library's ``DuckDBPandasIOManager`` (weir-io-duckdb, or Dagster's
dagster-duckdb-pandas), in a fresh database file; the second run writes into the existing table.
The floor does the same with DuckDB by hand, the fastest way: the frame handed over as an Arrow
table, ``CREATE OR REPLACE TABLE ... AS SELECT *``, then ``SELECT *`` back through Arrow into pandas. Both sides are measured again with a 10-row frame and that fixed
cost (the run, connections, schema creation) is subtracted, so the ratio compares the cost of the
data only. The row count read back is checked.

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


def _floor(frame: Any, repeat: int) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "floor.duckdb")
        for _ in range(repeat):
            start = time.perf_counter()
            with duckdb.connect(path) as connection:
                connection.register("frame_view", pa.Table.from_pandas(frame, preserve_index=False))
                connection.execute("CREATE SCHEMA IF NOT EXISTS bench")
                connection.execute("CREATE OR REPLACE TABLE bench.data AS SELECT * FROM frame_view")
            with duckdb.connect(path) as connection:
                cursor = connection.execute("SELECT * FROM bench.data")
                fetch = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
                back = fetch().to_pandas()
            samples.append(time.perf_counter() - start)
            if len(back) != len(frame):
                raise AssertionError("floor lost rows")
    return summarize(samples)


def _through_io_manager(dg: ModuleType, lib: str, frame: Any, repeat: int) -> dict[str, Any]:
    manager_cls = _io_manager_class(lib)

    @dg.asset(key_prefix=["bench"])
    def data() -> Any:
        return frame

    @dg.asset(key_prefix=["bench"], ins={"data": dg.AssetIn(key=["bench", "data"])})
    def rows(data: Any) -> Any:
        return dg.MaterializeResult(metadata={"rows": len(data)})  # no IO for the count

    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        manager = manager_cls(database=str(Path(tmp) / "io.duckdb"))
        for _ in range(repeat):
            start = time.perf_counter()
            result = dg.materialize([data, rows], resources={"io_manager": manager})
            samples.append(time.perf_counter() - start)
            (mat,) = result.asset_materializations_for_node("bench__rows")
            if mat.metadata["rows"].value != len(frame):
                raise AssertionError("rows lost")
    return summarize(samples)


def run(dg: ModuleType, lib: str, n: int, repeat: int) -> dict[str, Any]:
    try:
        small = _frame(10)
        big = _frame(n)
        overhead = _through_io_manager(dg, lib, small, repeat)
        io = _through_io_manager(dg, lib, big, repeat)
        floor_small = _floor(small, repeat)
        floor = _floor(big, repeat)
    except Exception as exc:
        return {"error": error_text(exc)}
    # the cost of the data: each side minus its own fixed cost (run, connections) at 10 rows
    net = io["median_ms"] - overhead["median_ms"]
    floor_net = floor["median_ms"] - floor_small["median_ms"]
    return {
        "io_manager": io,
        "run_overhead": overhead,
        "floor": floor,
        "floor_fixed": floor_small,
        "io_ms": round(net, 2),
        "floor_ms": round(floor_net, 2),
        "ratio_to_floor": round(net / floor_net, 3),
    }


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=5)
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
