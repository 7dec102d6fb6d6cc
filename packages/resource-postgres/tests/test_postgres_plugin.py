"""The plugin: registered through the ``weir.plugins`` entry point, import-light, storage URLs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from weir.plugins import PluginRegistry, get_plugin_manager
from weir_resource_postgres import (
    PostgresInstanceStorage,
    PostgresPandasIOManager,
    PostgresResource,
    plugin,
)


@pytest.fixture
def registry() -> PluginRegistry:
    return PluginRegistry(get_plugin_manager())


def test_entry_point_registers_the_io_manager_and_resource(registry: PluginRegistry) -> None:
    assert registry.io_managers().get("postgres_pandas") is PostgresPandasIOManager
    assert registry.resources().get("postgres") is PostgresResource


def test_storage_for_postgres_urls(registry: PluginRegistry) -> None:
    for url in ("postgresql://u:pw@db.example:5432/weir", "postgresql+psycopg://u@db.example/weir"):
        storage = registry.storage_for_url(url)
        try:
            assert isinstance(storage, PostgresInstanceStorage)
            assert "pw" not in repr(storage)
        finally:
            storage.dispose()


def test_other_schemes_are_left_to_other_plugins() -> None:
    assert plugin.weir_storage_for_url("sqlite:///x.db") is None
    assert plugin.weir_storage_for_url("mysql://u@h/db") is None
    assert set(plugin.WEIR_STORAGE_SCHEMES) == {"postgresql", "postgresql+psycopg"}


def test_plugin_module_is_import_light() -> None:
    code = (
        "import sys, weir_resource_postgres.plugin\n"
        "heavy = [m for m in ('psycopg', 'sqlalchemy', 'pandas', 'pyarrow', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
