"""The ``weir`` command line (distribution ``weir-cli``).

The console script ``weir`` runs :data:`weir_cli.main.cli`, a click group. Plugins add
sub-commands through the ``weir_register_commands`` hook. Importing this package is cheap: the
group and its commands load on first access of :data:`cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir.lazy import lazy_dir, lazy_getattr

if TYPE_CHECKING:
    from weir_cli.main import cli

__version__ = "0.1.0"

__all__ = ["cli"]

_EXPORTS = {"cli": "weir_cli.main"}

__getattr__ = lazy_getattr(globals(), _EXPORTS)

__dir__ = lazy_dir(globals(), _EXPORTS)
