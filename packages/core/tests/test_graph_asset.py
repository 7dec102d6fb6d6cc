"""Graph-backed assets: @graph_asset, @graph_multi_asset and AssetsDefinition.from_graph."""

from __future__ import annotations

import pytest

import weir as dg


@dg.op
def double(values: list) -> list:
    return [v * 2 for v in values]


@dg.op
def total(values: list) -> int:
    return sum(values)


@dg.asset
def numbers() -> list:
    return [1, 2, 3]


@dg.graph_asset
def doubled_total(numbers):
    return total(double(numbers))


def test_graph_asset_runs_its_ops_and_materializes_the_output(tmp_path):
    result = dg.materialize(
        [numbers, doubled_total],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
    )
    assert result.success
    assert result.asset_value("doubled_total") == 12
    steps = [e.step_key for e in result.get_step_success_events()]
    assert "doubled_total.double" in steps and "doubled_total.total" in steps
    assert [m.asset_key for m in result.asset_materializations_for_node("doubled_total")] == [
        dg.AssetKey("doubled_total")
    ]
    assert (tmp_path / "doubled_total").exists()
    assert doubled_total.keys_by_input_name == {"numbers": dg.AssetKey("numbers")}


def test_graph_multi_asset_and_from_graph():
    @dg.op(out={"evens": dg.Out(list), "odds": dg.Out(list)})
    def split(values: list):
        return [v for v in values if v % 2 == 0], [v for v in values if v % 2]

    @dg.graph_multi_asset(outs={"evens": dg.AssetOut(), "odds": dg.AssetOut()})
    def parity(numbers):
        evens, odds = split(numbers)
        return {"evens": evens, "odds": odds}

    result = dg.materialize_to_memory([numbers, parity])
    assert result.asset_value("evens") == [2]
    assert result.asset_value("odds") == [1, 3]

    @dg.graph
    def summed(values):
        return total(values)

    from_graph = dg.AssetsDefinition.from_graph(
        summed,
        keys_by_input_name={"values": dg.AssetKey("numbers")},
        keys_by_output_name={"result": dg.AssetKey("summed_numbers")},
    )
    assert dg.materialize_to_memory([numbers, from_graph]).asset_value("summed_numbers") == 6


def test_failing_inner_op_fails_the_asset_and_blocks_downstream():
    @dg.op
    def explode(values: list) -> list:
        raise ValueError("bad values")

    @dg.graph_asset
    def broken(numbers):
        return explode(numbers)

    @dg.asset
    def after(broken):
        return broken

    with pytest.raises(ValueError, match="bad values"):
        dg.materialize_to_memory([numbers, broken, after])
    result = dg.materialize_to_memory([numbers, broken, after], raise_on_error=False)
    assert not result.success
    assert result.is_node_untouched("after")
    assert any(e.step_key == "broken.explode" for e in result.get_step_failure_events())


def test_graph_asset_must_return_an_op_output():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="must return the output of an op"):

        @dg.graph_asset
        def nothing(numbers):
            double(numbers)
