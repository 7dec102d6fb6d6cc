"""Development sessions for the weir monorepo.

Every package under ``packages/`` (a folder with a ``pyproject.toml``) is discovered, so a new plugin
package joins the matrix without editing this file. Plugin packages are installed together with
``packages/core``, which they depend on.

Common invocations::

    nox -s ci                                # what CI runs: every package, the whole suite, one interpreter
    nox -t core                              # the core's tests on every supported Python
    nox -t py312                             # every package on Python 3.12
    nox -s "tests-3.12(package='core')"      # one cell of the matrix
    nox -s tests-3.12                        # every package on Python 3.12 (same as -t py312)
    nox -t tests                             # the whole matrix
    nox -s cross                             # cross-package tests in tests/
    nox -s lint typecheck docs               # static checks and the docs build
    nox -s demo                              # the demo project in examples/demo
    nox -s bench -- --quick                  # weir vs Dagster 1.13.27, rewrites docs/benchmarks.md

Interpreters: each ``python3.X`` is looked up on ``PATH``. Where ``PATH`` only has a pyenv shim for a
version that pyenv has installed but not activated, the real interpreter is linked into
``.nox/_interpreters`` so that nox finds it (see ``_expose_pyenv_interpreters``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PACKAGES_DIR = ROOT / "packages"
CORE = "core"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
DAGSTER_REQUIREMENT = "dagster==1.13.27"
# the DuckDB IO workload compares against Dagster's own DuckDB integration of the same release
DAGSTER_BENCH_REQUIREMENTS = (DAGSTER_REQUIREMENT, "dagster-duckdb-pandas==0.29.27", "pyarrow")
BENCH_DIR = ROOT / ".bench"

nox.needs_version = ">=2024.10.9"
# pip must be inside the venvs: tests build wheels with it (uv venvs have none)
nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["lint", "typecheck", "ci"]


def _discover_packages() -> list[str]:
    """Folder names under ``packages/`` that hold a ``pyproject.toml``, the core first."""
    found = sorted(p.name for p in PACKAGES_DIR.iterdir() if (p / "pyproject.toml").is_file())
    return sorted(found, key=lambda name: name != CORE)


PACKAGES = _discover_packages()


def _package_pythons(package: str) -> list[str]:
    """The Pythons a package declares in its classifiers (all of ``PYTHONS`` when it declares none)."""
    pyproject = nox.project.load_toml(PACKAGES_DIR / package / "pyproject.toml")
    try:
        declared = nox.project.python_versions(pyproject)
    except ValueError:  # no "Programming Language :: Python :: 3.X" classifiers
        return PYTHONS
    return [py for py in PYTHONS if py in declared] or PYTHONS


def _group(pyproject: dict[str, object], name: str) -> list[str]:
    """A PEP 735 dependency group, or an empty list when the file does not define it."""
    groups = pyproject.get("dependency-groups")
    if not isinstance(groups, dict) or name not in groups:
        return []
    return list(nox.project.dependency_groups(pyproject, name))


def _test_requirements(packages: list[str]) -> list[str]:
    """The root ``test`` group plus each package's own ``test`` group (e.g. a plugin's drivers)."""
    requirements = _group(PYPROJECT, "test")
    for package in packages:
        own = nox.project.load_toml(PACKAGES_DIR / package / "pyproject.toml")
        requirements += [r for r in _group(own, "test") if r not in requirements]
    return requirements


def _package_paths(packages: list[str]) -> list[str]:
    """``-e`` arguments for the given packages, the core always included (plugins depend on it)."""
    selected = [CORE, *(p for p in packages if p != CORE)]
    args: list[str] = []
    for package in selected:
        args += ["-e", str(PACKAGES_DIR / package)]
    return args


def _install(session: nox.Session, packages: list[str], *extra: str) -> None:
    session.install(*_package_paths(packages), *_test_requirements(packages), *extra)


def _expose_pyenv_interpreters() -> None:
    """Make ``python3.X`` resolvable when only an inactive pyenv shim stands on ``PATH``.

    A pyenv shim for a version that is installed but not selected exits with "command not found",
    which nox reports as a missing interpreter. Linking the real binaries into a private folder in
    front of ``PATH`` fixes that without exposing a different ``python`` or ``pip``.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = pyenv_root / "versions"
    if not versions.is_dir():
        return
    link_dir = ROOT / ".nox" / "_interpreters"
    linked = False
    for py in PYTHONS:
        name = f"python{py}"
        on_path = shutil.which(name)
        if on_path is not None and "shims" not in Path(on_path).parts:
            continue  # a real interpreter is already first on PATH
        installed = [
            p for p in versions.glob(f"{py}.*/bin/{name}") if p.parts[-3][len(py) + 1 :].isdigit()
        ]
        if not installed:
            continue
        newest = max(
            installed, key=lambda p: int(p.parts[-3][len(py) + 1 :])
        )  # 3.10.13 over 3.10.9
        link = link_dir / name
        try:
            link_dir.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(newest)
        except OSError:  # e.g. no symlinks allowed: leave PATH as it is
            continue
        linked = True
    if linked:
        os.environ["PATH"] = f"{link_dir}{os.pathsep}{os.environ.get('PATH', '')}"


_expose_pyenv_interpreters()


def _register_test_sessions() -> None:
    """One ``tests-3.X`` session per Python, parametrised by package, tagged ``<package>`` and ``py3X``.

    nox cannot attach a per-Python tag to a ``python=[...]`` session, so each Python gets its own
    session whose name carries the version; the cells are still named ``tests-3.12(package='core')``.
    """
    for python in PYTHONS:
        params = [
            nox.param(
                python,
                package,
                id=f"package={package!r}",
                tags=["tests", package, f"py{python.replace('.', '')}"],
            )
            for package in PACKAGES
            if python in _package_pythons(package)
        ]
        if not params:
            continue

        def tests(session: nox.Session, package: str) -> None:
            _install(session, [package])
            session.run("pytest", str(PACKAGES_DIR / package / "tests"), *session.posargs)

        tests.__doc__ = (
            f"Run one package's own tests on Python {python} (packages/<package>/tests)."
        )
        nox.session(name=f"tests-{python}")(nox.parametrize(["python", "package"], params)(tests))


_register_test_sessions()


@nox.session(python=PYTHONS, tags=["cross"])
def cross(session: nox.Session) -> None:
    """Install every package and run the cross-package tests in ``tests/``."""
    _install(session, PACKAGES)
    session.run("pytest", str(ROOT / "tests"), *session.posargs)


@nox.session(python=None)
def ci(session: nox.Session) -> None:
    """What CI runs: every package installed into one venv (the running Python), the whole suite once."""
    _install(session, PACKAGES)
    session.run(
        "pytest",
        str(ROOT / "packages"),
        str(ROOT / "tests"),
        "-p",
        "no:cacheprovider",
        "--durations=15",
        *session.posargs,
    )


@nox.session(python=None)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the packages, tests, bench, examples and this file."""
    session.install(*_group(PYPROJECT, "lint"))
    targets = [
        p
        for p in ("packages", "tests", "bench", "examples", "scripts", "noxfile.py")
        if (ROOT / p).exists()
    ]
    session.run("ruff", "check", *targets, *session.posargs)
    session.run("ruff", "format", "--check", *targets)


@nox.session(python=None)
def typecheck(session: nox.Session) -> None:
    """mypy on the core and the CLI (configuration in the root pyproject.toml)."""
    _install(session, [CORE, "cli"], *_group(PYPROJECT, "typecheck"))
    session.run("mypy", *session.posargs)


@nox.session(python=None)
def docs(session: nox.Session) -> None:
    """Build the documentation with ``mkdocs build --strict`` (warnings are errors)."""
    session.install("-e", str(PACKAGES_DIR / CORE), *_group(PYPROJECT, "docs"))
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(ROOT / "site"),
        *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},  # the theme's end-of-life banner, not a docs problem
    )


@nox.session(python=None)
def demo(session: nox.Session) -> None:
    """Run the demo project (examples/demo) end to end; it prints what it materialized and where."""
    session.install("-e", str(PACKAGES_DIR / CORE), "-e", str(PACKAGES_DIR / "io-duckdb"))
    session.run("python", str(ROOT / "examples" / "demo" / "run.py"), *session.posargs)


def _bench_venv(session: nox.Session, name: str, stamp: str, install: list[list[str]]) -> Path:
    """Create (or reuse) ``.bench/<name>`` and return its interpreter.

    The venv is rebuilt only when ``stamp`` (what it should contain) differs from what it was built
    with, so Dagster's slow install happens once per machine.
    """
    location = BENCH_DIR / name
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    python = location / bindir / ("python.exe" if sys.platform == "win32" else "python")
    stamp_file = location / ".weir-bench-stamp"
    if not (python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp):
        if location.exists():
            shutil.rmtree(location)
        session.run(sys.executable, "-m", "venv", str(location), external=True)
        for args in install:
            session.run(str(python), "-m", "pip", "install", "--quiet", *args, external=True)
        stamp_file.write_text(stamp)
    return python


@nox.session(python=None, venv_backend="none")
def bench(session: nox.Session) -> None:
    """Benchmark weir against Dagster 1.13.27 and write the ratio table into docs/benchmarks.md.

    Both venvs live in ``.bench/`` with the interpreter running nox and are reused across runs
    (``dagster-venv`` is built once; ``weir-venv`` is refreshed when packages/core changes).
    Arguments after ``--`` go to ``bench/compare.py``, e.g. ``nox -s bench -- --quick``.
    """
    core = PACKAGES_DIR / CORE
    dagster_python = _bench_venv(
        session,
        "dagster-venv",
        f"{sys.version_info[:2]} {' '.join(DAGSTER_BENCH_REQUIREMENTS)}",
        [list(DAGSTER_BENCH_REQUIREMENTS)],
    )
    digest = hashlib.sha256()
    for path in sorted([*core.rglob("*"), *(PACKAGES_DIR / "io-duckdb").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGES_DIR)).encode())
            digest.update(path.read_bytes())
    weir_python = _bench_venv(
        session,
        "weir-venv",
        f"{sys.version_info[:2]} weir {digest.hexdigest()}",
        [[str(core), str(PACKAGES_DIR / "io-duckdb")]],
    )
    session.run(
        sys.executable,
        str(ROOT / "bench" / "compare.py"),
        "--dagster-python",
        str(dagster_python),
        "--weir-python",
        str(weir_python),
        *session.posargs,
        external=True,
    )
