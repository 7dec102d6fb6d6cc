"""Jobs for ``test_instance_durability.py``: runs killed mid-step, and many runs at once.

A step that should be killed writes ``<signal_dir>/<step>.started`` and then waits; the test
kills the process running it. ``WEIR_TEST_SIGNAL_DIR`` names the folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import weir as dg
from weir._execution.executor_def import in_process_executor, multiprocess_executor


def _signal_dir() -> Path:
    return Path(os.environ["WEIR_TEST_SIGNAL_DIR"])


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    marker = _signal_dir() / "second.started"
    if not (_signal_dir() / "second.may_finish").exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(120)  # killed here by the test
    return first + 1


@dg.asset
def third(second: int) -> int:
    return second + 1


def _resolved(
    job: dg.UnresolvedAssetJobDefinition, assets: list[dg.AssetsDefinition]
) -> dg.JobDefinition:
    return dg.Definitions(assets=assets, jobs=[job]).get_job_def(job.name)


def get_crash_job() -> dg.JobDefinition:
    job = dg.define_asset_job("crash_job", [first, second, third], executor_def=in_process_executor)
    return _resolved(job, [first, second, third])


def get_crash_job_multiprocess() -> dg.JobDefinition:
    job = dg.define_asset_job(
        "crash_job_mp", [first, second, third], executor_def=multiprocess_executor
    )
    return _resolved(job, [first, second, third])


def _chain(n: int) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    for i in range(n):
        deps = [assets[-1]] if assets else []

        @dg.asset(name=f"link_{i}", deps=deps)
        def link() -> None:
            return None

        assets.append(link)
    return assets


CHAIN = _chain(10)


def get_chain_job() -> dg.JobDefinition:
    return _resolved(dg.define_asset_job("chain", CHAIN, executor_def=in_process_executor), CHAIN)


def get_chain_job_multiprocess() -> dg.JobDefinition:
    executor = multiprocess_executor.configured({"max_concurrent": 2})
    return _resolved(dg.define_asset_job("chain_mp", CHAIN, executor_def=executor), CHAIN)


# -- op jobs re-executed from failure ---------------------------------------------------------------


def _fail_once(name: str) -> None:
    """Fail the first time (no ``<name>.failed`` file yet), succeed afterwards."""
    marker = _signal_dir() / f"{name}.failed"
    if not marker.exists():
        marker.write_text("", encoding="utf-8")
        raise RuntimeError(f"{name} fails on its first run")


@dg.op
def load_numbers() -> list[int]:
    (_signal_dir() / f"load_numbers.{os.getpid()}.{time.monotonic_ns()}").write_text(
        "", encoding="utf-8"
    )
    return [1, 2, 3]


@dg.op
def double_them(numbers: list[int]) -> list[int]:
    _fail_once("double_them")
    return [n * 2 for n in numbers]


@dg.op
def total(numbers: list[int]) -> int:
    return sum(numbers)


@dg.job(executor_def=in_process_executor)
def numbers_job() -> None:
    total(double_them(load_numbers()))


@dg.op(out=dg.DynamicOut())
def fan_out() -> Any:
    (_signal_dir() / f"fan_out.{time.monotonic_ns()}").write_text("", encoding="utf-8")
    for key in ("a", "b", "c"):
        yield dg.DynamicOutput(ord(key), mapping_key=key)


@dg.op
def per_key(value: int) -> int:
    if value == ord("b"):
        _fail_once("per_key_b")
    return value - ord("a")


@dg.op
def gather(values: list[int]) -> int:
    return sum(values)


@dg.job(executor_def=in_process_executor)
def dynamic_job() -> None:
    gather(fan_out().map(per_key).collect())


# -- partitions in worker processes ------------------------------------------------------------------

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")


@dg.asset(partitions_def=DAYS)
def day_keys(context: dg.AssetExecutionContext) -> dict[str, list[str]]:
    return {key: [key, str(os.getpid())] for key in context.partition_keys}


@dg.asset(partitions_def=DAYS)
def day_count(context: dg.AssetExecutionContext, day_keys: Any) -> Any:
    if context.has_partition_key:  # one partition: its value
        return len(day_keys)
    return {key: len(value) for key, value in day_keys.items()}  # a range: one value per partition


def get_days_job_multiprocess() -> dg.JobDefinition:
    job = dg.define_asset_job("days_mp", [day_keys, day_count], executor_def=multiprocess_executor)
    return _resolved(job, [day_keys, day_count])
