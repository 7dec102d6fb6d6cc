"""``EnvVar``: a config value that is read from the environment at run time, never earlier.

``EnvVar("DB_PASSWORD")`` is a ``str`` whose text is the variable's *name*. As the value of a
``Config`` or ``ConfigurableResource`` field it is remembered as an environment reference and
resolved when the resource is initialised in a run (for op config: when the run is planned).
In run-config dicts the same reference is written ``{"env": "DB_PASSWORD"}`` (accepted by
``str``/``int``/``bool`` fields and the ``StringSource``/``IntSource``/``BoolSource`` types).

A resolved value is a secret by default: it never appears in reprs, error messages, events or
logs. Errors name the variable and the config path, not the value::

    Post processing at path root:resources:db:config:password of original value
    {'env': 'DB_PASSWORD'} failed: You have attempted to fetch the environment variable
    "DB_PASSWORD" which is not set. ...

This module imports neither pydantic nor anything heavy.
"""

from __future__ import annotations

import os
import re
from typing import Any

from weir.errors import ConfigError

__all__ = [
    "EnvVar",
    "IntEnvVar",
    "env_var_name_of",
    "is_env_reference",
    "is_secret_name",
    "read_env_reference",
]


class EnvVar(str):
    """The name of an environment variable whose value is read at run time.

    Example::

        class Db(dg.ConfigurableResource):
            user: str
            password: str

        db = Db(user="app", password=dg.EnvVar("DB_PASSWORD"))  # read when a run initialises db

    ``EnvVar.int("PORT")`` is the same for ``int`` fields; ``get_value()`` reads the variable now.
    """

    __slots__ = ()

    def __new__(cls, env_var_name: str) -> EnvVar:
        if not isinstance(env_var_name, str) or not env_var_name:
            msg = (
                f"EnvVar needs the name of an environment variable (a non-empty string), got "
                f"{env_var_name!r}. Write EnvVar('MY_VARIABLE')."
            )
            raise ConfigError(msg, [msg])
        return super().__new__(cls, env_var_name)

    @classmethod
    def int(cls, name: str) -> IntEnvVar:
        """An environment reference for an ``int`` field (its text is parsed as an integer)."""
        return IntEnvVar.create(name)

    @property
    def env_var_name(self) -> str:
        """The environment variable's name."""
        return str.__str__(self)

    def get_value(self, default: str | None = None) -> str | None:
        """The variable's current value, or ``default`` when it is unset."""
        return os.environ.get(self.env_var_name, default)

    def __repr__(self) -> str:
        return f"EnvVar({self.env_var_name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (EnvVar, (self.env_var_name,))


class IntEnvVar(int):
    """An environment reference usable where an ``int`` is expected (see :meth:`EnvVar.int`).

    Its integer value is a placeholder (0); ``name`` is the variable, read at run time.
    """

    name: str

    @classmethod
    def create(cls, name: str) -> IntEnvVar:
        if not isinstance(name, str) or not name:
            msg = f"EnvVar.int needs the name of an environment variable, got {name!r}."
            raise ConfigError(msg, [msg])
        var = cls(0)
        var.name = name
        return var

    @property
    def env_var_name(self) -> str:
        """The environment variable's name."""
        return self.name

    def get_value(self, default: int | None = None) -> int | None:
        """The variable's current value as an int, or ``default`` when it is unset."""
        raw = os.environ.get(self.name)
        if raw is None:
            return default
        try:
            return int(raw.strip())
        except ValueError:
            msg = (
                f'The value of environment variable "{self.name}" is not an integer '
                "(the value is not shown: it may be a secret)."
            )
            raise ConfigError(msg, [msg]) from None

    def __repr__(self) -> str:
        return f"EnvVar.int({self.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (IntEnvVar.create, (self.name,))


def is_env_reference(value: Any) -> bool:
    """Whether ``value`` is an ``EnvVar``/``EnvVar.int`` object."""
    return isinstance(value, (EnvVar, IntEnvVar))


def env_var_name_of(value: Any) -> str | None:
    """The variable named by an ``EnvVar``, ``EnvVar.int`` or ``{"env": NAME}`` value, else ``None``."""
    if isinstance(value, (EnvVar, IntEnvVar)):
        return value.env_var_name
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("env"), str):
        return value["env"]
    return None


def read_env_reference(name: str, path: str) -> tuple[str | None, str | None]:
    """``(value, None)`` when ``name`` is set, else ``(None, problem)`` naming the path and variable."""
    value = os.environ.get(name)
    if value is not None:
        return value, None
    return None, (
        f"Post processing at path {path} of original value {{'env': {name!r}}} failed: You have "
        f'attempted to fetch the environment variable "{name}" which is not set. Set it in the '
        "environment of the process that runs this code, or give the value directly."
    )


_SECRET_NAME = re.compile(
    r"(password|passwd|pwd|secret|token|credential|api_?key|access_?key|private_?key|auth_?key"
    r"|signing_?key|encryption_?key|^key$)",
    re.IGNORECASE,
)


def is_secret_name(name: Any) -> bool:
    """Whether a config field's name suggests a secret (``password``, ``api_key``, ``token`` ...)."""
    return isinstance(name, str) and _SECRET_NAME.search(name) is not None
