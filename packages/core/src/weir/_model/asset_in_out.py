"""``AssetIn``, ``AssetOut`` and ``AssetDep``: how an asset names its inputs, outputs and deps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from weir._model.asset_key import (
    AssetKey,
    CoercibleToAssetKey,
    CoercibleToAssetKeyPrefix,
    coerce_key_prefix,
)
from weir.errors import DefinitionError

__all__ = ["NO_TYPE", "AssetDep", "AssetIn", "AssetOut", "coerce_dep", "dep_target_key"]


class _NoType:
    """Sentinel: no ``dagster_type`` was given (infer it from annotations)."""

    _instance: _NoType | None = None

    def __new__(cls) -> _NoType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no type>"

    def __bool__(self) -> bool:
        return False


NO_TYPE: Any = _NoType()


class AssetIn:
    """Describes a data input of an asset: which asset it loads and how.

    ``AssetIn(key=None, metadata=None, key_prefix=None, input_manager_key=None,
    partition_mapping=None, dagster_type=...)``. Without ``key`` the key is the parameter
    name (with ``key_prefix`` in front when given).
    """

    __slots__ = (
        "dagster_type",
        "input_manager_key",
        "key",
        "key_prefix",
        "metadata",
        "partition_mapping",
    )

    def __init__(
        self,
        key: CoercibleToAssetKey | None = None,
        metadata: Mapping[str, Any] | None = None,
        key_prefix: CoercibleToAssetKeyPrefix | None = None,
        input_manager_key: str | None = None,
        partition_mapping: Any = None,
        dagster_type: Any = NO_TYPE,
    ) -> None:
        if key is not None and key_prefix is not None:
            raise DefinitionError("AssetIn: pass either key or key_prefix, not both.")
        self.key = AssetKey.from_coercible(key) if key is not None else None
        self.key_prefix = coerce_key_prefix(key_prefix) if key_prefix is not None else None
        self.metadata = dict(metadata or {})
        self.input_manager_key = input_manager_key
        self.partition_mapping = partition_mapping
        self.dagster_type = dagster_type

    def resolve_key(self, input_name: str) -> AssetKey:
        if self.key is not None:
            return self.key
        return AssetKey([*(self.key_prefix or []), input_name])

    def __repr__(self) -> str:
        return f"AssetIn(key={self.key!r}, key_prefix={self.key_prefix!r})"


class AssetOut:
    """Describes one output of a ``@multi_asset`` (``outs={"name": AssetOut(...)}``)."""

    __slots__ = (
        "automation_condition",
        "backfill_policy",
        "code_version",
        "dagster_type",
        "description",
        "freshness_policy",
        "group_name",
        "io_manager_key",
        "is_required",
        "is_virtual",
        "key",
        "key_prefix",
        "kinds",
        "metadata",
        "owners",
        "tags",
    )

    def __init__(
        self,
        key_prefix: CoercibleToAssetKeyPrefix | None = None,
        key: CoercibleToAssetKey | None = None,
        dagster_type: Any = NO_TYPE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        group_name: str | None = None,
        code_version: str | None = None,
        automation_condition: Any = None,
        backfill_policy: Any = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: set[str] | Sequence[str] | None = None,
        freshness_policy: Any = None,
        is_virtual: bool = False,
    ) -> None:
        if key is not None and key_prefix is not None:
            raise DefinitionError("AssetOut: pass either key or key_prefix, not both.")
        self.key_prefix = coerce_key_prefix(key_prefix) if key_prefix is not None else None
        self.key = AssetKey.from_coercible(key) if key is not None else None
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})
        self.group_name = group_name
        self.code_version = code_version
        self.automation_condition = automation_condition
        self.backfill_policy = backfill_policy
        self.owners = list(owners or [])
        self.tags = dict(tags or {})
        self.kinds = set(kinds or ())
        self.freshness_policy = freshness_policy
        self.is_virtual = is_virtual

    def resolve_key(self, output_name: str) -> AssetKey:
        if self.key is not None:
            return self.key
        return AssetKey([*(self.key_prefix or []), output_name])

    def __repr__(self) -> str:
        return f"AssetOut(key={self.key!r}, key_prefix={self.key_prefix!r})"


class AssetDep:
    """A non-data dependency on another asset (``deps=[AssetDep("a", partition_mapping=...)]``).

    ``asset`` may be an ``AssetKey``, a str (one key component), a list of str, an
    ``AssetSpec``, an ``AssetsDefinition`` (with exactly one key) or a ``SourceAsset``.
    """

    __slots__ = ("asset_key", "metadata", "partition_mapping")

    def __init__(
        self,
        asset: Any,
        *,
        partition_mapping: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.asset_key = dep_target_key(asset)
        self.partition_mapping = partition_mapping
        self.metadata = dict(metadata or {})

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AssetDep)
            and self.asset_key == other.asset_key
            and self.partition_mapping == other.partition_mapping
            and self.metadata == other.metadata
        )

    def __hash__(self) -> int:
        return hash(self.asset_key)

    def __repr__(self) -> str:
        return f"AssetDep({self.asset_key!r})"


def dep_target_key(asset: Any) -> AssetKey:
    """The key named by a ``deps=`` element that is not an ``AssetDep`` (key, str, list, spec, definition)."""
    if type(asset) is str and "/" not in asset:
        return AssetKey(asset)
    if isinstance(asset, AssetKey):
        return asset
    if isinstance(asset, str):
        if "/" in asset:
            msg = (
                f"Invalid dependency {asset!r}: a string dep names one key component and may not "
                f"contain '/'. For a multi-part key pass a list, e.g. {asset.split('/')!r}, or "
                f"AssetKey.from_user_string({asset!r})."
            )
            raise DefinitionError(msg)
        return AssetKey(asset)
    if isinstance(asset, (list, tuple)):
        return AssetKey(list(asset))
    # AssetSpec / SourceAsset expose `.key`; a single-key AssetsDefinition does too.
    keys = getattr(asset, "keys", None)
    if keys is not None and not isinstance(keys, AssetKey) and not callable(keys):
        keys = list(keys)
        if len(keys) != 1:
            msg = (
                f"Cannot use a definition with {len(keys)} asset keys as one dependency; "
                "list its keys (or specs) individually in deps=."
            )
            raise DefinitionError(msg)
        return keys[0]
    key = getattr(asset, "key", None)
    if isinstance(key, AssetKey):
        return key
    msg = (
        f"Cannot use {asset!r} (a {type(asset).__name__}) as an asset dependency; pass an AssetKey, "
        "a str, a list of str, an AssetSpec, an AssetsDefinition or an AssetDep."
    )
    raise DefinitionError(msg)


def coerce_dep(value: Any) -> AssetDep:
    """Turn any accepted ``deps=`` element into an ``AssetDep``."""
    if isinstance(value, AssetDep):
        return value
    return AssetDep(value)
