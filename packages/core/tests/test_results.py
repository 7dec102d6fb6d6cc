"""Output, DynamicOutput, MaterializeResult, ObserveResult, asset events and data versions."""

from __future__ import annotations

import copy
import pickle

import pytest

import weir as dg
from weir._model.results import (
    DataVersionsByPartition,
    DynamicOutput,
    ExpectationResult,
    ObserveResult,
)

MV = dg.MetadataValue


class _CheckResult:
    """Stands in for AssetCheckResult (defined elsewhere); only check_name is read here."""

    def __init__(self, check_name: str, passed: bool) -> None:
        self.check_name = check_name
        self.passed = passed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CheckResult) and (self.check_name, self.passed) == (
            other.check_name,
            other.passed,
        )


def _roundtrip(obj):
    restored = pickle.loads(pickle.dumps(obj))
    assert restored == obj
    assert type(restored) is type(obj)
    assert copy.deepcopy(obj) == obj
    return restored


# -- Output ------------------------------------------------------------------------------------------


def test_output_defaults():
    out = dg.Output(5)
    assert out.value == 5
    assert out.output_name == "result"
    assert out.metadata == {}
    assert out.data_version is None
    assert out.tags is None


def test_output_fields_and_metadata_normalized_like_dagster():
    out = dg.Output(
        [1],
        "a",
        metadata={"rows": 1, "u": MV.url("x")},
        data_version=dg.DataVersion("v1"),
        tags={"k": "v"},
    )
    assert out.value == [1]
    assert out.output_name == "a"
    assert out.metadata == {"rows": MV.int(1), "u": MV.url("x")}
    assert out.data_version == dg.DataVersion("v1")
    assert out.tags == {"k": "v"}


def test_output_equality_repr_and_pickle():
    out = dg.Output({"x": 1}, output_name="o", metadata={"a": "b"}, tags={"t": "1"})
    assert out == dg.Output({"x": 1}, output_name="o", metadata={"a": "b"}, tags={"t": "1"})
    assert out != dg.Output({"x": 1}, output_name="other", metadata={"a": "b"}, tags={"t": "1"})
    assert out != dg.Output({"x": 2}, output_name="o", metadata={"a": "b"}, tags={"t": "1"})
    assert repr(out) == (
        "Output(value={'x': 1}, output_name='o', metadata={'a': TextMetadataValue(text='b')}, "
        "data_version=None, tags={'t': '1'})"
    )
    restored = _roundtrip(out)
    assert restored.metadata["a"] == MV.text("b")
    with pytest.raises(TypeError):
        hash(out)


def test_output_is_generic_and_immutable():
    assert dg.Output[int] is not None
    out = dg.Output(1)
    with pytest.raises(AttributeError, match="immutable"):
        out.value = 2  # type: ignore[misc]


def test_output_with_metadata_replaces_metadata():
    out = dg.Output(1, "a", metadata={"x": 1}, tags={"t": "v"})
    new = out.with_metadata({"y": 2})
    assert new.metadata == {"y": MV.int(2)}
    assert (new.value, new.output_name, new.tags) == (1, "a", {"t": "v"})
    assert out.metadata == {"x": MV.int(1)}


def test_output_accepts_str_data_version():
    assert dg.Output(1, data_version="abc").data_version == dg.DataVersion("abc")


def test_output_rejects_bad_arguments():
    with pytest.raises(dg.DefinitionError, match="output_name must be a str, got 3"):
        dg.Output(1, 3)
    with pytest.raises(dg.DefinitionError, match="data_version must be a DataVersion"):
        dg.Output(1, data_version=3)
    with pytest.raises(
        dg.DefinitionError, match=r"tag 'k': 1 is invalid; tag keys and values must be str"
    ):
        dg.Output(1, tags={"k": 1})
    with pytest.raises(dg.DefinitionError, match='metadata value for "bad"'):
        dg.Output(1, metadata={"bad": object()})


# -- DynamicOutput -----------------------------------------------------------------------------------


def test_dynamic_output_fields_equality_pickle():
    out = DynamicOutput("v", mapping_key="chunk_1", output_name="items", metadata={"n": 2})
    assert (out.value, out.mapping_key, out.output_name) == ("v", "chunk_1", "items")
    assert out.metadata == {"n": MV.int(2)}
    assert DynamicOutput("v", "chunk_1").output_name == "result"
    assert out == DynamicOutput("v", "chunk_1", "items", {"n": 2})
    assert out != DynamicOutput("v", "chunk_2", "items", {"n": 2})
    _roundtrip(out)
    assert DynamicOutput[int] is not None


@pytest.mark.parametrize("bad", ["a-b", "a b", "", "a/b", "ünï"])
def test_dynamic_output_rejects_bad_mapping_key(bad):
    with pytest.raises(dg.DefinitionError, match=r"mapping_key .* is invalid: .*\[A-Za-z0-9_\]"):
        DynamicOutput(1, bad)


def test_dynamic_output_bad_mapping_key_suggests_a_fix():
    with pytest.raises(dg.DefinitionError, match="e.g. 'file_1_csv'"):
        DynamicOutput(1, "file-1.csv")
    with pytest.raises(dg.DefinitionError, match="mapping_key 3 is invalid"):
        DynamicOutput(1, 3)


# -- MaterializeResult / ObserveResult ----------------------------------------------------------------


def test_materialize_result_without_value():
    result = dg.MaterializeResult(metadata={"rows": 3})
    assert result.has_value is False
    assert result.value is None
    assert result.asset_key is None
    assert result.metadata == {"rows": 3}  # kept as given, like Dagster
    assert result.check_results == []
    assert result.data_version is None
    assert result.tags is None
    assert "value=" not in repr(result)
    restored = _roundtrip(result)
    assert restored.has_value is False


def test_materialize_result_with_value_including_none():
    with_value = dg.MaterializeResult(value=[1, 2])
    assert with_value.has_value is True and with_value.value == [1, 2]
    assert "value=[1, 2]" in repr(with_value)
    explicit_none = dg.MaterializeResult(value=None)
    assert explicit_none.has_value is True and explicit_none.value is None
    assert explicit_none != dg.MaterializeResult()
    assert _roundtrip(explicit_none).has_value is True
    assert _roundtrip(with_value).value == [1, 2]


def test_materialize_result_fields_and_coercion():
    checks = [_CheckResult("nonneg", True), _CheckResult("unique", False)]
    result = dg.MaterializeResult(
        asset_key="a/b",
        metadata={"x": 1},
        check_results=tuple(checks),
        data_version=dg.DataVersion("v"),
        tags={"team": "data"},
    )
    assert result.asset_key == dg.AssetKey(["a/b"])  # one component, as AssetKey.from_coercible
    assert dg.MaterializeResult(asset_key=["a", "b"]).asset_key == dg.AssetKey(["a", "b"])
    assert result.check_results == checks and isinstance(result.check_results, list)
    assert result.data_version == dg.DataVersion("v")
    assert result.tags == {"team": "data"}
    assert result.check_result_named("unique") is checks[1]
    with pytest.raises(
        dg.InvariantViolationError,
        match=r"no check result named 'missing'; it has \['nonneg', 'unique'\]",
    ):
        result.check_result_named("missing")
    assert dg.MaterializeResult[int] is not None


def test_materialize_result_equality():
    assert dg.MaterializeResult(asset_key="a", metadata={"m": 1}) == dg.MaterializeResult(
        asset_key=dg.AssetKey("a"), metadata={"m": 1}
    )
    assert dg.MaterializeResult(asset_key="a") != dg.MaterializeResult(asset_key="b")
    assert dg.MaterializeResult(value=1) != dg.MaterializeResult(value=2)


def test_materialize_result_rejects_bad_arguments():
    with pytest.raises(dg.DefinitionError, match="MaterializeResult: metadata must be a mapping"):
        dg.MaterializeResult(metadata=[("a", 1)])
    with pytest.raises(
        dg.DefinitionError, match="check_results must be a list of AssetCheckResult"
    ):
        dg.MaterializeResult(check_results=_CheckResult("c", True))
    with pytest.raises(dg.DefinitionError, match="Cannot make an AssetKey"):
        dg.MaterializeResult(asset_key=3)
    with pytest.raises(dg.DefinitionError, match="MaterializeResult: tag"):
        dg.MaterializeResult(tags={"a": None})


def test_observe_result():
    result = ObserveResult(
        asset_key="src", metadata={"n": 1}, data_version=dg.DataVersion("7"), tags={"a": "b"}
    )
    assert result.asset_key == dg.AssetKey("src")
    assert result.metadata == {"n": 1}
    assert result.data_version.value == "7"
    assert result.check_results == []
    assert not hasattr(result, "has_value")
    assert repr(result).startswith("ObserveResult(asset_key=AssetKey(['src'])")
    _roundtrip(result)
    assert result != ObserveResult(asset_key="src")


# -- AssetMaterialization / AssetObservation ----------------------------------------------------------


@pytest.mark.parametrize("cls", [dg.AssetMaterialization, dg.AssetObservation])
def test_asset_event_fields(cls):
    event = cls(
        ["a", "b"],
        description="d",
        metadata={"rows": 3},
        partition="2024-01-01",
        tags={"dagster/data_version": "v9"},
    )
    assert event.asset_key == dg.AssetKey(["a", "b"])
    assert event.description == "d"
    assert event.metadata == {"rows": MV.int(3)}
    assert event.partition == "2024-01-01"
    assert event.tags == {"dagster/data_version": "v9"}
    assert event.label == "a b"
    assert event.data_version == "v9"
    restored = _roundtrip(event)
    assert restored.metadata["rows"] == MV.int(3)
    assert hash(restored) == hash(event)
    assert event != cls(["a", "b"])
    assert repr(event).startswith(f"{cls.__name__}(asset_key=AssetKey(['a', 'b'])")


@pytest.mark.parametrize("cls", [dg.AssetMaterialization, dg.AssetObservation])
def test_asset_event_str_key_is_split_like_dagster(cls):
    assert cls("a/b").asset_key == dg.AssetKey(["a", "b"])
    assert cls("my-table.v2").asset_key == dg.AssetKey(["my", "table", "v2"])
    assert cls("plain_name").asset_key == dg.AssetKey(["plain_name"])
    assert cls(dg.AssetKey(["x/y"])).asset_key == dg.AssetKey(["x/y"])  # an AssetKey is kept as is
    with pytest.raises(dg.DefinitionError, match="has no letters, digits or underscores"):
        cls("///")


def test_asset_event_defaults():
    event = dg.AssetMaterialization("a")
    assert event.description is None and event.partition is None
    assert event.metadata == {} and event.tags == {}
    assert event.data_version is None


def test_asset_event_rejects_bad_arguments():
    with pytest.raises(dg.DefinitionError, match="partition must be a partition key"):
        dg.AssetMaterialization("a", partition=5)
    with pytest.raises(dg.DefinitionError, match="description must be a str"):
        dg.AssetObservation("a", description=["x"])
    with pytest.raises(dg.DefinitionError, match="AssetObservation: tag"):
        dg.AssetObservation("a", tags={"k": 1})
    with pytest.raises(dg.DefinitionError, match='metadata value for "x"'):
        dg.AssetMaterialization("a", metadata={"x": {1, 2}})


def test_asset_event_with_metadata():
    event = dg.AssetObservation("a", description="d", metadata={"x": 1}, partition="p")
    new = event.with_metadata({"y": "z"})
    assert type(new) is dg.AssetObservation
    assert new.metadata == {"y": MV.text("z")}
    assert (new.asset_key, new.description, new.partition) == (event.asset_key, "d", "p")


def test_asset_materialization_file():
    event = dg.AssetMaterialization.file("/tmp/out/report.csv", description="the report")
    assert event.asset_key == dg.AssetKey(["tmp", "out", "report", "csv"])
    assert event.metadata == {"path": MV.path("/tmp/out/report.csv")}
    assert event.description == "the report"
    keyed = dg.AssetMaterialization.file("/tmp/x.csv", asset_key=["reports", "x"])
    assert keyed.asset_key == dg.AssetKey(["reports", "x"])


def test_materialization_and_observation_are_not_equal():
    assert dg.AssetMaterialization("a") != dg.AssetObservation("a")


# -- DataVersion, ExpectationResult --------------------------------------------------------------------


def test_data_version():
    version = dg.DataVersion("abc")
    assert version.value == "abc"
    assert version == dg.DataVersion("abc") and version != dg.DataVersion("abd")
    assert len({version, dg.DataVersion("abc")}) == 1
    assert repr(version) == "DataVersion(value='abc')"
    _roundtrip(version)
    with pytest.raises(dg.DefinitionError, match=r"DataVersion needs a str, got 3 \(a int\)"):
        dg.DataVersion(3)


def test_data_versions_by_partition():
    versions = DataVersionsByPartition({"p1": "a", "p2": dg.DataVersion("b")})
    assert versions.data_versions_by_partition == {
        "p1": dg.DataVersion("a"),
        "p2": dg.DataVersion("b"),
    }
    _roundtrip(versions)
    with pytest.raises(
        dg.DefinitionError,
        match=r"DataVersionsByPartition\['p'\]: the data version must not be None",
    ):
        DataVersionsByPartition({"p": None})
    with pytest.raises(dg.DefinitionError, match="partition keys must be str"):
        DataVersionsByPartition({1: "a"})


def test_expectation_result():
    result = ExpectationResult(True, metadata={"n": 1})
    assert result.success is True
    assert result.label == "result"
    assert result.description is None
    assert result.metadata == {"n": MV.int(1)}
    assert ExpectationResult(False, "lbl", "desc").label == "lbl"
    assert result != ExpectationResult(False)
    _roundtrip(result)
    with pytest.raises(dg.DefinitionError, match="success must be a bool"):
        ExpectationResult("yes")
