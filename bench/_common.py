"""Helpers shared by the benchmark workloads.

Each workload is a script run as ``python bench/<workload>.py --lib dagster|weir``. It imports the
library as ``dg`` (the same user code for both), measures, and prints one JSON object on stdout.
A measurement that fails is recorded as ``{"error": "..."}`` and the workload keeps going, so a gap in
one library never hides the other figures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "LIBS",
    "Measurement",
    "base_parser",
    "emit",
    "error_text",
    "isolated_homes",
    "lib_version",
    "load_lib",
    "measure",
    "summarize",
]

LIBS = ("dagster", "weir")
Measurement = dict[str, Any]


def base_parser(description: str, *, default_repeat: int) -> argparse.ArgumentParser:
    """The arguments every workload accepts: ``--lib``, ``--repeat`` and ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--lib", choices=LIBS, required=True, help="library imported as dg")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help=f"timed runs per figure; the median is reported (default {default_repeat})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few runs (a smoke test)"
    )
    parser.set_defaults(default_repeat=default_repeat)
    return parser


def load_lib(name: str) -> ModuleType:
    """Import the library under test (``import dagster as dg`` or ``import weir as dg``)."""
    return importlib.import_module(name)


def lib_version(name: str) -> str:
    """The installed distribution's version, or ``"unknown"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def error_text(exc: BaseException) -> str:
    """A one-line description of an exception plus the innermost frame, short enough for a table."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    where = ""
    if frames:
        short = "/".join(Path(frames[-1].filename).parts[-2:])
        where = f" (at {short}:{frames[-1].lineno})"
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line[:300]}{where}"


def summarize(samples_s: list[float]) -> Measurement:
    """Median, min and max of timings given in seconds, reported in milliseconds."""
    ms = [s * 1000.0 for s in samples_s]
    return {
        "median_ms": round(statistics.median(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "runs": len(ms),
    }


def measure(fn: Callable[[], object], repeat: int) -> Measurement:
    """Time ``fn`` ``repeat`` times; an exception ends the figure with an ``error`` entry."""
    samples: list[float] = []
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    except Exception as exc:
        return {"error": error_text(exc)}
    return summarize(samples)


@contextlib.contextmanager
def isolated_homes() -> Iterator[str]:
    """Point ``DAGSTER_HOME`` and ``WEIR_HOME`` at a fresh temporary folder for the duration.

    Dagster's telemetry is switched off there so that no banner or log file skews the figures.
    """
    saved = {key: os.environ.get(key) for key in ("DAGSTER_HOME", "WEIR_HOME")}
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as home:
        with open(os.path.join(home, "dagster.yaml"), "w", encoding="utf-8") as fh:
            fh.write("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = home
        os.environ["WEIR_HOME"] = home
        try:
            yield home
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def emit(workload: str, lib: str, results: dict[str, Any], **extra: Any) -> None:
    """Print one workload's results as JSON on stdout (the only thing a workload prints there)."""
    payload = {
        "workload": workload,
        "lib": lib,
        "version": lib_version(lib),
        "python": platform.python_version(),
        "executable": sys.executable,
        "results": results,
        **extra,
    }
    json.dump(payload, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
