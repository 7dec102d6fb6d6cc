"""Amazon S3 for weir: a resource and two IO managers in Dagster's key layout.

* :class:`S3Resource` -- a boto3 S3 client (``get_client()``) from Dagster's fields: region,
  endpoint URL, credentials (masked everywhere), retries, SSL.
* :class:`S3PickleIOManager` (alias ``ConfigurablePickledObjectS3IOManager``) -- pickles each
  output to ``s3://<bucket>/<prefix>/<asset key...>[/<partition>]``, op outputs to
  ``<prefix>/storage/<run_id>/<step>/<output>``.
* :class:`S3ParquetIOManager` -- pandas DataFrames and pyarrow Tables as Parquet objects,
  ``<prefix>/<asset key...>[/<partition>].parquet``.

Large objects go up as multipart uploads; transient errors are retried by botocore. Names load
lazily: importing the package (which the plugin loader does) imports neither pydantic, boto3,
pandas nor pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir_io_s3._object_io import (
        S3ObjectIOManager,
        S3ObjectNotFoundError,
        S3SerializationError,
    )
    from weir_io_s3.parquet_io_manager import S3ParquetIOManager
    from weir_io_s3.pickle_io_manager import (
        ConfigurablePickledObjectS3IOManager,
        S3PickleIOManager,
    )
    from weir_io_s3.resource import S3AccessError, S3Resource

__all__ = [
    "ConfigurablePickledObjectS3IOManager",
    "S3AccessError",
    "S3ObjectIOManager",
    "S3ObjectNotFoundError",
    "S3ParquetIOManager",
    "S3PickleIOManager",
    "S3Resource",
    "S3SerializationError",
]

__version__ = "0.1.0"

_EXPORTS = {
    "S3AccessError": "weir_io_s3.resource",
    "S3Resource": "weir_io_s3.resource",
    "S3ObjectIOManager": "weir_io_s3._object_io",
    "S3ObjectNotFoundError": "weir_io_s3._object_io",
    "S3SerializationError": "weir_io_s3._object_io",
    "S3PickleIOManager": "weir_io_s3.pickle_io_manager",
    "ConfigurablePickledObjectS3IOManager": "weir_io_s3.pickle_io_manager",
    "S3ParquetIOManager": "weir_io_s3.parquet_io_manager",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
