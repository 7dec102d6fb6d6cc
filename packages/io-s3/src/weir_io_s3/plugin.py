"""The weir plugin of ``weir-io-s3`` (entry point ``s3`` in group ``weir.plugins``).

Registers :class:`~weir_io_s3.S3PickleIOManager` (``"s3_pickle"``),
:class:`~weir_io_s3.S3ParquetIOManager` (``"s3_parquet"``) and :class:`~weir_io_s3.S3Resource`
(``"s3"``). Import-light: the classes are imported inside the hook functions, so loading the
plugin imports neither boto3, pydantic nor pandas.
"""

from __future__ import annotations

from typing import Any

from weir import hookimpl

__all__ = ["weir_register_io_managers", "weir_register_resources"]


@hookimpl
def weir_register_io_managers() -> list[type[Any]]:
    """Register ``S3PickleIOManager`` (``"s3_pickle"``) and ``S3ParquetIOManager`` (``"s3_parquet"``)."""
    from weir_io_s3.parquet_io_manager import S3ParquetIOManager
    from weir_io_s3.pickle_io_manager import S3PickleIOManager

    return [S3PickleIOManager, S3ParquetIOManager]


@hookimpl
def weir_register_resources() -> list[type[Any]]:
    """Register ``S3Resource`` under ``"s3"``."""
    from weir_io_s3.resource import S3Resource

    return [S3Resource]
