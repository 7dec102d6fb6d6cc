"""``AssetsDefinition.from_op``: an existing op whose outputs are assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._model.asset_in_out import AssetDep
from weir._model.asset_key import AssetKey, CoercibleToAssetKeyPrefix, coerce_key_prefix
from weir._model.asset_spec import AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir._model.op_definition import OpDefinition
from weir.errors import DefinitionError

__all__ = ["assets_definition_from_op"]


def assets_definition_from_op(
    op_def: OpDefinition,
    *,
    keys_by_input_name: Mapping[str, AssetKey] | None = None,
    keys_by_output_name: Mapping[str, AssetKey] | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    internal_asset_deps: Mapping[str, set[AssetKey]] | None = None,
    partitions_def: Any = None,
    group_name: str | None = None,
    group_names_by_output_name: Mapping[str, str] | None = None,
    descriptions_by_output_name: Mapping[str, str] | None = None,
    metadata_by_output_name: Mapping[str, Mapping[str, Any]] | None = None,
    tags_by_output_name: Mapping[str, Mapping[str, str]] | None = None,
    code_versions_by_output_name: Mapping[str, str] | None = None,
    owners_by_output_name: Mapping[str, Any] | None = None,
    can_subset: bool = False,
    backfill_policy: Any = None,
    check_specs: Any = None,
    resource_defs: Mapping[str, Any] | None = None,
    **_ignored: Any,
) -> AssetsDefinition:
    """Each input of ``op_def`` loads an asset (by input name unless mapped), each output is an asset
    (keyed by output name, with ``key_prefix``, unless mapped)."""
    if not isinstance(op_def, OpDefinition):
        msg = f"AssetsDefinition.from_op takes an OpDefinition (from @op), got {op_def!r}."
        raise DefinitionError(msg)
    if not op_def.outs:
        msg = f"from_op({op_def.name!r}): the op has no outputs, so it cannot produce assets."
        raise DefinitionError(msg)
    prefix = coerce_key_prefix(key_prefix)
    in_keys = {n: AssetKey.from_coercible(k) for n, k in (keys_by_input_name or {}).items()}
    out_keys = {n: AssetKey.from_coercible(k) for n, k in (keys_by_output_name or {}).items()}
    unknown = (set(in_keys) - set(op_def.ins)) | (set(out_keys) - set(op_def.outs))
    if unknown:
        msg = f"from_op({op_def.name!r}): {sorted(unknown)} are not inputs or outputs of the op (inputs {list(op_def.ins)}, outputs {list(op_def.outs)})."
        raise DefinitionError(msg)
    for name in op_def.ins:
        in_keys.setdefault(name, AssetKey([*prefix, name]))
    for name in op_def.outs:
        out_keys.setdefault(name, AssetKey([*prefix, name]))
    input_deps = {n: AssetDep(k) for n, k in in_keys.items()}
    specs = []
    for name, key in out_keys.items():
        deps = list(input_deps.values())
        if internal_asset_deps and name in internal_asset_deps:
            deps = [AssetDep(k) for k in internal_asset_deps[name]]
        specs.append(
            AssetSpec(
                key,
                deps=deps,
                description=(descriptions_by_output_name or {}).get(name)
                or op_def.outs[name].description,
                metadata=(metadata_by_output_name or {}).get(name) or op_def.outs[name].metadata,
                group_name=(group_names_by_output_name or {}).get(name) or group_name,
                code_version=(code_versions_by_output_name or {}).get(name) or op_def.code_version,
                owners=(owners_by_output_name or {}).get(name),
                tags=(tags_by_output_name or {}).get(name),
                partitions_def=partitions_def,
                skippable=not op_def.outs[name].is_required,
            )
        )
    return AssetsDefinition(
        node_def=op_def,
        keys_by_input_name=in_keys,
        keys_by_output_name=out_keys,
        specs=specs,
        can_subset=can_subset,
        check_specs=check_specs or (),
        resource_defs=resource_defs,
        backfill_policy=backfill_policy,
        input_deps=input_deps,
    )
