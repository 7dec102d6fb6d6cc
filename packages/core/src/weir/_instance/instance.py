"""The instance: where runs, events and stored values live.

This module holds the in-memory instance used by ``materialize`` and tests, and the on-disk
layout (``WEIR_HOME``). Durable SQL storage (SQLite by default, PostgreSQL via plugin) arrives
with the instance issue and plugs in behind the same methods.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from weir._execution.events import DagsterEvent
from weir._execution.run import DagsterRun, DagsterRunStatus

__all__ = ["DagsterInstance", "Instance"]

logger = logging.getLogger(__name__)

_process_temp_root: str | None = None
_temp_lock = threading.Lock()


def _process_temp_home() -> str:
    """One temporary home per process for ephemeral instances, removed at exit."""
    global _process_temp_root
    with _temp_lock:
        if _process_temp_root is None:
            _process_temp_root = tempfile.mkdtemp(prefix="weir-ephemeral-")
            atexit.register(shutil.rmtree, _process_temp_root, True)
        return _process_temp_root


def default_home() -> str | None:
    """``$WEIR_HOME``, else ``$DAGSTER_HOME`` (so a ported project keeps its layout), else None."""
    return os.environ.get("WEIR_HOME") or os.environ.get("DAGSTER_HOME") or None


class Instance:
    """Runs, the event log and the storage directory of a weir deployment.

    ``Instance.ephemeral()`` keeps runs and events in memory; its storage directory is
    ``$WEIR_HOME/storage`` when ``WEIR_HOME`` (or ``DAGSTER_HOME``) is set, else a per-process
    temporary directory. ``Instance.get()`` uses ``$WEIR_HOME`` (default ``./.weir``).
    """

    def __init__(
        self, root_directory: str | os.PathLike[str] | None, *, is_ephemeral: bool = True
    ) -> None:
        self._root = str(root_directory) if root_directory is not None else None
        self._is_ephemeral = is_ephemeral
        self._runs: dict[str, DagsterRun] = {}
        self._events: dict[str, list[DagsterEvent]] = {}
        self._lock = threading.Lock()

    # -- constructors -----------------------------------------------------------------------
    @staticmethod
    def ephemeral(
        tempdir: str | None = None, preload: Sequence[Any] | None = None, settings: Any = None
    ) -> Instance:
        return Instance(tempdir or default_home(), is_ephemeral=True)

    @staticmethod
    def get() -> Instance:
        home = default_home() or os.path.join(os.getcwd(), ".weir")
        os.makedirs(home, exist_ok=True)
        return Instance(home, is_ephemeral=False)

    @staticmethod
    def local_temp(tempdir: str | None = None, overrides: Any = None) -> Instance:
        return Instance(tempdir or tempfile.mkdtemp(prefix="weir-instance-"), is_ephemeral=False)

    # -- layout -----------------------------------------------------------------------------
    @property
    def is_ephemeral(self) -> bool:
        return self._is_ephemeral

    @property
    def root_directory(self) -> str:
        return self._root or _process_temp_home()

    def storage_directory(self) -> str:
        return str(Path(self.root_directory) / "storage")

    # -- runs and events ----------------------------------------------------------------------
    def add_run(self, run: DagsterRun) -> DagsterRun:
        with self._lock:
            self._runs[run.run_id] = run
            self._events.setdefault(run.run_id, [])
        return run

    def handle_run_status(self, run_id: str, status: DagsterRunStatus) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.status = status

    def store_events(self, run_id: str, events: Sequence[DagsterEvent]) -> None:
        with self._lock:
            self._events.setdefault(run_id, []).extend(events)

    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        return self._runs.get(run_id)

    def has_run(self, run_id: str) -> bool:
        return run_id in self._runs

    def get_runs(self, filters: Any = None, limit: int | None = None) -> list[DagsterRun]:
        runs = list(reversed(self._runs.values()))
        return runs[:limit] if limit is not None else runs

    def get_runs_count(self, filters: Any = None) -> int:
        return len(self._runs)

    def all_logs(self, run_id: str, of_type: Any = None) -> list[DagsterEvent]:
        events = list(self._events.get(run_id, []))
        if of_type is not None:
            wanted = (
                {of_type}
                if not isinstance(of_type, (set, frozenset, list, tuple))
                else set(of_type)
            )
            events = [e for e in events if e.event_type in wanted]
        return events

    def get_latest_materialization_event(self, asset_key: Any) -> DagsterEvent | None:
        latest = None
        for events in self._events.values():
            for event in events:
                if (
                    event.event_type_value == "ASSET_MATERIALIZATION"
                    and event.asset_key == asset_key
                ):
                    latest = event
        return latest

    def __repr__(self) -> str:
        kind = "ephemeral" if self._is_ephemeral else "persistent"
        return f"Instance({kind}, root={self._root or '<per-process temp>'})"


DagsterInstance = Instance
