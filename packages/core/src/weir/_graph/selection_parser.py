"""The asset selection-string grammar (Dagster-compatible), parsed by hand-written recursive descent.

Grammar, loosest binding first::

    selection  := or_expr EOF
    or_expr    := and_expr (("or" | "OR") and_expr)*
    and_expr   := not_expr (("and" | "AND") not_expr)*
    not_expr   := ("not" | "NOT") not_expr | traversal
    traversal  := "*" | [DIGITS? "+"] atom ["+" DIGITS?]
    atom       := attribute | ("sinks" | "roots") "(" or_expr ")" | "(" or_expr ")"
    attribute  := NAME ":" value ["=" value]          (``=`` only after ``tag:``)
    value      := "quoted string" | unquoted | <null>

``+expr`` selects everything upstream, ``2+expr`` two levels up; ``expr+`` / ``expr+3`` likewise
downstream. Unquoted values may contain letters, digits and ``_ / . - @`` (plus ``*`` in ``key:``
and ``:`` in ``owner:``, so ``owner:team:data`` works); anything else must be quoted. This is a
superset of Dagster's grammar: every string Dagster parses means the same here. ``key_substring:``
is a weir addition, so that ``AssetSelection.key_substring()`` has a string form. When the grammar does not match, :func:`parse_selection_with_fallback`
tries the legacy syntax: comma-separated clauses such as ``*name``, ``name+``, ``++name`` or
``*name*`` (OR-ed together), and ``tag:k=v``.

Errors are :class:`SelectionSyntaxError` (a :class:`~weir.errors.SelectionError`) carrying the
1-based ``column`` of the offending token.
"""

from __future__ import annotations

import functools
import logging
import operator
import re

from weir._graph.selection import (
    AssetSelection,
    CodeLocationAssetSelection,
    ExternalAssetSelection,
    KeySubstringAssetSelection,
    KeyWildCardAssetSelection,
    MaterializableAssetSelection,
    UserStringKeySelection,
)
from weir.errors import SelectionError

__all__ = [
    "KNOWN_ATTRIBUTES",
    "SelectionSyntaxError",
    "parse_legacy_selection",
    "parse_selection",
    "parse_selection_with_fallback",
]

logger = logging.getLogger(__name__)

KNOWN_ATTRIBUTES = ("key", "tag", "owner", "group", "kind", "is", "code_location", "key_substring")
"""The attribute filters weir resolves against an asset graph."""

# Dagster's grammar also has these, but they need a UI or an instance (run status, columns ...).
_UNRESOLVABLE_ATTRIBUTES = (
    "status",
    "column",
    "table_name",
    "column_tag",
    "changed_in_branch",
    "partitions",
    "automation_type",
    "sensor",
    "schedule",
    "job",
    "not_materialized_in_hours",
)
_IS_VALUES = ("external", "materializable")
_FUNCTIONS = ("sinks", "roots")
_KEYWORDS = {"and": "and", "AND": "and", "or": "or", "OR": "or", "not": "not", "NOT": "not"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9_/.\-@*]+")
_UNQUOTED_OWNER = re.compile(r"[A-Za-z0-9_/.\-@*:]+")
_NULL = "<null>"
_EXPECTED_OPERAND = (
    "an attribute filter such as key:my_asset, '*', 'not', '(', sinks(...) or roots(...)"
)
_LEGACY_CLAUSE = re.compile(r"^(?P<up>\*?\+*)(?P<item>[./\w\[\]?-]+)(?P<down>\+*\*?)$")


class SelectionSyntaxError(SelectionError):
    """A selection string does not parse; ``column`` (1-based) points at the problem."""

    def __init__(self, message: str, *, selection: str, column: int) -> None:
        pointer = " " * (column - 1) + "^"
        super().__init__(f"{message}\n    {selection}\n    {pointer}")
        self.selection = selection
        self.column = column


class _Token:
    __slots__ = ("kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int) -> None:
        self.kind = kind  # name, keyword, digits, string, punct, eof
        self.text = text
        self.start = start

    def describe(self) -> str:
        return "the end of the selection" if self.kind == "eof" else repr(self.text)


class _Parser:
    def __init__(self, text: str, include_sources: bool) -> None:
        self.text = text
        self.pos = 0
        self.include_sources = include_sources
        self._peeked: _Token | None = None

    # -- scanning --------------------------------------------------------------------------
    def _skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def _error(self, what: str, at: int, hint: str = "") -> SelectionSyntaxError:
        message = f"{what} at column {at + 1} in asset selection {self.text!r}"
        return SelectionSyntaxError(
            f"{message}: {hint}" if hint else message, selection=self.text, column=at + 1
        )

    def _quoted(self, start: int) -> str:
        end = self.text.find('"', start + 1)
        if end < 0:
            raise self._error("unterminated string starting", start, "add the closing '\"'")
        self.pos = end + 1
        return self.text[start + 1 : end]

    def peek(self) -> _Token:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def advance(self) -> _Token:
        token = self.peek()
        self._peeked = None
        return token

    def _scan(self) -> _Token:
        self._skip_space()
        text, start = self.text, self.pos
        if start >= len(text):
            return _Token("eof", "", start)
        char = text[start]
        if char == '"':
            return _Token("string", self._quoted(start), start)
        if char in "()+*:=,":
            self.pos = start + 1
            return _Token("punct", char, start)
        for kind, pattern in (("digits", _DIGITS), ("name", _NAME)):
            match = pattern.match(text, start)
            if match:
                self.pos = match.end()
                word = match.group()
                if kind == "name" and word in _KEYWORDS:
                    return _Token("keyword", _KEYWORDS[word], start)
                return _Token(kind, word, start)
        raise self._error(f"unexpected character {char!r}", start)

    def value(self, attribute: str, *, allow_wildcard: bool = False) -> tuple[str | None, int]:
        """Read the value after ``attribute:`` (or ``=``): quoted, ``<null>`` (→ ``None``) or unquoted."""
        if self._peeked is not None:  # values are scanned in their own mode
            self.pos, self._peeked = self._peeked.start, None
        self._skip_space()
        start = self.pos
        if self.text.startswith('"', start):
            value: str | None = self._quoted(start)
        elif self.text.startswith(_NULL, start):
            self.pos = start + len(_NULL)
            value = None
        else:
            pattern = _UNQUOTED_OWNER if attribute == "owner" else _UNQUOTED_VALUE
            match = pattern.match(self.text, start)
            if not match:
                found = (
                    repr(self.text[start]) if start < len(self.text) else "the end of the selection"
                )
                raise self._error(
                    f"expected a value after '{attribute}:' but found {found}",
                    start,
                    f'unquoted values may contain letters, digits and _ / . - @; quote others: {attribute}:"..."',
                )
            self.pos = match.end()
            value = match.group()
        if value is not None and "*" in value and not allow_wildcard:
            raise self._error(
                f"wildcard '*' in '{attribute}:'",
                start,
                "wildcards are only supported in key: filters",
            )
        return value, start

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> AssetSelection:
        if not self.text.strip():
            raise self._error("empty selection", 0, "use '*' to select every asset")
        selection = self.or_expr()
        token = self.peek()
        if token.kind != "eof":
            raise self._error(
                f"unexpected {token.describe()}",
                token.start,
                "expected 'and', 'or' or the end of the selection",
            )
        return selection

    def or_expr(self) -> AssetSelection:
        operands = [self.and_expr()]
        while self._at_keyword("or"):
            self.advance()
            operands.append(self.and_expr())
        return functools.reduce(operator.or_, operands)

    def and_expr(self) -> AssetSelection:
        operands = [self.not_expr()]
        while self._at_keyword("and"):
            self.advance()
            operands.append(self.not_expr())
        return functools.reduce(operator.and_, operands)

    def not_expr(self) -> AssetSelection:
        if self._at_keyword("not"):
            self.advance()
            return AssetSelection.all(include_sources=self.include_sources) - self.not_expr()
        return self.traversal()

    def _at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.text == word

    def _at_punct(self, char: str) -> bool:
        token = self.peek()
        return token.kind == "punct" and token.text == char

    def traversal(self) -> AssetSelection:
        if self._at_punct("*"):
            self.advance()
            return AssetSelection.all(include_sources=self.include_sources)
        has_up, up, has_down, down = False, None, False, None  # depth None: all levels
        token = self.peek()
        if token.kind == "digits":
            self.advance()
            if not self._at_punct("+"):
                raise self._error(
                    f"expected '+' after the depth {token.text}",
                    self.peek().start,
                    f"e.g. {token.text}+key:my_asset",
                )
            self.advance()
            has_up, up = True, int(token.text)
        elif self._at_punct("+"):
            self.advance()
            has_up = True
        atom = self.atom()
        if self._at_punct("+"):
            self.advance()
            has_down = True
            if self.peek().kind == "digits":
                down = int(self.advance().text)
        if has_up and has_down:
            return atom.upstream(depth=up) | atom.downstream(depth=down)
        if has_up:
            return atom.upstream(depth=up)
        if has_down:
            return atom.downstream(depth=down)
        return atom

    def atom(self) -> AssetSelection:
        token = self.advance()
        if token.kind == "punct" and token.text == "(":
            inner = self.or_expr()
            self._expect(")", f"close the '(' opened at column {token.start + 1}")
            return inner
        if token.kind == "name":
            if token.text in _FUNCTIONS and self._at_punct("("):
                self.advance()
                inner = self.or_expr()
                self._expect(")", f"close the {token.text}( opened at column {token.start + 1}")
                return inner.sinks() if token.text == "sinks" else inner.roots()
            if self._at_punct(":"):
                self.advance()
                return self.attribute(token)
            if token.text in _FUNCTIONS:
                raise self._error(
                    f"expected '(' after {token.text!r}", self.peek().start, f"e.g. {token.text}(*)"
                )
            raise self._error(
                f"expected ':' after {token.text!r}",
                self.peek().start,
                f"attribute filters look like key:{token.text}; known attributes: {', '.join(KNOWN_ATTRIBUTES)}",
            )
        if token.kind == "punct" and token.text == "*":
            raise self._error(
                "unexpected '*' after '+'",
                token.start,
                "'*' cannot be traversed bare; use parentheses: +(*)",
            )
        raise self._error(
            f"unexpected {token.describe()}", token.start, f"expected {_EXPECTED_OPERAND}"
        )

    def _expect(self, char: str, hint: str) -> None:
        token = self.peek()
        if not (token.kind == "punct" and token.text == char):
            raise self._error(f"expected '{char}' but found {token.describe()}", token.start, hint)
        self.advance()

    def attribute(self, name: _Token) -> AssetSelection:
        attr = name.text
        if attr in _UNRESOLVABLE_ATTRIBUTES:
            raise self._error(
                f"unsupported attribute '{attr}:'",
                name.start,
                f"it needs the UI or the instance and cannot be resolved against definitions; known attributes: "
                f"{', '.join(KNOWN_ATTRIBUTES)}",
            )
        if attr not in KNOWN_ATTRIBUTES:
            raise self._error(
                f"unknown attribute '{attr}:'",
                name.start,
                f"known attributes: {', '.join(KNOWN_ATTRIBUTES)}",
            )
        value, at = self.value(attr, allow_wildcard=attr == "key")
        sources = self.include_sources
        if attr == "tag":
            if value is None:
                raise self._error("missing tag key", at, "use tag:k or tag:k=v")
            tag_value = ""
            if self._at_punct("="):
                self.advance()
                found, at = self.value("tag")
                if found is None:
                    raise self._error(
                        "unsupported tag value <null>",
                        at,
                        "use tag:k to select tags given without a value",
                    )
                tag_value = found
            return AssetSelection.tag(value, tag_value, include_sources=sources)
        if attr == "owner":
            return AssetSelection.owner(value)
        if attr == "kind":
            return AssetSelection.kind(value, include_sources=sources)
        if attr == "group":
            return AssetSelection.groups(
                *([] if value is None else [value]), include_sources=sources
            )
        if attr == "code_location":
            return CodeLocationAssetSelection(selected_code_location=value)
        if value is None:
            raise self._error(f"unsupported value <null> for '{attr}:'", at, "give a value")
        if attr == "key":
            return KeyWildCardAssetSelection(selected_key_wildcard=value)
        if attr == "key_substring":
            return KeySubstringAssetSelection(selected_key_substring=value, include_sources=sources)
        # attr == "is"
        if value == "external":
            return ExternalAssetSelection()
        if value == "materializable":
            return MaterializableAssetSelection()
        raise self._error(
            f"unknown value {value!r} for 'is:'", at, f"use one of {', '.join(_IS_VALUES)}"
        )


def parse_selection(text: str, *, include_sources: bool = False) -> AssetSelection:
    """Parse ``text`` with the selection grammar only; :class:`SelectionSyntaxError` on bad input."""
    if not isinstance(text, str):
        msg = f"A selection string must be a str, got {text!r} (a {type(text).__name__})."
        raise SelectionError(msg)
    return _Parser(text, include_sources).parse()


def _legacy_clause(clause: str) -> AssetSelection | None:
    if clause == "*":
        return AssetSelection.all()
    match = _LEGACY_CLAUSE.match(clause)
    if match is None:
        body = clause[len("tag:") :]
        if clause.startswith("tag:") and body.count("=") <= 1 and body.split("=")[0]:
            return AssetSelection.tag_string(body)
        return None
    up_part, item, down_part = match.group("up", "item", "down")
    selection: AssetSelection = UserStringKeySelection(text=item)
    up = None if "*" in up_part else len(up_part)
    down = None if "*" in down_part else len(down_part)
    if up_part and down_part:
        return selection.upstream(depth=up) | selection.downstream(depth=down)
    if up_part:
        return selection.upstream(depth=up)
    if down_part:
        return selection.downstream(depth=down)
    return selection


def parse_legacy_selection(text: str) -> AssetSelection | None:
    """The legacy clause syntax (``*a``, ``a+``, ``++a``, ``*a*``, comma-separated and OR-ed), or
    ``None`` when ``text`` is not in that syntax. A bare ``a/b`` names ``AssetKey(["a", "b"])`` (or
    ``AssetKey(["a/b"])`` when only that exists)."""
    clauses = [c.strip() for c in text.split(",")]
    selections = [_legacy_clause(c) for c in clauses if c]
    if not selections or any(s is None for s in selections):
        return None
    return functools.reduce(operator.or_, selections)  # type: ignore[arg-type]


def parse_selection_with_fallback(text: str, *, include_sources: bool = False) -> AssetSelection:
    """What ``AssetSelection.from_string`` does: the grammar first, then the legacy syntax, then
    comma-separated grammar clauses (OR-ed). Raises the grammar's error when nothing matches."""
    try:
        return parse_selection(text, include_sources=include_sources)
    except SelectionSyntaxError as grammar_error:
        legacy = parse_legacy_selection(text)
        if legacy is not None:
            logger.debug("selection %r parsed with the legacy syntax", text)
            return legacy
        if "," in text:
            try:
                parts = [
                    parse_selection_with_fallback(p, include_sources=include_sources)
                    for p in text.split(",")
                    if p.strip()
                ]
            except SelectionError:
                raise grammar_error from None
            if parts:
                return functools.reduce(operator.or_, parts)
        raise
