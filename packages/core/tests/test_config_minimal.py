"""Config, PermissiveConfig, RunConfig and run-config validation with Dagster-style error paths."""

from __future__ import annotations

import enum
import subprocess
import sys
from typing import Optional

import pydantic
import pytest

import weir as dg
from weir._config.config import resolve_config_param


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(dg.Config):
    n: int


class FanConfig(dg.Config):
    name: str
    n: int = 3
    ratio: float = 1.0
    tags: list[str] = []
    color: Color = Color.RED
    inner: Optional[Inner] = None


def test_config_is_frozen_and_rejects_unknown_fields() -> None:
    cfg = FanConfig(name="x")
    assert (cfg.name, cfg.n, cfg.tags) == ("x", 3, [])
    with pytest.raises(pydantic.ValidationError):
        cfg.n = 4  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="extra"):
        FanConfig(name="x", nope=1)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        FanConfig(name="x", n="abc")  # type: ignore[arg-type]


def test_permissive_config_keeps_extra_keys() -> None:
    class Loose(dg.PermissiveConfig):
        known: bool

    cfg = Loose(known=True, extra="bar")  # type: ignore[call-arg]
    assert cfg.model_dump() == {"known": True, "extra": "bar"}
    resolved = resolve_config_param(Loose, {"known": False, "more": 1}, path="root:ops:a:config")
    assert resolved.model_dump() == {"known": False, "more": 1}


def test_run_config_to_config_dict_has_dagsters_shape() -> None:
    rc = dg.RunConfig(
        ops={"a": FanConfig(name="x", inner=Inner(n=2)), "b": {"config": {"k": 1}}},
        resources={"db": {"config": {"url": "u"}}},
    )
    assert rc.to_config_dict() == {
        "loggers": {},
        "resources": {"db": {"config": {"url": "u"}}},
        "ops": {
            "a": {
                "config": {
                    "name": "x",
                    "n": 3,
                    "ratio": 1.0,
                    "tags": [],
                    "color": "RED",
                    "inner": {"n": 2},
                }
            },
            "b": {"config": {"k": 1}},
        },
        "execution": {},
    }
    assert dg.RunConfig().to_config_dict() == {
        "loggers": {},
        "resources": {},
        "ops": {},
        "execution": {},
    }


def test_resolve_accepts_dicts_instances_and_none() -> None:
    cfg = resolve_config_param(FanConfig, {"name": "x", "n": 5}, path="root:ops:fan:config")
    assert isinstance(cfg, FanConfig) and cfg.n == 5
    same = FanConfig(name="y")
    assert resolve_config_param(FanConfig, same, path="root:ops:fan:config") is same

    class AllDefaults(dg.Config):
        n: int = 1

    assert resolve_config_param(AllDefaults, None, path="root:ops:a:config").n == 1


def test_values_follow_dagsters_types_not_pydantic_coercion() -> None:
    cfg = resolve_config_param(
        FanConfig,
        {"name": "x", "ratio": 2, "color": "BLUE", "inner": {"n": 4}},
        path="root:ops:fan:config",
    )
    assert cfg.ratio == 2.0  # an Int is a valid Float
    assert cfg.color is Color.BLUE  # enums by member name, as Dagster's config system does
    assert cfg.inner == Inner(n=4)
    assert (
        resolve_config_param(FanConfig, {"name": "x", "color": "red"}, path="p").color is Color.RED
    )
    with pytest.raises(dg.DagsterInvalidConfigError, match='Value "5" of type "<class \'str\'>"'):
        resolve_config_param(FanConfig, {"name": "x", "n": "5"}, path="root:ops:fan:config")


def test_every_problem_is_listed_with_its_path() -> None:
    with pytest.raises(dg.ConfigError) as info:
        resolve_config_param(
            FanConfig,
            {"n": "x", "surprise": 1, "inner": {"n": True}},
            path="root:ops:fan:config",
        )
    errors = info.value.errors
    assert len(errors) == 4, errors
    text = "\n".join(errors)
    assert (
        'Missing required config entry "name" at path root:ops:fan:config. You must provide this value '
        "in your run config. Example config for the missing entry: {'name': '...'}"
    ) in text
    assert (
        'Invalid scalar at path root:ops:fan:config:n. Value "x" of type "<class \'str\'>" is not valid '
        'for expected type "Int".'
    ) in text
    assert 'Received unexpected config entry "surprise" at path root:ops:fan:config.' in text
    assert (
        'Invalid scalar at path root:ops:fan:config:inner:n. Value "True" of type "<class \'bool\'>"'
        in text
    )
    message = str(info.value)
    assert "Error 1:" in message and "Error 4:" in message
    assert info.value.config_type is FanConfig


def test_unexpected_entry_lists_the_expected_fields() -> None:
    with pytest.raises(dg.ConfigError) as info:
        resolve_config_param(Inner, {"n": 1, "m": 2}, path="root:ops:a:config")
    assert info.value.errors == [
        'Received unexpected config entry "m" at path root:ops:a:config. Expected: "{ n: Int }".'
    ]


def test_secret_looking_values_are_not_echoed() -> None:
    class Creds(dg.Config):
        user: str
        password: str

    with pytest.raises(dg.ConfigError) as info:
        resolve_config_param(
            Creds, {"user": "ada", "password": 12345678}, path="root:resources:db:config"
        )
    assert "12345678" not in str(info.value)
    assert "root:resources:db:config:password" in str(info.value)


def test_wrong_shapes_are_config_errors() -> None:
    with pytest.raises(dg.ConfigError, match="config must be a mapping"):
        resolve_config_param(FanConfig, ["x"], path="root:ops:fan:config")  # type: ignore[arg-type]
    with pytest.raises(dg.ConfigError, match="expected a FanConfig .* got a Inner"):
        resolve_config_param(FanConfig, Inner(n=1), path="root:ops:fan:config")


def test_config_reaches_an_asset_through_materialize() -> None:
    @dg.asset
    def fan(config: FanConfig) -> list[str]:
        return [config.name] * config.n

    result = dg.materialize_to_memory(
        [fan], run_config={"ops": {"fan": {"config": {"name": "a", "n": 2}}}}
    )
    assert result.asset_value("fan") == ["a", "a"]
    result = dg.materialize_to_memory(
        [fan], run_config=dg.RunConfig(ops={"fan": FanConfig(name="b", n=1)})
    )
    assert result.asset_value("fan") == ["b"]


def test_bad_run_config_fails_before_running_with_paths() -> None:
    ran = []

    @dg.asset
    def fan(config: FanConfig) -> int:
        ran.append(1)
        return config.n

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory([fan], run_config={"ops": {"fan": {"config": {"n": "many"}}}})
    message = str(info.value)
    assert 'Missing required config entry "name" at path root:ops:fan:config' in message
    assert "Invalid scalar at path root:ops:fan:config:n" in message
    assert ran == []


def test_importing_weir_does_not_import_pydantic() -> None:
    code = (
        "import sys, weir, weir._config.resources, weir._io.io_manager; "
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
