"""Lazy module attributes (PEP 562): a name is imported from its module on first access, then cached.

For packages built on weir too: a plugin's ``__init__`` lists its public names and the modules
they live in, so that importing the package (which the plugin loader does) imports nothing heavy::

    from weir.lazy import lazy_dir, lazy_getattr

    _EXPORTS = {"DuckDBResource": "weir_io_duckdb.resource"}
    __getattr__ = lazy_getattr(globals(), _EXPORTS)
    __dir__ = lazy_dir(globals(), _EXPORTS)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_dir", "lazy_getattr"]


def lazy_getattr(namespace: dict[str, Any], table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that resolves ``name`` from ``table[name]`` (a module path, absolute or
    relative to the module owning ``namespace``) and caches it in ``namespace``.

    Usage at the end of a module: ``__getattr__ = lazy_getattr(globals(), {"Name": "pkg.mod"})``.
    """
    owner = namespace["__name__"]
    package = namespace.get("__package__") or owner

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            msg = f"module {owner!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    return __getattr__


def lazy_dir(namespace: dict[str, Any], table: Mapping[str, str]) -> Callable[[], list[str]]:
    """A module ``__dir__`` listing the module's globals and the lazy names of ``table``."""

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __dir__
