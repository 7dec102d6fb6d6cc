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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir_io_duckdb._tables import TableSlice
    from weir_io_duckdb.io_manager import (
        DuckDBIOManager,
        DuckDBPandasIOManager,
        DuckDBPolarsIOManager,
        DuckDBPyArrowIOManager,
    )
    from weir_io_duckdb.resource import (
        DuckDBConnectionError,
        DuckDBLockTimeoutError,
        DuckDBResource,
    )
    from weir_io_duckdb.type_handlers import (
        DbTypeHandler,
        DuckDBPandasTypeHandler,
        DuckDBPolarsTypeHandler,
        DuckDBPyArrowTypeHandler,
        DuckDBTableNotFoundError,
        DuckDBWriteError,
    )

__all__ = [
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
    "DuckDBTableNotFoundError",
    "DuckDBWriteError",
    "TableSlice",
]

__version__ = "0.1.0"

_EXPORTS = {
    "DuckDBResource": "weir_io_duckdb.resource",
    "DuckDBConnectionError": "weir_io_duckdb.resource",
    "DuckDBLockTimeoutError": "weir_io_duckdb.resource",
    "DuckDBIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPandasIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPyArrowIOManager": "weir_io_duckdb.io_manager",
    "DuckDBPolarsIOManager": "weir_io_duckdb.io_manager",
    "DbTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPandasTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPyArrowTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBPolarsTypeHandler": "weir_io_duckdb.type_handlers",
    "DuckDBTableNotFoundError": "weir_io_duckdb.type_handlers",
    "DuckDBWriteError": "weir_io_duckdb.type_handlers",
    "TableSlice": "weir_io_duckdb._tables",
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
