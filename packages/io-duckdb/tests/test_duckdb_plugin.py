"""The plugin: registered through the ``weir.plugins`` entry point, import-light, lazy exports."""

from __future__ import annotations

import subprocess
import sys

import pytest

import weir as dg
import weir_io_duckdb
from weir.plugins import PluginRegistry, get_plugin_manager
from weir_io_duckdb import (
    DuckDBPandasIOManager,
    DuckDBPolarsIOManager,
    DuckDBPyArrowIOManager,
    DuckDBResource,
)


@pytest.fixture
def registry() -> PluginRegistry:
    return PluginRegistry(get_plugin_manager())


def test_entry_point_registers_the_io_managers_and_resource(registry: PluginRegistry) -> None:
    io_managers = registry.io_managers()
    assert io_managers.get("duckdb_pandas") is DuckDBPandasIOManager
    assert io_managers.get("duckdb_pyarrow") is DuckDBPyArrowIOManager
    assert io_managers.get("duckdb_polars") is DuckDBPolarsIOManager  # polars is installed here
    assert registry.resources().get("duckdb") is DuckDBResource


def test_package_and_plugin_imports_are_light() -> None:
    code = (
        "import sys, weir_io_duckdb, weir_io_duckdb.plugin\n"
        "heavy = [m for m in ('duckdb', 'pandas', 'pyarrow', 'polars', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve_and_unknown_names_fail() -> None:
    for name in weir_io_duckdb.__all__:
        value = getattr(weir_io_duckdb, name)
        if isinstance(value, dg.IOManagerDefinition):  # the legacy definitions are objects
            assert name.startswith("duckdb_") and name.endswith("_io_manager")
        else:
            assert value.__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        weir_io_duckdb.Nope  # noqa: B018
