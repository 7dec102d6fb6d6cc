"""Light type checking of inputs and outputs from Python annotations.

A Python annotation maps to a display name (``int`` -> ``Int``) and an ``isinstance`` check;
``Any``, missing annotations and unknown typing constructs pass. The full ``DagsterType`` system
(custom type-check functions, ``TypeCheck`` metadata) plugs in here in the ops/types issue.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from weir._model.asset_in_out import NO_TYPE

__all__ = ["display_name", "type_check"]

_BUILTIN_NAMES: dict[Any, str] = {
    int: "Int",
    str: "String",
    float: "Float",
    bool: "Bool",
    list: "List",
    dict: "Dict",
    set: "Set",
    tuple: "Tuple",
    typing.Any: "Any",
    None: "Nothing",
    type(None): "Nothing",
}

_name_cache: dict[Any, str] = {}


def display_name(ann: Any) -> str:
    if ann is NO_TYPE or ann is inspect.Signature.empty or ann is inspect.Parameter.empty:
        return "Any"
    try:
        cached = _name_cache.get(ann)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    name = _compute_name(ann)
    try:
        _name_cache[ann] = name
    except TypeError:
        pass
    return name


def _compute_name(ann: Any) -> str:
    explicit = getattr(ann, "display_name", None)
    if isinstance(explicit, str):
        return explicit
    if isinstance(ann, str):
        return ann
    try:
        if ann in _BUILTIN_NAMES:
            return _BUILTIN_NAMES[ann]
    except TypeError:
        pass
    origin = typing.get_origin(ann)
    if origin is typing.Union:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return f"Optional[{display_name(args[0])}]"
        return "Union[" + ", ".join(display_name(a) for a in args) + "]"
    if origin is not None:
        base = _BUILTIN_NAMES.get(origin, getattr(origin, "__name__", str(origin)))
        type_args = typing.get_args(ann)
        if type_args:
            return f"{base}[{', '.join(display_name(a) for a in type_args)}]"
        return str(base)
    return getattr(ann, "__name__", str(ann))


def type_check(ann: Any, value: Any) -> tuple[bool, str | None]:
    """``(passed, description)`` for ``value`` against annotation ``ann``."""
    if ann is NO_TYPE or ann is None or ann is inspect.Signature.empty or ann is typing.Any:
        return True, None
    check = getattr(ann, "type_check", None)
    if check is not None and not isinstance(ann, type):  # a DagsterType-like object
        outcome = check(None, value)
        success = getattr(outcome, "success", outcome)
        return bool(success), getattr(outcome, "description", None)
    origin = typing.get_origin(ann)
    if origin is typing.Union:
        args = typing.get_args(ann)
        if any(type_check(a, value)[0] for a in args if a is not type(None)) or (
            value is None and type(None) in args
        ):
            return True, None
        return (
            False,
            f'Value "{value!r}" of python type "{type(value).__name__}" must be a {display_name(ann)}.',
        )
    target = origin if isinstance(origin, type) else ann
    if not isinstance(target, type):
        return True, None
    if target is float and isinstance(value, int) and not isinstance(value, bool):
        return True, None
    if target is int and isinstance(value, bool):
        return False, f'Value "{value!r}" of python type "bool" must be a int.'
    if isinstance(value, target):
        return True, None
    return (
        False,
        f'Value "{value!r}" of python type "{type(value).__name__}" must be a {target.__name__}.',
    )
