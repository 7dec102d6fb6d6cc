"""Amazon S3 for weir: a resource and two IO managers in Dagster's key layout.

* :class:`S3Resource` -- a boto3 S3 client (``get_client()``) from Dagster's fields: region,
  endpoint URL, credentials (masked everywhere), retries, SSL.
* :class:`S3PickleIOManager` (alias ``ConfigurablePickledObjectS3IOManager``) -- pickles each
  output to ``s3://<bucket>/<prefix>/<asset key...>[/<partition>]``, op outputs to
  ``<prefix>/storage/<run_id>/<step>/<output>``.
* :class:`S3ParquetIOManager` -- pandas DataFrames, pyarrow Tables and polars frames as Parquet
  objects, ``<prefix>/<asset key...>[/<partition>].parquet``.
* ``s3_resource`` / ``s3_pickle_io_manager`` / :class:`PickledObjectS3IOManager` -- Dagster's
  function-style definitions (the resource's value is a boto3 client), for ported legacy code.
* :class:`AWSCredentialsLogFilter` -- an opt-in logging filter masking AWS credentials in
  botocore's DEBUG wire trace (weir never touches botocore's loggers itself).

Large objects go up as multipart uploads; transient errors are retried by botocore. Names load
lazily: importing the package (which the plugin loader does) imports neither pydantic, boto3,
pandas, pyarrow nor polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir_io_s3._object_io import (
        S3ObjectIOManager,
        S3ObjectNotFoundError,
        S3SerializationError,
    )
    from weir_io_s3.legacy import PickledObjectS3IOManager, s3_pickle_io_manager, s3_resource
    from weir_io_s3.log_filter import AWSCredentialsLogFilter
    from weir_io_s3.parquet_io_manager import S3ParquetIOManager
    from weir_io_s3.pickle_io_manager import (
        ConfigurablePickledObjectS3IOManager,
        S3PickleIOManager,
    )
    from weir_io_s3.resource import S3AccessError, S3Resource

__all__ = [
    "AWSCredentialsLogFilter",
    "ConfigurablePickledObjectS3IOManager",
    "PickledObjectS3IOManager",
    "S3AccessError",
    "S3ObjectIOManager",
    "S3ObjectNotFoundError",
    "S3ParquetIOManager",
    "S3PickleIOManager",
    "S3Resource",
    "S3SerializationError",
    "s3_pickle_io_manager",
    "s3_resource",
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
    "PickledObjectS3IOManager": "weir_io_s3.legacy",
    "s3_pickle_io_manager": "weir_io_s3.legacy",
    "s3_resource": "weir_io_s3.legacy",
    "AWSCredentialsLogFilter": "weir_io_s3.log_filter",
}


__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
