"""The ``@asset`` and ``@multi_asset`` decorators."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from weir._model.asset_in_out import NO_TYPE, AssetDep, AssetIn, AssetOut, dep_target_key
from weir._model.asset_key import (
    AssetKey,
    CoercibleToAssetKey,
    CoercibleToAssetKeyPrefix,
    check_valid_name,
    coerce_key_prefix,
)
from weir._model.asset_spec import IO_MANAGER_KEY_METADATA, AssetSpec
from weir._model.assets_definition import AssetsDefinition
from weir._model.compute_fn import ComputeFnInfo, analyze_compute_fn
from weir._model.op_definition import InputDefinition, OpDefinition, OutputDefinition
from weir.errors import DefinitionError

__all__ = ["asset", "multi_asset"]

_NO_RESOURCE_KEYS: frozenset[str] = frozenset()


def _what(kind: str, fn: Callable[..., Any], name: str | None = None) -> str:
    where = f"{fn.__module__}.{fn.__qualname__}" if hasattr(fn, "__qualname__") else repr(fn)
    return f"@{kind} {name or getattr(fn, '__name__', '?')!r} ({where})"


def _build_inputs(
    info: ComputeFnInfo,
    ins: Mapping[str, AssetIn] | None,
    what: str,
) -> tuple[dict[str, AssetKey], dict[str, InputDefinition], dict[str, AssetDep]]:
    if not ins and not info.input_params:
        return {}, {}, {}
    ins = dict(ins or {})
    unknown = set(ins) - set(info.input_params)
    if unknown:
        msg = (
            f"{what}: ins= names {sorted(unknown)}, which are not parameters of the function "
            f"(its input parameters are {info.input_params}). Rename the parameter or the ins key."
        )
        raise DefinitionError(msg)
    keys: dict[str, AssetKey] = {}
    defs: dict[str, InputDefinition] = {}
    deps: dict[str, AssetDep] = {}
    for param in info.input_params:
        asset_in = ins.get(param)
        key = asset_in.resolve_key(param) if asset_in is not None else AssetKey(param)
        keys[param] = key
        dagster_type = asset_in.dagster_type if asset_in is not None else NO_TYPE
        if dagster_type is NO_TYPE and param in info.input_annotations:
            dagster_type = info.input_annotations[param]
        defs[param] = InputDefinition(
            param,
            dagster_type=dagster_type,
            metadata=asset_in.metadata if asset_in is not None else None,
            input_manager_key=asset_in.input_manager_key if asset_in is not None else None,
            asset_key=key,
            default_value=info.input_defaults.get(param, NO_TYPE),
        )
        deps[param] = AssetDep(
            key, partition_mapping=asset_in.partition_mapping if asset_in is not None else None
        )
    return keys, defs, deps


def _collect_deps(
    what: str, input_deps: Mapping[str, AssetDep], deps: Iterable[Any] | None
) -> tuple[tuple[AssetDep, ...] | None, tuple[AssetKey, ...]]:
    """The asset's deps, data inputs first: ``(AssetDep objects, keys)``. The objects are ``None``
    when there are no data inputs and no ``AssetDep`` in ``deps``: the spec then makes them on use."""
    keys = [d.asset_key for d in input_deps.values()] if input_deps else []
    if not deps:
        return (tuple(input_deps.values()) if input_deps else None), tuple(keys)
    seen = set(keys)
    given: list[Any] = []
    has_dep_objects = bool(input_deps)
    for raw in deps:
        if isinstance(raw, AssetDep):
            key = raw.asset_key
            has_dep_objects = True
        else:
            key = dep_target_key(raw)
        if key in seen:
            msg = (
                f"{what}: {key.to_user_string()!r} is both a data input (a parameter or ins=) and "
                f"listed in deps=. Keep it in one place: a parameter loads the value, deps= only orders."
            )
            raise DefinitionError(msg)
        seen.add(key)
        keys.append(key)
        given.append(raw)
    if not has_dep_objects:
        return None, tuple(keys)
    extra = [
        raw if isinstance(raw, AssetDep) else AssetDep(key)
        for raw, key in zip(given, keys[len(keys) - len(given) :], strict=True)
    ]
    return (*input_deps.values(), *extra), tuple(keys)


def _merge_deps(
    what: str, input_deps: Mapping[str, AssetDep], deps: Iterable[Any] | None
) -> list[AssetDep]:
    dep_objects, keys = _collect_deps(what, input_deps, deps)
    return list(dep_objects) if dep_objects is not None else [AssetDep(k) for k in keys]


def _required_resource_keys(
    info: ComputeFnInfo, explicit: Iterable[str] | None, what: str
) -> frozenset[str]:
    if not explicit and not info.resource_params:
        return _NO_RESOURCE_KEYS
    keys = set(explicit or ())
    overlap = keys & set(info.resource_params)
    if overlap and explicit:
        # Dagster rejects declaring a resource both ways; so do we, with a hint.
        msg = f"{what}: resource(s) {sorted(overlap)} are both function parameters and in required_resource_keys; use one."
        raise DefinitionError(msg)
    return frozenset(keys | set(info.resource_params))


def _kinds(kinds: Iterable[str] | None, compute_kind: str | None) -> set[str] | None:
    if not kinds and not compute_kind:
        return None
    result = set(kinds or ())
    if compute_kind:
        result.add(compute_kind)
    return result or None


# ``asset(...)`` packs its options into one tuple, in this order, and ``_build_asset`` unpacks it:
# binding a tuple is much cheaper than passing 31 keyword arguments on every decoration.
_ASSET_OPTIONS = (
    "name",
    "key_prefix",
    "ins",
    "deps",
    "metadata",
    "tags",
    "description",
    "config_schema",
    "required_resource_keys",
    "resource_defs",
    "hooks",
    "io_manager_def",
    "io_manager_key",
    "dagster_type",
    "partitions_def",
    "op_tags",
    "group_name",
    "output_required",
    "automation_condition",
    "freshness_policy",
    "backfill_policy",
    "retry_policy",
    "code_version",
    "key",
    "check_specs",
    "owners",
    "kinds",
    "pool",
    "is_virtual",
    "compute_kind",
    "non_argument_deps",
)


def _apply_asset(options: tuple[Any, ...], fn: Callable[..., Any]) -> AssetsDefinition:
    """``@asset(...)`` applied to ``fn`` (a module-level function: decorating allocates no closure)."""
    return _build_asset(fn, options)


def _build_asset(fn: Callable[..., Any], options: tuple[Any, ...]) -> AssetsDefinition:
    """Build the definition for ``@asset``; ``options`` holds the arguments in ``_ASSET_OPTIONS`` order."""
    (
        name,
        key_prefix,
        ins,
        deps,
        metadata,
        tags,
        description,
        config_schema,
        required_resource_keys,
        resource_defs,
        hooks,
        io_manager_def,
        io_manager_key,
        dagster_type,
        partitions_def,
        op_tags,
        group_name,
        output_required,
        automation_condition,
        freshness_policy,
        backfill_policy,
        retry_policy,
        code_version,
        key,
        check_specs,
        owners,
        kinds,
        pool,
        is_virtual,
        compute_kind,
        non_argument_deps,
    ) = options
    what = _what("asset", fn, name)
    if key is not None and (name is not None or key_prefix is not None):
        raise DefinitionError(
            "Cannot specify a name or key prefix for @asset when the key argument is provided."
        )
    if key is not None:
        asset_key = AssetKey.from_coercible(key)
        op_name = asset_key.to_python_identifier()
    else:
        asset_name = check_valid_name(name or fn.__name__, "Asset name")
        if key_prefix is not None:
            asset_key = AssetKey([*coerce_key_prefix(key_prefix), asset_name])
            op_name = asset_key.to_python_identifier()
        else:
            asset_key = AssetKey(asset_name)
            op_name = asset_name  # a valid name is its own identifier
    info = analyze_compute_fn(fn, what=what)
    keys_by_input, input_defs, input_deps = _build_inputs(info, ins, what)
    dep_objects, dep_keys = _collect_deps(
        what, input_deps, [*(deps or ()), *non_argument_deps] if non_argument_deps else deps
    )
    res_defs = dict(resource_defs) if resource_defs else None
    out_io_key = io_manager_key
    if io_manager_def is not None:
        if io_manager_key is not None:
            raise DefinitionError(f"{what}: pass io_manager_key or io_manager_def, not both.")
        out_io_key = f"{op_name}__io_manager"
        res_defs = res_defs or {}
        res_defs[out_io_key] = io_manager_def
    out_type = dagster_type if dagster_type is not None else info.return_annotation
    if info.returns_nothing:
        out_type = None
    description = description or _doc(fn)
    output_def = OutputDefinition(
        "result",
        dagster_type=out_type,
        is_required=output_required,
        io_manager_key=out_io_key,
        metadata=metadata,
        code_version=code_version,
    )
    node = OpDefinition(
        name=op_name,
        compute_fn=fn,
        fn_info=info,
        ins=input_defs,
        outs={"result": output_def},
        description=description,
        config_schema=config_schema,
        required_resource_keys=_required_resource_keys(info, required_resource_keys, what),
        tags=op_tags,
        retry_policy=retry_policy,
        code_version=code_version,
        pool=pool,
    )
    spec = AssetSpec._from_checked_deps(
        asset_key,
        dep_objects,
        dep_keys,
        description,
        metadata,
        not output_required,  # skippable
        group_name,
        code_version,
        automation_condition,
        owners,
        tags,
        _kinds(kinds, compute_kind),
        partitions_def,
        freshness_policy,
        is_virtual,
    )
    if check_specs:
        _check_check_specs(what, check_specs, {asset_key})
    return AssetsDefinition(
        node_def=node,
        keys_by_input_name=keys_by_input,
        keys_by_output_name={"result": asset_key},
        specs=[spec],
        check_specs=check_specs or (),
        resource_defs=res_defs,
        backfill_policy=backfill_policy,
        hooks=hooks,
        input_deps=input_deps,
    )


@overload
def asset(compute_fn: Callable[..., Any]) -> AssetsDefinition: ...


@overload
def asset(
    compute_fn: None = None,
    *,
    name: str | None = ...,
    key_prefix: CoercibleToAssetKeyPrefix | None = ...,
    ins: Mapping[str, AssetIn] | None = ...,
    deps: Iterable[Any] | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    tags: Mapping[str, str] | None = ...,
    description: str | None = ...,
    config_schema: Any = ...,
    required_resource_keys: Iterable[str] | None = ...,
    resource_defs: Mapping[str, Any] | None = ...,
    hooks: Iterable[Any] | None = ...,
    io_manager_def: Any = ...,
    io_manager_key: str | None = ...,
    dagster_type: Any = ...,
    partitions_def: Any = ...,
    op_tags: Mapping[str, Any] | None = ...,
    group_name: str | None = ...,
    output_required: bool = ...,
    automation_condition: Any = ...,
    freshness_policy: Any = ...,
    backfill_policy: Any = ...,
    retry_policy: Any = ...,
    code_version: str | None = ...,
    key: CoercibleToAssetKey | None = ...,
    check_specs: Sequence[Any] | None = ...,
    owners: Sequence[str] | None = ...,
    kinds: Iterable[str] | None = ...,
    pool: str | None = ...,
    is_virtual: bool = ...,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def asset(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    key_prefix: CoercibleToAssetKeyPrefix | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    hooks: Iterable[Any] | None = None,
    io_manager_def: Any = None,
    io_manager_key: str | None = None,
    dagster_type: Any = None,
    partitions_def: Any = None,
    op_tags: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    output_required: bool = True,
    automation_condition: Any = None,
    freshness_policy: Any = None,
    backfill_policy: Any = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    key: CoercibleToAssetKey | None = None,
    check_specs: Sequence[Any] | None = None,
    owners: Sequence[str] | None = None,
    kinds: Iterable[str] | None = None,
    pool: str | None = None,
    is_virtual: bool = False,
    **kwargs: Any,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare an asset computed by the decorated function.

    Parameters of the function are upstream assets (loaded through IO managers), except a first
    ``context`` parameter, a ``config`` parameter typed with a ``Config`` subclass, and resources
    (typed with a ``ConfigurableResource`` subclass or ``ResourceParam[T]``).

    >>> import weir as dg
    >>> @dg.asset
    ... def numbers() -> list[int]:
    ...     return [1, 2, 3]
    """
    compute_kind = kwargs.pop("compute_kind", None)
    non_argument_deps = kwargs.pop("non_argument_deps", None)
    if kwargs:
        msg = f"@asset got unexpected keyword argument(s) {sorted(kwargs)}."
        raise DefinitionError(msg)

    options = (
        name,
        key_prefix,
        ins,
        deps,
        metadata,
        tags,
        description,
        config_schema,
        required_resource_keys,
        resource_defs,
        hooks,
        io_manager_def,
        io_manager_key,
        dagster_type,
        partitions_def,
        op_tags,
        group_name,
        output_required,
        automation_condition,
        freshness_policy,
        backfill_policy,
        retry_policy,
        code_version,
        key,
        check_specs,
        owners,
        kinds,
        pool,
        is_virtual,
        compute_kind,
        non_argument_deps,
    )
    if compute_fn is not None:
        return _build_asset(compute_fn, options)
    return functools.partial(_apply_asset, options)


def _doc(fn: Callable[..., Any]) -> str | None:
    doc = fn.__doc__
    if not doc:
        return None
    import inspect

    return inspect.cleandoc(doc)


def _check_check_specs(what: str, check_specs: Sequence[Any] | None, keys: set[AssetKey]) -> None:
    seen = set()
    for spec in check_specs or ():
        if spec.asset_key not in keys:
            msg = (
                f"{what}: check spec {spec.name!r} targets asset {spec.asset_key.to_user_string()!r}, which this "
                f"definition does not produce ({sorted(k.to_user_string() for k in keys)})."
            )
            raise DefinitionError(msg)
        if spec.key in seen:
            msg = f"{what}: duplicate check spec {spec.name!r} on {spec.asset_key.to_user_string()!r}."
            raise DefinitionError(msg)
        seen.add(spec.key)


def multi_asset(
    *,
    outs: Mapping[str, AssetOut] | None = None,
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    description: str | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    internal_asset_deps: Mapping[str, set[AssetKey]] | None = None,
    partitions_def: Any = None,
    hooks: Iterable[Any] | None = None,
    backfill_policy: Any = None,
    op_tags: Mapping[str, Any] | None = None,
    can_subset: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    specs: Sequence[AssetSpec] | None = None,
    check_specs: Sequence[Any] | None = None,
    pool: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare several assets computed by one function (one step).

    With ``outs=`` the function returns a tuple in ``outs`` order or yields ``Output(v, output_name=...)``;
    with ``specs=`` it returns or yields one ``MaterializeResult(asset_key=...)`` per spec.
    """
    compute_kind = kwargs.pop("compute_kind", None)
    if kwargs:
        msg = f"@multi_asset got unexpected keyword argument(s) {sorted(kwargs)}."
        raise DefinitionError(msg)

    def inner(fn: Callable[..., Any]) -> AssetsDefinition:
        op_name = check_valid_name(name or fn.__name__, "multi_asset name")
        what = _what("multi_asset", fn, op_name)
        if (outs is None) == (specs is None):
            raise DefinitionError(f"{what}: pass exactly one of outs= or specs=.")
        info = analyze_compute_fn(fn, what=what)
        keys_by_input, input_defs, input_deps = _build_inputs(info, ins, what)
        shared_deps = _merge_deps(what, input_deps, deps)
        out_defs: dict[str, OutputDefinition] = {}
        keys_by_output: dict[str, AssetKey] = {}
        spec_list: list[AssetSpec] = []
        if outs is not None:
            if not outs:
                raise DefinitionError(
                    f"{what}: outs= is empty; a multi_asset needs at least one output."
                )
            for out_name, out in outs.items():
                check_valid_name(out_name, f"{what}: output name")
                key = out.resolve_key(out_name)
                if out.group_name and group_name and out.group_name != group_name:
                    msg = f"{what}: output {out_name!r} sets group_name {out.group_name!r} but the multi_asset sets {group_name!r}; set it in one place."
                    raise DefinitionError(msg)
                out_deps = shared_deps
                if internal_asset_deps and out_name in internal_asset_deps:
                    allowed = set(internal_asset_deps[out_name])
                    out_deps = [d for d in shared_deps if d.asset_key in allowed]
                    known = {d.asset_key for d in shared_deps} | {
                        o.resolve_key(n) for n, o in outs.items()
                    }
                    extra = allowed - known
                    if extra:
                        msg = f"{what}: internal_asset_deps for {out_name!r} names {sorted(k.to_user_string() for k in extra)}, which are not inputs, deps or outputs."
                        raise DefinitionError(msg)
                    out_deps = out_deps + [
                        AssetDep(k) for k in allowed if k not in {d.asset_key for d in shared_deps}
                    ]
                spec_list.append(
                    AssetSpec(
                        key,
                        deps=out_deps,
                        description=out.description,
                        metadata=out.metadata,
                        skippable=not out.is_required,
                        group_name=out.group_name or group_name,
                        code_version=out.code_version or code_version,
                        automation_condition=out.automation_condition,
                        owners=out.owners,
                        tags=out.tags,
                        kinds=_kinds(out.kinds, compute_kind),
                        partitions_def=partitions_def,
                        freshness_policy=out.freshness_policy,
                        is_virtual=out.is_virtual,
                    )
                )
                keys_by_output[out_name] = key
                out_defs[out_name] = OutputDefinition(
                    out_name,
                    dagster_type=out.dagster_type,
                    is_required=out.is_required,
                    io_manager_key=out.io_manager_key,
                    metadata=out.metadata,
                    code_version=out.code_version or code_version,
                )
        else:
            assert specs is not None
            if not specs:
                raise DefinitionError(
                    f"{what}: specs= is empty; a multi_asset needs at least one spec."
                )
            for spec in specs:
                if not isinstance(spec, AssetSpec):
                    msg = f"{what}: specs= must contain AssetSpec objects, got {spec!r}."
                    raise DefinitionError(msg)
                out_name = spec.key.to_python_identifier()
                if spec.group_name and group_name and spec.group_name != group_name:
                    msg = f"{what}: spec {spec.key.to_user_string()!r} sets group_name {spec.group_name!r} but the multi_asset sets {group_name!r}."
                    raise DefinitionError(msg)
                merged = spec.merge_attributes(
                    deps=[d for d in shared_deps if d.asset_key not in set(spec.dep_keys)]
                )
                changes: dict[str, Any] = {}
                if group_name and not spec.group_name:
                    changes["group_name"] = group_name
                if partitions_def is not None and spec.partitions_def is None:
                    changes["partitions_def"] = partitions_def
                if code_version and not spec.code_version:
                    changes["code_version"] = code_version
                if compute_kind:
                    changes["kinds"] = spec.kinds | {compute_kind}
                if changes:
                    merged = merged.replace_attributes(**changes)
                spec_list.append(merged)
                keys_by_output[out_name] = spec.key
                out_defs[out_name] = OutputDefinition(
                    out_name,
                    dagster_type=None if info.returns_nothing else NO_TYPE,
                    is_required=not spec.skippable,
                    io_manager_key=spec.metadata.get(IO_MANAGER_KEY_METADATA),
                    metadata=spec.metadata,
                    code_version=spec.code_version or code_version,
                )
        if info.returns_nothing:
            for out_def in out_defs.values():
                out_def.dagster_type = None
        node = OpDefinition(
            name=op_name,
            compute_fn=fn,
            fn_info=info,
            ins=input_defs,
            outs=out_defs,
            description=description or _doc(fn),
            config_schema=config_schema,
            required_resource_keys=_required_resource_keys(info, required_resource_keys, what),
            tags=op_tags,
            retry_policy=retry_policy,
            code_version=code_version,
            pool=pool,
        )
        _check_check_specs(what, check_specs, set(keys_by_output.values()))
        return AssetsDefinition(
            node_def=node,
            keys_by_input_name=keys_by_input,
            keys_by_output_name=keys_by_output,
            specs=spec_list,
            can_subset=can_subset,
            check_specs=check_specs or (),
            resource_defs=resource_defs,
            backfill_policy=backfill_policy,
            hooks=hooks,
            input_deps=input_deps,
        )

    return inner
