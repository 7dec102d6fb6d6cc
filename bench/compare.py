"""Run the workloads with Dagster and with weir, and write the ratio table into docs/benchmarks.md.

The ratio column is Dagster / weir: higher is better for weir (``12x`` means weir takes a twelfth
of Dagster's time, memory or module count). The table replaces whatever stands between the
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` markers, with the machine and the date above it.
Raw results are kept in ``.bench/results-<lib>.json``.

Usage (``nox -s bench`` does this with venvs it manages in ``.bench/``)::

    python bench/compare.py --dagster-python .bench/dagster-venv/bin/python \\
        --weir-python .bench/weir-venv/bin/python [--quick] [--repeat N] [--no-write]
    python bench/compare.py --from-results          # re-render from the saved JSON only
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / ".bench"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

Cell = float | str  # a figure, or the reason it is missing
Row = tuple[str, str, Callable[[dict[str, Any]], Cell], str]  # workload, figure, getter, unit


def _dig(data: dict[str, Any], *path: str) -> Cell:
    """Follow ``path`` into a workload's JSON; an ``error`` found on the way becomes the cell."""
    node: Any = data
    for key in path:
        if not isinstance(node, dict):
            return "missing"
        if "error" in node:
            return f"error: {node['error']}"
        if key not in node:
            return "missing"
        node = node[key]
    if isinstance(node, dict) and "error" in node:
        return f"error: {node['error']}"
    return float(node) if isinstance(node, (int, float)) else "missing"


def _sizes(results: list[dict[str, Any]], workload: str) -> list[int]:
    found: set[int] = set()
    for result in results:
        found.update(int(n) for n in result["workloads"].get(workload, {}).get("sizes", []))
    return sorted(found)


def _first_meta(results: list[dict[str, Any]], workload: str, key: str) -> Any:
    """A workload's top-level parameter (``steps``, ``workers`` ...) from the first result that has it."""
    for result in results:
        value = result["workloads"].get(workload, {}).get(key)
        if value is not None:
            return value
    return None


def build_rows(results: list[dict[str, Any]]) -> Iterator[Row]:
    """The table's rows, in reading order, for the sizes present in any of the results."""

    def getter(workload: str, *path: str) -> Callable[[dict[str, Any]], Cell]:
        return lambda result: _dig(
            result["workloads"].get(workload, {"error": "not run"}), "results", *path
        )

    yield (
        "import",
        "interpreter alone (`python -c pass`), wall",
        getter("import_time", "interpreter", "median_ms"),
        "ms",
    )
    yield ("import", "`import <lib>`, wall", getter("import_time", "import", "median_ms"), "ms")
    yield ("import", "`import <lib>`, peak RSS", getter("import_time", "import", "rss_mb"), "MB")
    yield (
        "import",
        "`import <lib>`, modules loaded",
        getter("import_time", "import", "modules"),
        "",
    )
    yield (
        "import",
        "import + first use (`dg.asset`, `dg.Definitions`, `dg.materialize`), wall",
        getter("import_time", "import_first_use", "median_ms"),
        "ms",
    )
    yield (
        "import",
        "import + first use, modules loaded",
        getter("import_time", "import_first_use", "modules"),
        "",
    )
    for n in _sizes(results, "definitions_load"):
        for figure, label in (
            ("define", "define (`@asset` x N)"),
            ("definitions_resolve", "`Definitions` + `resolve_asset_graph()`"),
            ("define_plus_resolve", "define + `Definitions` + resolve"),
            ("validate", "`Definitions.validate_loadable`"),
        ):
            yield (
                f"{n:,} assets",
                label,
                getter("definitions_load", str(n), figure, "median_ms"),
                "ms",
            )
    for mode, label in (
        ("in_memory", "`materialize_to_memory`"),
        ("filesystem", "`materialize`, filesystem IO"),
    ):
        for n in _sizes(results, "materialize_chain"):
            yield (
                f"chain of {n}",
                f"{label}, total",
                getter("materialize_chain", mode, str(n), "median_ms"),
                "ms",
            )
        yield (
            "chain",
            f"{label}, marginal cost per asset",
            getter("materialize_chain", mode, "marginal_per_asset_ms"),
            "ms",
        )
    for n in _sizes(results, "ops_and_checks"):
        yield (
            f"op job of {n} ops",
            "`execute_in_process`, total",
            getter("ops_and_checks", "op_chain", str(n), "median_ms"),
            "ms",
        )
    yield (
        "op job",
        "marginal cost per op",
        getter("ops_and_checks", "op_chain", "marginal_per_op_ms"),
        "ms",
    )
    for n in _sizes(results, "ops_and_checks"):
        yield (
            f"{n} assets + {n} checks",
            "cost per asset check (with - without checks) / N",
            getter("ops_and_checks", "asset_checks", str(n), "per_check_ms"),
            "ms",
        )
    yield (
        "event log, SQLite",
        "write one step's events per transaction, time per event",
        getter("event_log", "write", "per_event_us"),
        "µs",
    )
    for n in _sizes(results, "event_log"):
        yield (
            f"{n} assets, SQLite instance",
            "`materialize`, total (events recorded)",
            getter("event_log", "materialize_sqlite", str(n), "median_ms"),
            "ms",
        )
    yield (
        "SQLite instance",
        "`materialize`, marginal cost per asset",
        getter("event_log", "materialize_sqlite", "marginal_per_asset_ms"),
        "ms",
    )
    for name, label in (
        ("static_1m", "1,000,000 static keys: define + list"),
        ("hourly_20y", "20 years hourly (175,320 keys): define + list"),
        ("multi_2d", "365 days x 1,000 keys (2 dimensions): define + list"),
        ("multi_3d", "365 days x 50 x 20 (3 dimensions): define + list"),
    ):
        yield ("partitions", label, getter("partitions", "definitions", name, "median_ms"), "ms")
    yield (
        "partitions",
        "`materialize_to_memory` of one daily partition, per run",
        getter("partitions", "per_partition_run", "per_run_ms"),
        "ms",
    )
    yield (
        "partitions",
        "status of a 100,000-partition asset (SQLite), cached bitmap",
        getter("partitions", "status_100k", "warm", "median_ms"),
        "ms",
    )
    yield (
        "partitions",
        "status of a 100,000-partition asset (SQLite), first read (builds the cache)",
        getter("partitions", "status_100k", "cold", "median_ms"),
        "ms",
    )
    for n in _sizes(results, "duckdb_io"):
        yield (
            f"DuckDB IO, {n:,} rows",
            "write + read back through `DuckDBPandasIOManager`, net of fixed costs",
            getter("duckdb_io", str(n), "io_ms"),
            "ms",
        )
        yield (
            f"DuckDB IO, {n:,} rows",
            "the same as a multiple of raw DuckDB (Arrow) doing it by hand (budget: 1.1)",
            getter("duckdb_io", str(n), "ratio_to_floor"),
            "x",
        )
    steps = _first_meta(results, "multiprocess_steps", "steps")
    if steps is not None:
        workers = _first_meta(results, "multiprocess_steps", "workers")
        sleep_s = _first_meta(results, "multiprocess_steps", "sleep_s")
        workload = f"multiprocess, {steps} x {sleep_s} s on {workers} workers"
        for method in ("spawn", "forkserver"):
            yield (
                workload,
                f"`execute_job`, start method {method}, total",
                getter("multiprocess_steps", method, "median_ms"),
                "ms",
            )
            yield (
                workload,
                f"start method {method}, overhead per step ((total - ideal) / steps)",
                getter("multiprocess_steps", method, "overhead_per_step_ms"),
                "ms",
            )


def _fmt(value: Cell, unit: str) -> str:
    if isinstance(value, str):
        return "error" if value.startswith("error") else "n/a"
    if unit == "":
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}"


def _ratio(dagster: Cell, weir: Cell) -> str:
    if isinstance(dagster, str) or isinstance(weir, str):
        return "n/a"
    if weir <= 0:
        return "n/a"
    ratio = dagster / weir
    return (
        f"**{ratio:,.0f}x**"
        if ratio >= 100
        else f"**{ratio:.1f}x**"
        if ratio >= 10
        else f"{ratio:.2f}x"
    )


def machine_info() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    memory = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu
            )
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kib = next((int(line.split()[1]) for line in fh if line.startswith("MemTotal")), 0)
            memory = f"{kib / 1024 / 1024:.1f} GiB" if kib else memory
    except OSError:
        pass  # not Linux: keep what platform reports
    return {
        "os": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
    }


def render(dagster: dict[str, Any], weir: dict[str, Any], *, date: str | None = None) -> str:
    """The markdown that goes between the markers."""
    info = machine_info()
    date = date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {date} on {info['os']}, {info['cpu']}, {info['cores']} logical cores, {info['memory']} RAM; "
        f"Python {dagster.get('python', '?')}; Dagster {dagster.get('version', '?')} vs weir {weir.get('version', '?')}"
        + (
            " (quick run: small sizes, few repeats)."
            if dagster.get("quick") or weir.get("quick")
            else "."
        ),
        "Medians of repeated runs; the last column is Dagster / weir (higher is better for weir).",
        "",
        "| workload | figure | Dagster | weir | Dagster / weir |",
        "|---|---|--:|--:|--:|",
    ]
    errors: list[str] = []
    for workload, figure, get, unit in build_rows([dagster, weir]):
        cells = {"Dagster": get(dagster), "weir": get(weir)}
        for lib, cell in cells.items():
            if isinstance(cell, str) and cell.startswith("error"):
                errors.append(f"- {lib}, {workload}, {figure}: {cell.removeprefix('error: ')}")
        row = (
            workload,
            figure,
            _fmt(cells["Dagster"], unit),
            _fmt(cells["weir"], unit),
            _ratio(*cells.values()),
        )
        lines.append("| " + " | ".join(row) + " |")
    if errors:
        lines += ["", "Figures that could not be measured:", "", *dict.fromkeys(errors)]
    return "\n".join(lines)


def write_doc(table: str, doc: Path = DOC) -> None:
    """Replace the text between the markers in ``doc``."""
    text = doc.read_text(encoding="utf-8")
    begin, end = text.find(BEGIN), text.find(END)
    if begin == -1 or end < begin:
        msg = f"{doc} has no {BEGIN} ... {END} block; add both markers where the table should go"
        raise SystemExit(msg)
    doc.write_text(text[: begin + len(BEGIN)] + "\n" + table + "\n" + text[end:], encoding="utf-8")


def run_lib(lib: str, python: str, passthrough: list[str]) -> dict[str, Any]:
    out = RESULTS_DIR / f"results-{lib}.json"
    command = [
        python,
        str(ROOT / "bench" / "run.py"),
        "--lib",
        lib,
        "--out",
        str(out),
        *passthrough,
    ]
    print(f"[compare] {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dagster-python", help="interpreter of a venv with dagster==1.13.27")
    parser.add_argument("--weir-python", help="interpreter of a venv with weir (packages/core)")
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure")
    parser.add_argument(
        "--from-results", action="store_true", help="only re-render .bench/results-*.json"
    )
    parser.add_argument(
        "--no-write", action="store_true", help=f"print the table, leave {DOC.name} alone"
    )
    args = parser.parse_args()

    if args.from_results:
        dagster, weir = (
            json.loads((RESULTS_DIR / f"results-{lib}.json").read_text())
            for lib in ("dagster", "weir")
        )
    else:
        if not (args.dagster_python and args.weir_python):
            parser.error("--dagster-python and --weir-python are required (or pass --from-results)")
        passthrough = ["--quick"] if args.quick else []
        if args.repeat is not None:
            passthrough += ["--repeat", str(args.repeat)]
        dagster = run_lib("dagster", args.dagster_python, passthrough)
        weir = run_lib("weir", args.weir_python, passthrough)
    table = render(dagster, weir)
    print(table)
    if not args.no_write:
        write_doc(table)
        print(f"[compare] wrote the table into {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
