"""What keeps defining and resolving thousands of assets cheap, and that it changes no behaviour.

Interned asset keys, ``AssetSpec`` deps made on first use, ``AssetsDefinition`` key sets built on
first use, ``@asset`` options passed as one tuple, graph nodes with lazily built child sets and a
resolver that runs its error-reporting passes only when something is wrong.
"""

from __future__ import annotations

import ast
import gc
import inspect
import pickle
import textwrap

import pytest

import weir as dg
from weir._graph.asset_graph import AssetGraph, AssetNode
from weir._graph.resolve import resolve_assets
from weir._model import asset_decorator

AK = dg.AssetKey


def uninterned(*parts: str) -> dg.AssetKey:
    """An AssetKey equal to ``AssetKey(list(parts))`` but not the shared (interned) object."""
    return tuple.__new__(AK, parts)


# -- AssetKey -----------------------------------------------------------------------------------
def test_equal_keys_are_one_object_whatever_form_built_them() -> None:
    assert AK("cost_a") is AK(["cost_a"]) is AK(("cost_a",)) is AK.from_coercible("cost_a")
    assert AK(["cost_p", "b"]) is AK(("cost_p", "b")) is AK.from_user_string("cost_p/b")
    assert pickle.loads(pickle.dumps(AK(["cost_p", "b"]))) is AK(["cost_p", "b"])
    assert AK("cost_p/b") is not AK(["cost_p", "b"])  # one component is never split


def test_interned_keys_keep_key_semantics() -> None:
    assert AK("cost_a") != ("cost_a",) and ("cost_a",) != AK("cost_a")
    assert uninterned("cost_a") == AK("cost_a") and uninterned("cost_a") is not AK("cost_a")
    assert hash(uninterned("cost_a")) == hash(AK("cost_a"))

    class Name(str):
        pass

    assert AK(Name("cost_sub")) == AK("cost_sub")
    assert AK([Name("cost_sub"), "x"]) == AK(["cost_sub", "x"])


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ([], "at least one path component"),
        ([1], r"must be strings, got 1 in \[1\]"),
        ([["x"]], r"must be strings, got \['x'\]"),  # unhashable: no lookup error leaks out
        (["a", 2], r"got 2 in \['a', 2\]"),
    ],
)
def test_bad_key_paths_still_fail_clearly(path: list[object], message: str) -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=message):
        AK(path)  # type: ignore[arg-type]


# -- AssetSpec ----------------------------------------------------------------------------------
def test_spec_deps_given_as_keys_are_asset_deps_on_access() -> None:
    spec = dg.AssetSpec("x", deps=["a", ["p", "b"], AK("c"), dg.AssetSpec("d")])
    assert spec.dep_keys == [AK("a"), AK(["p", "b"]), AK("c"), AK("d")]
    assert isinstance(spec.deps, tuple)
    assert spec.deps == (
        dg.AssetDep("a"),
        dg.AssetDep(["p", "b"]),
        dg.AssetDep("c"),
        dg.AssetDep("d"),
    )
    assert all(type(d) is dg.AssetDep for d in spec.deps)
    assert spec.deps is spec.deps  # made once
    assert dg.AssetSpec("x", deps=(k for k in ["a", "b"])).dep_keys == [AK("a"), AK("b")]
    assert dg.AssetSpec("x").deps == ()


def test_spec_keeps_given_asset_dep_objects() -> None:
    mapping = object()
    dep = dg.AssetDep("a", partition_mapping=mapping)
    spec = dg.AssetSpec("x", deps=[dep, "b"])
    assert spec.deps[0] is dep
    assert spec.deps[1] == dg.AssetDep("b")
    assert spec.deps[0].partition_mapping is mapping


def test_spec_equality_pickling_and_copies_see_the_same_deps() -> None:
    lazy = dg.AssetSpec("x", deps=["a"], tags={"t": "1"}, kinds=["python"])
    eager = dg.AssetSpec("x", deps=[dg.AssetDep("a")], tags={"t": "1"}, kinds=["python"])
    assert lazy == eager
    assert lazy != dg.AssetSpec("x", deps=[dg.AssetDep("a", partition_mapping=object())])
    assert lazy != dg.AssetSpec("x", deps=["b"])
    assert pickle.loads(pickle.dumps(lazy)) == lazy
    assert lazy.replace_attributes(description="d").deps == (dg.AssetDep("a"),)
    assert lazy.merge_attributes(deps=["b", "a"]).dep_keys == [AK("a"), AK("b")]
    assert lazy.tags == {"t": "1", "dagster/kind/python": ""}
    assert lazy.kinds == frozenset({"python"})


def test_spec_stays_immutable_and_subclassable() -> None:
    spec = dg.AssetSpec("x", deps=["a"])
    with pytest.raises(AttributeError, match="AssetSpec is immutable"):
        spec.description = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="AssetSpec is immutable"):
        spec.deps = ()  # type: ignore[misc]
    assert type(spec) is dg.AssetSpec

    class TeamSpec(dg.AssetSpec):
        pass

    sub = TeamSpec("y", deps=["a"], owners=["team:data"])
    assert type(sub) is TeamSpec
    assert (sub.key, sub.dep_keys, sub.owners) == (AK("y"), [AK("a")], ("team:data",))
    assert str(inspect.signature(dg.AssetSpec)).startswith("(key: 'CoercibleToAssetKey', *, deps")


def test_spec_duplicate_dep_is_named() -> None:
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="Asset 'x' lists dependency 'a' more than once"
    ):
        dg.AssetSpec("x", deps=["a", dg.AssetDep("a")])


# -- @asset -------------------------------------------------------------------------------------
def _tuple_names(node: ast.AST) -> list[str]:
    assert isinstance(node, ast.Tuple)
    return [elt.id for elt in node.elts if isinstance(elt, ast.Name)]


def test_asset_options_are_packed_and_unpacked_in_one_order() -> None:
    """``asset()`` builds a tuple of its options and ``_build_asset`` unpacks it: same order."""
    source = ast.parse(textwrap.dedent(inspect.getsource(asset_decorator)))
    functions = {n.name: n for n in source.body if isinstance(n, ast.FunctionDef)}
    packed = next(
        _tuple_names(stmt.value)
        for stmt in ast.walk(functions["asset"])
        if isinstance(stmt, ast.Assign)
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == "options"
    )
    unpacked = next(
        _tuple_names(stmt.targets[0])
        for stmt in ast.walk(functions["_build_asset"])
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name)
        if stmt.value.id == "options"
    )
    signature = [
        name
        for name, p in inspect.signature(dg.asset).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    expected = [*signature, "compute_kind", "non_argument_deps"]
    assert packed == unpacked == list(asset_decorator._ASSET_OPTIONS) == expected


def test_every_asset_option_reaches_the_definition() -> None:
    io_manager = object()

    @dg.asset(
        key_prefix=["lake"],
        deps=["up"],
        metadata={"m": 1},
        tags={"t": "v"},
        description="described",
        op_tags={"o": "p"},
        group_name="g",
        output_required=False,
        code_version="7",
        owners=["team:data"],
        kinds=["python"],
        pool="db",
        io_manager_def=io_manager,
        compute_kind="sql",
        non_argument_deps=["other"],
    )
    def cost_options() -> None:
        return None

    spec = cost_options.get_asset_spec()
    node = cost_options.node_def
    assert cost_options.key == AK(["lake", "cost_options"])
    assert node.name == "lake__cost_options"
    assert spec.dep_keys == [AK("up"), AK("other")]
    assert (spec.description, spec.group_name, spec.code_version) == ("described", "g", "7")
    assert spec.skippable is True and node.outs["result"].is_required is False
    assert spec.metadata == {"m": 1} and spec.owners == ("team:data",)
    assert spec.kinds == frozenset({"python", "sql"}) and spec.tags["t"] == "v"
    assert node.tags == {"o": "p"} and node.pool == "db" and node.code_version == "7"
    assert cost_options.resource_defs == {"lake__cost_options__io_manager": io_manager}
    assert node.outs["result"].io_manager_key == "lake__cost_options__io_manager"


def test_data_input_deps_are_shared_between_spec_and_input_deps() -> None:
    mapping = object()

    @dg.asset(ins={"up": dg.AssetIn(partition_mapping=mapping)}, deps=["side"])
    def cost_down(up: int) -> int:
        return up

    spec = cost_down.get_asset_spec()
    assert spec.deps[0] is cost_down.input_deps["up"]
    assert spec.deps[0].partition_mapping is mapping
    assert spec.deps[1] == dg.AssetDep("side")
    assert cost_down.required_resource_keys == frozenset({"io_manager"})


# -- AssetsDefinition ---------------------------------------------------------------------------
def test_key_sets_of_whole_and_subset_definitions() -> None:
    @dg.multi_asset(
        outs={"one": dg.AssetOut(), "two": dg.AssetOut()},
        can_subset=True,
        check_specs=[dg.AssetCheckSpec("ok", asset="one")],
    )
    def cost_pair():  # type: ignore[no-untyped-def]
        return 1, 2

    both = frozenset({AK("one"), AK("two")})
    assert cost_pair.keys == cost_pair.all_keys == both
    assert cost_pair.check_keys == {dg.AssetCheckKey(AK("one"), "ok")}
    assert not cost_pair.is_subset
    assert [s.key for s in cost_pair.specs] == [AK("one"), AK("two")]
    assert cost_pair.get_output_name_for_asset_key(AK("two")) == "two"
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="has 2 asset keys"):
        cost_pair.key  # noqa: B018

    part = cost_pair.subset_for([AK("two")], selected_asset_check_keys=[])
    assert part.keys == {AK("two")} and part.all_keys == both
    assert part.key == AK("two")
    assert part.check_keys == frozenset() and part.check_specs == []
    assert part.is_subset
    assert [s.key for s in part.specs] == [AK("two")]


# -- AssetGraph ---------------------------------------------------------------------------------
def _node(name: str, *parents: str) -> AssetNode:
    return AssetNode(
        AK(name),
        dg.AssetSpec(name),
        [AK(p) for p in parents],
        is_materializable=True,
        is_external=False,
    )


def test_child_keys_belong_to_the_graph_that_last_took_the_node() -> None:
    a, b, c = _node("a"), _node("b", "a"), _node("c", "a")
    assert a.child_keys == frozenset()  # not in a graph yet
    AssetGraph([a, b, c])
    assert a.child_keys == {AK("b"), AK("c")} and b.child_keys == frozenset()
    AssetGraph([a, b])
    assert a.child_keys == {AK("b")}
    a.child_keys = [AK("z")]
    assert a.child_keys == frozenset({AK("z")})


def test_cycle_fails_when_the_graph_is_built_not_when_it_is_ordered() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Dependency cycle: a -> b -> a"):
        AssetGraph([_node("a", "b"), _node("b", "a"), _node("c")])


def test_order_is_built_on_first_use_and_stays_stable() -> None:
    graph = AssetGraph([_node("d", "b", "c"), _node("c", "a"), _node("b", "a"), _node("a")])
    expected = [AK("a"), AK("b"), AK("c"), AK("d")]
    assert graph.toposorted_asset_keys == expected
    assert [n.key for n in graph] == expected
    assert graph.toposort([AK("d"), AK("a")]) == [AK("a"), AK("d")]


def test_graph_lookups_accept_equal_keys_that_are_not_interned() -> None:
    graph = AssetGraph(
        [
            _node("a"),
            AssetNode(
                AK("b"),
                dg.AssetSpec("b"),
                [uninterned("a")],
                is_materializable=True,
                is_external=False,
            ),
        ]
    )
    assert graph.get(uninterned("b")).parent_keys == {AK("a")}
    assert uninterned("a") in graph and graph.children(uninterned("a")) == {AK("b")}
    assert graph.downstream([uninterned("a")]) == {AK("a"), AK("b")}


# -- resolve ------------------------------------------------------------------------------------
def test_resolve_with_uninterned_dep_keys_and_external_stubs() -> None:
    up = dg.AssetSpec("cost_up")
    down = dg.AssetSpec("cost_down", deps=[uninterned("cost_up"), uninterned("cost_elsewhere")])
    resolved = resolve_assets([up, down])
    assert resolved.graph.get(AK("cost_down")).parent_keys == {
        AK("cost_up"),
        AK("cost_elsewhere"),
    }
    assert resolved.graph.external_asset_keys >= {AK("cost_up"), AK("cost_elsewhere")}
    assert set(resolved.assets_def_by_key) == {AK("cost_up"), AK("cost_down")}


def test_a_missing_input_is_reported_before_a_missing_resource() -> None:
    @dg.asset(required_resource_keys={"db"})
    def cost_needs_db(nowhere: int) -> int:
        return nowhere

    with pytest.raises(dg.DagsterInvalidDefinitionError, match='Input asset "nowhere"'):
        resolve_assets([cost_needs_db], resource_keys=[])


def test_a_resource_the_definition_brings_itself_is_not_missing() -> None:
    @dg.asset(required_resource_keys={"db"}, resource_defs={"db": object()})
    def cost_brings_db() -> None:
        return None

    @dg.asset(required_resource_keys={"db"})
    def cost_needs_db_too() -> None:
        return None

    resolved = resolve_assets([cost_brings_db], resource_keys=[])
    assert AK("cost_brings_db") in resolved.graph.materializable_asset_keys
    with pytest.raises(dg.WeirError, match="resource with key 'db' required by op 'cost_needs_db_"):
        resolve_assets([cost_brings_db, cost_needs_db_too], resource_keys=[])
    resolve_assets([cost_brings_db, cost_needs_db_too], resource_keys=["db"])


def test_checks_hang_on_their_assets_and_prefixed_inputs_resolve() -> None:
    @dg.asset(key_prefix="cost_p")
    def base() -> int:
        return 1

    @dg.asset(key_prefix="cost_p", check_specs=[dg.AssetCheckSpec("pos", asset=["cost_p", "top"])])
    def top(base: int) -> int:
        return base

    resolved = resolve_assets([base, top], resource_keys=[])
    node = resolved.graph.get(AK(["cost_p", "top"]))
    assert node.parent_keys == {AK(["cost_p", "base"])}
    assert node.check_keys == {dg.AssetCheckKey(AK(["cost_p", "top"]), "pos")}
    assert resolved.graph.get(AK(["cost_p", "base"])).check_keys == frozenset()


def test_resolving_twice_gives_the_same_graph() -> None:
    @dg.asset
    def cost_first() -> int:
        return 1

    @dg.asset(deps=[cost_first])
    def cost_second() -> None:
        return None

    one = dg.Definitions(assets=[cost_first, cost_second]).resolve_asset_graph()
    two = dg.Definitions(assets=[cost_first, cost_second]).resolve_asset_graph()
    assert one.toposorted_asset_keys == two.toposorted_asset_keys
    assert one.get("cost_second").parent_keys is two.get("cost_second").parent_keys


# -- the cost itself ----------------------------------------------------------------------------
def _tracked_objects_per_asset(build: object, count: int) -> float:
    gc.collect()
    before = len(gc.get_objects())
    kept = build()  # type: ignore[operator]
    gc.collect()
    after = len(gc.get_objects())
    assert kept is not None
    return (after - before) / count


def test_defining_and_resolving_leave_few_objects_for_the_garbage_collector() -> None:
    """CPython's cyclic GC scans every live container; each one per asset costs time at load.
    ``@asset`` leaves about 11 (definition, op, output, spec, key, ...), the graph about 2."""
    count = 400

    def functions() -> list[object]:
        def make() -> object:
            def compute() -> None:
                return None

            return compute

        return [make() for _ in range(count)]

    fns = functions()
    warm_up = dg.asset(name="cost_gc_warm_up")(functions()[0])  # first use imports lazily
    dg.Definitions(assets=[warm_up]).resolve_asset_graph()
    names = [f"cost_gc_{i}" for i in range(count)]
    for name in names:
        AK(name)  # keys are interned once per process; count them out of both figures
    assets: list[dg.AssetsDefinition] = []

    def define() -> list[dg.AssetsDefinition]:
        assets.extend(
            dg.asset(name=name, deps=names[max(0, i - 2) : i])(fn)
            for i, (name, fn) in enumerate(zip(names, fns, strict=True))
        )
        return assets

    per_asset_define = _tracked_objects_per_asset(define, count)
    per_asset_resolve = _tracked_objects_per_asset(
        lambda: dg.Definitions(assets=assets).resolve_asset_graph(), count
    )
    assert per_asset_define <= 12, per_asset_define
    assert per_asset_resolve <= 3, per_asset_resolve
