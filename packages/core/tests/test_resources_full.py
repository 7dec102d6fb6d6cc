"""Resources end to end: injection, lifecycle, nesting, launch-time config, with_resources."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import PrivateAttr

import weir as dg
from weir._config.resources import MissingResourceError, ResourceConfigError, ResourceDependency
from weir._config.schema import Field
from weir._config.validate import validate_resource_config
from weir._config.with_resources import with_resources

CALLS: list[str] = []


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()


class Warehouse(dg.ConfigurableResource):
    url: str
    schema_name: str = "public"
    _conn: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append(f"setup warehouse {self.url}")
        self._conn = f"conn:{self.url}/{self.schema_name}"

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append("teardown warehouse")

    def query(self) -> str:
        return self._conn


class Cache(dg.ConfigurableResource):
    size: int = 1

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append("setup cache")


class Token(dg.ConfigurableResource):
    token: str


class Api(dg.ConfigurableResource):
    auth: Token
    base: str = "https://api"
    client: ResourceDependency[Any] = None


class Flaky(dg.ConfigurableResource):
    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append("teardown flaky")
        raise OSError("teardown exploded")


def test_a_configurable_resource_is_a_config() -> None:
    assert issubclass(dg.ConfigurableResource, dg.Config)
    assert isinstance(Warehouse(url="u"), dg.Config)


def test_injected_by_parameter_name_built_once_per_run_torn_down_at_the_end() -> None:
    @dg.asset
    def orders(warehouse: Warehouse) -> str:
        CALLS.append("orders")
        return warehouse.query()

    @dg.asset
    def customers(orders: str, warehouse: Warehouse) -> str:
        CALLS.append("customers")
        return orders + "+" + warehouse.query()

    result = dg.materialize_to_memory(
        [orders, customers], resources={"warehouse": Warehouse(url="w")}
    )
    assert result.asset_value("customers") == "conn:w/public+conn:w/public"
    assert CALLS == ["setup warehouse w", "orders", "customers", "teardown warehouse"]


def test_a_parameter_named_config_typed_with_a_resource_is_a_resource() -> None:
    @dg.asset
    def uses(config: Cache) -> int:
        return config.size

    assert uses.required_resource_keys >= {"config"}
    assert (
        dg.materialize_to_memory([uses], resources={"config": Cache(size=4)}).asset_value("uses")
        == 4
    )


def test_only_resources_of_selected_steps_are_initialised() -> None:
    @dg.asset
    def a(warehouse: Warehouse) -> int:
        return 1

    @dg.asset
    def b(cache: Cache) -> int:
        return 2

    result = dg.materialize_to_memory(
        [a, b], resources={"warehouse": Warehouse(url="w"), "cache": Cache()}, selection=[b]
    )
    assert result.success
    assert CALLS == ["setup cache"]


def test_configure_at_launch_through_materialize_run_config() -> None:
    @dg.asset
    def orders(warehouse: Warehouse) -> str:
        return warehouse.query()

    late = Warehouse.configure_at_launch(schema_name="sales")
    result = dg.materialize_to_memory(
        [orders],
        resources={"warehouse": late},
        run_config={"resources": {"warehouse": {"config": {"url": "pg"}}}},
    )
    assert result.asset_value("orders") == "conn:pg/sales"
    result = dg.materialize_to_memory(
        [orders],
        resources={"warehouse": late},
        run_config=dg.RunConfig(resources={"warehouse": Warehouse(url="rc", schema_name="s")}),
    )
    assert result.asset_value("orders") == "conn:rc/s"
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory([orders], resources={"warehouse": late})
    assert 'Missing required config entry "url" at path root:resources:warehouse:config' in str(
        info.value
    )


def test_run_config_overrides_values_given_in_code() -> None:
    @dg.asset
    def orders(warehouse: Warehouse) -> str:
        return warehouse.query()

    result = dg.materialize_to_memory(
        [orders],
        resources={"warehouse": Warehouse(url="code", schema_name="a")},
        run_config={"resources": {"warehouse": {"config": {"schema_name": "b"}}}},
    )
    assert result.asset_value("orders") == "conn:code/b"


def test_bad_resource_config_lists_every_problem_before_any_step() -> None:
    ran = []

    @dg.asset
    def orders(warehouse: Warehouse, cache: Cache) -> int:
        ran.append(1)
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize_to_memory(
            [orders],
            resources={"warehouse": Warehouse.configure_at_launch(), "cache": Cache()},
            run_config={"resources": {"warehouse": {"config": {"schema_name": 3, "zz": 1}}}},
        )
    errors = info.value.errors
    assert any(
        'Missing required config entry "url" at path root:resources:warehouse:config' in e
        for e in errors
    )
    assert any(
        "Invalid scalar at path root:resources:warehouse:config:schema_name." in e for e in errors
    )
    assert any(
        'Received unexpected config entry "zz" at path root:resources:warehouse:config' in e
        for e in errors
    )
    assert ran == []


def test_nested_partial_resource_gets_its_config_from_its_own_key() -> None:
    token = Token.configure_at_launch()

    @dg.asset
    def call(api: Api) -> str:
        return f"{api.base}:{api.auth.token}"

    result = dg.materialize_to_memory(
        [call],
        resources={"api": Api(auth=token), "token": token},
        run_config={"resources": {"token": {"config": {"token": "t0"}}}},
    )
    assert result.asset_value("call") == "https://api:t0"


def test_resource_dependency_holds_legacy_and_plain_resources() -> None:
    @dg.resource(config_schema={"n": int})
    def counter(init_context: dg.InitResourceContext) -> Iterator[int]:
        CALLS.append("open counter")
        yield init_context.resource_config["n"]
        CALLS.append("close counter")

    @dg.asset
    def call(api: Api) -> str:
        return f"{api.client}"

    result = dg.materialize_to_memory(
        [call],
        resources={"api": Api(auth=Token(token="t"), client=counter), "counter": counter},
        run_config={"resources": {"counter": {"config": {"n": 5}}}},
    )
    assert result.asset_value("call") == "5"
    assert CALLS == ["open counter", "close counter"]
    plain = object()
    with dg.build_resources({"api": Api(auth=Token(token="t"), client=plain)}) as live:
        assert live.api.client is plain


def test_failing_teardown_is_logged_and_does_not_hide_the_step_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @dg.asset
    def boom(flaky: Flaky, warehouse: Warehouse) -> int:
        raise ValueError("the step failed")

    with pytest.raises(ValueError, match="the step failed"):
        dg.materialize_to_memory(
            [boom], resources={"flaky": Flaky(), "warehouse": Warehouse(url="w")}
        )
    assert "teardown flaky" in CALLS and "teardown warehouse" in CALLS
    assert "Teardown of resource 'flaky' failed" in caplog.text
    assert "teardown exploded" in caplog.text


def test_failing_teardown_after_a_successful_run_keeps_the_run_successful(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    @dg.asset
    def fine(flaky: Flaky) -> int:
        return 1

    result = dg.materialize_to_memory([fine], resources={"flaky": Flaky()})
    assert result.success and result.asset_value("fine") == 1
    assert "Teardown of resource 'flaky' failed" in caplog.text


def test_legacy_generator_resource_through_materialize() -> None:
    @dg.resource(config_schema={"dsn": Field(str, default_value="memory")})
    def conn(init_context: dg.InitResourceContext) -> Iterator[str]:
        CALLS.append("open")
        yield "conn:" + init_context.resource_config["dsn"]
        CALLS.append("close")

    @dg.asset(required_resource_keys={"conn"})
    def uses(context: dg.AssetExecutionContext) -> str:
        CALLS.append("step")
        return context.resources.conn

    result = dg.materialize_to_memory(
        [uses],
        resources={"conn": conn},
        run_config={"resources": {"conn": {"config": {"dsn": "db"}}}},
    )
    assert result.asset_value("uses") == "conn:db"
    assert CALLS == ["open", "step", "close"]


def test_missing_resource_errors_name_the_key() -> None:
    from weir._config.resources import initialize_resources

    @dg.asset
    def needs(warehouse: Warehouse) -> int:
        return 1

    with pytest.raises(
        dg.ResourceError, match="resource with key 'warehouse' required by op 'needs'"
    ):
        dg.materialize_to_memory([needs])
    with pytest.raises(MissingResourceError) as info:
        with initialize_resources({"warehouse": Warehouse(url="w")}, ["warehuose"]):
            pass
    # like Dagster's DagsterInvalidDefinitionError, and still a ResourceError
    assert isinstance(info.value, dg.DagsterInvalidDefinitionError)
    assert isinstance(info.value, dg.ResourceError)
    assert "Did you mean 'warehouse'?" in str(info.value)
    assert CALLS == []


# -- with_resources ------------------------------------------------------------------------------


def test_with_resources_binds_only_what_each_asset_needs() -> None:
    @dg.asset
    def a(warehouse: Warehouse) -> str:
        return warehouse.query()

    @dg.asset
    def b(cache: Cache) -> int:
        return 1

    bound = with_resources([a, b], {"warehouse": Warehouse(url="w"), "cache": Cache(), "unused": 1})
    assert set(bound[0].resource_defs) == {"warehouse"}
    assert set(bound[1].resource_defs) == {"cache"}
    assert dg.materialize_to_memory(bound).asset_value("a") == "conn:w/public"


def test_with_resources_configures_resources_by_key() -> None:
    @dg.resource(config_schema={"greeting": str})
    def greeter(init_context: dg.InitResourceContext) -> str:
        return init_context.resource_config["greeting"]

    @dg.asset(required_resource_keys={"greeter"})
    def hello(context: dg.AssetExecutionContext, warehouse: Warehouse) -> str:
        return context.resources.greeter + " " + warehouse.query()

    bound = with_resources(
        [hello],
        {"greeter": greeter, "warehouse": Warehouse.configure_at_launch()},
        resource_config_by_key={
            "greeter": {"config": {"greeting": "hi"}},
            "warehouse": {"config": {"url": "cfg"}},
        },
    )
    assert dg.materialize_to_memory(bound).asset_value("hello") == "hi conn:cfg/public"
    with pytest.raises(ResourceConfigError, match="root:resources:warehouse:config:url"):
        with_resources(
            [hello],
            {"greeter": greeter, "warehouse": Warehouse(url="x")},
            resource_config_by_key={"warehouse": {"config": {"url": 5}}},
        )


def test_with_resources_errors() -> None:
    @dg.asset
    def a(warehouse: Warehouse) -> int:
        return 1

    with pytest.raises(
        dg.DefinitionError, match="resource with key 'warehouse' required by op 'a'"
    ):
        with_resources([a], {"cache": Cache()})
    with pytest.raises(dg.DefinitionError, match="takes a list of definitions"):
        with_resources(a, {})  # type: ignore[arg-type]
    with pytest.raises(dg.DefinitionError, match="resource_config_by_key has config for 'nope'"):
        with_resources([a], {"warehouse": Warehouse(url="w")}, resource_config_by_key={"nope": {}})
    bound = with_resources([a], {"warehouse": Warehouse(url="w")})
    with pytest.raises(dg.DagsterInvalidInvocationError, match="conflicting resource definitions"):
        with_resources(bound, {"warehouse": Warehouse(url="other")})
    with pytest.raises(ResourceConfigError, match="takes no config"):
        with_resources(
            [a], {"warehouse": 5}, resource_config_by_key={"warehouse": {"config": {"x": 1}}}
        )


def test_with_resources_binds_a_source_assets_io_manager() -> None:
    store = dg.InMemoryIOManager()
    source = dg.SourceAsset("raw", io_manager_key="lake")
    (bound,) = with_resources([source], {"lake": store, "other": 1})
    assert bound.resource_defs == {"lake": store} and source.resource_defs == {}
    with pytest.raises(dg.DefinitionError, match="requires IO manager with key 'lake'"):
        with_resources([source], {})


# -- checks without running ----------------------------------------------------------------------


def test_validate_resource_config() -> None:
    @dg.resource(config_schema={"n": int})
    def legacy(_ctx: Any) -> int:
        return 1

    defs = {
        "w": Warehouse.configure_at_launch(),
        "legacy": legacy,
        "plain": 3,
        "fixed": legacy.configured({"n": 1}),
    }
    assert (
        validate_resource_config(
            defs, {"w": {"config": {"url": "u"}}, "legacy": {"config": {"n": 1}}}
        )
        == []
    )
    problems = validate_resource_config(
        defs,
        {
            "w": {"config": {"url": 1}, "extra": 1},
            "legacy": {"config": {}},
            "plain": {"config": {"a": 1}},
            "fixed": {"config": {"n": 2}},
            "ghost": {},
        },
    )
    assert len(problems) == 6, problems
    text = "\n".join(problems)
    assert 'Received unexpected config entry "ghost" at path root:resources.' in text
    assert 'Received unexpected config entry "extra" at path root:resources:w.' in text
    assert "Invalid scalar at path root:resources:w:config:url." in text
    assert 'Missing required config entry "n" at path root:resources:legacy:config.' in text
    assert "Resource 'plain' (int) takes no config." in text
    assert "configured in code with .configured(...)" in text
    # only the resources a run uses are checked for missing config
    assert validate_resource_config(defs, {}, required_keys=["plain"]) == []


def test_a_value_missing_from_configured_says_where_to_add_it() -> None:
    @dg.resource(config_schema={"bucket": str, "prefix": dg.Field(str, default_value="p")})
    def store(ctx: Any) -> str:
        return str(ctx.resource_config["bucket"])

    @dg.asset(required_resource_keys={"store"})
    def uses_store() -> int:
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.materialize([uses_store], resources={"store": store.configured({"prefix": "q"})})
    message = str(info.value)
    assert 'Missing required config entry "bucket" at path root:resources:store:config' in message
    assert "Add it to the config given to .configured(...)" in message
    assert "run config" not in message
    # given through run config instead, the message points there
    with pytest.raises(dg.DagsterInvalidConfigError, match="provide this value in your run config"):
        dg.materialize([uses_store], resources={"store": store})


def test_init_resource_context_sees_a_configurable_resources_config() -> None:
    seen: dict[str, Any] = {}

    class Probe(dg.ConfigurableResource):
        n: int = 2

        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            seen["config"] = context.resource_config
            seen["run_id"] = context.run_id

    with dg.build_resources(
        {"probe": Probe()}, resource_config={"probe": {"config": {"n": 3}}}
    ) as live:
        assert live.probe.n == 3
    assert seen["config"] == {"n": 3}


def test_resource_reprs_mask_secret_fields() -> None:
    class Store(dg.ConfigurableResource):
        bucket: str
        secret_access_key: str

    store = Store(bucket="b", secret_access_key="AKIA-very-secret")
    assert "AKIA-very-secret" not in repr(store) and "bucket='b'" in repr(store)


class Options(dg.Config):
    retries: int = 1
    timeout: float = 5.0


class Service(dg.ConfigurableResource):
    name: str
    options: Options = Options()


def test_run_config_merges_into_nested_config_entry_by_entry() -> None:
    @dg.asset
    def ping(service: Service) -> tuple[str, int, float]:
        return service.name, service.options.retries, service.options.timeout

    result = dg.materialize_to_memory(
        [ping],
        resources={"service": Service(name="s", options=Options(timeout=9.0))},
        run_config={"resources": {"service": {"config": {"options": {"retries": 3}}}}},
    )
    assert result.asset_value("ping") == ("s", 3, 9.0)
