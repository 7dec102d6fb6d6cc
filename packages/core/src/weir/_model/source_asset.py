"""``SourceAsset``: the legacy way to declare an asset weir does not compute (prefer ``AssetSpec``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._model.asset_key import (
    AssetKey,
    CoercibleToAssetKey,
    CoercibleToAssetKeyPrefix,
    coerce_key_prefix,
)
from weir._model.asset_spec import IO_MANAGER_KEY_METADATA, AssetSpec

__all__ = ["SourceAsset"]


class SourceAsset:
    """An asset produced outside weir that assets can still load as an input through ``io_manager_key``."""

    def __init__(
        self,
        key: CoercibleToAssetKey,
        metadata: Mapping[str, Any] | None = None,
        io_manager_key: str | None = None,
        io_manager_def: Any = None,
        description: str | None = None,
        partitions_def: Any = None,
        group_name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        observe_fn: Any = None,
        op_tags: Mapping[str, Any] | None = None,
        *,
        auto_observe_interval_minutes: float | None = None,
        automation_condition: Any = None,
        tags: Mapping[str, str] | None = None,
        key_prefix: CoercibleToAssetKeyPrefix | None = None,
    ) -> None:
        base = AssetKey.from_coercible(key)
        self.key = AssetKey([*coerce_key_prefix(key_prefix), *base.parts]) if key_prefix else base
        self.metadata = dict(metadata or {})
        self.resource_defs = dict(resource_defs or {})
        if io_manager_def is not None:
            io_manager_key = io_manager_key or f"{self.key.to_python_identifier()}__io_manager"
            self.resource_defs[io_manager_key] = io_manager_def
        self.io_manager_key = io_manager_key or "io_manager"
        self.description = description
        self.partitions_def = partitions_def
        self.group_name = group_name
        self.observe_fn = observe_fn
        self.op_tags = dict(op_tags or {})
        self.auto_observe_interval_minutes = auto_observe_interval_minutes
        self.automation_condition = automation_condition
        self.tags = dict(tags or {})

    def to_asset_spec(self) -> AssetSpec:
        return AssetSpec(
            self.key,
            description=self.description,
            metadata={**self.metadata, IO_MANAGER_KEY_METADATA: self.io_manager_key},
            group_name=self.group_name,
            partitions_def=self.partitions_def,
            automation_condition=self.automation_condition,
            tags=self.tags,
        )

    def with_attributes(
        self, key: AssetKey | None = None, group_name: str | None = None
    ) -> SourceAsset:
        return SourceAsset(
            key or self.key,
            metadata=self.metadata,
            io_manager_key=self.io_manager_key,
            description=self.description,
            partitions_def=self.partitions_def,
            group_name=group_name or self.group_name,
            resource_defs=self.resource_defs,
            observe_fn=self.observe_fn,
            op_tags=self.op_tags,
            automation_condition=self.automation_condition,
            tags=self.tags,
        )

    def __repr__(self) -> str:
        return f"SourceAsset(key={self.key!r})"
