"""Typed run config: ``Config`` (a pydantic v2 model), ``PermissiveConfig`` and ``RunConfig``.

An op or asset declares a parameter ``config: MyConfig``; at run time its values come from
``run_config["ops"][<op name>]["config"]`` (or a ``MyConfig`` instance in ``RunConfig``).
:func:`resolve_config_param` is what the planner calls to turn that raw value into a validated
instance. Validation follows Dagster's config type system rather than pydantic's lax coercion
(the class's fields are turned into a classic schema by :mod:`weir._config._pydantic_schema` and
checked by :mod:`weir._config._evaluate`): ``"5"`` is not an ``Int``, a ``Float`` accepts an
int, an enum field takes a member's name (``"RED"``), ``str``/``int``/``bool`` fields accept
``{"env": "VAR"}``, and every problem is reported at once with its run-config path::

    Error 1: Missing required config entry "name" at path root:ops:fan:config. ...
    Error 2: Invalid scalar at path root:ops:fan:config:n. Value "x" of type "<class 'str'>"
             is not valid for expected type "Int".

Secrets: values of fields named like secrets (``password``, ``token``, ``api_key`` ...), typed
``SecretStr``, or read from the environment (``EnvVar``) are never echoed in errors and are
masked in reprs. This module imports pydantic: it is loaded only when config is used.
"""

from __future__ import annotations

import enum
import inspect
import re
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from weir._config._evaluate import Evaluation, evaluate, format_problems
from weir._config._pydantic_schema import schema_for_model, secret_field_names
from weir._config.env_var import EnvVar, IntEnvVar, is_env_reference, is_secret_name
from weir._config.schema import Field as SchemaField
from weir.errors import ConfigError

__all__ = [
    "Config",
    "PermissiveConfig",
    "RunConfig",
    "build_model",
    "config_to_dict",
    "format_validation_errors",
    "has_env_references",
    "resolve_config_param",
    "resolve_model_env",
]

_OPTIONAL_TEXT = re.compile(r"(^Optional\[|\bNone\b)")


class _Redacted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


_REDACTED = _Redacted()


def _private(model: BaseModel, name: str) -> Any:
    private = model.__pydantic_private__
    return private.get(name) if private else None


class Config(BaseModel):
    """Base class of typed config for ops, assets and resources (a frozen pydantic model).

    Fields give the schema: primitives, ``Optional`` (defaults to ``None``), lists, dicts,
    enums, nested ``Config``, ``Literal`` and discriminated unions, with defaults via
    ``= value`` or ``pydantic.Field(default=..., description=...)``. Unknown keys are rejected;
    instances are immutable. A field may hold ``EnvVar("NAME")``: it is read at run time.

    Example::

        class FanConfig(dg.Config):
            n: int = 3
            name: str

        @dg.asset
        def fan(config: FanConfig) -> list[str]:
            return [config.name] * config.n
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    # field name -> EnvVar given in code (resolved at run time); fields whose value came from
    # the environment (masked in reprs)
    _weir_env: dict[str, Any] | None = PrivateAttr(default=None)
    _weir_masked: frozenset[str] | None = PrivateAttr(default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Dagster's config classes treat an Optional field without a default as defaulting to None
        for name, ann in inspect.get_annotations(cls).items():
            if name.startswith("_") or name == "model_config" or not _looks_optional(ann):
                continue
            if name not in cls.__dict__:
                setattr(cls, name, None)
                continue
            declared = cls.__dict__[name]  # pydantic.Field(description=...) without a default
            if (
                isinstance(declared, FieldInfo)
                and declared.default is PydanticUndefined
                and declared.default_factory is None
            ):
                setattr(cls, name, FieldInfo.merge_field_infos(declared, default=None))

    def __init__(self, **data: Any) -> None:
        env = None
        for name, value in data.items():
            if is_env_reference(value):
                if env is None:
                    env = {}
                env[name] = value
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if not env or not _only_env_fields_failed(exc, env):
                raise
            # Constraints (min_length ...) fail on the variable's *name*; its value is checked
            # when a run reads it. Keep the values as given until then.
            constructed = type(self).model_construct(**data)
            for attr in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__"):
                object.__setattr__(self, attr, getattr(constructed, attr))
            object.__setattr__(self, "__pydantic_private__", constructed.__pydantic_private__)
        if env:
            self._weir_env = env

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        env = _private(self, "_weir_env") or {}
        masked = _private(self, "_weir_masked") or frozenset()
        for name, value in super().__repr_args__():
            if name in env:
                yield name, env[name]
            elif (
                name is not None
                and value is not None
                and (name in masked or is_secret_name(name))
                and not isinstance(value, (SecretStr, BaseModel))
            ):
                yield name, _REDACTED
            else:
                yield name, value

    @classmethod
    def to_fields_dict(cls) -> dict[str, SchemaField]:
        """This class's config fields as classic ``Field`` objects (types, defaults, descriptions)."""
        return dict(schema_for_model(cls).fields)


def _only_env_fields_failed(exc: ValidationError, env: Mapping[str, Any]) -> bool:
    failed = {str(err["loc"][0]) for err in exc.errors() if err.get("loc")}
    return bool(failed) and failed <= set(env)


def _looks_optional(ann: Any) -> bool:
    if isinstance(ann, str):
        return _OPTIONAL_TEXT.search(ann) is not None and "ClassVar" not in ann
    if typing.get_origin(ann) is typing.ClassVar:
        return False
    return type(None) in typing.get_args(ann) and typing.get_origin(ann) is not typing.Literal


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
        values>}``, enum members become their names, ``EnvVar`` values ``{"env": NAME}``; dicts
        are passed through unchanged.
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
        if isinstance(value, BaseModel):
            out[name] = {"config": config_to_dict(value)}
        elif _is_partial(value):
            out[name] = {"config": config_to_dict(value.values)}
        else:
            out[name] = value
    return out


def _is_partial(value: Any) -> bool:
    from weir._config.resources import is_configurable_resource

    return is_configurable_resource(value) and not isinstance(value, BaseModel)


def _is_resource_value(value: Any) -> bool:
    from weir._config.resources import ResourceDefinition, is_configurable_resource

    return is_configurable_resource(value) or isinstance(value, ResourceDefinition)


def config_to_dict(value: Any, *, env_as: str = "dict") -> Any:
    """A model's field values as plain config data.

    Nested models become dicts, enum members their names, ``SecretStr`` its text and ``EnvVar``
    values ``{"env": NAME}`` (or the ``EnvVar`` objects themselves with ``env_as="object"``).
    Fields holding resources are left out (they are not config).
    """
    if isinstance(value, BaseModel):
        env = _private(value, "_weir_env") or {}
        fields = type(value).model_fields
        data: dict[str, Any] = {}
        for name, info in fields.items():
            if name in env:
                var = env[name]
                data[name] = {"env": var.env_var_name} if env_as == "dict" else var
                continue
            item = getattr(value, name)
            if _is_resource_value(item):
                continue
            if isinstance(info.discriminator, str) and isinstance(item, BaseModel):
                inner = config_to_dict(item, env_as=env_as)
                tag = inner.pop(info.discriminator, None)
                data[name] = {str(tag): inner}
                continue
            data[name] = config_to_dict(item, env_as=env_as)
        extra = value.__pydantic_extra__
        if extra:
            data.update({k: config_to_dict(v, env_as=env_as) for k, v in extra.items()})
        return data
    if isinstance(value, (EnvVar, IntEnvVar)):
        return {"env": value.env_var_name} if env_as == "dict" else value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {k: config_to_dict(v, env_as=env_as) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [config_to_dict(v, env_as=env_as) for v in value]
    return value


def has_env_references(value: Any) -> bool:
    """Whether a model (or nested models, lists, dicts of them) holds ``EnvVar`` values."""
    if isinstance(value, BaseModel):
        if _private(value, "_weir_env"):
            return True
        return any(
            has_env_references(getattr(value, name))
            for name in type(value).model_fields
            if not _is_resource_value(getattr(value, name))
        )
    if isinstance(value, Mapping):
        return any(has_env_references(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_env_references(v) for v in value)
    return False


# -- validation ---------------------------------------------------------------------------------


def resolve_config_param(
    config_cls: type[BaseModel],
    raw: Mapping[str, Any] | BaseModel | None,
    *,
    path: str,
) -> Any:
    """Validate ``raw`` (a dict from run config, a model instance or ``None``) into ``config_cls``.

    ``path`` is where the value sits in run config (``"root:ops:fan:config"``). Environment
    references are resolved now. Raises :class:`~weir.errors.ConfigError` listing every
    problem, each with its full path; the error's ``errors`` holds one message per problem.
    """
    if isinstance(raw, config_cls):
        return resolve_model_env(raw, path)
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
    return build_model(config_cls, raw, path=path)


def check_config_param(config_cls: type[BaseModel], raw: Any, *, path: str) -> list[str]:
    """The problems of ``raw`` for ``config_cls`` without reading the environment (plan-time checks)."""
    if raw is None or isinstance(raw, BaseModel):
        raw = {} if raw is None else config_to_dict(raw, env_as="object")
    ev = Evaluation("keep")
    evaluate(schema_for_model(config_cls), raw, path, (), ev)
    return ev.problems


def build_model(
    cls: type[BaseModel],
    raw: Mapping[str, Any],
    *,
    path: str,
    extra_values: Mapping[str, Any] | None = None,
    error_cls: type[ConfigError] = ConfigError,
) -> Any:
    """Check ``raw`` against ``cls``'s config schema, resolve env references, build the model.

    ``extra_values`` are passed to the model as they are (e.g. nested resources, which are
    not config). Raises ``error_cls`` listing every problem.
    """
    ev = Evaluation("resolve")
    processed = evaluate(schema_for_model(cls), raw, path, (), ev)
    header = f"Error in config for {cls.__name__} at path {path}"
    if ev.problems:
        raise error_cls(
            format_problems(header, ev.problems), ev.problems, config_type=cls, config_value=raw
        )
    data = {**processed, **(extra_values or {})}
    try:
        model = cls.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_errors(exc, cls, path, secret_locs=ev.env_locs)
        raise error_cls(
            format_problems(header, problems), problems, config_type=cls, config_value=raw
        ) from None
    if ev.env_locs:
        _mark_masked(model, ev.env_locs)
    return model


def resolve_model_env(model: BaseModel, path: str) -> Any:
    """``model`` with its ``EnvVar`` values read from the environment (itself when it has none)."""
    if not has_env_references(model):
        return model
    return build_model(type(model), config_to_dict(model, env_as="object"), path=path)


def _mark_masked(model: BaseModel, locs: list[tuple[Any, ...]]) -> None:
    for loc in locs:
        owner: Any = model
        for part in loc[:-1]:
            if isinstance(owner, BaseModel) and isinstance(part, str):
                owner = getattr(owner, part, None)
            elif isinstance(owner, (list, tuple)) and isinstance(part, int) and part < len(owner):
                owner = owner[part]
            elif isinstance(owner, Mapping):
                owner = owner.get(part)
            else:
                owner = None
                break
        if isinstance(owner, Config) and loc:
            current = _private(owner, "_weir_masked") or frozenset()
            owner._weir_masked = current | {loc[-1]}


def format_validation_errors(
    exc: ValidationError,
    model_cls: type[BaseModel] | None,
    path: str,
    *,
    secret_locs: list[tuple[Any, ...]] | None = None,
) -> list[str]:
    """One Dagster-style message per pydantic error, each with its ``root:...`` path."""
    problems: list[str] = []
    secrets = {tuple(str(p) for p in loc) for loc in secret_locs or ()}
    secret_types = secret_field_names(model_cls) if model_cls is not None else frozenset()
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err.get("loc", ())]
        kind = err.get("type", "")
        value = err.get("input")
        ann = _annotation_at(model_cls, err.get("loc", ())) if model_cls is not None else None
        secret = (
            any(is_secret_name(part) for part in loc)
            or tuple(loc) in secrets
            or (bool(loc) and loc[0] in secret_types)
        )
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
            expected = f' Expected: "{_shape(owner)}".' if _is_model(owner) else ""
            problems.append(
                f'Received unexpected config entry "{loc[-1]}" at path {parent}.{expected}'
            )
        else:
            where = ":".join([path, *loc])
            message = err.get("msg", "")
            if secret:
                message = "the value is not valid"
            problems.append(
                f'Invalid value at path {where}. Value "{shown}" of type "{type(value)}" is not '
                f"valid: {message}."
            )
    return problems


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _strip_optional(ann: Any) -> Any:
    args = typing.get_args(ann)
    if type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return ann


def _annotation_at(model_cls: Any, loc: tuple[Any, ...] | list[Any]) -> Any:
    """The annotation at ``loc`` inside ``model_cls`` (``None`` when it cannot be followed)."""
    ann: Any = model_cls
    for part in loc:
        ann = _strip_optional(ann)
        if _is_model(ann):
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


def _shape(model_cls: Any) -> str:
    """``{ n: Int name?: String }``: the fields of a model, ``?`` marking the optional ones."""
    from weir._config.schema import type_name

    return type_name(schema_for_model(model_cls))


def _example(ann: Any) -> Any:
    from weir._config._pydantic_schema import _type_for
    from weir._config.schema import minimal_config

    if ann is None:
        return "..."
    return minimal_config(_type_for(ann))
