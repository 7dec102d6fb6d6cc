"""JSON serialization of instance records: runs, events and everything they carry.

The instance stores runs and event-log entries as JSON text. :func:`serialize` turns a record
(an ``EventLogEntry``, a ``DagsterRun``, a metadata value ...) into compact JSON and
:func:`deserialize` rebuilds it, equal in every field. The format is tagged:

==========================  =============================================================
Python value                JSON
==========================  =============================================================
str, int, bool, None        themselves
float                       itself; ``inf``/``-inf``/``nan`` as ``{"__float__": "inf"}``
list                        a list
dict (str keys)             an object
dict (other keys, or a      ``{"__dict__": [[key, value], ...]}``
key starting with ``__``)
tuple                       ``{"__tuple__": [...]}``
set / frozenset             ``{"__set__": [...]}`` / ``{"__frozenset__": [...]}``, sorted
enum member                 ``{"__enum__": "ClassName.MEMBER"}``
bytes                       ``{"__bytes__": "<base64>"}``
datetime / date             ``{"__datetime__": "<isoformat>"}`` / ``{"__date__": ...}``
timedelta                   ``{"__timedelta__": [days, seconds, microseconds]}``
a registered class          ``{"__class__": "ClassName", "field": value, ...}``
anything else               ``{"__repr__": "<repr, at most 1000 chars>", "__type__": "mod.Qualname"}``
==========================  =============================================================

Every key that starts with ``__`` is reserved for tags, so a plain dict with such a key is
written in the ``__dict__`` pair form; a reader can always tell data from tags.

Safety: reading only builds classes registered here (weir's own records, registered on first
use, and those of plugins through :func:`register_serializable`); no module named in the text
is ever imported. An unknown ``__class__`` raises :class:`~weir.errors.StorageError`.

Registered classes are written field by field: every ``__slots__`` entry along the MRO (except
``_cache*`` slots, which hold derived values and are read back as None) plus the instance
``__dict__`` when there is one. They are read back with ``cls.__new__(cls)`` and the fields set
directly, so constructors that validate or coerce do not run twice. ``AssetKey`` and
named tuples (``AssetCheckKey``) are built through their constructors instead, so asset keys
stay interned. A field missing from the text (written before the field existed) gets the
default of the constructor's parameter of the same name, else None; a field the class no longer
has is ignored.

Example::

    >>> from weir._model.asset_key import AssetKey
    >>> serialize(AssetKey(["raw", "orders"]))
    '{"__class__":"AssetKey","path":["raw","orders"]}'
    >>> deserialize(serialize({"keys": (1, 2)}))
    {'keys': (1, 2)}
"""

from __future__ import annotations

import base64
import datetime as _dt
import enum
import json
import keyword
import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from weir.errors import PluginError, StorageError

__all__ = ["deserialize", "register_serializable", "serialize"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T", bound=type)

_Encoder = Callable[[Any], Any]
_Decoder = Callable[[dict[str, Any]], Any]

_REPR_LIMIT = 1000
_CACHE_PREFIX = "_cache"  # slots named _cache* hold derived values: not stored

# exact type -> function returning its JSON-ready form (filled below and by registration)
_ENCODERS: dict[type, _Encoder] = {}
# registered name -> function building the object from its decoded fields
_DECODERS: dict[str, _Decoder] = {}
# registered name -> enum class (for "__enum__" tags)
_ENUMS: dict[str, type[enum.Enum]] = {}
# registered name <-> class
_CLASS_BY_NAME: dict[str, type] = {}
_NAME_BY_CLASS: dict[type, str] = {}

_warned_types: set[str] = set()
_registry_lock = threading.RLock()
_builtins_loaded = False


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# -- writing ------------------------------------------------------------------------------------------


def _to_json(obj: Any) -> Any:
    """``obj`` as plain JSON data (dicts with str keys, lists, str, int, float, bool, None)."""
    cls = type(obj)
    if cls is str or cls is int or cls is bool or obj is None:
        return obj
    encode = _ENCODERS.get(cls)
    if encode is not None:
        return encode(obj)
    return _encode_other(obj)


_isfinite = math.isfinite


def _encode_float(value: float) -> Any:
    return value if _isfinite(value) else {"__float__": repr(value)}


def _encode_list(value: list[Any]) -> list[Any]:
    return [_to_json(item) for item in value]


def _encode_tuple(value: tuple[Any, ...]) -> dict[str, Any]:
    return {"__tuple__": [_to_json(item) for item in value]}


def _encode_dict(value: Mapping[Any, Any]) -> Any:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str or key[:2] == "__":
            return _encode_pairs(value)
        out[key] = _to_json(item)
    return out


def _encode_pairs(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {"__dict__": [[_to_json(key), _to_json(item)] for key, item in value.items()]}


_SORT_KEY_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)


def _sorted_items(values: Any) -> list[Any]:
    # Set order depends on hashing, which varies between processes for str: sort by the JSON
    # text of each item so the same set always gives the same text.
    return sorted((_to_json(item) for item in values), key=_SORT_KEY_ENCODER.encode)


def _encode_set(value: set[Any]) -> dict[str, Any]:
    return {"__set__": _sorted_items(value)}


def _encode_frozenset(value: frozenset[Any]) -> dict[str, Any]:
    return {"__frozenset__": _sorted_items(value)}


def _encode_bytes(value: bytes) -> dict[str, Any]:
    return {"__bytes__": base64.b64encode(value).decode("ascii")}


def _encode_datetime(value: _dt.datetime) -> dict[str, Any]:
    return {"__datetime__": value.isoformat()}


def _encode_date(value: _dt.date) -> dict[str, Any]:
    return {"__date__": value.isoformat()}


def _encode_timedelta(value: _dt.timedelta) -> dict[str, Any]:
    return {"__timedelta__": [value.days, value.seconds, value.microseconds]}


_ENCODERS.update(
    {
        float: _encode_float,
        list: _encode_list,
        tuple: _encode_tuple,
        dict: _encode_dict,
        set: _encode_set,
        frozenset: _encode_frozenset,
        bytes: _encode_bytes,
        _dt.datetime: _encode_datetime,
        _dt.date: _encode_date,
        _dt.timedelta: _encode_timedelta,
    }
)


def _encode_other(obj: Any) -> Any:
    """The slow path: weir's classes before first use, subclasses of plain types, unknown objects."""
    _ensure_builtins()
    encode = _ENCODERS.get(type(obj))
    if encode is not None:
        return encode(obj)
    if isinstance(obj, enum.Enum):  # an enum nobody registered: its members cannot be rebuilt
        return _encode_unknown(obj)
    # Subclasses of plain types are stored as the plain type (e.g. EnvVar -> the variable's name).
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _encode_float(float(obj))
    if isinstance(obj, Mapping):
        return _encode_dict(obj)
    if isinstance(obj, tuple):  # incl. unregistered named tuples
        return _encode_tuple(obj)
    if isinstance(obj, list):
        return _encode_list(obj)
    if isinstance(obj, frozenset):
        return _encode_frozenset(obj)
    if isinstance(obj, set):
        return _encode_set(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _encode_bytes(bytes(obj))
    if isinstance(obj, _dt.datetime):
        return _encode_datetime(obj)
    if isinstance(obj, _dt.date):
        return _encode_date(obj)
    if isinstance(obj, _dt.timedelta):
        return _encode_timedelta(obj)
    return _encode_unknown(obj)


def _encode_unknown(obj: Any) -> dict[str, Any]:
    type_name = _qualname(type(obj))
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not fail the run
        text = f"<{type_name} object; its repr failed: {type(exc).__name__}>"
    if type_name not in _warned_types:
        _warned_types.add(type_name)
        logger.warning(
            "An object of type %s reached the instance's storage, which cannot store it: its "
            "repr is stored instead and reads back as a str. Convert the value to a str, "
            "number, list or dict before it goes into metadata or an event, or register the "
            "class with register_serializable(). (Warned once per type.)",
            type_name,
        )
    return {"__repr__": text[:_REPR_LIMIT], "__type__": type_name}


# json.dumps(..., separators=(",", ":")) with the encoder built once. The walk in _to_json has
# already recursed through the whole value (a cycle ends there in RecursionError) and returns a
# fresh tree, so the encoder's own cycle bookkeeping is skipped.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, check_circular=False)
_encode_json = _JSON_ENCODER.encode


def serialize(obj: Any) -> str:
    """``obj`` as compact JSON text, in the tagged format described in this module's docstring.

    Objects of unregistered classes never fail the write: their repr is stored (see the module
    docstring) and a warning is logged once per type. The same object always gives the same text.

    >>> serialize({"rows": 3, "keys": ("a", "b")})
    '{"rows":3,"keys":{"__tuple__":["a","b"]}}'
    """
    try:
        return _encode_json(_to_json(obj))
    except RecursionError as exc:
        msg = (
            f"Cannot serialize {type(obj).__name__} for the instance's storage: it contains a "
            "reference cycle or is nested too deeply. Break the cycle (e.g. in metadata or "
            "run config) before storing it."
        )
        raise StorageError(msg) from exc


# -- reading ------------------------------------------------------------------------------------------


def _decode_enum(label: str) -> enum.Enum:
    class_name, _, member = label.rpartition(".")
    cls = _ENUMS.get(class_name)
    if cls is None:
        _ensure_builtins()
        cls = _ENUMS.get(class_name)
        if cls is None:
            raise _unknown_name_error(f"enum {class_name!r} (value {label!r})")
    try:
        return cls[member]
    except KeyError:
        msg = (
            f"Cannot read a stored record: {class_name} has no member {member!r} (members: "
            f"{', '.join(cls.__members__)}). The record was written by a newer weir; upgrade weir "
            "to read it."
        )
        raise StorageError(msg) from None


def _decode_bytes(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _decode_timedelta(parts: list[int]) -> _dt.timedelta:
    days, seconds, microseconds = parts
    return _dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)


_TAG_DECODERS: dict[str, Callable[[Any], Any]] = {
    "__tuple__": tuple,
    "__set__": set,
    "__frozenset__": frozenset,
    "__enum__": _decode_enum,
    "__dict__": dict,
    "__float__": float,
    "__bytes__": _decode_bytes,
    "__datetime__": _dt.datetime.fromisoformat,
    "__date__": _dt.date.fromisoformat,
    "__timedelta__": _decode_timedelta,
}


def _unknown_name_error(what: str) -> StorageError:
    msg = (
        f"Cannot read a stored record: it holds an object of {what}, which this process does "
        "not know. The record was written by a newer weir or by a plugin that is not installed "
        "here: upgrade weir, or install the plugin that registers it."
    )
    return StorageError(msg)


def _decode_object(name: Any, fields: dict[str, Any]) -> Any:
    decode = _DECODERS.get(name)
    if decode is None:
        _ensure_builtins()
        decode = _DECODERS.get(name)
        if decode is None:
            raise _unknown_name_error(f"class {name!r}")
    try:
        return decode(fields)
    except StorageError:
        raise
    except Exception as exc:
        msg = (
            f"Cannot rebuild a stored {name} from its fields {sorted(fields)}: {exc}. The record "
            "is damaged or was written by an incompatible weir."
        )
        raise StorageError(msg) from exc


def _object_hook(data: dict[str, Any]) -> Any:
    name = data.pop("__class__", None)
    if name is not None:
        return _decode_object(name, data)
    size = len(data)
    if size == 1:
        ((tag, value),) = data.items()
        decode = _TAG_DECODERS.get(tag)
        if decode is not None:
            return decode(value)
    elif size == 2 and "__repr__" in data and "__type__" in data:
        return data["__repr__"]
    return data


_decode_json = json.JSONDecoder(object_hook=_object_hook).decode


def deserialize(text: str) -> Any:
    """The object :func:`serialize` wrote as ``text``, rebuilt equal in every field.

    Raises :class:`~weir.errors.StorageError` when the text is not JSON, names a class this
    process does not know (a newer weir or a missing plugin wrote it), or is damaged.

    >>> deserialize('{"__tuple__":[1,{"__float__":"inf"}]}')
    (1, inf)
    """
    try:
        return _decode_json(text)
    except StorageError:
        raise
    except json.JSONDecodeError as exc:
        snippet = text[:200] if isinstance(text, str) else repr(text)[:200]
        msg = f"Cannot read a stored record: it is not valid JSON ({exc}). The text starts with {snippet!r}."
        raise StorageError(msg) from exc
    except Exception as exc:
        msg = (
            f"Cannot read a stored record: a tagged value is malformed ({type(exc).__name__}: "
            f"{exc}). The record is damaged or was not written by weir."
        )
        raise StorageError(msg) from exc


# -- registration -------------------------------------------------------------------------------------


def register_serializable(cls: _T, name: str | None = None) -> _T:
    """Let :func:`serialize` store instances of ``cls`` and :func:`deserialize` rebuild them.

    ``name`` (default: the class name) is written as the object's ``"__class__"`` tag; keep it
    stable, because stored records refer to it. ``cls`` may be a ``__slots__`` class, a class
    with an instance ``__dict__``, a named tuple or an enum. Usable as a class decorator::

        @register_serializable
        class ExternalRunInfo:
            __slots__ = ("system", "url")

    Registering the same class under the same name again does nothing. Raises
    :class:`~weir.errors.PluginError` when the name is taken by another class (weir's own
    records included) or the class cannot be stored field by field.
    """
    _ensure_builtins()
    _register(cls, name)
    return cls


def _register(cls: type, name: str | None = None) -> None:
    if not isinstance(cls, type):
        msg = f"register_serializable needs a class, got {cls!r} (a {type(cls).__name__})."
        raise PluginError(msg)
    name = cls.__name__ if name is None else name
    if not isinstance(name, str) or not name or name.startswith("__"):
        msg = (
            f"register_serializable({cls.__name__}): the name must be a non-empty str not "
            f"starting with '__', got {name!r}."
        )
        raise PluginError(msg)
    with _registry_lock:
        taken = _CLASS_BY_NAME.get(name)
        if taken is cls:
            return
        if taken is not None:
            msg = (
                f"Cannot register {_qualname(cls)} for storage under the name {name!r}: "
                f"{_qualname(taken)} is registered under that name already. Pass another name: "
                f"register_serializable({cls.__name__}, name='<unique name>')."
            )
            raise PluginError(msg)
        previous = _NAME_BY_CLASS.get(cls)
        if previous is not None:
            msg = (
                f"{_qualname(cls)} is registered for storage as {previous!r} already; it cannot "
                f"also be registered as {name!r} (stored records name one class one way)."
            )
            raise PluginError(msg)
        encode, decode = _codec_for(cls, name)
        _CLASS_BY_NAME[name] = cls
        _NAME_BY_CLASS[cls] = name
        _ENCODERS[cls] = encode
        if decode is not None:
            _DECODERS[name] = decode


def _register_codec(cls: type, name: str, encode: _Encoder, decode: _Decoder) -> None:
    """Register a class with hand-written encode/decode functions (``AssetKey``)."""
    with _registry_lock:
        _CLASS_BY_NAME[name] = cls
        _NAME_BY_CLASS[cls] = name
        _ENCODERS[cls] = encode
        _DECODERS[name] = decode


_PLAIN_BASES = (str, int, float, bytes, list, dict, set, frozenset, tuple)


def _codec_for(cls: type, name: str) -> tuple[_Encoder, _Decoder | None]:
    if issubclass(cls, enum.Enum):
        return _enum_codec(cls, name), None
    if issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return _named_tuple_codec(cls, name)
    if issubclass(cls, _PLAIN_BASES):
        msg = (
            f"Cannot register {_qualname(cls)} for storage: it subclasses a built-in container or "
            "scalar type, which is stored as that type. Register a plain class (with __slots__ "
            "or __dict__), a named tuple or an enum."
        )
        raise PluginError(msg)
    return _object_codec(cls, name)


def _enum_codec(cls: type[enum.Enum], name: str) -> _Encoder:
    _ENUMS[name] = cls
    labels = {member: {"__enum__": f"{name}.{member.name}"} for member in cls}

    # The JSON data is only read (by the JSON encoder), so one dict per member is shared.
    return labels.__getitem__


def _named_tuple_codec(cls: type, name: str) -> tuple[_Encoder, _Decoder]:
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    items = ", ".join(f"{field!r}: _c(obj[{i}])" for i, field in enumerate(fields))
    encode = _compile_encoder(f"    return {{'__class__': _name, {items}}}", {}, name)

    def decode(data: dict[str, Any]) -> Any:
        return cls(**data)

    return encode, decode


def _slot_descriptors(cls: type) -> list[tuple[str, Any]]:
    """Every ``__slots__`` entry along the MRO (bases first) with its member descriptor."""
    found: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for slot in slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            attr = slot
            if slot.startswith("__") and not slot.endswith("__"):  # name-mangled private slot
                attr = f"_{klass.__name__.lstrip('_')}{slot}"
            descriptor = klass.__dict__.get(attr)
            if attr in seen or descriptor is None or not hasattr(descriptor, "__set__"):
                continue
            seen.add(attr)
            found.append((attr, descriptor))
    return found


def _compile_encoder(body: str, namespace: dict[str, Any], name: str) -> _Encoder:
    # Generated once per class, so writing an object costs attribute reads and one dict display,
    # with no reflection per call (dataclasses and attrs generate code the same way).
    source = f"def encode(obj):\n{body}\n"
    scope: dict[str, Any] = {"_c": _to_json, "_name": name, **namespace}
    exec(compile(source, f"<serdes encoder for {name}>", "exec"), scope)
    encoder: _Encoder = scope["encode"]
    return encoder


def _object_codec(cls: type, name: str) -> tuple[_Encoder, _Decoder]:
    import inspect  # registration only; not imported with the module (import weir stays light)

    slots = _slot_descriptors(cls)
    stored = [(attr, d) for attr, d in slots if not attr.startswith(_CACHE_PREFIX)]
    derived = [d.__set__ for attr, d in slots if attr.startswith(_CACHE_PREFIX)]
    has_dict = bool(getattr(cls, "__dictoffset__", 0))

    namespace: dict[str, Any] = {"_partial": None}
    reads = []
    for i, (attr, descriptor) in enumerate(stored):
        if inspect.getattr_static(cls, attr, None) is descriptor and not keyword.iskeyword(attr):
            reads.append(f"{attr!r}: _c(obj.{attr})")
        else:  # shadowed by a subclass attribute (or a keyword name): read the slot itself
            namespace[f"_get{i}"] = descriptor.__get__
            reads.append(f"{attr!r}: _c(_get{i}(obj))")
    lines = ["    try:", f"        out = {{'__class__': _name, {', '.join(reads)}}}"]
    lines.append("    except AttributeError:")  # an unset slot: store only the set ones
    lines.append("        return _partial(obj)")
    if has_dict:
        lines.append("    for key, value in obj.__dict__.items():")
        lines.append("        if not (key[:2] == '__' and key[-2:] == '__'):")
        lines.append("            out[key] = _c(value)")
    lines.append("    return out")

    def partial(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"__class__": name}
        for attr, descriptor in stored:
            try:
                value = descriptor.__get__(obj, cls)
            except AttributeError:
                continue
            out[attr] = _to_json(value)
        if has_dict:
            for key, value in obj.__dict__.items():
                if not (key[:2] == "__" and key[-2:] == "__"):
                    out[key] = _to_json(value)
        return out

    namespace["_partial"] = partial
    encode = _compile_encoder("\n".join(lines), namespace, name)

    setters = {attr: descriptor.__set__ for attr, descriptor in stored}
    n_stored = len(stored)
    new: Callable[..., Any] = cls.__new__
    defaults: dict[str, Any] | None = None

    def fill_missing(obj: Any, present: dict[str, Any]) -> None:
        nonlocal defaults
        if defaults is None:
            defaults = _init_defaults(cls)
        for attr, set_slot in setters.items():
            if attr not in present:
                set_slot(obj, defaults.get(attr))

    def decode(data: dict[str, Any]) -> Any:
        obj = new(cls)
        matched = 0
        for key, value in data.items():
            set_slot = setters.get(key)
            if set_slot is not None:
                set_slot(obj, value)
                matched += 1
            elif has_dict:
                obj.__dict__[key] = value
            # else: a field this version of the class does not have (a newer weir wrote it)
        if matched != n_stored:
            fill_missing(obj, data)
        for set_slot in derived:
            set_slot(obj, None)
        return obj

    return encode, decode


def _init_defaults(cls: type) -> dict[str, Any]:
    """The defaults of ``cls.__init__``'s parameters, for fields missing from old records."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}
    return {
        param.name: param.default
        for param in parameters.values()
        if param.default is not inspect.Parameter.empty
    }


# -- weir's own records (listed in _serdes_builtins) -----------------------------------------------


def _ensure_builtins() -> None:
    """Register weir's record classes, once, on first use (keeps this module import-light)."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _registry_lock:
        if _builtins_loaded:
            return
        # the list of weir's classes is imported here, on first use
        from weir._instance._serdes_builtins import register_builtins

        register_builtins(_register, _register_codec)
        _builtins_loaded = True
