"""Definitions: resolution, validation errors, merge, jobs and loaders."""

from __future__ import annotations

import sys
import textwrap
import types

import pytest

import weir as dg


@dg.asset
def upstream():
    return 1


@dg.asset
def downstream(upstream):
    return upstream + 1


def test_resolve_graph_keys_and_specs():
    defs = dg.Definitions(assets=[upstream, downstream, dg.AssetSpec("external")])
    graph = defs.resolve_asset_graph()
    assert graph.parents(dg.AssetKey("downstream")) == {dg.AssetKey("upstream")}
    assert defs.resolve_all_asset_keys() == [
        dg.AssetKey("downstream"),
        dg.AssetKey("external"),
        dg.AssetKey("upstream"),
    ]
    assert [s.key for s in defs.resolve_all_asset_specs()][-1] == dg.AssetKey("downstream")
    assert dg.AssetKey("external") in graph.external_asset_keys
    assert defs.get_assets_def("downstream") is not None


def test_duplicate_keys_name_both_definitions():
    def make():
        @dg.asset(name="dup")
        def first():
            return 1

        return first

    a, b = make(), make()
    defs = dg.Definitions(assets=[a, b])
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"Duplicate asset key: AssetKey\(\['dup'\]\).*test_definitions_resolve.py:\d+",
    ):
        dg.Definitions.validate_loadable(defs)


def test_missing_input_gives_did_you_mean():
    @dg.asset(key_prefix="raw", name="upstream")
    def raw_up():
        return 1

    @dg.asset(name="down2")
    def d(upstream):
        return upstream

    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r'Input asset "upstream".*Did you mean one of the following\? \[\'raw/upstream\'\]',
    ):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[raw_up, d]))


def test_shared_prefix_resolves_bare_input_names():
    @dg.asset(key_prefix="raw")
    def up():
        return 1

    @dg.asset(key_prefix="raw")
    def down(up):
        return up

    defs = dg.Definitions(assets=[up, down])
    assert defs.resolve_asset_graph().parents(dg.AssetKey(["raw", "down"])) == {
        dg.AssetKey(["raw", "up"])
    }


def test_cycle_is_named():
    @dg.asset(deps=["c"])
    def a():
        return 1

    @dg.asset(deps=["a"])
    def b():
        return 1

    @dg.asset(deps=["b"])
    def c():
        return 1

    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"[Cc]ycle.*a.*b.*c"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[a, b, c]))


def test_missing_resource_names_key_and_op():
    @dg.asset(required_resource_keys={"db"})
    def needs_res():
        return 1

    with pytest.raises(
        dg.WeirError,
        match=r"resource with key 'db' required by op 'needs_res' was not provided.*\['io_manager'\]",
    ):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[needs_res]))
    dg.Definitions.validate_loadable(dg.Definitions(assets=[needs_res], resources={"db": object()}))


def test_resource_needing_a_missing_resource_is_named():
    @dg.io_manager(required_resource_keys={"s3"})
    def bucket_io(init_context):
        return dg.InMemoryIOManager()

    @dg.asset
    def stored():
        return 1

    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"resource with key 's3' required by resource with key 'io_manager' was not provided",
    ):
        dg.Definitions.validate_loadable(
            dg.Definitions(assets=[stored], resources={"io_manager": bucket_io, "s4": object()})
        )
    dg.Definitions.validate_loadable(
        dg.Definitions(assets=[stored], resources={"io_manager": bucket_io, "s3": object()})
    )


def test_non_asset_in_assets_list_is_explained():
    def not_decorated():
        return 1

    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="Did you forget to decorate it with @asset"
    ):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[not_decorated]))


def test_undefined_plain_dep_becomes_external_stub():
    @dg.asset(deps=["somewhere_else"])
    def consumer():
        return 1

    graph = dg.Definitions(assets=[consumer]).resolve_asset_graph()
    assert dg.AssetKey("somewhere_else") in graph.external_asset_keys


def test_merge_concatenates_and_rejects_conflicting_resources():
    d1 = dg.Definitions(assets=[upstream], resources={"r": 1})
    d2 = dg.Definitions(assets=[downstream], resources={"r": 1})
    merged = dg.Definitions.merge(d1, d2)
    assert len(merged.assets) == 2
    with pytest.raises(
        dg.DagsterInvariantViolationError,
        match="Definitions objects 0 and 1 have different resources with same key 'r'",
    ):
        dg.Definitions.merge(d1, dg.Definitions(resources={"r": 2}))


def test_jobs_resolve_and_duplicates_fail():
    job = dg.define_asset_job("everything", selection="*")
    defs = dg.Definitions(assets=[upstream, downstream], jobs=[job])
    resolved = defs.get_job_def("everything")
    assert resolved.asset_selection == {dg.AssetKey("upstream"), dg.AssetKey("downstream")}
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="Duplicate job definition found for job 'j'"
    ):
        dg.Definitions.validate_loadable(
            dg.Definitions(
                assets=[upstream], jobs=[dg.define_asset_job("j"), dg.define_asset_job("j")]
            )
        )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Did you mean"):
        defs.get_job_def("everythin")


def test_job_from_definitions_executes(tmp_path):
    defs = dg.Definitions(
        assets=[upstream, downstream],
        jobs=[dg.define_asset_job("only_up", selection=[upstream])],
        resources={"io_manager": dg.InMemoryIOManager()},
    )
    result = defs.get_job_def("only_up").execute_in_process()
    assert result.success
    assert [e.step_key for e in result.get_step_success_events()] == ["upstream"]
    implicit = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert implicit.asset_value("downstream") == 2


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(textwrap.dedent(source), module.__dict__)
    sys.modules[name] = module
    return module


def test_load_assets_from_modules_with_prefix_and_group():
    mod = _module(
        "weir_test_mod_a",
        """
        import weir as dg

        @dg.asset
        def up():
            return 1

        @dg.asset
        def down(up):
            return up + 1
        """,
    )
    loaded = dg.load_assets_from_modules([mod], group_name="g", key_prefix="pre")
    defs = dg.Definitions(assets=loaded)
    graph = defs.resolve_asset_graph()
    assert graph.parents(dg.AssetKey(["pre", "down"])) == {dg.AssetKey(["pre", "up"])}
    assert all(graph.get(k).spec.group_name == "g" for k in graph.all_asset_keys)
    result = dg.materialize_to_memory(loaded)
    assert result.asset_value(dg.AssetKey(["pre", "down"])) == 2


def test_load_assets_from_modules_duplicate_key_across_modules():
    m1 = _module("weir_test_mod_b", "import weir as dg\n@dg.asset\ndef same():\n    return 1\n")
    m2 = _module("weir_test_mod_c", "import weir as dg\n@dg.asset\ndef same():\n    return 2\n")
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="weir_test_mod_b.same and weir_test_mod_c.same"
    ):
        dg.load_assets_from_modules([m1, m2])
