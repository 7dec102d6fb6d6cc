"""The core's wheel installs into a clean venv (dependencies from PyPI) and works there.

This is what ``pip install weir`` gives a user: no editable install, no dev tools, no source tree on
``sys.path``. The demo project (examples/demo) runs on that install too. It needs network access
to the package index, like CI has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "packages" / "core"
DEMO = ROOT / "examples" / "demo"

SMOKE = """\
import weir as dg

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]

@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)

result = dg.materialize([numbers, total])
print("version", dg.__version__)
print("from", dg.__file__)
print("success", result.success)
print("total", result.output_for_node("total"))
"""


def _run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


@dataclass(frozen=True)
class InstalledWheel:
    python: Path
    venv: Path
    version: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """A clean venv with the core's wheel (built by pip from packages/core) and its dependencies."""
    root = tmp_path_factory.mktemp("wheel_install")
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", WEIR_HOME=str(root / "weir_home"))
    venv_dir = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv_dir)], cwd=root, env=env)
    python = venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")

    wheels = root / "wheels"
    _run(
        [str(python), "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(CORE)],
        cwd=root,
        env=env,
    )
    (wheel,) = wheels.glob("weir-*.whl")
    version = re.match(r"weir-([^-]+)-", wheel.name)
    assert version is not None, wheel.name
    _run([str(python), "-m", "pip", "install", str(wheel)], cwd=root, env=env)
    return InstalledWheel(python, venv_dir, version.group(1), env)


def test_core_wheel_installs_and_materializes_in_a_clean_venv(
    installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    output = _run([str(installed_wheel.python), "-c", SMOKE], cwd=tmp_path, env=installed_wheel.env)
    lines = output.splitlines()

    assert f"version {installed_wheel.version}" in lines
    installed_from = next(line.removeprefix("from ") for line in lines if line.startswith("from "))
    assert Path(installed_from).resolve().is_relative_to(installed_wheel.venv.resolve()), (
        installed_from
    )
    assert "success True" in lines
    assert "total 6" in lines


def test_demo_project_runs_twice_on_the_installed_wheel(
    installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns(".weir", ".venv", "__pycache__"))
    env = {**installed_wheel.env, "WEIR_HOME": str(tmp_path / "weir_home")}
    for number in (1, 2):  # the second run overwrites the first run's files
        output = _run([str(installed_wheel.python), str(demo / "run.py")], cwd=demo, env=env)
        assert "materialized 4 assets" in output
        # both runs are recorded in the default SQLite instance under WEIR_HOME
        assert f"weir_home/weir.db: {number}" in output.replace("\\", "/")
        assert output.count(" SUCCESS") == number
        for asset in ("raw_orders", "cleaned_orders", "daily_revenue"):
            assert f"-> .weir/storage/{asset}" in output.replace("\\", "/")
            assert (demo / ".weir" / "storage" / asset).is_file()
        assert "-> .weir/reports/daily_revenue.md" in output.replace("\\", "/")
        assert "| **total** | 10 | 321.69 |" in output
    report = (demo / ".weir" / "reports" / "daily_revenue.md").read_text(encoding="utf-8")
    assert "| 2024-05-03 | 4 | 177.25 |" in report
