"""Built-in plugin: the SQLite instance storage for ``sqlite://`` URLs.

Registered last-resort (``trylast``), so a third-party plugin may claim SQLite URLs first. The
storage module (and SQLAlchemy with it) is imported only when a ``sqlite://`` URL is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from weir.hookspecs import hookimpl

if TYPE_CHECKING:
    from weir._instance.sqlite_storage import SqliteInstanceStorage

__all__ = ["WEIR_STORAGE_SCHEMES", "weir_storage_for_url"]

WEIR_STORAGE_SCHEMES = ["sqlite"]
"""URL schemes this plugin answers (``sqlite://`` and ``sqlite+pysqlite://``)."""


@hookimpl(trylast=True)
def weir_storage_for_url(url: str) -> SqliteInstanceStorage | None:
    """Open a ``SqliteInstanceStorage`` for a ``sqlite:///path/to/weir.db`` URL; None otherwise."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("sqlite", "sqlite+pysqlite"):
        return None
    from weir._instance.sqlite_storage import SqliteInstanceStorage

    return SqliteInstanceStorage(url)
