"""The helpers of the storage contract suite: building runs and events, storing them, comparing.

:class:`ContractHelpers` is the base of every part of
:class:`~weir.testing.storage_contract.InstanceStorageContract`; its methods (``make_run``,
``add_run``, ``event``, ``materialization``, ``check_evaluation``, ``store`` ...) are part of the
suite's public surface, so backend test modules reuse them to write their own tests.
:func:`assert_same_fields` compares a stored value with what was written, field by field.
"""

from __future__ import annotations

import enum
import time
import uuid
from typing import Any

from weir._execution.events import (
    AssetCheckEvaluationPlanned,
    AssetMaterializationPlannedData,
    AssetObservationData,
    DagsterEvent,
    StepMaterializationData,
)
from weir._execution.run import DagsterRun
from weir._instance.records import EventLogEntry, RunRecord, RunsFilter
from weir._instance.storage import InstanceStorage
from weir._model.asset_checks import AssetCheckEvaluation
from weir._model.asset_key import AssetKey
from weir._model.results import AssetMaterialization, AssetObservation

__all__ = [
    "ContractHelpers",
    "PlannedCheckData",
    "as_key",
    "assert_same_fields",
    "run_ids_of",
    "wait_past",
]

# The engine's planned-check payload under the name this suite used before the engine had one
# (test_sql_storage.py imports it); new code should use AssetCheckEvaluationPlanned itself.
PlannedCheckData = AssetCheckEvaluationPlanned


def _slots(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__weakref__", "__dict__") and name not in names:
                names.append(name)
    return names


def assert_same_fields(actual: Any, expected: Any, where: str = "value") -> None:
    """Assert ``actual`` has ``expected``'s type and, recursively, every field equal.

    Objects are compared attribute by attribute (``__slots__`` and ``__dict__``), containers item by
    item, so a failure names the exact field (``entry.dagster_event.pid``) that did not survive.
    Dict key order is not compared (JSON columns may reorder keys).
    """
    if type(actual) is not type(expected):
        msg = f"{where}: expected a {type(expected).__name__} ({expected!r}), got a {type(actual).__name__} ({actual!r})"
        raise AssertionError(msg)
    if expected is None or isinstance(expected, (str, int, float, bytes, enum.Enum)):
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_same_fields(actual[key], value, f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_same_fields(got, want, f"{where}[{i}]")
    elif isinstance(expected, (set, frozenset)):
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    else:
        names = _slots(type(expected)) + sorted(getattr(expected, "__dict__", {}))
        if not names:  # a field-less value (e.g. MetadataValue.null()): its type is all there is
            assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"
        for name in names:
            assert_same_fields(getattr(actual, name), getattr(expected, name), f"{where}.{name}")


def as_key(value: Any) -> AssetKey:
    """``value`` as an ``AssetKey`` (keys pass through; strings and paths are coerced)."""
    return value if isinstance(value, AssetKey) else AssetKey.from_coercible(value)


def wait_past(timestamp: float) -> None:
    """Sleep (a few ms at most) until the clock is clearly past ``timestamp``."""
    while time.time() <= timestamp + 0.002:
        time.sleep(0.001)


def run_ids_of(records: list[RunRecord]) -> list[str]:
    """The run ids of ``records``, in their order."""
    return [r.dagster_run.run_id for r in records]


class ContractHelpers:
    """Builders and shortcuts shared by the parts of the storage contract suite."""

    job_name = "contract_job"

    # -- helpers: runs -----------------------------------------------------------------------------
    def make_run(self, run_id: str | None = None, **fields: Any) -> DagsterRun:
        """A ``DagsterRun`` of ``job_name`` (any ``DagsterRun`` keyword may be given)."""
        fields.setdefault("job_name", self.job_name)
        return DagsterRun(run_id=run_id or uuid.uuid4().hex, **fields)

    def add_run(
        self, storage: InstanceStorage, run_id: str | None = None, **fields: Any
    ) -> RunRecord:
        return storage.add_run(self.make_run(run_id, **fields))

    def add_runs_in_order(
        self, storage: InstanceStorage, *run_ids: str, **fields: Any
    ) -> list[RunRecord]:
        """Add runs whose create timestamps are strictly increasing (a few ms apart)."""
        records: list[RunRecord] = []
        for run_id in run_ids:
            if records:
                wait_past(records[-1].create_timestamp)
            records.append(self.add_run(storage, run_id, **fields))
        return records

    def run_record(self, storage: InstanceStorage, run_id: str) -> RunRecord:
        found = storage.get_run_records(RunsFilter(run_ids=[run_id]))
        assert len(found) == 1, f"expected run {run_id!r} to be stored once, got {found!r}"
        return found[0]

    # -- helpers: events -----------------------------------------------------------------------------
    def event(
        self,
        run_id: str,
        event_type: str,
        data: Any = None,
        *,
        step_key: str | None = None,
        message: str | None = None,
        timestamp: float | None = None,
        pid: int | None = None,
        logging_tags: dict[str, str] | None = None,
    ) -> EventLogEntry:
        """A stored-form engine event: ``EventLogEntry.from_event(run_id, DagsterEvent(...))``."""
        event = DagsterEvent(
            event_type,
            self.job_name,
            step_key,
            message if message is not None else f"{event_type} event",
            data,
            logging_tags=logging_tags,
            pid=pid,
        )
        return EventLogEntry.from_event(run_id, event, timestamp)

    def log_message(
        self, run_id: str, message: str, *, level: int = 20, timestamp: float | None = None
    ) -> EventLogEntry:
        """A plain ``context.log`` line (no ``DagsterEvent``)."""
        return EventLogEntry(None, level, message, run_id, timestamp, "a_step", self.job_name, None)

    def materialization(
        self, run_id: str, asset_key: Any, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = StepMaterializationData(AssetMaterialization(as_key(asset_key), partition=partition))
        return self.event(run_id, "ASSET_MATERIALIZATION", data, step_key="a_step", **kw)

    def observation(
        self, run_id: str, asset_key: Any, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = AssetObservationData(AssetObservation(as_key(asset_key), partition=partition))
        return self.event(run_id, "ASSET_OBSERVATION", data, step_key="a_step", **kw)

    def planned_materialization(
        self, run_id: str, asset_key: Any, partition: str | None = None
    ) -> EventLogEntry:
        data = AssetMaterializationPlannedData(as_key(asset_key), partition)
        return self.event(run_id, "ASSET_MATERIALIZATION_PLANNED", data)

    def planned_check_data(
        self, asset_key: AssetKey, check_name: str, partition: str | None
    ) -> Any:
        """The ``ASSET_CHECK_EVALUATION_PLANNED`` payload, as the engine builds it."""
        return AssetCheckEvaluationPlanned(asset_key, check_name, partition)

    def check_planned(
        self, run_id: str, asset_key: Any, check_name: str, partition: str | None = None, **kw: Any
    ) -> EventLogEntry:
        data = self.planned_check_data(as_key(asset_key), check_name, partition)
        return self.event(run_id, "ASSET_CHECK_EVALUATION_PLANNED", data, **kw)

    def check_evaluation(
        self,
        run_id: str,
        asset_key: Any,
        check_name: str,
        passed: bool = True,
        partition: str | None = None,
        **kw: Any,
    ) -> EventLogEntry:
        data = AssetCheckEvaluation(as_key(asset_key), check_name, passed, partition=partition)
        return self.event(run_id, "ASSET_CHECK_EVALUATION", data, step_key="a_check", **kw)

    def store(self, storage: InstanceStorage, *entries: EventLogEntry) -> list[int]:
        ids = storage.store_events(list(entries))
        assert ids is not None, "an unconditional store_events must return the storage ids"
        return ids

    def _fetch_ids(self, storage: InstanceStorage, types: list[str], **kw: Any) -> list[int]:
        return [r.storage_id for r in storage.fetch_event_records(types, **kw)]
