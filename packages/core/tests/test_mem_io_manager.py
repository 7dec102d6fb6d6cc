"""InMemoryIOManager and mem_io_manager."""

from __future__ import annotations

import pytest

import weir as dg
from weir._config.resources import initialize_resources


def test_assets_are_keyed_by_asset_key_across_runs() -> None:
    io = dg.InMemoryIOManager()
    out = dg.build_output_context(
        asset_key=["pre", "a"], run_id="run-1", step_key="pre__a", name="result"
    )
    io.handle_output(out, [1, 2])
    assert io.values == {("asset", ("pre", "a"), None): [1, 2]}
    later = dg.build_output_context(
        asset_key=["pre", "a"], step_key="pre__a", name="result"
    )  # no run id
    assert io.load_input(dg.build_input_context(upstream_output=later)) == [1, 2]


def test_partitions_are_kept_apart() -> None:
    io = dg.InMemoryIOManager()
    for pk in ("p1", "p2"):
        io.handle_output(dg.build_output_context(asset_key="d", partition_key=pk), pk.upper())
    loaded = [
        io.load_input(dg.build_input_context(asset_key="d", partition_key=pk))
        for pk in ("p1", "p2")
    ]
    assert loaded == ["P1", "P2"]
    with pytest.raises(KeyError, match="asset 'd' \\(partition 'p3'\\)"):
        io.load_input(dg.build_input_context(asset_key="d", partition_key="p3"))


def test_op_outputs_are_keyed_by_run_step_and_output() -> None:
    io = dg.InMemoryIOManager()
    out = dg.build_output_context(run_id="r1", step_key="op", name="result")
    io.handle_output(out, 5)
    assert io.load_input(dg.build_input_context(name="x", upstream_output=out)) == 5
    other_run = dg.build_output_context(run_id="r2", step_key="op", name="result")
    with pytest.raises(dg.DagsterError) as info:
        io.load_input(dg.build_input_context(name="x", upstream_output=other_run))
    assert "output 'result' of step 'op' in run 'r2'" in str(info.value)


def test_missing_asset_names_the_key_and_says_what_to_do() -> None:
    io = dg.InMemoryIOManager()
    with pytest.raises(dg.WeirError) as info:
        io.load_input(dg.build_input_context(asset_key=["raw", "orders"]))
    message = str(info.value)
    assert "no value for asset 'raw/orders'" in message
    assert "materialize 'raw/orders' first" in message
    assert isinstance(info.value, KeyError)  # Dagster's in-memory manager raises KeyError
    with pytest.raises(dg.WeirError, match="neither an asset key nor an upstream output"):
        io.load_input(dg.build_input_context(name="orphan"))


def test_a_later_materialize_loads_what_an_earlier_one_stored() -> None:
    io = dg.InMemoryIOManager()

    @dg.asset
    def up() -> int:
        return 20

    @dg.asset
    def down(up: int) -> int:
        return up + 1

    assert dg.materialize([up], resources={"io_manager": io}).success
    second = dg.materialize([up, down], resources={"io_manager": io}, selection=[down])
    assert second.asset_value("down") == 21


def test_mem_io_manager_starts_empty_every_run() -> None:
    out = dg.build_output_context(asset_key="a")
    with initialize_resources({"io_manager": dg.mem_io_manager}, ["io_manager"]) as live:
        live.io_manager.handle_output(out, 1)
        assert live.io_manager.load_input(dg.build_input_context(asset_key="a")) == 1
    with initialize_resources({"io_manager": dg.mem_io_manager}, ["io_manager"]) as live:
        assert isinstance(live.io_manager, dg.InMemoryIOManager)
        assert live.io_manager.values == {}


def test_registered_under_its_plugin_name() -> None:
    assert dg.InMemoryIOManager.plugin_name == "in_memory"
    assert isinstance(dg.mem_io_manager, dg.IOManagerDefinition)


def test_every_form_of_io_manager_is_recognised() -> None:
    from weir._io.io_manager import is_io_manager_resource

    for io in (
        dg.InMemoryIOManager(),
        dg.mem_io_manager,
        dg.fs_io_manager,
        dg.FilesystemIOManager(),
        dg.PickledObjectFilesystemIOManager(),
    ):
        assert is_io_manager_resource(io), io
    assert not is_io_manager_resource({"a": 1})
    assert not is_io_manager_resource(dg.ResourceDefinition.hardcoded_resource(1))
