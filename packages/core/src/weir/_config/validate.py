"""Checking a whole run config before anything runs: ops, resources, top-level sections.

* :func:`resolve_op_config` — the config one step receives: a typed ``Config`` instance for a
  ``config: MyConfig`` parameter, the processed dict for ``config_schema=``, the raw value
  otherwise. Called by the planner for every step.
* :func:`validate_resource_config` — the problems of ``run_config["resources"]`` against the
  resources a run uses, without initialising them or reading environment variables.
* :func:`validate_run_config` — Dagster's public function: validate a run config for a job and
  return it processed (defaults filled in), or raise one ``ConfigError`` listing every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir._config._evaluate import Evaluation, evaluate, evaluate_field, format_problems
from weir._config.config_mapping import merge_run_config, run_config_to_dict
from weir.errors import ConfigError

__all__ = [
    "check_op_config",
    "resolve_op_config",
    "validate_resource_config",
    "validate_run_config",
]

_TOP_LEVEL = ("ops", "resources", "execution", "loggers")


def _config_cls_of(op_def: Any) -> Any:
    info = getattr(op_def, "fn_info", None)
    return getattr(info, "config_cls", None) if info is not None else None


def _as_plain(raw: Any) -> Any:
    """A ``Config`` instance given for an op with a classic schema, as a dict."""
    if hasattr(raw, "model_fields") and not isinstance(raw, type):
        from weir._config.config import config_to_dict

        return config_to_dict(raw, env_as="object")
    return raw


def resolve_op_config(op_def: Any, raw: Any, *, path: str) -> Any:
    """The config value the step of ``op_def`` receives, from its run-config entry ``raw``.

    ``raw`` is what sits under ``ops.<name>.config`` (a dict, a ``Config`` instance, a scalar
    or ``None``); ``path`` is that place (``root:ops:<name>:config``). Environment references
    are read now. Raises ``ConfigError`` listing every problem.
    """
    config_cls = _config_cls_of(op_def)
    if config_cls is not None:
        from weir._config.config import resolve_config_param

        return resolve_config_param(config_cls, raw, path=path)
    schema = getattr(op_def, "config_schema", None)
    if schema is None:
        return raw
    from weir._config._evaluate import process_config

    name = getattr(op_def, "name", "?")
    return process_config(
        schema, _as_plain(raw), path, header=f"Error in config for op {name} at path {path}"
    )


def check_op_config(op_def: Any, raw: Any, *, path: str) -> tuple[Any, list[str]]:
    """``(processed config, problems)`` for ``op_def`` without reading environment variables."""
    ev = Evaluation("keep")
    config_cls = _config_cls_of(op_def)
    if config_cls is not None:
        from weir._config._pydantic_schema import schema_for_model

        if isinstance(raw, config_cls) or raw is None:
            raw = _as_plain(raw) if raw is not None else {}
        value = evaluate(schema_for_model(config_cls), raw, path, (), ev)
        return value, ev.problems
    schema = getattr(op_def, "config_schema", None)
    if schema is None:
        return raw, []
    return evaluate_field(schema, _as_plain(raw), path, ev), ev.problems


def validate_resource_config(
    resource_defs: Mapping[str, Any],
    resources_config: Any,
    *,
    required_keys: Iterable[str] | None = None,
) -> list[str]:
    """Every problem of the ``resources`` section of a run config, each with its path.

    Checks that each configured key is a resource, that entries look like ``{"config": ...}``,
    and that the config fits each resource's schema (with values given in code merged in).
    ``required_keys`` limits the schema checks to the resources a run uses (plus any key that
    has run config); ``None`` checks all. Environment variables are not read.
    """
    return _resource_config(resource_defs, resources_config, required_keys)[1]


def _resource_config(
    resource_defs: Mapping[str, Any], resources_config: Any, required_keys: Iterable[str] | None
) -> tuple[dict[str, Any], list[str]]:
    from weir._config.resources import ResourceDefinition, is_configurable_resource

    problems: list[str] = []
    processed: dict[str, Any] = {}
    if resources_config is None:
        resources_config = {}
    if not isinstance(resources_config, Mapping):
        problems.append(
            'Value at path root:resources must be dict. Expected: "{ <resource key>: { config: ... } }".'
        )
        return processed, problems
    for key in resources_config:
        if key not in resource_defs:
            problems.append(
                f'Received unexpected config entry "{key}" at path root:resources. Expected one of '
                f"the run's resource keys: {sorted(resource_defs)}."
            )
    keys = set(resource_defs) if required_keys is None else set(required_keys)
    keys |= set(resources_config) & set(resource_defs)
    for key in sorted(keys):
        obj = resource_defs.get(key)
        if obj is None:
            continue
        entry = resources_config.get(key)
        config: Any = None
        if entry is not None:
            if hasattr(entry, "model_fields"):
                entry = {"config": _as_plain(entry)}
            if not isinstance(entry, Mapping):
                problems.append(
                    f'Value at path root:resources:{key} must be dict. Expected: "{{ config: ... }}".'
                )
                continue
            for extra in entry:
                if extra != "config":
                    problems.append(
                        f'Received unexpected config entry "{extra}" at path root:resources:{key}. '
                        'Expected: "{ config?: ... }".'
                    )
            config = entry.get("config")
        path = f"root:resources:{key}:config"
        if isinstance(obj, ResourceDefinition):
            found = obj._config_problems(config, key)
            if not found and obj.config_schema is not None:
                ev = Evaluation("keep")
                processed[key] = {"config": evaluate_field(obj.config_schema, config, path, ev)}
            problems.extend(found)
        elif is_configurable_resource(obj):
            from weir._config._configurable import check_configurable_config

            if config is not None and not isinstance(config, Mapping):
                problems.append(
                    f'Value at path {path} must be dict. Expected: "{{ <field>: <value>, ... }}".'
                )
                continue
            problems.extend(check_configurable_config(obj, config, path))
        elif config is not None:
            problems.append(
                f'Received unexpected config entry "config" at path root:resources:{key}. Resource '
                f"{key!r} ({type(obj).__name__}) takes no config."
            )
    return processed, problems


# -- validate_run_config -------------------------------------------------------------------------


def _config_nodes(job_def: Any) -> list[tuple[str, Any]]:
    """``(handle, op definition)`` of every step of ``job_def`` that can take config."""
    graph_def = getattr(job_def, "graph_def", None)
    if graph_def is not None:
        from weir._execution.op_graph import flatten_graph

        nodes, _outputs = flatten_graph(graph_def)
        return [(node.handle, node.op_def) for node in nodes]
    resolved = getattr(job_def, "asset_layer", None)
    if resolved is None:
        msg = f"validate_run_config() needs a job definition, got {type(job_def).__name__}."
        raise ConfigError(msg, [msg])
    by_name: dict[str, Any] = {}
    for key in sorted(job_def.asset_selection, key=lambda k: k.to_user_string()):
        ad = resolved.assets_def_by_key.get(key)
        if ad is not None and getattr(ad, "is_executable", True) and ad.has_node:
            by_name.setdefault(ad.node_def.name, ad.node_def)
    for check_key in getattr(job_def, "_check_keys", ()):
        cd = resolved.check_def_by_key.get(check_key)
        node = getattr(cd, "node_def", None)
        if node is not None:
            by_name.setdefault(node.name, node)
    return list(by_name.items())


def _op_entry(ops: Mapping[str, Any], handle: str) -> Any:
    if handle in ops:
        return ops[handle]
    entry: Any = ops
    for i, part in enumerate(handle.split(".")):
        if i:
            entry = entry.get("ops") if isinstance(entry, Mapping) else None
        entry = entry.get(part) if isinstance(entry, Mapping) else None
        if entry is None:
            return None
    return entry


def _set_op_entry(ops: dict[str, Any], handle: str, entry: dict[str, Any]) -> None:
    """Put ``entry`` at ``handle`` (``graph.op`` nests as ``{"graph": {"ops": {"op": entry}}}``)."""
    parts = handle.split(".")
    node = ops
    for part in parts[:-1]:
        node = node.setdefault(part, {}).setdefault("ops", {})
    node[parts[-1]] = entry


def _required_resource_keys(
    nodes: list[tuple[str, Any]], resource_defs: Mapping[str, Any]
) -> set[str]:
    keys = {"io_manager"}
    for _handle, op_def in nodes:
        keys |= set(getattr(op_def, "required_resource_keys", ()))
        for out in getattr(op_def, "outs", {}).values():
            keys.add(getattr(out, "io_manager_key", None) or "io_manager")
        for inp in getattr(op_def, "ins", {}).values():
            if getattr(inp, "input_manager_key", None):
                keys.add(inp.input_manager_key)
    pending = list(keys)
    while pending:  # resources that legacy resources depend on
        obj = resource_defs.get(pending.pop())
        for dep in getattr(obj, "required_resource_keys", ()) or ():
            if dep not in keys:
                keys.add(dep)
                pending.append(dep)
    return keys


def _resource_defs_of(job_def: Any) -> dict[str, Any]:
    for name in ("_resources_for", "_all_resources"):  # op jobs, asset jobs
        method = getattr(job_def, name, None)
        if callable(method):
            try:
                return dict(method(None))
            except (TypeError, AttributeError):
                continue
    return dict(getattr(job_def, "resource_defs", {}) or {})


def validate_run_config(job_def: Any = None, run_config: Any = None) -> dict[str, Any]:
    """Validate ``run_config`` for ``job_def`` and return it processed, or raise ``ConfigError``.

    The job's default config (``config={...}``) is merged under the given config and a job-level
    :class:`~weir.ConfigMapping` is applied first, as at launch. Every problem (ops, resources,
    unknown sections) is listed at once, with its path. Environment references are checked but
    not read, so the result never holds secrets: they stay ``{"env": "VAR"}``.
    """
    if job_def is None:
        msg = "validate_run_config() needs the job whose run config to check: validate_run_config(my_job, {...})."
        raise ConfigError(msg, [msg])
    name = getattr(job_def, "name", "?")
    config = run_config_to_dict(run_config)
    mapping = getattr(job_def, "_config_mapping", None)
    if mapping is not None:
        config = mapping.resolve_from_unvalidated_config(config)
    else:
        config = merge_run_config(getattr(job_def, "run_config", None) or {}, config)
    problems: list[str] = []
    for key in config:
        if key not in _TOP_LEVEL:
            problems.append(
                f'Received unexpected config entry "{key}" at path root. Expected: '
                '"{ execution?: ... loggers?: ... ops?: ... resources?: ... }".'
            )
    ops = config.get("ops") or {}
    processed_ops: dict[str, Any] = {}
    nodes = _config_nodes(job_def)
    if not isinstance(ops, Mapping):
        problems.append(
            'Value at path root:ops must be dict. Expected: "{ <op name>: { config: ... } }".'
        )
        ops = {}
    top_names = {handle.split(".")[0] for handle, _ in nodes}
    for op_name in ops:
        if op_name not in top_names and op_name not in {h for h, _ in nodes}:
            problems.append(
                f'Received unexpected config entry "{op_name}" at path root:ops. Expected one of '
                f"{sorted(top_names)}."
            )
    for handle, op_def in nodes:
        entry = _op_entry(ops, handle)
        raw = entry.get("config") if isinstance(entry, Mapping) else entry
        path = "root:ops:" + ":ops:".join(handle.split(".")) + ":config"
        value, found = check_op_config(op_def, raw, path=path)
        problems.extend(found)
        if value is not None:
            _set_op_entry(processed_ops, handle, {"config": value})
    resource_defs = _resource_defs_of(job_def)
    processed_resources, found = _resource_config(
        resource_defs, config.get("resources"), _required_resource_keys(nodes, resource_defs)
    )
    problems.extend(found)
    if problems:
        raise ConfigError(format_problems(f"Error in config for job {name}", problems), problems)
    return {
        "ops": processed_ops,
        "resources": {**_passthrough(config.get("resources")), **processed_resources},
        "execution": dict(config.get("execution") or {}),
        "loggers": dict(config.get("loggers") or {}),
    }


def _passthrough(resources: Any) -> dict[str, Any]:
    if not isinstance(resources, Mapping):
        return {}
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in resources.items()}
