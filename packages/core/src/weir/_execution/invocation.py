"""Calling an asset definition directly, as a plain function, in unit tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._execution.context import OpExecutionContext
from weir.errors import InvalidInvocationError

if TYPE_CHECKING:
    from weir._model.assets_definition import AssetsDefinition

__all__ = ["invoke_assets_definition"]


def invoke_assets_definition(
    ad: AssetsDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Call the function behind ``ad`` with inputs, config and resources given as arguments.

    ``my_asset(context, upstream_value, config=MyConfig(...), db=my_db)``: a context is required only
    when the function takes one; resources not passed come from ``context.resources``.
    """
    if not ad.has_node:
        msg = f"{ad!r} is an external asset; it has no function to call."
        raise InvalidInvocationError(msg)
    node = ad.node_def
    info = node.fn_info
    fn = node.compute_fn
    assert info is not None and fn is not None
    name = node.name
    args_list = list(args)
    kwargs = dict(kwargs)
    context: Any = None
    if info.context_param is not None:
        if args_list and isinstance(args_list[0], OpExecutionContext):
            context = args_list.pop(0)
        elif info.context_param in kwargs:
            context = kwargs.pop(info.context_param)
        else:
            from weir._execution.context import build_asset_context

            if args_list and args_list[0] is None:
                args_list.pop(0)
            context = build_asset_context()
    elif args_list and isinstance(args_list[0], OpExecutionContext):
        msg = f"Asset {name!r} was invoked with a context as its first argument, but its function has no 'context' parameter."
        raise InvalidInvocationError(msg)
    call_kwargs: dict[str, Any] = {}
    inputs = list(info.input_params)
    if len(args_list) > len(inputs):
        msg = f"Asset {name!r} takes {len(inputs)} input(s) {inputs} but {len(args_list)} positional argument(s) were given."
        raise InvalidInvocationError(msg)
    for param, value in zip(inputs, args_list, strict=False):
        call_kwargs[param] = value
    for param in inputs[len(args_list) :]:
        if param in kwargs:
            call_kwargs[param] = kwargs.pop(param)
        elif param not in info.input_defaults:
            msg = (
                f"Asset {name!r} is missing input {param!r}; pass it positionally or as {param}=..."
            )
            raise InvalidInvocationError(msg)
    if info.config_param is not None:
        if info.config_param in kwargs:
            call_kwargs[info.config_param] = kwargs.pop(info.config_param)
        else:
            raw = context.op_config if context is not None else None
            if (
                raw is not None
                and info.config_cls is not None
                and not isinstance(raw, info.config_cls)
            ):
                raw = info.config_cls(**raw)
            elif raw is None and info.config_cls is not None:
                try:
                    raw = info.config_cls()
                except Exception as exc:
                    msg = f"Asset {name!r} needs config ({info.config_cls.__name__}); pass config=... or build_asset_context(asset_config=...)."
                    raise InvalidInvocationError(msg) from exc
            call_kwargs[info.config_param] = raw
    for res in info.resource_params:
        if res in kwargs:
            call_kwargs[res] = kwargs.pop(res)
        else:
            resources = context.resources if context is not None else None
            value = getattr(resources, res, None) if resources is not None else None
            if value is None:
                msg = f"Asset {name!r} needs resource {res!r}; pass {res}=... or build_asset_context(resources={{{res!r}: ...}})."
                raise InvalidInvocationError(msg)
            call_kwargs[res] = value
    if kwargs:
        msg = f"Asset {name!r} got unexpected argument(s) {sorted(kwargs)}; its parameters are {inputs + list(info.resource_params) + ([info.config_param] if info.config_param else [])}."
        raise InvalidInvocationError(msg)
    if info.context_param is not None:
        return fn(context, **call_kwargs)
    return fn(**call_kwargs)


def invoke_op(op_def: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call an op's function directly: ``my_op(build_op_context(...), x=1)`` or ``my_op(1)``.

    Inputs left out use their default values; config comes from ``config=`` or ``context.op_config``;
    resources from keyword arguments or ``context.resources``. Generator ops return
    the generator, as in Dagster.
    """
    from weir._model.asset_in_out import NO_TYPE

    info = op_def.fn_info
    fn = op_def.compute_fn
    name = op_def.name
    args_list = list(args)
    kwargs = dict(kwargs)
    context: Any = None
    if info.context_param is not None:
        if args_list and isinstance(args_list[0], OpExecutionContext):
            context = args_list.pop(0)
        elif info.context_param in kwargs:
            context = kwargs.pop(info.context_param)
        else:
            from weir._execution.context import build_op_context

            context = build_op_context()
    elif args_list and isinstance(args_list[0], OpExecutionContext):
        msg = (
            f"Op {name!r} was invoked with a context, but its function has no 'context' parameter."
        )
        raise InvalidInvocationError(msg)
    inputs = list(info.input_params)
    if len(args_list) > len(inputs):
        msg = f"Op {name!r} takes {len(inputs)} input(s) {inputs} but {len(args_list)} positional argument(s) were given."
        raise InvalidInvocationError(msg)
    call_kwargs: dict[str, Any] = dict(zip(inputs, args_list, strict=False))
    for param in inputs[len(args_list) :]:
        if param in kwargs:
            call_kwargs[param] = kwargs.pop(param)
            continue
        default = op_def.ins[param].default_value if param in op_def.ins else NO_TYPE
        if default is not NO_TYPE:
            call_kwargs[param] = default
        elif param not in info.input_defaults:
            msg = f"Op {name!r} is missing input {param!r}; pass it positionally or as {param}=..."
            raise InvalidInvocationError(msg)
    if info.config_param is not None:
        if info.config_param in kwargs:
            call_kwargs[info.config_param] = kwargs.pop(info.config_param)
        else:
            raw = context.op_config if context is not None else None
            if info.config_cls is not None and not isinstance(raw, info.config_cls):
                raw = info.config_cls(**(raw or {}))
            call_kwargs[info.config_param] = raw
    for res in info.resource_params:
        if res in kwargs:
            call_kwargs[res] = kwargs.pop(res)
        else:
            resources = context.resources if context is not None else None
            value = getattr(resources, res, None) if resources is not None else None
            if value is None:
                msg = f"Op {name!r} needs resource {res!r}; pass {res}=... or build_op_context(resources={{{res!r}: ...}})."
                raise InvalidInvocationError(msg)
            call_kwargs[res] = value
    if kwargs:
        msg = f"Op {name!r} got unexpected argument(s) {sorted(kwargs)}."
        raise InvalidInvocationError(msg)
    return fn(context, **call_kwargs) if info.context_param is not None else fn(**call_kwargs)
