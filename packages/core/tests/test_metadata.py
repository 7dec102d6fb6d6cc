"""Metadata values, table schemas and Dagster-compatible metadata auto-coercion."""

from __future__ import annotations

import copy
import os
import pathlib
import pickle
import warnings
from datetime import datetime, timedelta, timezone
from enum import Enum

import pytest

import weir as dg
from weir._model.metadata import (
    DagsterAssetMetadataValue,
    DagsterInvalidMetadata,
    DagsterJobMetadataValue,
    DagsterRunMetadataValue,
    InvalidMetadataError,
    NotebookMetadataValue,
    PoolMetadataValue,
    PythonArtifactMetadataValue,
    TableColumnDep,
    TableColumnLineage,
    TableColumnLineageMetadataValue,
    normalize_metadata,
    normalize_metadata_value,
)

MV = dg.MetadataValue


def _schema() -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                "id",
                "int",
                description="primary key",
                constraints=dg.TableColumnConstraints(nullable=False, unique=True),
            ),
            dg.TableColumn("name", tags={"pii": "true"}),
            dg.TableColumn("score", "float", constraints=dg.TableColumnConstraints(other=[">= 0"])),
        ],
        constraints=dg.TableConstraints(other=["id > 0"]),
    )


def _lineage() -> TableColumnLineage:
    return TableColumnLineage(
        {"out": [TableColumnDep(dg.AssetKey("up"), "b"), TableColumnDep(dg.AssetKey("up"), "a")]}
    )


# one of every value class, built through the public constructors
ALL_VALUES = [
    MV.text("hello"),
    MV.url("https://example.com"),
    MV.path("/tmp/x.csv"),
    MV.notebook("nb.ipynb"),
    MV.json({"a": [1, 2, {"b": None}]}),
    MV.json([1, "two"]),
    MV.md("# title"),
    MV.python_artifact(pathlib.Path),
    MV.float(1.5),
    MV.int(42),
    MV.bool(False),
    MV.timestamp(1_700_000_000.5),
    MV.dagster_run("run-1"),
    MV.asset(dg.AssetKey(["a", "b"])),
    MV.job("my_job", "loc", repository_name="repo"),
    MV.table([dg.TableRecord({"a": 1, "b": "x"})]),
    MV.table_schema(_schema()),
    MV.column_lineage(_lineage()),
    MV.pool("db"),
    MV.null(),
]


# -- constructors and fields -------------------------------------------------------------------------


def test_constructors_return_typed_values_with_dagster_field_names():
    assert (
        isinstance(MV.text("t"), dg.TextMetadataValue)
        and MV.text("t").text == "t" == MV.text("t").value
    )
    assert MV.url("u").url == "u" == MV.url("u").value
    assert isinstance(MV.path("p"), dg.PathMetadataValue) and MV.path("p").path == "p"
    assert MV.md("m").md_str == "m" == MV.md("m").value
    assert isinstance(MV.md("m"), dg.MarkdownMetadataValue)
    assert MV.json({"k": 1}).data == {"k": 1} == MV.json({"k": 1}).value
    assert isinstance(MV.json([1]), dg.JsonMetadataValue)
    assert isinstance(MV.int(3), dg.IntMetadataValue) and MV.int(3).value == 3
    assert isinstance(MV.float(2.5), dg.FloatMetadataValue) and MV.float(2.5).value == 2.5
    assert isinstance(MV.bool(True), dg.BoolMetadataValue) and MV.bool(True).value is True
    assert isinstance(MV.null(), dg.NullMetadataValue) and MV.null().value is None
    assert MV.dagster_run("r").run_id == "r" == MV.dagster_run("r").value
    assert isinstance(MV.dagster_run("r"), DagsterRunMetadataValue)
    assert (
        MV.asset(dg.AssetKey("x")).asset_key == dg.AssetKey("x") == MV.asset(dg.AssetKey("x")).value
    )
    assert isinstance(MV.asset(["x"]), DagsterAssetMetadataValue)
    assert MV.asset("a/b").asset_key == dg.AssetKey(["a/b"])  # one component, like AssetKey("a/b")
    assert MV.notebook("n.ipynb").path == "n.ipynb" and isinstance(
        MV.notebook("n"), NotebookMetadataValue
    )
    assert MV.pool("p").pool == "p" == MV.pool("p").value and isinstance(
        MV.pool("p"), PoolMetadataValue
    )


def test_identity_valued_classes_return_themselves():
    job = MV.job("j", "loc")
    assert isinstance(job, DagsterJobMetadataValue)
    assert (job.job_name, job.location_name, job.repository_name) == ("j", "loc", None)
    assert job.value is job
    art = MV.python_artifact(pathlib.Path)
    assert isinstance(art, PythonArtifactMetadataValue)
    assert (art.module, art.name) == (pathlib.Path.__module__, "Path") and art.value is art
    table = MV.table([dg.TableRecord({"a": 1})])
    assert table.value is table


def test_path_accepts_pathlike_and_stores_a_string():
    value = MV.path(pathlib.Path("/data/file.parquet"))
    assert value.path == "/data/file.parquet"
    assert value == MV.path("/data/file.parquet")


def test_none_text_like_values_become_empty_strings():
    assert dg.TextMetadataValue(None).text == ""
    assert dg.UrlMetadataValue(None).url == ""
    assert dg.PathMetadataValue(None).path == ""
    assert dg.MarkdownMetadataValue(None).md_str == ""


def test_float_accepts_int_but_not_bool_or_str():
    assert MV.float(3).value == 3.0 and isinstance(MV.float(3).value, float)
    with pytest.raises(InvalidMetadataError, match="FloatMetadataValue needs a float, got True"):
        MV.float(True)
    with pytest.raises(InvalidMetadataError, match="needs a float"):
        MV.float("1.0")


def test_int_and_bool_reject_wrong_types():
    with pytest.raises(InvalidMetadataError, match="IntMetadataValue needs an int, got 1.5"):
        MV.int(1.5)
    with pytest.raises(InvalidMetadataError, match="BoolMetadataValue needs a bool, got 1"):
        MV.bool(1)
    with pytest.raises(InvalidMetadataError, match="TextMetadataValue text must be a str"):
        MV.text(3)


def test_timestamp_from_float_and_aware_datetime():
    assert MV.timestamp(12.5).value == 12.5
    assert MV.timestamp(12).value == 12.0
    dt = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert MV.timestamp(dt) == dg.TimestampMetadataValue(dt.timestamp())
    assert isinstance(MV.timestamp(dt), dg.TimestampMetadataValue)


def test_timestamp_rejects_naive_datetime_and_strings():
    with pytest.raises(
        InvalidMetadataError, match="timezone-aware datetime.*2024-01-02T00:00:00 has no timezone"
    ):
        MV.timestamp(datetime(2024, 1, 2))
    with pytest.raises(InvalidMetadataError, match="seconds since the epoch"):
        MV.timestamp("2024-01-02")


def test_json_must_be_serializable():
    with pytest.raises(InvalidMetadataError, match="not JSON serializable"):
        MV.json({"when": datetime(2024, 1, 1)})
    with pytest.raises(InvalidMetadataError, match="list or dict"):
        dg.JsonMetadataValue(5)


def test_python_artifact_requires_a_callable():
    with pytest.raises(InvalidMetadataError, match="needs a class or function"):
        MV.python_artifact(3)


# -- equality, hashing, repr, pickling ---------------------------------------------------------------


@pytest.mark.parametrize("value", ALL_VALUES, ids=lambda v: type(v).__name__)
def test_every_value_pickles_copies_and_compares_equal(value):
    restored = pickle.loads(pickle.dumps(value))
    assert restored == value
    assert type(restored) is type(value)
    assert hash(restored) == hash(value)
    assert copy.deepcopy(value) == value
    assert repr(value).startswith(type(value).__name__ + "(")
    assert isinstance(value, dg.MetadataValue)


def test_equality_is_by_type_and_fields():
    assert MV.text("a") == MV.text("a")
    assert MV.text("a") != MV.text("b")
    assert MV.text("a") != MV.md("a")  # same payload, different type
    assert MV.int(1) != MV.float(1.0)
    assert MV.int(1) != 1
    assert MV.null() == MV.null()
    assert len({MV.int(1), MV.int(1), MV.json({"a": [1]}), MV.json({"a": [1]})}) == 2


def test_repr_shows_fields():
    assert repr(MV.int(3)) == "IntMetadataValue(value=3)"
    assert repr(MV.text("x")) == "TextMetadataValue(text='x')"
    assert repr(MV.null()) == "NullMetadataValue()"


def test_values_are_immutable():
    value = MV.int(1)
    with pytest.raises(AttributeError, match="immutable"):
        value.value = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del value.value  # type: ignore[misc]


def test_metadata_value_is_generic_for_annotations():
    assert dg.MetadataValue[int] is not None


# -- tables -------------------------------------------------------------------------------------------


def test_table_schema_defaults_and_round_trip():
    col = dg.TableColumn("c")
    assert col.type == "string" and col.description is None and col.tags == {}
    assert col.constraints == dg.TableColumnConstraints(nullable=True, unique=False, other=[])
    schema = _schema()
    assert [c.name for c in schema.columns] == ["id", "name", "score"]
    assert schema.constraints.other == ["id > 0"]
    assert dg.TableSchema([col]).constraints == dg.TableConstraints(other=[])
    restored = pickle.loads(pickle.dumps(MV.table_schema(schema)))
    assert restored.schema == schema
    assert restored.schema.columns[0].constraints.unique is True
    assert restored.value.columns[1].tags == {"pii": "true"}


def test_table_schema_from_name_type_dict():
    schema = dg.TableSchema.from_name_type_dict({"a": "int", "b": "string"})
    assert schema == dg.TableSchema([dg.TableColumn("a", "int"), dg.TableColumn("b", "string")])


def test_table_schema_rejects_bad_columns():
    with pytest.raises(InvalidMetadataError, match="must be TableColumn objects, got 'a'"):
        dg.TableSchema(["a"])
    with pytest.raises(InvalidMetadataError, match="list of TableColumn, got dict"):
        dg.TableSchema({"a": "int"})
    with pytest.raises(InvalidMetadataError, match="TableColumn 'a' type must be a str"):
        dg.TableColumn("a", int)
    with pytest.raises(
        InvalidMetadataError, match="constraints must be a TableColumnConstraints, got dict"
    ):
        dg.TableColumn("a", constraints={"nullable": False})
    with pytest.raises(InvalidMetadataError, match="list of str"):
        dg.TableConstraints("x > 1")


def test_table_record_forms_and_validation():
    assert dg.TableRecord({"a": 1}) == dg.TableRecord(a=1)
    assert dg.TableRecord({"a": None, "b": True, "c": 1.5, "d": "s"}).data["b"] is True
    with pytest.raises(
        InvalidMetadataError, match=r"TableRecord field 'a' = \[1\] \(a list\) is not allowed"
    ):
        dg.TableRecord({"a": [1]})


def test_table_infers_schema_from_first_record():
    table = MV.table([dg.TableRecord({"i": 1, "f": 1.0, "b": True, "s": "x", "n": None})])
    assert [(c.name, c.type) for c in table.schema.columns] == [
        ("i", "int"),
        ("f", "float"),
        ("b", "bool"),
        ("s", "string"),
        ("n", "string"),
    ]
    assert dg.TableMetadataValue.infer_column_type(True) == "bool"


def test_table_checks_records():
    with pytest.raises(InvalidMetadataError, match=r"record 0 has \['a'\], record 1 has \['b'\]"):
        MV.table([dg.TableRecord({"a": 1}), dg.TableRecord({"b": 1})])
    with pytest.raises(InvalidMetadataError, match="no records needs a schema"):
        MV.table([])
    assert MV.table([], schema=_schema()).records == []


def test_column_lineage_sorts_and_rejects_duplicates():
    lineage = _lineage()
    assert [d.column_name for d in lineage.deps_by_column["out"]] == ["a", "b"]
    with pytest.raises(InvalidMetadataError, match="deps of column 'out' must be unique"):
        TableColumnLineage({"out": [TableColumnDep("up", "a"), TableColumnDep("up", "a")]})


# -- normalize_metadata -------------------------------------------------------------------------------


class _Color(str, Enum):
    RED = "red"


class _MyPath(os.PathLike):
    def __fspath__(self) -> str:
        return "/my/path"


def test_auto_coercion_for_every_raw_type():
    key = dg.AssetKey(["up", "stream"])
    schema = _schema()
    lineage = _lineage()
    got = normalize_metadata(
        {
            "text": "hi",
            "int": 7,
            "float": 2.5,
            "bool": True,
            "dict": {"a": 1},
            "list": [1, 2],
            "none": None,
            "path": pathlib.PurePosixPath("/a/b"),
            "custom_path": _MyPath(),
            "key": key,
            "schema": schema,
            "lineage": lineage,
            "wrapped": MV.url("https://x"),
        }
    )
    assert got == {
        "text": dg.TextMetadataValue("hi"),
        "int": dg.IntMetadataValue(7),
        "float": dg.FloatMetadataValue(2.5),
        "bool": dg.BoolMetadataValue(True),
        "dict": dg.JsonMetadataValue({"a": 1}),
        "list": dg.JsonMetadataValue([1, 2]),
        "none": dg.NullMetadataValue(),
        "path": dg.PathMetadataValue("/a/b"),
        "custom_path": dg.PathMetadataValue("/my/path"),
        "key": DagsterAssetMetadataValue(key),
        "schema": dg.TableSchemaMetadataValue(schema),
        "lineage": TableColumnLineageMetadataValue(lineage),
        "wrapped": dg.UrlMetadataValue("https://x"),
    }
    assert type(got["bool"]) is dg.BoolMetadataValue


def test_bool_is_not_coerced_to_int():
    got = normalize_metadata({"t": True, "f": False, "one": 1})
    assert type(got["t"]) is dg.BoolMetadataValue and got["t"].value is True
    assert type(got["f"]) is dg.BoolMetadataValue and got["f"].value is False
    assert type(got["one"]) is dg.IntMetadataValue


def test_subclasses_of_basic_types_are_coerced_in_dagster_order():
    got = normalize_metadata({"enum": _Color.RED})
    assert isinstance(got["enum"], dg.TextMetadataValue) and got["enum"].text == "red"

    class MyFloat(float):
        pass

    class MyInt(int):
        pass

    assert type(normalize_metadata({"x": MyFloat(1.5)})["x"]) is dg.FloatMetadataValue
    assert type(normalize_metadata({"x": MyInt(3)})["x"]) is dg.IntMetadataValue


def test_column_schema_key_holding_a_table_schema():
    schema = _schema()
    got = normalize_metadata({"dagster/column_schema": schema, "dagster/row_count": 3})
    assert got["dagster/column_schema"] == MV.table_schema(schema)
    assert got["dagster/column_schema"].schema.columns[0].name == "id"
    assert got["dagster/row_count"] == MV.int(3)


def test_wrapped_values_pass_through_unchanged():
    value = MV.md("x")
    assert normalize_metadata({"m": value})["m"] is value
    once = normalize_metadata({"a": 1, "b": "x"})
    assert normalize_metadata(once) == once


def test_empty_and_none_metadata():
    assert normalize_metadata(None) == {}
    assert normalize_metadata({}) == {}


def test_result_is_a_fresh_dict():
    raw = {"a": 1}
    got = normalize_metadata(raw)
    got["b"] = MV.int(2)
    assert raw == {"a": 1}


def test_invalid_value_error_names_key_type_and_accepted_types():
    class Thing:
        pass

    with pytest.raises(InvalidMetadataError) as info:
        normalize_metadata({"ok": 1, "bad": Thing()})
    message = str(info.value)
    assert 'Could not resolve the metadata value for "bad" to a known type' in message
    assert "Thing" in message
    assert "str, int, float, bool, dict, list, None" in message
    assert "MetadataValue" in message
    assert isinstance(info.value, dg.DefinitionError)
    assert isinstance(info.value, dg.DagsterError)
    assert DagsterInvalidMetadata is InvalidMetadataError


def test_datetime_and_tuple_are_rejected_with_hints():
    with pytest.raises(InvalidMetadataError, match=r"MetadataValue.timestamp\(dt\)"):
        normalize_metadata({"when": datetime.now(timezone.utc)})
    with pytest.raises(InvalidMetadataError, match="For a tuple use a list"):
        normalize_metadata({"pair": (1, 2)})


def test_unserializable_json_is_reported_with_its_key():
    with pytest.raises(InvalidMetadataError, match='"nested".*not JSON serializable'):
        normalize_metadata({"nested": {"x": object()}})


def test_keys_must_be_strings():
    with pytest.raises(
        InvalidMetadataError, match=r"Metadata keys must be str, got 1 \(a int\) with value 'x'"
    ):
        normalize_metadata({1: "x"})


def test_metadata_must_be_a_mapping():
    with pytest.raises(
        InvalidMetadataError, match="must be a mapping of str keys to values, got list"
    ):
        normalize_metadata([("a", 1)])


def test_allow_invalid_substitutes_placeholder_with_warning():
    class Thing:
        pass

    with pytest.warns(DeprecationWarning, match='"obj" of type Thing is not supported'):
        got = normalize_metadata({"obj": Thing(), "n": 1}, allow_invalid=True)
    assert got == {"obj": MV.text("[Thing] (unserializable)"), "n": MV.int(1)}


def test_allow_invalid_is_silent_for_valid_metadata():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalize_metadata({"a": 1}, allow_invalid=True) == {"a": MV.int(1)}


def test_normalize_metadata_value_single():
    assert normalize_metadata_value(3) == MV.int(3)
    with pytest.raises(InvalidMetadataError, match="Its type was builtins.set"):
        normalize_metadata_value({1})
