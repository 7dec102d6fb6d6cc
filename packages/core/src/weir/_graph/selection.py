"""``AssetSelection``: composable, immutable queries over an asset graph.

A selection is a small expression tree (keys, groups, tags, traversals, set operators) that is
resolved against an :class:`~weir._graph.asset_graph.AssetGraph` into asset keys and asset check
keys. Behaviour matches Dagster's ``AssetSelection``:

- leaf selections by attribute (``groups``, ``tag``, ``kind``, ``key_prefixes`` ...) and ``all()``
  resolve to *materializable* assets unless ``include_sources=True``; external assets are selected
  when keyed explicitly (``assets``/``keys``) or through ``owner``/``key:`` filters;
- ``upstream()`` keeps only materializable assets, ``downstream()`` keeps everything reached;
- the checks of the selected assets are selected with them, unless ``without_checks()``;
- keying an asset that does not exist raises :class:`~weir.errors.DefinitionError` with a
  did-you-mean (pass ``allow_missing=True`` to ``resolve`` to drop unknown keys instead).

The concrete node classes (``KeysAssetSelection``, ``OrAssetSelection`` ...) live in
:mod:`weir._graph._selection_nodes`, which subclasses ``AssetSelection`` and so imports this module;
this module imports it only lazily (inside methods, and through the module ``__getattr__`` that keeps
``from weir._graph.selection import KeysAssetSelection`` working).
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union

from weir._graph.asset_graph import AssetGraph
from weir._model.asset_key import AssetCheckKey, AssetKey
from weir.errors import DefinitionError, SelectionError

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet
    from typing import TypeAlias

    # the node classes, for modules that import them from here (at run time: __getattr__ below)
    from weir._graph._selection_nodes import (  # noqa: F401
        AllAssetCheckSelection,
        AllSelection,
        AndAssetSelection,
        AssetCheckKeysSelection,
        AssetChecksForAssetKeysSelection,
        CodeLocationAssetSelection,
        DownstreamAssetSelection,
        ExternalAssetSelection,
        GroupsAssetSelection,
        KeyPrefixesAssetSelection,
        KeysAssetSelection,
        KeySubstringAssetSelection,
        KeyWildCardAssetSelection,
        KindAssetSelection,
        MaterializableAssetSelection,
        OrAssetSelection,
        OwnerAssetSelection,
        ParentSourcesAssetSelection,
        RequiredNeighborsAssetSelection,
        RootsAssetSelection,
        SinksAssetSelection,
        SubtractAssetSelection,
        TagAssetSelection,
        UpstreamAssetSelection,
        UserStringKeySelection,
    )

__all__ = ["AssetSelection", "CoercibleToAssetSelection", "SelectionStringUnsupportedError"]

logger = logging.getLogger(__name__)


class SelectionStringUnsupportedError(SelectionError, NotImplementedError):
    """The selection has no equivalent in the selection-string grammar (e.g. check selections)."""


# ------------------------------------------------------------------------------------------
# helpers


def _key_from_coercible(value: Any, *, split_strings: bool, where: str) -> list[AssetKey]:
    if isinstance(value, AssetKey):
        return [value]
    if isinstance(value, str):
        return [AssetKey.from_user_string(value) if split_strings else AssetKey([value])]
    if isinstance(value, (list, tuple)) and value and all(isinstance(p, str) for p in value):
        return [AssetKey(list(value))]
    keys_attr = getattr(value, "keys", None)
    if keys_attr is not None and not callable(keys_attr):
        return sorted(keys_attr)
    key_attr = getattr(value, "key", None)
    if isinstance(key_attr, AssetKey):
        return [key_attr]
    msg = (
        f"{where} got {value!r} (a {type(value).__name__}); expected an AssetKey, a str, a list of str "
        f"(one multi-part key), an asset definition (@asset, @multi_asset), an AssetSpec or a SourceAsset."
    )
    raise DefinitionError(msg)


def _keys_from(values: Iterable[Any], *, split_strings: bool, where: str) -> tuple[AssetKey, ...]:
    keys: list[AssetKey] = []
    for value in values:
        keys.extend(_key_from_coercible(value, split_strings=split_strings, where=where))
    return tuple(dict.fromkeys(keys))


def _is_definition_like(value: Any) -> bool:
    """An asset definition, spec or source asset (looked up on the class, so no property runs)."""
    cls = type(value)
    return not isinstance(value, (str, bytes, dict)) and (
        hasattr(cls, "keys") or hasattr(cls, "key")
    )


def _coerce_graph(all_assets: Any) -> AssetGraph:
    if isinstance(all_assets, AssetGraph):
        return all_assets
    resolve_graph = getattr(all_assets, "resolve_asset_graph", None)
    if callable(resolve_graph):
        graph = resolve_graph()
        if isinstance(graph, AssetGraph):
            return graph
    if isinstance(all_assets, Iterable) and not isinstance(all_assets, (str, bytes)):
        from weir._graph.resolve import resolve_assets

        return resolve_assets(list(all_assets)).graph
    msg = (
        f"AssetSelection.resolve() got {all_assets!r} (a {type(all_assets).__name__}); pass an AssetGraph "
        f"(e.g. defs.resolve_asset_graph()), a Definitions object or a list of asset definitions."
    )
    raise DefinitionError(msg)


class _Resolution:
    """One resolution pass: the graph, the options, and a memo so shared sub-selections resolve once."""

    __slots__ = ("_assets", "_checks", "allow_missing", "graph")

    def __init__(self, graph: AssetGraph, allow_missing: bool) -> None:
        self.graph = graph
        self.allow_missing = allow_missing
        self._assets: dict[int, AbstractSet[AssetKey]] = {}
        self._checks: dict[int, AbstractSet[AssetCheckKey]] = {}

    def assets(self, selection: AssetSelection) -> AbstractSet[AssetKey]:
        found = self._assets.get(id(selection))
        if found is None:
            found = selection._resolve_assets(self)
            self._assets[id(selection)] = found
        return found

    def checks(self, selection: AssetSelection) -> AbstractSet[AssetCheckKey]:
        found = self._checks.get(id(selection))
        if found is None:
            found = selection._resolve_checks(self)
            self._checks[id(selection)] = found
        return found

    def base(self, include_sources: bool) -> AbstractSet[AssetKey]:
        return (
            self.graph.all_asset_keys if include_sources else self.graph.materializable_asset_keys
        )


class _ClassOrInstanceMethod:
    """A method usable on the class (``AssetSelection.materializable()``) and on instances
    (``selection.materializable()``); the function gets the class and the instance (or ``None``)."""

    def __init__(
        self,
        func: Callable[[type[AssetSelection], AssetSelection | None], AssetSelection],
        doc: str,
    ) -> None:
        self._func = func
        self.__doc__ = doc

    def __get__(
        self, instance: AssetSelection | None, owner: type[AssetSelection]
    ) -> Callable[[], AssetSelection]:
        return functools.partial(self._func, owner, instance)


def _materializable(cls: type[AssetSelection], instance: AssetSelection | None) -> AssetSelection:
    from weir._graph import _selection_nodes as _nodes

    return _nodes.MaterializableAssetSelection(child=instance)


# ------------------------------------------------------------------------------------------
# the public base class


class AssetSelection:
    """A query over the assets (and asset checks) of a code location.

    Combine selections with ``|`` (union), ``&`` (intersection) and ``-`` (difference); resolve one
    with :meth:`resolve` / :meth:`resolve_checks`. Selecting assets also selects the checks that
    target them, unless :meth:`without_checks` is used.

    Example::

        import weir as dg

        marketing = dg.AssetSelection.groups("marketing")
        sel = (marketing | dg.AssetSelection.assets("promotion")).downstream() - dg.AssetSelection.tag("tier", "gold")
    """

    __slots__ = ()
    _traversal_atom: ClassVar[bool] = False
    _defaults: ClassVar[dict[str, Any]] = {}

    # -- value semantics: every subclass is an immutable record of its __slots__ ----------
    def __init__(self, **values: Any) -> None:
        for name in self._field_names():
            if name in values:
                value = values.pop(name)
            elif name in self._defaults:
                value = self._defaults[name]
            else:
                msg = f"{type(self).__name__}() is missing the argument {name!r}."
                raise TypeError(msg)
            object.__setattr__(self, name, value)
        if values:
            msg = f"{type(self).__name__}() got unexpected arguments {sorted(values)}."
            raise TypeError(msg)

    def _field_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = type(self).__slots__  # type: ignore[assignment]
        return names

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._field_names())

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"{type(self).__name__} is immutable; build a new selection instead."
        raise AttributeError(msg)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, AssetSelection)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names())
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        values = dict(zip(self._field_names(), self._values(), strict=True))
        return (_rebuild, (type(self), values))

    # -- constructors ----------------------------------------------------------------------
    @staticmethod
    def all(include_sources: bool = False) -> AssetSelection:
        """Every materializable asset (and every external asset too with ``include_sources=True``), with their checks."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.AllSelection(include_sources=include_sources)

    @staticmethod
    def all_asset_checks() -> AssetSelection:
        """Every asset check, and no assets."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.AllAssetCheckSelection()

    @staticmethod
    def assets(*assets_defs: Any) -> AssetSelection:
        """The given assets and their checks.

        Accepts asset definitions (all their keys), ``AssetSpec``/``SourceAsset`` objects, ``AssetKey``
        objects, a str (one key component, not split on ``/``) or a list of str (one multi-part key).
        """
        from weir._graph import _selection_nodes as _nodes

        return _nodes.KeysAssetSelection(
            selected_keys=_keys_from(
                assets_defs, split_strings=False, where="AssetSelection.assets()"
            )
        )

    @staticmethod
    def keys(*asset_keys: Any) -> AssetSelection:
        """The assets with the given keys and their checks; a str IS split on ``/`` (``"a/b"`` → ``["a", "b"]``)."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.KeysAssetSelection(
            selected_keys=_keys_from(asset_keys, split_strings=True, where="AssetSelection.keys()")
        )

    @staticmethod
    def key_prefixes(
        *key_prefixes: str | Sequence[str], include_sources: bool = False
    ) -> AssetSelection:
        """Assets whose key starts with one of the prefixes: a str is one component, a list several."""
        from weir._graph import _selection_nodes as _nodes

        prefixes: list[tuple[str, ...]] = []
        for prefix in key_prefixes:
            if isinstance(prefix, str):
                prefixes.append((prefix,))
            elif isinstance(prefix, AssetKey):
                prefixes.append(prefix.parts)
            elif isinstance(prefix, (list, tuple)) and all(isinstance(p, str) for p in prefix):
                prefixes.append(tuple(prefix))
            else:
                msg = f"AssetSelection.key_prefixes() got {prefix!r}; a prefix is a str or a list of str."
                raise DefinitionError(msg)
        return _nodes.KeyPrefixesAssetSelection(
            selected_key_prefixes=tuple(prefixes), include_sources=include_sources
        )

    @staticmethod
    def key_substring(key_substring: str, include_sources: bool = False) -> AssetSelection:
        """Assets whose ``a/b/c`` key string contains ``key_substring``."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.KeySubstringAssetSelection(
            selected_key_substring=key_substring, include_sources=include_sources
        )

    @staticmethod
    def groups(*group_strs: str, include_sources: bool = False) -> AssetSelection:
        """Assets in any of the named groups (assets without a group are in ``"default"``)."""
        from weir._graph import _selection_nodes as _nodes

        for group in group_strs:
            if not isinstance(group, str):
                msg = f"AssetSelection.groups() takes group names as str, got {group!r} (a {type(group).__name__})."
                raise DefinitionError(msg)
        return _nodes.GroupsAssetSelection(
            selected_groups=tuple(group_strs), include_sources=include_sources
        )

    @staticmethod
    def tag(key: str, value: str, include_sources: bool = False) -> AssetSelection:
        """Assets whose tag ``key`` equals ``value`` exactly (``""`` selects tags given without a value)."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.TagAssetSelection(key=key, value=value, include_sources=include_sources)

    @staticmethod
    def tag_string(string: str, include_sources: bool = False) -> AssetSelection:
        """``"key=value"`` or ``"key"`` (value ``""``), as in ``AssetSelection.tag``."""
        from weir._graph import _selection_nodes as _nodes

        segments = string.split("=")
        if len(segments) > 2:
            msg = f"Invalid tag selection string {string!r}: use 'key' or 'key=value' (at most one '=')."
            raise SelectionError(msg)
        value = segments[1] if len(segments) == 2 else ""
        return _nodes.TagAssetSelection(
            key=segments[0], value=value, include_sources=include_sources
        )

    @staticmethod
    def kind(kind: str | None, include_sources: bool = False) -> AssetSelection:
        """Assets with the given kind (``None``: assets without any kind)."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.KindAssetSelection(kind_str=kind, include_sources=include_sources)

    @staticmethod
    def owner(owner: str | None) -> AssetSelection:
        """Assets (external ones included) that list ``owner`` (``"team:x"`` or an email)."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.OwnerAssetSelection(selected_owner=owner)

    @staticmethod
    def checks_for_assets(*assets_defs: Any) -> AssetSelection:
        """The checks that target the given assets (and not the assets themselves)."""
        from weir._graph import _selection_nodes as _nodes

        keys = _keys_from(
            assets_defs, split_strings=False, where="AssetSelection.checks_for_assets()"
        )
        return _nodes.AssetChecksForAssetKeysSelection(selected_asset_keys=keys)

    @staticmethod
    def checks(*assets_defs_or_check_keys: Any) -> AssetSelection:
        """The given checks: ``AssetCheckKey`` objects, or definitions whose ``check_keys`` are taken."""
        from weir._graph import _selection_nodes as _nodes

        check_keys: list[AssetCheckKey] = []
        for item in assets_defs_or_check_keys:
            if isinstance(item, AssetCheckKey):
                check_keys.append(item)
                continue
            item_checks = getattr(item, "check_keys", None)
            if item_checks is None or callable(item_checks):
                msg = (
                    f"AssetSelection.checks() got {item!r} (a {type(item).__name__}); expected an AssetCheckKey, "
                    f"an @asset_check definition or an asset definition with check_specs."
                )
                raise DefinitionError(msg)
            check_keys.extend(sorted(item_checks))
        return _nodes.AssetCheckKeysSelection(
            selected_asset_check_keys=tuple(dict.fromkeys(check_keys))
        )

    @staticmethod
    def from_string(string: str, include_sources: bool = False) -> AssetSelection:
        """Parse the selection-string grammar (``key:a+ and not group:b``), or the legacy ``*a+,b`` syntax.

        ``include_sources`` makes ``*``, ``not`` and the ``tag:``/``group:``/``kind:`` filters take
        external assets into account too.
        """
        from weir._graph.selection_parser import parse_selection_with_fallback

        return parse_selection_with_fallback(string, include_sources=include_sources)

    @staticmethod
    def from_coercible(selection: Any) -> AssetSelection:
        """An ``AssetSelection`` from a selection, a selection string, a list of strings (OR-ed), or a
        list of keys / asset definitions / specs."""
        from weir._graph import _selection_nodes as _nodes

        if isinstance(selection, AssetSelection):
            return selection
        if isinstance(selection, str):
            return AssetSelection.from_string(selection)
        if isinstance(selection, AssetKey):  # a key is a tuple of strings: not a list of selections
            return AssetSelection.keys(selection)
        if isinstance(selection, (list, tuple, set, frozenset)):
            items = list(selection)
            if not items:
                return _nodes.KeysAssetSelection(selected_keys=())
            if all(isinstance(item, str) for item in items):
                return functools.reduce(
                    operator.or_, [AssetSelection.from_string(s) for s in items]
                )
            if not any(isinstance(item, (str, AssetSelection)) for item in items):
                return AssetSelection.assets(*items)
            return functools.reduce(
                operator.or_, [AssetSelection.from_coercible(item) for item in items]
            )
        if isinstance(selection, AssetKey) or _is_definition_like(selection):
            return AssetSelection.assets(selection)
        msg = (
            f"A selection must be an AssetSelection, a selection string, or a list of strings, AssetKeys or "
            f"asset definitions; got {selection!r} (a {type(selection).__name__})."
        )
        raise SelectionError(msg)

    # -- derived selections ----------------------------------------------------------------
    def upstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and the materializable assets upstream of it (``depth`` levels; all when ``None``)."""
        from weir._graph import _selection_nodes as _nodes

        _check_depth(depth)
        return _nodes.UpstreamAssetSelection(child=self, depth=depth, include_self=include_self)

    def downstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and every asset downstream of it (``depth`` levels; all when ``None``)."""
        from weir._graph import _selection_nodes as _nodes

        _check_depth(depth)
        return _nodes.DownstreamAssetSelection(child=self, depth=depth, include_self=include_self)

    def sinks(self) -> AssetSelection:
        """The selected assets that have no descendant (at any depth) inside the selection."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.SinksAssetSelection(child=self)

    def roots(self) -> AssetSelection:
        """The selected assets that have no ancestor (at any depth) inside the selection."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.RootsAssetSelection(child=self)

    def sources(self) -> AssetSelection:
        """Deprecated alias of :meth:`roots`, kept for Dagster compatibility."""
        return self.roots()

    def required_multi_asset_neighbors(self) -> AssetSelection:
        """This selection plus the other assets of any multi-asset that cannot be subset."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.RequiredNeighborsAssetSelection(child=self)

    def upstream_source_assets(self) -> AssetSelection:
        """The external assets upstream (at any depth) of this selection."""
        from weir._graph import _selection_nodes as _nodes

        return _nodes.ParentSourcesAssetSelection(child=self)

    def without_checks(self) -> AssetSelection:
        """The same assets, with no asset checks."""
        from weir._graph import _selection_nodes as _nodes

        return self - _nodes.AllAssetCheckSelection()

    materializable = _ClassOrInstanceMethod(
        _materializable,
        """Every materializable asset (``AssetSelection.materializable()``), or only the materializable
        assets of this selection (``selection.materializable()``).""",
    )

    # -- operators -------------------------------------------------------------------------
    def __or__(self, other: AssetSelection) -> AssetSelection:
        from weir._graph import _selection_nodes as _nodes

        if not isinstance(other, AssetSelection):
            return NotImplemented
        operands = [
            *_flatten(self, _nodes.OrAssetSelection),
            *_flatten(other, _nodes.OrAssetSelection),
        ]
        return _nodes.OrAssetSelection(operands=tuple(operands))

    def __and__(self, other: AssetSelection) -> AssetSelection:
        from weir._graph import _selection_nodes as _nodes

        if not isinstance(other, AssetSelection):
            return NotImplemented
        operands = [
            *_flatten(self, _nodes.AndAssetSelection),
            *_flatten(other, _nodes.AndAssetSelection),
        ]
        return _nodes.AndAssetSelection(operands=tuple(operands))

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        from weir._graph import _selection_nodes as _nodes

        if not isinstance(other, AssetSelection):
            return NotImplemented
        return _nodes.SubtractAssetSelection(left=self, right=other)

    # -- resolution ------------------------------------------------------------------------
    def resolve(self, all_assets: Any, allow_missing: bool = False) -> set[AssetKey]:
        """The selected asset keys in ``all_assets`` (an ``AssetGraph``, a ``Definitions`` or a list of
        asset definitions). Unknown keyed assets raise unless ``allow_missing``."""
        graph = _coerce_graph(all_assets)
        return set(_Resolution(graph, allow_missing).assets(self))

    def resolve_checks(self, asset_graph: Any, allow_missing: bool = False) -> set[AssetCheckKey]:
        """The selected asset check keys (by default: the checks of the selected assets)."""
        graph = _coerce_graph(asset_graph)
        return set(_Resolution(graph, allow_missing).checks(self))

    def _resolve_assets(self, r: _Resolution) -> AbstractSet[AssetKey]:
        raise NotImplementedError

    def _resolve_checks(self, r: _Resolution) -> AbstractSet[AssetCheckKey]:
        return r.graph.check_keys_for(r.assets(self))

    # -- string form -----------------------------------------------------------------------
    def to_selection_str(self) -> str:
        """The selection as a selection string that :meth:`from_string` parses back to the same assets.

        Only the asset part is written; selections of checks alone, key prefixes and a few others
        have no string form and raise :class:`SelectionStringUnsupportedError`.
        """
        msg = (
            f"{type(self).__name__} has no equivalent in the selection-string grammar; build it in Python "
            f"instead (it resolves normally)."
        )
        raise SelectionStringUnsupportedError(msg)

    def _needs_parens(self) -> bool:
        return False

    def _operand_str(self) -> str:
        text = self.to_selection_str()
        return f"({text})" if self._needs_parens() else text

    def _is_traversal_atom(self) -> bool:
        """Whether the string form is one attribute filter or function call, which ``+`` may wrap bare."""
        return self._traversal_atom

    def _traversal_operand_str(self) -> str:
        text = self.to_selection_str()
        return text if self._is_traversal_atom() else f"({text})"

    def __str__(self) -> str:
        try:
            return self.to_selection_str()
        except SelectionStringUnsupportedError:
            return repr(self)


CoercibleToAssetSelection: TypeAlias = Union[
    str, Sequence[str], Sequence[AssetKey], Sequence[Any], AssetSelection
]


def _rebuild(cls: type[AssetSelection], values: dict[str, Any]) -> AssetSelection:
    return cls(**values)


def _check_depth(depth: int | None) -> None:
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        msg = f"depth must be None (all levels) or a non-negative int, got {depth!r}."
        raise DefinitionError(msg)


def _flatten(selection: AssetSelection, kind: type[AssetSelection]) -> tuple[AssetSelection, ...]:
    if isinstance(selection, kind):
        return selection.operands  # type: ignore[attr-defined, no-any-return]
    return (selection,)


def __getattr__(name: str) -> Any:
    """Forward the node classes' old import path to :mod:`weir._graph._selection_nodes` (PEP 562)."""
    from weir._graph import _selection_nodes

    if name in _selection_nodes.__all__:
        return getattr(_selection_nodes, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
