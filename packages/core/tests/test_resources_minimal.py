"""Resources: ConfigurableResource, legacy @resource / ResourceDefinition, and initialize_resources."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import pytest
from pydantic import PrivateAttr

import weir as dg
from weir._config.resources import (
    ResourceConfigError,
    ResourceInitError,
    Resources,
    UnknownResourceError,
    build_resources,
    initialize_resources,
    is_configurable_resource,
)

# -- ConfigurableResource ----------------------------------------------------------------------


class Recorder:
    """Collects lifecycle calls so tests can assert their order."""

    def __init__(self) -> None:
        self.calls: list[str] = []


RECORDER = Recorder()


class Creds(dg.ConfigurableResource):
    user: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        RECORDER.calls.append(f"setup creds {self.user}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        RECORDER.calls.append("teardown creds")


class Db(dg.ConfigurableResource):
    url: str
    port: int = 5432
    _conn: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        RECORDER.calls.append(f"setup db {self.url}:{self.port}")
        self._conn = f"conn-to-{self.url}"

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        RECORDER.calls.append("teardown db")

    def query(self) -> str:
        return f"{self._conn}:{self.port}"


class Service(dg.ConfigurableResource):
    creds: Creds
    name: str = "svc"


@pytest.fixture(autouse=True)
def _fresh_recorder() -> Iterator[None]:
    RECORDER.calls.clear()
    yield
    RECORDER.calls.clear()


def test_configurable_resource_is_injected_after_setup_and_torn_down() -> None:
    @dg.asset
    def rows(db: Db) -> str:
        RECORDER.calls.append("step")
        return db.query()

    db = Db(url="pg")
    result = dg.materialize_to_memory([rows], resources={"db": db})
    assert result.asset_value("rows") == "conn-to-pg:5432"
    assert RECORDER.calls == ["setup db pg:5432", "step", "teardown db"]
    assert db._conn is None  # set-up state lives on a per-run copy, not the user's object


def test_teardown_runs_when_the_step_fails() -> None:
    @dg.asset
    def boom(db: Db) -> int:
        raise ValueError("bad row")

    result = dg.materialize_to_memory([boom], resources={"db": Db(url="pg")}, raise_on_error=False)
    assert not result.success
    assert RECORDER.calls == ["setup db pg:5432", "teardown db"]


def test_yield_for_execution_is_the_lifecycle() -> None:
    class Pool(dg.ConfigurableResource):
        size: int

        @contextmanager
        def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Any]:
            RECORDER.calls.append("open")
            yield {"pool": self.size}
            RECORDER.calls.append("close")

    with initialize_resources({"pool": Pool(size=2)}, ["pool"]) as live:
        assert live.pool == {"pool": 2}
        assert RECORDER.calls == ["open"]
    assert RECORDER.calls == ["open", "close"]


def test_nested_resources_are_initialised_first_and_shared() -> None:
    creds = Creds(user="ada")
    svc = Service(creds=creds)
    with initialize_resources({"svc": svc, "creds": creds}, ["svc", "creds"]) as live:
        assert live.svc.creds is live.creds  # one initialisation, shared
        assert live.svc.creds.user == "ada"
    assert RECORDER.calls == ["setup creds ada", "teardown creds"]


def test_nested_resource_that_is_not_top_level_is_still_initialised() -> None:
    with initialize_resources({"svc": Service(creds=Creds(user="bo"))}, ["svc"]) as live:
        assert live.svc.creds.user == "bo"
    assert RECORDER.calls == ["setup creds bo", "teardown creds"]


def test_only_required_keys_are_initialised() -> None:
    defs = {"db": Db(url="pg"), "creds": Creds(user="x")}
    with initialize_resources(defs, ["creds"]) as live:
        assert sorted(live) == ["creds"]
    assert RECORDER.calls == ["setup creds x", "teardown creds"]


def test_run_config_overrides_and_configure_at_launch() -> None:
    with initialize_resources(
        {"db": Db(url="pg"), "late": Db.configure_at_launch(port=1)},
        ["db", "late"],
        resources_config={"db": {"config": {"port": 6543}}, "late": {"config": {"url": "mysql"}}},
    ) as live:
        assert (live.db.url, live.db.port) == ("pg", 6543)
        assert (live.late.url, live.late.port) == ("mysql", 1)


def test_resource_config_errors_name_the_path() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        with initialize_resources(
            {"db": Db.configure_at_launch()},
            ["db"],
            resources_config={"db": {"config": {"port": "high"}}},
        ):
            pass
    message = str(info.value)
    assert 'Missing required config entry "url" at path root:resources:db:config' in message
    assert "Invalid scalar at path root:resources:db:config:port" in message
    assert isinstance(info.value, dg.ResourceError)


def test_plain_objects_and_resource_param() -> None:
    raw = {"k": 1}

    @dg.asset
    def uses_raw(raw: dg.ResourceParam[dict]) -> int:
        return raw["k"]

    result = dg.materialize_to_memory([uses_raw], resources={"raw": raw})
    assert result.asset_value("uses_raw") == 1
    with initialize_resources({"raw": raw}, ["raw"]) as live:
        assert live["raw"] is raw


# -- legacy resources ---------------------------------------------------------------------------


def test_legacy_generator_resource_tears_down_after_yield_in_reverse_order() -> None:
    @dg.resource
    def base(init_context: dg.InitResourceContext) -> Iterator[str]:
        RECORDER.calls.append("open base")
        yield "base"
        RECORDER.calls.append("close base")

    @dg.resource(required_resource_keys={"base"}, config_schema={"suffix": str})
    def derived(init_context: dg.InitResourceContext) -> Iterator[str]:
        RECORDER.calls.append("open derived")
        yield init_context.resources.base + init_context.resource_config["suffix"]
        RECORDER.calls.append("close derived")

    with initialize_resources(
        {"derived": derived, "base": base},
        ["derived"],
        resources_config={"derived": {"config": {"suffix": "+d"}}},
    ) as live:
        assert live.derived == "base+d"
        assert sorted(live) == ["base", "derived"]
    assert RECORDER.calls == ["open base", "open derived", "close derived", "close base"]


def test_legacy_config_schema_is_checked_with_paths() -> None:
    @dg.resource(config_schema={"url": str, "port": Optional[int]})
    def conn(init_context: dg.InitResourceContext) -> Any:
        return init_context.resource_config

    with initialize_resources(
        {"conn": conn}, ["conn"], resources_config={"conn": {"config": {"url": "u"}}}
    ) as live:
        assert live.conn == {
            "url": "u",
            "port": None,
        }  # an implicitly optional entry defaults to None
    with pytest.raises(ResourceConfigError) as info:
        with initialize_resources(
            {"conn": conn}, ["conn"], resources_config={"conn": {"config": {"port": "1", "x": 1}}}
        ):
            pass
    errors = "\n".join(info.value.errors)
    assert 'Missing required config entry "url" at path root:resources:conn:config' in errors
    assert 'Invalid scalar at path root:resources:conn:config:port. Value "1"' in errors
    assert 'Received unexpected config entry "x" at path root:resources:conn:config' in errors


def test_configured_hardcoded_and_none_resources() -> None:
    @dg.resource(config_schema={"greeting": str})
    def greeter(init_context: dg.InitResourceContext) -> str:
        return init_context.resource_config["greeting"] + "!"

    defs = {
        "hi": greeter.configured({"greeting": "hi"}),
        "const": dg.ResourceDefinition.hardcoded_resource(42),
        "nothing": dg.ResourceDefinition.none_resource(),
        "no_ctx": dg.ResourceDefinition(lambda: "made without a context"),
    }
    with initialize_resources(defs, list(defs)) as live:
        assert (live.hi, live.const, live.nothing, live.no_ctx) == (
            "hi!",
            42,
            None,
            "made without a context",
        )
    with pytest.raises(ResourceConfigError, match="configured in code with .configured"):
        with initialize_resources(
            defs, ["hi"], resources_config={"hi": {"config": {"greeting": "yo"}}}
        ):
            pass


def test_resource_definitions_can_be_called_directly() -> None:
    @dg.resource(config_schema={"n": int})
    def doubled(init_context: dg.InitResourceContext) -> int:
        return init_context.resource_config["n"] * 2

    assert doubled(dg.build_init_resource_context(config={"n": 4})) == 8

    @dg.resource
    def gen(_init_context: Any) -> Iterator[str]:
        yield "v"
        RECORDER.calls.append("closed")

    with gen(dg.build_init_resource_context()) as value:
        assert value == "v"
    assert RECORDER.calls == ["closed"]


def test_init_resource_context_fields() -> None:
    seen: dict[str, Any] = {}

    @dg.resource(required_resource_keys={"dep"})
    def probe(init_context: dg.InitResourceContext) -> str:
        seen["config"] = init_context.resource_config
        seen["dep"] = init_context.resources.dep
        seen["instance"] = init_context.instance
        seen["run_id"] = init_context.run_id
        seen["def"] = init_context.resource_def
        seen["log"] = init_context.log
        return "ok"

    instance = dg.DagsterInstance.ephemeral()
    with initialize_resources(
        {"probe": probe, "dep": 7}, ["probe"], instance=instance, run_id="r1"
    ) as live:
        assert live.probe == "ok"
    assert seen["dep"] == 7 and seen["instance"] is instance and seen["run_id"] == "r1"
    assert seen["def"] is probe and seen["config"] is None
    assert isinstance(seen["log"], logging.Logger)


def test_build_init_resource_context_initialises_and_tears_down() -> None:
    with dg.build_init_resource_context(
        config={"a": 1}, resources={"db": Db(url="x"), "raw": 5}
    ) as ctx:
        assert ctx.resource_config == {"a": 1}
        assert ctx.resources.raw == 5 and ctx.resources.db.url == "x"
        assert RECORDER.calls == ["setup db x:5432"]
    assert RECORDER.calls == ["setup db x:5432", "teardown db"]


def test_configurable_resource_from_resource_context() -> None:
    ctx = dg.build_init_resource_context(config={"url": "pg", "port": 1})
    db = Db.from_resource_context(ctx)
    assert isinstance(db, Db) and (db.url, db.port) == ("pg", 1)


# -- errors and teardown guarantees --------------------------------------------------------------


def test_missing_key_names_it_and_suggests() -> None:
    with pytest.raises(dg.ResourceError) as info:
        with initialize_resources({"database": 1, "io_manager": 2}, ["databse"]):
            pass
    message = str(info.value)
    assert "Resource 'databse' was not provided" in message
    assert "['database', 'io_manager']" in message
    assert "Did you mean 'database'?" in message


def test_missing_dependency_names_who_needs_it() -> None:
    @dg.resource(required_resource_keys={"creds"})
    def client(_ctx: Any) -> int:
        return 1

    with pytest.raises(dg.ResourceError, match="'creds' \\(required by resource 'client'\\)"):
        with initialize_resources({"client": client}, ["client"]):
            pass


def test_dependency_cycle_is_reported() -> None:
    a = dg.ResourceDefinition(lambda _c: 1, required_resource_keys={"b"})
    b = dg.ResourceDefinition(lambda _c: 2, required_resource_keys={"a"})
    with pytest.raises(dg.ResourceError, match="cycle: a -> b -> a"):
        with initialize_resources({"a": a, "b": b}, ["a"]):
            pass


def test_init_failure_names_the_key_keeps_the_cause_and_tears_down_the_rest() -> None:
    class Broken(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            raise ConnectionError("host down")

    with pytest.raises(ResourceInitError) as info:
        with initialize_resources({"db": Db(url="a"), "broken": Broken()}, ["db", "broken"]):
            pass
    assert "resource 'broken' (Broken): ConnectionError: host down" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert info.value.user_exception is info.value.__cause__
    assert info.value.resource_key == "broken"
    assert RECORDER.calls == ["setup db a:5432", "teardown db"]


def test_nested_init_failure_names_the_field_path() -> None:
    class BadCreds(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            raise RuntimeError("no token")

    class Uses(dg.ConfigurableResource):
        creds: BadCreds

    with pytest.raises(dg.ResourceError, match="resource 'svc.creds'"):
        with initialize_resources({"svc": Uses(creds=BadCreds())}, ["svc"]):
            pass


def test_failing_teardown_does_not_hide_the_original_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @dg.resource
    def flaky(_ctx: Any) -> Iterator[int]:
        yield 1
        raise OSError("teardown exploded")

    with pytest.raises(KeyError, match="from the body"):
        with initialize_resources({"flaky": flaky, "db": Db(url="z")}, ["db", "flaky"]):
            raise KeyError("from the body")
    assert RECORDER.calls == ["setup db z:5432", "teardown db"]  # later teardowns still ran
    assert "Teardown of resource 'flaky' failed" in caplog.text


def test_failing_teardown_after_success_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @dg.resource
    def flaky(_ctx: Any) -> Iterator[int]:
        yield 1
        raise OSError("teardown exploded")

    with initialize_resources({"flaky": flaky}, ["flaky"]) as live:
        assert live.flaky == 1
    assert "teardown exploded" in caplog.text


def test_resources_object_access() -> None:
    live = Resources({"db": 1, "io_manager": 2})
    assert live.db == 1 and live["io_manager"] == 2 and live.get("nope") is None
    assert "db" in live and len(live) == 2 and sorted(live) == ["db", "io_manager"]
    assert repr(live) == "Resources(['db', 'io_manager'])"
    assert not hasattr(live, "dbx")
    with pytest.raises(UnknownResourceError, match="Unknown resource 'dbb'.*Did you mean 'db'"):
        live.dbb  # noqa: B018
    with pytest.raises(KeyError):
        live["dbb"]
    assert isinstance(UnknownResourceError("x"), dg.DagsterUnknownResourceError)


def test_io_manager_factories_and_definitions_yield_their_managers(tmp_path: Any) -> None:
    class Store(dg.IOManager):
        def __init__(self, tag: str) -> None:
            self.tag = tag

        def handle_output(self, context: Any, obj: Any) -> None: ...

        def load_input(self, context: Any) -> Any: ...

    class Factory(dg.ConfigurableIOManagerFactory):
        tag: str

        def create_io_manager(self, context: dg.InitResourceContext) -> dg.IOManager:
            return Store(self.tag)

    @dg.io_manager(config_schema={"tag": str})
    def legacy(init_context: dg.InitResourceContext) -> Store:
        return Store(init_context.resource_config["tag"])

    plain = Store("plain")
    defs = {"a": Factory(tag="fa"), "b": legacy.configured({"tag": "lb"}), "c": plain}
    with initialize_resources(defs, ["a", "b", "c"]) as live:
        assert (live.a.tag, live.b.tag) == ("fa", "lb")
        assert live.c is plain


def test_is_configurable_resource_never_imports_pydantic() -> None:
    code = (
        "import sys; from weir._config.resources import is_configurable_resource as f; "
        "print(f(object()), 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
    assert is_configurable_resource(Db(url="x"))
    assert is_configurable_resource(Db.configure_at_launch())
    assert not is_configurable_resource(dg.InMemoryIOManager())


def test_build_resources_is_a_context_manager() -> None:
    @dg.resource(config_schema={"n": int})
    def number(init_context: dg.InitResourceContext) -> int:
        return init_context.resource_config["n"]

    with build_resources(
        {"db": Db(url="b"), "number": number}, resource_config={"number": {"n": 3}}
    ) as live:
        assert live.number == 3 and live.db.url == "b"
    assert RECORDER.calls == ["setup db b:5432", "teardown db"]
