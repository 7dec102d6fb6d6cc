"""Op and asset-check overhead.

- ``op_chain``: an op job (``@dg.job``) of N chained ops, each adding 1 to its input, run with
  ``execute_in_process()`` (in-memory outputs). Reports the total and the marginal cost per op
  (slope between the smallest and largest size).
- ``asset_checks``: N independent assets, each with one ``@dg.asset_check``, materialized in memory;
  the per-check figure is (time with checks - time without) / N.

The last op's value and the number of passed checks are verified, so skipped work cannot look fast.

Usage: ``python bench/ops_and_checks.py --lib weir [--sizes 10 100 500] [--repeat 5] [--quick]``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, summarize

DEFAULT_SIZES = (10, 100, 500)
QUICK_SIZES = (10, 50)


def _timed(run: Callable[[], Any], check: Callable[[Any], None], repeat: int) -> list[float]:
    samples: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
        check(result)
    return samples


def build_op_job(dg: ModuleType, n: int) -> Any:
    @dg.op
    def start() -> int:
        return 0

    @dg.op
    def add_one(value: int) -> int:
        return value + 1

    def compose() -> None:
        value = start()
        for _ in range(n - 1):
            value = add_one(value)

    compose.__name__ = f"chain_{n}"
    return dg.job(compose)


def run_ops(dg: ModuleType, n: int, repeat: int) -> dict[str, Any]:
    try:
        job = build_op_job(dg, n)
        last = "add_one" if n == 2 else (f"add_one_{n - 1}" if n > 2 else "start")

        def check(result: Any) -> None:
            if not result.success or result.output_for_node(last) != n - 1:
                raise AssertionError(f"wrong result for {last}")

        samples = _timed(job.execute_in_process, check, repeat)
    except Exception as exc:
        return {"error": error_text(exc)}
    figure = summarize(samples)
    figure["per_op_ms"] = round(figure["median_ms"] / n, 4)
    return figure


def build_checked_assets(dg: ModuleType, n: int, with_checks: bool) -> list[Any]:
    defs: list[Any] = []
    for i in range(n):

        def value() -> int:
            return 1

        target = dg.asset(name=f"a_{i}")(value)
        defs.append(target)
        if with_checks:

            def positive() -> Any:
                return dg.AssetCheckResult(passed=True)

            defs.append(dg.asset_check(asset=target, name="positive")(positive))
    return defs


def run_checks(dg: ModuleType, n: int, repeat: int) -> dict[str, Any]:
    try:
        plain = build_checked_assets(dg, n, with_checks=False)
        checked = build_checked_assets(dg, n, with_checks=True)

        def check_plain(result: Any) -> None:
            if not result.success:
                raise AssertionError("run failed")

        def check_checked(result: Any) -> None:
            passed = sum(1 for e in result.get_asset_check_evaluations() if e.passed)
            if not result.success or passed != n:
                raise AssertionError(f"{passed} of {n} checks passed")

        base = summarize(_timed(lambda: dg.materialize_to_memory(plain), check_plain, repeat))
        with_checks = summarize(
            _timed(lambda: dg.materialize_to_memory(checked), check_checked, repeat)
        )
    except Exception as exc:
        return {"error": error_text(exc)}
    return {
        "without_checks": base,
        "with_checks": with_checks,
        "per_check_ms": round((with_checks["median_ms"] - base["median_ms"]) / n, 4),
    }


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=5)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="numbers of ops / checks"
    )
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else args.default_repeat)
    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
            run_ops(dg, 3, 1)  # warm-up: lazy imports, first-call caches
            run_checks(dg, 3, 1)
        except Exception as exc:
            results["warmup"] = {"error": error_text(exc)}
        else:
            ops = {str(n): run_ops(dg, n, repeat) for n in sizes}
            small, large = ops[str(sizes[0])], ops[str(sizes[-1])]
            if len(sizes) > 1 and "median_ms" in small and "median_ms" in large:
                ops["marginal_per_op_ms"] = round(
                    (large["median_ms"] - small["median_ms"]) / (sizes[-1] - sizes[0]), 4
                )
            results["op_chain"] = ops
            results["asset_checks"] = {str(n): run_checks(dg, n, repeat) for n in sizes}
    emit("ops_and_checks", args.lib, results, repeat=repeat, sizes=sizes)


if __name__ == "__main__":
    main()
