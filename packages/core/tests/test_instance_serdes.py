"""JSON serialization of instance records (weir._instance.serdes): round trips, format, safety."""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import math
import os
import subprocess
import sys
from typing import Any, NamedTuple

import pytest

import weir as dg
from weir._execution import events as ev
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance import records
from weir._instance.records import EventLogEntry
from weir._instance.serdes import deserialize, register_serializable, serialize
from weir._model import metadata as md
from weir._model.asset_checks import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
    AssetCheckSeverity,
)
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.retry import StepRetryData, UserFailureData
from weir.errors import PluginError, StorageError

MV = dg.MetadataValue


# -- helpers --------------------------------------------------------------------------------------


def _fields(obj: Any) -> dict[str, Any]:
    """Every slot along the MRO that is set, plus the instance __dict__."""
    out: dict[str, Any] = {}
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            try:
                out[slot] = object.__getattribute__(obj, slot)
            except AttributeError:
                pass
    out.update(getattr(obj, "__dict__", {}))
    return out


def assert_same(a: Any, b: Any, path: str = "obj") -> None:
    """``b`` has the same type as ``a`` and equal fields, all the way down."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, AssetKey):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (str, int, bytes, type(None), enum.Enum, dt.date, dt.timedelta)):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, (set, frozenset)):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            assert type(key) is type(next(k for k in b if k == key)), f"{path}: key type {key!r}"
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    else:
        fa, fb = _fields(a), _fields(b)
        assert fa.keys() == fb.keys(), f"{path}: fields {sorted(fa)} != {sorted(fb)}"
        for name in fa:
            assert_same(fa[name], fb[name], f"{path}.{name}")


def roundtrip(obj: Any) -> Any:
    text = serialize(obj)
    assert isinstance(text, str)
    json.loads(text, parse_constant=_no_constants)  # strict JSON: no NaN/Infinity literals
    assert text == json.dumps(json.loads(text), separators=(",", ":"))  # compact
    back = deserialize(text)
    assert_same(obj, back)
    assert serialize(back) == text
    return back


def _no_constants(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name} in serialized text")


# -- records from a real run ----------------------------------------------------------------------


@dg.asset(metadata={"owner": "team"})
def upstream(context) -> int:
    context.log_event(
        dg.AssetMaterialization(
            "side_table",
            description="written on the side",
            metadata={
                "rows": 3,
                "ratio": 0.25,
                "path": MV.path("/tmp/side"),
                "url": MV.url("https://example.com"),
                "nested": {"a": [1, 2, {"b": None}]},
            },
            partition="2024-01-01",
            tags={"dagster/code_version": "v1"},
        )
    )
    context.log_event(dg.AssetObservation("upstream", metadata={"seen": True}))
    return 3


@dg.asset
def downstream(upstream: int) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "rows": upstream,
            "schema": dg.TableSchema(columns=[dg.TableColumn("id", "int")]),
            "preview": MV.table([dg.TableRecord({"id": 1})]),
        }
    )


@dg.asset
def broken(upstream: int) -> int:
    try:
        raise KeyError("missing column")
    except KeyError as exc:
        raise dg.Failure(description="upstream is bad", metadata={"n": upstream}) from exc


@dg.asset_check(asset=upstream)
def upstream_is_small(upstream: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=upstream < 2,
        metadata={"value": upstream},
        severity=dg.AssetCheckSeverity.WARN,
        description="value must stay small",
    )


def test_every_event_of_a_real_run_round_trips() -> None:
    result = dg.materialize([upstream, downstream, broken, upstream_is_small], raise_on_error=False)
    events = list(result.all_events)
    kinds = {e.event_type_value for e in events}
    assert {
        "STEP_OUTPUT",
        "HANDLED_OUTPUT",
        "LOADED_INPUT",
        "STEP_INPUT",
        "ASSET_MATERIALIZATION",
        "ASSET_OBSERVATION",
        "ASSET_CHECK_EVALUATION",
        "STEP_FAILURE",
    } <= kinds
    for event in events:
        entry = EventLogEntry.from_event("run-1", event)
        back = roundtrip(entry)
        assert back.dagster_event_type == event.event_type

    failure = next(e for e in events if e.event_type_value == "STEP_FAILURE")
    back = roundtrip(EventLogEntry.from_event("run-1", failure)).get_dagster_event()
    error = back.step_failure_data.error
    assert isinstance(error, ev.SerializableErrorInfo)
    assert error.cls_name == "Failure"
    assert error.cause is not None and error.cause.cls_name == "KeyError"
    assert back.step_failure_data.user_failure_data.metadata["n"] == MV.int(3)

    side = next(
        e
        for e in events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == AssetKey("side_table")
    )
    mat = roundtrip(side).materialization
    assert mat.partition == "2024-01-01"
    assert mat.tags == {"dagster/code_version": "v1"}
    assert mat.metadata["nested"] == MV.json({"a": [1, 2, {"b": None}]})
    assert mat.asset_key is AssetKey("side_table")  # rebuilt through the constructor: interned

    check = next(e for e in events if e.event_type_value == "ASSET_CHECK_EVALUATION")
    evaluation = roundtrip(check).event_specific_data
    assert evaluation.severity is AssetCheckSeverity.WARN
    assert evaluation.asset_check_key == AssetCheckKey(AssetKey("upstream"), "upstream_is_small")

    roundtrip(result.dagster_run)


def test_plain_log_entry_without_an_event_round_trips() -> None:
    entry = EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message="hello from context.log",
        run_id="r",
        timestamp=1700000000.125,
        step_key="a",
        job_name="j",
    )
    back = roundtrip(entry)
    assert back.dagster_event is None and not back.is_dagster_event


# -- each payload class ----------------------------------------------------------------------------


def _event(kind: str, data: Any) -> EventLogEntry:
    return EventLogEntry.from_event(
        "run", ev.DagsterEvent(kind, "job", "step", "msg", data, logging_tags={"k": "v"}), 1.5
    )


def _error() -> ev.SerializableErrorInfo:
    root = ev.SerializableErrorInfo("KeyError: 'x'", ['  File "a.py", line 1\n'], "KeyError")
    ctx = ev.SerializableErrorInfo("OSError: disk", [], "OSError")
    return ev.SerializableErrorInfo(
        "ValueError: bad", ['  File "b.py", line 2\n'], "ValueError", root, ctx
    )


PAYLOADS: dict[str, Any] = {
    "StepFailureData": ev.StepFailureData(
        _error(), UserFailureData("intentional-failure", "why", {"n": MV.int(1)}), "USER_CODE"
    ),
    "TypeCheckData": ev.TypeCheckData(True, "result", "ok", {"rows": MV.int(3)}),
    "StepOutputData": ev.StepOutputData(
        "step", "result", "k1", ev.TypeCheckData(False, "result", None, {})
    ),
    "StepInputData": ev.StepInputData("x", ev.TypeCheckData(True, "x")),
    "StepMaterializationData": ev.StepMaterializationData(
        dg.AssetMaterialization(
            ["a", "b"],
            metadata={"rows": 1, "f": 2.5, "md": MV.md("# t")},
            partition="p1",
            tags={"t": "v"},
        ),
        [AssetKey("lineage")],
    ),
    "AssetObservationData": ev.AssetObservationData(
        dg.AssetObservation("obs", metadata={"x": MV.null()}, partition="p2")
    ),
    "HandledOutputData": ev.HandledOutputData("result", "io_manager", {"path": MV.path("/x")}),
    "LoadedInputData": ev.LoadedInputData("x", "io_manager", "result", "up", {"p": MV.text("t")}),
    "AssetMaterializationPlannedData": ev.AssetMaterializationPlannedData(AssetKey("a"), "p"),
    "SerializableErrorInfo": _error(),
    "StepRetryData": StepRetryData(_error(), 2.5),
}
if hasattr(ev, "AssetCheckEvaluationPlanned"):
    PAYLOADS["AssetCheckEvaluationPlanned"] = ev.AssetCheckEvaluationPlanned(
        AssetKey("a"), "c", None
    )


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_class_round_trips_inside_an_event(name: str) -> None:
    back = roundtrip(_event("ENGINE_EVENT", PAYLOADS[name]))
    assert type(back.dagster_event.event_specific_data).__name__ == name


def test_every_payload_class_in_events_module_is_covered() -> None:
    exported = {
        name
        for name in ev.__all__
        if isinstance(getattr(ev, name), type)
        and not issubclass(getattr(ev, name), enum.Enum)
        and name != "DagsterEvent"
    }
    assert exported <= set(PAYLOADS), f"add round-trip cases for {sorted(exported - set(PAYLOADS))}"


def test_error_info_keeps_cause_and_context() -> None:
    back = roundtrip(_error())
    assert back.cause.cls_name == "KeyError"
    assert back.context.message == "OSError: disk"
    assert back.to_string() == _error().to_string()


def test_asset_check_evaluation_with_target_materialization() -> None:
    evaluation = AssetCheckEvaluation(
        AssetKey(["db", "orders"]),
        "no_nulls",
        False,
        {"nulls": MV.int(4)},
        AssetCheckEvaluationTargetMaterializationData(12, "run-0", 1700000000.5),
        AssetCheckSeverity.ERROR,
        "some nulls",
        True,
        "2024-01-01",
    )
    back = roundtrip(_event("ASSET_CHECK_EVALUATION", evaluation)).asset_check_evaluation
    assert back == evaluation
    assert back.is_blocking_failure
    assert back.target_materialization_data.storage_id == 12


def test_dagster_run_round_trips() -> None:
    run = DagsterRun(
        run_id="r-1",
        job_name="job",
        run_config={"ops": {"a": {"config": {"n": 1, "xs": [1, 2], "t": (1, "x")}}}, "1": {}},
        tags={"dagster/partition": "p"},
        status=DagsterRunStatus.CANCELING,
        asset_selection=[AssetKey("a"), AssetKey(["b", "c"])],
        parent_run_id="r-0",
        root_run_id="r-00",
        step_keys_to_execute=["a", "b__c"],
    )
    back = roundtrip(run)
    assert back.status is DagsterRunStatus.CANCELING
    assert back.asset_selection == frozenset({AssetKey("a"), AssetKey(["b", "c"])})
    assert all(type(k) is AssetKey for k in back.asset_selection)
    assert back.run_config["ops"]["a"]["config"]["t"] == (1, "x")
    roundtrip(DagsterRun(run_id="r-2", job_name="j"))  # None selection / steps


def test_instance_records_round_trip() -> None:
    run = DagsterRun(run_id="r", job_name="j")
    roundtrip(records.RunRecord(1, run, 10.0, 11.0, 10.5, None))
    entry = _event("STEP_OUTPUT", PAYLOADS["StepOutputData"])
    roundtrip(records.EventLogRecord(7, entry))
    roundtrip(
        records.AssetCheckExecutionRecord(
            AssetCheckKey(AssetKey("a"), "c"),
            3,
            "r",
            records.AssetCheckExecutionRecordStatus.SUCCEEDED,
            entry,
            12.0,
            "p",
        )
    )
    roundtrip(records.StoredRecord(1, "k", "sensor", "RUNNING", 1.0, {"cursor": "5", "n": (1,)}))
    roundtrip(records.RunsFilter(statuses=[DagsterRunStatus.SUCCESS], tags={"a": ["b", "c"]}))
    roundtrip(records.EventRecordsFilter("ASSET_MATERIALIZATION", asset_key="a", after_cursor=4))


# -- metadata ------------------------------------------------------------------------------------


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn(
            "id",
            "int",
            "the key",
            dg.TableColumnConstraints(nullable=False, unique=True, other=["> 0"]),
            tags={"pii": "no"},
        ),
        dg.TableColumn("name"),
    ],
    constraints=dg.TableConstraints(other=["id < 1000"]),
)
_LINEAGE = dg.TableColumnLineage(
    {"id": [dg.TableColumnDep("src", "id"), dg.TableColumnDep(["db", "other"], "key")]}
)
METADATA_VALUES: list[Any] = [
    MV.text("t"),
    MV.url("https://x"),
    MV.path("/p"),
    MV.notebook("/n.ipynb"),
    MV.json({"a": [1, {"__class__": "not a tag"}], "b": None}),
    MV.json([1, 2.5, "x"]),
    MV.md("# h"),
    MV.python_artifact(dg.materialize),
    MV.float(1.5),
    MV.float(float("nan")),
    MV.float(float("-inf")),
    md.FloatMetadataValue(None),
    MV.int(2**70),
    MV.bool(False),
    MV.timestamp(1700000000.25),
    MV.dagster_run("run-1"),
    MV.job("job", "loc", repository_name="repo"),
    MV.asset(["a", "b"]),
    MV.table([dg.TableRecord({"id": 1, "name": "x", "ok": True, "v": None})], _SCHEMA),
    MV.table_schema(_SCHEMA),
    MV.column_lineage(_LINEAGE),
    MV.pool("db"),
    MV.null(),
]


def test_every_metadata_value_class_round_trips() -> None:
    covered = {type(v) for v in METADATA_VALUES}
    weir_classes = {
        c for c in _all_subclasses(md.MetadataValue) if c.__module__.startswith("weir.")
    }
    assert weir_classes <= covered, (
        f"add cases for {sorted(c.__name__ for c in weir_classes - covered)}"
    )
    mapping = {f"k{i}": value for i, value in enumerate(METADATA_VALUES)}
    back = roundtrip(mapping)
    for key, value in mapping.items():
        if not (isinstance(value, md.FloatMetadataValue) and value.value != value.value):
            assert back[key] == value


def test_table_classes_round_trip_on_their_own() -> None:
    for obj in (_SCHEMA, _LINEAGE, dg.TableRecord({"a": 1}), dg.TableColumnConstraints()):
        assert roundtrip(obj) == obj
    lineage = roundtrip(_LINEAGE)
    assert lineage.deps_by_column["id"][0].asset_key is AssetKey(["db", "other"])


def test_results_value_objects_round_trip() -> None:
    from weir._model.results import DataVersion, DataVersionsByPartition, ExpectationResult

    for obj in (
        DataVersion("abc"),
        DataVersionsByPartition({"p1": "v1", "p2": DataVersion("v2")}),
        ExpectationResult(True, "lbl", "desc", {"x": 1}),
        dg.AssetCheckResult(passed=True, asset_key="a", check_name="c", metadata={"n": 1}),
    ):
        assert roundtrip(obj) == obj


# -- plain values --------------------------------------------------------------------------------


def test_asset_keys_come_back_interned_and_check_keys_as_named_tuples() -> None:
    key = AssetKey(["warehouse", "orders"])
    assert serialize(key) == '{"__class__":"AssetKey","path":["warehouse","orders"]}'
    assert deserialize(serialize(key)) is key
    check_key = AssetCheckKey(key, "fresh")
    back = roundtrip(check_key)
    assert type(back) is AssetCheckKey and back.asset_key is key


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**80),
        "ünïcode \u2603 \ud800",  # a lone surrogate survives (ASCII-escaped JSON)
        1.25,
        float("inf"),
        float("-inf"),
        float("nan"),
        [1, [2, (3, 4)]],
        (1, [2, 3], ()),
        {"a": 1, "b": [None]},
        {1: "int key", (1, 2): "tuple key", None: "none", False: "bool", 2.5: "float"},
        {AssetKey("a"): 1},
        {1, 2, 3},
        frozenset({"a", "b"}),
        {"s": set(), "f": frozenset()},
        b"\x00\xffbytes",
        dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.date(2024, 2, 29),
        dt.timedelta(days=-1, seconds=5, microseconds=7),
        DagsterRunStatus.SUCCESS,
        ev.DagsterEventType.PIPELINE_START,
        AssetCheckSeverity.WARN,
        {},
        [],
        "",
    ],
    ids=repr,
)
def test_plain_values_round_trip_with_their_types(value: Any) -> None:
    roundtrip(value)


def test_tuples_and_lists_stay_distinct() -> None:
    assert serialize((1, 2)) == '{"__tuple__":[1,2]}'
    assert serialize([1, 2]) == "[1,2]"
    assert type(deserialize(serialize({"t": (1,)}))["t"]) is tuple


def test_tagged_format_is_as_documented() -> None:
    assert serialize({1, 2}) == '{"__set__":[1,2]}'
    assert serialize(frozenset({"b", "a"})) == '{"__frozenset__":["a","b"]}'
    assert serialize(DagsterRunStatus.QUEUED) == '{"__enum__":"DagsterRunStatus.QUEUED"}'
    assert serialize(float("inf")) == '{"__float__":"inf"}'
    assert serialize(b"hi") == '{"__bytes__":"aGk="}'
    assert serialize({"a": 1}) == '{"a":1}'
    assert serialize(MV.int(3)) == '{"__class__":"IntMetadataValue","value":3}'


@pytest.mark.parametrize(
    "mapping",
    [
        {"__class__": "AssetKey", "path": ["x"]},
        {"__tuple__": [1, 2]},
        {"__enum__": "DagsterRunStatus.SUCCESS"},
        {"__repr__": "r", "__type__": "t"},
        {"__dict__": [[1, 2]]},
        {"__future_tag__": 1},
        {"ok": 1, "__class__": "NotAClass"},
    ],
    ids=repr,
)
def test_dicts_whose_keys_collide_with_tags_stay_dicts(mapping: dict[str, Any]) -> None:
    back = roundtrip(mapping)
    assert type(back) is dict and back == mapping
    back = roundtrip({"metadata": MV.json(mapping)})
    assert back["metadata"].data == mapping


def test_same_object_gives_same_text() -> None:
    entry = _event("ASSET_MATERIALIZATION", PAYLOADS["StepMaterializationData"])
    assert serialize(entry) == serialize(entry)
    a = frozenset(AssetKey(f"k{i}") for i in range(50))
    b = frozenset(AssetKey(f"k{i}") for i in reversed(range(50)))
    assert serialize(a) == serialize(b)
    assert serialize({3, 1, 2}) == serialize({2, 3, 1})


def test_sets_serialize_identically_across_hash_seeds() -> None:
    code = (
        "from weir._instance.serdes import serialize\n"
        "from weir._execution.run import DagsterRun\n"
        "from weir._model.asset_key import AssetKey\n"
        "print(serialize(DagsterRun(run_id='r', job_name='j', asset_selection="
        "[AssetKey(['a', str(i)]) for i in range(30)], tags={'t': 'v'}))"
        " + serialize({'x', 'y', 'z', 'w'}))\n"
    )
    texts = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        texts.add(done.stdout)
    assert len(texts) == 1


# -- unknown classes and values ------------------------------------------------------------------


def test_unknown_class_on_read_is_a_storage_error_naming_it() -> None:
    text = '{"__class__":"EventLogEntry","dagster_event":{"__class__":"ShinyNewPayload","x":1}}'
    with pytest.raises(StorageError) as info:
        deserialize(text)
    message = str(info.value)
    assert "ShinyNewPayload" in message
    assert "newer weir" in message and "plugin" in message


def test_unknown_enum_class_or_member_on_read() -> None:
    with pytest.raises(StorageError, match="'Color'"):
        deserialize('{"__enum__":"Color.RED"}')
    with pytest.raises(StorageError, match="no member 'PAUSED'.*newer weir"):
        deserialize('{"__enum__":"DagsterRunStatus.PAUSED"}')


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"__class__":"AssetKey"}', "Cannot rebuild a stored AssetKey"),
        ('{"__class__":"AssetCheckKey","asset_key":"a"}', "AssetCheckKey"),
        ('{"__timedelta__":[1]}', "malformed"),
        ('{"__bytes__":"***"}', "malformed"),
    ],
)
def test_damaged_text_is_a_storage_error(text: str, match: str) -> None:
    with pytest.raises(StorageError, match=match):
        deserialize(text)


class _Opaque:
    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"_Opaque({self.n})" + "x" * 2000


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_unregistered_object_on_write_is_stored_as_its_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = ev.StepFailureData(_error(), user_failure_data=_Opaque(1))
    with caplog.at_level(logging.WARNING, logger="weir._instance.serdes"):
        text = serialize(_event("STEP_FAILURE", failure))
        serialize({"again": _Opaque(2)})
    stored = json.loads(text)["dagster_event"]["event_specific_data"]["user_failure_data"]
    assert stored["__type__"] == f"{__name__}._Opaque"
    assert len(stored["__repr__"]) == 1000 and stored["__repr__"].startswith("_Opaque(1)")
    back = deserialize(text)
    assert back.dagster_event.event_specific_data.user_failure_data == stored["__repr__"]
    warnings = [r for r in caplog.records if "_Opaque" in r.getMessage()]
    assert len(warnings) == 1  # once per type
    assert "register_serializable" in warnings[0].getMessage()


def test_object_with_a_failing_repr_is_still_stored() -> None:
    back = deserialize(serialize({"x": _BadRepr()}))
    assert "_BadRepr" in back["x"] and "RuntimeError" in back["x"]


def test_subclasses_of_plain_types_are_stored_as_the_plain_type() -> None:
    from collections import OrderedDict

    assert deserialize(serialize(dg.EnvVar("DB_PASSWORD"))) == "DB_PASSWORD"
    back = deserialize(serialize(OrderedDict(a=1)))
    assert type(back) is dict and back == {"a": 1}


def test_reference_cycle_is_a_storage_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(StorageError, match="reference cycle"):
        serialize({"config": loop})


# -- plugin classes ------------------------------------------------------------------------------


@register_serializable
class PluginPayload:
    """A plugin's slots class whose constructor must not run on read."""

    __slots__ = ("_cache_total", "items", "label")
    init_calls = 0

    def __init__(self, label: str, items: list[int]) -> None:
        type(self).init_calls += 1
        if not label:
            raise ValueError("label required")
        self.label = label
        self.items = items
        self._cache_total = sum(items)


class PluginChild(PluginPayload):
    __slots__ = ("extra",)

    def __init__(self, label: str, items: list[int], extra: Any = "dflt") -> None:
        super().__init__(label, items)
        self.extra = extra


register_serializable(PluginChild, "test_serdes.PluginChild")


@register_serializable
class PluginDictRecord:
    def __init__(self, a: Any) -> None:
        self.a = a


class PluginPoint(NamedTuple):
    x: int
    y: AssetKey


class PluginColor(enum.Enum):
    RED = "red"
    BLUE = "blue"


register_serializable(PluginPoint)
register_serializable(PluginColor, "test_serdes.PluginColor")


def test_plugin_slots_class_round_trips_without_running_its_constructor() -> None:
    obj = PluginChild("l", [1, 2], extra={"k": (1,)})
    calls = PluginPayload.init_calls
    text = serialize(obj)
    assert "_cache_total" not in text  # derived: not stored
    assert '"__class__":"test_serdes.PluginChild"' in text
    back = deserialize(text)
    assert PluginPayload.init_calls == calls
    assert type(back) is PluginChild
    assert (back.label, back.items, back.extra) == ("l", [1, 2], {"k": (1,)})
    assert back._cache_total is None  # read back as None, to be recomputed


def test_plugin_dict_class_named_tuple_and_enum_round_trip() -> None:
    back = roundtrip(PluginDictRecord({"nested": PluginDictRecord(PluginColor.BLUE)}))
    assert back.a["nested"].a is PluginColor.BLUE
    point = roundtrip(PluginPoint(1, AssetKey("p")))
    assert type(point) is PluginPoint
    assert serialize(PluginColor.RED) == '{"__enum__":"test_serdes.PluginColor.RED"}'


@register_serializable
class PluginOddSlots:
    __slots__ = ("__hidden", "class", "value")

    def __init__(self) -> None:
        self.__hidden = 1
        setattr(self, "class", 2)
        PluginOddSlots.__dict__["value"].__set__(self, 3)  # works for subclasses that shadow it


class PluginOddChild(PluginOddSlots):
    __slots__ = ()

    @property
    def value(self) -> int:  # shadows the parent's slot
        return -1


register_serializable(PluginOddChild)


def test_private_keyword_and_shadowed_slots_round_trip() -> None:
    text = serialize(PluginOddChild())
    assert json.loads(text) == {
        "__class__": "PluginOddChild",
        "_PluginOddSlots__hidden": 1,
        "class": 2,
        "value": 3,
    }
    back = deserialize(text)
    assert type(back) is PluginOddChild
    assert getattr(back, "_PluginOddSlots__hidden") == 1 and getattr(back, "class") == 2
    assert PluginOddSlots.__dict__["value"].__get__(back) == 3 and back.value == -1


def test_unset_slots_are_left_out_and_stay_unset() -> None:
    obj = PluginPayload.__new__(PluginPayload)
    obj.label = "only label"
    text = serialize(obj)
    assert json.loads(text) == {"__class__": "PluginPayload", "label": "only label"}


def test_fields_missing_from_old_records_get_constructor_defaults() -> None:
    old = '{"__class__":"test_serdes.PluginChild","label":"l","items":[]}'
    back = deserialize(old)
    assert back.extra == "dflt"  # the __init__ default
    newer = '{"__class__":"PluginPayload","label":"l","items":[],"added_later":1}'
    back = deserialize(newer)
    assert not hasattr(back, "added_later")


def test_register_rejects_taken_names_and_unsuitable_classes() -> None:
    class Other:
        __slots__ = ("a",)

    with pytest.raises(
        PluginError, match=r"'EventLogEntry'.*weir\._instance\.records\.EventLogEntry"
    ):
        register_serializable(Other, "EventLogEntry")
    with pytest.raises(PluginError, match="registered for storage as 'PluginPayload' already"):
        register_serializable(PluginPayload, "another_name")
    assert register_serializable(PluginPayload) is PluginPayload  # again: a no-op

    class MyDict(dict):  # type: ignore[type-arg]
        pass

    with pytest.raises(PluginError, match="subclasses a built-in"):
        register_serializable(MyDict)
    with pytest.raises(PluginError, match="needs a class"):
        register_serializable(PluginPayload("x", []))  # type: ignore[type-var]
    with pytest.raises(PluginError, match="must be a non-empty str"):
        register_serializable(Other, "__dunder")
