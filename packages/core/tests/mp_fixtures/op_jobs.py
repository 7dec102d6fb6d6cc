"""Op jobs (``@job``, ``GraphDefinition.to_job``) run by ``test_multiprocess_executor.py`` in workers.

As in ``jobs.py``, ops record what happened (pids, attempts) in their values or in files under a
folder given by run config, so the tests check what ran where.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import weir as dg
from weir._model.hooks import failure_hook, success_hook
from weir._model.retry import RetryPolicy

# -- a diamond: two branches that can only finish if they run at the same time --------------------


class MeetConfig(dg.Config):
    folder: str
    timeout_s: float = 20.0


def _meet(name: str, other: str, folder: str, timeout_s: float) -> bool:
    (Path(folder) / name).write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + timeout_s
    while not (Path(folder) / other).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@dg.op
def source() -> int:
    return 10


@dg.op
def left(config: MeetConfig, n: int) -> dict[str, Any]:
    met = _meet("left", "right", config.folder, config.timeout_s)
    return {"value": n + 1, "pid": os.getpid(), "met": met}


@dg.op
def right(config: MeetConfig, n: int) -> dict[str, Any]:
    met = _meet("right", "left", config.folder, config.timeout_s)
    return {"value": n * 2, "pid": os.getpid(), "met": met}


@dg.op
def join(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {"total": a["value"] + b["value"], "pids": [a["pid"], b["pid"], os.getpid()]}


@dg.job
def diamond() -> None:
    n = source()
    join(left(n), right(n))


# -- dynamic fan-out, map, collect, and a nested graph -----------------------------------------------


@dg.op(out=dg.DynamicOut())
def fan_out() -> Any:
    for i in (3, 1, 2):
        yield dg.DynamicOutput(i, mapping_key=f"k{i}")


@dg.op
def square(x: int) -> int:
    return x * x


@dg.op
def plus_pid(x: int) -> dict[str, int]:
    return {"value": x + 1, "pid": os.getpid()}


@dg.op
def gather(items: list[dict[str, int]]) -> dict[str, Any]:
    return {"values": [i["value"] for i in items], "pids": sorted({i["pid"] for i in items})}


@dg.op
def seed() -> int:
    return 5


@dg.op
def halve(x: int) -> float:
    return x / 2


@dg.graph
def inner(x: int) -> float:
    return halve(x)


@dg.graph(out={"gathered": dg.GraphOut(), "half": dg.GraphOut()})
def fan_graph() -> Any:
    mapped = fan_out().map(square).map(plus_pid)
    return gather(mapped.collect()), inner(seed())


fan_job = fan_graph.to_job(name="fan_job")


def get_fan_job() -> Any:
    return fan_graph.to_job(name="fan_job")


# -- failures: a failing op, and a failing mapped step ------------------------------------------------


@dg.op
def explode() -> int:
    raise ValueError("the op exploded")


@dg.op
def after_explode(x: int) -> int:
    return x + 1


@dg.op
def bystander() -> int:
    return 7


@dg.op
def after_bystander(x: int) -> int:
    return x * 6


@dg.op(out=dg.DynamicOut())
def fan_three() -> Any:
    for key in ("a", "b", "c"):
        yield dg.DynamicOutput(key, mapping_key=key)


@dg.op
def fragile(key: str) -> str:
    if key == "b":
        raise RuntimeError("mapped step b failed")
    return key.upper()


@dg.op
def shout(value: str) -> str:
    return value + "!"


@dg.op
def gather_shouts(values: list[str]) -> str:
    return "".join(values)


@dg.job
def failing() -> None:
    after_explode(explode())
    after_bystander(bystander())
    gather_shouts(fan_three().map(fragile).map(shout).collect())


# -- retries and hooks in the workers ------------------------------------------------------------------


class HookDir(dg.ConfigurableResource):
    folder: str


@success_hook(required_resource_keys={"hook_dir"})
def note_success(context: Any) -> None:
    with open(Path(context.resources.hook_dir.folder) / "hooks.log", "a", encoding="utf-8") as fh:
        fh.write(f"success {context.step_key} {os.getpid()}\n")


@failure_hook(required_resource_keys={"hook_dir"})
def note_failure(context: Any) -> None:
    with open(Path(context.resources.hook_dir.folder) / "hooks.log", "a", encoding="utf-8") as fh:
        fh.write(f"failure {context.step_key} {os.getpid()}\n")


@dg.op(retry_policy=RetryPolicy(max_retries=2, delay=0.05))
def flaky_op(context: dg.OpExecutionContext) -> dict[str, int]:
    if context.retry_number < 1:
        raise ConnectionError("the first attempt fails")
    return {"attempt": context.retry_number, "pid": os.getpid()}


@dg.op
def always_fails() -> int:
    raise ConnectionError("down for good")


@dg.op
def after_flaky(x: dict[str, int]) -> int:
    return x["attempt"] + 100


@dg.job(
    hooks={note_success, note_failure},
    op_retry_policy=RetryPolicy(max_retries=1),
    resource_defs={"hook_dir": HookDir.configure_at_launch()},
)
def retrying() -> None:
    after_flaky(flaky_op())
    always_fails()


# -- a worker killed mid-step; and config errors ----------------------------------------------------------


@dg.op
def kill_self() -> int:
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return 0  # never reached


@dg.op
def after_kill(x: int) -> int:
    return x


@dg.op
def survivor() -> int:
    return 1


@dg.job
def killing() -> None:
    after_kill(kill_self())
    survivor()


# -- values that cannot cross processes ---------------------------------------------------------------


@dg.op
def first() -> int:
    return 1


@dg.op
def second(x: int) -> int:
    return x + 1


@dg.job(resource_defs={"io_manager": dg.mem_io_manager})
def in_memory() -> None:
    second(first())


# -- a long chain behind a failure: everything downstream is blocked in one go ------------------------


@dg.op
def head() -> int:
    raise ValueError("the head of the chain fails")


@dg.op
def link(x: int) -> int:
    return x + 1


@dg.job
def long_chain() -> None:
    value = head()
    for i in range(1200):  # deeper than the interpreter's recursion limit
        value = link.alias(f"link_{i}")(value)
