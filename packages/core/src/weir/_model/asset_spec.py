"""``AssetSpec``: the description of an asset, without a function that computes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from weir._model.asset_in_out import AssetDep, coerce_dep, dep_target_key
from weir._model.asset_key import AssetKey, CoercibleToAssetKey
from weir.errors import DefinitionError

__all__ = ["DEFAULT_GROUP_NAME", "IO_MANAGER_KEY_METADATA", "AssetSpec"]

DEFAULT_GROUP_NAME = "default"
IO_MANAGER_KEY_METADATA = "dagster/io_manager_key"
KIND_TAG_PREFIX = "dagster/kind/"
MAX_KINDS = 3

_FIELDS = (
    "key",
    "deps",
    "description",
    "metadata",
    "skippable",
    "group_name",
    "code_version",
    "automation_condition",
    "owners",
    "tags",
    "kinds",
    "partitions_def",
    "freshness_policy",
    "is_virtual",
    "legacy_freshness_policy",
)


_NO_KINDS: frozenset[str] = frozenset()  # shared by every spec without kinds


def _check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not (owner.startswith("team:") or "@" in owner):
        msg = f"Invalid owner {owner!r}: owners must be an email address or a 'team:<name>' string."
        raise DefinitionError(msg)
    return owner


def _coerce_deps(
    key: AssetKey, deps: Iterable[Any] | None
) -> tuple[tuple[AssetDep, ...] | None, tuple[AssetKey, ...]]:
    """``(deps, dep_keys)`` for ``AssetSpec(deps=...)``; ``deps`` is ``None`` when every element is a
    plain key-like value (no ``AssetDep``), so the ``AssetDep`` objects can be made on first use."""
    if not deps:
        return (), ()
    items = deps if isinstance(deps, (list, tuple)) else list(deps)
    keys: list[AssetKey] = []
    given_deps = False
    for item in items:
        if isinstance(item, AssetDep):
            given_deps = True
            keys.append(item.asset_key)
        else:
            keys.append(dep_target_key(item))
    dep_keys = tuple(keys)
    if len(set(dep_keys)) != len(dep_keys):
        seen: set[AssetKey] = set()
        for dep_key in dep_keys:
            if dep_key in seen:
                msg = f"Asset {key.to_user_string()!r} lists dependency {dep_key.to_user_string()!r} more than once."
                raise DefinitionError(msg)
            seen.add(dep_key)
    if not given_deps:
        return None, dep_keys
    return tuple(
        item if isinstance(item, AssetDep) else AssetDep(dep_key)
        for item, dep_key in zip(items, dep_keys, strict=True)
    ), dep_keys


class _AssetSpecSlots:
    """The storage behind :class:`AssetSpec`. A spec is built as an instance of this class (plain
    slot stores, several times cheaper than ``object.__setattr__`` past ``AssetSpec.__setattr__``)
    and then becomes an ``AssetSpec``: same layout, ``AssetSpec`` only adds immutability."""

    # ``deps`` is a property of AssetSpec: a spec whose deps were given as plain keys keeps only the
    # keys and makes its ``AssetDep`` objects on first use (most never need them: the graph reads
    # keys). ``_parent_keys`` caches the dep keys as a frozenset for the asset graph.
    __slots__ = (
        "_dep_keys",
        "_deps",
        "_parent_keys",
        "automation_condition",
        "code_version",
        "description",
        "freshness_policy",
        "group_name",
        "is_virtual",
        "key",
        "kinds",
        "legacy_freshness_policy",
        "metadata",
        "owners",
        "partitions_def",
        "skippable",
        "tags",
    )

    key: AssetKey
    description: str | None
    metadata: Mapping[str, Any]
    skippable: bool
    group_name: str | None
    code_version: str | None
    automation_condition: Any
    owners: tuple[str, ...]
    tags: Mapping[str, str]
    kinds: frozenset[str]
    partitions_def: Any
    freshness_policy: Any
    is_virtual: bool
    legacy_freshness_policy: Any
    _deps: tuple[AssetDep, ...] | None
    _dep_keys: tuple[AssetKey, ...]
    _parent_keys: frozenset[AssetKey] | None


class AssetSpec(_AssetSpecSlots):
    """An immutable description of an asset.

    In ``Definitions(assets=[...])`` a spec is an *external* asset: part of the graph, shown
    and selectable, but not materializable by weir. In ``@multi_asset(specs=[...])`` each
    spec becomes an output of the function.
    """

    __slots__ = ()

    def __new__(
        cls,
        key: CoercibleToAssetKey,
        *,
        deps: Iterable[Any] | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        skippable: bool = False,
        group_name: str | None = None,
        code_version: str | None = None,
        automation_condition: Any = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
        partitions_def: Any = None,
        freshness_policy: Any = None,
        is_virtual: bool = False,
        legacy_freshness_policy: Any = None,
    ) -> AssetSpec:
        asset_key = AssetKey.from_coercible(key)
        dep_objects, dep_keys = _coerce_deps(asset_key, deps)
        return _build(
            cls,
            asset_key,
            dep_objects,
            dep_keys,
            description,
            metadata,
            skippable,
            group_name,
            code_version,
            automation_condition,
            owners,
            tags,
            kinds,
            partitions_def,
            freshness_policy,
            is_virtual,
            legacy_freshness_policy,
        )

    @classmethod
    def _from_checked_deps(
        cls,
        key: AssetKey,
        deps: tuple[AssetDep, ...] | None,
        dep_keys: tuple[AssetKey, ...],
        description: str | None,
        metadata: Mapping[str, Any] | None,
        skippable: bool,
        group_name: str | None,
        code_version: str | None,
        automation_condition: Any,
        owners: Sequence[str] | None,
        tags: Mapping[str, str] | None,
        kinds: Iterable[str] | None,
        partitions_def: Any,
        freshness_policy: Any,
        is_virtual: bool,
    ) -> AssetSpec:
        """A spec from a key and deps the caller already coerced and checked for duplicates
        (``deps`` the ``AssetDep`` objects, or ``None`` to make them from ``dep_keys`` on use).
        Arguments are positional, in ``__init__`` order: this runs once per ``@asset``."""
        return _build(
            cls,
            key,
            deps,
            dep_keys,
            description,
            metadata,
            skippable,
            group_name,
            code_version,
            automation_condition,
            owners,
            tags,
            kinds,
            partitions_def,
            freshness_policy,
            is_virtual,
            None,
        )

    @property
    def deps(self) -> tuple[AssetDep, ...]:
        """The dependencies, as ``AssetDep`` objects (data inputs first, then ``deps=``)."""
        deps = self._deps
        if deps is None:
            deps = tuple([AssetDep(k) for k in self._dep_keys])
            object.__setattr__(self, "_deps", deps)
        return deps

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            "AssetSpec is immutable; use replace_attributes() or merge_attributes()."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._as_dict(),))

    def _as_dict(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this spec (deps as plain keys while the
        ``AssetDep`` objects were never needed)."""
        values = {name: getattr(self, name) for name in _FIELDS if name != "deps"}
        values["deps"] = self._dep_keys if self._deps is None else self._deps
        return values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetSpec):
            return NotImplemented
        if self._dep_keys != other._dep_keys:
            return False
        return all(getattr(self, n) == getattr(other, n) for n in _FIELDS)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"AssetSpec(key={self.key!r})"

    @property
    def dep_keys(self) -> list[AssetKey]:
        return list(self._dep_keys)

    def _parent_key_set(self) -> frozenset[AssetKey]:
        """The dep keys as a frozenset (built once, shared with the asset graph's nodes)."""
        parents = self._parent_keys
        if parents is None:
            parents = frozenset(self._dep_keys)
            object.__setattr__(self, "_parent_keys", parents)
        return parents

    @property
    def effective_group_name(self) -> str:
        return self.group_name or DEFAULT_GROUP_NAME

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        """A copy with the given attributes replaced (``deps``, ``tags`` ... as whole values)."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            msg = f"AssetSpec has no attribute(s) {sorted(unknown)}; valid: {sorted(_FIELDS)}."
            raise DefinitionError(msg)
        values = self._as_dict()
        values.update(changes)
        return _rebuild(values)

    def merge_attributes(
        self,
        *,
        deps: Iterable[Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> AssetSpec:
        """A copy with the given collections merged into the existing ones."""
        values = self._as_dict()
        if deps:
            existing = set(self._dep_keys)
            values["deps"] = (
                *self.deps,
                *(d for d in map(coerce_dep, deps) if d.asset_key not in existing),
            )
        if metadata:
            values["metadata"] = {**self.metadata, **metadata}
        if owners:
            values["owners"] = (*self.owners, *(o for o in owners if o not in self.owners))
        if tags:
            values["tags"] = {**self.tags, **tags}
        if kinds:
            values["kinds"] = self.kinds | set(kinds)
        return _rebuild(values)

    def with_io_manager_key(self, io_manager_key: str) -> AssetSpec:
        return self.merge_attributes(metadata={IO_MANAGER_KEY_METADATA: io_manager_key})


_new_object = object.__new__


def _build(
    cls: type[AssetSpec],
    key: AssetKey,
    deps: tuple[AssetDep, ...] | None,
    dep_keys: tuple[AssetKey, ...],
    description: str | None,
    metadata: Mapping[str, Any] | None,
    skippable: bool,
    group_name: str | None,
    code_version: str | None,
    automation_condition: Any,
    owners: Sequence[str] | None,
    tags: Mapping[str, str] | None,
    kinds: Iterable[str] | None,
    partitions_def: Any,
    freshness_policy: Any,
    is_virtual: bool,
    legacy_freshness_policy: Any,
) -> AssetSpec:
    """A new spec; owners, tags and kinds are checked and normalised here."""
    if tags or kinds:
        tag_dict = dict(tags) if tags else {}
        kind_set = set(kinds) if kinds else set()
        kind_set.update(
            k[len(KIND_TAG_PREFIX) :] for k in tag_dict if k.startswith(KIND_TAG_PREFIX)
        )
        if len(kind_set) > MAX_KINDS:
            msg = f"Asset {key.to_user_string()!r} has {len(kind_set)} kinds {sorted(kind_set)}; at most {MAX_KINDS} are allowed."
            raise DefinitionError(msg)
        for kind in kind_set:  # kinds are also tags, as in Dagster
            tag_dict.setdefault(f"{KIND_TAG_PREFIX}{kind}", "")
        kind_frozenset = frozenset(kind_set) if kind_set else _NO_KINDS
    else:
        tag_dict = {}
        kind_frozenset = _NO_KINDS
    spec = _new_object(_AssetSpecSlots)
    spec.key = key
    spec._deps = deps if dep_keys else ()
    spec._dep_keys = dep_keys
    spec._parent_keys = None
    spec.description = description
    spec.metadata = dict(metadata) if metadata else {}
    spec.skippable = skippable
    spec.group_name = group_name
    spec.code_version = code_version
    spec.automation_condition = automation_condition
    spec.owners = tuple([_check_owner(o) for o in owners]) if owners else ()
    spec.tags = tag_dict
    spec.kinds = kind_frozenset
    spec.partitions_def = partitions_def
    spec.freshness_policy = freshness_policy
    spec.is_virtual = is_virtual
    spec.legacy_freshness_policy = legacy_freshness_policy
    if cls is AssetSpec:
        spec.__class__ = AssetSpec  # same layout: the spec is now immutable
        return cast(AssetSpec, spec)
    built = _new_object(cls)  # a subclass may have a different layout: copy slot by slot
    for name in _AssetSpecSlots.__slots__:
        object.__setattr__(built, name, getattr(spec, name))
    return built


def _rebuild(values: dict[str, Any]) -> AssetSpec:
    key = values.pop("key")
    return AssetSpec(key, **values)
