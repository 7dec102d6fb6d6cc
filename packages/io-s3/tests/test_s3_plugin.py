"""The plugin: found through the ``weir.plugins`` entry point, import-light, exports in step."""

from __future__ import annotations

import subprocess
import sys

import pytest

import weir_io_s3
from weir.plugins import PluginRegistry, get_plugin_manager
from weir_io_s3 import S3ParquetIOManager, S3PickleIOManager, S3Resource


@pytest.fixture
def registry() -> PluginRegistry:
    return PluginRegistry(get_plugin_manager())


def test_entry_point_registers_the_io_managers_and_resource(registry: PluginRegistry) -> None:
    assert registry.io_managers().get("s3_pickle") is S3PickleIOManager
    assert registry.io_managers().get("s3_parquet") is S3ParquetIOManager
    assert registry.resources().get("s3") is S3Resource


def test_plugin_and_package_are_import_light() -> None:
    code = (
        "import sys, weir_io_s3, weir_io_s3.plugin, weir_io_s3.testing\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pydantic', 'pandas', 'pyarrow', 'polars', 'moto') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_resolves() -> None:
    for name in weir_io_s3.__all__:
        assert getattr(weir_io_s3, name) is not None
    assert sorted(weir_io_s3.__all__) == sorted(weir_io_s3._EXPORTS)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        weir_io_s3.Nope  # noqa: B018
