"""Dagster types: named run-time checks for the values flowing in and out of ops and assets.

A ``DagsterType`` wraps a check function ``(context, value) -> bool | TypeCheck``. Python
annotations map to types automatically (``int`` -> ``Int``, ``list[str]`` -> ``[String]``,
``Optional[int]`` -> ``Int?``, an unknown class -> an ``isinstance`` check named after it);
``In(dagster_type=...)``, ``Out(dagster_type=...)`` and ``@asset(dagster_type=...)`` take a type
explicitly. Example::

    Even = DagsterType(lambda _ctx, v: isinstance(v, int) and v % 2 == 0, name="Even")
    assert check_dagster_type(Even, 4).success

Checks stay cheap: annotation -> type resolution is cached, built-in checks are one
``isinstance`` and a passing check returns a shared ``TypeCheck``. Differences from Dagster,
all more lenient: ``Union[A, B]`` (and ``A | B``) checks each member instead of failing at
definition time, ``tuple[int, ...]`` checks every item, and typing constructs with no run-time
meaning (``Literal``, ``TypeVar``, unresolved string annotations, iterators of a generator)
pass every value.

Container types, annotation resolution, class registration and ``check_dagster_type`` live in
the private ``_dagster_type_resolution``, built on the base types here; this module re-exports
them lazily (PEP 562 ``__getattr__`` below), so only that module imports this one at load time.
"""

from __future__ import annotations

import enum
import inspect
import logging
import typing as t
from collections.abc import Callable, Iterator, Mapping

from weir.errors import DefinitionError, InvariantViolationError, UserCodeExecutionError

if t.TYPE_CHECKING:  # static checkers see real imports; at run time __getattr__ loads them
    from weir._model._dagster_type_resolution import (
        Dict,
        List,
        Optional,
        Set,
        Tuple,
        check_dagster_type,
        make_python_type_usable_as_dagster_type,
        resolve_dagster_type,
        usable_as_dagster_type,
    )

__all__ = [
    "Any",
    "Bool",
    "DagsterType",
    "DagsterTypeCheckError",
    "DagsterTypeKind",
    "DagsterTypeLoader",
    "Dict",
    "Float",
    "Int",
    "List",
    "Nothing",
    "Optional",
    "PythonObjectDagsterType",
    "Set",
    "String",
    "Tuple",
    "TypeCheck",
    "TypeCheckContext",
    "TypeCheckFunctionError",
    "check_dagster_type",
    "dagster_type_loader",
    "make_python_type_usable_as_dagster_type",
    "resolve_dagster_type",
    "usable_as_dagster_type",
]

logger = logging.getLogger(__name__)


class DagsterTypeKind(enum.Enum):
    """What a type is, for the engine: ``NOTHING`` means no value flows (ordering only)."""

    ANY = "ANY"
    SCALAR = "SCALAR"
    LIST = "LIST"
    NOTHING = "NOTHING"
    NULLABLE = "NULLABLE"
    REGULAR = "REGULAR"


class TypeCheck:
    """The outcome of a type check: ``success``, a ``description`` and ``metadata``.

    Return it from a type check function to explain a failure (or report facts about a
    passing value); the metadata shows up on the ``STEP_INPUT``/``STEP_OUTPUT`` event.
    """

    __slots__ = ("description", "metadata", "success")
    success: bool
    description: str | None
    metadata: dict[str, t.Any]

    def __init__(
        self,
        success: bool,
        description: str | None = None,
        metadata: Mapping[str, t.Any] | None = None,
    ) -> None:
        if not isinstance(success, bool):
            msg = f"TypeCheck success must be a bool, got {success!r} (a {type(success).__name__})."
            raise DefinitionError(msg)
        if description is not None and not isinstance(description, str):
            msg = (
                f"TypeCheck description must be a str or None, got a {type(description).__name__}."
            )
            raise DefinitionError(msg)
        normalized: dict[str, t.Any] = {}
        if metadata:
            from weir._model.metadata import normalize_metadata

            normalized = normalize_metadata(metadata)
        elif metadata is not None and not isinstance(metadata, Mapping):
            msg = f"TypeCheck metadata must be a mapping, got a {type(metadata).__name__}."
            raise DefinitionError(msg)
        object.__setattr__(self, "success", success)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "metadata", normalized)

    def __setattr__(self, name: str, value: t.Any) -> None:
        msg = f"TypeCheck is immutable; cannot set {name!r}."
        raise AttributeError(msg)

    def __iter__(self) -> Iterator[t.Any]:  # unpacks like Dagster's NamedTuple
        return iter((self.success, self.description, self.metadata))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypeCheck):
            return NotImplemented
        return (self.success, self.description, self.metadata) == (
            other.success,
            other.description,
            other.metadata,
        )

    def __hash__(self) -> int:
        return hash((self.success, self.description))

    def __repr__(self) -> str:
        return (
            f"TypeCheck(success={self.success!r}, description={self.description!r}, "
            f"metadata={self.metadata!r})"
        )


_PASSED = TypeCheck(True)


class _MissingResourceError(InvariantViolationError, AttributeError):
    """A type check read a resource that it was not given (``hasattr`` sees ``False``)."""


class _NoResources:
    """``context.resources`` when none were given: any access says what to do."""

    __slots__ = ()

    def __getattr__(self, name: str) -> t.Any:
        if name.startswith("__"):  # copy/pickle probing special methods
            raise AttributeError(name)
        msg = (
            f"A type check asked for resource {name!r}, but no resources are available to it. "
            f"Declare required_resource_keys={{{name!r}}} on the DagsterType and provide the resource."
        )
        raise _MissingResourceError(msg)


class TypeCheckContext:
    """What a type check function receives first: ``run_id``, ``log`` and ``resources``."""

    __slots__ = ("_dagster_type", "_log", "_resources", "_run_id")

    def __init__(
        self,
        run_id: str | None = None,
        log: t.Any = None,
        resources: t.Any = None,
        dagster_type: DagsterType | None = None,
    ) -> None:
        self._run_id = run_id
        self._log = log if log is not None else logger
        self._resources = resources if resources is not None else _NoResources()
        self._dagster_type = dagster_type

    @property
    def run_id(self) -> str | None:
        """The id of the run the check belongs to (``None`` outside a run)."""
        return self._run_id

    @property
    def log(self) -> t.Any:
        """A logger (``.info``, ``.warning`` ...)."""
        return self._log

    @property
    def resources(self) -> t.Any:
        """The run's resources, by attribute (``context.resources.db``)."""
        return self._resources

    @property
    def dagster_type(self) -> DagsterType | None:
        """The type being checked."""
        return self._dagster_type

    def for_type(self, dagster_type: DagsterType) -> TypeCheckContext:
        """This context, for checking ``dagster_type``."""
        return TypeCheckContext(self._run_id, self._log, self._resources, dagster_type)


_DEFAULT_CONTEXT = TypeCheckContext()


class TypeCheckFunctionError(UserCodeExecutionError):
    """A type check function raised; the original exception is ``user_exception``."""


DagsterTypeCheckError = TypeCheckFunctionError


# -- loaders -------------------------------------------------------------------------------------


class DagsterTypeLoader:
    """Builds a value of a type from run config, for an input that no upstream output feeds.

    Make one with :func:`dagster_type_loader`.
    """

    @property
    def schema_type(self) -> t.Any:
        """The config schema the loader accepts."""
        msg = f"{type(self).__name__} must define schema_type."
        raise NotImplementedError(msg)

    def construct_from_config_value(self, context: t.Any, config_value: t.Any) -> t.Any:
        """The run-time value for ``config_value``."""
        return config_value

    def required_resource_keys(self) -> frozenset[str]:
        """Resource keys the loader needs."""
        return frozenset()


class DagsterTypeLoaderFromDecorator(DagsterTypeLoader):
    """A loader made by ``@dagster_type_loader``: calls ``func(context, config_value)``."""

    def __init__(
        self,
        config_schema: t.Any,
        func: Callable[[t.Any, t.Any], t.Any],
        required_resource_keys: t.AbstractSet[str] | None = None,
    ) -> None:
        self.config_schema = config_schema
        self.func = func
        self._required_resource_keys = frozenset(required_resource_keys or ())

    @property
    def schema_type(self) -> t.Any:
        return self.config_schema

    def construct_from_config_value(self, context: t.Any, config_value: t.Any) -> t.Any:
        return self.func(context, config_value)

    def required_resource_keys(self) -> frozenset[str]:
        return self._required_resource_keys

    def __repr__(self) -> str:
        return f"DagsterTypeLoader({getattr(self.func, '__name__', self.func)!r})"


def _takes_two_positionals(fn: Callable[..., t.Any]) -> bool:
    """Whether ``fn(a, b)`` binds (``True`` when the signature cannot be read)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = accepted = 0
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            accepted = 1 << 30
        elif param.kind in positional:
            accepted += 1
            required += param.default is inspect.Parameter.empty
        elif (
            param.kind is inspect.Parameter.KEYWORD_ONLY
            and param.default is inspect.Parameter.empty
        ):
            return False
    return required <= 2 <= accepted


def _parameter_count(fn: Callable[..., t.Any]) -> int | str:
    try:
        return len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return "?"


def dagster_type_loader(
    config_schema: t.Any, required_resource_keys: t.AbstractSet[str] | None = None
) -> Callable[[Callable[[t.Any, t.Any], t.Any]], DagsterTypeLoaderFromDecorator]:
    """Decorate ``fn(context, config_value) -> value`` to make a :class:`DagsterTypeLoader`.

    Example::

        @dagster_type_loader(config_schema={"path": str})
        def load_frame(_context, config):
            return read_csv(config["path"])

        Frame = DagsterType(check_frame, name="Frame", loader=load_frame)
    """

    def wrapper(fn: Callable[[t.Any, t.Any], t.Any]) -> DagsterTypeLoaderFromDecorator:
        if not callable(fn):
            msg = f"@dagster_type_loader decorates a function, got {fn!r}."
            raise DefinitionError(msg)
        if not _takes_two_positionals(fn):
            msg = (
                f"@dagster_type_loader function {getattr(fn, '__name__', fn)!r} must take two positional "
                "parameters, (context, config_value); define it as def load(context, config_value): ..."
            )
            raise DefinitionError(msg)
        return DagsterTypeLoaderFromDecorator(config_schema, fn, required_resource_keys)

    return wrapper


# -- DagsterType ---------------------------------------------------------------------------------

TypeCheckFn = Callable[[TypeCheckContext, t.Any], "TypeCheck | bool"]


class DagsterType:
    """A named run-time check for values of ops and assets.

    ``type_check_fn(context, value)`` returns ``True``/``False`` or a :class:`TypeCheck`
    (with a description and metadata). ``name`` (or ``key``) identifies the type and is its
    ``display_name`` in events and errors. Example::

        def is_even(_context, value):
            return isinstance(value, int) and value % 2 == 0

        Even = DagsterType(is_even, name="Even", description="An even integer")

        @asset(dagster_type=Even)
        def four():
            return 4
    """

    def __init__(
        self,
        type_check_fn: TypeCheckFn,
        key: str | None = None,
        name: str | None = None,
        is_builtin: bool = False,
        description: str | None = None,
        loader: DagsterTypeLoader | None = None,
        required_resource_keys: t.AbstractSet[str] | None = None,
        kind: DagsterTypeKind = DagsterTypeKind.REGULAR,
        typing_type: t.Any = t.Any,
        metadata: Mapping[str, t.Any] | None = None,
    ) -> None:
        for label, text in (("key", key), ("name", name), ("description", description)):
            if text is not None and not isinstance(text, str):
                msg = f"DagsterType {label} must be a str, got {text!r} (a {type(text).__name__})."
                raise DefinitionError(msg)
        if not name and not key:
            msg = 'A DagsterType needs a name (or a key): DagsterType(check_fn, name="Even").'
            raise DefinitionError(msg)
        self.key: str = t.cast(str, key or name)
        self._name = name or None
        if not callable(type_check_fn):
            msg = f'type_check_fn of DagsterType "{self.key}" must be callable, got {type_check_fn!r}.'
            raise DefinitionError(msg)
        internal = getattr(type_check_fn, "__self__", None) is self  # a subclass's own method
        if not internal and not _takes_two_positionals(type_check_fn):
            msg = (
                f'type_check_fn argument on type "{self.key}" must take 2 arguments (context, value), '
                f"received {_parameter_count(type_check_fn)}. Define it as "
                "def check(context, value) -> bool | TypeCheck."
            )
            raise DefinitionError(msg)
        if loader is not None and not isinstance(loader, DagsterTypeLoader):
            msg = (
                f'loader of DagsterType "{self.key}" must be made with @dagster_type_loader, '
                f"got {loader!r}."
            )
            raise DefinitionError(msg)
        if not isinstance(kind, DagsterTypeKind):
            msg = f'kind of DagsterType "{self.key}" must be a DagsterTypeKind, got {kind!r}.'
            raise DefinitionError(msg)
        keys = frozenset(required_resource_keys or ())
        if any(not isinstance(k, str) for k in keys):
            msg = f'required_resource_keys of DagsterType "{self.key}" must be strings, got {sorted(map(repr, keys))}.'
            raise DefinitionError(msg)
        self._type_check_fn = type_check_fn
        self.is_builtin = bool(is_builtin)
        self._description = description
        self._loader = loader
        self._required_resource_keys = keys
        self.kind = kind
        self._typing_type = typing_type
        self._metadata: dict[str, t.Any] = {}
        if metadata:
            from weir._model.metadata import normalize_metadata

            self._metadata = normalize_metadata(metadata)

    def type_check(self, context: TypeCheckContext | None, value: t.Any) -> TypeCheck:
        """Check ``value``; always returns a :class:`TypeCheck`."""
        outcome = self._type_check_fn(context or _DEFAULT_CONTEXT, value)
        if outcome is True:
            return _PASSED
        if outcome is False:
            return TypeCheck(False)
        if isinstance(outcome, TypeCheck):
            return outcome
        msg = (
            f"You have returned {outcome!r} of type {type(outcome)} from the type check function of "
            f'type "{self.key}". Return value must be instance of TypeCheck or a bool.'
        )
        raise InvariantViolationError(msg)

    @property
    def display_name(self) -> str:
        """How the type is shown in events and errors (its name, else its key)."""
        return self._name or self.key

    @property
    def unique_name(self) -> str:
        """The type's name; container types (``[Int]``, ``Int?``) have none and raise."""
        if self._name is None:
            msg = f"unique_name requested but is None for type {self.display_name}"
            raise InvariantViolationError(msg)
        return self._name

    @property
    def has_unique_name(self) -> bool:
        """Whether the type has a name of its own."""
        return self._name is not None

    @property
    def typing_type(self) -> t.Any:
        """The Python typing equivalent (``int`` for ``Int``, ``list[int]`` for ``[Int]``)."""
        return self._typing_type

    @property
    def description(self) -> str | None:
        """The description given, if any."""
        return self._description

    @property
    def loader(self) -> DagsterTypeLoader | None:
        """The loader that builds values of this type from config, if any."""
        return self._loader

    @property
    def required_resource_keys(self) -> frozenset[str]:
        """Resource keys the type check function uses."""
        return self._required_resource_keys

    @property
    def metadata(self) -> dict[str, t.Any]:
        """Definition metadata of the type, normalized to ``MetadataValue`` objects."""
        return self._metadata

    @property
    def inner_types(self) -> list[DagsterType]:
        """The types a container type is built from (recursively)."""
        return []

    @property
    def type_param_keys(self) -> list[str]:
        """Keys of the type parameters of a container type."""
        return []

    @property
    def is_nothing(self) -> bool:
        """Whether this is ``Nothing`` (no value flows, ordering only)."""
        return self.kind is DagsterTypeKind.NOTHING

    @property
    def is_nullable(self) -> bool:
        """Whether ``None`` is accepted (``Optional[...]``)."""
        return self.kind is DagsterTypeKind.NULLABLE

    @property
    def supports_fan_in(self) -> bool:
        """Whether several upstream outputs may feed one input of this type."""
        return False

    def get_inner_type_for_fan_in(self) -> DagsterType:
        """The item type of a fan-in input."""
        msg = f"DagsterType {self.display_name} does not support fan-in."
        raise InvariantViolationError(msg)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DagsterType) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"DagsterType({self.display_name!r})"


def _value_text(value: t.Any) -> str:
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not hide the type error
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= 500 else text[:500] + "..."


def _mismatch(value: t.Any, expected: str) -> TypeCheck:
    return TypeCheck(
        False,
        f'Value "{_value_text(value)}" of python type "{type(value).__name__}" must be a {expected}.',
    )


class _ScalarType(DagsterType):
    """``Int``, ``Float``, ``Bool``, ``String``: one ``isinstance`` (``Int`` accepts bools)."""

    def __init__(self, name: str, python_type: type, expected: str) -> None:
        super().__init__(
            self._check,
            key=name,
            name=name,
            is_builtin=True,
            kind=DagsterTypeKind.SCALAR,
            typing_type=python_type,
            loader=DagsterTypeLoaderFromDecorator(python_type, _config_value),
        )
        self._python_type = python_type
        self._expected = expected

    def _check(self, _context: t.Any, value: t.Any) -> TypeCheck:
        return self.type_check(_context, value)

    def type_check(self, context: TypeCheckContext | None, value: t.Any) -> TypeCheck:
        if isinstance(value, self._python_type):
            return _PASSED
        return _mismatch(value, self._expected)


def _config_value(_context: t.Any, value: t.Any) -> t.Any:
    return value


class _AnyType(DagsterType):
    """Accepts every value: ``Any``, and typing constructs with no run-time check."""

    def __init__(self, name: str, is_builtin: bool = False, description: str | None = None) -> None:
        super().__init__(
            self._check,
            key=name,
            name=name,
            is_builtin=is_builtin,
            description=description,
            kind=DagsterTypeKind.ANY,
            loader=DagsterTypeLoaderFromDecorator(t.Any, _config_value) if is_builtin else None,
        )

    def _check(self, _context: t.Any, _value: t.Any) -> TypeCheck:
        return _PASSED

    def type_check(self, context: TypeCheckContext | None, value: t.Any) -> TypeCheck:
        return _PASSED

    @property
    def supports_fan_in(self) -> bool:
        return True

    def get_inner_type_for_fan_in(self) -> DagsterType:
        return self


class _NothingType(DagsterType):
    def __init__(self) -> None:
        super().__init__(
            self._check,
            key="Nothing",
            name="Nothing",
            is_builtin=True,
            kind=DagsterTypeKind.NOTHING,
            typing_type=type(None),
        )

    def _check(self, _context: t.Any, value: t.Any) -> TypeCheck:
        if value is None:
            return _PASSED
        return TypeCheck(False, f"Value must be None or unset, got a {type(value)}")

    @property
    def supports_fan_in(self) -> bool:
        return True

    def get_inner_type_for_fan_in(self) -> DagsterType:
        return self


Any: DagsterType = _AnyType("Any", is_builtin=True)
Int: DagsterType = _ScalarType("Int", int, "int")
Float: DagsterType = _ScalarType("Float", float, "float")
Bool: DagsterType = _ScalarType("Bool", bool, "bool")
String: DagsterType = _ScalarType("String", str, "string")
Nothing: DagsterType = _NothingType()


class PythonObjectDagsterType(DagsterType):
    """A type whose check is ``isinstance(value, python_type)``; a tuple of classes is a union.

    Example::

        Frame = PythonObjectDagsterType(pandas.DataFrame, name="Frame")
        Number = PythonObjectDagsterType((int, float))  # named "Union[int, float]"
    """

    def __init__(
        self,
        python_type: type | tuple[type, ...],
        key: str | None = None,
        name: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        if (
            isinstance(python_type, tuple)
            and python_type
            and all(isinstance(c, type) for c in python_type)
        ):
            type_str = "Union[" + ", ".join(c.__name__ for c in python_type) + "]"
            typing_type: t.Any = t.Union[python_type]
        elif isinstance(python_type, type):
            type_str = python_type.__name__
            typing_type = python_type
        else:
            msg = (
                f"PythonObjectDagsterType needs a class or a tuple of classes, got {python_type!r}. "
                "Pass the class itself (PythonObjectDagsterType(MyClass)), not an instance."
            )
            raise DefinitionError(msg)
        self.python_type = python_type
        self.type_str = type_str
        name = name or type_str
        super().__init__(self._check, key=key or name, name=name, typing_type=typing_type, **kwargs)

    def _check(self, _context: t.Any, value: t.Any) -> TypeCheck:
        if isinstance(value, self.python_type):
            return _PASSED
        return TypeCheck(
            False,
            f"Value of type {type(value)} failed type check for Dagster type {self.display_name}, "
            f"expected value to be of Python type {self.type_str}.",
        )


PythonDict = PythonObjectDagsterType(dict, name="PythonDict", description="A Python dict")
PythonSet = PythonObjectDagsterType(set, name="PythonSet", description="A Python set")
PythonTuple = PythonObjectDagsterType(tuple, name="PythonTuple", description="A Python tuple")


# -- lazy re-exports -----------------------------------------------------------------------------
# _dagster_type_resolution imports this module at load time; importing it only on first access
# (PEP 562) keeps the pair free of an import cycle.


def __getattr__(name: str) -> object:
    from weir._model import _dagster_type_resolution as resolution

    if name not in resolution.__all__:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(resolution, name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    from weir._model import _dagster_type_resolution as resolution

    return sorted({*globals(), *resolution.__all__})
