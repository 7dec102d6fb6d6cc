"""Test helpers for weir code and plugins.

* :class:`~weir.testing.io_manager_contract.IOManagerContract` -- the contract suite every IO
  manager package reuses: subclass it in a ``Test...`` class and provide the IO manager.

Names load lazily, so ``import weir.testing`` does not import pytest; only the contract module
(which defines pytest fixtures) does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir.testing.io_manager_contract import IOManagerContract

__all__ = ["IOManagerContract"]

_EXPORTS = {"IOManagerContract": "weir.testing.io_manager_contract"}


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
