"""Event-log throughput and the cost of recording runs in a persistent SQLite instance.

- ``write``: real run events (a materialization with metadata, step start/output/success ...)
  taken from a run, wrapped as ``EventLogEntry``s and written into a fresh SQLite instance
  (``DagsterInstance.local_temp()``) in batches of one step's events, as the engine writes them.
  weir calls ``instance.store_events(batch)``; Dagster ``event_log_storage.store_event_batch``.
  Reports events per second; the budget is >= 20,000.
- ``materialize_sqlite``: ``materialize`` of N independent assets into a ``local_temp()`` SQLite
  instance; reports the marginal cost per asset (slope between the smallest and largest size),
  which includes writing every event of the run.

Every write is read back (the count of stored events) so skipped work cannot look fast.

Usage: ``python bench/event_log.py --lib weir [--events 20000] [--repeat 3] [--quick]``
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, summarize


def _sample_events(dg: ModuleType) -> list[Any]:
    """The events of one materialization with metadata (what a typical step writes)."""

    @dg.asset
    def sample():  # no annotation: Dagster refuses Output under "-> Any"
        return dg.Output(
            [1, 2, 3],
            metadata={"rows": 3, "source": "bench", "path": dg.MetadataValue.path("/tmp/x")},
        )

    result = dg.materialize_to_memory([sample])
    return [e for e in result.all_events if e.step_key == "sample"]


def _entry(dg: ModuleType, run_id: str, event: Any) -> Any:
    return dg.EventLogEntry(None, 10, "", run_id, time.time(), event.step_key, "bench", event)


def run_write(dg: ModuleType, n_events: int, repeat: int) -> dict[str, Any]:
    try:
        events = _sample_events(dg)
        samples: list[float] = []
        for r in range(repeat):
            instance = dg.DagsterInstance.local_temp()
            run_id = f"bench-run-{r}"
            batches = []
            written = 0
            while written < n_events:
                batch = [_entry(dg, run_id, e) for e in events]
                batches.append(batch)
                written += len(batch)
            store = getattr(instance, "store_events", None)
            if store is None or not callable(store):  # Dagster
                storage = instance.event_log_storage
                store = storage.store_event_batch
            start = time.perf_counter()
            for batch in batches:
                store(batch)
            samples.append(time.perf_counter() - start)
            stored = len(instance.all_logs(run_id))
            if stored != written:
                raise AssertionError(f"stored {stored} of {written} events")
        figure = summarize(samples)
        figure["events"] = written
        figure["events_per_batch"] = len(events)
        figure["events_per_s"] = round(written / (figure["median_ms"] / 1000))
        figure["per_event_us"] = round(figure["median_ms"] * 1000 / written, 2)
        return figure
    except Exception as exc:
        return {"error": error_text(exc)}


def run_materialize(dg: ModuleType, n: int, repeat: int) -> dict[str, Any]:
    try:
        assets = []
        for i in range(n):

            def value() -> int:
                return 1

            assets.append(dg.asset(name=f"a_{i}")(value))
        samples = []
        for _ in range(repeat):
            instance = dg.DagsterInstance.local_temp()
            start = time.perf_counter()
            result = dg.materialize(assets, instance=instance)
            samples.append(time.perf_counter() - start)
            if not result.success or instance.get_runs_count() != 1:
                raise AssertionError("run not recorded")
        return summarize(samples)
    except Exception as exc:
        return {"error": error_text(exc)}


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=3)
    parser.add_argument("--events", type=int, default=None, help="events written per sample")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else args.default_repeat)
    n_events = args.events or (2_000 if args.quick else 20_000)
    sizes = (5, 20) if args.quick else (10, 100)
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
            run_write(dg, 50, 1)  # warm-up: imports, schema creation
            run_materialize(dg, 2, 1)
        except Exception as exc:
            results["warmup"] = {"error": error_text(exc)}
        else:
            results["write"] = run_write(dg, n_events, repeat)
            mat = {str(n): run_materialize(dg, n, repeat) for n in sizes}
            small, large = mat[str(sizes[0])], mat[str(sizes[-1])]
            if "median_ms" in small and "median_ms" in large:
                mat["marginal_per_asset_ms"] = round(
                    (large["median_ms"] - small["median_ms"]) / (sizes[-1] - sizes[0]), 4
                )
            results["materialize_sqlite"] = mat
    emit("event_log", args.lib, results, repeat=repeat, sizes=list(sizes))


if __name__ == "__main__":
    main()
