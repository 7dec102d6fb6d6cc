"""Container types, annotation -> ``DagsterType`` resolution and class registration.

The private half of :mod:`weir._model.dagster_type`, which re-exports every public name here
(``List``, ``Dict``, ``Set``, ``Tuple``, ``Optional``, ``resolve_dagster_type``,
``make_python_type_usable_as_dagster_type``, ``usable_as_dagster_type``,
``check_dagster_type``); import them from there. This module imports the base types from
``dagster_type`` at load time, and ``dagster_type`` loads this one only on first access.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from collections.abc import Callable

from weir._model.dagster_type import (
    _DEFAULT_CONTEXT,
    _PASSED,
    Any,
    Bool,
    DagsterType,
    DagsterTypeKind,
    DagsterTypeLoader,
    Float,
    Int,
    Nothing,
    PythonDict,
    PythonObjectDagsterType,
    PythonSet,
    PythonTuple,
    String,
    TypeCheck,
    _AnyType,
    _mismatch,
)
from weir.errors import DefinitionError, InvariantViolationError

__all__ = [
    "DagsterDictApi",
    "DagsterListApi",
    "DagsterOptionalApi",
    "DagsterSetApi",
    "DagsterTupleApi",
    "Dict",
    "List",
    "ListType",
    "Optional",
    "OptionalType",
    "Set",
    "Tuple",
    "check_dagster_type",
    "make_python_type_usable_as_dagster_type",
    "resolve_dagster_type",
    "usable_as_dagster_type",
]


# -- classes with no registered type -------------------------------------------------------------


class _InferredObjectType(PythonObjectDagsterType):
    """The type of an annotation with a class weir has no mapping for (no unique name)."""

    def __init__(self, python_type: type) -> None:
        qualified = f"{python_type.__module__}.{python_type.__qualname__}"
        DagsterType.__init__(
            self,
            self._check,
            key=f"_TypeHintInferred[{qualified}]",
            description=f"DagsterType created from a type hint for the Python type {qualified}",
            typing_type=python_type,
        )
        self.python_type = python_type
        self.type_str = qualified

    @property
    def display_name(self) -> str:
        return t.cast(type, self.python_type).__name__


# -- container types -----------------------------------------------------------------------------


def _no_nothing(inner: DagsterType, where: str) -> DagsterType:
    if inner.is_nothing:
        msg = f"Type Nothing can not be wrapped in {where}; Nothing means no value, so use In(Nothing) for an ordering-only input."
        raise DefinitionError(msg)
    return inner


class OptionalType(DagsterType):
    """``Optional[T]``: ``None`` or a value of ``T``; shown as ``T?``."""

    def __init__(self, inner_type: DagsterType) -> None:
        self.inner_type = _no_nothing(inner_type, "List or Optional")
        super().__init__(
            self._check,
            key="Optional." + inner_type.key,
            kind=DagsterTypeKind.NULLABLE,
            typing_type=t.Optional[inner_type.typing_type],
        )

    @property
    def display_name(self) -> str:
        return self.inner_type.display_name + "?"

    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        return _PASSED if value is None else self.inner_type.type_check(context, value)

    @property
    def inner_types(self) -> list[DagsterType]:
        return [self.inner_type, *self.inner_type.inner_types]

    @property
    def type_param_keys(self) -> list[str]:
        return [self.inner_type.key]


class ListType(DagsterType):
    """``List[T]``: a ``list`` whose every item passes ``T``; shown as ``[T]``."""

    def __init__(self, inner_type: DagsterType) -> None:
        self.inner_type = _no_nothing(inner_type, "List or Optional")
        super().__init__(
            self._check,
            key="List." + inner_type.key,
            kind=DagsterTypeKind.LIST,
            typing_type=list[inner_type.typing_type],  # type: ignore[name-defined]
        )

    @property
    def display_name(self) -> str:
        return "[" + self.inner_type.display_name + "]"

    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        if not isinstance(value, list):
            return _mismatch(value, "list")
        inner = self.inner_type
        if inner.kind is DagsterTypeKind.ANY:
            return _PASSED
        for item in value:
            outcome = inner.type_check(context, item)
            if not outcome.success:
                return outcome
        return _PASSED

    @property
    def inner_types(self) -> list[DagsterType]:
        return [self.inner_type, *self.inner_type.inner_types]

    @property
    def type_param_keys(self) -> list[str]:
        return [self.inner_type.key]

    @property
    def supports_fan_in(self) -> bool:
        return True

    def get_inner_type_for_fan_in(self) -> DagsterType:
        return self.inner_type


class _CollectionType(DagsterType):
    """Typed ``dict``/``set``/``tuple``/``Union``: a container check, then each member's check."""

    def __init__(
        self, key: str, shown: str, members: list[DagsterType], typing_type: t.Any
    ) -> None:
        self.members = members
        self._shown = shown
        super().__init__(self._check, key=key, typing_type=typing_type)

    @property
    def display_name(self) -> str:
        return self._shown

    @property
    def inner_types(self) -> list[DagsterType]:
        found: list[DagsterType] = []
        for member in self.members:
            found += [member, *member.inner_types]
        return found

    @property
    def type_param_keys(self) -> list[str]:
        return [m.key for m in self.members]

    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        raise NotImplementedError


class _TypedDict(_CollectionType):
    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        if not isinstance(value, dict):
            return TypeCheck(False, f"Value should be a dict, got a {type(value)}")
        key_type, value_type = self.members
        for key, item in value.items():
            for outcome in (
                key_type.type_check(context, key),
                value_type.type_check(context, item),
            ):
                if not outcome.success:
                    return outcome
        return _PASSED


class _TypedSet(_CollectionType):
    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        if not isinstance(value, set):
            return TypeCheck(False, f"Value should be a set, got a {type(value)}")
        for item in value:
            outcome = self.members[0].type_check(context, item)
            if not outcome.success:
                return outcome
        return _PASSED


class _TypedTuple(_CollectionType):
    variadic = False

    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        if not isinstance(value, tuple):
            return TypeCheck(False, f"Value should be a tuple, got a {type(value)}")
        members = self.members * len(value) if self.variadic else self.members
        if len(value) != len(members):
            return TypeCheck(
                False,
                f"Tuple with key {self.key} requires {len(members)} entries, received {len(value)} values",
            )
        for item, member in zip(value, members, strict=True):
            outcome = member.type_check(context, item)
            if not outcome.success:
                return outcome
        return _PASSED


class _UnionType(_CollectionType):
    def _check(self, context: t.Any, value: t.Any) -> TypeCheck:
        for member in self.members:
            if member.type_check(context, value).success:
                return _PASSED
        return _mismatch(value, self.display_name)


def _typed_dict(key_type: t.Any, value_type: t.Any) -> DagsterType:
    k, v = resolve_dagster_type(key_type), resolve_dagster_type(value_type)
    return _TypedDict(
        f"TypedPythonDict.{k.key}.{v.key}",
        f"Dict[{k.display_name},{v.display_name}]",
        [k, v],
        dict[k.typing_type, v.typing_type],  # type: ignore[name-defined]
    )


def _typed_set(item_type: t.Any) -> DagsterType:
    item = _no_nothing(resolve_dagster_type(item_type), "Set (use List for fan-in)")
    return _TypedSet(
        f"TypedPythonSet.{item.key}",
        f"Set[{item.display_name}]",
        [item],
        set[item.typing_type],  # type: ignore[name-defined]
    )


def _typed_tuple(*item_types: t.Any) -> DagsterType:
    variadic = len(item_types) == 2 and item_types[1] is Ellipsis
    items = [
        _no_nothing(resolve_dagster_type(i), "Tuple (use List for fan-in)")
        for i in item_types[: 1 if variadic else None]
    ]
    shown = ",".join(i.display_name for i in items) + (",..." if variadic else "")
    params = tuple(i.typing_type for i in items) + ((Ellipsis,) if variadic else ())
    typed = _TypedTuple(
        "TypedPythonTuple" + ".".join(i.key for i in items) + ("..." if variadic else ""),
        f"Tuple[{shown}]",
        items,
        tuple.__class_getitem__(params),
    )
    typed.variadic = variadic
    return typed


def _union(members: list[DagsterType]) -> DagsterType:
    return _UnionType(
        "Union." + ".".join(m.key for m in members),
        "Union[" + ", ".join(m.display_name for m in members) + "]",
        members,
        t.Union[tuple(m.typing_type for m in members)],
    )


class DagsterListApi:
    """``List[T]`` (from a Python type or a DagsterType), or ``List(dagster_type)``."""

    def __getitem__(self, inner_type: t.Any) -> DagsterType:
        return ListType(resolve_dagster_type(inner_type))

    def __call__(self, inner_type: DagsterType) -> DagsterType:
        if not isinstance(inner_type, DagsterType):
            msg = f"List(...) takes a DagsterType, got {inner_type!r}; write List[{getattr(inner_type, '__name__', inner_type)}] for a Python type."
            raise DefinitionError(msg)
        return ListType(inner_type)


class DagsterDictApi:
    """``Dict[K, V]``: a dict whose keys pass ``K`` and values pass ``V``."""

    def __getitem__(self, params: t.Any) -> DagsterType:
        if not isinstance(params, tuple) or len(params) != 2:
            msg = f"Dict[...] takes two parameters, a key type and a value type (Dict[str, int]); got {params!r}."
            raise DefinitionError(msg)
        return _typed_dict(*params)


class DagsterSetApi:
    """``Set[T]``: a set whose items pass ``T``."""

    def __getitem__(self, item_type: t.Any) -> DagsterType:
        return _typed_set(item_type)


class DagsterTupleApi:
    """``Tuple[A, B, ...]``: a tuple of that length, item by item."""

    def __getitem__(self, item_types: t.Any) -> DagsterType:
        return _typed_tuple(*(item_types if isinstance(item_types, tuple) else (item_types,)))


class DagsterOptionalApi:
    """``Optional[T]``: ``None`` or a value of ``T``."""

    def __getitem__(self, inner_type: t.Any) -> DagsterType:
        return OptionalType(resolve_dagster_type(inner_type))


List = DagsterListApi()
Dict = DagsterDictApi()
Set = DagsterSetApi()
Tuple = DagsterTupleApi()
Optional = DagsterOptionalApi()


# -- resolving annotations -----------------------------------------------------------------------

_BUILTIN_CLASSES: dict[t.Any, DagsterType] = {
    int: Int,
    float: Float,
    bool: Bool,
    str: String,
    list: ListType(Any),
    tuple: PythonTuple,
    set: PythonSet,
    dict: PythonDict,
    t.Any: Any,
    None: Nothing,
    type(None): Nothing,
}
_BARE_APIS: dict[t.Any, DagsterType] = {
    List: _BUILTIN_CLASSES[list],
    Dict: PythonDict,
    Set: PythonSet,
    Tuple: PythonTuple,
}
_REGISTRY: dict[type, DagsterType] = {}  # python class -> its type (registered or inferred)
_CACHE: dict[t.Any, DagsterType] = {}  # any annotation -> its type
# typing constructs that describe a generator function's result, not a value to check
_ITERATOR_ORIGINS = frozenset(
    {cabc.Iterator, cabc.Generator, cabc.AsyncIterator, cabc.AsyncGenerator}
)
_INVALID_TYPE = (
    "Invalid type: dagster_type must be an instance of DagsterType or a Python type: got {}{}"
)


def resolve_dagster_type(dagster_type: t.Any) -> DagsterType:
    """The :class:`DagsterType` for a DagsterType, a Python class or a typing annotation.

    ``int`` -> ``Int``, ``list[int]`` -> ``[Int]``, ``Optional[str]`` -> ``String?``,
    ``dict`` -> ``PythonDict``, ``None`` -> ``Nothing``, an unknown class -> an ``isinstance``
    check named after the class. Raises ``DefinitionError`` for values that are not types.
    """
    if isinstance(dagster_type, DagsterType):
        return dagster_type
    try:
        cached = _CACHE.get(dagster_type)
    except TypeError:
        msg = _INVALID_TYPE.format(
            dagster_type,
            ", which isn't hashable. Did you pass an instance of a type instead of the type?",
        )
        raise DefinitionError(msg) from None
    if cached is None:
        cached = _resolve(dagster_type)
        _CACHE[dagster_type] = cached
    return cached


def _resolve(ann: t.Any) -> DagsterType:
    found = _BUILTIN_CLASSES.get(ann) or _BARE_APIS.get(ann)
    if found is not None:
        return found
    origin = t.get_origin(ann)
    if origin is not None:  # before the class test: list[int] is a `type` on Python 3.10
        return _resolve_generic(ann, origin, t.get_args(ann))
    if isinstance(ann, type):
        if issubclass(ann, DagsterType):
            msg = f"Do not pass runtime type classes. Got {ann}; pass an instance of it instead."
            raise DefinitionError(msg)
        special = _result_annotation(ann, ())
        if special is not None:
            return special
        return _class_type(ann)
    if isinstance(ann, t.TypeVar):
        return Any
    if callable(ann) and hasattr(ann, "__supertype__"):  # typing.NewType
        return resolve_dagster_type(ann.__supertype__)
    if isinstance(ann, (str, t.ForwardRef)) or type(ann).__module__ in (
        "typing",
        "typing_extensions",
    ):
        # an unresolved string annotation or a bare typing special form: nothing to check
        return _AnyType(ann if isinstance(ann, str) else _typing_name(ann))
    if isinstance(ann, DagsterOptionalApi):
        msg = "Optional needs a type parameter: write Optional[int] (or Optional[MyType])."
        raise DefinitionError(msg)
    msg = _INVALID_TYPE.format(
        ann, ". Pass a Python class (int, MyClass), a typing annotation or a DagsterType."
    )
    raise DefinitionError(msg)


def _resolve_generic(ann: t.Any, origin: t.Any, args: tuple[t.Any, ...]) -> DagsterType:
    special = _result_annotation(origin, args)
    if special is not None:
        return special
    if origin is t.Annotated:
        return resolve_dagster_type(args[0])
    if origin is list:
        if args and _is_dynamic_output(args[0]):
            return _inner_or_any(t.get_args(args[0]))
        return ListType(resolve_dagster_type(args[0])) if args else _BUILTIN_CLASSES[list]
    if origin is dict:
        return _typed_dict(*args) if len(args) == 2 else PythonDict
    if origin is set:
        return _typed_set(args[0]) if args else PythonSet
    if origin is tuple:
        return _typed_tuple(*args) if args else PythonTuple
    if origin is t.Union or type(ann).__name__ == "UnionType":
        members = [resolve_dagster_type(a) for a in args if a is not type(None)]
        inner = members[0] if len(members) == 1 else _union(members)
        return OptionalType(inner) if len(members) < len(args) else inner
    if origin in _ITERATOR_ORIGINS:
        return _AnyType(_typing_name(ann))
    if isinstance(origin, type):  # Sequence[int], Mapping[str, int], type[X] ...: check the class
        return PythonObjectDagsterType(origin, name=_typing_name(ann))
    return _AnyType(_typing_name(ann))  # Literal[...], ClassVar[...]: no run-time check


def _is_dynamic_output(ann: t.Any) -> bool:
    from weir._model.results import DynamicOutput

    return ann is DynamicOutput or t.get_origin(ann) is DynamicOutput


def _inner_or_any(args: tuple[t.Any, ...]) -> DagsterType:
    return resolve_dagster_type(args[0]) if len(args) == 1 else Any


def _result_annotation(cls: t.Any, args: tuple[t.Any, ...]) -> DagsterType | None:
    """``Output[T]``/``MaterializeResult[T]`` -> ``T``; ``ObserveResult`` -> ``Nothing``."""
    if getattr(cls, "__module__", None) != "weir._model.results":
        return None
    from weir._model.results import DynamicOutput, MaterializeResult, ObserveResult, Output

    if cls is Output or cls is MaterializeResult:
        return _inner_or_any(args)
    if cls is ObserveResult:
        return Nothing
    if cls is DynamicOutput:
        msg = (
            "Op annotated with return type DynamicOutput. DynamicOutputs can only be returned in the "
            "context of a List (-> list[DynamicOutput[int]]). If only one output is needed, use Output."
        )
        raise InvariantViolationError(msg)
    return None


def _class_type(cls: type) -> DagsterType:
    found = _REGISTRY.get(cls)
    if found is None:
        found = _REGISTRY[cls] = _InferredObjectType(cls)
    return found


def _typing_name(ann: t.Any) -> str:
    """A readable name for a typing construct: ``Sequence[Int]``, ``Literal['a']``."""
    origin = t.get_origin(ann)
    if origin is None:
        return getattr(ann, "__name__", None) or str(ann).removeprefix("typing.")
    base = getattr(origin, "__name__", None) or str(origin).removeprefix("typing.")
    parts = []
    for arg in t.get_args(ann):
        if isinstance(arg, type) or t.get_origin(arg) is not None:
            try:
                parts.append(resolve_dagster_type(arg).display_name)
                continue
            except (DefinitionError, InvariantViolationError):
                pass
        parts.append(repr(arg) if not isinstance(arg, type) else arg.__name__)
    return f"{base}[{', '.join(parts)}]" if parts else base


# -- registering classes -------------------------------------------------------------------------


def make_python_type_usable_as_dagster_type(python_type: type, dagster_type: DagsterType) -> None:
    """Use ``dagster_type`` wherever ``python_type`` appears as an annotation.

    Call it once per class, before any op or asset uses the class as an annotation.
    """
    if not isinstance(python_type, type):
        msg = f"make_python_type_usable_as_dagster_type needs a class, got {python_type!r}."
        raise DefinitionError(msg)
    if not isinstance(dagster_type, DagsterType):
        msg = f"make_python_type_usable_as_dagster_type needs a DagsterType, got {dagster_type!r}."
        raise DefinitionError(msg)
    registered = _REGISTRY.get(python_type)
    if registered is None:
        _REGISTRY[python_type] = dagster_type
        _CACHE.pop(python_type, None)
        return
    if registered is dagster_type:
        return
    if isinstance(registered, _InferredObjectType):
        msg = (
            f"A Dagster type has already been registered for the Python type {python_type}: an op or "
            "asset used the class as an annotation before make_python_type_usable_as_dagster_type was "
            "called, so weir generated a type for it. Call make_python_type_usable_as_dagster_type "
            "(or apply @usable_as_dagster_type) before any definition refers to the class."
        )
    else:
        msg = (
            f"A Dagster type has already been registered for the Python type {python_type} "
            f'("{registered.display_name}"). make_python_type_usable_as_dagster_type can only be called '
            "once per class, as it registers a 1:1 mapping between the class and a Dagster type."
        )
    raise DefinitionError(msg)


_C = t.TypeVar("_C", bound=type)


@t.overload
def usable_as_dagster_type(name: _C) -> _C: ...


@t.overload
def usable_as_dagster_type(
    name: str | None = None,
    description: str | None = None,
    loader: DagsterTypeLoader | None = None,
) -> Callable[[_C], _C]: ...


def usable_as_dagster_type(
    name: t.Any = None,
    description: str | None = None,
    loader: DagsterTypeLoader | None = None,
) -> t.Any:
    """Class decorator: annotations with this class check ``isinstance`` under a named type.

    Example::

        @usable_as_dagster_type(name="Point2D")
        class Point:
            ...
    """

    def register(cls: _C) -> _C:
        if not isinstance(cls, type):
            msg = f"@usable_as_dagster_type decorates a class, got {cls!r}."
            raise DefinitionError(msg)
        type_name = name if isinstance(name, str) and name else cls.__name__
        make_python_type_usable_as_dagster_type(
            cls,
            PythonObjectDagsterType(cls, name=type_name, description=description, loader=loader),
        )
        return cls

    if isinstance(name, type):  # bare @usable_as_dagster_type
        cls, name = name, None
        return register(cls)
    return register


_TYPING_BARE = (t.List, t.Dict, t.Set, t.Tuple)  # noqa: UP006


def check_dagster_type(dagster_type: t.Any, value: t.Any) -> TypeCheck:
    """Run the check of ``dagster_type`` on ``value`` outside a run (for unit tests).

    Accepts a DagsterType, a weir built-in (``List[Int]``) or a Python class; a
    ``Failure`` raised by the check function becomes a failed :class:`TypeCheck`.
    """
    origin = t.get_origin(dagster_type)
    if origin in (list, dict, set, tuple, t.Union) or any(
        dagster_type is bare for bare in _TYPING_BARE
    ):
        msg = (
            f"Must pass in a type from dagster module. You passed {dagster_type} which is part of "
            "python's typing module; use weir's List, Dict, Set, Tuple and Optional (List[Int])."
        )
        raise InvariantViolationError(msg)
    resolved = resolve_dagster_type(dagster_type)
    try:
        return resolved.type_check(_DEFAULT_CONTEXT.for_type(resolved), value)
    except Exception as exc:
        if any(cls.__name__ == "Failure" for cls in type(exc).__mro__):
            return TypeCheck(
                False, getattr(exc, "description", None), getattr(exc, "metadata", None)
            )
        raise
