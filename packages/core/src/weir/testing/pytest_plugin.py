"""weir's pytest plugin (entry point ``pytest11``): assertion rewriting for the contract suites.

The contract suites in :mod:`weir.testing` are imported by test modules, which pytest does not
rewrite by default; registering them here makes their failures show the values compared. The
storage contract's tests live in private modules (``_contract_*``) that its public module
combines, so those are registered too.
"""

from __future__ import annotations

import pytest

__all__: list[str] = []

pytest.register_assert_rewrite(
    "weir.testing.io_manager_contract",
    "weir.testing.storage_contract",
    "weir.testing._contract_helpers",
    "weir.testing._contract_runs",
    "weir.testing._contract_events",
    "weir.testing._contract_assets",
    "weir.testing._contract_state",
)
