"""Run config from the command line: ``-c/--config FILE.yaml`` (repeatable) or ``--config-json``.

Several YAML files are merged in order, mappings deeply (a later file wins on a conflicting
leaf), as Dagster merges them. A file that is not valid YAML, or whose top level is not a
mapping, is refused with its name and line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from weir.errors import ConfigError

__all__ = ["RunConfigInputError", "parse_tags", "run_config_from_options"]


class RunConfigInputError(ConfigError):
    """A config file or JSON string given on the command line cannot be read."""


def run_config_from_options(
    config_files: Sequence[str], config_json: str | None
) -> dict[str, Any] | None:
    """The run config the options give, or ``None`` when neither is used.

    Raises:
        RunConfigInputError: Both kinds of option are given, a file is not valid YAML (the
            message names the file, line and column), or the top level is not a mapping.
    """
    if config_files and config_json is not None:
        msg = "Pass run config with -c/--config files or with --config-json, not both."
        raise RunConfigInputError(msg)
    if config_json is not None:
        return _from_json(config_json)
    if not config_files:
        return None
    merged: dict[str, Any] = {}
    for path in config_files:
        merged = _deep_merge(merged, _from_yaml_file(path))
    return merged


def parse_tags(tags_json: str | None) -> dict[str, str]:
    """``--tags '{"team": "data"}'`` as a dict of strings.

    Raises:
        RunConfigInputError: The value is not a JSON object of strings.
    """
    if tags_json is None:
        return {}
    try:
        value = json.loads(tags_json)
    except json.JSONDecodeError as exc:
        msg = f'--tags is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. Example: --tags \'{{"team": "data"}}\'.'
        raise RunConfigInputError(msg) from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        msg = f"--tags must be a JSON object of tag names to values, got {type(value).__name__}."
        raise RunConfigInputError(msg)
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _from_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = (
            f"--config-json is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        )
        raise RunConfigInputError(msg) from exc
    if not isinstance(value, dict):
        msg = f'--config-json must be a JSON object (run config such as {{"ops": {{...}}}}), got {type(value).__name__}.'
        raise RunConfigInputError(msg)
    return value


def _from_yaml_file(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        msg = f"Cannot read the config file {path!r}: {exc.strerror}."
        raise RunConfigInputError(msg) from exc
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else str(problem)
        msg = f"The config file {where} is not valid YAML: {detail}. Fix the file and run again."
        raise RunConfigInputError(msg) from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        msg = (
            f"The config file {path} must hold a mapping at the top level (e.g. `ops:` or "
            f"`resources:`), got a {type(value).__name__}."
        )
        raise RunConfigInputError(msg)
    return value


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged
