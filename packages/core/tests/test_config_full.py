"""The full config system: classic schemas, typed Config, ConfigMapping, validate_run_config."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Optional, Union

import pydantic
import pytest

import weir as dg
from weir._config._evaluate import process_config
from weir._config.config import resolve_config_param
from weir._config.config_mapping import (
    ConfigMapping,
    ConfigMappingFunctionError,
    config_mapping,
    merge_run_config,
)
from weir._config.schema import (
    Array,
    Enum,
    EnumValue,
    Field,
    Map,
    Noneable,
    Permissive,
    Selector,
    Shape,
    StringSource,
)
from weir._config.validate import resolve_op_config, validate_run_config

P = "root:ops:fan:config"


def _errors(schema: Any, value: Any, path: str = P) -> list[str]:
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        process_config(schema, value, path)
    return info.value.errors


# -- classic schemas -----------------------------------------------------------------------------


def test_dagsters_messages_every_problem_at_once() -> None:
    errors = _errors({"name": str, "n": int}, {"n": "x"})
    assert errors == [
        'Missing required config entry "name" at path root:ops:fan:config. You must provide this '
        "value in your run config. Example config for the missing entry: {'name': '...'}",
        'Invalid scalar at path root:ops:fan:config:n. Value "x" of type "<class \'str\'>" is not '
        'valid for expected type "Int".',
    ]


def test_error_message_numbers_problems_and_names_the_path() -> None:
    with pytest.raises(dg.ConfigError) as info:
        process_config({"a": int, "b": bool}, {"a": 1.5, "b": 1, "c": 0}, P)
    message = str(info.value)
    assert message.startswith(f"Error in config at path {P}: 3 error(s).")
    assert "Error 1:" in message and "Error 3:" in message
    assert (
        'Received unexpected config entry "c" at path root:ops:fan:config. Expected: "{ a: Int b: Bool }".'
        in message
    )


def test_scalars_follow_dagsters_rules() -> None:
    assert process_config(float, 2, P) == 2  # an Int is a Float
    assert _errors(int, True) == [
        f'Invalid scalar at path {P}. Value "True" of type "<class \'bool\'>" is not valid for expected type "Int".'
    ]
    assert _errors(str, 5)[0].startswith(f"Invalid scalar at path {P}.")
    assert _errors(int, None) == [f'Value at path {P} must not be None. Expected "Int"']
    assert process_config(Any, {"anything": [1]}, P) == {"anything": [1]}


def test_field_defaults_requiredness_and_descriptions() -> None:
    schema = {
        "n": Field(int, default_value=3, description="how many"),
        "name": Field(str),
        "maybe": Field(Noneable(int)),
        "opt": Field(int, is_required=False),
        "nested": {"k": Field(int, default_value=1)},
    }
    assert process_config(schema, {"name": "x"}, P) == {
        "n": 3,
        "name": "x",
        "maybe": None,  # implicitly optional: defaults to None
        "nested": {"k": 1},  # a dict whose fields are all optional defaults to their defaults
    }
    field = Field(int, default_value=3, description="how many")
    assert (field.is_required, field.default_value, field.description) == (False, 3, "how many")
    assert Field(str).is_required and not Field(Noneable(str)).is_required
    assert Field(Noneable(str)).default_value is None
    with pytest.raises(dg.DefinitionError, match="cannot have a default"):
        Field(int, default_value=1, is_required=True)
    with pytest.raises(dg.DefinitionError, match="Invalid default_value 'x'"):
        Field(int, default_value="x")
    with pytest.raises(dg.DefinitionError, match="has no default value"):
        Field(int).default_value  # noqa: B018


def test_mutable_defaults_are_not_shared() -> None:
    schema = {"tags": Field([str], default_value=["a"])}
    first = process_config(schema, None, P)
    first["tags"].append("mutated")
    assert process_config(schema, None, P) == {"tags": ["a"]}


def test_arrays_maps_and_noneable() -> None:
    schema = {"xs": [int], "ys": Array(str), "m": Map(str, int), "o": Noneable([int])}
    assert process_config(schema, {"xs": [1], "ys": [], "m": {"a": 1}, "o": None}, P) == {
        "xs": [1],
        "ys": [],
        "m": {"a": 1},
        "o": None,
    }
    errors = _errors(schema, {"xs": "1", "ys": ["a", 2], "m": {"a": "b", 3: 1}, "o": [None]})
    assert f'Value at path {P}:xs must be list. Expected: "[Int]"' in errors
    assert any(e.startswith(f"Invalid scalar at path {P}:ys[1].") for e in errors)
    assert any(e.startswith(f"Invalid scalar at path {P}:m:a.") for e in errors)
    assert any('Map key "3"' in e for e in errors)
    assert f'Value at path {P}:o[0] must not be None. Expected "Int"' in errors
    assert len(errors) == 5


def test_shape_permissive_and_dict() -> None:
    assert process_config(Shape({"a": int}), {"a": 1}, P) == {"a": 1}
    assert process_config(Permissive({"a": int}), {"a": 1, "zz": [2]}, P) == {"a": 1, "zz": [2]}
    assert process_config(dict, {"free": 1}, P) == {"free": 1}
    assert _errors(Shape({"a": int}), [1]) == [
        f'Value at path {P} must be dict. Expected: "{{ a: Int }}".'
    ]
    aliased = Shape({"new_name": int}, field_aliases={"new_name": "old_name"})
    assert process_config(aliased, {"old_name": 2}, P) == {"new_name": 2}


def test_selector() -> None:
    schema = Selector(
        {"csv": {"path": str}, "parquet": {"path": str, "rows": Field(int, default_value=10)}}
    )
    assert process_config(schema, {"parquet": {"path": "p"}}, P) == {
        "parquet": {"path": "p", "rows": 10}
    }
    assert _errors(schema, {}) == [
        f"Must specify a field at path {P} if more than one field is defined. Defined fields: ['csv', 'parquet']"
    ]
    assert _errors(schema, {"csv": {"path": "a"}, "parquet": {"path": "b"}}) == [
        f"You can only specify a single field at path {P}. You specified ['csv', 'parquet']. "
        "The available fields are ['csv', 'parquet']"
    ]
    assert _errors(schema, "csv") == [f"Value for selector type at path {P} must be a dict"]
    assert _errors(schema, {"json": {}})[0].startswith(
        f'Received unexpected config entry "json" at path {P}.'
    )


def test_enums() -> None:
    color = Enum(
        "Color", [EnumValue("RED", python_value=(255, 0, 0)), EnumValue("BLUE", description="b")]
    )
    assert process_config({"c": color}, {"c": "RED"}, P) == {"c": (255, 0, 0)}
    assert process_config({"c": color}, {"c": "BLUE"}, P) == {"c": "BLUE"}
    assert _errors({"c": color}, {"c": "GREEN"}) == [
        f"Value at path {P}:c not in enum type Color got GREEN. Expected one of ['RED', 'BLUE']."
    ]
    assert _errors({"c": color}, {"c": 1}) == [
        f"Value at path {P}:c for enum type Color must be a string. Expected one of ['RED', 'BLUE']."
    ]

    class Mode(enum.Enum):
        FAST = "fast"
        SAFE = "safe"

    assert process_config({"m": Enum.from_python_enum(Mode)}, {"m": "SAFE"}, P) == {"m": Mode.SAFE}
    assert process_config({"m": Mode}, {"m": "FAST"}, P) == {"m": Mode.FAST}


def test_secret_fields_are_not_echoed() -> None:
    errors = _errors(
        {"pw": Field(str, is_secret=True), "token": str}, {"pw": 1234567, "token": 7654321}
    )
    text = "\n".join(errors)
    assert "1234567" not in text and "7654321" not in text
    assert f"Invalid scalar at path {P}:pw" in text and f"Invalid scalar at path {P}:token" in text


def test_bad_schemas_fail_at_definition_time() -> None:
    with pytest.raises(dg.DefinitionError, match="is not a config type"):
        process_config({"x": object()}, {}, P)
    with pytest.raises(dg.DefinitionError, match="exactly one element"):
        Array([int, str])
    with pytest.raises(dg.DefinitionError, match="Map keys must be a scalar"):
        Map([int], int)
    with pytest.raises(dg.DefinitionError, match="non-empty list of EnumValue"):
        Enum("E", [])
    with pytest.raises(dg.DefinitionError, match="Selector needs a non-empty dict"):
        Selector({})


def test_a_top_level_field_schema() -> None:
    assert process_config(Field(int, default_value=4), None, P) == 4
    assert _errors(Field(int), None) == [
        'Missing required config entry "config" at path root:ops:fan. You must provide this value '
        "in your run config. Example config for the missing entry: {'config': 0}"
    ]


# -- config_schema= on assets (what the planner calls) ---------------------------------------------


def test_resolve_op_config_for_legacy_schemas_typed_config_and_none() -> None:
    @dg.asset(config_schema={"n": int, "label": Field(str, default_value="x")})
    def fan(context: dg.AssetExecutionContext) -> int:
        return context.op_config["n"]

    op = fan.node_def
    assert resolve_op_config(op, {"n": 2}, path=P) == {"n": 2, "label": "x"}
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        resolve_op_config(op, {"n": "2"}, path=P)
    assert f"Error in config for op fan at path {P}" in str(info.value)

    @dg.asset
    def typed(config: Simple) -> int:
        return config.rows

    assert resolve_op_config(typed.node_def, None, path=P) == Simple(rows=10)

    @dg.asset
    def plain() -> int:
        return 1

    assert resolve_op_config(plain.node_def, {"anything": 1}, path=P) == {"anything": 1}


# -- typed Config ------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Cat(dg.Config):
    pet_type: Literal["cat"]
    meows: int


class Dog(dg.Config):
    pet_type: Literal["dog"]
    barks: float = 1.0


class Inner(dg.Config):
    depth: int = pydantic.Field(default=1, gt=0, description="how deep")


class Everything(dg.Config):
    """Every supported kind of field."""

    name: str = pydantic.Field(description="who")
    color: Color = Color.RED
    mode: Literal["fast", "safe"] = "fast"
    pet: Union[Cat, Dog] = pydantic.Field(discriminator="pet_type")
    inner: Inner = Inner()
    tags: list[str] = []
    weights: dict[str, float] = {}
    maybe: Optional[int]  # Optional without a default: defaults to None
    password: str = "changeme"


def test_typed_config_with_every_kind_of_field() -> None:
    cfg = resolve_config_param(
        Everything,
        {
            "name": "n",
            "color": "BLUE",
            "mode": "safe",
            "pet": {"cat": {"meows": 3}},
            "inner": {"depth": 2},
            "tags": ["a"],
            "weights": {"w": 1},
        },
        path=P,
    )
    assert cfg.color is Color.BLUE and cfg.mode == "safe"
    assert cfg.pet == Cat(pet_type="cat", meows=3)
    assert cfg.inner == Inner(depth=2) and cfg.weights == {"w": 1.0} and cfg.maybe is None
    flat = resolve_config_param(Everything, {"name": "n", "pet": {"pet_type": "dog"}}, path=P)
    assert flat.pet == Dog(pet_type="dog")
    assert Everything(name="x", pet=Dog(pet_type="dog")).maybe is None


def test_typed_config_problems_are_all_listed_with_paths() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        resolve_config_param(
            Everything,
            {
                "color": "GREEN",
                "mode": "slow",
                "pet": {"cow": {}},
                "inner": {"depth": "2"},
                "tags": [1],
            },
            path=P,
        )
    errors = info.value.errors
    text = "\n".join(errors)
    assert f'Missing required config entry "name" at path {P}.' in text
    assert f"Value at path {P}:color not in enum type Color got GREEN" in text
    assert f"Invalid value at path {P}:mode" in text
    assert f'Received unexpected config entry "cow" at path {P}:pet.' in text
    assert f"Invalid scalar at path {P}:inner:depth." in text
    assert f"Invalid scalar at path {P}:tags[0]." in text
    assert len(errors) == 6


def test_pydantic_constraints_are_reported_with_paths() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        resolve_config_param(Inner, {"depth": 0}, path=P)
    assert info.value.errors[0].startswith(f'Invalid value at path {P}:depth. Value "0"')
    assert "greater than 0" in info.value.errors[0]


def test_run_config_dict_of_typed_values() -> None:
    rc = dg.RunConfig(
        ops={"fan": Everything(name="n", pet=Cat(pet_type="cat", meows=1), color=Color.BLUE)}
    )
    config = rc.to_config_dict()["ops"]["fan"]["config"]
    assert config["pet"] == {"cat": {"meows": 1}}  # a discriminated union as a selector
    assert config["color"] == "BLUE" and config["inner"] == {"depth": 1}
    assert resolve_config_param(Everything, config, path=P) == rc.ops["fan"]  # round trip


def test_field_descriptions_and_schema() -> None:
    fields = Everything.to_fields_dict()
    assert fields["name"].description == "who" and fields["name"].is_required
    assert not fields["color"].is_required and not fields["maybe"].is_required
    inner_fields = Inner.to_fields_dict()
    assert inner_fields["depth"].description == "how deep"


def test_reprs_mask_secret_looking_fields() -> None:
    class Login(dg.Config):
        user: str
        password: str
        api_key: str
        secret_token: pydantic.SecretStr

    login = Login(
        user="ada", password="p4ss", api_key="k3y", secret_token=pydantic.SecretStr("t0k")
    )
    text = repr(login) + str(login)
    assert "ada" in text
    assert "p4ss" not in text and "k3y" not in text and "t0k" not in text
    assert login.password == "p4ss"


def test_permissive_config_keeps_extra_keys_through_run_config() -> None:
    class Loose(dg.PermissiveConfig):
        known: int = 1

    cfg = resolve_config_param(Loose, {"extra": "e", "known": 2}, path=P)
    assert cfg.model_dump() == {"known": 2, "extra": "e"}


def test_annotated_and_optional_nested_models() -> None:
    class Outer(dg.Config):
        inner: Optional[Inner] = None
        count: Annotated[int, pydantic.Field(ge=0)] = 0

    assert resolve_config_param(Outer, {}, path=P) == Outer()
    assert resolve_config_param(Outer, {"inner": {}}, path=P).inner == Inner()
    with pytest.raises(dg.ConfigError, match="Invalid scalar at path root:ops:fan:config:count"):
        resolve_config_param(Outer, {"count": "1"}, path=P)


def test_typed_config_through_materialize_fails_before_any_step() -> None:
    ran = []

    @dg.asset
    def fan(config: Everything) -> str:
        ran.append(1)
        return config.name

    @dg.asset
    def other() -> int:
        ran.append(2)
        return 2

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory(
            [other, fan], run_config={"ops": {"fan": {"config": {"color": 1}}}}
        )
    assert "root:ops:fan:config:color" in str(info.value)
    assert ran == []
    result = dg.materialize_to_memory(
        [fan], run_config={"ops": {"fan": {"config": {"name": "ok", "pet": {"dog": {}}}}}}
    )
    assert result.asset_value("fan") == "ok"


# -- ConfigMapping -----------------------------------------------------------------------------------


class Simple(dg.Config):
    rows: int = 10


def test_config_mapping_with_a_classic_schema() -> None:
    seen = []

    def fn(config: dict[str, Any]) -> dict[str, Any]:
        seen.append(config)
        return {"ops": {"load": {"config": {"limit": config["rows"] * 100}}}}

    mapping = ConfigMapping(fn, config_schema={"rows": Field(int, default_value=2)})
    assert mapping.resolve_from_unvalidated_config({}) == {
        "ops": {"load": {"config": {"limit": 200}}}
    }
    assert seen == [{"rows": 2}]
    raw = ConfigMapping(
        fn,
        config_schema={"rows": Field(int, default_value=2)},
        receive_processed_config_values=False,
    )
    with pytest.raises(KeyError):  # the raw value has no defaults filled in
        raw.config_fn({})
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        mapping.resolve_from_unvalidated_config({"rows": "many"})
    assert "Invalid scalar at path root:rows." in str(info.value)


def test_config_mapping_with_a_typed_config_and_run_config_result() -> None:
    @config_mapping
    def scaled(config: Simple) -> dg.RunConfig:
        return dg.RunConfig(ops={"load": {"config": {"limit": config.rows}}})

    assert isinstance(scaled, ConfigMapping) and scaled.config_schema is Simple
    assert scaled.resolve_from_unvalidated_config({"rows": 3})["ops"] == {
        "load": {"config": {"limit": 3}}
    }

    @config_mapping(config_schema={"x": int})
    def other(config: dict[str, Any]) -> dict[str, Any]:
        return {"ops": {}}

    assert other.resolve_from_unvalidated_config({"x": 1}) == {"ops": {}}


def test_config_mapping_errors() -> None:
    def broken(config: Any) -> Any:
        raise ZeroDivisionError("oops")

    with pytest.raises(ConfigMappingFunctionError) as info:
        ConfigMapping(broken).resolve_from_unvalidated_config({})
    assert "'broken' raised ZeroDivisionError: oops" in str(info.value)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.user_exception is info.value.__cause__
    with pytest.raises(dg.DefinitionError):
        ConfigMapping("not callable")  # type: ignore[arg-type]
    with pytest.raises(dg.DefinitionError, match="is not a config type"):
        ConfigMapping(broken, config_schema={"x": object()})
    with pytest.raises(dg.ConfigError, match="must be a dict or a RunConfig"):
        ConfigMapping(lambda c: 5).resolve_from_unvalidated_config({})


def test_merge_run_config_keeps_defaults_and_overrides_entries() -> None:
    default = {"ops": {"a": {"config": {"n": 1, "m": 2}}, "b": {"config": {"x": 1}}}}
    given = {"ops": {"a": {"config": {"n": 5}}}, "resources": {"db": {"config": {"u": 1}}}}
    assert merge_run_config(default, given) == {
        "ops": {"a": {"config": {"n": 5, "m": 2}}, "b": {"config": {"x": 1}}},
        "resources": {"db": {"config": {"u": 1}}},
    }
    assert merge_run_config(None, given) == given and merge_run_config(default, None) == default


# -- validate_run_config -------------------------------------------------------------------------


class Db(dg.ConfigurableResource):
    url: str
    pool: int = 1


def _job(**job_kwargs: Any) -> Any:
    @dg.asset(config_schema={"n": int, "label": Field(str, default_value="x")})
    def legacy(context: dg.AssetExecutionContext) -> int:
        return 1

    @dg.asset
    def typed(config: Simple, db: Db) -> int:
        return config.rows

    defs = dg.Definitions(
        assets=[legacy, typed],
        jobs=[dg.define_asset_job("j", selection=[legacy, typed], **job_kwargs)],
        resources={"db": Db.configure_at_launch(pool=2)},
    )
    return defs.get_job_def("j")


def test_validate_run_config_returns_processed_config() -> None:
    processed = validate_run_config(
        _job(),
        {"ops": {"legacy": {"config": {"n": 1}}}, "resources": {"db": {"config": {"url": "u"}}}},
    )
    assert processed["ops"] == {
        "legacy": {"config": {"n": 1, "label": "x"}},
        "typed": {"config": {}},
    }
    assert processed["resources"]["db"] == {"config": {"url": "u"}}
    assert processed["execution"] == {} and processed["loggers"] == {}


def test_validate_run_config_lists_every_problem() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        validate_run_config(
            _job(),
            {
                "ops": {
                    "legacy": {"config": {"n": "1"}},
                    "typed": {"config": {"rows": "x"}},
                    "ghost": {},
                },
                "resources": {"db": {"config": {"pool": "big"}}, "cache": {}},
                "surprise": {},
            },
        )
    message = str(info.value)
    assert message.startswith("Error in config for job j: 7 error(s).")
    for fragment in (
        'Received unexpected config entry "surprise" at path root.',
        'Received unexpected config entry "ghost" at path root:ops.',
        "Invalid scalar at path root:ops:legacy:config:n.",
        "Invalid scalar at path root:ops:typed:config:rows.",
        'Received unexpected config entry "cache" at path root:resources.',
        'Missing required config entry "url" at path root:resources:db:config.',
        "Invalid scalar at path root:resources:db:config:pool.",
    ):
        assert fragment in message, fragment


def test_validate_run_config_uses_the_jobs_default_config_and_run_config_objects() -> None:
    job = _job(config={"ops": {"legacy": {"config": {"n": 7, "label": "dflt"}}}})
    processed = validate_run_config(
        job,
        dg.RunConfig(
            ops={"legacy": {"config": {"label": "given"}}}, resources={"db": Db(url="from-rc")}
        ),
    )
    assert processed["ops"]["legacy"] == {"config": {"n": 7, "label": "given"}}
    assert processed["resources"]["db"]["config"]["url"] == "from-rc"
    with pytest.raises(dg.ConfigError, match="needs the job"):
        validate_run_config(None, {})


def test_schema_printing_in_unexpected_entry_errors() -> None:
    schema = {
        "s": StringSource,
        "sel": Selector({"a": int, "b": Noneable(str)}),
        "xs": [Permissive()],
    }
    errors = _errors(schema, {"s": "x", "sel": {"a": 1}, "xs": [], "zz": 1})
    assert errors == [
        f'Received unexpected config entry "zz" at path {P}. Expected: '
        '"{ s: String sel: { a: Int b: String? } xs: [{ ... }] }".'
    ]


# -- end to end through the planner (plan.py calls resolve_op_config; jobs merge defaults) ------


def test_config_schema_on_an_asset_through_materialize() -> None:
    @dg.asset(config_schema={"n": int, "label": Field(str, default_value="x")})
    def fan(context: dg.AssetExecutionContext) -> str:
        return context.op_config["label"] * context.op_config["n"]

    result = dg.materialize_to_memory([fan], run_config={"ops": {"fan": {"config": {"n": 3}}}})
    assert result.asset_value("fan") == "xxx"
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory([fan], run_config={"ops": {"fan": {"config": {"n": "3", "z": 1}}}})
    assert "Invalid scalar at path root:ops:fan:config:n." in str(info.value)
    assert 'Received unexpected config entry "z" at path root:ops:fan:config.' in str(info.value)


def test_a_jobs_default_config_is_merged_with_launch_config() -> None:
    @dg.asset(config_schema={"n": int, "label": str})
    def fan(context: dg.AssetExecutionContext) -> str:
        return context.op_config["label"] * context.op_config["n"]

    defs = dg.Definitions(
        assets=[fan],
        jobs=[
            dg.define_asset_job(
                "j", [fan], config={"ops": {"fan": {"config": {"n": 2, "label": "a"}}}}
            )
        ],
    )
    job = defs.get_job_def("j")
    assert job.execute_in_process().asset_value("fan") == "aa"
    result = job.execute_in_process(run_config={"ops": {"fan": {"config": {"label": "b"}}}})
    assert result.asset_value("fan") == "bb"


def test_validate_run_config_for_an_op_job_with_nested_graphs() -> None:
    @dg.op(config_schema={"n": int, "m": Field(int, default_value=2)})
    def inner(context: dg.OpExecutionContext) -> int:
        return context.op_config["n"]

    @dg.graph
    def group() -> None:
        inner()

    @dg.job
    def nested() -> None:
        group()

    config = {"ops": {"group": {"ops": {"inner": {"config": {"n": 1}}}}}}
    assert validate_run_config(nested, config)["ops"] == {
        "group": {"ops": {"inner": {"config": {"n": 1, "m": 2}}}}
    }
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        validate_run_config(nested, {"ops": {"group": {"ops": {"inner": {"config": {"n": "x"}}}}}})
    assert info.value.errors == [
        'Invalid scalar at path root:ops:group:ops:inner:config:n. Value "x" of type '
        '"<class \'str\'>" is not valid for expected type "Int".'
    ]
