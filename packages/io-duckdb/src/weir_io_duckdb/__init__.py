"""DuckDB for weir: a resource and partition-aware IO managers for pandas, pyarrow and polars.

* :class:`DuckDBResource` -- ``get_connection()`` to a DuckDB file, through a lane that waits for
  the file lock another process holds instead of failing.
* :class:`DuckDBPandasIOManager` (and :class:`DuckDBPyArrowIOManager`,
  :class:`DuckDBPolarsIOManager`) -- frames as tables with Dagster's table mapping, one
  transaction per output, partitions replaced with DELETE + INSERT through Arrow.
* :class:`DuckDBIOManager` and :class:`DbTypeHandler` -- build a manager for other types.

Names load lazily: importing the package (which the plugin loader does) imports neither
pydantic, duckdb, pandas, pyarrow nor polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir.table_slice import TablePartitionDimension, TableSlice
    from weir_io_duckdb.io_manager import (
        DuckDBIOManager,
        DuckDBPandasIOManager,
        DuckDBPolarsIOManager,
        DuckDBPyArrowIOManager,
    )
    from weir_io_duckdb.legacy import (
        PolarsNotInstalledError,
        build_duckdb_io_manager,
        duckdb_pandas_io_manager,
        duckdb_polars_io_manager,
        duckdb_pyarrow_io_manager,
    )
    from weir_io_duckdb.resource import (
        DuckDBConnectionError,
        DuckDBLockTimeoutError,
        DuckDBResource,
    )
    from weir_io_duckdb.table_slice import DuckDBTableSlice
    from weir_io_duckdb.type_handlers import (
        ArrowTypeHandler,
        DbTypeHandler,
        DuckDBPandasTypeHandler,
        DuckDBPolarsTypeHandler,
        DuckDBPyArrowTypeHandler,
        DuckDBTableNotFoundError,
        DuckDBWriteError,
    )

__all__ = [
    "ArrowTypeHandler",
    "DbTypeHandler",
    "DuckDBConnectionError",
    "DuckDBIOManager",
    "DuckDBLockTimeoutError",
    "DuckDBPandasIOManager",
    "DuckDBPandasTypeHandler",
    "DuckDBPolarsIOManager",
    "DuckDBPolarsTypeHandler",
    "DuckDBPyArrowIOManager",
    "DuckDBPyArrowTypeHandler",
    "DuckDBResource",
    "DuckDBTableSlice",
    "DuckDBTableNotFoundError",
    "DuckDBWriteError",
    "PolarsNotInstalledError",
    "TablePartitionDimension",
    "TableSlice",
    "build_duckdb_io_manager",
    "duckdb_pandas_io_manager",
    "duckdb_pyarrow_io_manager",
]
# duckdb_polars_io_manager is exported too, but not in __all__: without polars installed the
# name raises PolarsNotInstalledError, which would break `from weir_io_duckdb import *`.

__version__ = "0.1.0"

_EXPORTS = {
    "DuckDBResource": "weir_io_duckdb.resource",
    "DuckDBConnectionError": "weir_io_duckdb.resource",
    "DuckDBLockTimeoutError": "weir_io_duckdb.resource",
    "DuckDBIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPandasIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPyArrowIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPolarsIOManager": "weir_io_duckdb.io_manager",
    "ArrowTypeHandler": "weir_io_duckdb.type_handlers",
    "DbTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPandasTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPyArrowTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPolarsTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBTableNotFoundError": "weir_io_duckdb.type_handlers",
    "DuckDBWriteError": "weir_io_duckdb.type_handlers",
    "DuckDBTableSlice": "weir_io_duckdb.table_slice",
    "TablePartitionDimension": "weir.table_slice",
    "TableSlice": "weir.table_slice",
    "build_duckdb_io_manager": "weir_io_duckdb.legacy",
    "duckdb_pandas_io_manager": "weir_io_duckdb.legacy",
    "duckdb_pyarrow_io_manager": "weir_io_duckdb.legacy",
    "duckdb_polars_io_manager": "weir_io_duckdb.legacy",
    "PolarsNotInstalledError": "weir_io_duckdb.legacy",
}

__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
