"""EnvVar and ``{"env": ...}``: read at run time, clear errors naming the variable, never leaked."""

from __future__ import annotations

import logging
import pickle
from typing import Any, Optional

import pydantic
import pytest

import weir as dg
from weir._config._evaluate import process_config
from weir._config.config import resolve_config_param
from weir._config.env_var import EnvVar, IntEnvVar
from weir._config.schema import BoolSource, IntSource, StringSource
from weir._config.validate import validate_run_config

SECRET = "hunter2-DO-NOT-LEAK"


class Db(dg.ConfigurableResource):
    user: str
    password: str
    port: int = 5432


def _event_text(result: Any) -> str:
    parts = []
    for event in result.all_events:
        parts.append(event.message or "")
        data = event.event_specific_data
        if data is not None:
            parts.append(repr(data))
            error = getattr(data, "error", None)
            if error is not None:
                parts.append(error.to_string())
    return "\n".join(parts)


# -- the EnvVar object --------------------------------------------------------------------------


def test_env_var_is_a_str_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    var = EnvVar("WEIR_T_NAME")
    assert isinstance(var, str) and var == "WEIR_T_NAME"
    assert var.env_var_name == "WEIR_T_NAME"
    assert repr(var) == "EnvVar('WEIR_T_NAME')"
    monkeypatch.delenv("WEIR_T_NAME", raising=False)
    assert var.get_value() is None and var.get_value(default="d") == "d"
    monkeypatch.setenv("WEIR_T_NAME", "v")
    assert var.get_value() == "v"
    assert pickle.loads(pickle.dumps(var)) == var
    assert isinstance(pickle.loads(pickle.dumps(var)), EnvVar)
    with pytest.raises(dg.ConfigError, match="needs the name of an environment variable"):
        EnvVar("")


def test_env_var_int(monkeypatch: pytest.MonkeyPatch) -> None:
    var = EnvVar.int("WEIR_T_PORT")
    assert isinstance(var, IntEnvVar) and isinstance(var, int)
    assert var.env_var_name == "WEIR_T_PORT" and repr(var) == "EnvVar.int('WEIR_T_PORT')"
    monkeypatch.setenv("WEIR_T_PORT", " 6543 ")
    assert var.get_value() == 6543
    monkeypatch.setenv("WEIR_T_PORT", "x-" + SECRET)
    with pytest.raises(dg.ConfigError) as info:
        var.get_value()
    assert "WEIR_T_PORT" in str(info.value) and SECRET not in str(info.value)
    restored = pickle.loads(pickle.dumps(var))
    assert isinstance(restored, IntEnvVar) and restored.env_var_name == "WEIR_T_PORT"


# -- resources -----------------------------------------------------------------------------------


def test_resource_env_var_is_read_at_run_time_not_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEIR_T_PW", raising=False)
    db = Db(user="app", password=EnvVar("WEIR_T_PW"))  # unset now: fine, nothing is read yet

    @dg.asset
    def login(db: Db) -> str:
        return f"{db.user}:{db.password}:{db.port}"

    defs = dg.Definitions(assets=[login], resources={"db": db})
    assert defs.resources["db"] is db
    assert db.password == "WEIR_T_PW"  # the name, until a run resolves it
    monkeypatch.setenv("WEIR_T_PW", "first")
    assert dg.materialize_to_memory([login], resources={"db": db}).asset_value("login") == (
        "app:first:5432"
    )
    monkeypatch.setenv("WEIR_T_PW", "second")  # every run reads the environment again
    assert dg.materialize_to_memory([login], resources={"db": db}).asset_value("login") == (
        "app:second:5432"
    )


def test_env_var_int_field_in_a_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_PW", "pw")
    monkeypatch.setenv("WEIR_T_PORT", "7000")

    @dg.asset
    def port(db: Db) -> int:
        return db.port

    db = Db(user="u", password=EnvVar("WEIR_T_PW"), port=EnvVar.int("WEIR_T_PORT"))
    assert dg.materialize_to_memory([port], resources={"db": db}).asset_value("port") == 7000
    monkeypatch.setenv("WEIR_T_PORT", "seven-" + SECRET)
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory([port], resources={"db": db})
    message = str(info.value)
    assert "root:resources:db:config:port" in message
    assert '"WEIR_T_PORT" cannot be read as Int' in message
    assert SECRET not in message


def test_unset_variable_fails_resource_init_naming_variable_and_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEIR_T_MISSING", raising=False)
    ran = []

    @dg.asset
    def login(db: Db) -> int:
        ran.append(1)
        return 1

    db = Db(user="app", password=EnvVar("WEIR_T_MISSING"))
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory([login], resources={"db": db})
    message = str(info.value)
    assert "root:resources:db:config:password" in message
    assert 'environment variable "WEIR_T_MISSING" which is not set' in message
    assert isinstance(info.value, dg.ResourceError)
    assert ran == []

    result = dg.materialize_to_memory([login], resources={"db": db}, raise_on_error=False)
    assert not result.success
    failure = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert len(failure) == 1 and "WEIR_T_MISSING" in failure[0].message


def test_env_values_never_appear_in_reprs_events_logs_or_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("WEIR_T_PW", SECRET)
    seen: dict[str, str] = {}

    @dg.asset
    def login(context: dg.AssetExecutionContext, db: Db) -> int:
        seen["repr"] = repr(db)
        seen["str"] = str(db)
        seen["value"] = db.password
        context.log.info("connected with %r", db)
        raise RuntimeError(f"login failed for {db!r}")

    db = Db(user="app", password=EnvVar("WEIR_T_PW"))
    assert repr(db) == "Db(user='app', password=EnvVar('WEIR_T_PW'), port=5432)"
    result = dg.materialize_to_memory([login], resources={"db": db}, raise_on_error=False)
    assert seen["value"] == SECRET  # the resource itself does get the value
    assert SECRET not in seen["repr"] and SECRET not in seen["str"]
    assert "password='**********'" in seen["repr"]
    assert SECRET not in _event_text(result)
    assert SECRET not in caplog.text
    with pytest.raises(RuntimeError) as info:
        dg.materialize_to_memory([login], resources={"db": db})
    assert SECRET not in str(info.value)


class Limits(dg.ConfigurableResource):
    api_token: str = pydantic.Field(min_length=50)


def test_env_value_that_fails_validation_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_TOKEN", SECRET)

    @dg.asset
    def uses(limits: Limits) -> int:
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory(
            [uses], resources={"limits": Limits(api_token=EnvVar("WEIR_T_TOKEN"))}
        )
    assert "root:resources:limits:config:api_token" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.errors)


def test_env_dict_in_run_config_for_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_USER", "from-env")
    monkeypatch.setenv("WEIR_T_PW", "pw-from-env")

    @dg.asset
    def who(db: Db) -> str:
        return f"{db.user}/{db.password}"

    result = dg.materialize_to_memory(
        [who],
        resources={"db": Db.configure_at_launch()},
        run_config={
            "resources": {
                "db": {"config": {"user": {"env": "WEIR_T_USER"}, "password": {"env": "WEIR_T_PW"}}}
            }
        },
    )
    assert result.asset_value("who") == "from-env/pw-from-env"


def test_legacy_resource_with_source_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_HOST", "db.local")
    monkeypatch.setenv("WEIR_T_PORT", "15432")
    monkeypatch.setenv("WEIR_T_SSL", "TRUE")

    @dg.resource(config_schema={"host": StringSource, "port": IntSource, "ssl": BoolSource})
    def conn(init_context: dg.InitResourceContext) -> dict[str, Any]:
        return dict(init_context.resource_config)

    @dg.asset(required_resource_keys={"conn"})
    def probe(context: dg.AssetExecutionContext) -> dict[str, Any]:
        return context.resources.conn

    result = dg.materialize_to_memory(
        [probe],
        resources={"conn": conn},
        run_config={
            "resources": {
                "conn": {
                    "config": {
                        "host": {"env": "WEIR_T_HOST"},
                        "port": {"env": "WEIR_T_PORT"},
                        "ssl": {"env": "WEIR_T_SSL"},
                    }
                }
            }
        },
    )
    assert result.asset_value("probe") == {"host": "db.local", "port": 15432, "ssl": True}


def test_plain_string_schema_rejects_env_dicts() -> None:
    with pytest.raises(dg.ConfigError) as info:
        process_config({"host": str}, {"host": {"env": "X"}}, "root:resources:conn:config")
    assert "Invalid scalar at path root:resources:conn:config:host" in str(info.value)


def test_env_dict_must_have_only_the_env_key() -> None:
    with pytest.raises(dg.ConfigError, match='must be {"env": "VARIABLE_NAME"}'):
        process_config({"host": StringSource}, {"host": {"env": "X", "y": 1}}, "root")


# -- op config -----------------------------------------------------------------------------------


class Creds(dg.Config):
    user: str
    token: str
    retries: int = 1
    debug: Optional[bool] = None


def test_env_in_op_config_is_read_when_the_run_is_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_TOKEN", "tok")
    monkeypatch.setenv("WEIR_T_RETRIES", "4")
    monkeypatch.setenv("WEIR_T_DEBUG", "yes")

    @dg.asset
    def call(config: Creds) -> str:
        return f"{config.user}:{config.token}:{config.retries}:{config.debug}"

    result = dg.materialize_to_memory(
        [call],
        run_config={
            "ops": {
                "call": {
                    "config": {
                        "user": "u",
                        "token": {"env": "WEIR_T_TOKEN"},
                        "retries": {"env": "WEIR_T_RETRIES"},
                        "debug": {"env": "WEIR_T_DEBUG"},
                    }
                }
            }
        },
    )
    assert result.asset_value("call") == "u:tok:4:True"
    typed = dg.RunConfig(
        ops={
            "call": Creds(
                user="v", token=EnvVar("WEIR_T_TOKEN"), retries=EnvVar.int("WEIR_T_RETRIES")
            )
        }
    )
    assert typed.to_config_dict()["ops"]["call"]["config"] == {
        "user": "v",
        "token": {"env": "WEIR_T_TOKEN"},
        "retries": {"env": "WEIR_T_RETRIES"},
        "debug": None,
    }
    assert dg.materialize_to_memory([call], run_config=typed).asset_value("call") == "v:tok:4:None"
    assert (
        dg.materialize_to_memory([call], run_config=typed.to_config_dict()).asset_value("call")
        == "v:tok:4:None"
    )


def test_unset_env_in_op_config_fails_before_any_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEIR_T_NOPE", raising=False)
    ran = []

    @dg.asset
    def call(config: Creds) -> int:
        ran.append(1)
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory(
            [call],
            run_config={
                "ops": {"call": {"config": {"user": "u", "token": {"env": "WEIR_T_NOPE"}}}}
            },
        )
    assert "root:ops:call:config:token" in str(info.value)
    assert '"WEIR_T_NOPE" which is not set' in str(info.value)
    assert ran == []


def test_resolved_op_config_masks_env_fields_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_USER", SECRET)
    cfg = resolve_config_param(
        Creds, {"user": {"env": "WEIR_T_USER"}, "token": "t"}, path="root:ops:a:config"
    )
    assert cfg.user == SECRET
    assert SECRET not in repr(cfg) and "user='**********'" in repr(cfg)
    assert "token='**********'" in repr(cfg)  # named like a secret: masked whatever its source


def test_validate_run_config_does_not_read_or_return_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEIR_T_TOKEN", SECRET)

    @dg.asset
    def call(config: Creds) -> int:
        return 1

    defs = dg.Definitions(assets=[call], jobs=[dg.define_asset_job("j", [call])])
    processed = validate_run_config(
        defs.get_job_def("j"),
        {"ops": {"call": {"config": {"user": "u", "token": {"env": "WEIR_T_TOKEN"}}}}},
    )
    assert processed["ops"]["call"]["config"]["token"] == {"env": "WEIR_T_TOKEN"}
    assert SECRET not in repr(processed)


class Secrets(dg.Config):
    token: str
    region: str = "eu"


class Vault(dg.ConfigurableResource):
    secrets: Secrets


def test_env_var_inside_nested_config_of_a_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_T_NESTED", SECRET)
    seen: dict[str, str] = {}

    @dg.asset
    def read(vault: Vault) -> int:
        seen["token"] = vault.secrets.token
        seen["repr"] = repr(vault)
        return 1

    monkeypatch.setenv("WEIR_T_REGION", "region-" + SECRET)
    vault = Vault(secrets=Secrets(token=EnvVar("WEIR_T_NESTED"), region=EnvVar("WEIR_T_REGION")))
    assert "EnvVar('WEIR_T_NESTED')" in repr(vault)
    assert dg.materialize_to_memory([read], resources={"vault": vault}).success
    assert seen["token"] == SECRET and SECRET not in seen["repr"]
    # masked because it came from the environment, although its name is not secret-like
    assert "region='**********'" in seen["repr"]
