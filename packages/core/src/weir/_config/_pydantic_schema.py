"""The config schema of a pydantic ``Config`` class, in the classic schema types.

Run config for typed config goes through the same validator as ``config_schema=`` dicts, so
both speak one set of rules and messages. Field types map as Dagster's do: ``str``/``int``/
``bool`` become ``StringSource``/``IntSource``/``BoolSource`` (so ``{"env": "VAR"}`` works),
``float`` is ``Float``, ``Optional[X]`` is ``Noneable``, lists are arrays, ``dict[str, X]`` a map,
enums take member names, nested ``Config`` classes are dicts, ``Literal`` is a fixed set, and a
discriminated union is a selector keyed by the tag (``{"cat": {"meows": 2}}``). Anything else
(``datetime``, ``Path``, plain unions ...) is ``Any`` here and left to pydantic.

Fields holding resources (a ``ConfigurableResource`` type or ``ResourceDependency[...]``) are
not config: they are left out of the schema.
"""

from __future__ import annotations

import enum
import threading
import types
import typing
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, SecretStr

from weir._config.schema import (
    Any_,
    Array,
    BoolSource,
    ConfigType,
    Enum,
    Field,
    Float,
    IntSource,
    Map,
    Noneable,
    Permissive,
    Shape,
    StringSource,
    _DiscriminatedUnion,
    _Literal,
)

__all__ = ["is_resource_field", "schema_for_model", "secret_field_names"]

_cache: weakref.WeakKeyDictionary[type, Shape] = weakref.WeakKeyDictionary()
_building: set[type] = set()
_lock = threading.RLock()

_SOURCES: dict[Any, ConfigType] = {
    str: StringSource,
    int: IntSource,
    bool: BoolSource,
    float: Float,
}


def schema_for_model(cls: type[BaseModel]) -> Shape:
    """The :class:`Shape` (``Permissive`` for models allowing extra keys) of ``cls``'s config fields."""
    hit = _cache.get(cls)
    if hit is not None:
        return hit
    with _lock:
        hit = _cache.get(cls)
        if hit is not None:
            return hit
        _building.add(cls)
        try:
            fields: dict[str, Field] = {}
            for name, info in cls.model_fields.items():
                if is_resource_field(info.annotation, info.metadata):
                    continue
                config_type = _type_for(info.annotation, info.discriminator)
                fields[name] = Field(
                    config_type,
                    is_required=info.is_required(),
                    description=info.description,
                    is_secret=_is_secret_annotation(info.annotation),
                )
            extra = cls.model_config.get("extra")
            shape: Shape = (
                Permissive(fields, description=cls.__doc__)
                if extra == "allow"
                else Shape(fields, description=cls.__doc__)
            )
        finally:
            _building.discard(cls)
        _cache[cls] = shape
        return shape


def _strip_optional(ann: Any) -> tuple[Any, bool]:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = typing.get_args(ann)
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1 and len(args) == 2:
            return non_none[0], True
    return ann, False


def _type_for(ann: Any, discriminator: Any = None) -> ConfigType:
    inner, optional = _strip_optional(ann)
    config_type = _inner_type_for(inner, discriminator)
    return Noneable(config_type) if optional else config_type


def _inner_type_for(ann: Any, discriminator: Any) -> ConfigType:
    # on Python 3.10, isinstance(list[str], type) is True: plain classes only (no generic alias)
    if isinstance(ann, type) and typing.get_origin(ann) is None:
        if ann in _SOURCES:
            return _SOURCES[ann]
        if issubclass(ann, SecretStr):
            return StringSource
        if issubclass(ann, enum.Enum):
            lenient = Enum.from_python_enum(ann)
            lenient._lenient = True
            return lenient
        if issubclass(ann, BaseModel):
            if ann in _building:  # a recursive model: leave the inner levels to pydantic
                return Any_
            return schema_for_model(ann)
        return Any_
    # Annotated[X, ...] (pydantic keeps only the outer level in FieldInfo)
    if typing.get_origin(ann) is typing.Annotated:
        args = typing.get_args(ann)
        disc = next(
            (
                getattr(m, "discriminator", None)
                for m in args[1:]
                if getattr(m, "discriminator", None)
            ),
            discriminator,
        )
        return _type_for(args[0], disc)
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Literal:
        return _Literal(args)
    if origin in (list, Sequence) and args:
        return Array(_type_for(args[0]))
    if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
        return Map(str, _type_for(args[1]))
    if origin in (typing.Union, types.UnionType) and isinstance(discriminator, str):
        union = _discriminated(args, discriminator)
        if union is not None:
            return union
    return Any_


def _discriminated(members: Sequence[Any], discriminator: str) -> ConfigType | None:
    fields: dict[str, Any] = {}
    for member in members:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            return None
        info = member.model_fields.get(discriminator)
        if info is None or typing.get_origin(info.annotation) is not typing.Literal:
            return None
        sub = schema_for_model(member)
        rest = {name: f for name, f in sub.fields.items() if name != discriminator}
        shape = Permissive(rest) if isinstance(sub, Permissive) else Shape(rest)
        for tag in typing.get_args(info.annotation):
            fields[str(tag)] = Field(shape, is_required=False) if shape.all_optional else shape
    return _DiscriminatedUnion(discriminator, fields) if fields else None


def _is_secret_annotation(ann: Any) -> bool:
    inner, _ = _strip_optional(ann)
    return isinstance(inner, type) and issubclass(inner, SecretStr)


def is_resource_field(ann: Any, metadata: Sequence[Any] = ()) -> bool:
    """Whether a field holds a resource (nested ``ConfigurableResource`` or ``ResourceDependency``)."""
    if any(getattr(m, "__weir_resource_dependency__", False) for m in metadata):
        return True
    inner, _ = _strip_optional(ann)
    for meta in getattr(inner, "__metadata__", ()):
        if getattr(meta, "__weir_resource_dependency__", False):
            return True
    from weir._config._configurable import ConfigurableResourceFactory

    return isinstance(inner, type) and issubclass(inner, ConfigurableResourceFactory)


def secret_field_names(cls: type[BaseModel]) -> frozenset[str]:
    """Names of ``cls``'s fields typed ``SecretStr`` (masked whatever their name)."""
    return frozenset(
        name for name, info in cls.model_fields.items() if _is_secret_annotation(info.annotation)
    )
