"""The weir plugin of ``weir-resource-postgres`` (entry point ``postgres`` in group ``weir.plugins``).

Registers :class:`~weir_resource_postgres.io_manager.PostgresPandasIOManager` (``"postgres_pandas"``),
:class:`~weir_resource_postgres.resource.PostgresResource` (``"postgres"``) and the instance storage
for ``postgresql://`` and ``postgresql+psycopg://`` URLs. Import-light: the classes are imported
inside the hook functions, so loading the plugin costs nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from weir import hookimpl

__all__ = [
    "WEIR_STORAGE_SCHEMES",
    "weir_register_io_managers",
    "weir_register_resources",
    "weir_storage_for_url",
]

WEIR_STORAGE_SCHEMES: tuple[str, ...] = ("postgresql", "postgresql+psycopg")
"""The storage URL schemes this plugin answers ``weir_storage_for_url`` for."""


@hookimpl
def weir_register_io_managers() -> list[type[Any]]:
    """Register ``PostgresPandasIOManager`` under ``"postgres_pandas"``."""
    from weir_resource_postgres.io_manager import PostgresPandasIOManager

    return [PostgresPandasIOManager]


@hookimpl
def weir_register_resources() -> list[type[Any]]:
    """Register ``PostgresResource`` under ``"postgres"``."""
    from weir_resource_postgres.resource import PostgresResource

    return [PostgresResource]


@hookimpl
def weir_storage_for_url(url: str) -> Any | None:
    """A ``PostgresInstanceStorage`` for ``postgresql://`` / ``postgresql+psycopg://`` URLs, else None."""
    if urlsplit(url).scheme.lower() not in WEIR_STORAGE_SCHEMES:
        return None
    from weir_resource_postgres.storage import PostgresInstanceStorage

    return PostgresInstanceStorage(url)
