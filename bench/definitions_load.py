"""Definition cost: N assets in a layered DAG, then ``Definitions``, the asset graph and validation.

The DAG has layers of 50 assets; each asset depends (``deps=``) on 1-3 assets of the layer before,
chosen with a fixed seed so both libraries build the same graph. Three figures per size, each the
median of ``--repeat`` runs on new objects:

- ``define``: applying ``@dg.asset`` to N functions;
- ``definitions_resolve``: ``dg.Definitions(assets=...)`` then ``defs.resolve_asset_graph()``;
- ``validate``: ``dg.Definitions.validate_loadable(...)`` on a fresh, unresolved ``Definitions``;

plus ``define_plus_resolve`` (the first two added per run). One small untimed round runs first, so
lazy imports are not counted.

Usage: ``python bench/definitions_load.py --lib weir [--sizes 100 1000 5000] [--repeat 5] [--quick]``
"""

from __future__ import annotations

import random
import time
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, load_lib, summarize

LAYER_WIDTH = 50
DEFAULT_SIZES = (100, 1000, 5000)
QUICK_SIZES = (100, 500)

Shape = list[tuple[str, list[str]]]


def dag_shape(n: int, *, seed: int = 0) -> Shape:
    """``(name, deps)`` pairs for a layered DAG of ``n`` assets (deterministic for a seed)."""
    rng = random.Random(seed)
    shape: Shape = []
    previous: list[str] = []
    for layer_start in range(0, n, LAYER_WIDTH):
        layer = [f"asset_{i}" for i in range(layer_start, min(layer_start + LAYER_WIDTH, n))]
        for name in layer:
            deps = rng.sample(previous, k=min(len(previous), rng.randint(1, 3))) if previous else []
            shape.append((name, deps))
        previous = layer
    return shape


def _new_function() -> Any:
    """A distinct function object per asset, as user code has; never executed here."""

    def compute() -> None:
        return None

    return compute


def one_round(dg: ModuleType, shape: Shape) -> dict[str, float]:
    functions = [_new_function() for _ in shape]
    start = time.perf_counter()
    assets = [dg.asset(name=name, deps=deps)(fn) for (name, deps), fn in zip(shape, functions)]
    defined = time.perf_counter()
    defs = dg.Definitions(assets=assets)
    defs.resolve_asset_graph()
    resolved = time.perf_counter()
    fresh = dg.Definitions(assets=assets)
    validate_start = time.perf_counter()
    dg.Definitions.validate_loadable(fresh)
    validated = time.perf_counter()
    return {
        "define": defined - start,
        "definitions_resolve": resolved - defined,
        "validate": validated - validate_start,
        "define_plus_resolve": resolved - start,
    }


def run_size(dg: ModuleType, n: int, repeat: int) -> dict[str, Any]:
    shape = dag_shape(n)
    rounds: list[dict[str, float]] = []
    try:
        for _ in range(repeat):
            rounds.append(one_round(dg, shape))
    except Exception as exc:
        return {"error": error_text(exc)}
    return {figure: summarize([r[figure] for r in rounds]) for figure in rounds[0]}


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="numbers of assets")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else args.default_repeat)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    results: dict[str, Any] = {}
    try:
        dg = load_lib(args.lib)
        one_round(dg, dag_shape(20))  # warm-up: lazy imports and first-call caches
    except Exception as exc:
        results["warmup"] = {"error": error_text(exc)}
    else:
        for n in sizes:
            results[str(n)] = run_size(dg, n, repeat)
    emit("definitions_load", args.lib, results, repeat=repeat, sizes=list(sizes))


if __name__ == "__main__":
    main()
