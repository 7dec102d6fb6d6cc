"""PostgreSQL for weir: a resource, a partition-aware pandas IO manager, and instance storage.

* :class:`PostgresResource` -- psycopg 3 connections (``get_connection()``) and a SQLAlchemy engine
  (``get_engine()``) from pydantic config; the password is a secret.
* :class:`PostgresPandasIOManager` -- DataFrames as tables (Dagster's DuckDB mapping), one
  transaction per output, partitions replaced with DELETE + COPY.
* :class:`PostgresInstanceStorage` -- the instance storage for ``postgresql://`` URLs (found through
  the ``weir_storage_for_url`` hook).

Names load lazily: importing the package (which the plugin loader does) imports neither pydantic,
psycopg, SQLAlchemy nor pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir_resource_postgres.io_manager import (
        PostgresPandasIOManager,
        PostgresTableNotFoundError,
        PostgresWriteError,
    )
    from weir_resource_postgres.resource import PostgresConnectionError, PostgresResource
    from weir_resource_postgres.storage import PostgresInstanceStorage

__all__ = [
    "PostgresConnectionError",
    "PostgresInstanceStorage",
    "PostgresPandasIOManager",
    "PostgresResource",
    "PostgresTableNotFoundError",
    "PostgresWriteError",
]

__version__ = "0.1.0"

_EXPORTS = {
    "PostgresConnectionError": "weir_resource_postgres.resource",
    "PostgresResource": "weir_resource_postgres.resource",
    "PostgresPandasIOManager": "weir_resource_postgres.io_manager",
    "PostgresTableNotFoundError": "weir_resource_postgres.io_manager",
    "PostgresWriteError": "weir_resource_postgres.io_manager",
    "PostgresInstanceStorage": "weir_resource_postgres.storage",
}

__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
