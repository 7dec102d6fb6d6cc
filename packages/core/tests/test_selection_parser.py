"""The selection-string grammar: attributes, operators, traversal, errors with columns, legacy syntax."""

from __future__ import annotations

import pytest

import weir as dg
from weir._graph.asset_graph import AssetGraph, AssetNode
from weir._graph.selection_parser import (
    KNOWN_ATTRIBUTES,
    SelectionSyntaxError,
    parse_legacy_selection,
    parse_selection,
)

AK = dg.AssetKey
S = dg.AssetSelection


def node(
    name: str, parents: tuple[str, ...] = (), *, external: bool = False, **spec: object
) -> AssetNode:
    k = AK.from_user_string(name)
    return AssetNode(
        k,
        dg.AssetSpec(k, **spec),  # type: ignore[arg-type]
        [AK.from_user_string(p) for p in parents],
        is_materializable=not external,
        is_external=external,
        node_name=None if external else k.to_python_identifier(),
    )


@pytest.fixture(scope="module")
def graph() -> AssetGraph:
    r"""
    ext (external) -> a -> b -> c -> d
                      \-> p/x -> p/y
    """
    return AssetGraph(
        [
            node("ext", external=True, group_name="g1", tags={"t": "v"}, kinds={"csv"}),
            node("a", ("ext",), group_name="g1", tags={"t": "v", "flag": ""}, owners=["a@b.com"]),
            node("b", ("a",), group_name="g2", kinds={"dbt"}, owners=["team:core"]),
            node("c", ("b",), group_name="g2", tags={"t": "w"}),
            node("d", ("c",)),
            node("p/x", ("a",), kinds={"dbt"}),
            node("p/y", ("p/x",)),
            node("my-asset.v2", ("d",)),
        ]
    )


def sel(text: str, graph: AssetGraph, **kwargs: bool) -> list[str]:
    return sorted(k.to_user_string() for k in S.from_string(text, **kwargs).resolve(graph))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key:a", ["a"]),
        ('key:"p/x"', ["p/x"]),
        ("key:p/x", ["p/x"]),
        ("key:p/*", ["p/x", "p/y"]),
        ("key:*x", ["p/x"]),
        ("key:e*", ["ext"]),  # key filters match external assets too
        ('key:"*"', ["a", "b", "c", "d", "ext", "my-asset.v2", "p/x", "p/y"]),
        ("key:nothing_here", []),  # a key filter never raises for unknown names
        ("key:my-asset.v2", ["my-asset.v2"]),
        ("key_substring:p/", ["p/x", "p/y"]),
        ("group:g1", ["a"]),
        ('group:"g2"', ["b", "c"]),
        ("group:<null>", []),
        ("tag:t=v", ["a"]),
        ('tag:"t"="w"', ["c"]),
        ("tag:flag", ["a"]),
        ("tag:t", []),  # `tag:k` matches a tag given without a value
        ("kind:dbt", ["b", "p/x"]),
        ("kind:<null>", ["a", "c", "d", "my-asset.v2", "p/y"]),
        ('owner:"a@b.com"', ["a"]),
        ("owner:a@b.com", ["a"]),  # weir also accepts it unquoted
        ("owner:team:core", ["b"]),
        ("owner:<null>", ["c", "d", "ext", "my-asset.v2", "p/x", "p/y"]),
        ("is:external", ["ext"]),
        ("is:materializable", ["a", "b", "c", "d", "my-asset.v2", "p/x", "p/y"]),
        ("*", ["a", "b", "c", "d", "my-asset.v2", "p/x", "p/y"]),
    ],
)
def test_attribute_filters(graph: AssetGraph, text: str, expected: list[str]) -> None:
    assert sel(text, graph) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key:b+", ["b", "c", "d", "my-asset.v2"]),
        ("key:b+1", ["b", "c"]),
        ("key:b + 2", ["b", "c", "d"]),
        ("+key:c", ["a", "b", "c"]),  # upstream stops at external assets
        ("1+key:c", ["b", "c"]),
        ("2+key:c+1", ["a", "b", "c", "d"]),
        ("+key:b+", ["a", "b", "c", "d", "my-asset.v2"]),
        ("(key:b or key:p/x)+1", ["b", "c", "p/x", "p/y"]),
        ("+sinks(group:g2)", ["a", "c", "b"]),
        ("sinks(*)", ["my-asset.v2", "p/y"]),
        ("roots(*)", ["a"]),
        ("roots(key:c or key:d or key:p/y)", ["c", "p/y"]),
        ("sinks(key:a or key:b or key:p/x)", ["b", "p/x"]),
    ],
)
def test_traversal_and_functions(graph: AssetGraph, text: str, expected: list[str]) -> None:
    assert sel(text, graph) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key:a or key:b and key:c", ["a"]),  # and binds tighter than or
        ("(key:a or key:b) and key:b", ["b"]),
        ("not key:a and key:b", ["b"]),  # not binds tighter than and
        ("not (key:a or key:b) and group:g2", ["c"]),
        ("NOT key:a AND group:g1 OR key:d", ["d"]),
        ("not not key:a", ["a"]),
        ("key:b+ and not key:d+", ["b", "c"]),
        ("group:g1 or group:g2 or kind:dbt", ["a", "b", "c", "p/x"]),
        ("  key:a\tor\nkey:b  ", ["a", "b"]),
    ],
)
def test_operators_and_precedence(graph: AssetGraph, text: str, expected: list[str]) -> None:
    assert sel(text, graph) == expected


def test_include_sources_widens_star_not_and_filters(graph: AssetGraph) -> None:
    assert "ext" in sel("*", graph, include_sources=True)
    assert sel("not key:a", graph, include_sources=True)[:3] == ["b", "c", "d"]
    assert "ext" in sel("not key:a", graph, include_sources=True)
    assert "ext" not in sel("not key:a", graph)
    assert sel("group:g1", graph, include_sources=True) == ["a", "ext"]
    assert sel("tag:t=v", graph, include_sources=True) == ["a", "ext"]
    assert sel("kind:csv", graph, include_sources=True) == ["ext"]
    assert sel("kind:csv", graph) == []


def test_parse_builds_the_expected_selection_objects() -> None:
    assert parse_selection("group:g1 and not tag:t=v") == S.groups("g1") & (
        S.all() - S.tag("t", "v")
    )
    assert parse_selection("2+kind:dbt") == S.kind("dbt").upstream(depth=2)
    assert parse_selection("+group:x+") == S.groups("x").upstream() | S.groups("x").downstream()
    assert parse_selection("roots(owner:o)") == S.owner("o").roots()


# -- errors ------------------------------------------------------------------------------------


def error_for(text: str) -> SelectionSyntaxError:
    with pytest.raises(SelectionSyntaxError) as info:
        S.from_string(text)
    return info.value


def test_error_points_at_the_column() -> None:
    error = error_for("key:a and and b")
    assert str(error).startswith(
        "unexpected 'and' at column 11 in asset selection 'key:a and and b'"
    )
    assert error.column == 11
    assert str(error).endswith("    key:a and and b\n              ^")
    assert isinstance(error, dg.SelectionError)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("foo:bar", 1, "unknown attribute 'foo:'"),
        ("key:a or bogus:1", 10, "unknown attribute 'bogus:'"),
        ("status:MISSING", 1, "unsupported attribute 'status:'"),
        ("column:id", 1, "needs the UI or the instance"),
        ("key:", 5, "expected a value after 'key:'"),
        ("key:a b", 7, "unexpected 'b'"),
        ("(key:a", 7, "expected ')' but found the end of the selection"),
        ("sinks(key:a", 12, "close the sinks( opened at column 1"),
        ("sinks key:a", 7, "expected '(' after 'sinks'"),
        ('key:"abc', 5, "unterminated string"),
        ("is:view", 4, "unknown value 'view' for 'is:'"),
        ("+*", 2, "'*' cannot be traversed bare"),
        ("2 key:a", 3, "expected '+' after the depth 2"),
        ("group:g*", 7, "wildcards are only supported in key: filters"),
        ("key:a or", 9, "unexpected the end of the selection"),
        ("key:a)", 6, "unexpected ')'"),
        ("key:a and $", 11, "unexpected character '$'"),
        ("key:<null>", 5, "unsupported value <null> for 'key:'"),
        ("   ", 1, "empty selection"),
        ("key:a, foo:b", 6, "unexpected ','"),
    ],
)
def test_errors(text: str, column: int, fragment: str) -> None:
    error = error_for(text)
    assert error.column == column, str(error)
    assert fragment in str(error)


def test_unknown_attribute_lists_the_known_ones() -> None:
    message = str(error_for("colour:red"))
    assert "known attributes: " + ", ".join(KNOWN_ATTRIBUTES) in message
    for attribute in ("key", "tag", "owner", "group", "kind", "is", "code_location"):
        assert attribute in KNOWN_ATTRIBUTES


def test_non_string_input() -> None:
    with pytest.raises(dg.SelectionError, match=r"must be a str, got 3"):
        S.from_string(3)  # type: ignore[arg-type]


# -- legacy syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", ["a"]),
        ("b+", ["b", "c"]),
        ("b++", ["b", "c", "d"]),
        ("b*", ["b", "c", "d", "my-asset.v2"]),
        ("+c", ["b", "c"]),
        ("++c", ["a", "b", "c"]),
        ("*c", ["a", "b", "c"]),
        ("*c*", ["a", "b", "c", "d", "my-asset.v2"]),
        ("+c+", ["b", "c", "d"]),
        ("p/x+", ["p/x", "p/y"]),
        ("my-asset.v2", ["my-asset.v2"]),
        ("a, d", ["a", "d"]),
        ("b+,p/y", ["b", "c", "p/y"]),
        ("key:a,d+", ["a", "d", "my-asset.v2"]),  # grammar and legacy clauses mixed
        ("tag:t=v", ["a"]),
    ],
)
def test_legacy_clauses(graph: AssetGraph, text: str, expected: list[str]) -> None:
    assert sel(text, graph) == expected


def test_legacy_item_tries_split_key_then_whole_string() -> None:
    slashed = AssetGraph(
        [
            node("x"),
            AssetNode(
                AK(["p/q"]),
                dg.AssetSpec(AK(["p/q"])),
                [],
                is_materializable=True,
                is_external=False,
            ),
        ]
    )
    assert S.from_string("p/q").resolve(slashed) == {AK(["p/q"])}
    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match=r"(?s)Asset key\(s\) \['xx'\] were selected.*Did you mean 'x'",
    ):
        S.from_string("xx+").resolve(slashed)
    assert S.from_string("xx+").resolve(slashed, allow_missing=True) == set()


def test_legacy_parser_returns_none_when_not_legacy() -> None:
    assert parse_legacy_selection("key:a") is None
    assert parse_legacy_selection("a b") is None
    assert parse_legacy_selection("") is None
    assert parse_legacy_selection("tag:a=b=c") is None
    assert parse_legacy_selection("*") == S.all()


def test_legacy_string_round_trips_through_the_grammar(graph: AssetGraph) -> None:
    selection = S.from_string("*c+")
    assert selection.to_selection_str() == '+key:"c" or key:"c"+1'
    assert sel(selection.to_selection_str(), graph) == ["a", "b", "c", "d"]
