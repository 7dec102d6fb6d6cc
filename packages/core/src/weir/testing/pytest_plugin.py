"""weir's pytest plugin (entry point ``pytest11``): assertion rewriting for the contract suites.

The contract suites in :mod:`weir.testing` are imported by test modules, which pytest does not
rewrite by default; registering them here makes their failures show the values compared.
"""

from __future__ import annotations

import pytest

__all__: list[str] = []

pytest.register_assert_rewrite("weir.testing.io_manager_contract", "weir.testing.storage_contract")
