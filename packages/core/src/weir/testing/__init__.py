"""Test helpers for weir code and plugins.

* :class:`~weir.testing.io_manager_contract.IOManagerContract` -- the contract suite every IO
  manager package reuses: subclass it in a ``Test...`` class and provide the IO manager.
* :class:`~weir.testing.storage_contract.InstanceStorageContract` -- the contract suite every
  instance storage (memory, SQLite, PostgreSQL, a plugin's) passes: provide a ``storage`` fixture.

weir registers a pytest plugin (``weir.testing.pytest_plugin``) that turns on pytest's assertion
rewriting for these suites, so their failures show the compared values.

Names load lazily, so ``import weir.testing`` does not import pytest; only the contract module
(which defines pytest fixtures) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir.testing.io_manager_contract import IOManagerContract
    from weir.testing.storage_contract import InstanceStorageContract

__all__ = ["IOManagerContract", "InstanceStorageContract"]

_EXPORTS = {
    "IOManagerContract": "weir.testing.io_manager_contract",
    "InstanceStorageContract": "weir.testing.storage_contract",
}

__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
