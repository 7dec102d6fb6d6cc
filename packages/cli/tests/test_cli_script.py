"""The installed ``weir`` console script, in a subprocess: version, plugins, and a run whose
steps go through the default multiprocess executor (workers re-import the user's code)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / ("weir.exe" if os.name == "nt" else "weir")

MULTIPROCESS_PROJECT = """\
import weir as dg


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


defs = dg.Definitions(assets=[numbers, total])
"""


def _weir(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WEIR_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def script() -> Path:
    assert SCRIPT.exists(), (
        f"the weir console script is not installed next to {sys.executable}; pip install -e packages/cli"
    )
    return SCRIPT


def test_version_and_plugins_list(script: Path, tmp_path: Path) -> None:
    version = _weir("--version", cwd=tmp_path, home=tmp_path / "home")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("weir-cli 0.1.0, weir ")
    listing = _weir("plugins", "list", cwd=tmp_path, home=tmp_path / "home")
    assert listing.returncode == 0, listing.stderr
    assert "weir.builtin.io_managers" in listing.stdout
    assert "weir (built-in)" in listing.stdout


def test_materialize_with_the_multiprocess_executor(script: Path, tmp_path: Path) -> None:
    (tmp_path / "mp_project.py").write_text(MULTIPROCESS_PROJECT, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.weir]\nmodule_name = "mp_project"\n', encoding="utf-8"
    )
    result = _weir("asset", "materialize", "--select", "*", cwd=tmp_path, home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "steps succeeded: 2 (numbers, total)" in result.stdout
    runs = _weir("run", "list", cwd=tmp_path, home=tmp_path / "home")
    assert "__ASSET_JOB" in runs.stdout and "SUCCESS" in runs.stdout
    assert not (tmp_path / ".weir").exists()
