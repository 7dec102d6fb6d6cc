"""``ConfigMapping``: a simpler config schema in front of a job's (or graph's) full run config.

A job built with ``config=ConfigMapping(config_fn, config_schema)`` is launched with config that
fits ``config_schema``; ``config_fn`` turns it into the real run config (``{"ops": ...}``),
which is then validated as usual. ``config_fn`` may instead take a typed ``Config`` parameter:
the schema is inferred from the annotation and the function receives an instance.

Example::

    class Simple(dg.Config):
        rows: int = 10

    @dg.config_mapping
    def scaled(config: Simple) -> dg.RunConfig:
        return dg.RunConfig(ops={"load": LoadConfig(limit=config.rows * 100)})

    @dg.job(config=scaled)
    def etl(): ...

Also here: :func:`merge_run_config`, how a job's default config (``config={...}``) combines with
the run config given at launch (entry by entry, launch values winning).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, overload

from weir.errors import ConfigError, DefinitionError

__all__ = [
    "ConfigMapping",
    "ConfigMappingFunctionError",
    "DagsterConfigMappingFunctionError",
    "config_mapping",
    "merge_run_config",
    "run_config_to_dict",
]


class ConfigMappingFunctionError(ConfigError):
    """A config mapping function raised; the user's exception is ``user_exception`` and ``__cause__``."""

    def __init__(self, message: str, *, user_exception: BaseException | None = None) -> None:
        super().__init__(message, [message])
        self.user_exception = user_exception


DagsterConfigMappingFunctionError = ConfigMappingFunctionError


def _config_class_of(fn: Callable[..., Any]) -> type | None:
    """The ``Config`` subclass annotating ``fn``'s first parameter, if any."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params:
        return None
    ann = params[0].annotation
    if isinstance(ann, str):
        try:
            ann = typing.get_type_hints(fn).get(params[0].name, ann)
        except Exception:
            return None
    from weir._model.compute_fn import is_config_annotation

    return ann if is_config_annotation(ann) else None


class ConfigMapping:
    """Turns config that fits ``config_schema`` into a full run config with ``config_fn``.

    ``config_schema`` is a classic schema (``{"rows": int}``) or a ``Config`` class; when it is
    ``None`` and ``config_fn``'s parameter is annotated with a ``Config`` class, that class is
    the schema. With ``receive_processed_config_values`` (the default) the function gets the
    validated values with defaults applied; with ``False``, the values as given.
    """

    def __init__(
        self,
        config_fn: Callable[[Any], Any],
        config_schema: Any = None,
        receive_processed_config_values: bool | None = None,
    ) -> None:
        if not callable(config_fn):
            msg = f"ConfigMapping needs a callable config_fn, got {config_fn!r}."
            raise DefinitionError(msg)
        self.config_fn = config_fn
        self._config_cls: type | None = None
        if config_schema is None:
            self._config_cls = _config_class_of(config_fn)
        elif isinstance(config_schema, type) and _is_config_class(config_schema):
            self._config_cls = config_schema
        if config_schema is not None and self._config_cls is None:
            from weir._config._evaluate import normalize_schema

            normalize_schema(config_schema)  # fail at definition time on a malformed schema
        self.config_schema = config_schema if config_schema is not None else self._config_cls
        self.receive_processed_config_values = (
            True
            if receive_processed_config_values is None
            else bool(receive_processed_config_values)
        )

    def resolve_from_unvalidated_config(self, config: Any, *, path: str = "root") -> Any:
        """Validate ``config`` against the mapping's schema, apply ``config_fn``, return a plain dict.

        Raises ``ConfigError`` listing every problem (paths under ``path``), or
        :class:`ConfigMappingFunctionError` when ``config_fn`` raises.
        """
        if self._config_cls is not None:
            from weir._config.config import resolve_config_param

            value = resolve_config_param(self._config_cls, _plain(config), path=path)
        elif self.config_schema is not None:
            from weir._config._evaluate import process_config

            processed = process_config(self.config_schema, _plain(config), path)
            value = processed if self.receive_processed_config_values else config
        else:
            value = config
        return self.resolve_from_validated_config(value)

    def resolve_from_validated_config(self, config: Any) -> Any:
        """Apply ``config_fn`` to already validated ``config``; return its result as a plain dict."""
        try:
            result = self.config_fn(config)
        except ConfigError:
            raise
        except Exception as exc:
            name = getattr(self.config_fn, "__name__", repr(self.config_fn))
            msg = (
                f"The config mapping function {name!r} raised {type(exc).__name__}: {exc}. "
                "Fix the function or the config it was given; the original error is the cause."
            )
            raise ConfigMappingFunctionError(msg, user_exception=exc) from exc
        return run_config_to_dict(result)

    def __repr__(self) -> str:
        name = getattr(self.config_fn, "__name__", "config_fn")
        return f"ConfigMapping({name})"


def _is_config_class(tp: type) -> bool:
    from weir._model.compute_fn import is_config_annotation

    return is_config_annotation(tp)


def _plain(config: Any) -> Any:
    to_dict = getattr(config, "to_config_dict", None)
    return to_dict() if callable(to_dict) else config


@overload
def config_mapping(config_fn: Callable[[Any], Any]) -> ConfigMapping: ...


@overload
def config_mapping(
    config_fn: None = None,
    *,
    config_schema: Any = None,
    receive_processed_config_values: bool | None = None,
) -> Callable[[Callable[[Any], Any]], ConfigMapping]: ...


def config_mapping(
    config_fn: Callable[[Any], Any] | None = None,
    *,
    config_schema: Any = None,
    receive_processed_config_values: bool | None = None,
) -> Any:
    """Make a :class:`ConfigMapping` from a function (bare ``@config_mapping`` or called)."""
    if config_fn is not None:
        return ConfigMapping(config_fn, config_schema, receive_processed_config_values)

    def decorate(fn: Callable[[Any], Any]) -> ConfigMapping:
        return ConfigMapping(fn, config_schema, receive_processed_config_values)

    return decorate


def run_config_to_dict(value: Any) -> dict[str, Any]:
    """A run config given as a ``RunConfig``, a dict or ``None`` as a plain dict."""
    if value is None:
        return {}
    to_dict = getattr(value, "to_config_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if isinstance(value, Mapping):
        return dict(value)
    msg = f"Run config must be a dict or a RunConfig, got {type(value).__name__}: {value!r}."
    raise ConfigError(msg, [msg])


def merge_run_config(
    default: Mapping[str, Any] | None, given: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``given`` merged over a job's ``default`` config, entry by entry (nested dicts merge).

    A job's ``config={...}`` holds defaults: run config given at launch overrides them where
    it says something and keeps them elsewhere.
    """
    if not default:
        return dict(given or {})
    if not given:
        return dict(default)
    out = dict(default)
    for key, value in given.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge_run_config(old, value)
        else:
            out[key] = value
    return out
