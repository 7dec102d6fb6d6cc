"""Run overhead: ``materialize`` a chain of N assets, each adding 1 to its upstream's value.

Two IO setups, each the median of ``--repeat`` runs over the same asset definitions:

- ``in_memory``: ``dg.materialize_to_memory(assets)``;
- ``filesystem``: ``dg.materialize(assets, resources={"io_manager": dg.FilesystemIOManager(base_dir=tmp)})``.

Each size reports the total and the per-asset time (total / N); ``marginal_per_asset_ms`` is the
slope between the smallest and the largest size, i.e. the per-asset cost without the fixed per-run
cost. The last asset's value is checked, so a library that skips work cannot look fast.

Usage: ``python bench/materialize_chain.py --lib weir [--sizes 10 100 500] [--repeat 5] [--quick]``
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, summarize

DEFAULT_SIZES = (10, 100, 500)
QUICK_SIZES = (10, 50)


def _first() -> int:
    return 0


def _new_add_one() -> Callable[[int], int]:
    """A distinct function object per asset, as user code has."""

    def add_one(upstream: int) -> int:
        return upstream + 1

    return add_one


def build_chain(dg: ModuleType, n: int) -> list[Any]:
    """``link_0 -> link_1 -> ... -> link_{n-1}``; ``link_i`` holds the value ``i``."""
    assets = [dg.asset(name="link_0")(_first)]
    for i in range(1, n):
        upstream = {"upstream": dg.AssetIn(f"link_{i - 1}")}
        assets.append(dg.asset(name=f"link_{i}", ins=upstream)(_new_add_one()))
    return assets


def _runner(dg: ModuleType, mode: str, assets: list[Any], base_dir: str) -> Callable[[], Any]:
    if mode == "in_memory":
        return lambda: dg.materialize_to_memory(assets)
    return lambda: dg.materialize(
        assets, resources={"io_manager": dg.FilesystemIOManager(base_dir=base_dir)}
    )


def run_mode(dg: ModuleType, mode: str, n: int, repeat: int) -> dict[str, Any]:
    try:
        assets = build_chain(dg, n)
        with tempfile.TemporaryDirectory(prefix="weir-bench-io-") as base_dir:
            run = _runner(dg, mode, assets, base_dir)
            samples: list[float] = []
            for _ in range(repeat):
                start = time.perf_counter()
                result = run()
                samples.append(time.perf_counter() - start)
                last = result.output_for_node(f"link_{n - 1}")
                if not result.success or last != n - 1:
                    msg = f"wrong result: success={result.success}, link_{n - 1}={last!r} (expected {n - 1})"
                    raise AssertionError(msg)
    except Exception as exc:
        return {"error": error_text(exc)}
    figure = summarize(samples)
    figure["per_asset_ms"] = round(figure["median_ms"] / n, 4)
    return figure


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="lengths of the chain")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else args.default_repeat)
    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
            for mode in ("in_memory", "filesystem"):  # warm-up: lazy imports, first-call caches
                run_mode(dg, mode, 3, 1)
        except Exception as exc:
            results["warmup"] = {"error": error_text(exc)}
        else:
            for mode in ("in_memory", "filesystem"):
                by_size = {str(n): run_mode(dg, mode, n, repeat) for n in sizes}
                small, large = by_size[str(sizes[0])], by_size[str(sizes[-1])]
                if len(sizes) > 1 and "median_ms" in small and "median_ms" in large:
                    slope = (large["median_ms"] - small["median_ms"]) / (sizes[-1] - sizes[0])
                    by_size["marginal_per_asset_ms"] = round(slope, 4)
                results[mode] = by_size
    emit("materialize_chain", args.lib, results, repeat=repeat, sizes=sizes)


if __name__ == "__main__":
    main()
