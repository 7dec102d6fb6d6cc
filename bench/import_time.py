"""Import cost: ``python -c "import <lib>"`` in a fresh interpreter, and "import + first use".

Every sample is a new child process of this interpreter (the venv's real binary, never a pyenv shim).
The parent times the whole child (wall); the child reports its own peak RSS
(``resource.getrusage``), the number of loaded modules and the time of the import statement itself.
A bare interpreter (``pass``) is measured the same way as the floor.

Usage: ``python bench/import_time.py --lib weir [--repeat 10] [--quick]``
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from _common import base_parser, emit, summarize

CHILD = """\
import time
_start = time.perf_counter()
{statement}
_elapsed = time.perf_counter() - _start
import json, resource, sys
_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"statement_s": _elapsed, "maxrss": _rss, "modules": len(sys.modules)}}))
"""

# what a user pays before the first line of their own code runs
SCENARIOS = {
    "interpreter": "pass",
    "import": "import {lib}",
    "import_first_use": "import {lib} as dg\ndg.asset\ndg.Definitions\ndg.materialize",
}


def _rss_mb(maxrss: int) -> float:
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def run_scenario(statement: str, repeat: int) -> dict[str, Any]:
    """Run ``statement`` in ``repeat`` fresh interpreters (after one untimed warm-up) and summarise."""
    code = CHILD.format(statement=statement)
    walls: list[float] = []
    reports: list[dict[str, Any]] = []
    for index in range(repeat + 1):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            return {"error": f"child exited with {proc.returncode}: {tail[:300]}"}
        if index == 0:
            continue  # warm-up: writes bytecode caches, fills the OS file cache
        walls.append(wall)
        reports.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    result = summarize(walls)
    result["statement_median_ms"] = round(
        statistics.median(r["statement_s"] for r in reports) * 1000, 3
    )
    result["rss_mb"] = round(statistics.median(_rss_mb(r["maxrss"]) for r in reports), 1)
    result["modules"] = int(statistics.median(r["modules"] for r in reports))
    return result


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=10)
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.quick else args.default_repeat)
    results = {
        name: run_scenario(template.format(lib=args.lib), repeat)
        for name, template in SCENARIOS.items()
    }
    emit("import_time", args.lib, results, repeat=repeat)


if __name__ == "__main__":
    main()
