"""Jobs for ``test_instance_durability.py``: runs killed mid-step, and many runs at once.

A step that should be killed writes ``<signal_dir>/<step>.started`` and then waits; the test
kills the process running it. ``WEIR_TEST_SIGNAL_DIR`` names the folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

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
