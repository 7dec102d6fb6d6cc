"""The asset graph: assets as nodes, dependencies as edges, checks hung on their assets.

:class:`AssetGraph` is the pure structure that selections, planning and the UI traverse. It knows
nothing about how nodes were made (the resolver in :mod:`weir._graph.resolve` builds them from user
definitions); it validates that every dependency exists and that there is no cycle, and answers
graph questions (parents, children, upstream/downstream closures, topological order) in O(V+E).
"""

from __future__ import annotations

import functools
import heapq
import logging
from collections.abc import Iterable, Iterator, Mapping

from weir._model.asset_key import AssetCheckKey, AssetKey
from weir._model.asset_spec import DEFAULT_GROUP_NAME, AssetSpec
from weir.errors import DefinitionError, DuplicateKeyError

__all__ = ["AssetGraph", "AssetNode", "describe_key", "did_you_mean", "similar_asset_keys"]

logger = logging.getLogger(__name__)

_KIND_TAG_PREFIX = "dagster/kind/"


class AssetNode:
    """One asset in an :class:`AssetGraph`.

    ``child_keys`` is filled in by the graph the node is added to. ``assets_def`` is the
    definition that computes the asset (opaque here); ``node_name`` is the op/step name that
    computes it, ``None`` for external assets.
    """

    __slots__ = (
        "assets_def",
        "check_keys",
        "child_keys",
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
    child_keys: frozenset[AssetKey]
    is_materializable: bool
    is_external: bool
    node_name: str | None
    check_keys: frozenset[AssetCheckKey]
    assets_def: object | None

    def __init__(
        self,
        key: AssetKey,
        spec: AssetSpec,
        parent_keys: Iterable[AssetKey],
        *,
        is_materializable: bool,
        is_external: bool,
        node_name: str | None = None,
        check_keys: Iterable[AssetCheckKey] = frozenset(),
        assets_def: object | None = None,
    ) -> None:
        self.key = key
        self.spec = spec
        self.parent_keys = (
            parent_keys if isinstance(parent_keys, frozenset) else frozenset(parent_keys)
        )
        self.child_keys = frozenset()
        self.is_materializable = is_materializable
        self.is_external = is_external
        self.node_name = node_name
        self.check_keys = check_keys if isinstance(check_keys, frozenset) else frozenset(check_keys)
        self.assets_def = assets_def

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

    # Internally nodes are numbered and looked up by ``key.parts`` (hashed in C): AssetKey's own
    # __hash__/__eq__ are Python calls, too slow to run once per edge on large graphs.

    def __init__(
        self, nodes: Iterable[AssetNode], *, code_location_name: str | None = None
    ) -> None:
        node_list = list(nodes)
        index: dict[tuple[str, ...], int] = {}
        for position, node in enumerate(node_list):
            other = index.setdefault(node.key.parts, position)
            if other != position:
                msg = (
                    f"Duplicate asset key {node.key.to_user_string()!r} in the asset graph: two nodes "
                    f"claim it ({node_list[other]!r} and {node!r}). Each asset key must be defined "
                    f"exactly once."
                )
                raise DuplicateKeyError(msg)
        self.code_location_name = code_location_name
        self._index = index
        self._node_list = node_list
        keys = [node.key for node in node_list]
        self._keys = keys
        self._nodes: dict[AssetKey, AssetNode] = dict(zip(keys, node_list, strict=True))

        parents: list[list[int]] = []
        children: list[list[int]] = [[] for _ in node_list]
        for position, node in enumerate(node_list):
            own: list[int] = []
            for parent in node.parent_keys:
                found = index.get(parent.parts)
                if found is None:
                    self._raise_missing_parent(node, parent)
                    raise AssertionError  # unreachable; keeps type checkers informed
                own.append(found)
                children[found].append(position)
            parents.append(own)
        self._parents = parents
        self._children = children
        for position, node in enumerate(node_list):
            node.child_keys = frozenset([keys[i] for i in children[position]])

        self.all_asset_keys: frozenset[AssetKey] = frozenset(keys)
        self.materializable_asset_keys: frozenset[AssetKey] = frozenset(
            n.key for n in node_list if n.is_materializable
        )
        self.external_asset_keys: frozenset[AssetKey] = frozenset(
            n.key for n in node_list if n.is_external
        )
        self.asset_check_keys: frozenset[AssetCheckKey] = frozenset(
            ck for n in node_list for ck in n.check_keys
        )
        order = self._kahn()
        self._toposorted = [keys[i] for i in order]
        self._topo_position = [0] * len(node_list)
        for rank, position in enumerate(order):
            self._topo_position[position] = rank
        logger.debug(
            "built asset graph: %d assets, %d checks", len(node_list), len(self.asset_check_keys)
        )

    # -- validation ------------------------------------------------------------------------
    def _raise_missing_parent(self, node: AssetNode, parent: AssetKey) -> None:
        hint = did_you_mean(parent, self._keys)
        msg = (
            f"Asset {node.key.to_user_string()!r} depends on {parent.to_user_string()!r}, which is "
            f"not in the asset graph.{hint} Define an asset (or an AssetSpec for an external asset) "
            f"with key {parent.to_user_string()!r}, or fix the dependency of "
            f"{node.key.to_user_string()!r}."
        )
        raise DefinitionError(msg)

    def _kahn(self) -> list[int]:
        """Topological order (parents first); ties broken by key order so the result is stable."""
        keys, children = self._keys, self._children
        by_key_order = sorted(range(len(keys)), key=lambda i: keys[i].parts)
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
        if len(order) != len(keys):
            self._raise_cycle({i for i, degree in enumerate(indegree) if degree > 0})
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
        position = self._index.get(asset_key.parts)
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
        return key.parts in self._index

    def __contains__(self, key: object) -> bool:
        return isinstance(key, AssetKey) and key.parts in self._index

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[AssetNode]:
        """The nodes, in topological order."""
        nodes, index = self._node_list, self._index
        return (nodes[index[key.parts]] for key in self._toposorted)

    def __repr__(self) -> str:
        return f"AssetGraph({len(self._keys)} assets, {len(self.asset_check_keys)} checks)"

    @property
    def nodes_by_key(self) -> Mapping[AssetKey, AssetNode]:
        """Read-only view of the nodes by key (shared: do not mutate)."""
        return self._nodes

    def node_for(self, key: AssetKey) -> AssetNode | None:
        """The node for ``key`` or ``None`` (no error), for callers that handle absence themselves."""
        position = self._index.get(key.parts)
        return None if position is None else self._node_list[position]

    def parents(self, key: AssetKey) -> frozenset[AssetKey]:
        return self.get(key).parent_keys

    def children(self, key: AssetKey) -> frozenset[AssetKey]:
        return self.get(key).child_keys

    @property
    def toposorted_asset_keys(self) -> list[AssetKey]:
        """All keys, parents before children, ties by key order. Shared and cached: do not mutate."""
        return self._toposorted

    def toposort(self, keys: Iterable[AssetKey]) -> list[AssetKey]:
        """``keys`` in topological order (unknown keys raise :class:`~weir.errors.DefinitionError`)."""
        positions = self._positions(keys)
        rank = self._topo_position
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
            position = index.get(key.parts)
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
            position = index.get(key.parts)
            if position is None:
                self.get(key)  # raises with a did-you-mean
            else:
                positions.append(position)
        return list(dict.fromkeys(positions))

    def _closure(
        self,
        keys: Iterable[AssetKey],
        edges: list[list[int]],
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

    def _reach(self, start: list[int], edges: list[list[int]]) -> set[AssetKey]:
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
