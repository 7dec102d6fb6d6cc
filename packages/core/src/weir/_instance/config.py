"""``weir.yaml``: how an instance home chooses its storage.

A home folder (``$WEIR_HOME``, default ``./.weir``) may hold ``weir.yaml`` (a ported project's
``dagster.yaml`` is read when there is no ``weir.yaml``)::

    storage:
      sqlite:
        base_dir: history            # relative to the home; the database is <base_dir>/weir.db
      # or
      postgres:
        postgres_url: {env: WEIR_PG_URL}
        # or postgres_db: {username, password: {env: PGPASSWORD}, hostname, db_name, port: 5432, params: {}}
      # or
      url: sqlite:////var/lib/weir/weir.db     # any URL an installed storage plugin handles
    local_artifact_storage:
      base_dir: /data/weir-storage   # where the filesystem IO manager writes (default <home>/storage)

Every scalar may be ``{env: VAR}``. Without a file, the storage is SQLite at ``<home>/weir.db``.
Dagster's other top-level keys (``run_coordinator``, ``telemetry`` ...) are accepted and kept in
``InstanceSettings.other`` for the layers that use them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from weir.errors import ConfigError

__all__ = ["CONFIG_FILE_NAMES", "InstanceSettings", "load_instance_settings"]

CONFIG_FILE_NAMES = ("weir.yaml", "dagster.yaml")
DEFAULT_DATABASE = "weir.db"

_KNOWN_KEYS = frozenset(
    {
        "storage",
        "local_artifact_storage",
        # accepted for dagster.yaml compatibility; used by later layers or ignored
        "auto_materialize",
        "backfills",
        "code_servers",
        "compute_logs",
        "concurrency",
        "defs_state_storage",
        "freshness",
        "instance_class",
        "nux",
        "python_logs",
        "retention",
        "run_coordinator",
        "run_launcher",
        "run_monitoring",
        "run_queue",
        "run_retries",
        "scheduler",
        "schedules",
        "secrets",
        "sensors",
        "telemetry",
    }
)
_LEGACY_STORAGE_KEYS = ("run_storage", "event_log_storage", "schedule_storage")


@dataclass(frozen=True)
class InstanceSettings:
    """What an instance home's configuration says."""

    home: str
    storage_url: str
    artifact_dir: str
    config_path: str | None = None
    other: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # the URL may hold a password
        return f"InstanceSettings(home={self.home!r}, config_path={self.config_path!r})"


class _Doc:
    """A parsed YAML document with the line of every path, for error messages."""

    def __init__(self, path: str, data: Any, lines: dict[tuple[str, ...], int]) -> None:
        self.path = path
        self.data = data
        self.lines = lines

    def where(self, keys: tuple[str, ...]) -> str:
        while keys and keys not in self.lines:
            keys = keys[:-1]
        line = self.lines.get(keys)
        return f"{self.path}:{line}" if line else self.path

    def fail(self, keys: tuple[str, ...], problem: str) -> ConfigError:
        dotted = ".".join(keys) or "<root>"
        return ConfigError(f"{self.where(keys)}: {dotted}: {problem}")


def _parse(path: str) -> _Doc:
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{where}: the instance configuration is not valid YAML: {problem}."
        raise ConfigError(msg) from None
    lines: dict[tuple[str, ...], int] = {}
    scalars = yaml.SafeLoader("")

    def convert(node: Any, keys: tuple[str, ...]) -> Any:
        lines.setdefault(keys, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                path = (*keys, key)
                lines[path] = key_node.start_mark.line + 1
                out[key] = convert(value_node, path)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, (*keys, str(i))) for i, item in enumerate(node.value)]
        return scalars.construct_object(node, deep=True)  # type: ignore[no-untyped-call]

    data = convert(root, ()) if root is not None else {}
    return _Doc(path, data, lines)


def _scalar(doc: _Doc, keys: tuple[str, ...], value: Any) -> Any:
    """A scalar, resolving ``{env: VAR}``."""
    if isinstance(value, Mapping):
        if set(value) != {"env"}:
            raise doc.fail(keys, "expected a value or {env: VAR_NAME}.")
        var = value["env"]
        resolved = os.environ.get(str(var))
        if resolved is None:
            raise doc.fail(
                keys,
                f"the environment variable {var!r} is not set. Set it, or write the value in the file.",
            )
        return resolved
    return value


def _mapping(doc: _Doc, keys: tuple[str, ...], value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise doc.fail(keys, f"expected a mapping, got {type(value).__name__} {value!r}.")
    return value


def _check_keys(
    doc: _Doc, keys: tuple[str, ...], value: Mapping[str, Any], allowed: set[str]
) -> None:
    import difflib

    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise doc.fail(
                (*keys, key), f"unknown key.{hint} Allowed here: {', '.join(sorted(allowed))}."
            )


def _postgres_url(doc: _Doc, keys: tuple[str, ...], cfg: Mapping[str, Any]) -> str:
    _check_keys(doc, keys, cfg, {"postgres_url", "postgres_db", "should_autocreate_tables"})
    if ("postgres_url" in cfg) == ("postgres_db" in cfg):
        raise doc.fail(keys, "give exactly one of postgres_url and postgres_db.")
    if "postgres_url" in cfg:
        return str(_scalar(doc, (*keys, "postgres_url"), cfg["postgres_url"]))
    db_keys = (*keys, "postgres_db")
    db = _mapping(doc, db_keys, cfg["postgres_db"])
    _check_keys(
        doc,
        db_keys,
        db,
        {"username", "password", "hostname", "db_name", "port", "params", "scheme"},
    )
    for required in ("username", "hostname", "db_name"):
        if required not in db:
            raise doc.fail(db_keys, f"missing {required!r}.")

    def get(name: str, default: Any = None) -> Any:
        return _scalar(doc, (*db_keys, name), db.get(name, default))

    user, password = quote(str(get("username")), safe=""), get("password", "")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    params = _mapping(doc, (*db_keys, "params"), db.get("params"))
    query = (
        f"?{urlencode({k: _scalar(doc, (*db_keys, 'params', k), v) for k, v in params.items()})}"
        if params
        else ""
    )
    scheme = get("scheme", "postgresql")
    return f"{scheme}://{auth}@{get('hostname')}:{get('port', 5432)}/{quote(str(get('db_name')), safe='')}{query}"


def _storage_url(doc: _Doc, home: str, value: Any) -> str:
    keys = ("storage",)
    storage = _mapping(doc, keys, value)
    _check_keys(doc, keys, storage, {"sqlite", "postgres", "url", "mysql", "custom"})
    if len(storage) != 1:
        raise doc.fail(keys, "choose exactly one of sqlite, postgres or url.")
    ((kind, cfg),) = storage.items()
    if kind == "sqlite":
        sub = _mapping(doc, (*keys, kind), cfg)
        _check_keys(doc, (*keys, kind), sub, {"base_dir"})
        base = _scalar(doc, (*keys, kind, "base_dir"), sub.get("base_dir", "."))
        base_dir = Path(home, str(base)) if not os.path.isabs(str(base)) else Path(str(base))
        return f"sqlite:///{(base_dir / DEFAULT_DATABASE).resolve()}"
    if kind == "postgres":
        return _postgres_url(doc, (*keys, kind), _mapping(doc, (*keys, kind), cfg))
    if kind == "url":
        return str(_scalar(doc, (*keys, kind), cfg))
    raise doc.fail(
        (*keys, kind),
        f"weir has no {kind!r} storage. Use sqlite, postgres (pip install weir-resource-postgres), "
        "or url: with a URL an installed storage plugin handles.",
    )


def load_instance_settings(home: str | os.PathLike[str]) -> InstanceSettings:
    """Read ``<home>/weir.yaml`` (else ``dagster.yaml``); defaults when there is neither."""
    home = str(Path(home).resolve())
    default_url = f"sqlite:///{Path(home, DEFAULT_DATABASE)}"
    default_artifacts = str(Path(home, "storage"))
    for name in CONFIG_FILE_NAMES:
        path = os.path.join(home, name)
        if os.path.isfile(path):
            break
    else:
        return InstanceSettings(home, default_url, default_artifacts)
    doc = _parse(path)
    data = _mapping(doc, (), doc.data)
    for legacy in _LEGACY_STORAGE_KEYS:
        if legacy in data:
            raise doc.fail(
                (legacy,),
                "weir keeps runs, events and schedules in one storage. Replace run_storage, "
                "event_log_storage and schedule_storage with one `storage:` section "
                "(sqlite: {base_dir: ...} or postgres: {postgres_url: ...}).",
            )
    _check_keys(doc, (), data, set(_KNOWN_KEYS))
    url = _storage_url(doc, home, data["storage"]) if "storage" in data else default_url
    artifacts = default_artifacts
    if "local_artifact_storage" in data:
        keys = ("local_artifact_storage",)
        las = _mapping(doc, keys, data["local_artifact_storage"])
        if "config" in las and "module" in las:  # Dagster's pluggable-class form
            las = _mapping(doc, (*keys, "config"), las["config"])
        if "base_dir" not in las:
            raise doc.fail(keys, "missing 'base_dir'.")
        base = str(_scalar(doc, (*keys, "base_dir"), las["base_dir"]))
        artifacts = str(Path(home, base)) if not os.path.isabs(base) else base
    other = {k: v for k, v in data.items() if k not in ("storage", "local_artifact_storage")}
    return InstanceSettings(home, url, artifacts, path, other)
