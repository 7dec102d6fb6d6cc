"""The weir plugin of ``weir-io-duckdb`` (entry point ``duckdb`` in group ``weir.plugins``).

Registers the IO managers ``duckdb_pandas``, ``duckdb_pyarrow`` and, when polars is installed,
``duckdb_polars``, and the resource ``duckdb``. Import-light: the classes (and pydantic, duckdb,
pandas) are imported inside the hook functions, so loading the plugin costs nothing.
"""

from __future__ import annotations

from typing import Any

from weir import hookimpl

__all__ = ["weir_register_io_managers", "weir_register_resources"]


@hookimpl
def weir_register_io_managers() -> list[type[Any]]:
    """Register the DuckDB IO managers (``duckdb_pandas``, ``duckdb_pyarrow``, ``duckdb_polars``)."""
    from weir_io_duckdb.io_manager import (
        DuckDBPandasIOManager,
        DuckDBPolarsIOManager,
        DuckDBPyArrowIOManager,
    )
    from weir_io_duckdb.type_handlers import polars_installed

    managers: list[type[Any]] = [DuckDBPandasIOManager, DuckDBPyArrowIOManager]
    if polars_installed():
        managers.append(DuckDBPolarsIOManager)
    return managers


@hookimpl
def weir_register_resources() -> list[type[Any]]:
    """Register ``DuckDBResource`` under ``"duckdb"``."""
    from weir_io_duckdb.resource import DuckDBResource

    return [DuckDBResource]
