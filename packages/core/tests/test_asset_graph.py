"""AssetGraph / AssetNode: structure, validation errors, ordering and traversal."""

from __future__ import annotations

import pickle

import pytest

import weir as dg
from weir._graph.asset_graph import AssetGraph, AssetNode, similar_asset_keys

AK = dg.AssetKey


def key(text: str) -> dg.AssetKey:
    return AK.from_user_string(text)


def node(
    name: str,
    parents: tuple[str, ...] = (),
    *,
    external: bool = False,
    node_name: str | None = None,
    checks: tuple[str, ...] = (),
    **spec_kwargs: object,
) -> AssetNode:
    k = key(name)
    return AssetNode(
        k,
        dg.AssetSpec(k, **spec_kwargs),  # type: ignore[arg-type]
        [key(p) for p in parents],
        is_materializable=not external,
        is_external=external,
        node_name=None if external else (node_name or k.to_python_identifier()),
        check_keys={dg.AssetCheckKey(k, c) for c in checks},
    )


@pytest.fixture
def diamond() -> AssetGraph:
    # src (external) -> a -> b, a -> c, {b, c} -> d
    return AssetGraph(
        [
            node("d", ("b", "c"), checks=("fresh",)),
            node("b", ("a",)),
            node("c", ("a",), group_name="g"),
            node("a", ("src",), checks=("nonneg", "unique")),
            node("src", external=True),
        ]
    )


def keys(*names: str) -> set[dg.AssetKey]:
    return {key(n) for n in names}


def test_children_are_filled_in_and_key_sets_are_split_by_kind(diamond: AssetGraph) -> None:
    assert diamond.children(key("a")) == keys("b", "c")
    assert diamond.get("a").child_keys == keys("b", "c")
    assert diamond.parents(key("d")) == keys("b", "c")
    assert diamond.children(key("d")) == frozenset()
    assert diamond.all_asset_keys == keys("src", "a", "b", "c", "d")
    assert diamond.materializable_asset_keys == keys("a", "b", "c", "d")
    assert diamond.external_asset_keys == keys("src")
    assert diamond.asset_check_keys == {
        dg.AssetCheckKey(key("a"), "nonneg"),
        dg.AssetCheckKey(key("a"), "unique"),
        dg.AssetCheckKey(key("d"), "fresh"),
    }


def test_container_protocol(diamond: AssetGraph) -> None:
    assert len(diamond) == 5
    assert key("a") in diamond
    assert diamond.has(key("a"))
    assert not diamond.has(key("zzz"))
    assert "a" not in diamond  # only AssetKeys are members
    assert [n.key for n in diamond] == diamond.toposorted_asset_keys
    assert diamond.node_for(key("zzz")) is None
    assert diamond.node_for(key("c")).group_name == "g"  # type: ignore[union-attr]
    assert diamond.get("b").group_name == "default"
    assert repr(diamond) == "AssetGraph(5 assets, 3 checks)"


def test_toposort_is_deterministic_with_ties_by_key_order(diamond: AssetGraph) -> None:
    assert diamond.toposorted_asset_keys == [key("src"), key("a"), key("b"), key("c"), key("d")]
    # independent roots come out in key order whatever the input order
    graph = AssetGraph([node("z"), node("m/x"), node("a"), node("m", ("z",))])
    assert graph.toposorted_asset_keys == [key("a"), key("m/x"), key("z"), key("m")]


def test_toposort_of_a_subset(diamond: AssetGraph) -> None:
    assert diamond.toposort([key("d"), key("a"), key("c"), key("d")]) == [
        key("a"),
        key("c"),
        key("d"),
    ]
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match=r"'dd' is not in the asset graph.*Did you mean 'd'"
    ):
        diamond.toposort([key("dd")])


def test_upstream_and_downstream_with_depth_and_include_self(diamond: AssetGraph) -> None:
    assert diamond.upstream([key("d")]) == keys("d", "b", "c", "a", "src")
    assert diamond.upstream([key("d")], depth=1) == keys("d", "b", "c")
    assert diamond.upstream([key("d")], depth=2) == keys("d", "b", "c", "a")
    assert diamond.upstream([key("d")], depth=0) == keys("d")
    assert diamond.upstream([key("d")], include_self=False) == keys("b", "c", "a", "src")
    assert diamond.downstream([key("src")], depth=1) == keys("src", "a")
    assert diamond.downstream([key("a")], include_self=False) == keys("b", "c", "d")
    # a start key that is also reached from another start key is still excluded
    assert diamond.downstream([key("a"), key("b")], include_self=False) == keys("c", "d")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="non-negative"):
        diamond.downstream([key("a")], depth=-1)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="'nope' is not in the asset graph"):
        diamond.upstream([key("nope")])


def test_strict_ancestors_and_descendants(diamond: AssetGraph) -> None:
    assert diamond.strict_ancestors([key("b"), key("a")]) == keys("a", "src")
    assert diamond.strict_descendants([key("b"), key("c")]) == keys("d")
    assert diamond.strict_descendants([key("d")]) == set()


def test_missing_parent_names_both_assets_with_did_you_mean() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        AssetGraph([node("orders"), node("report", ("order",))])
    message = str(info.value)
    assert "Asset 'report' depends on 'order', which is not in the asset graph." in message
    assert "Did you mean 'orders'?" in message


def test_duplicate_key_is_rejected() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Duplicate asset key 'a'"):
        AssetGraph([node("a"), node("a")])


def test_cycle_is_named_edge_by_edge() -> None:
    nodes = [
        node("a", ("c",)),
        node("b", ("a",)),
        node("c", ("b",)),
        node("tail", ("c",)),
        node("root"),
    ]
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        AssetGraph(nodes)
    message = str(info.value)
    assert message.startswith("Dependency cycle: a -> b -> c -> a.")
    assert "tail" not in message and "root" not in message


def test_cycle_start_is_the_smallest_key_and_self_loops_are_named() -> None:
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match=r"Dependency cycle: p/x -> q -> p/x\."
    ):
        AssetGraph([node("q", ("p/x",)), node("p/x", ("q",))])
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"Dependency cycle: solo -> solo\."):
        AssetGraph([node("solo", ("solo",))])


def test_get_raises_with_did_you_mean_and_splits_strings(diamond: AssetGraph) -> None:
    assert diamond.get("a").key == key("a")
    assert diamond.get(key("src")).is_external
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"'srcc' is not in the asset graph \(5 assets\)\. Did you mean 'src'\?",
    ):
        diamond.get(key("srcc"))


def test_did_you_mean_explains_an_unsplit_slash_key() -> None:
    graph = AssetGraph([node("p/s2")])
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"taken as one key component.*from_user_string\('p/s2'\)",
    ):
        graph.get(AK(["p/s2"]))
    assert similar_asset_keys(key("x/s2"), graph.all_asset_keys) == [key("p/s2")]


def test_keys_by_node_name_groups_multi_asset_keys_and_skips_external() -> None:
    graph = AssetGraph(
        [
            node("x", node_name="ma"),
            node("y", node_name="ma"),
            node("z", ("y",)),
            node("ext", external=True),
        ]
    )
    assert graph.keys_by_node_name == {"ma": keys("x", "y"), "z": keys("z")}
    assert graph.keys_by_group == {"default": keys("x", "y", "z", "ext")}


def test_check_keys_for(diamond: AssetGraph) -> None:
    assert diamond.check_keys_for([key("a"), key("b"), key("unknown")]) == {
        dg.AssetCheckKey(key("a"), "nonneg"),
        dg.AssetCheckKey(key("a"), "unique"),
    }


def test_node_attributes_and_kinds_from_tags() -> None:
    n = node(
        "t", kinds={"python"}, tags={"dagster/kind/duckdb": "", "tier": "1"}, owners=["team:data"]
    )
    assert n.kinds == {"python", "duckdb"}
    assert n.tags["tier"] == "1"
    assert n.owners == ("team:data",)
    assert not n.can_subset
    assert "AssetNode('t', materializable" in repr(n)


def test_graph_pickles(diamond: AssetGraph) -> None:
    copy = pickle.loads(pickle.dumps(diamond))
    assert copy.toposorted_asset_keys == diamond.toposorted_asset_keys
    assert copy.children(key("a")) == keys("b", "c")


def test_five_thousand_node_layered_graph() -> None:
    width, depth = 50, 100
    nodes = []
    for layer in range(depth):
        for i in range(width):
            parents = tuple(f"l{layer - 1}/a{(i + j) % width}" for j in range(3)) if layer else ()
            nodes.append(node(f"l{layer}/a{i}", parents))
    graph = AssetGraph(reversed(nodes))
    order = graph.toposorted_asset_keys
    assert len(order) == 5000
    position = {k: i for i, k in enumerate(order)}
    assert all(position[p] < position[n.key] for n in graph for p in n.parent_keys)
    # first layer comes out in key order (a0, a1, a10, ...)
    assert order[:3] == [key("l0/a0"), key("l0/a1"), key("l0/a10")]
    assert graph.downstream([key("l0/a0")], depth=1) == keys("l0/a0", "l1/a0", "l1/a48", "l1/a49")
    # the reached band widens by two per layer until it covers the 50-wide layer (layer 25 on)
    expected = 1 + sum(2 * k + 1 for k in range(1, 25)) + 50 * 75
    assert len(graph.downstream([key("l0/a0")])) == expected
    assert graph.upstream([key("l99/a0")], depth=2) == keys(
        "l99/a0", "l98/a0", "l98/a1", "l98/a2", "l97/a0", "l97/a1", "l97/a2", "l97/a3", "l97/a4"
    )
