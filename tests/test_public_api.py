"""The public surface of ``weir``: every exported name resolves, and ``import weir`` stays light."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import weir

# libraries that only the features needing them may import
HEAVY_MODULES = (
    "pydantic",
    "pandas",
    "sqlalchemy",
    "duckdb",
    "numpy",
    "pyarrow",
    "alembic",
    "boto3",
)


def test_every_exported_name_resolves() -> None:
    failures = []
    for name in weir.__all__:
        try:
            getattr(weir, name)
        except Exception as exc:
            frames = [
                f
                for f in traceback.extract_tb(exc.__traceback__)
                if "weir" in Path(f.filename).parts
            ]
            where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
            failures.append(f"weir.{name}: {type(exc).__name__}: {exc}{where}")
    assert not failures, (
        f"{len(failures)} of {len(weir.__all__)} names in weir.__all__ fail to load:\n"
        + "\n".join(failures)
    )


def test_all_is_sorted_unique_and_public() -> None:
    assert weir.__all__ == sorted(set(weir.__all__))
    assert all(not name.startswith("_") for name in weir.__all__)
    assert {"asset", "Definitions", "materialize", "AssetKey", "WeirError"} <= set(weir.__all__)


def test_dir_lists_every_exported_name() -> None:
    missing = set(weir.__all__) - set(dir(weir))
    assert not missing, f"dir(weir) lacks {sorted(missing)}"


def test_unknown_attribute_raises_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        weir.no_such_name  # noqa: B018
    assert not hasattr(weir, "materialise")


def test_version_matches_the_installed_distribution() -> None:
    assert weir.__version__ == importlib.metadata.version("weir")


def _modules_after(code: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"{code!r} failed:\n{proc.stderr}"
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in loaded} & set(HEAVY_MODULES))


def test_import_weir_does_not_import_heavy_libraries() -> None:
    loaded = _modules_after("import weir")
    assert "weir" in loaded  # the probe saw a real import
    heavy = _heavy(loaded)
    assert not heavy, f"`import weir` imported {heavy}; import them where a feature needs them"


def test_heavy_probe_sees_a_heavy_import() -> None:
    # pydantic is a dependency of weir, so it is installed: the probe must report it once imported
    assert _heavy(_modules_after("import weir, pydantic")) == ["pydantic"]
