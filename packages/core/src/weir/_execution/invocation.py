"""Calling an asset or op directly, as a plain function, in unit tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._execution.context import OpExecutionContext
from weir._model.asset_in_out import NO_TYPE
from weir.errors import InvalidInvocationError

if TYPE_CHECKING:
    from weir._model.assets_definition import AssetsDefinition
    from weir._model.op_definition import OpDefinition

__all__ = ["invoke_assets_definition", "invoke_op"]


def invoke_assets_definition(
    ad: AssetsDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``my_asset(context, upstream_value, config=MyConfig(...), db=my_db)``."""
    if not ad.has_node:
        msg = f"{ad!r} is an external asset; it has no function to call."
        raise InvalidInvocationError(msg)
    return _invoke(ad.node_def, "Asset", args, kwargs)


def invoke_op(op_def: OpDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``my_op(build_op_context(...), x=1)`` or ``my_op(1)``; generator ops return the generator."""
    return _invoke(op_def, "Op", args, kwargs)


def _invoke(node: OpDefinition, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Bind ``args``/``kwargs`` to the function's inputs, config and resources, then call it.

    A context is passed only when the function takes one (built with ``build_asset_context`` /
    ``build_op_context`` when not given). Inputs left out use their defaults; config comes from
    ``config=`` or ``context.op_config``; resources from keyword arguments or ``context.resources``.
    """
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
            from weir._execution.context import build_asset_context, build_op_context

            if args_list and args_list[0] is None:
                args_list.pop(0)
            context = build_asset_context() if kind == "Asset" else build_op_context()
    elif args_list and isinstance(args_list[0], OpExecutionContext):
        msg = f"{kind} {name!r} was invoked with a context as its first argument, but its function has no 'context' parameter."
        raise InvalidInvocationError(msg)
    inputs = list(info.input_params)
    if len(args_list) > len(inputs):
        msg = f"{kind} {name!r} takes {len(inputs)} input(s) {inputs} but {len(args_list)} positional argument(s) were given."
        raise InvalidInvocationError(msg)
    call_kwargs: dict[str, Any] = dict(zip(inputs, args_list, strict=False))
    for param in inputs[len(args_list) :]:
        if param in kwargs:
            call_kwargs[param] = kwargs.pop(param)
            continue
        default = node.ins[param].default_value if param in node.ins else NO_TYPE
        if default is not NO_TYPE:
            call_kwargs[param] = default
        elif param not in info.input_defaults:
            msg = f"{kind} {name!r} is missing input {param!r}; pass it positionally or as {param}=..."
            raise InvalidInvocationError(msg)
    if info.config_param is not None:
        call_kwargs[info.config_param] = _config_value(kind, name, info, context, kwargs)
    for res in info.resource_params:
        if res in kwargs:
            call_kwargs[res] = kwargs.pop(res)
            continue
        resources = context.resources if context is not None else None
        value = getattr(resources, res, None) if resources is not None else None
        if value is None:
            builder = "build_asset_context" if kind == "Asset" else "build_op_context"
            msg = f"{kind} {name!r} needs resource {res!r}; pass {res}=... or {builder}(resources={{{res!r}: ...}})."
            raise InvalidInvocationError(msg)
        call_kwargs[res] = value
    if kwargs:
        accepted = (
            inputs + list(info.resource_params) + ([info.config_param] if info.config_param else [])
        )
        msg = f"{kind} {name!r} got unexpected argument(s) {sorted(kwargs)}; its parameters are {accepted}."
        raise InvalidInvocationError(msg)
    if info.context_param is not None:
        return fn(context, **call_kwargs)
    return fn(**call_kwargs)


def _config_value(kind: str, name: str, info: Any, context: Any, kwargs: dict[str, Any]) -> Any:
    if info.config_param in kwargs:
        return kwargs.pop(info.config_param)
    raw = context.op_config if context is not None else None
    cls = info.config_cls
    if cls is None or isinstance(raw, cls):
        return raw
    try:
        return cls(**(raw or {}))
    except Exception as exc:
        msg = f"{kind} {name!r} needs config ({cls.__name__}); pass config=... or set the context's config: {exc}"
        raise InvalidInvocationError(msg) from exc
