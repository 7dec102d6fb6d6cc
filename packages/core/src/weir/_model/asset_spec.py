"""``AssetSpec``: the description of an asset, without a function that computes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weir._model.asset_in_out import AssetDep, coerce_dep
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


def _check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not (owner.startswith("team:") or "@" in owner):
        msg = f"Invalid owner {owner!r}: owners must be an email address or a 'team:<name>' string."
        raise DefinitionError(msg)
    return owner


class AssetSpec:
    """An immutable description of an asset.

    In ``Definitions(assets=[...])`` a spec is an *external* asset: part of the graph, shown
    and selectable, but not materializable by weir. In ``@multi_asset(specs=[...])`` each
    spec becomes an output of the function.
    """

    __slots__ = _FIELDS

    key: AssetKey
    deps: tuple[AssetDep, ...]
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

    def __init__(
        self,
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
    ) -> None:
        s = object.__setattr__
        s(self, "key", AssetKey.from_coercible(key))
        dep_list = tuple(coerce_dep(d) for d in deps) if deps else ()
        seen: set[AssetKey] = set()
        for dep in dep_list:
            if dep.asset_key in seen:
                msg = f"Asset {self.key.to_user_string()!r} lists dependency {dep.asset_key.to_user_string()!r} more than once."
                raise DefinitionError(msg)
            seen.add(dep.asset_key)
        s(self, "deps", dep_list)
        s(self, "description", description)
        s(self, "metadata", dict(metadata) if metadata else {})
        s(self, "skippable", skippable)
        s(self, "group_name", group_name)
        s(self, "code_version", code_version)
        s(self, "automation_condition", automation_condition)
        s(self, "owners", tuple(_check_owner(o) for o in owners) if owners else ())
        tag_dict = dict(tags) if tags else {}
        kind_set = set(kinds) if kinds else set()
        kind_set.update(
            k[len(KIND_TAG_PREFIX) :] for k in tag_dict if k.startswith(KIND_TAG_PREFIX)
        )
        if len(kind_set) > MAX_KINDS:
            msg = f"Asset {self.key.to_user_string()!r} has {len(kind_set)} kinds {sorted(kind_set)}; at most {MAX_KINDS} are allowed."
            raise DefinitionError(msg)
        for kind in kind_set:  # kinds are also tags, as in Dagster
            tag_dict.setdefault(f"{KIND_TAG_PREFIX}{kind}", "")
        s(self, "tags", tag_dict)
        s(self, "kinds", frozenset(kind_set))
        s(self, "partitions_def", partitions_def)
        s(self, "freshness_policy", freshness_policy)
        s(self, "is_virtual", is_virtual)
        s(self, "legacy_freshness_policy", legacy_freshness_policy)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            "AssetSpec is immutable; use replace_attributes() or merge_attributes()."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._as_dict(),))

    def _as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetSpec):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _FIELDS)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"AssetSpec(key={self.key!r})"

    @property
    def dep_keys(self) -> list[AssetKey]:
        return [d.asset_key for d in self.deps]

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
            existing = {d.asset_key for d in self.deps}
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


def _rebuild(values: dict[str, Any]) -> AssetSpec:
    key = values.pop("key")
    return AssetSpec(key, **values)
