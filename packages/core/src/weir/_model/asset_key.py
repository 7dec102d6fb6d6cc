"""Asset keys: the identity of an asset (a path of strings) and of an asset check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from weir.errors import DefinitionError

if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = ["AssetCheckKey", "AssetKey", "CoercibleToAssetKey", "CoercibleToAssetKeyPrefix"]

_VALID_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_]")


# Keys are interned: building a key that was built before returns the same object. Dicts and sets
# compare identical keys without calling ``AssetKey.__eq__`` (a Python function), so graphs of
# thousands of assets look keys up at C speed. Single-component keys are stored under their str,
# longer ones under their plain tuple of parts. The table is bounded: past the limit keys are still
# correct, only no longer shared.
_INTERNED: dict[Any, AssetKey] = {}
_INTERN_LIMIT = 1 << 17


class AssetKey(tuple):  # type: ignore[type-arg]
    """The key of an asset: a non-empty path of strings, e.g. ``AssetKey(["raw", "orders"])``.

    ``AssetKey("a/b")`` keeps ``"a/b"`` as one component; use :meth:`from_user_string`
    to split on ``/``. Keys are immutable, hashable and ordered by path. An ``AssetKey`` is a
    tuple of its path components (as Dagster's is a tuple), so hashing and comparison run at C
    speed: graphs of thousands of assets look keys up constantly. An ``AssetKey`` never equals a
    plain tuple.
    """

    __slots__ = ()

    def __new__(cls, path: str | Sequence[str]) -> AssetKey:
        if type(path) is str:
            interned = _INTERNED.get(path)
            if interned is not None and cls is AssetKey:
                return interned
            key = tuple.__new__(cls, (path,))
            if cls is AssetKey and len(_INTERNED) < _INTERN_LIMIT:
                _INTERNED[path] = key
            return key
        if isinstance(path, str):  # a str subclass: one component, kept as given
            return tuple.__new__(cls, (path,))
        parts = tuple(path)
        lookup: Any = parts[0] if len(parts) == 1 else parts
        try:
            interned = _INTERNED.get(lookup)
        except TypeError:  # an unhashable component: reported below
            interned = None
        if interned is not None and cls is AssetKey:
            return interned
        if not parts:
            raise DefinitionError("An AssetKey needs at least one path component.")
        exact = True
        for part in parts:
            if type(part) is not str:
                if not isinstance(part, str):
                    msg = (
                        f"AssetKey path components must be strings, got {part!r} in {list(path)!r}."
                    )
                    raise DefinitionError(msg)
                exact = False
        key = tuple.__new__(cls, parts)
        if exact and cls is AssetKey and len(_INTERNED) < _INTERN_LIMIT:
            _INTERNED[lookup] = key
        return key

    def __getnewargs__(self) -> tuple[Any, ...]:  # pickle: AssetKey(parts)
        return (tuple(self),)

    @property
    def parts(self) -> tuple[str, ...]:
        """The path as a plain tuple."""
        return tuple(self)

    @property
    def path(self) -> list[str]:
        """The path as a list (a fresh copy)."""
        return list(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    # ordering: tuple's own (component by component)

    def __repr__(self) -> str:
        return f"AssetKey({list(self)!r})"

    def __str__(self) -> str:
        return f"AssetKey({list(self)!r})"

    def to_user_string(self) -> str:
        """``"a/b"``: the form used in selections, the CLI and messages."""
        return "/".join(self.parts)

    def to_string(self) -> str:
        """The JSON form, ``'["a", "b"]'``, used as the storage representation."""
        return json.dumps(list(self.parts))

    def to_python_identifier(self, suffix: str | None = None) -> str:
        """``a__b``: the op and step name of an asset. Characters outside ``[A-Za-z0-9_]`` become ``_``."""
        if len(self) == 1:
            part = self[0]
            ident = part if _VALID_NAME.match(part) else _INVALID_CHARS.sub("_", part)
        else:
            ident = "__".join(
                part if _VALID_NAME.match(part) else _INVALID_CHARS.sub("_", part) for part in self
            )
        return f"{ident}_{suffix}" if suffix else ident

    def to_escaped_user_string(self) -> str:
        return "/".join(p.replace("/", "\\/") for p in self.parts)

    @staticmethod
    def from_user_string(value: str) -> AssetKey:
        """Split ``"a/b"`` into ``AssetKey(["a", "b"])``."""
        return AssetKey(value.split("/"))

    @staticmethod
    def from_db_string(value: str | None) -> AssetKey | None:
        if not value:
            return None
        if value.startswith("["):
            return AssetKey(json.loads(value))
        return AssetKey(value.split("."))

    @staticmethod
    def from_coercible(arg: CoercibleToAssetKey) -> AssetKey:
        """Accept an ``AssetKey``, a str (one component, not split) or a sequence of str."""
        if isinstance(arg, AssetKey):
            return arg
        if isinstance(arg, str):
            return AssetKey([arg])
        if isinstance(arg, (list, tuple)):
            return AssetKey(arg)
        msg = f"Cannot make an AssetKey from {arg!r} (a {type(arg).__name__}); pass a str, a list of str or an AssetKey."
        raise DefinitionError(msg)

    @staticmethod
    def from_coercible_or_definition(arg: Any) -> AssetKey:
        key = getattr(arg, "key", None)
        if isinstance(key, AssetKey):
            return key
        return AssetKey.from_coercible(arg)

    def with_prefix(self, prefix: CoercibleToAssetKeyPrefix) -> AssetKey:
        """A new key with ``prefix`` (a str or a list of str) in front."""
        return AssetKey([*coerce_key_prefix(prefix), *self.parts])

    def has_prefix(self, prefix: Sequence[str]) -> bool:
        prefix = tuple(prefix)
        return len(prefix) <= len(self.parts) and self.parts[: len(prefix)] == prefix

    @property
    def parent(self) -> AssetKey:
        return AssetKey(self.parts[:-1])

    def with_name(self, name: str) -> AssetKey:
        return AssetKey([*self.parts[:-1], name])


def coerce_key_prefix(prefix: CoercibleToAssetKeyPrefix | None) -> list[str]:
    if prefix is None:
        return []
    if isinstance(prefix, str):
        return [prefix]
    return list(prefix)


def is_valid_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name))


def check_valid_name(name: str, what: str = "name") -> str:
    """Raise a clear error unless ``name`` is a valid op/asset name component."""
    if not _VALID_NAME.match(name):
        msg = (
            f"{what} {name!r} is not a valid name: names may contain only letters, digits and "
            f"underscores ([A-Za-z0-9_]). For a multi-part key pass a list, e.g. "
            f"{name.split('/')!r}, or use AssetKey.from_user_string({name!r})."
        )
        raise DefinitionError(msg)
    return name


class AssetCheckKey(NamedTuple):
    """The key of an asset check: the asset it checks and its name."""

    asset_key: AssetKey
    name: str

    def to_user_string(self) -> str:
        return f"{self.asset_key.to_user_string()}:{self.name}"

    @staticmethod
    def from_user_string(value: str) -> AssetCheckKey:
        key, _, name = value.rpartition(":")
        return AssetCheckKey(AssetKey.from_user_string(key), name)

    def __repr__(self) -> str:
        return f"AssetCheckKey(asset_key={self.asset_key!r}, name={self.name!r})"


def keys_from(values: Iterable[Any]) -> list[AssetKey]:
    return [AssetKey.from_coercible_or_definition(v) for v in values]


CoercibleToAssetKey: TypeAlias = Union[AssetKey, str, Sequence[str]]
CoercibleToAssetKeyPrefix: TypeAlias = Union[str, Sequence[str]]
