"""The one exception hierarchy of weir.

Every error weir raises on purpose derives from :class:`WeirError`::

    WeirError (alias DagsterError)
    ├── DefinitionError (DagsterInvalidDefinitionError)
    │   └── DuplicateKeyError            two definitions claim one asset key / job name
    ├── InvariantViolationError (DagsterInvariantViolationError)
    ├── ConfigError (DagsterInvalidConfigError)
    ├── ResourceError                    a resource is missing or failed to initialise
    ├── ExecutionError
    │   ├── StepExecutionError (DagsterExecutionStepExecutionError)
    │   ├── UserCodeExecutionError (DagsterUserCodeExecutionError)
    │   │   └── ...wraps the user's exception as ``user_exception`` and ``__cause__``
    │   ├── TypeCheckError (DagsterTypeCheckDidNotPass)
    │   ├── LoadInputError (DagsterExecutionLoadInputError)
    │   └── HandleOutputError (DagsterExecutionHandleOutputError)
    ├── StorageError                     the instance's storage failed
    │   ├── RunAlreadyExistsError (DagsterRunAlreadyExists)
    │   ├── RunNotFoundError (DagsterRunNotFoundError)
    │   └── SchemaVersionError           the database's schema is older or newer than this weir
    ├── PluginError                      a plugin is broken, duplicated or unknown
    └── SelectionError                   an asset selection string does not parse

Messages say what is wrong, where (asset key, op, run-config path, ``file:line``) and how
to fix it. The Dagster names on the right are aliases, so ``except dg.DagsterError`` in
ported code catches weir's errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "DagsterError",
    "DagsterExecutionHandleOutputError",
    "DagsterExecutionLoadInputError",
    "DagsterExecutionStepExecutionError",
    "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError",
    "DagsterInvalidInvocationError",
    "DagsterInvariantViolationError",
    "DagsterRunAlreadyExists",
    "DagsterRunNotFoundError",
    "DagsterTypeCheckDidNotPass",
    "DagsterUnknownResourceError",
    "DagsterUserCodeExecutionError",
    "DefinitionError",
    "DuplicateKeyError",
    "ExecutionError",
    "HandleOutputError",
    "InvalidInvocationError",
    "InvariantViolationError",
    "LoadInputError",
    "PluginError",
    "ResourceError",
    "RunAlreadyExistsError",
    "RunNotFoundError",
    "SchemaVersionError",
    "SelectionError",
    "StepExecutionError",
    "StorageError",
    "TypeCheckError",
    "UserCodeExecutionError",
    "WeirError",
]


class WeirError(Exception):
    """Root of every error weir raises on purpose."""


class DefinitionError(WeirError):
    """A definition (asset, job, Definitions object ...) is malformed or inconsistent."""


class DuplicateKeyError(DefinitionError):
    """Two definitions claim the same asset key, check key, job or schedule name."""


class InvariantViolationError(WeirError):
    """An API was used in a way its contract does not allow."""


class InvalidInvocationError(WeirError):
    """A definition was invoked directly (e.g. an asset called in a test) with bad arguments."""


class ConfigProblem(str):
    """One problem found in config: the message (it is the string itself) and, like the entries of
    Dagster's ``DagsterInvalidConfigError.errors``, a ``.message`` attribute."""

    __slots__ = ()

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(WeirError):
    """Run config or resource config failed validation.

    ``errors`` lists every problem found (all are reported at once, each with its path); each entry
    is a :class:`ConfigProblem`, a ``str`` with a ``.message`` attribute.
    """

    def __init__(
        self,
        message: str,
        errors: Sequence[Any] = (),
        config_type: Any = None,
        config_value: Any = None,
    ) -> None:
        super().__init__(message)
        self.errors: list[str] = [
            e if isinstance(e, ConfigProblem) else ConfigProblem(getattr(e, "message", e))
            for e in errors
        ]
        self.config_type = config_type
        self.config_value = config_value


class ResourceError(WeirError):
    """A resource was required but not provided, or failed to initialise."""


class ExecutionError(WeirError):
    """Something went wrong while executing a run."""


class StepExecutionError(ExecutionError):
    """A step failed; raised from ``execute_in_process``/``materialize`` with ``raise_on_error``."""

    def __init__(
        self,
        message: str,
        *,
        step_key: str | None = None,
        user_exception: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.step_key = step_key
        self.user_exception = user_exception


class UserCodeExecutionError(ExecutionError):
    """User code raised; the original exception is ``user_exception`` (and ``__cause__``)."""

    def __init__(
        self,
        message: str,
        *,
        user_exception: BaseException | None = None,
        original_exc_info: Any = None,
    ) -> None:
        super().__init__(message)
        self.user_exception = user_exception
        self.original_exc_info = original_exc_info


class TypeCheckError(ExecutionError):
    """A value failed the type check of an input or output."""

    def __init__(self, description: str, metadata: Any = None, dagster_type: Any = None) -> None:
        super().__init__(description)
        self.description = description
        self.metadata = metadata or {}
        self.dagster_type = dagster_type


class LoadInputError(UserCodeExecutionError):
    """An IO manager failed to load an input."""


class HandleOutputError(UserCodeExecutionError):
    """An IO manager failed to store an output."""


class StorageError(WeirError):
    """The instance's storage could not read or write."""


class RunAlreadyExistsError(StorageError):
    """A run with this run id is already stored."""


class RunNotFoundError(StorageError):
    """No run with this run id is stored."""


class SchemaVersionError(StorageError):
    """The storage's schema version is not the one this weir reads: upgrade it, or upgrade weir."""


class PluginError(WeirError):
    """A plugin is broken, registers a duplicate name, or a requested plugin is unknown."""


class SelectionError(WeirError):
    """An asset selection could not be parsed or resolved."""


# Dagster-compatible names.
DagsterError = WeirError
DagsterInvalidDefinitionError = DefinitionError
DagsterInvariantViolationError = InvariantViolationError
DagsterInvalidInvocationError = InvalidInvocationError
DagsterInvalidConfigError = ConfigError
DagsterExecutionStepExecutionError = StepExecutionError
DagsterUserCodeExecutionError = UserCodeExecutionError
DagsterTypeCheckDidNotPass = TypeCheckError
DagsterExecutionLoadInputError = LoadInputError
DagsterExecutionHandleOutputError = HandleOutputError
DagsterUnknownResourceError = ResourceError
DagsterRunAlreadyExists = RunAlreadyExistsError
DagsterRunNotFoundError = RunNotFoundError
