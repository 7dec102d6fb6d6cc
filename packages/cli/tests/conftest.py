"""Fixtures for the CLI tests: a temp WEIR_HOME and project folder per test, a CLI runner, and
clean-up of the modules, sys.path entries and logging handlers a CLI invocation leaves behind."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from weir.plugins import get_plugin_manager
from weir_cli import _loading
from weir_cli._logging import SECRET_BEARING_LOGGERS
from weir_cli.main import build_cli

PROJECT = """\
import weir as dg


class Greeting(dg.Config):
    name: str = "world"


@dg.asset
def raw(context: dg.AssetExecutionContext, config: Greeting) -> str:
    context.log.info(f"hello {config.name}")
    return config.name


@dg.asset
def shout(raw: str) -> str:
    return raw.upper()


@dg.asset
def broken(shout: str) -> str:
    raise ValueError("the broken asset always fails")


letters = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.asset(partitions_def=letters)
def parted(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"keys": ",".join(context.partition_keys)})


@dg.op
def one() -> int:
    return 1


@dg.op
def plus(x: int) -> int:
    return x + 1


@dg.job(executor_def=dg.in_process_executor)
def op_job():
    plus(one())


defs = dg.Definitions(
    assets=[raw, shout, broken, parted],
    jobs=[op_job, dg.define_asset_job("shout_job", selection="raw,shout")],
    executor=dg.in_process_executor,
)
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test: its own WEIR_HOME and working folder; afterwards, forget what the CLI loaded."""
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    modules = set(sys.modules)
    path = list(sys.path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logging.getLogger(name).level for name in ("weir.user", *SECRET_BEARING_LOGGERS)
    }
    yield
    _loading._cache.clear()
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith(str(tmp_path)):
            del sys.modules[name]
    sys.path[:] = path
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The current directory of the test."""
    return tmp_path / "work"


@pytest.fixture
def write(work: Path) -> Callable[[str, str], Path]:
    """Write a file (dedented) below the working folder."""

    def write(name: str, text: str) -> Path:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def project(write: Callable[[str, str], Path]) -> Path:
    """The demo project as ``proj.py`` in the working folder."""
    return write("proj.py", PROJECT)


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run the ``weir`` group in process (installed plugins not loaded)."""
    cli = build_cli(get_plugin_manager(autoload=False))

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke
