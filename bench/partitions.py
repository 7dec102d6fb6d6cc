"""Partitions at scale, and the cost of a partitioned run.

- ``static_1m``: ``StaticPartitionsDefinition`` of 1,000,000 keys: define, then list every key.
- ``hourly_20y``: ``HourlyPartitionsDefinition`` over 20 years (175,320 keys): define, count, list.
- ``multi_2d``: 365 days x 1,000 static keys (365,000 keys): define and list.
- ``multi_3d``: 365 days x 50 regions x 20 products (365,000 keys): define and list. Dagster allows
  two dimensions only, so its cell is an error.
- ``per_partition_run``: ``materialize_to_memory`` of one daily-partitioned asset, one run per key
  for N keys, against the same number of runs of an unpartitioned asset; the overhead per
  partitioned run is the difference per run. Every run's value is checked.
- ``status_100k`` (weir only): materializations of 100,000 static partitions stored in a SQLite
  instance, then ``instance.get_partition_status``: once cold (the status bitmap is built from the
  event log and cached) and then warm (the cached bitmap plus what was stored since).

Usage: ``python bench/partitions.py --lib weir [--repeat 3] [--quick]``
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from _common import base_parser, emit, error_text, isolated_homes, load_lib, measure


def _define_and_list(make: Any, expected: int) -> Any:
    def run() -> None:
        pdef = make()
        keys = pdef.get_partition_keys()
        if len(keys) != expected:
            raise AssertionError(f"{len(keys)} keys, expected {expected}")

    return run


def run_definitions(dg: ModuleType, repeat: int, quick: bool) -> dict[str, Any]:
    n_static = 100_000 if quick else 1_000_000
    keys = [f"key-{i:07d}" for i in range(n_static)]
    days = dg.DailyPartitionsDefinition(start_date="2023-01-01", end_date="2024-01-01")
    results = {
        "static_1m": measure(
            _define_and_list(lambda: dg.StaticPartitionsDefinition(keys), n_static), repeat
        ),
        "hourly_20y": measure(
            _define_and_list(
                lambda: dg.HourlyPartitionsDefinition(
                    start_date="2004-01-01-00:00", end_date="2024-01-01-00:00"
                ),
                175_320,
            ),
            repeat,
        ),
        "multi_2d": measure(
            _define_and_list(
                lambda: dg.MultiPartitionsDefinition(
                    {
                        "date": days,
                        "shop": dg.StaticPartitionsDefinition([f"s{i}" for i in range(1000)]),
                    }
                ),
                365_000,
            ),
            repeat,
        ),
        "multi_3d": measure(
            _define_and_list(
                lambda: dg.MultiPartitionsDefinition(
                    {
                        "date": days,
                        "region": dg.StaticPartitionsDefinition([f"r{i}" for i in range(50)]),
                        "product": dg.StaticPartitionsDefinition([f"p{i}" for i in range(20)]),
                    }
                ),
                365_000,
            ),
            repeat,
        ),
    }
    results["static_1m"]["keys"] = n_static
    return results


def run_per_partition(dg: ModuleType, n: int, repeat: int) -> dict[str, Any]:
    try:
        daily = dg.DailyPartitionsDefinition(start_date="2020-01-01")
        start = datetime(2020, 1, 1)
        keys = [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(n)]

        @dg.asset(partitions_def=daily)
        def part(context) -> str:  # type: ignore[no-untyped-def]  # Dagster refuses "context: Any"
            return context.partition_key

        @dg.asset
        def plain() -> str:
            return "x"

        def partitioned_runs() -> None:
            for key in keys:
                result = dg.materialize_to_memory([part], partition_key=key)
                if result.asset_value("part") != key:
                    raise AssertionError("wrong partition")

        def plain_runs() -> None:
            for _ in keys:
                if dg.materialize_to_memory([plain]).asset_value("plain") != "x":
                    raise AssertionError("wrong value")

        partitioned_runs()  # warm-up
        with_partitions = measure(partitioned_runs, repeat)
        without = measure(plain_runs, repeat)
    except Exception as exc:
        return {"error": error_text(exc)}
    out = {"partitioned": with_partitions, "unpartitioned": without, "runs": n}
    if "median_ms" in with_partitions and "median_ms" in without:
        out["per_run_ms"] = round(with_partitions["median_ms"] / n, 3)
        out["overhead_per_partitioned_run_ms"] = round(
            (with_partitions["median_ms"] - without["median_ms"]) / n, 3
        )
    return out


def run_status(dg: ModuleType, n: int) -> dict[str, Any]:
    if not hasattr(dg, "Instance"):
        return {
            "error": "not measured for this library (writing 100k events takes Dagster minutes)"
        }
    try:
        pdef = dg.StaticPartitionsDefinition([f"p{i:06d}" for i in range(n)])
        instance = dg.DagsterInstance.local_temp()
        key = dg.AssetKey("big")
        from weir._execution.events import DagsterEvent, StepMaterializationData

        batch = []
        for i, partition in enumerate(pdef.get_partition_keys()):
            event = DagsterEvent(
                "ASSET_MATERIALIZATION",
                "bench",
                "big",
                "m",
                StepMaterializationData(dg.AssetMaterialization(key, partition=partition)),
            )
            batch.append(dg.EventLogEntry.from_event("bench-run", event))
            if len(batch) == 5_000 or i == n - 1:
                instance.store_events(batch)
                batch = []

        def status() -> None:
            found = instance.get_partition_status(key, pdef)
            if len(found.materialized) != n or len(found.missing) != 0:
                raise AssertionError(f"{len(found.materialized)} materialized, expected {n}")

        cold = measure(status, 1)  # builds the status bitmap from the event log
        warm = measure(status, 5)  # reads the cached bitmap, applies what is new (nothing)
        return {"cold": cold, "warm": warm, "partitions": n}
    except Exception as exc:
        return {"error": error_text(exc)}


def main() -> None:
    parser = base_parser(__doc__ or "", default_repeat=3)
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else args.default_repeat)
    results: dict[str, Any] = {}
    with isolated_homes():
        try:
            dg = load_lib(args.lib)
        except Exception as exc:
            results["warmup"] = {"error": error_text(exc)}
        else:
            results["definitions"] = run_definitions(dg, repeat, args.quick)
            results["per_partition_run"] = run_per_partition(dg, 20 if args.quick else 100, repeat)
            results["status_100k"] = run_status(dg, 10_000 if args.quick else 100_000)
    emit("partitions", args.lib, results, repeat=repeat)


if __name__ == "__main__":
    main()
