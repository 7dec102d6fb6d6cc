"""AssetSelection: every constructor and method, set operators, checks, errors, string form."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

import weir as dg
from weir._graph.asset_graph import AssetGraph, AssetNode
from weir._graph.selection import SelectionStringUnsupportedError

AK = dg.AssetKey
S = dg.AssetSelection
CK = dg.AssetCheckKey


def key(text: str) -> dg.AssetKey:
    return AK.from_user_string(text)


def node(
    name: str,
    parents: tuple[str, ...] = (),
    *,
    external: bool = False,
    checks: tuple[str, ...] = (),
    node_name: str | None = None,
    **spec: object,
) -> AssetNode:
    k = key(name)
    return AssetNode(
        k,
        dg.AssetSpec(k, **spec),  # type: ignore[arg-type]
        [key(p) for p in parents],
        is_materializable=not external,
        is_external=external,
        node_name=None if external else node_name or k.to_python_identifier(),
        check_keys={CK(k, c) for c in checks},
    )


def names(selection: dg.AssetSelection, graph: AssetGraph) -> list[str]:
    return sorted(k.to_user_string() for k in selection.resolve(graph))


@pytest.fixture
def chain() -> AssetGraph:
    """s1 -> p/s2 -> s3, the graph of the observed Dagster examples."""
    return AssetGraph([node("s1"), node("p/s2", ("s1",)), node("s3", ("p/s2",))])


@pytest.fixture
def graph() -> AssetGraph:
    r"""
    raw/orders (external) -> orders -> report -> dash
                 customers ----------/     \-> raw/audit (external, downstream)
    """
    return AssetGraph(
        [
            node(
                "raw/orders",
                external=True,
                group_name="raw",
                owners=["team:data"],
                tags={"tier": "gold"},
            ),
            node(
                "orders",
                ("raw/orders",),
                group_name="sales",
                tags={"tier": "gold", "pii": ""},
                kinds={"python"},
                owners=["team:sales"],
                checks=("nonneg",),
            ),
            node("customers", group_name="sales", kinds={"duckdb"}, checks=("unique",)),
            node(
                "report",
                ("orders", "customers"),
                group_name="bi",
                tags={"tier": "silver"},
                checks=("fresh",),
            ),
            node("dash", ("report",), group_name="bi", tags={"dagster/kind/tableau": ""}),
            node("raw/audit", ("report",), external=True),
        ]
    )


# -- observed Dagster behaviour --------------------------------------------------------------


def test_observed_string_examples(chain: AssetGraph) -> None:
    assert names(S.from_string("key:s1+"), chain) == ["p/s2", "s1", "s3"]
    assert names(S.from_string("1+key:s3"), chain) == ["p/s2", "s3"]
    assert names(S.from_string("key:s* and not key:s1"), chain) == ["s3"]
    assert names(S.from_string("sinks(*)"), chain) == ["s3"]


def test_observed_to_selection_str() -> None:
    selection = S.assets("s1").downstream() - S.keys("s3")
    assert selection.to_selection_str() == 'key:"s1"+ and not key:"s3"'


# -- leaf selections ---------------------------------------------------------------------------


def test_all_excludes_external_unless_include_sources(graph: AssetGraph) -> None:
    assert names(S.all(), graph) == ["customers", "dash", "orders", "report"]
    assert names(S.all(include_sources=True), graph) == [
        "customers", "dash", "orders", "raw/audit", "raw/orders", "report",
    ]  # fmt: skip
    assert S.all().resolve_checks(graph) == {
        CK(key("orders"), "nonneg"),
        CK(key("customers"), "unique"),
        CK(key("report"), "fresh"),
    }


def test_assets_accepts_keys_strings_lists_specs_and_definitions(graph: AssetGraph) -> None:
    assert names(S.assets(key("raw/orders")), graph) == [
        "raw/orders"
    ]  # explicitly keyed external asset
    assert names(S.assets(["raw", "orders"], "orders"), graph) == ["orders", "raw/orders"]
    assert names(S.assets(dg.AssetSpec(key("customers"))), graph) == ["customers"]

    @dg.multi_asset(specs=[dg.AssetSpec("dash"), dg.AssetSpec("report")])
    def both():
        pass

    assert names(S.assets(both), graph) == ["dash", "report"]
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match=r"AssetSelection.assets\(\) got 3 \(a int\)"
    ):
        S.assets(3)


def test_assets_does_not_split_strings_but_keys_does(graph: AssetGraph) -> None:
    assert names(S.keys("raw/orders"), graph) == ["raw/orders"]
    assert S.keys("raw/orders") == S.assets(["raw", "orders"])
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        S.assets("raw/orders").resolve(graph)
    assert "taken as one key component" in str(info.value)


def test_missing_key_raises_with_did_you_mean_unless_allow_missing(graph: AssetGraph) -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        S.assets("reprot", "customers").resolve(graph)
    message = str(info.value)
    assert "Asset key(s) ['reprot'] were selected" in message
    assert "Did you mean 'report'?" in message
    assert S.assets("reprot", "customers").resolve(graph, allow_missing=True) == {key("customers")}


def test_key_prefixes_and_key_substring(graph: AssetGraph) -> None:
    assert names(S.key_prefixes("raw"), graph) == []
    assert names(S.key_prefixes("raw", include_sources=True), graph) == ["raw/audit", "raw/orders"]
    assert names(S.key_prefixes(["raw", "orders"], "dash", include_sources=True), graph) == [
        "dash",
        "raw/orders",
    ]
    assert names(S.key_substring("or"), graph) == ["orders", "report"]
    assert names(S.key_substring("w/o", include_sources=True), graph) == ["raw/orders"]
    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="a prefix is a str or a list of str"
    ):
        S.key_prefixes(3)  # type: ignore[arg-type]


def test_groups_including_the_default_group(graph: AssetGraph) -> None:
    assert names(S.groups("sales", "bi"), graph) == ["customers", "dash", "orders", "report"]
    assert names(S.groups("raw"), graph) == []
    assert names(S.groups("raw", include_sources=True), graph) == ["raw/orders"]
    assert names(S.groups("default", include_sources=True), graph) == ["raw/audit"]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="group names as str"):
        S.groups(["sales"])  # type: ignore[arg-type]


def test_tag_and_tag_string_match_values_exactly(graph: AssetGraph) -> None:
    assert names(S.tag("tier", "gold"), graph) == ["orders"]
    assert names(S.tag("tier", "gold", include_sources=True), graph) == ["orders", "raw/orders"]
    assert names(S.tag_string("tier=silver"), graph) == ["report"]
    assert names(S.tag_string("pii"), graph) == ["orders"]  # key only: the tag's value is ""
    assert names(S.tag_string("tier"), graph) == []
    with pytest.raises(dg.SelectionError, match="at most one '='"):
        S.tag_string("a=b=c")


def test_kind_owner(graph: AssetGraph) -> None:
    assert names(S.kind("python"), graph) == ["orders"]
    assert names(S.kind("tableau"), graph) == ["dash"]  # Dagster-style dagster/kind/<k> tag
    assert names(S.kind(None), graph) == ["report"]
    assert names(S.owner("team:data"), graph) == ["raw/orders"]  # owner() includes external assets
    assert names(S.owner(None), graph) == ["customers", "dash", "raw/audit", "report"]


def test_materializable_as_class_and_instance_method(graph: AssetGraph) -> None:
    assert names(S.materializable(), graph) == ["customers", "dash", "orders", "report"]
    explicit = S.keys("raw/audit", "dash") | S.keys("raw/orders")
    assert names(explicit.materializable(), graph) == ["dash"]
    assert S.materializable().to_selection_str() == "is:materializable"
    assert (
        explicit.materializable().to_selection_str()
        == '((key:"raw/audit" or key:"dash") or key:"raw/orders") and is:materializable'
    )


# -- traversal ---------------------------------------------------------------------------------


def test_upstream_keeps_only_materializable_assets(graph: AssetGraph) -> None:
    assert names(S.assets("dash").upstream(), graph) == ["customers", "dash", "orders", "report"]
    assert names(S.assets("dash").upstream(depth=1), graph) == ["dash", "report"]
    assert names(S.assets("dash").upstream(depth=2, include_self=False), graph) == [
        "customers",
        "orders",
        "report",
    ]
    assert (
        names(S.keys("raw/orders").upstream(), graph) == []
    )  # the external start itself is dropped


def test_downstream_keeps_external_assets(graph: AssetGraph) -> None:
    assert names(S.assets("orders").downstream(), graph) == [
        "dash",
        "orders",
        "raw/audit",
        "report",
    ]
    assert names(S.assets("orders").downstream(depth=1), graph) == ["orders", "report"]
    assert names(S.assets("orders").downstream(include_self=False), graph) == [
        "dash",
        "raw/audit",
        "report",
    ]
    assert names(S.assets("orders").downstream(depth=0), graph) == ["orders"]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="non-negative int"):
        S.assets("orders").downstream(depth=-2)


def test_roots_sinks_and_sources_alias_use_the_whole_graph_between(chain: AssetGraph) -> None:
    ends = S.assets("s1", "s3")  # not connected inside the selection, but s1 is upstream of s3
    assert names(ends.roots(), chain) == ["s1"]
    assert names(ends.sinks(), chain) == ["s3"]
    assert names(ends.sources(), chain) == ["s1"]
    assert names(S.all().roots(), chain) == ["s1"]
    assert ends.sources() == ends.roots()


def test_required_multi_asset_neighbors_respects_can_subset() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y")])
    def fixed():
        pass

    @dg.multi_asset(specs=[dg.AssetSpec("u"), dg.AssetSpec("v")], can_subset=True)
    def flexible():
        pass

    defs = dg.Definitions(assets=[fixed, flexible])
    assert S.assets("x").required_multi_asset_neighbors().resolve(defs) == {key("x"), key("y")}
    assert S.assets("u").required_multi_asset_neighbors().resolve(defs) == {key("u")}


def test_upstream_source_assets(graph: AssetGraph) -> None:
    assert names(S.assets("dash").upstream_source_assets(), graph) == ["raw/orders"]
    assert names(S.assets("customers").upstream_source_assets(), graph) == []


# -- checks ------------------------------------------------------------------------------------


def test_checks_follow_assets_and_without_checks_drops_them(graph: AssetGraph) -> None:
    report = S.assets("report")
    assert report.resolve_checks(graph) == {CK(key("report"), "fresh")}
    assert report.without_checks().resolve_checks(graph) == set()
    assert report.without_checks().resolve(graph) == {key("report")}
    assert report.without_checks().to_selection_str() == 'key:"report"'


def test_check_only_selections(graph: AssetGraph) -> None:
    assert S.all_asset_checks().resolve(graph) == set()
    assert len(S.all_asset_checks().resolve_checks(graph)) == 3
    only_checks = S.checks_for_assets("orders", "customers")
    assert only_checks.resolve(graph) == set()
    assert only_checks.resolve_checks(graph) == {
        CK(key("orders"), "nonneg"),
        CK(key("customers"), "unique"),
    }
    picked = S.checks(CK(key("report"), "fresh"))
    assert picked.resolve_checks(graph) == {CK(key("report"), "fresh")}
    assert (S.assets("orders") | picked).resolve_checks(graph) == {
        CK(key("orders"), "nonneg"),
        CK(key("report"), "fresh"),
    }
    assert (S.all() & S.checks_for_assets("orders")).resolve_checks(graph) == {
        CK(key("orders"), "nonneg")
    }
    assert (S.all() - S.checks_for_assets("orders")).resolve_checks(graph) == {
        CK(key("customers"), "unique"), CK(key("report"), "fresh"),
    }  # fmt: skip


def test_checks_of_definitions_and_missing_check_keys(graph: AssetGraph) -> None:
    class HasChecks:
        check_keys = frozenset({CK(key("orders"), "nonneg")})

    assert S.checks(HasChecks()).resolve_checks(graph) == {CK(key("orders"), "nonneg")}
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"Asset check\(s\) \['orders:nonneg2'\].*Did you mean 'orders:nonneg'",
    ):
        S.checks(CK(key("orders"), "nonneg2")).resolve_checks(graph)
    assert S.checks(CK(key("orders"), "nonneg2")).resolve_checks(graph, allow_missing=True) == set()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="expected an AssetCheckKey"):
        S.checks("orders")


# -- operators and values ----------------------------------------------------------------------


def test_set_operators(graph: AssetGraph) -> None:
    sales, gold = S.groups("sales"), S.tag("tier", "gold")
    assert names(sales | S.groups("bi"), graph) == ["customers", "dash", "orders", "report"]
    assert names(sales & gold, graph) == ["orders"]
    assert names(sales - gold, graph) == ["customers"]
    with pytest.raises(TypeError):
        sales | "orders"  # type: ignore[operator]


def test_operators_flatten_and_selections_are_values() -> None:
    a, b, c = S.assets("a"), S.assets("b"), S.assets("c")
    assert (a | b) | c == a | (b | c)
    assert ((a | b) | c).to_selection_str() == 'key:"a" or key:"b" or key:"c"'
    assert ((a & b) & c).to_selection_str() == 'key:"a" and key:"b" and key:"c"'
    assert hash(S.groups("x").downstream(2)) == hash(S.groups("x").downstream(2))
    assert S.groups("x") != S.groups("y")
    with pytest.raises(AttributeError):
        a.selected_keys = ()  # type: ignore[attr-defined]
    restored = pickle.loads(pickle.dumps((a | b).upstream(depth=1) - c))
    assert restored == (a | b).upstream(depth=1) - c


def test_to_selection_str_round_trips(graph: AssetGraph) -> None:
    selections = [
        S.all(),
        S.assets("orders", "customers").downstream(depth=1),
        S.groups("sales", "bi") - S.tag("tier", "gold"),
        S.assets("dash").upstream(include_self=False),
        S.assets("orders").downstream().upstream(),
        S.all().upstream(),
        S.all() - (S.groups("sales") | S.kind("duckdb")),
        S.owner("team:sales") | S.key_substring("das"),
        S.tag("pii", "").sinks().roots(),
        S.groups().upstream(),
        S.assets(),
    ]
    for selection in selections:
        text = selection.to_selection_str()
        assert S.from_string(text).resolve(graph) == selection.resolve(graph), text
    assert S.all().upstream().to_selection_str() == "+(*)"
    assert S.assets("orders").downstream().upstream().to_selection_str() == '+(key:"orders"+)'
    assert (
        S.all() - (S.groups("a") | S.groups("b"))
    ).to_selection_str() == 'not (group:"a" or group:"b")'
    assert (
        S.assets("dash").upstream(depth=2, include_self=False).to_selection_str()
        == '2+key:"dash" and not key:"dash"'
    )


def test_selections_without_a_string_form_raise_but_str_falls_back() -> None:
    for selection in (
        S.all_asset_checks(),
        S.key_prefixes("a"),
        S.assets("a").required_multi_asset_neighbors(),
    ):
        with pytest.raises(
            SelectionStringUnsupportedError, match="no equivalent in the selection-string grammar"
        ):
            selection.to_selection_str()
        with pytest.raises(NotImplementedError):
            selection.to_selection_str()
        assert str(selection) == repr(selection)
    assert str(S.groups("g")) == 'group:"g"'
    with pytest.raises(SelectionStringUnsupportedError, match="double quote"):
        S.assets('we"ird').to_selection_str()


# -- coercion and resolve inputs -----------------------------------------------------------


def test_from_coercible(graph: AssetGraph) -> None:
    selection = S.groups("bi")
    assert S.from_coercible(selection) is selection
    assert names(S.from_coercible("key:orders+1"), graph) == ["orders", "report"]
    assert names(S.from_coercible(["key:orders", "customers"]), graph) == ["customers", "orders"]
    assert names(S.from_coercible([key("dash"), key("raw/orders")]), graph) == [
        "dash",
        "raw/orders",
    ]
    assert names(S.from_coercible((dg.AssetSpec("dash"),)), graph) == ["dash"]
    assert names(S.from_coercible(["dash", key("orders")]), graph) == ["dash", "orders"]
    assert names(S.from_coercible(key("dash")), graph) == ["dash"]
    assert names(S.from_coercible([]), graph) == []
    with pytest.raises(dg.SelectionError, match=r"got 42 \(a int\)"):
        S.from_coercible(42)


def test_resolve_accepts_definitions_and_lists_of_definitions() -> None:
    @dg.asset
    def up():
        return 1

    @dg.asset
    def down(up):
        return up

    defs = dg.Definitions(assets=[up, down])
    assert S.assets(up).downstream().resolve(defs) == {key("up"), key("down")}
    assert S.all().resolve([up, down]) == {key("up"), key("down")}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="pass an AssetGraph"):
        S.all().resolve(7)


def test_code_location(graph: AssetGraph) -> None:
    named = AssetGraph([node("a"), node("ext", external=True)], code_location_name="prod")
    assert names(S.from_string("code_location:prod"), named) == ["a", "ext"]
    assert names(S.from_string("code_location:dev"), named) == []
    with pytest.raises(dg.SelectionError, match="not loaded from a named code location"):
        S.from_string("code_location:prod").resolve(graph)


def test_large_layered_graph_queries() -> None:
    width, depth = 50, 100
    nodes = []
    for layer in range(depth):
        for i in range(width):
            parents = tuple(f"l{layer - 1}/a{(i + j) % width}" for j in range(2)) if layer else ()
            nodes.append(node(f"l{layer}/a{i}", parents, group_name=f"g{layer % 4}"))
    big = AssetGraph(nodes)
    assert len(S.all().downstream().resolve(big)) == 5000
    assert S.all().sinks().resolve(big) == {key(f"l99/a{i}") for i in range(width)}
    assert S.all().roots().resolve(big) == {key(f"l0/a{i}") for i in range(width)}
    assert S.from_string("key:l99/a0 and +key:l0/a0+").resolve(big) == {key("l99/a0")}
    downstream_of_a0 = S.assets(key("l0/a0")).downstream(depth=3).resolve(big)
    assert downstream_of_a0 == {key("l0/a0")} | {
        key(f"l{n}/a{(-i) % width}") for n in range(1, 4) for i in range(n + 1)
    }
    # 50 levels above l99/a0 the band a0..a<k> (k levels up) reaches the whole width at layer 49
    in_group = S.from_string("group:g1 and not 50+key:l99/a0").resolve(big)
    expected = {
        key(f"l{layer}/a{i}")
        for layer in range(1, depth, 4)
        for i in range(width)
        if layer < 49 or i > 99 - layer
    }
    assert in_group == expected


# -- the concept page's examples run ---------------------------------------------------------


def test_docs_concept_page_examples_execute() -> None:
    page = Path(__file__).resolve().parents[3] / "docs" / "concepts" / "asset-selection.md"
    text = page.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```python\n(.*?)```", text, flags=re.S))
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "asset_selection_docs"}
    for block in blocks:
        # pad with newlines so tracebacks point at the page's own line numbers
        source = "\n" * text.count("\n", 0, block.start(1)) + block.group(1)
        exec(compile(source, str(page), "exec"), namespace)


def test_define_asset_job_resolves_selection_strings_and_lists() -> None:
    @dg.asset
    def first():
        return 1

    @dg.asset
    def second(first):
        return first

    @dg.asset(group_name="late")
    def third(second):
        return second

    defs = dg.Definitions(
        assets=[first, second, third],
        jobs=[
            dg.define_asset_job("by_string", selection="key:first+ and not group:late"),
            dg.define_asset_job("by_list", selection=["first", "third"]),
        ],
    )
    assert defs.get_job_def("by_string").asset_selection == {key("first"), key("second")}
    assert defs.get_job_def("by_list").asset_selection == {key("first"), key("third")}
