"""Introspection of user compute functions: which parameters are context, config, resources, inputs."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any

from weir.errors import DefinitionError

__all__ = ["ComputeFnInfo", "analyze_compute_fn"]

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
        self.return_annotation: Any = inspect.Signature.empty
        self.returns_nothing = False
        self.is_generator = inspect.isgeneratorfunction(fn)
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


def _resolve_annotations(fn: Callable[..., Any], sig: inspect.Signature) -> dict[str, Any]:
    raw: dict[str, Any] = {
        name: p.annotation
        for name, p in sig.parameters.items()
        if p.annotation is not inspect.Parameter.empty
    }
    if sig.return_annotation is not inspect.Signature.empty:
        raw["return"] = sig.return_annotation
    if not any(isinstance(a, str) for a in raw.values()):
        return raw
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # unresolvable forward refs: evaluate what we can, keep the rest as strings
        resolved = dict(raw)
        globalns = getattr(fn, "__globals__", {})
        for name, ann in raw.items():
            if isinstance(ann, str):
                try:
                    resolved[name] = eval(ann, globalns)  # annotations are the user's own code
                except Exception:
                    resolved[name] = ann
        return resolved


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
    return _subclass_of_loaded(ann, "weir._config.config", "Config")


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
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        msg = f"{what}: cannot read the signature of {fn!r}: {exc}"
        raise DefinitionError(msg) from exc
    annotations = _resolve_annotations(fn, sig)
    for index, (name, param) in enumerate(sig.parameters.items()):
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                continue  # **kwargs receives nothing in particular
            msg = f"{what}: *{name} parameters are not supported; name each input."
            raise DefinitionError(msg)
        ann = annotations.get(name, inspect.Parameter.empty)
        if index == 0 and allow_context and (name == "context" or _is_context_annotation(ann)):
            info.context_param = name
            continue
        if name == "context" and allow_context:
            msg = f"{what}: 'context' must be the first parameter."
            raise DefinitionError(msg)
        if is_config_annotation(ann):
            info.config_param = name
            info.config_cls = ann
            continue
        if is_resource_annotation(ann):
            info.resource_params[name] = ann
            continue
        info.input_params.append(name)
        if ann is not inspect.Parameter.empty:
            info.input_annotations[name] = ann
        if param.default is not inspect.Parameter.empty:
            info.input_defaults[name] = param.default
    ret = annotations.get("return", inspect.Signature.empty)
    info.return_annotation = ret
    info.returns_nothing = _is_none_annotation(ret)
    return info
