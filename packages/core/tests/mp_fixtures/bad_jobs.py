"""Pointers that cannot become jobs, for the error messages of ``reconstructable``."""

from __future__ import annotations

from typing import Any

import weir as dg


def unresolved() -> Any:
    """Returns the unresolved job from define_asset_job instead of the resolved one."""
    return dg.define_asset_job("unresolved_job")
