"""Validating and processing config values against :mod:`weir._config.schema` types.

:func:`process_config` checks a value against a schema, collects *every* problem (each with its
run-config path, in Dagster's wording) and returns the processed value: defaults filled in,
enum names turned into their Python values, selectors of discriminated unions flattened, and
environment references (``{"env": "VAR"}`` for ``*Source`` types, ``EnvVar`` objects anywhere)
resolved. Values read from the environment are secrets: no message ever echoes them, and their
locations are reported so the caller can mask them in reprs.

Two environment modes: ``"resolve"`` reads variables (at run time), ``"keep"`` only checks the
shape of a reference and returns it as ``{"env": "VAR"}`` (plan-time checks, ``validate_run_config``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from weir._config.env_var import (
    env_var_name_of,
    is_env_reference,
    is_secret_name,
    read_env_reference,
)
from weir._config.schema import Array as ArrayType
from weir._config.schema import (
    ConfigType,
    Enum,
    Field,
    Map,
    Noneable,
    Permissive,
    ScalarType,
    Selector,
    Shape,
    _AnyType,
    _DiscriminatedUnion,
    _Literal,
    as_type,
    minimal_config,
    type_name,
)
from weir.errors import ConfigError, DefinitionError

__all__ = [
    "Evaluation",
    "check_default",
    "evaluate",
    "evaluate_field",
    "format_problems",
    "implicit_default",
    "normalize_schema",
    "process_config",
]

_MASK = "<redacted>"
_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off", ""})


RUN_CONFIG_HINT = "You must provide this value in your run config."
CONFIGURED_HINT = "Add it to the config given to .configured(...)."


class Evaluation:
    """The state of one validation: the environment mode, the problems, where env values went."""

    __slots__ = ("env", "env_locs", "missing_hint", "problems")

    def __init__(self, env: str = "resolve", missing_hint: str = RUN_CONFIG_HINT) -> None:
        if env not in ("resolve", "keep"):
            msg = f"env must be 'resolve' or 'keep', got {env!r}."
            raise ValueError(msg)
        self.env = env
        self.missing_hint = missing_hint  # where a missing required value is to be given
        self.problems: list[str] = []
        self.env_locs: list[tuple[Any, ...]] = []  # locations of values read from the environment


def _shown(value: Any, secret: bool) -> str:
    if secret:
        return _MASK
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _env_reference(t: ConfigType, value: Any) -> str | None:
    """The variable ``value`` refers to, when it is a reference ``t`` accepts."""
    if is_env_reference(value):
        return env_var_name_of(value)
    if isinstance(value, Mapping) and len(value) == 1 and "env" in value:
        inner = t.inner if isinstance(t, Noneable) else t
        if isinstance(inner, ScalarType) and inner.env_source:
            return env_var_name_of(dict(value))
    return None


def evaluate(
    t: ConfigType,
    value: Any,
    path: str,
    loc: tuple[Any, ...],
    ev: Evaluation,
    secret: bool = False,
) -> Any:
    """Validate ``value`` against ``t`` at ``path``; append problems to ``ev``; return the result."""
    if not isinstance(t, (Shape, Selector, ArrayType, Map)):
        name = _env_reference(t, value)
        if name is not None:
            return _resolve_env(t, name, path, loc, ev)
    if isinstance(t, Noneable):
        return None if value is None else evaluate(t.inner, value, path, loc, ev, secret)
    if isinstance(t, _AnyType):
        return value
    if value is None and not isinstance(t, (Shape, Selector)):
        ev.problems.append(f'Value at path {path} must not be None. Expected "{type_name(t)}"')
        return None
    if isinstance(t, ScalarType):
        return _scalar(t, value, path, ev, secret)
    if isinstance(t, Shape):
        return _shape(t, value, path, loc, ev, secret)
    if isinstance(t, _DiscriminatedUnion):
        return _discriminated(t, value, path, loc, ev, secret)
    if isinstance(t, Selector):
        return _selector(t, value, path, loc, ev, secret)
    if isinstance(t, ArrayType):
        if not isinstance(value, (list, tuple)):
            ev.problems.append(f'Value at path {path} must be list. Expected: "{type_name(t)}"')
            return value
        return [
            evaluate(t.inner, item, f"{path}[{i}]", (*loc, i), ev, secret)
            for i, item in enumerate(value)
        ]
    if isinstance(t, Map):
        return _map(t, value, path, loc, ev, secret)
    if isinstance(t, Enum):
        return _enum(t, value, path, ev, secret)
    if isinstance(t, _Literal):
        if value in t.values and any(type(value) is type(v) for v in t.values):
            return value
        ev.problems.append(
            f'Invalid value at path {path}. Value "{_shown(value, secret)}" is not one of the '
            f"allowed values {list(t.values)!r}."
        )
        return value
    return value


def _scalar(t: ScalarType, value: Any, path: str, ev: Evaluation, secret: bool) -> Any:
    if t.accepts(value):
        return value
    if t.env_source and isinstance(value, Mapping):
        ev.problems.append(
            f'Invalid value at path {path}: a {t.name} given as a dict must be {{"env": '
            f'"VARIABLE_NAME"}} (read from the environment), got keys {sorted(map(str, value))}.'
        )
        return value
    ev.problems.append(
        f'Invalid scalar at path {path}. Value "{_shown(value, secret)}" of type "{type(value)}" '
        f'is not valid for expected type "{t.name}".'
    )
    return value


def _resolve_env(t: ConfigType, name: str, path: str, loc: tuple[Any, ...], ev: Evaluation) -> Any:
    if ev.env == "keep":
        return {"env": name}
    text, problem = read_env_reference(name, path)
    if problem is not None or text is None:
        ev.problems.append(problem or f"Environment variable {name!r} could not be read.")
        return None
    ev.env_locs.append(loc)
    target = t.inner if isinstance(t, Noneable) else t
    if isinstance(target, ScalarType) and target.python_type is not str:
        parsed = _parse_env_text(target, text)
        if parsed is None:
            ev.problems.append(
                f"Post processing at path {path} of original value {{'env': {name!r}}} failed: "
                f'the value of environment variable "{name}" cannot be read as {target.name} '
                "(the value is not shown: it may be a secret)."
            )
        return parsed
    if isinstance(target, (ScalarType, _AnyType)):
        return text
    before = len(ev.problems)
    result = evaluate(target, text, path, loc, ev, secret=True)
    if len(ev.problems) > before:  # say where the bad value came from
        ev.problems[before:] = [
            f'{p} (the value comes from environment variable "{name}")'
            for p in ev.problems[before:]
        ]
    return result


def _parse_env_text(t: ScalarType, text: str) -> Any:
    stripped = text.strip()
    try:
        if t.python_type is int:
            return int(stripped)
        if t.python_type is float:
            return float(stripped)
    except ValueError:
        return None
    if t.python_type is bool:
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def _default_of(field: Field) -> Any:
    default = field.default_value
    return copy.deepcopy(default) if isinstance(default, (list, dict, set)) else default


def _missing_message(name: str, field: Field, path: str, hint: str = RUN_CONFIG_HINT) -> str:
    example = {name: minimal_config(field.config_type)}
    return (
        f'Missing required config entry "{name}" at path {path}. {hint} '
        f"Example config for the missing entry: {example!r}"
    )


def _shape(
    t: Shape, value: Any, path: str, loc: tuple[Any, ...], ev: Evaluation, secret: bool
) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        ev.problems.append(f'Value at path {path} must be dict. Expected: "{type_name(t)}".')
        return value
    if t.field_aliases:
        value = _apply_aliases(t, value, path, ev)
    out: dict[str, Any] = {}
    for name, field in t.fields.items():
        ft = field.config_type
        field_secret = secret or field.is_secret or is_secret_name(name)
        if name in value:
            out[name] = evaluate(ft, value[name], f"{path}:{name}", (*loc, name), ev, field_secret)
        elif field.default_provided:
            out[name] = evaluate(
                ft, _default_of(field), f"{path}:{name}", (*loc, name), ev, field_secret
            )
        elif field.is_required:
            ev.problems.append(_missing_message(name, field, path, ev.missing_hint))
    for name in value:
        if name in t.fields:
            continue
        if isinstance(t, Permissive):
            out[name] = value[name]
        else:
            ev.problems.append(
                f'Received unexpected config entry "{name}" at path {path}. Expected: "{type_name(t)}".'
            )
    return out


def _apply_aliases(
    t: Shape, value: Mapping[str, Any], path: str, ev: Evaluation
) -> Mapping[str, Any]:
    renamed = dict(value)
    for name, alias in t.field_aliases.items():
        if alias in renamed:
            if name in renamed:
                ev.problems.append(
                    f"Received both field '{name}' and field '{alias}' in config at path {path}. "
                    "Please use one or the other."
                )
                continue
            renamed[name] = renamed.pop(alias)
    return renamed


def _selector_key(t: Selector, value: Any, path: str, ev: Evaluation) -> tuple[str | None, Any]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        ev.problems.append(f"Value for selector type at path {path} must be a dict")
        return None, None
    defined = sorted(t.fields)
    if not value:
        if t.all_optional:
            only = next(iter(t.fields))
            return only, {}
        if len(t.fields) == 1:
            ev.problems.append(
                f"Must specify the required field at path {path}. Defined fields: {defined}"
            )
        else:
            ev.problems.append(
                f"Must specify a field at path {path} if more than one field is defined. "
                f"Defined fields: {defined}"
            )
        return None, None
    if len(value) > 1:
        ev.problems.append(
            f"You can only specify a single field at path {path}. You specified "
            f"{sorted(map(str, value))}. The available fields are {defined}"
        )
        return None, None
    key, inner = next(iter(value.items()))
    if key not in t.fields:
        ev.problems.append(
            f'Received unexpected config entry "{key}" at path {path}. Expected: "{type_name(t)}".'
        )
        return None, None
    return key, inner


def _selector(
    t: Selector, value: Any, path: str, loc: tuple[Any, ...], ev: Evaluation, secret: bool
) -> Any:
    key, inner = _selector_key(t, value, path, ev)
    if key is None:
        return value
    field = t.fields[key]
    return {
        key: evaluate(
            field.config_type, inner, f"{path}:{key}", (*loc, key), ev, secret or field.is_secret
        )
    }


def _discriminated(
    t: _DiscriminatedUnion,
    value: Any,
    path: str,
    loc: tuple[Any, ...],
    ev: Evaluation,
    secret: bool,
) -> Any:
    if isinstance(value, Mapping) and t.discriminator in value:  # the flat form
        tag = value[t.discriminator]
        if tag not in t.fields:
            ev.problems.append(
                f'Invalid value at path {path}:{t.discriminator}. Value "{tag}" is not one of '
                f"{sorted(t.fields)}."
            )
            return value
        rest = {k: v for k, v in value.items() if k != t.discriminator}
        sub = evaluate(t.fields[tag].config_type, rest, path, loc, ev, secret)
    else:
        key, inner = _selector_key(t, value, path, ev)
        if key is None:
            return value
        tag = key
        sub = evaluate(t.fields[key].config_type, inner, f"{path}:{key}", (*loc, key), ev, secret)
    return {t.discriminator: tag, **sub} if isinstance(sub, Mapping) else sub


def _map(t: Map, value: Any, path: str, loc: tuple[Any, ...], ev: Evaluation, secret: bool) -> Any:
    if not isinstance(value, Mapping):
        ev.problems.append(f'Value at path {path} must be dict. Expected: "{type_name(t)}"')
        return value
    out: dict[Any, Any] = {}
    for key, item in value.items():
        if not t.key.accepts(key):
            ev.problems.append(
                f'Invalid scalar at path {path}:{key}. Map key "{key}" of type "{type(key)}" is '
                f'not valid for expected type "{t.key.name}".'
            )
            continue
        out[key] = evaluate(t.inner, item, f"{path}:{key}", (*loc, key), ev, secret)
    return out


def _enum(t: Enum, value: Any, path: str, ev: Evaluation, secret: bool) -> Any:
    found, python_value = t.lookup(value)
    if found:
        return python_value
    if not isinstance(value, str):
        ev.problems.append(
            f"Value at path {path} for enum type {t.given_name} must be a string. "
            f"Expected one of {t.config_values}."
        )
    else:
        ev.problems.append(
            f"Value at path {path} not in enum type {t.given_name} got {_shown(value, secret)}. "
            f"Expected one of {t.config_values}."
        )
    return value


# -- entry points --------------------------------------------------------------------------------


def format_problems(header: str, problems: list[str]) -> str:
    numbered = "\n".join(f"    Error {i}: {p}" for i, p in enumerate(problems, 1))
    return f"{header}: {len(problems)} error(s).\n{numbered}"


def process_config(
    schema: Any,
    value: Any,
    path: str,
    *,
    env: str = "resolve",
    header: str | None = None,
    error_cls: type[ConfigError] = ConfigError,
    missing_hint: str = RUN_CONFIG_HINT,
) -> Any:
    """Validate ``value`` against ``schema`` (anything :func:`as_type` accepts, or a ``Field``).

    Returns the processed value; raises ``error_cls`` (a :class:`~weir.errors.ConfigError`)
    listing every problem, each with its path under ``path`` (e.g. ``root:ops:fan:config``).
    ``None`` stands for "no config given": a ``Field`` default applies, a dict schema checks
    its required entries.
    """
    ev = Evaluation(env, missing_hint)
    result = evaluate_field(schema, value, path, ev)
    if ev.problems:
        raise error_cls(
            format_problems(header or f"Error in config at path {path}", ev.problems),
            ev.problems,
            config_type=schema,
            config_value=value,
        )
    return result


_normalized: dict[int, tuple[Any, Any]] = {}


def normalize_schema(schema: Any) -> Any:
    """``schema`` as a ``Field`` or ``ConfigType``, converted once per schema object."""
    if isinstance(schema, (Field, ConfigType)):
        return schema
    hit = _normalized.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    converted = as_type(schema)
    if len(_normalized) > 2048:
        _normalized.clear()
    _normalized[id(schema)] = (schema, converted)  # the schema is kept alive: ids stay unique
    return converted


def evaluate_field(schema: Any, value: Any, path: str, ev: Evaluation) -> Any:
    """Like :func:`process_config` but collecting problems into ``ev`` instead of raising."""
    schema = normalize_schema(schema)
    if isinstance(schema, Field):
        field = schema
        if value is None:
            if field.default_provided:
                return evaluate(
                    field.config_type, _default_of(field), path, (), ev, field.is_secret
                )
            if field.is_required:
                parent, _, name = path.rpartition(":")
                ev.problems.append(
                    _missing_message(name or "config", field, parent or path, ev.missing_hint)
                )
                return None
            if not isinstance(field.config_type, (Shape, Selector)):
                return None
        return evaluate(field.config_type, value, path, (), ev, field.is_secret)
    return evaluate(schema, value, path, (), ev)


def implicit_default(t: ConfigType) -> Any:
    """The default of an implicitly optional field: ``None`` processed through its type."""
    ev = Evaluation("keep")
    value = evaluate(t, None, "default_value", (), ev)
    if ev.problems:
        msg = f"Cannot compute the implicit default of a {type_name(t)} field: " + "; ".join(
            ev.problems
        )
        raise DefinitionError(msg)
    return value


def check_default(t: ConfigType, default: Any) -> None:
    """Raise ``DefinitionError`` when a ``Field``'s default does not fit its type."""
    ev = Evaluation("keep")
    evaluate(t, default, "default_value", (), ev)
    if ev.problems:
        msg = f"Invalid default_value {default!r} for a Field of type {type_name(t)}: " + "; ".join(
            ev.problems
        )
        raise DefinitionError(msg)
