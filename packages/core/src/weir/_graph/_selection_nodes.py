"""The concrete nodes of an :class:`~weir._graph.selection.AssetSelection` expression tree.

Each class is an immutable record (its ``__slots__`` are its fields, see ``AssetSelection``) that
knows how to resolve itself against a ``_Resolution`` and how to write itself back as a selection
string. Build them through ``AssetSelection``'s constructors and operators, not directly; this module
imports ``weir._graph.selection`` while that module imports this one only lazily, inside methods.
"""

from __future__ import annotations

import functools
import logging
import operator
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from weir._graph.asset_graph import AssetGraph, describe_key, did_you_mean
from weir._graph.selection import AssetSelection, SelectionStringUnsupportedError
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import DefinitionError, SelectionError

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    from weir._graph.selection import _Resolution

__all__ = [
    "AllSelection",
    "AllAssetCheckSelection",
    "AssetCheckKeysSelection",
    "AssetChecksForAssetKeysSelection",
    "KeysAssetSelection",
    "UserStringKeySelection",
    "KeyPrefixesAssetSelection",
    "KeySubstringAssetSelection",
    "KeyWildCardAssetSelection",
    "GroupsAssetSelection",
    "TagAssetSelection",
    "KindAssetSelection",
    "OwnerAssetSelection",
    "CodeLocationAssetSelection",
    "ExternalAssetSelection",
    "OrAssetSelection",
    "AndAssetSelection",
    "SubtractAssetSelection",
    "UpstreamAssetSelection",
    "DownstreamAssetSelection",
    "SinksAssetSelection",
    "RootsAssetSelection",
    "RequiredNeighborsAssetSelection",
    "ParentSourcesAssetSelection",
    "MaterializableAssetSelection",
]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------
# helpers


def _quote(value: str) -> str:
    if '"' in value:
        msg = f"The value {value!r} contains a double quote, which the selection-string grammar cannot express."
        raise SelectionStringUnsupportedError(msg)
    return f'"{value}"'


def _raise_missing_keys(missing: Iterable[AssetKey], graph: AssetGraph) -> None:
    missing_sorted = sorted(missing)
    suggestions = [(key, did_you_mean(key, graph.all_asset_keys)) for key in missing_sorted[:4]]
    hints = "".join(f"\nFor {describe_key(key)}:{hint}" for key, hint in suggestions if hint)
    msg = (
        f"Asset key(s) [{', '.join(describe_key(k) for k in missing_sorted)}] were selected, but no asset definition "
        f"or AssetSpec provides them. Check the spelling, and that every asset is passed to "
        f"Definitions(assets=...), or resolve with allow_missing=True to ignore unknown keys.{hints}"
    )
    raise DefinitionError(msg)


# ------------------------------------------------------------------------------------------
# leaf selections


class AllSelection(AssetSelection):
    __slots__ = ("include_sources",)
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return r.base(self.include_sources)

    def to_selection_str(self) -> str:
        return "*"


class AllAssetCheckSelection(AssetSelection):
    __slots__ = ()

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return frozenset()

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        return r.graph.asset_check_keys


class AssetCheckKeysSelection(AssetSelection):
    __slots__ = ("selected_asset_check_keys",)
    selected_asset_check_keys: tuple[AssetCheckKey, ...]

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return frozenset()

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        known = r.graph.asset_check_keys
        selected = set(self.selected_asset_check_keys)
        missing = selected - known
        if missing and not r.allow_missing:
            names = sorted(k.to_user_string() for k in missing)
            import difflib

            close = difflib.get_close_matches(
                names[0], sorted(k.to_user_string() for k in known), n=3, cutoff=0.6
            )
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            msg = (
                f"Asset check(s) {names} were selected, but no definition provides them.{hint} Check the "
                f"spelling, and that the checks are passed to Definitions(asset_checks=...)."
            )
            raise DefinitionError(msg)
        return selected & known


class AssetChecksForAssetKeysSelection(AssetSelection):
    __slots__ = ("selected_asset_keys",)
    selected_asset_keys: tuple[AssetKey, ...]

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return frozenset()

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        return r.graph.check_keys_for(self.selected_asset_keys)


class KeysAssetSelection(AssetSelection):
    __slots__ = ("selected_keys",)
    selected_keys: tuple[AssetKey, ...]

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        keys = set(self.selected_keys)
        missing = {k for k in keys if k not in r.graph}
        if missing:
            if not r.allow_missing:
                _raise_missing_keys(missing, r.graph)
            keys -= missing
        return keys

    def _needs_parens(self) -> bool:
        return len(self.selected_keys) > 1

    def _is_traversal_atom(self) -> bool:
        return len(self.selected_keys) == 1

    def to_selection_str(self) -> str:
        if not self.selected_keys:
            return "not *"
        return " or ".join(f"key:{_quote(k.to_user_string())}" for k in self.selected_keys)


class UserStringKeySelection(AssetSelection):
    """A key written as text in the legacy syntax: ``a/b`` is tried as ``["a", "b"]``, then as ``["a/b"]``."""

    __slots__ = ("text",)
    _traversal_atom: ClassVar[bool] = True
    text: str

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        split = AssetKey.from_user_string(self.text)
        if split in r.graph:
            return {split}
        whole = AssetKey([self.text])
        if whole in r.graph:
            return {whole}
        if not r.allow_missing:
            _raise_missing_keys([split], r.graph)
        return frozenset()

    def to_selection_str(self) -> str:
        return f"key:{_quote(self.text)}"


class KeyPrefixesAssetSelection(AssetSelection):
    __slots__ = ("include_sources", "selected_key_prefixes")
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    selected_key_prefixes: tuple[tuple[str, ...], ...]
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        prefixes = self.selected_key_prefixes
        return {
            key
            for key in r.base(self.include_sources)
            if any(key.parts[: len(prefix)] == prefix for prefix in prefixes)
        }


class KeySubstringAssetSelection(AssetSelection):
    __slots__ = ("include_sources", "selected_key_substring")
    _traversal_atom: ClassVar[bool] = True
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    selected_key_substring: str
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        needle = self.selected_key_substring
        return {key for key in r.base(self.include_sources) if needle in key.to_user_string()}

    def to_selection_str(self) -> str:
        return f"key_substring:{_quote(self.selected_key_substring)}"


class KeyWildCardAssetSelection(AssetSelection):
    """``key:<pattern>`` from the grammar: ``*`` matches any run of characters (``/`` included);
    external assets match too, and a pattern that matches nothing selects nothing."""

    __slots__ = ("selected_key_wildcard",)
    _traversal_atom: ClassVar[bool] = True
    selected_key_wildcard: str

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        pattern = self.selected_key_wildcard
        if "*" not in pattern:
            exact = AssetKey.from_user_string(pattern)
            if exact in r.graph:
                return {exact}
            return {k for k in r.graph.all_asset_keys if k.to_user_string() == pattern}
        regex = re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")
        return {key for key in r.graph.all_asset_keys if regex.match(key.to_user_string())}

    def to_selection_str(self) -> str:
        return f"key:{_quote(self.selected_key_wildcard)}"


class GroupsAssetSelection(AssetSelection):
    __slots__ = ("include_sources", "selected_groups")
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    selected_groups: tuple[str, ...]
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        base = r.base(self.include_sources)
        by_group = r.graph.keys_by_group
        result: set[AssetKey] = set()
        for group in self.selected_groups:
            result.update(by_group.get(group, frozenset()) & base)
        return result

    def _needs_parens(self) -> bool:
        return len(self.selected_groups) > 1

    def _is_traversal_atom(self) -> bool:
        return len(self.selected_groups) <= 1

    def to_selection_str(self) -> str:
        if not self.selected_groups:
            return "group:<null>"
        return " or ".join(f"group:{_quote(g)}" for g in self.selected_groups)


class TagAssetSelection(AssetSelection):
    __slots__ = ("include_sources", "key", "value")
    _traversal_atom: ClassVar[bool] = True
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    key: str
    value: str
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        nodes = r.graph.nodes_by_key
        return {
            k
            for k in r.base(self.include_sources)
            if nodes[k].spec.tags.get(self.key) == self.value
        }

    def to_selection_str(self) -> str:
        if self.value:
            return f"tag:{_quote(self.key)}={_quote(self.value)}"
        return f"tag:{_quote(self.key)}"


class KindAssetSelection(AssetSelection):
    __slots__ = ("include_sources", "kind_str")
    _traversal_atom: ClassVar[bool] = True
    _defaults: ClassVar[dict[str, Any]] = {"include_sources": False}
    kind_str: str | None
    include_sources: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        nodes = r.graph.nodes_by_key
        base = r.base(self.include_sources)
        if self.kind_str is None:
            return {k for k in base if not nodes[k].kinds}
        return {k for k in base if self.kind_str in nodes[k].kinds}

    def to_selection_str(self) -> str:
        return "kind:<null>" if self.kind_str is None else f"kind:{_quote(self.kind_str)}"


class OwnerAssetSelection(AssetSelection):
    __slots__ = ("selected_owner",)
    _traversal_atom: ClassVar[bool] = True
    selected_owner: str | None

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        nodes = r.graph.nodes_by_key
        if self.selected_owner is None:
            return {k for k, node in nodes.items() if not node.spec.owners}
        return {k for k, node in nodes.items() if self.selected_owner in node.spec.owners}

    def to_selection_str(self) -> str:
        return (
            "owner:<null>"
            if self.selected_owner is None
            else f"owner:{_quote(self.selected_owner)}"
        )


class CodeLocationAssetSelection(AssetSelection):
    """``code_location:<name>``: every asset when the graph was loaded from the code location named
    ``name`` (``AssetGraph(code_location_name=...)``), no asset otherwise. A graph without a location
    name cannot answer, so resolving raises :class:`~weir.errors.SelectionError`."""

    __slots__ = ("selected_code_location",)
    _traversal_atom: ClassVar[bool] = True
    selected_code_location: str | None

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        location = r.graph.code_location_name
        if location is None:
            msg = (
                f"code_location:{self.selected_code_location} cannot be resolved: this asset graph was not "
                f"loaded from a named code location. Select by key:, group:, tag: ... instead, or load the "
                f"definitions through a workspace/code location."
            )
            raise SelectionError(msg)
        return r.graph.all_asset_keys if location == self.selected_code_location else frozenset()

    def to_selection_str(self) -> str:
        if self.selected_code_location is None:
            return "code_location:<null>"
        return f"code_location:{_quote(self.selected_code_location)}"


class ExternalAssetSelection(AssetSelection):
    """``is:external``: assets weir does not compute (AssetSpecs, SourceAssets, undefined deps)."""

    __slots__ = ()
    _traversal_atom: ClassVar[bool] = True

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return r.graph.external_asset_keys

    def to_selection_str(self) -> str:
        return "is:external"


# ------------------------------------------------------------------------------------------
# operators


class OrAssetSelection(AssetSelection):
    __slots__ = ("operands",)
    operands: tuple[AssetSelection, ...]

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        result: set[AssetKey] = set()
        for operand in self.operands:
            result.update(r.assets(operand))
        return result

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        result: set[AssetCheckKey] = set()
        for operand in self.operands:
            result.update(r.checks(operand))
        return result

    def _needs_parens(self) -> bool:
        return True

    def to_selection_str(self) -> str:
        return " or ".join(operand._operand_str() for operand in self.operands)


class AndAssetSelection(AssetSelection):
    __slots__ = ("operands",)
    operands: tuple[AssetSelection, ...]

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return functools.reduce(operator.and_, (r.assets(o) for o in self.operands))

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        return functools.reduce(operator.and_, (r.checks(o) for o in self.operands))

    def _needs_parens(self) -> bool:
        return True

    def to_selection_str(self) -> str:
        return " and ".join(operand._operand_str() for operand in self.operands)


class SubtractAssetSelection(AssetSelection):
    __slots__ = ("left", "right")
    left: AssetSelection
    right: AssetSelection

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        return r.assets(self.left) - r.assets(self.right)

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        return r.checks(self.left) - r.checks(self.right)

    def _needs_parens(self) -> bool:
        if isinstance(self.right, AllAssetCheckSelection):
            return self.left._needs_parens()
        return not isinstance(self.left, AllSelection)  # "not x" binds tighter than and/or

    def to_selection_str(self) -> str:
        if isinstance(self.right, AllAssetCheckSelection):
            # without_checks(): strings describe assets only, so the asset part is the whole story
            return self.left.to_selection_str()
        if isinstance(self.left, AllSelection):
            return f"not {self.right._operand_str()}"
        return f"{self.left._operand_str()} and not {self.right._operand_str()}"


# ------------------------------------------------------------------------------------------
# selections derived from one child


class UpstreamAssetSelection(AssetSelection):
    __slots__ = ("child", "depth", "include_self")
    _defaults: ClassVar[dict[str, Any]] = {"depth": None, "include_self": True}
    child: AssetSelection
    depth: int | None
    include_self: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        if not selected:
            return frozenset()
        closure = r.graph.upstream(selected, self.depth, self.include_self)
        return closure & r.graph.materializable_asset_keys

    def _needs_parens(self) -> bool:
        return not self.include_self

    def to_selection_str(self) -> str:
        child = self.child._traversal_operand_str()
        base = (
            f"+{child}"
            if self.depth is None
            else child
            if self.depth == 0
            else f"{self.depth}+{child}"
        )
        return base if self.include_self else f"{base} and not {self.child._operand_str()}"


class DownstreamAssetSelection(AssetSelection):
    __slots__ = ("child", "depth", "include_self")
    _defaults: ClassVar[dict[str, Any]] = {"depth": None, "include_self": True}
    child: AssetSelection
    depth: int | None
    include_self: bool

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        if not selected:
            return frozenset()
        return r.graph.downstream(selected, self.depth, self.include_self)

    def _needs_parens(self) -> bool:
        return not self.include_self

    def to_selection_str(self) -> str:
        child = self.child._traversal_operand_str()
        base = (
            f"{child}+"
            if self.depth is None
            else child
            if self.depth == 0
            else f"{child}+{self.depth}"
        )
        return base if self.include_self else f"{base} and not {self.child._operand_str()}"


class SinksAssetSelection(AssetSelection):
    __slots__ = ("child",)
    _traversal_atom: ClassVar[bool] = True
    child: AssetSelection

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        return set(selected) - r.graph.strict_ancestors(selected)

    def to_selection_str(self) -> str:
        return f"sinks({self.child.to_selection_str()})"


class RootsAssetSelection(AssetSelection):
    __slots__ = ("child",)
    _traversal_atom: ClassVar[bool] = True
    child: AssetSelection

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        return set(selected) - r.graph.strict_descendants(selected)

    def to_selection_str(self) -> str:
        return f"roots({self.child.to_selection_str()})"


class RequiredNeighborsAssetSelection(AssetSelection):
    __slots__ = ("child",)
    child: AssetSelection

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        result = set(selected)
        nodes = r.graph.nodes_by_key
        by_node = r.graph.keys_by_node_name
        for key in selected:
            node = nodes[key]
            if node.node_name is not None and not node.can_subset:
                result.update(by_node[node.node_name])
        return result


class ParentSourcesAssetSelection(AssetSelection):
    __slots__ = ("child",)
    child: AssetSelection

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        selected = r.assets(self.child)
        if not selected:
            return frozenset()
        return r.graph.upstream(selected) & r.graph.external_asset_keys


class MaterializableAssetSelection(AssetSelection):
    """``is:materializable`` (no child), or the materializable part of ``child``."""

    __slots__ = ("child",)
    _defaults: ClassVar[dict[str, Any]] = {"child": None}
    child: AssetSelection | None

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        materializable = r.graph.materializable_asset_keys
        if self.child is None:
            return materializable
        return set(r.assets(self.child)) & materializable

    def _needs_parens(self) -> bool:
        return self.child is not None

    def _is_traversal_atom(self) -> bool:
        return self.child is None

    def to_selection_str(self) -> str:
        if self.child is None:
            return "is:materializable"
        return f"{self.child._operand_str()} and is:materializable"
