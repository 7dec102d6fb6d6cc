"""OutputContext / InputContext: fields, identifiers, partitions, errors, builders and cost."""

from __future__ import annotations

import inspect
import time
import typing
from typing import Any, NamedTuple

import pytest

import weir as dg
from weir._io.contexts import InputContext, OutputContext


def test_builder_signatures_match_dagster() -> None:
    out_params = list(inspect.signature(dg.build_output_context).parameters)
    assert out_params == [
        "step_key", "name", "definition_metadata", "run_id", "mapping_key", "config",
        "dagster_type", "version", "resource_config", "resources", "op_def", "asset_key",
        "partition_key", "asset_partitions_def", "asset_partition_key_range", "instance",
        "asset_spec", "metadata", "output_metadata",
    ]  # fmt: skip
    in_params = list(inspect.signature(dg.build_input_context).parameters)
    assert in_params == [
        "name", "config", "definition_metadata", "upstream_output", "dagster_type",
        "resource_config", "resources", "op_def", "step_context", "asset_key", "partition_key",
        "asset_partition_key_range", "asset_partitions_def", "instance", "metadata",
    ]  # fmt: skip
    for fn in (dg.build_output_context, dg.build_input_context):
        assert all(p.default is None for p in inspect.signature(fn).parameters.values())


def test_output_context_identity_and_fields() -> None:
    ctx = dg.build_output_context(
        step_key="my_op",
        name="result",
        run_id="run-1",
        definition_metadata={"owner": "me"},
        output_metadata={"rows": 3},
        config={"c": 1},
        version="v1",
        resource_config={"base": "/x"},
    )
    assert ctx.get_identifier() == ["run-1", "my_op", "result"]
    assert (ctx.step_key, ctx.name, ctx.run_id, ctx.version) == ("my_op", "result", "run-1", "v1")
    assert ctx.definition_metadata == {"owner": "me"} == ctx.metadata
    assert ctx.output_metadata == {"rows": 3}
    assert ctx.config == {"c": 1} and ctx.resource_config == {"base": "/x"}
    assert not ctx.has_asset_key and not ctx.has_partition_key and not ctx.has_asset_partitions
    mapped = dg.build_output_context(step_key="s", name="out", run_id="r", mapping_key="k1")
    assert mapped.get_identifier() == ["r", "s", "out", "k1"]


def test_asset_identifier_adds_the_partition_key() -> None:
    ctx = dg.build_output_context(asset_key=["raw", "orders"])
    assert ctx.asset_key == dg.AssetKey(["raw", "orders"])
    assert ctx.get_asset_identifier() == ["raw", "orders"]
    assert ctx.asset_spec.key == ctx.asset_key
    part = dg.build_output_context(asset_key="orders", partition_key="2024-01-01")
    assert part.get_asset_identifier() == ["orders", "2024-01-01"]
    assert part.has_asset_partitions and part.asset_partition_key == "2024-01-01"
    assert part.asset_partition_keys == ["2024-01-01"]
    rng = part.asset_partition_key_range
    assert (rng.start, rng.end) == ("2024-01-01", "2024-01-01")


def test_a_spec_without_partitions_makes_the_asset_unpartitioned_in_a_partitioned_run() -> None:
    spec = dg.AssetSpec("static")
    ctx = OutputContext(asset_key=spec.key, asset_spec=spec, partition_key="2024-01-01")
    assert ctx.has_partition_key and ctx.partition_key == "2024-01-01"
    assert not ctx.has_asset_partitions
    assert ctx.get_asset_identifier() == ["static"]
    with pytest.raises(dg.DagsterInvariantViolationError, match="not partitioned in this run"):
        ctx.asset_partition_key  # noqa: B018


class Range(NamedTuple):
    start: str
    end: str


class FakeDaily:
    """Just enough of a partitions definition to enumerate a key range."""

    def get_partition_keys_in_range(self, rng: Any) -> list[str]:
        first, last = int(rng.start[-2:]), int(rng.end[-2:])
        return [f"2024-01-{d:02d}" for d in range(first, last + 1)]


def test_key_ranges_need_the_partitions_definition_to_expand() -> None:
    rng = Range("2024-01-01", "2024-01-03")
    ctx = dg.build_output_context(asset_key="daily", asset_partition_key_range=rng)
    assert ctx.has_asset_partitions and ctx.asset_partition_key_range is rng
    with pytest.raises(
        dg.DagsterInvariantViolationError, match="without the asset's partitions definition"
    ):
        ctx.asset_partition_keys  # noqa: B018
    with pytest.raises(dg.DagsterInvariantViolationError, match="spans partitions"):
        ctx.asset_partition_key  # noqa: B018
    with_def = dg.build_output_context(
        asset_key="daily", asset_partition_key_range=rng, asset_partitions_def=FakeDaily()
    )
    assert with_def.asset_partition_keys == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert isinstance(with_def.asset_partitions_def, FakeDaily)
    with pytest.raises(dg.DagsterInvariantViolationError, match="not partitioned by time"):
        with_def.asset_partitions_time_window  # noqa: B018


def test_missing_fields_raise_clear_errors() -> None:
    ctx = dg.build_output_context()
    with pytest.raises(
        dg.DagsterInvariantViolationError,
        match="Attempting to access asset_key, but no asset is associated with this output",
    ):
        ctx.asset_key  # noqa: B018
    with pytest.raises(dg.DagsterInvariantViolationError, match="access step_key.*Pass step_key="):
        ctx.step_key  # noqa: B018
    with pytest.raises(dg.DagsterInvariantViolationError, match="run_id"):
        ctx.get_identifier()
    with pytest.raises(dg.DagsterInvariantViolationError, match="instance"):
        ctx.instance  # noqa: B018
    with pytest.raises(dg.DagsterInvariantViolationError, match="non-partitioned run"):
        ctx.partition_key  # noqa: B018
    with pytest.raises(dg.DagsterInvariantViolationError, match="no partitions definition"):
        dg.build_output_context(asset_key="a").asset_partitions_def  # noqa: B018
    with pytest.raises(
        dg.DagsterInvariantViolationError, match="no asset is associated with this input"
    ):
        dg.build_input_context(name="x").asset_key  # noqa: B018


def test_dagster_type_view() -> None:
    assert dg.build_output_context().dagster_type.display_name == "Any"
    assert dg.build_output_context().dagster_type.typing_type is typing.Any
    typed = OutputContext(dagster_type=int)
    assert typed.dagster_type.typing_type is int
    assert typed.dagster_type.display_name == "Int"
    assert OutputContext(dagster_type=list[str]).dagster_type.display_name == "[String]"
    upstream = typed.dagster_type
    assert InputContext(dagster_type=upstream).dagster_type is upstream


def test_output_metadata_is_collected_and_consumed_once() -> None:
    ctx = dg.build_output_context(asset_key="a")
    assert ctx.consume_output_metadata() is None
    ctx.add_output_metadata({"path": "/x"})
    ctx.add_output_metadata({"rows": 2})
    assert ctx.get_logged_metadata() == {"path": "/x", "rows": 2}
    assert ctx.consume_output_metadata() == {"path": "/x", "rows": 2}
    assert ctx.consume_output_metadata() is None
    ctx.log_event(dg.AssetObservation("a"))
    assert [e.asset_key for e in ctx.consume_logged_events()] == [dg.AssetKey("a")]
    assert ctx.consume_logged_events() == []


def test_input_context_follows_its_upstream_output() -> None:
    upstream = dg.build_output_context(
        step_key="up", name="result", run_id="r1", asset_key=["a", "b"]
    )
    ctx = dg.build_input_context(name="b", upstream_output=upstream, metadata={"m": 1})
    assert ctx.asset_key == dg.AssetKey(["a", "b"])  # the upstream asset
    assert ctx.get_identifier() == ["r1", "up", "result"]
    assert ctx.get_asset_identifier() == ["a", "b"]
    assert ctx.upstream_output is upstream
    assert ctx.definition_metadata == {"m": 1} == ctx.metadata
    ctx.add_input_metadata({"loaded_rows": 5})
    assert ctx.consume_input_metadata() == {"loaded_rows": 5}
    part = dg.build_input_context(asset_key="d", partition_key="p1")
    assert part.has_asset_partitions and part.get_asset_identifier() == ["d", "p1"]
    with pytest.raises(dg.DagsterInvariantViolationError, match="no upstream_output"):
        dg.build_input_context(name="lonely").get_identifier()


def test_input_context_is_unpartitioned_when_the_upstream_spec_is() -> None:
    spec = dg.AssetSpec("static")
    upstream = OutputContext(asset_key=spec.key, asset_spec=spec)
    ctx = InputContext(
        name="static", upstream_output=upstream, asset_key=spec.key, partition_key="p"
    )
    assert not ctx.has_asset_partitions and ctx.get_asset_identifier() == ["static"]


def test_builders_initialise_resources_and_tear_them_down() -> None:
    closed: list[str] = []

    @dg.resource
    def conn(_ctx: Any) -> Any:
        yield "live"
        closed.append("conn")

    with dg.build_output_context(resources={"conn": conn, "raw": 3}) as ctx:
        assert ctx.resources.conn == "live" and ctx.resources["raw"] == 3
    assert closed == ["conn"]
    assert len(dg.build_input_context().resources) == 0


def test_contexts_are_cheap_to_build() -> None:
    spec = dg.AssetSpec(["a", "b"])
    key = spec.key
    n = 5000
    start = time.perf_counter()
    for i in range(n):
        out = OutputContext(
            step_key="a__b", name="result", job_name="j", run_id="r", definition_metadata={},
            dagster_type=int, log=None, resources=None, op_def=None, asset_key=key,
            asset_spec=spec, partition_key=None, instance=None, version=None,
        )  # fmt: skip
        InputContext(
            name="b", job_name="j", op_def=None, definition_metadata={}, metadata={},
            upstream_output=out, dagster_type=int, resources=None, asset_key=key,
            partition_key=None, instance=None,
        )  # fmt: skip
    per_pair_us = (time.perf_counter() - start) / n * 1e6
    # two contexts per loaded input are a sliver of the 500 us per-asset budget
    assert per_pair_us < 50, f"building an output + input context took {per_pair_us:.1f} us"
