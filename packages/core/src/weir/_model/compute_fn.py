"""Introspection of user compute functions: which parameters are context, config, resources, inputs."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from types import FunctionType
from typing import Any

from weir.errors import DefinitionError

__all__ = ["ComputeFnInfo", "analyze_compute_fn"]

_NO_ANNOTATION: Any = inspect.Signature.empty

_CONTEXT_TYPE_NAMES = frozenset(
    {
        "AssetExecutionContext",
        "OpExecutionContext",
        "AssetCheckExecutionContext",
        "SensorEvaluationContext",
    }
)


class ComputeFnInfo:
    """What weir needs to know about a compute function's parameters and return type."""

    __slots__ = (
        "config_cls",
        "config_param",
        "context_param",
        "fn",
        "input_annotations",
        "input_defaults",
        "input_params",
        "is_async",
        "is_generator",
        "resource_params",
        "return_annotation",
        "returns_nothing",
    )

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.context_param: str | None = None
        self.config_param: str | None = None
        self.config_cls: type | None = None
        self.resource_params: dict[str, Any] = {}  # param name -> annotation
        self.input_params: list[str] = []
        self.input_annotations: dict[str, Any] = {}
        self.input_defaults: dict[str, Any] = {}
        self.return_annotation: Any = _NO_ANNOTATION
        self.returns_nothing = False
        code = getattr(fn, "__code__", None)
        if code is not None and type(fn) is FunctionType:
            flags = code.co_flags
            self.is_generator = bool(flags & inspect.CO_GENERATOR)
            self.is_async = bool(flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR))
        else:
            self.is_generator = inspect.isgeneratorfunction(fn)
            self.is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


_EVAL_CACHE: dict[tuple[str, int], Any] = {}
_SIMPLE = {
    "None": None,
    "int": int,
    "str": str,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}


def _eval_annotation(ann: str, globalns: dict[str, Any]) -> Any:
    """Evaluate a string annotation in the function's module; cached per module and string."""
    if ann in _SIMPLE and ann not in globalns:
        return _SIMPLE[ann]
    key = (ann, id(globalns))
    try:
        return _EVAL_CACHE[key]
    except KeyError:
        pass
    try:
        value = eval(ann, globalns)  # annotations are the user's own code
    except Exception:
        return ann  # an unresolvable forward reference stays a string (treated as an opaque type)
    if len(_EVAL_CACHE) < 10_000:
        _EVAL_CACHE[key] = value
    return value


def _resolve_annotations(fn: Callable[..., Any], raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Evaluate string annotations (``from __future__ import annotations``) where possible.
    ``raw`` is never changed: a copy is made when there is something to evaluate."""
    resolved: dict[str, Any] | None = None
    globalns: dict[str, Any] = {}
    for name, ann in raw.items():
        if isinstance(ann, str):
            if resolved is None:
                resolved = dict(raw)
                globalns = getattr(fn, "__globals__", {})
            resolved[name] = _eval_annotation(ann, globalns)
    return raw if resolved is None else resolved


def _is_context_annotation(ann: Any) -> bool:
    if isinstance(ann, str):
        return ann.rsplit(".", 1)[-1] in _CONTEXT_TYPE_NAMES
    return getattr(ann, "__name__", None) in _CONTEXT_TYPE_NAMES


def _subclass_of_loaded(ann: Any, module: str, cls_name: str) -> bool:
    """``issubclass(ann, module.cls_name)`` without importing ``module`` when it was never loaded."""
    mod = sys.modules.get(module)
    if mod is None or not isinstance(ann, type):
        return False
    base = getattr(mod, cls_name, None)
    return base is not None and issubclass(ann, base)


def is_config_annotation(ann: Any) -> bool:
    """A ``Config`` subclass that is not a resource (resources are ``Config`` subclasses too)."""
    return _subclass_of_loaded(ann, "weir._config.config", "Config") and not _subclass_of_loaded(
        ann, "weir._config._configurable", "ConfigurableResourceFactory"
    )


def is_resource_annotation(ann: Any) -> bool:
    if _subclass_of_loaded(ann, "weir._config._configurable", "ConfigurableResource"):
        return True
    # ResourceParam[T] is Annotated[T, <marker>]; any marker carrying __weir_resource_param__ counts.
    for meta in getattr(ann, "__metadata__", ()):
        if getattr(meta, "__weir_resource_param__", False):
            return True
    return _subclass_of_loaded(ann, "weir._config.resources", "ResourceDefinition")


def _is_none_annotation(ann: Any) -> bool:
    return ann is None or ann is type(None) or ann == "None"


_VARARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _is_plain_function(fn: Any) -> bool:
    return (
        type(fn) is FunctionType
        and not hasattr(fn, "__wrapped__")
        and not hasattr(fn, "__signature__")
    )


_EMPTY = inspect.Parameter.empty


def _parameters(fn: Any, what: str) -> tuple[list[tuple[str, Any]], Mapping[str, Any]]:
    """``([(name, default)], raw annotations)``; plain functions are read from their code object
    (their annotations mapping is returned as is: callers only read it)."""
    if _is_plain_function(fn) and not fn.__code__.co_flags & _VARARGS:
        code = fn.__code__
        count = code.co_argcount + code.co_kwonlyargcount
        if not count:
            return [], fn.__annotations__
        names = code.co_varnames[:count]
        defaults = fn.__defaults__ or ()
        positional = names[: code.co_argcount]
        default_map: dict[str, Any] = {}
        if defaults:
            default_map = dict(
                zip(positional[len(positional) - len(defaults) :], defaults, strict=True)
            )
        if fn.__kwdefaults__:
            default_map.update(fn.__kwdefaults__)
        return [(n, default_map.get(n, _EMPTY)) for n in names], fn.__annotations__
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        msg = f"{what}: cannot read the signature of {fn!r}: {exc}"
        raise DefinitionError(msg) from exc
    params: list[tuple[str, Any]] = []
    raw: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            continue  # **kwargs receives nothing in particular
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            msg = f"{what}: *{name} parameters are not supported; name each input."
            raise DefinitionError(msg)
        params.append((name, param.default))
        if param.annotation is not _EMPTY:
            raw[name] = param.annotation
    if sig.return_annotation is not inspect.Signature.empty:
        raw["return"] = sig.return_annotation
    return params, raw


def analyze_compute_fn(
    fn: Callable[..., Any], *, what: str, allow_context: bool = True
) -> ComputeFnInfo:
    """Classify every parameter of ``fn``.

    The first parameter is the context when it is named ``context`` or annotated with a context
    type. ``config`` annotated with a ``Config`` subclass carries run config. Parameters annotated
    with a ``ConfigurableResource`` subclass or ``ResourceParam[T]`` are resources. Everything else
    is a data input.
    """
    if not callable(fn):
        msg = f"{what}: expected a function, got {fn!r}."
        raise DefinitionError(msg)
    info = ComputeFnInfo(fn)
    params, raw = _parameters(fn, what)
    annotations = _resolve_annotations(fn, raw) if raw else raw
    for index, (name, default) in enumerate(params):
        ann = annotations.get(name, _EMPTY)
        if index == 0 and allow_context and (name == "context" or _is_context_annotation(ann)):
            info.context_param = name
            continue
        if name == "context" and allow_context:
            msg = f"{what}: 'context' must be the first parameter."
            raise DefinitionError(msg)
        if ann is not _EMPTY:
            # resources first: a ConfigurableResource is also a Config subclass
            if is_resource_annotation(ann):
                info.resource_params[name] = ann
                continue
            if is_config_annotation(ann):
                info.config_param = name
                info.config_cls = ann
                continue
            info.input_annotations[name] = ann
        info.input_params.append(name)
        if default is not _EMPTY:
            info.input_defaults[name] = default
    ret = _unwrap_return(annotations.get("return", _NO_ANNOTATION), info.is_generator)
    info.return_annotation = ret
    info.returns_nothing = _is_none_annotation(ret)
    return info


def _unwrap_return(ret: Any, is_generator: bool) -> Any:
    """The type of the value behind a return annotation: ``Output[T]`` -> ``T``; ``Output``,
    ``MaterializeResult``, iterators and generators -> unchecked (``empty``)."""
    if ret is _NO_ANNOTATION or ret is None:
        return ret
    if is_generator:
        return inspect.Signature.empty
    origin = getattr(ret, "__origin__", None)
    target = origin if origin is not None else ret
    name = getattr(target, "__name__", None)
    if name == "Output" and getattr(target, "__module__", "").startswith("weir."):
        args = getattr(ret, "__args__", ())
        return args[0] if args else inspect.Signature.empty
    if name in ("MaterializeResult", "ObserveResult") and getattr(
        target, "__module__", ""
    ).startswith("weir."):
        return inspect.Signature.empty
    if isinstance(ret, str) and (ret.startswith("Output") or ret.startswith("dg.Output")):
        return inspect.Signature.empty
    return ret
