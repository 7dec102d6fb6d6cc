"""Multiprocess executor overhead: N independent assets, each sleeping S seconds, on W workers.

``dg.execute_job(dg.reconstructable(build_job), instance=dg.DagsterInstance.get(), run_config=...)``
with ``{"execution": {"config": {"multiprocess": {"max_concurrent": W, "start_method": {M: {}}}}}}``
for each start method M (``spawn``, Dagster's default, and ``forkserver``).

The ideal wall time is ``ceil(N / W) * S`` (the steps' own work, perfectly packed); each figure
reports the median total, the ideal, and ``overhead_per_step_ms = (total - ideal) / N``: what the
executor costs per step (process start-up, imports, resource set-up, IPC, scheduling), amortised.
Defaults: 50 steps of 0.2 s on 2 workers (ideal 5.0 s). Every run is checked: it must succeed and
materialize all N assets.

The job is built by a module-level function of this script, so worker processes find it through
the script's file (hence the ``if __name__ == "__main__":`` guard); the library and the sizes reach
them through environment variables.

Usage: ``python bench/multiprocess_steps.py --lib weir [--steps 50] [--sleep 0.2] [--workers 2]
[--start-methods spawn forkserver] [--repeat 3] [--quick]``. Dagster gets one run per start method
unless ``--repeat`` says otherwise (each takes about a minute on 2 cores).
"""

from __future__ import annotations

import importlib
import math
import os
import time
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, summarize

LIB_ENV = "WEIR_BENCH_MP_LIB"
STEPS_ENV = "WEIR_BENCH_MP_STEPS"
SLEEP_ENV = "WEIR_BENCH_MP_SLEEP"
JOB_NAME = "multiprocess_steps"


def _sleeper(dg: Any, index: int, seconds: float) -> Any:
    def sleeper() -> int:
        time.sleep(seconds)
        return index

    return dg.asset(name=f"sleep_{index}")(sleeper)


def build_job() -> Any:
    """The benchmark job: called in the launching process and again in every worker process."""
    dg = importlib.import_module(os.environ[LIB_ENV])
    steps, seconds = int(os.environ[STEPS_ENV]), float(os.environ[SLEEP_ENV])
    assets = [_sleeper(dg, i, seconds) for i in range(steps)]
    defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job(JOB_NAME)])
    return defs.get_job_def(JOB_NAME)


def run_method(
    dg: Any, method: str, steps: int, workers: int, seconds: float, repeat: int
) -> dict[str, Any]:
    os.environ[STEPS_ENV], os.environ[SLEEP_ENV] = str(steps), str(seconds)
    run_config = {
        "execution": {
            "config": {"multiprocess": {"max_concurrent": workers, "start_method": {method: {}}}}
        }
    }
    samples: list[float] = []
    try:
        instance = dg.DagsterInstance.get()
        for _ in range(repeat):
            start = time.perf_counter()
            result = dg.execute_job(
                dg.reconstructable(build_job), instance=instance, run_config=run_config
            )
            samples.append(time.perf_counter() - start)
            materialized = len(result.get_asset_materialization_events())
            if not result.success or materialized != steps:
                msg = f"wrong result: success={result.success}, {materialized} of {steps} assets materialized"
                raise AssertionError(msg)
    except Exception as exc:
        return {"error": error_text(exc)}
    figure = summarize(samples)
    ideal_ms = math.ceil(steps / workers) * seconds * 1000.0
    figure.update(
        {
            "steps": steps,
            "workers": workers,
            "sleep_s": seconds,
            "ideal_ms": round(ideal_ms, 1),
            "overhead_per_step_ms": round((figure["median_ms"] - ideal_ms) / steps, 2),
        }
    )
    return figure


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=3)
    parser.add_argument("--steps", type=int, default=None, help="number of assets (default 50)")
    parser.add_argument("--sleep", type=float, default=0.2, help="seconds each step sleeps")
    parser.add_argument("--workers", type=int, default=2, help="max_concurrent worker processes")
    parser.add_argument(
        "--start-methods",
        nargs="+",
        choices=("spawn", "forkserver"),
        default=["spawn", "forkserver"],
        help="multiprocessing start methods to measure",
    )
    args = parser.parse_args()
    # a Dagster run takes about a minute (one interpreter per step): one run unless told otherwise
    repeat = args.repeat or (1 if args.quick or args.lib == "dagster" else args.default_repeat)
    steps = args.steps or (10 if args.quick else 50)
    os.environ[LIB_ENV] = args.lib
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
        except Exception as exc:
            results["import"] = {"error": error_text(exc)}
        else:
            for method in args.start_methods:
                results[method] = run_method(dg, method, steps, args.workers, args.sleep, repeat)
    emit(
        "multiprocess_steps",
        args.lib,
        results,
        repeat=repeat,
        steps=steps,
        workers=args.workers,
        sleep_s=args.sleep,
    )


if __name__ == "__main__":
    main()
