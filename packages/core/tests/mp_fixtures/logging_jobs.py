"""Jobs whose steps log with ``context.log``, run in worker processes by ``test_run_logs.py``."""

from __future__ import annotations

import os
from typing import Any

import weir as dg


@dg.asset
def greeting(context: dg.AssetExecutionContext) -> str:
    context.log.info("hello from pid %d", os.getpid())
    return "hi"


@dg.asset
def shout(context: dg.AssetExecutionContext, greeting: str) -> str:
    context.log.warning("shouting %r", greeting)
    return greeting.upper()


logging_defs = dg.Definitions(
    assets=[greeting, shout],
    jobs=[dg.define_asset_job("logging_assets", selection="*")],
    executor=dg.multiprocess_executor,
)


def get_asset_job() -> Any:
    return logging_defs.get_job_def("logging_assets")


@dg.op
def emit_number(context: dg.OpExecutionContext) -> int:
    context.log.debug("about to emit")
    return 7


@dg.op
def report(context: dg.OpExecutionContext, n: int) -> None:
    context.log.error("got %d", n)


@dg.job(executor_def=dg.multiprocess_executor)
def logging_ops() -> None:
    report(emit_number())
