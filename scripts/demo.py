"""Set up and run the demo project end to end: ``python scripts/demo.py`` from anywhere.

Needs only Python 3.10+ with pip. It creates ``examples/demo/.venv`` (once), installs weir from
``packages/core`` and ``packages/io-duckdb`` into it (again only when their ``pyproject.toml`` changed), then runs
``examples/demo/run.py`` with that interpreter, which materializes every asset and prints what it
did and where the files went. Safe to run repeatedly; arguments are passed on to run.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "packages" / "core"
DUCKDB = ROOT / "packages" / "io-duckdb"  # the demo stores its assets as DuckDB tables
PACKAGES = (CORE, DUCKDB)
DEMO = ROOT / "examples" / "demo"
VENV = DEMO / ".venv"
STAMP = VENV / ".weir-demo-installed"


def venv_python() -> Path:
    if sys.platform == "win32":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def install_stamp() -> str:
    """What the venv must hold: weir from this checkout, with these dependencies."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        digest.update((package / "pyproject.toml").read_bytes())
    return digest.hexdigest() + " " + " ".join(str(p) for p in PACKAGES)


def ensure_environment() -> Path:
    python = venv_python()
    if not python.exists():
        print(f"[demo] creating a virtual environment in {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text(encoding="utf-8") != install_stamp():
        names = ", ".join(str(p.relative_to(ROOT)) for p in PACKAGES)
        print(f"[demo] installing weir and weir-io-duckdb from {names} (editable)", flush=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                str(CORE),
                "-e",
                str(DUCKDB),
            ],
            check=True,
        )
        STAMP.write_text(install_stamp(), encoding="utf-8")
    else:
        print(f"[demo] reusing {VENV.relative_to(ROOT)} (weir already installed)", flush=True)
    return python


def main() -> int:
    if sys.version_info < (3, 10):  # noqa: UP036 - a clear message for an old interpreter
        print(
            f"[demo] weir needs Python 3.10 or newer; this is {sys.version.split()[0]}",
            file=sys.stderr,
        )
        return 2
    python = ensure_environment()
    print(f"[demo] running {(DEMO / 'run.py').relative_to(ROOT)}", flush=True)
    return subprocess.run(
        [str(python), str(DEMO / "run.py"), *sys.argv[1:]], cwd=ROOT, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
