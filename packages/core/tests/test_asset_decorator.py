"""@asset / @multi_asset: keys, inputs, deps, specs and definition-time errors."""

from __future__ import annotations

import pytest

import weir as dg


def test_bare_and_called_forms_produce_keys_and_op_names():
    @dg.asset
    def plain():
        return 1

    @dg.asset(key_prefix=["pre", "fix"], name="p_up")
    def anything():
        return 2

    assert plain.key == dg.AssetKey(["plain"])
    assert anything.key == dg.AssetKey(["pre", "fix", "p_up"])
    assert anything.op.name == "pre__fix__p_up"
    assert anything.node_def is anything.op


def test_key_prefix_as_string_and_explicit_key():
    @dg.asset(key_prefix="raw")
    def orders():
        return []

    @dg.asset(key=["a", "b"])
    def whatever():
        return 1

    assert orders.key.path == ["raw", "orders"]
    assert whatever.key == dg.AssetKey(["a", "b"])


def test_key_with_name_is_rejected_with_dagster_message():
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match="Cannot specify a name or key prefix for @asset when the key argument is provided",
    ):

        @dg.asset(key="x", name="y")
        def f():
            return 1


def test_parameters_become_inputs_and_context_is_detected():
    @dg.asset
    def down(context: dg.AssetExecutionContext, up, other):
        return 1

    assert dict(down.keys_by_input_name) == {"up": dg.AssetKey("up"), "other": dg.AssetKey("other")}
    assert down.op.fn_info.context_param == "context"
    assert down.dependency_keys == {dg.AssetKey("up"), dg.AssetKey("other")}


def test_ins_override_key_and_unknown_ins_name_fails():
    @dg.asset(ins={"x": dg.AssetIn(key=["raw", "orders"])})
    def cleaned(x):
        return x

    assert cleaned.keys_by_input_name["x"] == dg.AssetKey(["raw", "orders"])

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="not parameters of the function"):

        @dg.asset(ins={"nope": dg.AssetIn()})
        def bad(x):
            return x


def test_deps_coercion_of_every_accepted_form():
    spec = dg.AssetSpec(["ext", "table"])

    @dg.asset
    def up():
        return 1

    @dg.asset(deps=["a", ["b", "c"], dg.AssetKey("d"), spec, up, dg.AssetDep("e")])
    def down():
        return 2

    assert down.dependency_keys == {
        dg.AssetKey("a"),
        dg.AssetKey(["b", "c"]),
        dg.AssetKey("d"),
        dg.AssetKey(["ext", "table"]),
        dg.AssetKey("up"),
        dg.AssetKey("e"),
    }


def test_string_dep_with_slash_is_rejected_with_hint():
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match=r"may not contain '/'.*\['a', 'b'\]"
    ):

        @dg.asset(deps=["a/b"])
        def down():
            return 1


def test_dep_that_is_also_an_input_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="both a data input"):

        @dg.asset(deps=["up"])
        def down(up):
            return up


def test_spec_attributes_flow_into_the_definition():
    @dg.asset(
        group_name="finance",
        tags={"tier": "gold"},
        owners=["team:data", "a@b.com"],
        kinds={"python", "duckdb"},
        code_version="3",
        metadata={"rows": 5},
        description="Revenue per day.",
    )
    def revenue():
        return 1

    spec = revenue.get_asset_spec()
    assert spec.group_name == "finance"
    assert spec.tags == {"tier": "gold", "dagster/kind/python": "", "dagster/kind/duckdb": ""}
    assert spec.owners == ("team:data", "a@b.com")
    assert spec.kinds == {"python", "duckdb"}
    assert spec.code_version == "3"
    assert spec.metadata == {"rows": 5}
    assert spec.description == "Revenue per day."
    assert revenue.group_names_by_key == {dg.AssetKey("revenue"): "finance"}


def test_docstring_is_the_default_description_and_group_defaults_to_default():
    @dg.asset
    def documented():
        """Cleaned orders.

        More words.
        """
        return 1

    assert documented.get_asset_spec().description.startswith("Cleaned orders.")
    assert documented.group_names_by_key[documented.key] == "default"


def test_too_many_kinds_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="at most 3"):
        dg.AssetSpec("a", kinds={"a", "b", "c", "d"})


def test_invalid_owner_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="owners must be an email"):

        @dg.asset(owners=["bob"])
        def f():
            return 1


def test_invalid_name_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="not a valid name"):
        dg.asset(name="has space")(lambda: 1)


def test_unexpected_keyword_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="unexpected keyword"):
        dg.asset(colour="red")(lambda: 1)


def test_multi_asset_with_outs():
    @dg.multi_asset(
        outs={"a": dg.AssetOut(), "b": dg.AssetOut(key=["x", "b"], io_manager_key="other")},
        group_name="g",
    )
    def ma(up):
        return 1, 2

    assert ma.keys == {dg.AssetKey("a"), dg.AssetKey(["x", "b"])}
    assert ma.op.name == "ma"
    assert ma.get_io_manager_key_for_asset_key(dg.AssetKey(["x", "b"])) == "other"
    assert ma.get_io_manager_key_for_asset_key(dg.AssetKey("a")) == "io_manager"
    assert all(spec.group_name == "g" for spec in ma.specs)
    assert ma.asset_deps[dg.AssetKey("a")] == {dg.AssetKey("up")}


def test_multi_asset_with_specs_and_internal_deps():
    @dg.multi_asset(specs=[dg.AssetSpec("s1"), dg.AssetSpec("s2", deps=["s1"])], can_subset=True)
    def ms():
        yield dg.MaterializeResult(asset_key="s1")
        yield dg.MaterializeResult(asset_key="s2")

    assert ms.can_subset
    assert ms.keys_by_output_name == {"s1": dg.AssetKey("s1"), "s2": dg.AssetKey("s2")}
    assert ms.asset_deps[dg.AssetKey("s2")] == {dg.AssetKey("s1")}


def test_multi_asset_needs_exactly_one_of_outs_and_specs():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="exactly one of outs= or specs="):

        @dg.multi_asset()
        def nothing():
            return None


def test_asset_spec_is_immutable_and_replace_merge_work():
    spec = dg.AssetSpec("a", tags={"x": "1"}, deps=["b"])
    with pytest.raises(AttributeError):
        spec.group_name = "g"  # type: ignore[misc]
    replaced = spec.replace_attributes(group_name="g")
    merged = spec.merge_attributes(tags={"y": "2"}, deps=["c"])
    assert replaced.group_name == "g" and spec.group_name is None
    assert merged.tags == {"x": "1", "y": "2"}
    assert [d.asset_key for d in merged.deps] == [dg.AssetKey("b"), dg.AssetKey("c")]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="no attribute"):
        spec.replace_attributes(colour="red")
    assert dg.AssetSpec("a/b").key.path == ["a/b"]


def test_asset_key_forms():
    key = dg.AssetKey(["a", "b"])
    assert key.to_user_string() == "a/b"
    assert key.to_string() == '["a", "b"]'
    assert key.to_python_identifier() == "a__b"
    assert dg.AssetKey.from_user_string("a/b") == key
    assert dg.AssetKey("a/b").path == ["a/b"]
    assert key.with_prefix("p") == dg.AssetKey(["p", "a", "b"])
    assert key.has_prefix(["a"]) and not key.has_prefix(["b"])
    assert sorted([dg.AssetKey("b"), dg.AssetKey("a")]) == [dg.AssetKey("a"), dg.AssetKey("b")]
    assert len({dg.AssetKey(["a"]), dg.AssetKey("a")}) == 1
    import pickle

    assert pickle.loads(pickle.dumps(key)) == key
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.AssetKey([])
