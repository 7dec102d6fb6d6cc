"""The instance storage contract: behaviour every storage backend must have, as pytest tests.

A backend (memory, SQLite, PostgreSQL, a plugin's) subclasses :class:`InstanceStorageContract` in
a class whose name starts with ``Test`` and says how to make a fresh, empty storage, either by
overriding the ``storage`` fixture (it may use other fixtures, and tears the storage down) or the
``make_storage`` method (the default fixture calls ``dispose()`` afterwards)::

    from weir.testing import InstanceStorageContract


    class TestSqliteStorage(InstanceStorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            storage = SqliteInstanceStorage(f"sqlite:///{tmp_path / 'weir.db'}")
            storage.upgrade()
            yield storage
            storage.dispose()

Every method of :class:`~weir._instance.storage.InstanceStorage` is tested to the letter of its
docstring. Where the docstrings leave a choice open, the suite decides, and the test that pins a
decision says so in its docstring (search for "Decision:"). Stored values are compared field by
field with what was written, never by identity, so a backend that serializes must keep every field.

The decisions, in short: runs are ordered by storage id (the order they were added); every bound
(created/updated, storage id, timestamp) is exclusive; an empty filter list means "no filter" (as
in Dagster) while ``limit=0`` means no rows; a run cursor naming no stored run selects nothing;
``update_timestamp`` is the write time of the last lifecycle event or tag change; start/end
times are the lifecycle entries' timestamps; events of runs that are not stored are kept; asset
keys sort by ``AssetKey.to_string()`` in code-point order; wiping an asset deletes every event
carrying its key and its check executions; an evaluation completes the PLANNED execution of the
same run, check and partition, else adds one; replacing a state keeps its id; state and tick
bodies are JSON; ticks come newest timestamp first; updating or deleting an absent record is no
error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weir._instance.storage import InstanceStorage
from weir.testing._contract_assets import AssetsContract
from weir.testing._contract_events import EventsContract
from weir.testing._contract_helpers import PlannedCheckData, assert_same_fields
from weir.testing._contract_runs import RunsContract
from weir.testing._contract_state import StateContract

__all__ = ["InstanceStorageContract", "PlannedCheckData", "assert_same_fields"]


# pytest collects inherited tests base class first (reverse MRO), so listing the parts in reverse
# keeps the suite's order: runs, events, assets, state.
class InstanceStorageContract(StateContract, AssetsContract, EventsContract, RunsContract):
    """Base class of the storage contract suite (not collected itself: no ``Test`` prefix)."""

    # -- what a subclass provides ----------------------------------------------------------------
    def make_storage(self) -> InstanceStorage:
        """A fresh, empty storage. Override this or the ``storage`` fixture."""
        msg = (
            f"{type(self).__name__} must say how to build the storage under test: override the "
            "`storage` fixture or the `make_storage()` method."
        )
        raise NotImplementedError(msg)

    @pytest.fixture
    def storage(self) -> Iterator[InstanceStorage]:
        """The storage under test (by default ``make_storage()``, disposed afterwards)."""
        storage = self.make_storage()
        try:
            yield storage
        finally:
            storage.dispose()
