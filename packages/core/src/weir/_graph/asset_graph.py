"""The asset graph: assets as nodes, dependencies as edges, checks hung on their assets.

:class:`AssetGraph` is the pure structure that selections, planning and the UI traverse. It knows
nothing about how nodes were made (the resolver in :mod:`weir._graph.resolve` builds them from user
definitions); it validates that every dependency exists and that there is no cycle, and answers
graph questions (parents, children, upstream/downstream closures, topological order) in O(V+E).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping

from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.asset_spec import DEFAULT_GROUP_NAME, AssetSpec
from weir.errors import DefinitionError, DuplicateKeyError

__all__ = [
    "AssetGraph",
    "AssetNode",
    "describe_key",
    "did_you_mean",
    "new_asset_node",
    "similar_asset_keys",
]

logger = logging.getLogger(__name__)

_KIND_TAG_PREFIX = "dagster/kind/"
_NO_KEYS: frozenset[AssetKey] = frozenset()  # shared by every node without children
_NO_CHECKS: frozenset[AssetCheckKey] = frozenset()


class AssetNode:
    """One asset in an :class:`AssetGraph`.

    ``child_keys`` is filled in by the graph the node is added to. ``assets_def`` is the
    definition that computes the asset (opaque here); ``node_name`` is the op/step name that
    computes it, ``None`` for external assets.
    """

    # The graph hands each node its children as positions in the graph's key list; the frozenset
    # of child keys is built on first use (most nodes are never asked).
    __slots__ = (
        "_child_keys",
        "_child_positions",
        "_graph_keys",
        "assets_def",
        "check_keys",
        "is_external",
        "is_materializable",
        "key",
        "node_name",
        "parent_keys",
        "spec",
    )

    key: AssetKey
    spec: AssetSpec
    parent_keys: frozenset[AssetKey]
    is_materializable: bool
    is_external: bool
    node_name: str | None
    check_keys: frozenset[AssetCheckKey]
    assets_def: object | None
    _child_keys: frozenset[AssetKey] | None
    _child_positions: tuple[int, ...]
    _graph_keys: list[AssetKey]

    def __init__(
        self,
        key: AssetKey,
        spec: AssetSpec,
        parent_keys: Iterable[AssetKey],
        *,
        is_materializable: bool,
        is_external: bool,
        node_name: str | None = None,
        check_keys: Iterable[AssetCheckKey] = _NO_CHECKS,
        assets_def: object | None = None,
    ) -> None:
        self.key = key
        self.spec = spec
        self.parent_keys = (
            parent_keys if isinstance(parent_keys, frozenset) else frozenset(parent_keys)
        )
        self._child_keys = _NO_KEYS
        self.is_materializable = is_materializable
        self.is_external = is_external
        self.node_name = node_name
        self.check_keys = check_keys if isinstance(check_keys, frozenset) else frozenset(check_keys)
        self.assets_def = assets_def

    @property
    def child_keys(self) -> frozenset[AssetKey]:
        """The keys of the assets that depend on this one (in the graph the node belongs to)."""
        child_keys = self._child_keys
        if child_keys is None:
            keys = self._graph_keys
            positions = self._child_positions
            child_keys = frozenset([keys[i] for i in positions]) if positions else _NO_KEYS
            self._child_keys = child_keys
        return child_keys

    @child_keys.setter
    def child_keys(self, value: Iterable[AssetKey]) -> None:
        self._child_keys = value if isinstance(value, frozenset) else frozenset(value)

    @property
    def group_name(self) -> str:
        """The asset's group; ``"default"`` when the spec names none."""
        return self.spec.group_name or DEFAULT_GROUP_NAME

    @property
    def tags(self) -> Mapping[str, str]:
        return self.spec.tags

    @property
    def owners(self) -> tuple[str, ...]:
        return self.spec.owners

    @property
    def kinds(self) -> frozenset[str]:
        """The spec's kinds, plus any given the Dagster way as ``dagster/kind/<kind>`` tags."""
        tag_kinds = [
            t[len(_KIND_TAG_PREFIX) :] for t in self.spec.tags if t.startswith(_KIND_TAG_PREFIX)
        ]
        return self.spec.kinds | frozenset(tag_kinds) if tag_kinds else self.spec.kinds

    @property
    def can_subset(self) -> bool:
        """Whether the computing definition can run a subset of its keys (``@multi_asset(can_subset=True)``)."""
        return bool(getattr(self.assets_def, "can_subset", False))

    def __repr__(self) -> str:
        kind = (
            "materializable"
            if self.is_materializable
            else "external"
            if self.is_external
            else "executable"
        )
        return f"AssetNode({self.key.to_user_string()!r}, {kind}, parents={sorted(k.to_user_string() for k in self.parent_keys)})"


def new_asset_node(
    key: AssetKey,
    spec: AssetSpec,
    parent_keys: frozenset[AssetKey],
    is_materializable: bool,
    is_external: bool,
    node_name: str | None,
    assets_def: object | None,
) -> AssetNode:
    """``AssetNode(...)`` without checks or keyword arguments, for the resolver's hot loop
    (``parent_keys`` must already be a frozenset; no checks yet)."""
    node = _new_object(AssetNode)
    node.key = key
    node.spec = spec
    node.parent_keys = parent_keys
    node._child_keys = _NO_KEYS
    node.is_materializable = is_materializable
    node.is_external = is_external
    node.node_name = node_name
    node.check_keys = _NO_CHECKS
    node.assets_def = assets_def
    return node


_new_object = object.__new__


def similar_asset_keys(
    key: AssetKey, candidates: Iterable[AssetKey], limit: int = 5
) -> list[AssetKey]:
    """Keys among ``candidates`` that look like ``key``: close spellings, or the same last component."""
    import difflib  # only on error paths; keeps importing the graph light

    by_string = {c.to_user_string(): c for c in candidates}
    wanted = key.to_user_string()
    close = difflib.get_close_matches(wanted, list(by_string), n=limit, cutoff=0.6)
    found = [by_string[s] for s in close]
    last = key.parts[-1]
    found.extend(c for c in by_string.values() if c.parts[-1] == last and c not in found)
    # "a/b" given as one component (AssetKey("a/b")) when the graph holds ["a", "b"]
    if len(key.parts) == 1 and "/" in key.parts[0]:
        split = AssetKey.from_user_string(key.parts[0])
        if split in by_string.values() and split not in found:
            found.insert(0, split)
    return found[:limit]


def describe_key(key: AssetKey) -> str:
    """``'a/b'`` for messages, or ``['a/b']`` when a component itself contains ``/``."""
    if any("/" in part for part in key.parts):
        return repr(list(key.parts))
    return repr(key.to_user_string())


def did_you_mean(key: AssetKey, candidates: Iterable[AssetKey]) -> str:
    """`` Did you mean 'x'?`` (with a leading space), or ``""`` when nothing is close."""
    similar = similar_asset_keys(key, candidates)
    if not similar:
        return ""
    if (
        len(key.parts) == 1
        and "/" in key.parts[0]
        and similar[0] == AssetKey.from_user_string(key.parts[0])
    ):
        return (
            f" Did you mean {describe_key(similar[0])}? {key.parts[0]!r} was taken as one key "
            f"component ({describe_key(key)}); use AssetKey.from_user_string({key.parts[0]!r}) or a "
            f"list of components to split it on '/'."
        )
    names = " or ".join(describe_key(k) for k in similar)
    return f" Did you mean {names}?"


class AssetGraph:
    """A validated, immutable graph of :class:`AssetNode` objects.

    Building it checks that every parent is a node (else :class:`~weir.errors.DefinitionError`
    naming the missing key and the asset that needs it) and that there is no dependency cycle
    (the error names the cycle edge by edge). Construction and every traversal are O(V+E).

    ``code_location_name`` is the name of the code location the graph was loaded from, if any;
    the ``code_location:`` selection filter compares against it.
    """

    # Internally nodes are numbered (their position in ``_node_list``) and edges are tuples of
    # positions: a tuple of ints leaves the garbage collector's care at its first collection, where
    # a list would be scanned by every later one. Keys are interned (see ``weir._model.asset_key``),
    # so the dict lookups by key almost always match by identity, without calling ``AssetKey.__eq__``.

    def __init__(
        self, nodes: Iterable[AssetNode], *, code_location_name: str | None = None
    ) -> None:
        node_list = list(nodes)
        keys = [node.key for node in node_list]
        index = dict(zip(keys, range(len(keys)), strict=True))
        if len(index) != len(keys):
            self._raise_duplicate(node_list)
        self.code_location_name = code_location_name
        self._index = index
        self._node_list = node_list
        self._keys = keys
        self._nodes: dict[AssetKey, AssetNode] = dict(zip(keys, node_list, strict=True))

        parents: list[tuple[int, ...]] = []
        growing: list[list[int]] = [[] for _ in node_list]
        add_parents = parents.append
        parent_positions = index.__getitem__
        complete = True
        try:
            for position, node in enumerate(node_list):
                own = tuple(map(parent_positions, node.parent_keys))
                add_parents(own)
                for found in own:
                    growing[found].append(position)
        except KeyError:
            complete = False
        if not complete:
            node = node_list[len(parents)]
            self._raise_missing_parent(node, next(p for p in node.parent_keys if p not in index))
        children = [tuple(own) if own else () for own in growing]
        del growing
        self._parents = parents
        self._children = children
        for node, own_children in zip(node_list, children, strict=True):
            node._child_keys = None
            node._child_positions = own_children
            node._graph_keys = keys

        self.all_asset_keys: frozenset[AssetKey] = frozenset(keys)
        self.materializable_asset_keys: frozenset[AssetKey] = frozenset(
            [n.key for n in node_list if n.is_materializable]
        )
        self.external_asset_keys: frozenset[AssetKey] = frozenset(
            [n.key for n in node_list if n.is_external]
        )
        self.asset_check_keys: frozenset[AssetCheckKey] = frozenset(
            itertools.chain.from_iterable([n.check_keys for n in node_list])
        )
        self._check_acyclic()
        # the key-ordered topological order is built on first use
        self._order: tuple[list[AssetKey], list[int]] | None = None
        logger.debug(
            "built asset graph: %d assets, %d checks", len(node_list), len(self.asset_check_keys)
        )

    # -- validation ------------------------------------------------------------------------
    @staticmethod
    def _raise_duplicate(node_list: list[AssetNode]) -> None:
        first: dict[AssetKey, AssetNode] = {}
        for node in node_list:
            other = first.setdefault(node.key, node)
            if other is not node:
                msg = (
                    f"Duplicate asset key {node.key.to_user_string()!r} in the asset graph: two nodes "
                    f"claim it ({other!r} and {node!r}). Each asset key must be defined exactly once."
                )
                raise DuplicateKeyError(msg)

    def _raise_missing_parent(self, node: AssetNode, parent: AssetKey) -> None:
        hint = did_you_mean(parent, self._keys)
        msg = (
            f"Asset {node.key.to_user_string()!r} depends on {parent.to_user_string()!r}, which is "
            f"not in the asset graph.{hint} Define an asset (or an AssetSpec for an external asset) "
            f"with key {parent.to_user_string()!r}, or fix the dependency of "
            f"{node.key.to_user_string()!r}."
        )
        raise DefinitionError(msg)

    def _check_acyclic(self) -> None:
        """Raise if the graph has a dependency cycle (Kahn's algorithm, in no particular order)."""
        children = self._children
        indegree = [len(own) for own in self._parents]
        ready = [position for position, degree in enumerate(indegree) if not degree]
        pop, push = ready.pop, ready.append
        done = 0
        while ready:
            done += 1
            for child in children[pop()]:
                indegree[child] -= 1
                if not indegree[child]:
                    push(child)
        if done != len(indegree):
            self._raise_cycle({i for i, degree in enumerate(indegree) if degree > 0})

    def _ordered(self) -> tuple[list[AssetKey], list[int]]:
        """``(keys in topological order, rank of each position)``, built once."""
        order = self._order
        if order is None:
            positions = self._kahn()
            ranks = [0] * len(positions)
            for rank, position in enumerate(positions):
                ranks[position] = rank
            keys = self._keys
            order = self._order = ([keys[i] for i in positions], ranks)
        return order

    def _kahn(self) -> list[int]:
        """Topological order (parents first); ties broken by key order so the result is stable.
        The graph is known to be acyclic."""
        keys, children = self._keys, self._children
        # plain tuples compare in C; AssetKeys would compare through a Python __eq__
        plain = list(map(tuple, keys))
        by_key_order = sorted(range(len(keys)), key=plain.__getitem__)
        rank = [0] * len(keys)
        for position_rank, position in enumerate(by_key_order):
            rank[position] = position_rank
        indegree = [len(own) for own in self._parents]
        ready = [rank[i] for i, degree in enumerate(indegree) if degree == 0]
        heapq.heapify(ready)
        pop, push = heapq.heappop, heapq.heappush
        order: list[int] = []
        while ready:
            position = by_key_order[pop(ready)]
            order.append(position)
            for child in children[position]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    push(ready, rank[child])
        return order

    def _raise_cycle(self, stuck: set[int]) -> None:
        # Every node left over by Kahn's algorithm has a parent that is also left over, so walking
        # up from any of them must revisit a node: that walk closes a cycle.
        keys = self._keys

        def by_key(i: int) -> tuple[str, ...]:
            return keys[i].parts

        current = min(stuck, key=by_key)
        seen: dict[int, int] = {}
        walk: list[int] = []
        while current not in seen:
            seen[current] = len(walk)
            walk.append(current)
            current = min((p for p in self._parents[current] if p in stuck), key=by_key)
        cycle = walk[seen[current] :]
        cycle.reverse()  # now each asset is upstream of the next
        first = cycle.index(min(cycle, key=by_key))
        cycle = cycle[first:] + cycle[:first]
        path = " -> ".join(keys[i].to_user_string() for i in [*cycle, cycle[0]])
        msg = (
            f"Dependency cycle: {path}. Each asset in the chain depends on the one before it; "
            f"remove one of these dependencies (deps=/ins=/parameters) to break the cycle."
        )
        raise DefinitionError(msg)

    # -- lookups ---------------------------------------------------------------------------
    def get(self, key: AssetKey | str) -> AssetNode:
        """The node for ``key`` (a str is split on ``/``); a clear error with a did-you-mean if absent."""
        asset_key = AssetKey.from_user_string(key) if isinstance(key, str) else key
        position = self._index.get(asset_key)
        if position is None:
            hint = did_you_mean(asset_key, self._keys)
            msg = (
                f"Asset key {asset_key.to_user_string()!r} is not in the asset graph "
                f"({len(self._keys)} assets).{hint} Check the spelling and that the asset is passed "
                f"to Definitions(assets=...)."
            )
            raise DefinitionError(msg)
        return self._node_list[position]

    def has(self, key: AssetKey) -> bool:
        return key in self._index

    def __contains__(self, key: object) -> bool:
        return isinstance(key, AssetKey) and key in self._index

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[AssetNode]:
        """The nodes, in topological order."""
        nodes, index = self._node_list, self._index
        return (nodes[index[key]] for key in self._ordered()[0])

    def __repr__(self) -> str:
        return f"AssetGraph({len(self._keys)} assets, {len(self.asset_check_keys)} checks)"

    @property
    def nodes_by_key(self) -> Mapping[AssetKey, AssetNode]:
        """Read-only view of the nodes by key (shared: do not mutate)."""
        return self._nodes

    def node_for(self, key: AssetKey) -> AssetNode | None:
        """The node for ``key`` or ``None`` (no error), for callers that handle absence themselves."""
        position = self._index.get(key)
        return None if position is None else self._node_list[position]

    def parents(self, key: AssetKey) -> frozenset[AssetKey]:
        return self.get(key).parent_keys

    def children(self, key: AssetKey) -> frozenset[AssetKey]:
        return self.get(key).child_keys

    @property
    def toposorted_asset_keys(self) -> list[AssetKey]:
        """All keys, parents before children, ties by key order. Shared and cached: do not mutate."""
        return self._ordered()[0]

    def toposort(self, keys: Iterable[AssetKey]) -> list[AssetKey]:
        """``keys`` in topological order (unknown keys raise :class:`~weir.errors.DefinitionError`)."""
        positions = self._positions(keys)
        rank = self._ordered()[1]
        positions.sort(key=rank.__getitem__)
        return [self._keys[i] for i in positions]

    @functools.cached_property
    def keys_by_node_name(self) -> dict[str, frozenset[AssetKey]]:
        """Asset keys grouped by the op/step that computes them (external assets are left out)."""
        grouped: dict[str, list[AssetKey]] = {}
        for node in self._node_list:
            if node.node_name is not None:
                grouped.setdefault(node.node_name, []).append(node.key)
        return {name: frozenset(keys) for name, keys in grouped.items()}

    @functools.cached_property
    def keys_by_group(self) -> dict[str, frozenset[AssetKey]]:
        """Asset keys grouped by group name (``"default"`` for assets without one)."""
        grouped: dict[str, list[AssetKey]] = {}
        for node in self._node_list:
            grouped.setdefault(node.group_name, []).append(node.key)
        return {name: frozenset(keys) for name, keys in grouped.items()}

    def check_keys_for(self, keys: Iterable[AssetKey]) -> set[AssetCheckKey]:
        """The checks that target any of ``keys`` (unknown keys are ignored)."""
        index, nodes = self._index, self._node_list
        result: set[AssetCheckKey] = set()
        for key in keys:
            position = index.get(key)
            if position is not None and nodes[position].check_keys:
                result.update(nodes[position].check_keys)
        return result

    # -- traversal -------------------------------------------------------------------------
    def upstream(
        self, keys: Iterable[AssetKey], depth: int | None = None, include_self: bool = True
    ) -> set[AssetKey]:
        """``keys`` and their ancestors up to ``depth`` levels (all levels when ``None``).

        With ``include_self=False`` the given keys are removed from the result, even when one of
        them is an ancestor of another.
        """
        return self._closure(keys, self._parents, depth, include_self)

    def downstream(
        self, keys: Iterable[AssetKey], depth: int | None = None, include_self: bool = True
    ) -> set[AssetKey]:
        """``keys`` and their descendants down to ``depth`` levels (all levels when ``None``)."""
        return self._closure(keys, self._children, depth, include_self)

    def strict_ancestors(self, keys: Iterable[AssetKey]) -> set[AssetKey]:
        """Every asset upstream of at least one of ``keys``, at any depth (parents, grandparents ...)."""
        return self._reach(self._positions(keys), self._parents)

    def strict_descendants(self, keys: Iterable[AssetKey]) -> set[AssetKey]:
        """Every asset downstream of at least one of ``keys``, at any depth."""
        return self._reach(self._positions(keys), self._children)

    def _positions(self, keys: Iterable[AssetKey]) -> list[int]:
        index = self._index
        positions: list[int] = []
        for key in keys:
            position = index.get(key)
            if position is None:
                self.get(key)  # raises with a did-you-mean
            else:
                positions.append(position)
        return list(dict.fromkeys(positions))

    def _closure(
        self,
        keys: Iterable[AssetKey],
        edges: list[tuple[int, ...]],
        depth: int | None,
        include_self: bool,
    ) -> set[AssetKey]:
        if depth is not None and depth < 0:
            msg = f"Traversal depth must be None (all levels) or a non-negative int, got {depth!r}."
            raise DefinitionError(msg)
        start = self._positions(keys)
        seen = bytearray(len(self._keys))
        for position in start:
            seen[position] = 1
        found: list[int] = list(start) if include_self else []
        frontier = start
        level = 0
        while frontier and (depth is None or level < depth):
            following: list[int] = []
            for position in frontier:
                for neighbour in edges[position]:
                    if not seen[neighbour]:
                        seen[neighbour] = 1
                        following.append(neighbour)
            found.extend(following)
            frontier = following
            level += 1
        keys_list = self._keys
        return {keys_list[i] for i in found}

    def _reach(self, start: list[int], edges: list[tuple[int, ...]]) -> set[AssetKey]:
        """Nodes reachable from ``start`` through one or more edges (``start`` itself only if it is
        reachable from another start node)."""
        seen = bytearray(len(self._keys))
        stack = [n for position in start for n in edges[position]]
        found: list[int] = []
        while stack:
            position = stack.pop()
            if not seen[position]:
                seen[position] = 1
                found.append(position)
                stack.extend(edges[position])
        keys_list = self._keys
        return {keys_list[i] for i in found}
