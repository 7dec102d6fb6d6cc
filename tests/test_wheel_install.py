"""The wheels install into clean venvs (dependencies from PyPI) and work there.

This is what ``pip install weir`` (and ``pip install weir-io-duckdb`` / ``weir-io-s3``) gives a
user: no editable install, no dev tools, no source tree on ``sys.path``. Each plugin is installed
alone next to the core and must be found by the plugin registry. The demo project (examples/demo)
runs on the core + DuckDB install. It needs network access to the package index, like CI has.
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
PLUGINS = {
    "duckdb": ROOT / "packages" / "io-duckdb",
    "s3": ROOT / "packages" / "io-s3",
    "cli": ROOT / "packages" / "cli",
}
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


def _venv(root: Path, env: dict[str, str], name: str) -> Path:
    venv_dir = root / name
    _run([sys.executable, "-m", "venv", str(venv_dir)], cwd=root, env=env)
    return venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _build_wheel(python: Path, project: Path, wheels: Path, env: dict[str, str]) -> Path:
    _run(
        [str(python), "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(project)],
        cwd=wheels.parent,
        env=env,
    )
    name = project.name if project != CORE else "weir"
    pattern = "weir-*.whl" if project == CORE else f"weir_{name.replace('-', '_')}-*.whl"
    (wheel,) = wheels.glob(pattern)
    return wheel


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("wheel_install")
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", WEIR_HOME=str(root / "weir_home"))
    return root, env


@pytest.fixture(scope="module")
def installed_wheel(wheel_env: tuple[Path, dict[str, str]]) -> InstalledWheel:
    """A clean venv with the core's wheel (built by pip from packages/core) and its dependencies."""
    root, env = wheel_env
    python = _venv(root, env, "venv")
    wheel = _build_wheel(python, CORE, root / "wheels", env)
    version = re.match(r"weir-([^-]+)-", wheel.name)
    assert version is not None, wheel.name
    _run([str(python), "-m", "pip", "install", str(wheel)], cwd=root, env=env)
    return InstalledWheel(python, python.parent.parent, version.group(1), env)


def _plugin_venv(
    wheel_env: tuple[Path, dict[str, str]], installed: InstalledWheel, plugin: str
) -> InstalledWheel:
    """A clean venv with the core's wheel and one plugin's wheel, nothing else of the repository."""
    root, env = wheel_env
    python = _venv(root, env, f"venv-{plugin}")
    wheels = root / "wheels"
    core = next(wheels.glob("weir-*.whl"))
    wheel = _build_wheel(python, PLUGINS[plugin], wheels, env)
    _run([str(python), "-m", "pip", "install", str(core), str(wheel)], cwd=root, env=env)
    return InstalledWheel(python, python.parent.parent, installed.version, env)


@pytest.fixture(scope="module")
def duckdb_wheel(
    wheel_env: tuple[Path, dict[str, str]], installed_wheel: InstalledWheel
) -> InstalledWheel:
    return _plugin_venv(wheel_env, installed_wheel, "duckdb")


@pytest.fixture(scope="module")
def s3_wheel(
    wheel_env: tuple[Path, dict[str, str]], installed_wheel: InstalledWheel
) -> InstalledWheel:
    return _plugin_venv(wheel_env, installed_wheel, "s3")


def test_cli_wheel_installs_alone_and_runs_a_project(
    wheel_env: tuple[Path, dict[str, str]], installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    installed = _plugin_venv(wheel_env, installed_wheel, "cli")
    weir = installed.python.parent / "weir"
    assert "weir-cli" in _run([str(weir), "--version"], cwd=tmp_path, env=installed.env)
    (tmp_path / "project.py").write_text(
        "import weir as dg\n\n"
        "@dg.asset\ndef numbers():\n    return [1, 2, 3]\n\n"
        "@dg.asset\ndef total(numbers):\n    return sum(numbers)\n\n"
        "defs = dg.Definitions(assets=[numbers, total], executor=dg.in_process_executor)\n"
    )
    env = {**installed.env, "WEIR_HOME": str(tmp_path / "home")}
    output = _run(
        [str(weir), "asset", "materialize", "--select", "*", "-f", "project.py"],
        cwd=tmp_path,
        env=env,
    )
    assert "SUCCESS" in output, output
    assert "SUCCESS" in _run([str(weir), "run", "list"], cwd=tmp_path, env=env)


REGISTRY_PROBE = """from weir.plugins import PluginRegistry, get_plugin_manager
registry = PluginRegistry(get_plugin_manager())
print("io_managers", sorted(registry.io_managers().collect()))
print("plugins", sorted(info.name for info in registry.list_plugins()))
"""


@pytest.mark.parametrize(
    ("plugin", "io_managers"),
    [("duckdb", ["duckdb_pandas", "duckdb_pyarrow"]), ("s3", ["s3_parquet", "s3_pickle"])],
)
def test_each_plugin_installs_alone_from_its_wheel_and_is_registered(
    request: pytest.FixtureRequest, plugin: str, io_managers: list[str], tmp_path: Path
) -> None:
    installed: InstalledWheel = request.getfixturevalue(f"{plugin}_wheel")
    output = _run([str(installed.python), "-c", REGISTRY_PROBE], cwd=tmp_path, env=installed.env)
    lines = dict(line.split(" ", 1) for line in output.splitlines())
    for name in io_managers:
        assert repr(name) in lines["io_managers"], output
    assert repr(plugin) in lines["plugins"], output
    other = "s3" if plugin == "duckdb" else "duckdb"
    assert repr(other) not in lines["plugins"], output  # installed alone


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


def test_demo_project_runs_twice_on_the_installed_wheels(
    duckdb_wheel: InstalledWheel, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns(".weir", ".venv", "__pycache__"))
    env = {**duckdb_wheel.env, "WEIR_HOME": str(tmp_path / "weir_home")}
    for number in (1, 2):  # the second run replaces the first run's tables
        output = _run([str(duckdb_wheel.python), str(demo / "run.py")], cwd=demo, env=env)
        assert "materialized 4 assets" in output
        # both runs are recorded in the default SQLite instance under WEIR_HOME
        assert f"weir_home/weir.db: {number}" in output.replace("\\", "/")
        assert output.count(" SUCCESS") == number
        assert "-> table demo.shop.raw_orders (16 rows)" in output
        assert "-> table demo.shop.cleaned_orders (10 rows)" in output
        assert "-> table demo.shop.daily_revenue (3 rows)" in output
        assert "-> .weir/reports/daily_revenue.md" in output.replace("\\", "/")
        assert "| **total** | 10 | 321.69 |" in output
    report = (demo / ".weir" / "reports" / "daily_revenue.md").read_text(encoding="utf-8")
    assert "| 2024-05-03 | 4 | 177.25 |" in report
    # the tables are there for anyone to query afterwards
    query = (
        "import duckdb; c = duckdb.connect('.weir/demo.duckdb', read_only=True); "
        "print(c.sql('SELECT count(*), sum(orders) FROM shop.daily_revenue').fetchall()[0])"
    )
    assert _run([str(duckdb_wheel.python), "-c", query], cwd=demo, env=env).strip() == "(3, 10)"
