"""Executor definitions: how the steps of a run are executed (in process, in worker processes ...).

Three executors are built in, registered through ``weir_register_executors`` like any plugin's:

* ``in_process_executor`` -- every step one after another in the launching process;
* ``multiprocess_executor`` -- a pool of warm worker processes (see :mod:`weir._execution.multiprocess`);
* ``multi_or_in_process_executor`` -- the default of ``Definitions`` jobs: multiprocess unless the
  run config selects ``in_process``.

Run config selects and configures them under ``execution``, as in Dagster::

    {"execution": {"config": {"max_concurrent": 4}}}                       # multiprocess_executor
    {"execution": {"config": {"multiprocess": {"max_concurrent": 4}}}}     # the default executor
    {"execution": {"config": {"in_process": {}}}}                          # the default executor

Config is validated before any step runs; every problem is reported at once with its path
(``root:execution:config:multiprocess:max_concurrent``). This module stays import-light: the
multiprocess machinery is imported only when a multiprocess executor is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir.errors import ConfigError

__all__ = [
    "ExecutorConfigSpec",
    "ExecutorDefinition",
    "InProcessExecutor",
    "execution_config_from_run_config",
    "in_process_executor",
    "multi_or_in_process_executor",
    "multiprocess_executor",
]


class ExecutorConfigSpec:
    """Validates (and fills defaults into) one executor's config; collects every problem."""

    def __init__(
        self, validate: Callable[[Any, str, list[str]], dict[str, Any]], description: str
    ) -> None:
        self._validate = validate
        self.description = description

    def validate(self, value: Any, path: str, errors: list[str]) -> dict[str, Any]:
        return self._validate(value, path, errors)

    def __repr__(self) -> str:
        return f"ExecutorConfigSpec({self.description})"


class ExecutorDefinition:
    """A named way of executing a run's steps, with optional config.

    ``name`` is the registry name (``in_process``, ``multiprocess`` ...). ``executor_creation_fn``
    builds the executor from its resolved config; executors that are built into the engine
    (the in-process one) leave it ``None``. ``config_schema`` may be an
    :class:`ExecutorConfigSpec`, which :meth:`create_executor` uses to validate run config.
    """

    def __init__(
        self,
        name: str,
        config_schema: Any = None,
        executor_creation_fn: Callable[[Mapping[str, Any]], Any] | None = None,
        description: str | None = None,
        default_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.config_schema = config_schema
        self.executor_creation_fn = executor_creation_fn
        self.description = description
        self.default_config = dict(default_config or {})

    @property
    def plugin_name(self) -> str:
        return self.name

    def configured(self, config: Mapping[str, Any], name: str | None = None) -> ExecutorDefinition:
        """A copy with ``config`` as its default config."""
        return ExecutorDefinition(
            name or self.name,
            self.config_schema,
            self.executor_creation_fn,
            self.description,
            {**self.default_config, **config},
        )

    def resolve_config(self, config: Any, path: str = "root:execution:config") -> dict[str, Any]:
        """``config`` (or the default config when it is empty) validated against ``config_schema``.

        Raises ``ConfigError`` listing every problem with its path.
        """
        if config is None or config == {}:
            config = dict(self.default_config)
        if not isinstance(self.config_schema, ExecutorConfigSpec):
            return dict(config) if isinstance(config, Mapping) else config
        errors: list[str] = []
        resolved = self.config_schema.validate(config, path, errors)
        if errors:
            from weir._config._evaluate import format_problems

            msg = format_problems(f"Error in config for executor {self.name!r}", errors)
            raise ConfigError(msg, errors, config_value=config)
        return resolved

    def create_executor(self, config: Any = None) -> Any:
        """The executor for one run, from the ``execution.config`` part of its run config."""
        resolved = self.resolve_config(config)
        if self.executor_creation_fn is None:
            return InProcessExecutor(retries=resolved.get("retries"))
        return self.executor_creation_fn(resolved)

    def __repr__(self) -> str:
        return f"ExecutorDefinition({self.name!r})"


class InProcessExecutor:
    """Runs every step one after another in the launching process."""

    name = "in_process"

    def __init__(self, retries: Any = None) -> None:
        self.retries = retries

    def __repr__(self) -> str:
        return "InProcessExecutor()"


def execution_config_from_run_config(
    run_config: Mapping[str, Any] | None, executor_name: str
) -> Any:
    """The executor config part of run config: ``execution.config`` (or the legacy
    ``execution.<executor name>.config``); ``{}`` when run config says nothing."""
    execution = (run_config or {}).get("execution")
    if execution is None:
        return {}
    if not isinstance(execution, Mapping):
        msg = f"Error in config: root:execution must be a mapping like {{'config': {{...}}}}, got {execution!r}."
        raise ConfigError(msg, [msg], config_value=execution)
    if "config" in execution:
        unexpected = sorted(set(execution) - {"config"})
        if unexpected:
            msg = f'Received unexpected config entry "{unexpected[0]}" at path root:execution. Expected only "config".'
            raise ConfigError(f"Error in config: {msg}", [msg], config_value=execution)
        return execution["config"] or {}
    if set(execution) == {executor_name} and isinstance(execution[executor_name], Mapping):
        return execution[executor_name].get("config") or {}
    if not execution:
        return {}
    msg = (
        f"root:execution must be {{'config': {{...}}}} (the config of executor {executor_name!r}); "
        f"got the keys {sorted(execution)}."
    )
    raise ConfigError(f"Error in config: {msg}", [msg], config_value=execution)


# -- config validation -------------------------------------------------------------------------------


def _expect_mapping(value: Any, path: str, errors: list[str]) -> Mapping[str, Any] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(
            f"Invalid value at path {path}: expected a mapping (dict), got {type(value).__name__} {value!r}."
        )
        return None
    return value


def _unexpected(
    value: Mapping[str, Any], allowed: tuple[str, ...], path: str, errors: list[str]
) -> None:
    for key in value:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            errors.append(
                f'Received unexpected config entry "{key}" at path {path}. Expected one of {list(allowed)}.{hint}'
            )


def _selector(
    value: Any, options: tuple[str, ...], path: str, errors: list[str]
) -> tuple[str, Mapping[str, Any]] | None:
    """A one-key mapping choosing one of ``options`` (Dagster's ``Selector``)."""
    mapping = _expect_mapping(value, path, errors)
    if mapping is None:
        return None
    if len(mapping) != 1:
        errors.append(
            f"Invalid value at path {path}: choose exactly one of {list(options)}, got {sorted(mapping) or 'nothing'}."
        )
        return None
    ((choice, inner),) = mapping.items()
    if choice not in options:
        _unexpected(mapping, options, path, errors)
        return None
    inner_mapping = _expect_mapping(inner, f"{path}:{choice}", errors)
    if inner_mapping is None:
        return None
    return str(choice), inner_mapping


def _validate_retries(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
    chosen = _selector(value, ("enabled", "disabled"), path, errors)
    if chosen is None:
        return {"enabled": {}}
    return {chosen[0]: dict(chosen[1])}


def _validate_in_process(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
    mapping = _expect_mapping(value, path, errors)
    if mapping is None:
        return {}
    _unexpected(mapping, ("retries", "marker_to_close", "step_dependency_config"), path, errors)
    result = dict(mapping)
    if "retries" in mapping:
        result["retries"] = _validate_retries(mapping["retries"], f"{path}:retries", errors)
    return result


def _validate_tag_limits(value: Any, path: str, errors: list[str]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        errors.append(
            f"Invalid value at path {path}: expected a list of {{key, value?, limit}}, got {type(value).__name__} {value!r}."
        )
        return []
    limits: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        mapping = _expect_mapping(item, item_path, errors)
        if mapping is None:
            continue
        _unexpected(mapping, ("key", "value", "limit"), item_path, errors)
        key, limit, tag_value = mapping.get("key"), mapping.get("limit"), mapping.get("value")
        if not isinstance(key, str):
            errors.append(f"Invalid value at path {item_path}:key: expected a string, got {key!r}.")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            errors.append(
                f"Invalid value at path {item_path}:limit: expected a positive integer (how many steps "
                f"with this tag may run at once), got {limit!r}."
            )
        per_value = isinstance(tag_value, Mapping) and bool(
            tag_value.get("applyLimitPerUniqueValue")
        )
        if tag_value is not None and not isinstance(tag_value, str) and not per_value:
            errors.append(
                f"Invalid value at path {item_path}:value: expected a string or "
                f"{{'applyLimitPerUniqueValue': True}}, got {tag_value!r}."
            )
        limits.append({"key": key, "value": tag_value, "limit": limit, "per_value": per_value})
    return limits


def _validate_multiprocess(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
    mapping = _expect_mapping(value, path, errors)
    if mapping is None:
        return {}
    _unexpected(
        mapping,
        (
            "max_concurrent",
            "start_method",
            "tag_concurrency_limits",
            "retries",
            "step_dependency_config",
        ),
        path,
        errors,
    )
    max_concurrent = mapping.get("max_concurrent")
    if max_concurrent is not None and (
        not isinstance(max_concurrent, int)
        or isinstance(max_concurrent, bool)
        or max_concurrent < 0
    ):
        errors.append(
            f"Invalid value at path {path}:max_concurrent: expected a non-negative integer or None "
            f"(0 or None: one worker per CPU), got {type(max_concurrent).__name__} {max_concurrent!r}."
        )
        max_concurrent = None
    start_method, preload = "spawn", None
    if mapping.get("start_method") is not None:
        chosen = _selector(
            mapping["start_method"], ("spawn", "forkserver"), f"{path}:start_method", errors
        )
        if chosen is not None:
            start_method, options = chosen
            option_path = f"{path}:start_method:{start_method}"
            _unexpected(
                options,
                ("preload_modules",) if start_method == "forkserver" else (),
                option_path,
                errors,
            )
            preload = options.get("preload_modules")
            if preload is not None and (
                not isinstance(preload, (list, tuple))
                or not all(isinstance(m, str) for m in preload)
            ):
                errors.append(
                    f"Invalid value at path {option_path}:preload_modules: expected a list of module names, got {preload!r}."
                )
                preload = None
    result: dict[str, Any] = {
        "max_concurrent": max_concurrent,
        "start_method": start_method,
        "preload_modules": list(preload) if preload is not None else None,
        "tag_concurrency_limits": _validate_tag_limits(
            mapping.get("tag_concurrency_limits"), f"{path}:tag_concurrency_limits", errors
        ),
        "retries": _validate_retries(mapping.get("retries"), f"{path}:retries", errors)
        if mapping.get("retries") is not None
        else {"enabled": {}},
    }
    return result


def _validate_multi_or_in_process(value: Any, path: str, errors: list[str]) -> dict[str, Any]:
    if value is None or value == {}:
        return {"multiprocess": _validate_multiprocess({}, f"{path}:multiprocess", errors)}
    chosen = _selector(value, ("multiprocess", "in_process"), path, errors)
    if chosen is None:
        return {}
    kind, inner = chosen
    if kind == "multiprocess":
        return {"multiprocess": _validate_multiprocess(inner, f"{path}:multiprocess", errors)}
    return {"in_process": _validate_in_process(inner, f"{path}:in_process", errors)}


# -- the built-in executors ----------------------------------------------------------------------------


def _create_multiprocess(config: Mapping[str, Any]) -> Any:
    from weir._execution.multiprocess import MultiprocessExecutor

    return MultiprocessExecutor.from_config(config)


def _create_multi_or_in_process(config: Mapping[str, Any]) -> Any:
    if "in_process" in config:
        return InProcessExecutor(retries=config["in_process"].get("retries"))
    return _create_multiprocess(config.get("multiprocess") or {})


in_process_executor = ExecutorDefinition(
    "in_process",
    config_schema=ExecutorConfigSpec(_validate_in_process, "{retries?, marker_to_close?}"),
    description="Runs every step one after another in the launching process.",
)

multiprocess_executor = ExecutorDefinition(
    "multiprocess",
    config_schema=ExecutorConfigSpec(
        _validate_multiprocess,
        "{max_concurrent?, start_method?: {spawn: {}} | {forkserver: {preload_modules?}}, "
        "tag_concurrency_limits?, retries?}",
    ),
    executor_creation_fn=_create_multiprocess,
    description=(
        "Runs steps in a pool of warm worker processes (up to max_concurrent at a time); each worker "
        "imports the code location and initialises resources once."
    ),
)

multi_or_in_process_executor = ExecutorDefinition(
    "multi_or_in_process",
    config_schema=ExecutorConfigSpec(
        _validate_multi_or_in_process, "{multiprocess: {...}} | {in_process: {...}}"
    ),
    executor_creation_fn=_create_multi_or_in_process,
    description=(
        "The default executor of Definitions jobs: multiprocess, unless run config selects in_process "
        "({'execution': {'config': {'in_process': {}}}})."
    ),
)
