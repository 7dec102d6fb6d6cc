"""Typed run config: ``Config`` (a pydantic v2 model), ``PermissiveConfig`` and ``RunConfig``.

An op or asset declares a parameter ``config: MyConfig``; at run time its values come from
``run_config["ops"][<op name>]["config"]`` (or a ``MyConfig`` instance in ``RunConfig``).
:func:`resolve_config_param` is what the planner calls to turn that raw value into a
validated instance. Validation follows Dagster's config type system rather than pydantic's
lax coercion: ``"5"`` is not an ``Int``, a ``Float`` accepts an int, an ``Enum`` field takes a
member's name (``"RED"``) or value, and every problem is reported at once with its run-config
path::

    Error 1: Missing required config entry "name" at path root:ops:fan:config. ...
    Error 2: Invalid scalar at path root:ops:fan:config:n. Value "x" of type "<class 'str'>"
             is not valid for expected type "Int".

This module imports pydantic: it is loaded only when config is used. Values of fields whose
name looks secret (``password``, ``token``, ``api_key`` ...) are never echoed in errors.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from weir.errors import ConfigError

__all__ = [
    "Config",
    "PermissiveConfig",
    "RunConfig",
    "config_to_dict",
    "format_validation_errors",
    "resolve_config_param",
]

_SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|api_?key|access_?key|private_?key|credential)", re.IGNORECASE
)


class Config(BaseModel):
    """Base class of typed config for ops, assets and resources (a frozen pydantic model).

    Fields give the schema: primitives, ``Optional``, lists, dicts, enums, nested ``Config``,
    ``Literal`` and unions, with defaults via ``= value`` or ``pydantic.Field(default=...,
    description=...)``. Unknown keys are rejected; instances are immutable.

    Example::

        class FanConfig(dg.Config):
            n: int = 3
            name: str

        @dg.asset
        def fan(config: FanConfig) -> list[str]:
            return [config.name] * config.n
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class PermissiveConfig(Config):
    """A :class:`Config` that also accepts keys it does not declare (read them with ``model_dump()``)."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)


class RunConfig:
    """Config for one run: per-op config, resource config, loggers and executor config.

    ``ops`` maps an op (or asset step) name to a ``Config`` instance or a dict shaped like
    ``{"config": {...}}``; ``resources`` maps a resource key to a ``Config``/resource instance
    or a ``{"config": {...}}`` dict. :meth:`to_config_dict` gives the classic run-config dict.
    """

    __slots__ = ("execution", "loggers", "ops", "resources")

    def __init__(
        self,
        ops: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ) -> None:
        self.ops: dict[str, Any] = dict(ops or {})
        self.resources: dict[str, Any] = dict(resources or {})
        self.loggers: dict[str, Any] = dict(loggers or {})
        self.execution: dict[str, Any] = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The run-config dict, e.g. ``{'loggers': {}, 'resources': {}, 'ops': {'a': {'config': {...}}}, 'execution': {}}``.

        Model instances (``Config``, ``ConfigurableResource``) become ``{"config": <their field
        values>}``, enum members become their names; dicts are passed through unchanged.
        """
        return {
            "loggers": dict(self.loggers),
            "resources": _models_to_config(self.resources),
            "ops": _models_to_config(self.ops),
            "execution": dict(self.execution),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunConfig):
            return NotImplemented
        return self.to_config_dict() == other.to_config_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RunConfig(ops={self.ops!r}, resources={list(self.resources)!r}, "
            f"loggers={self.loggers!r}, execution={self.execution!r})"
        )


def _models_to_config(entries: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in entries.items():
        out[name] = {"config": config_to_dict(value)} if isinstance(value, BaseModel) else value
    return out


def config_to_dict(value: Any) -> Any:
    """A model's field values as plain config data (nested models as dicts, enums as names)."""
    if isinstance(value, BaseModel):
        data = {name: config_to_dict(getattr(value, name)) for name in type(value).model_fields}
        extra = value.__pydantic_extra__
        if extra:
            data.update({k: config_to_dict(v) for k, v in extra.items()})
        return data
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        return {k: config_to_dict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [config_to_dict(v) for v in value]
    return value


# -- validation ---------------------------------------------------------------------------------


def resolve_config_param(
    config_cls: type[BaseModel],
    raw: Mapping[str, Any] | BaseModel | None,
    *,
    path: str,
) -> Any:
    """Validate ``raw`` (a dict from run config, a model instance or ``None``) into ``config_cls``.

    ``path`` is where the value sits in run config (``"root:ops:fan:config"``). Raises
    :class:`~weir.errors.ConfigError` listing every problem, each with its full path; the
    error's ``errors`` holds one message per problem.
    """
    if isinstance(raw, config_cls):
        return raw
    if isinstance(raw, BaseModel):
        msg = (
            f"Error in config at path {path}: expected a {config_cls.__name__} (or a dict of its "
            f"fields), got a {type(raw).__name__}. Pass {config_cls.__name__}(...) or a dict."
        )
        raise ConfigError(msg, [msg], config_type=config_cls, config_value=raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problem = (
            f'Invalid value at path {path}. Value "{raw!r}" of type "{type(raw)}" is not valid for '
            f'expected type "{_shape(config_cls)}": config must be a mapping of field names to values.'
        )
        raise ConfigError(
            f"Error in config at path {path}:\n    Error 1: {problem}",
            [problem],
            config_type=config_cls,
            config_value=raw,
        )
    try:
        return config_cls.model_validate(_coerce_enums(config_cls, raw), strict=True)
    except ValidationError as exc:
        problems = format_validation_errors(exc, config_cls, path)
        numbered = "\n".join(f"    Error {i}: {p}" for i, p in enumerate(problems, 1))
        msg = f"Error in config for {config_cls.__name__} at path {path}: {len(problems)} error(s).\n{numbered}"
        raise ConfigError(msg, problems, config_type=config_cls, config_value=raw) from None


def _coerce_enums(model_cls: type[BaseModel], raw: Mapping[str, Any]) -> Any:
    """Turn enum names/values in ``raw`` into members, as Dagster's config system does.

    Strict validation (which rejects ``"5"`` for an int, like Dagster) would otherwise also
    reject ``"RED"`` for an enum field. Returns ``raw`` itself when nothing changed.
    """
    changed: dict[str, Any] | None = None
    fields = model_cls.model_fields
    for name, value in raw.items():
        info = fields.get(name)
        if info is None:
            continue
        new = _coerce_value(info.annotation, value)
        if new is not value:
            if changed is None:
                changed = dict(raw)
            changed[name] = new
    return raw if changed is None else changed


def _coerce_value(ann: Any, value: Any) -> Any:
    ann = _strip_optional(ann)
    if isinstance(ann, type):
        if issubclass(ann, enum.Enum) and not isinstance(value, ann):
            member = ann.__members__.get(value) if isinstance(value, str) else None
            if member is None:
                try:
                    member = ann(value)
                except (ValueError, TypeError):
                    return value  # let validation report it
            return member
        if issubclass(ann, BaseModel) and isinstance(value, Mapping):
            return _coerce_enums(ann, value)
        return value
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin in (list, typing.List, set, frozenset) and args and isinstance(value, list):  # noqa: UP006
        items = [_coerce_value(args[0], v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if origin in (dict, typing.Dict) and len(args) == 2 and isinstance(value, Mapping):  # noqa: UP006
        coerced = {k: _coerce_value(args[1], v) for k, v in value.items()}
        return coerced if any(coerced[k] is not value[k] for k in value) else value
    return value


def _strip_optional(ann: Any) -> Any:
    if typing.get_origin(ann) in (Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def format_validation_errors(
    exc: ValidationError, model_cls: type[BaseModel] | None, path: str
) -> list[str]:
    """One Dagster-style message per pydantic error, each with its ``root:...`` path."""
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err.get("loc", ())]
        kind = err.get("type", "")
        value = err.get("input")
        ann = _annotation_at(model_cls, err.get("loc", ())) if model_cls is not None else None
        secret = any(_SECRET_NAME.search(part) for part in loc)
        shown = "<redacted>" if secret else _short(value)
        if kind == "missing":
            parent = ":".join([path, *loc[:-1]])
            name = loc[-1] if loc else "?"
            example = {name: _example(ann)}
            problems.append(
                f'Missing required config entry "{name}" at path {parent}. You must provide this '
                f"value in your run config. Example config for the missing entry: {example!r}"
            )
        elif kind == "extra_forbidden":
            parent = ":".join([path, *loc[:-1]])
            owner = _annotation_at(model_cls, err.get("loc", ())[:-1]) if model_cls else None
            expected = f' Expected: "{_shape(owner)}".' if owner is not None else ""
            problems.append(
                f'Received unexpected config entry "{loc[-1]}" at path {parent}.{expected}'
            )
        else:
            where = ":".join([path, *loc])
            expected_name = _type_name(ann) if ann is not None else None
            if expected_name in ("Int", "String", "Float", "Bool"):
                problems.append(
                    f'Invalid scalar at path {where}. Value "{shown}" of type "{type(value)}" is '
                    f'not valid for expected type "{expected_name}".'
                )
            elif expected_name is not None:
                problems.append(
                    f'Invalid value at path {where}. Value "{shown}" of type "{type(value)}" is '
                    f'not valid for expected type "{expected_name}": {err.get("msg", "")}.'
                )
            else:
                problems.append(f"Invalid value at path {where}: {err.get('msg', '')}.")
    return problems


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _annotation_at(model_cls: Any, loc: tuple[Any, ...] | list[Any]) -> Any:
    """The annotation at ``loc`` inside ``model_cls`` (``None`` when it cannot be followed)."""
    ann: Any = model_cls
    for part in loc:
        ann = _strip_optional(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            info = ann.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return None
            ann = info.annotation
            continue
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin in (list, set, frozenset, tuple) and args and isinstance(part, int):
            ann = args[0]
        elif origin is dict and len(args) == 2:
            ann = args[1]
        else:
            return None
    return ann


_SCALAR_NAMES: dict[Any, str] = {int: "Int", str: "String", float: "Float", bool: "Bool"}


def _type_name(ann: Any) -> str:
    ann_stripped = _strip_optional(ann)
    optional = ann_stripped is not ann
    name: str
    if ann_stripped in _SCALAR_NAMES:
        name = _SCALAR_NAMES[ann_stripped]
    elif isinstance(ann_stripped, type) and issubclass(ann_stripped, BaseModel):
        name = _shape(ann_stripped)
    elif isinstance(ann_stripped, type):
        name = ann_stripped.__name__
    else:
        origin = typing.get_origin(ann_stripped)
        args = typing.get_args(ann_stripped)
        if origin is list and args:
            name = f"[{_type_name(args[0])}]"
        elif origin is dict:
            name = "dict"
        elif origin is typing.Literal:
            name = "Literal[" + ", ".join(repr(a) for a in args) + "]"
        else:
            name = str(ann_stripped).replace("typing.", "")
    return f"{name}?" if optional and name in _SCALAR_NAMES.values() else name


def _shape(model_cls: type[BaseModel]) -> str:
    """``{ n: Int name?: String }``: the fields of a model, ``?`` marking the optional ones."""
    parts = []
    for name, info in model_cls.model_fields.items():
        mark = "" if info.is_required() else "?"
        ann = info.annotation
        inner = (
            model_cls.__name__
            if ann is model_cls
            else (_SCALAR_NAMES.get(_strip_optional(ann)) or _short_type(ann))
        )
        parts.append(f"{name}{mark}: {inner}")
    return "{ " + " ".join(parts) + " }"


def _short_type(ann: Any) -> str:
    stripped = _strip_optional(ann)
    if isinstance(stripped, type):
        return stripped.__name__
    return str(stripped).replace("typing.", "")


def _example(ann: Any) -> Any:
    ann = _strip_optional(ann)
    if ann is str:
        return "..."
    if ann is int:
        return 0
    if ann is float:
        return 0.0
    if ann is bool:
        return False
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return next(iter(ann.__members__), "...")
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return {
            name: _example(info.annotation)
            for name, info in ann.model_fields.items()
            if info.is_required()
        }
    origin = typing.get_origin(ann)
    if origin is list:
        return []
    if origin is dict:
        return {}
    return "..."
