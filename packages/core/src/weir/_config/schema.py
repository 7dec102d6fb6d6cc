"""Config schema types: the classic (dict-based) config system that ``config_schema=`` speaks.

``@op(config_schema={"n": int, "name": Field(str, default_value="x")})`` describes
``context.op_config``. A schema is built from:

* Python types: ``int``, ``str``, ``float``, ``bool`` (scalars), ``list`` (a list of anything),
  ``dict`` (any mapping), ``typing.Any``; ``Optional[X]``, ``list[X]`` and ``dict[str, X]`` too;
  a Python ``enum.Enum`` class (config gives a member's name);
* a ``dict`` of field name to schema (a :class:`Shape`) and a one-element ``list`` (an :class:`Array`);
* the classes here: :class:`Field`, :class:`Shape`, :class:`Permissive`, :class:`Selector`,
  :class:`Array`, :class:`Noneable`, :class:`Map`, :class:`Enum`/:class:`EnumValue`, and the
  ``StringSource``/``IntSource``/``BoolSource`` scalars, which also accept ``{"env": "VAR"}``.

:func:`as_type` and :func:`as_field` normalise any of these into :class:`ConfigType` trees;
:mod:`weir._config._evaluate` validates and processes values against them. This module imports
neither pydantic nor anything heavy (legacy ``@resource`` functions use it on every run).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from weir.errors import DefinitionError

__all__ = [
    "FIELD_NO_DEFAULT_PROVIDED",
    "Any_",
    "Array",
    "Bool",
    "BoolSource",
    "ConfigType",
    "Enum",
    "EnumValue",
    "Field",
    "Float",
    "Int",
    "IntSource",
    "Map",
    "Noneable",
    "Permissive",
    "ScalarType",
    "Selector",
    "Shape",
    "String",
    "StringSource",
    "as_field",
    "as_type",
    "minimal_config",
    "type_name",
]


class _NoDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "FIELD_NO_DEFAULT_PROVIDED"


FIELD_NO_DEFAULT_PROVIDED: Any = _NoDefault()


class ConfigType:
    """Base of every config type (scalars, shapes, arrays ...)."""

    __slots__ = ("description",)

    def __init__(self, description: str | None = None) -> None:
        self.description = description

    @property
    def all_optional(self) -> bool:
        """Whether a value may be left out entirely (a default can be computed)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type_name(self)})"


class ScalarType(ConfigType):
    """``Int``, ``Float``, ``String``, ``Bool``; the ``*Source`` variants also take ``{"env": VAR}``."""

    __slots__ = ("env_source", "name", "python_type")

    def __init__(self, name: str, python_type: type, *, env_source: bool = False) -> None:
        super().__init__(None)
        self.name = name
        self.python_type = python_type
        self.env_source = env_source

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return self.python_type is bool
        if self.python_type is float:
            return isinstance(value, (int, float))
        return isinstance(value, self.python_type)

    def __repr__(self) -> str:
        return f"{self.name}Source" if self.env_source else self.name


class _AnyType(ConfigType):
    __slots__ = ()

    @property
    def all_optional(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "Any"


Int = ScalarType("Int", int)
Float = ScalarType("Float", float)
String = ScalarType("String", str)
Bool = ScalarType("Bool", bool)
StringSource = ScalarType("String", str, env_source=True)
"""A string, or ``{"env": "VAR"}`` to read it from the environment at run time."""
IntSource = ScalarType("Int", int, env_source=True)
"""An int, or ``{"env": "VAR"}`` (the variable's text is parsed as an integer)."""
BoolSource = ScalarType("Bool", bool, env_source=True)
"""A bool, or ``{"env": "VAR"}`` (``true``/``false``, ``1``/``0``, ``yes``/``no``)."""
Any_ = _AnyType()


class Field:
    """One field of a config dict: its type, default, whether it is required, a description.

    ``is_required`` defaults to ``False`` when a default is given or the type can be left out
    (``Noneable``, ``Any``, or a dict whose fields are all optional), else ``True``; such an
    implicitly optional field gets the type's empty value as its default (``None``, or the dict
    of its fields' defaults). ``is_secret`` keeps the value out of error messages.
    """

    __slots__ = ("_default_value", "config_type", "description", "is_required", "is_secret")

    def __init__(
        self,
        config: Any,
        default_value: Any = FIELD_NO_DEFAULT_PROVIDED,
        is_required: bool | None = None,
        description: str | None = None,
        is_secret: bool = False,
    ) -> None:
        self.config_type: ConfigType = as_type(config, where="Field")
        self._default_value = default_value
        self.description = description
        self.is_secret = bool(is_secret)
        has_default = default_value is not FIELD_NO_DEFAULT_PROVIDED
        if is_required and has_default:
            msg = (
                f"Field({type_name(self.config_type)}) is marked is_required=True and also has a "
                "default_value; a required field cannot have a default. Drop one of the two."
            )
            raise DefinitionError(msg)
        if has_default and default_value is not None:
            from weir._config._evaluate import check_default

            check_default(self.config_type, default_value)
        if is_required is None:
            is_required = not has_default and not self.config_type.all_optional
            if not is_required and not has_default:
                # implicitly optional: the default is what the type makes of "nothing given"
                from weir._config._evaluate import implicit_default

                self._default_value = implicit_default(self.config_type)
        self.is_required = bool(is_required)

    @property
    def default_provided(self) -> bool:
        return self._default_value is not FIELD_NO_DEFAULT_PROVIDED

    @property
    def default_value(self) -> Any:
        if not self.default_provided:
            msg = "This Field has no default value; check default_provided first."
            raise DefinitionError(msg)
        return self._default_value

    def __repr__(self) -> str:
        parts = [type_name(self.config_type)]
        if self.default_provided:
            parts.append(f"default_value={self._default_value!r}")
        parts.append(f"is_required={self.is_required}")
        if self.description:
            parts.append(f"description={self.description!r}")
        return f"Field({', '.join(parts)})"


class Shape(ConfigType):
    """A dict with known fields: ``Shape({"n": int, "name": Field(str, default_value="x")})``."""

    __slots__ = ("field_aliases", "fields")

    def __init__(
        self,
        fields: Mapping[str, Any],
        description: str | None = None,
        field_aliases: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        if not isinstance(fields, Mapping):
            msg = f"{type(self).__name__} needs a dict of field name to type, got {fields!r}."
            raise DefinitionError(msg)
        self.fields: dict[str, Field] = {
            str(name): as_field(value, where=f"field {name!r}") for name, value in fields.items()
        }
        self.field_aliases: dict[str, str] = dict(field_aliases or {})

    @property
    def all_optional(self) -> bool:
        return all(not f.is_required for f in self.fields.values())


class Permissive(Shape):
    """A dict whose declared fields are checked and whose other keys are kept as given."""

    __slots__ = ()

    def __init__(self, fields: Mapping[str, Any] | None = None, description: str | None = None):
        super().__init__(fields or {}, description)


class Selector(ConfigType):
    """A dict with exactly one of the declared fields: ``Selector({"csv": {...}, "parquet": {...}})``."""

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, Any], description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(fields, Mapping) or not fields:
            msg = f"Selector needs a non-empty dict of field name to type, got {fields!r}."
            raise DefinitionError(msg)
        self.fields: dict[str, Field] = {
            str(name): as_field(value, where=f"selector field {name!r}")
            for name, value in fields.items()
        }

    @property
    def all_optional(self) -> bool:
        return len(self.fields) == 1 and next(iter(self.fields.values())).config_type.all_optional


class _DiscriminatedUnion(Selector):
    """A pydantic discriminated union, written in config as a selector keyed by the tag value.

    ``{"cat": {"meows": 2}}`` becomes ``{"pet_type": "cat", "meows": 2}``; the flat form with the
    discriminator key is accepted too.
    """

    __slots__ = ("discriminator",)

    def __init__(self, discriminator: str, fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self.discriminator = discriminator


class Array(ConfigType):
    """A list of values of one type: ``Array(int)`` (also written ``[int]``)."""

    __slots__ = ("inner",)

    def __init__(self, inner_type: Any, description: str | None = None) -> None:
        super().__init__(description)
        self.inner = as_type(inner_type, where="Array")


class Noneable(ConfigType):
    """A value of ``inner_type`` or ``None`` (a missing entry becomes ``None``)."""

    __slots__ = ("inner",)

    def __init__(self, inner_type: Any) -> None:
        super().__init__(None)
        self.inner = as_type(inner_type, where="Noneable")

    @property
    def all_optional(self) -> bool:
        return True


class Map(ConfigType):
    """A dict with arbitrary keys of ``key_type`` (a scalar) and values of ``inner_type``."""

    __slots__ = ("inner", "key", "key_label_name")

    def __init__(self, key_type: Any, inner_type: Any, key_label_name: str | None = None) -> None:
        super().__init__(None)
        key = as_type(key_type, where="Map key")
        if not isinstance(key, ScalarType):
            msg = f"Map keys must be a scalar type (str, int, float, bool), got {key_type!r}."
            raise DefinitionError(msg)
        self.key = key
        self.inner = as_type(inner_type, where="Map value")
        self.key_label_name = key_label_name


class EnumValue:
    """One allowed value of an :class:`Enum`: what config says, and what user code receives."""

    __slots__ = ("config_value", "description", "python_value")

    def __init__(
        self, config_value: str, python_value: Any = None, description: str | None = None
    ) -> None:
        if not isinstance(config_value, str):
            msg = f"EnumValue's config_value must be a string, got {config_value!r}."
            raise DefinitionError(msg)
        self.config_value = config_value
        self.python_value = config_value if python_value is None else python_value
        self.description = description

    def __repr__(self) -> str:
        return f"EnumValue({self.config_value!r})"


class Enum(ConfigType):
    """A closed set of string values: ``Enum("Color", [EnumValue("RED"), EnumValue("BLUE")])``."""

    __slots__ = ("_by_config", "_lenient", "enum_values", "given_name")

    def __init__(self, name: str, enum_values: Sequence[EnumValue]) -> None:
        super().__init__(None)
        if not enum_values or not all(isinstance(v, EnumValue) for v in enum_values):
            msg = f"Enum {name!r} needs a non-empty list of EnumValue objects, got {enum_values!r}."
            raise DefinitionError(msg)
        self.given_name = name
        self.enum_values = list(enum_values)
        self._by_config = {v.config_value: v for v in self.enum_values}
        self._lenient = False  # also accept python values (pythonic config enums)

    @classmethod
    def from_python_enum(cls, enum_type: type[enum.Enum], name: str | None = None) -> Enum:
        """An Enum whose config values are the members' names and python values the members."""
        return cls(
            name or enum_type.__name__,
            [
                EnumValue(member_name, member)
                for member_name, member in enum_type.__members__.items()
            ],
        )

    @classmethod
    def from_python_enum_direct_values(
        cls, enum_type: type[enum.Enum], name: str | None = None
    ) -> Enum:
        """Like :meth:`from_python_enum`; kept for Dagster compatibility."""
        return cls.from_python_enum(enum_type, name)

    def to_python_value(self, config_value: str) -> Any:
        return self._by_config[config_value].python_value

    def lookup(self, value: Any) -> tuple[bool, Any]:
        """``(True, python value)`` when ``value`` names a member (or is one, leniently)."""
        if isinstance(value, str) and value in self._by_config:
            return True, self._by_config[value].python_value
        if self._lenient:
            for ev in self.enum_values:
                pv = ev.python_value
                if value is pv or (isinstance(pv, enum.Enum) and value == pv.value):
                    return True, pv
        return False, None

    @property
    def config_values(self) -> list[str]:
        return [v.config_value for v in self.enum_values]


class _Literal(ConfigType):
    """A pydantic ``Literal[...]`` field: one of a few fixed values."""

    __slots__ = ("values",)

    def __init__(self, values: Sequence[Any]) -> None:
        super().__init__(None)
        self.values = tuple(values)


# -- normalisation -------------------------------------------------------------------------------

_SCALARS: dict[Any, ScalarType] = {int: Int, float: Float, str: String, bool: Bool}
_SCALAR_BY_NAME: dict[str, ScalarType] = {
    "Int": Int,
    "Float": Float,
    "String": String,
    "Bool": Bool,
}


def as_field(obj: Any, *, where: str = "config_schema") -> Field:
    """``obj`` as a :class:`Field` (a ``Field`` stays as is; anything else becomes ``Field(obj)``)."""
    if isinstance(obj, Field):
        return obj
    return Field(as_type(obj, where=where))


def as_type(obj: Any, *, where: str = "config_schema") -> ConfigType:
    """Normalise a schema description into a :class:`ConfigType` (see the module docs)."""
    if isinstance(obj, ConfigType):
        return obj
    if isinstance(obj, Field):
        msg = (
            f"Invalid config schema at {where}: a Field can only be the value of a dict entry "
            "(or a whole config_schema), not nested inside another type. Use its type instead."
        )
        raise DefinitionError(msg)
    if isinstance(obj, type) and obj in _SCALARS:
        return _SCALARS[obj]
    if obj is Any or obj is object:
        return Any_
    if obj is list:
        return Array(Any_)
    if obj is dict:
        return Permissive()
    if isinstance(obj, Mapping):
        return Shape(obj)
    if isinstance(obj, list):
        if len(obj) != 1:
            msg = (
                f"Invalid config schema at {where}: a list describes an array of one type and must "
                f"have exactly one element (e.g. [int]), got {obj!r}."
            )
            raise DefinitionError(msg)
        return Array(obj[0])
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        lenient = Enum.from_python_enum(obj)
        lenient._lenient = True
        return lenient
    if isinstance(obj, type) and hasattr(obj, "model_fields") and hasattr(obj, "to_fields_dict"):
        from weir._config._pydantic_schema import schema_for_model

        return schema_for_model(obj)
    typed = _from_typing(obj, where)
    if typed is not None:
        return typed
    dagster_like = _from_dagster_type(obj)
    if dagster_like is not None:
        return dagster_like
    msg = (
        f"Invalid config schema at {where}: {obj!r} is not a config type. Use a Python type "
        "(int, str, float, bool, list, dict, Any), a dict of field name to type, a one-element "
        "list, or Field/Shape/Permissive/Selector/Array/Noneable/Enum/StringSource."
    )
    raise DefinitionError(msg)


def _from_typing(obj: Any, where: str) -> ConfigType | None:
    origin = typing.get_origin(obj)
    if origin is None:
        return None
    args = typing.get_args(obj)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1 and len(args) == 2:
            return Noneable(as_type(non_none[0], where=where))
        return None
    if origin in (list, Sequence) and args:
        return Array(as_type(args[0], where=where))
    if origin in (dict, Mapping) and len(args) == 2:
        return Map(args[0], as_type(args[1], where=where))
    if origin is typing.Literal:
        return _Literal(args)
    return None


def _from_dagster_type(obj: Any) -> ConfigType | None:
    """``Int``/``String``/``Float``/``Bool``/``Any`` dagster types (``dg.Int``) used as config types."""
    typing_type = getattr(obj, "typing_type", None)
    name = getattr(obj, "display_name", None) or getattr(obj, "name", None)
    if typing_type in _SCALARS and name in _SCALAR_BY_NAME:
        return _SCALARS[typing_type]
    if name == "Any" and hasattr(obj, "type_check"):
        return Any_
    return None


# -- printing ------------------------------------------------------------------------------------


def type_name(t: ConfigType) -> str:
    """How errors print a type: ``Int``, ``[String]``, ``{ n: Int name?: String }``, ``Int?``."""
    if isinstance(t, ScalarType):
        return t.name
    if isinstance(t, _AnyType):
        return "Any"
    if isinstance(t, Noneable):
        return f"{type_name(t.inner)}?"
    if isinstance(t, Array):
        return f"[{type_name(t.inner)}]"
    if isinstance(t, Map):
        return f"{{ [{type_name(t.key)}]: {type_name(t.inner)} }}"
    if isinstance(t, Enum):
        return t.given_name
    if isinstance(t, _Literal):
        return "Literal[" + ", ".join(repr(v) for v in t.values) + "]"
    if isinstance(t, (Shape, Selector)):
        optional_mark = isinstance(t, Shape)  # a selector's fields are alternatives, not optional
        parts = [
            f"{name}{'' if f.is_required or not optional_mark else '?'}: {type_name(f.config_type)}"
            for name, f in t.fields.items()
        ]
        if isinstance(t, Permissive):
            parts.append("...")
        return "{ " + " ".join(parts) + " }" if parts else "{ }"
    return type(t).__name__


def minimal_config(t: ConfigType) -> Any:
    """A small example value for ``t`` (shown in "missing entry" errors)."""
    if isinstance(t, ScalarType):
        return {"Int": 0, "Float": 0.0, "String": "...", "Bool": False}[t.name]
    if isinstance(t, Noneable):
        return None
    if isinstance(t, Array):
        return []
    if isinstance(t, Map):
        return {}
    if isinstance(t, Enum):
        return t.enum_values[0].config_value
    if isinstance(t, _Literal):
        return t.values[0] if t.values else None
    if isinstance(t, Selector):
        name, f = next(iter(t.fields.items()))
        return {name: minimal_config(f.config_type)}
    if isinstance(t, Shape):
        return {
            name: minimal_config(f.config_type) for name, f in t.fields.items() if f.is_required
        }
    return "..."
