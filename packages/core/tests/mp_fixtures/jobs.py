"""Asset jobs run by ``test_multiprocess_executor.py`` in worker processes.

Every job is reached through a module-level function (``reconstructable(get_...)``), as Dagster
code does. Steps record what happened (pids, times) in their return values or in files under a
directory given by run config, so the tests can check what ran where and when.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import weir as dg
from weir._execution.executor_def import in_process_executor, multiprocess_executor

# -- values cross processes ----------------------------------------------------------------------


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@dg.asset
def doubled(numbers: list[int]) -> list[int]:
    return [n * 2 for n in numbers]


@dg.asset
def squared(numbers: list[int]) -> list[int]:
    return [n * n for n in numbers]


@dg.asset
def summary(doubled: list[int], squared: list[int]) -> dict[str, Any]:
    return {"doubled": sum(doubled), "squared": sum(squared), "pid": os.getpid()}


values_defs = dg.Definitions(
    assets=[numbers, doubled, squared, summary],
    jobs=[dg.define_asset_job("values_job")],
)


def get_values_job() -> Any:
    return values_defs.get_job_def("values_job")


values_job = values_defs.get_job_def("values_job")  # a module-level job object works too


# -- parallelism -----------------------------------------------------------------------------------


def _timed(seconds: float) -> dict[str, Any]:
    start = time.time()
    time.sleep(seconds)
    return {"pid": os.getpid(), "start": start, "end": time.time()}


class RendezvousConfig(dg.Config):
    folder: str
    timeout_s: float = 20.0


def _meet(name: str, other: str, config: RendezvousConfig) -> dict[str, Any]:
    """Arrive, then wait for ``other`` to arrive: both meet only if they run at the same time."""
    folder = Path(config.folder)
    (folder / name).write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + config.timeout_s
    while not (folder / other).exists():
        if time.monotonic() > deadline:
            return {"pid": os.getpid(), "met": False}
        time.sleep(0.01)
    return {"pid": os.getpid(), "met": True}


@dg.asset
def meet_a(config: RendezvousConfig) -> dict[str, Any]:
    return _meet("meet_a", "meet_b", config)


@dg.asset
def meet_b(config: RendezvousConfig) -> dict[str, Any]:
    return _meet("meet_b", "meet_a", config)


@dg.asset(op_tags={"database": "warehouse"})
def limited_a() -> dict[str, Any]:
    return _timed(0.3)


@dg.asset(op_tags={"database": "warehouse"})
def limited_b() -> dict[str, Any]:
    return _timed(0.3)


parallel_defs = dg.Definitions(
    assets=[meet_a, meet_b, limited_a, limited_b],
    jobs=[
        dg.define_asset_job("parallel_job", selection=["meet_a", "meet_b"]),
        dg.define_asset_job("limited_job", selection=["limited_a", "limited_b"]),
    ],
)


def get_parallel_job() -> Any:
    return parallel_defs.get_job_def("parallel_job")


def get_limited_job() -> Any:
    return parallel_defs.get_job_def("limited_job")


# -- failures --------------------------------------------------------------------------------------


@dg.asset
def boom() -> int:
    raise ValueError("boom went the asset")


@dg.asset
def after_boom(boom: int) -> int:
    return boom + 1


@dg.asset
def independent() -> int:
    return 7


@dg.asset
def killer() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0  # never reached


@dg.asset
def after_killer(killer: int) -> int:
    return killer


@dg.asset
def survivor_1() -> int:
    return 1


@dg.asset
def survivor_2(survivor_1: int) -> int:
    return survivor_1 + 1


failure_defs = dg.Definitions(
    assets=[boom, after_boom, independent, killer, after_killer, survivor_1, survivor_2],
    jobs=[
        dg.define_asset_job("boom_job", selection=["boom", "after_boom", "independent"]),
        dg.define_asset_job(
            "killer_job", selection=["killer", "after_killer", "survivor_1", "survivor_2"]
        ),
    ],
)


def get_boom_job() -> Any:
    return failure_defs.get_job_def("boom_job")


def get_killer_job() -> Any:
    return failure_defs.get_job_def("killer_job")


# -- resources: once per worker ----------------------------------------------------------------------


@dg.resource(config_schema={"log_dir": str})
def tracker(init_context: Any) -> Any:
    log_dir = Path(init_context.resource_config["log_dir"])
    with open(log_dir / "setup.log", "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    yield log_dir
    with open(log_dir / "teardown.log", "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")


def _uses_tracker(name: str) -> Any:
    @dg.asset(name=name, required_resource_keys={"tracker"})
    def _asset(context: dg.AssetExecutionContext) -> int:
        with open(context.resources.tracker / "steps.log", "a", encoding="utf-8") as fh:
            fh.write(f"{name} {os.getpid()}\n")
        time.sleep(0.05)
        return os.getpid()

    return _asset


tracked_assets = [_uses_tracker(f"tracked_{i}") for i in range(6)]

tracked_defs = dg.Definitions(
    assets=tracked_assets,
    resources={"tracker": tracker},
    jobs=[dg.define_asset_job("tracked_job")],
)


def get_tracked_job() -> Any:
    return tracked_defs.get_job_def("tracked_job")


@dg.resource
def broken_resource(_init_context: Any) -> Any:
    raise ConnectionError("database unreachable")


@dg.asset(required_resource_keys={"broken"})
def needs_broken() -> int:
    return 1


broken_defs = dg.Definitions(
    assets=[needs_broken],
    resources={"broken": broken_resource},
    jobs=[dg.define_asset_job("broken_job")],
)


def get_broken_job() -> Any:
    return broken_defs.get_job_def("broken_job")


def get_job_failing_in_workers() -> Any:
    """Loads in the launching process, raises in worker processes (a broken code location)."""
    if multiprocessing.parent_process() is not None:
        raise ImportError("a module this job needs is missing in the worker")
    return values_defs.get_job_def("values_job")


# -- IO managers that keep values in memory ----------------------------------------------------------


mem_defs = dg.Definitions(
    assets=[numbers, doubled],
    resources={"io_manager": dg.InMemoryIOManager()},
    jobs=[dg.define_asset_job("mem_job")],
)


def get_mem_job() -> Any:
    return mem_defs.get_job_def("mem_job")


@dg.io_manager
def sneaky_memory(_init_context: Any) -> Any:
    """An IO manager definition that turns out to hold values in memory (only a live check sees it)."""
    return dg.InMemoryIOManager()


sneaky_defs = dg.Definitions(
    assets=[numbers, doubled],
    resources={"io_manager": sneaky_memory},
    jobs=[dg.define_asset_job("sneaky_job")],
)


def get_sneaky_job() -> Any:
    return sneaky_defs.get_job_def("sneaky_job")


# -- executors chosen on the job --------------------------------------------------------------------


in_process_defs = dg.Definitions(
    assets=[numbers, doubled],
    jobs=[dg.define_asset_job("in_process_job", executor_def=in_process_executor)],
)


def get_in_process_job() -> Any:
    return in_process_defs.get_job_def("in_process_job")


forkserver_defs = dg.Definitions(
    assets=[numbers, doubled, squared],
    executor=multiprocess_executor.configured(
        {"max_concurrent": 2, "start_method": {"forkserver": {}}}
    ),
    jobs=[dg.define_asset_job("forkserver_job")],
)


def get_forkserver_job() -> Any:
    return forkserver_defs.get_job_def("forkserver_job")


# -- re-execution ------------------------------------------------------------------------------------


class FlakyConfig(dg.Config):
    flag_file: str


@dg.asset
def stable() -> int:
    return 10


@dg.asset
def flaky(config: FlakyConfig, stable: int) -> int:
    flag = Path(config.flag_file)
    if not flag.exists():
        flag.write_text("failed once", encoding="utf-8")
        raise RuntimeError("first attempt fails")
    return stable + 1


@dg.asset
def after_flaky(flaky: int) -> int:
    return flaky * 2


flaky_defs = dg.Definitions(
    assets=[stable, flaky, after_flaky], jobs=[dg.define_asset_job("flaky_job")]
)


def get_flaky_job() -> Any:
    return flaky_defs.get_job_def("flaky_job")


# -- an op job ----------------------------------------------------------------------------------------


@dg.op
def emit_three() -> int:
    return 3


@dg.op
def add_one(x: int) -> int:
    return x + 1


@dg.job
def op_pipeline() -> None:
    add_one(emit_three())


# -- retries, hooks and checks run in the workers -----------------------------------------------------

from weir._model.asset_checks import AssetCheckResult  # noqa: E402
from weir._model.asset_checks_definition import asset_check  # noqa: E402
from weir._model.hooks import success_hook  # noqa: E402
from weir._model.retry import RetryPolicy  # noqa: E402


@dg.asset(retry_policy=RetryPolicy(max_retries=2, delay=0.1))
def retried(context: dg.AssetExecutionContext) -> dict[str, Any]:
    if context.retry_number < 1:
        raise ValueError("the first attempt fails")
    return {"pid": os.getpid(), "retry_number": context.retry_number}


@dg.asset
def after_retried(retried: dict[str, Any]) -> int:
    return int(retried["retry_number"]) + 100


@asset_check(asset=retried, blocking=True)
def retried_on_second_attempt(retried: dict[str, Any]) -> AssetCheckResult:
    return AssetCheckResult(passed=retried["retry_number"] == 1, metadata={"pid": os.getpid()})


@success_hook(required_resource_keys={"tracker"})
def log_success(context: Any) -> None:
    with open(context.resources.tracker / "hooks.log", "a", encoding="utf-8") as fh:
        fh.write(f"{context.step_key} {os.getpid()}\n")


retry_defs = dg.Definitions(
    assets=[retried, after_retried],
    asset_checks=[retried_on_second_attempt],
    resources={"tracker": tracker},
    jobs=[dg.define_asset_job("retry_job", hooks={log_success})],
)


def get_retry_job() -> Any:
    return retry_defs.get_job_def("retry_job")
