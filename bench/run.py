"""Run every benchmark workload for one library and print (or save) the combined JSON.

Each workload runs in its own child process of this interpreter, so one that crashes, hangs past
``--timeout`` or lacks a feature is reported as an error and the others still run.

Usage::

    .bench/dagster-venv/bin/python bench/run.py --lib dagster --quick
    .bench/weir-venv/bin/python bench/run.py --lib weir --repeat 3 --out .bench/results-weir.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import LIBS, lib_version

BENCH_DIR = Path(__file__).resolve().parent
WORKLOADS = (
    "import_time",
    "definitions_load",
    "materialize_chain",
    "ops_and_checks",
    "multiprocess_steps",
    "event_log",
    "partitions",
    "duckdb_io",
)


def run_workload(workload: str, lib: str, extra: list[str], timeout: float) -> dict[str, Any]:
    """Run ``bench/<workload>.py`` for ``lib`` and return its JSON, or an ``error`` entry."""
    command = [sys.executable, str(BENCH_DIR / f"{workload}.py"), "--lib", lib, *extra]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"workload": workload, "lib": lib, "error": f"timed out after {timeout:.0f} s"}
    elapsed = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:]) or "(no stderr)"
        return {"workload": workload, "lib": lib, "error": f"exit {proc.returncode}: {tail[-600:]}"}
    try:
        payload: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return {
            "workload": workload,
            "lib": lib,
            "error": f"unreadable output ({exc}): {proc.stdout[:200]!r}",
        }
    payload["elapsed_s"] = elapsed
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lib", choices=LIBS, required=True)
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per figure (each workload has a default)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs")
    parser.add_argument(
        "--only", choices=WORKLOADS, nargs="+", default=list(WORKLOADS), help="workloads to run"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed per workload"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write the JSON here instead of stdout"
    )
    args = parser.parse_args()

    extra = ["--quick"] if args.quick else []
    if args.repeat is not None:
        extra += ["--repeat", str(args.repeat)]
    combined = {
        "lib": args.lib,
        "version": lib_version(args.lib),
        "python": platform.python_version(),
        "quick": args.quick,
        "workloads": {},
    }
    for workload in args.only:
        print(f"[bench] {args.lib}: {workload} ...", file=sys.stderr, flush=True)
        combined["workloads"][workload] = run_workload(workload, args.lib, extra, args.timeout)
        if "error" in combined["workloads"][workload]:
            print(
                f"[bench] {args.lib}: {workload} failed: {combined['workloads'][workload]['error']}",
                file=sys.stderr,
            )
    text = json.dumps(combined, indent=2, sort_keys=True)
    if args.out is None:
        print(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
