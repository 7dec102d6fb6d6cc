"""The plugin manager, the registries and the built-in plugins, with real pluggy.

Plugins here are plain local classes registered in-process on a manager built with autoload
off; plugins from installed distributions are in ``test_plugin_distribution.py``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import weir
from weir import hookspecs
from weir.errors import PluginError, StorageError
from weir.hookspecs import hookimpl
from weir.plugins import (
    PluginInfo,
    PluginRegistry,
    Registry,
    default_plugin_manager,
    get_plugin_manager,
    reset_default_plugin_manager,
)

ENV_VARS = ("WEIR_DISABLE_PLUGIN_AUTOLOAD", "WEIR_DISABLED_PLUGINS", "WEIR_TRACE_PLUGINS")


@pytest.fixture(autouse=True)
def _clean_plugin_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    reset_default_plugin_manager()
    yield
    reset_default_plugin_manager()


def local_resource(plugin_name: str, class_name: str = "LocalResource") -> type[Any]:
    return type(class_name, (), {"plugin_name": plugin_name, "__module__": __name__})


class ResourcePlugin:
    """A local plugin registering the given resource classes."""

    def __init__(self, *classes: Any) -> None:
        self.classes = list(classes)

    @hookimpl
    def weir_register_resources(self) -> list[Any]:
        return self.classes


def fresh_pm(**kwargs: Any) -> Any:
    return get_plugin_manager(autoload=False, **kwargs)


# --------------------------------------------------------------------------- built-ins and import


def test_importing_weir_and_plugins_loads_no_plugin() -> None:
    code = (
        "import sys, weir, weir.plugins as p\n"
        "assert 'pluggy' in sys.modules\n"
        "assert p._default_pm is None\n"
        "assert not [m for m in sys.modules if m.startswith('weir.builtin.') or m.startswith('weir._io')]\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_builtins_are_listed_as_plugins_from_weir() -> None:
    infos = PluginRegistry(fresh_pm()).list_plugins()
    assert PluginInfo("weir.builtin.io_managers", "weir (built-in)", weir.__version__) in infos
    assert PluginInfo("weir.builtin.executors", "weir (built-in)", weir.__version__) in infos


def test_builtin_executor_is_registered_through_the_hook() -> None:
    from weir._execution.executor_def import in_process_executor

    executors = PluginRegistry(fresh_pm()).executors()
    assert executors.get("in_process") is in_process_executor
    assert "in_process" in executors.names()


def test_builtin_io_managers_are_registered_by_name() -> None:
    io_managers = PluginRegistry(fresh_pm()).io_managers()
    assert {"filesystem", "in_memory"} <= set(io_managers.names())
    assert io_managers.get("filesystem").__name__ == "FilesystemIOManager"
    assert io_managers.get("in_memory").__name__ == "InMemoryIOManager"


def test_public_names_are_the_plugin_api() -> None:
    assert weir.hookimpl is hookspecs.hookimpl
    assert weir.get_plugin_manager is get_plugin_manager


# --------------------------------------------------------------------------- local plugins and registries


def test_local_plugin_class_registers_a_resource() -> None:
    pm = fresh_pm()
    cls = local_resource("tiny_local")
    pm.register(ResourcePlugin(cls), name="local")
    registry = PluginRegistry(pm)
    assert registry.resources().collect() == {"tiny_local": cls}
    assert (
        PluginInfo("local", "(registered directly, not from a distribution)", "")
        in registry.list_plugins()
    )


def test_all_collect_registries_read_their_hooks() -> None:
    class Everything:
        classes: ClassVar[dict[str, type[Any]]] = {
            kind: local_resource(f"{kind}_x", f"{kind.title()}X")
            for kind in ("io", "res", "comp", "part")
        }

        @hookimpl
        def weir_register_io_managers(self) -> list[Any]:
            return [self.classes["io"]]

        @hookimpl
        def weir_register_resources(self) -> list[Any]:
            return [self.classes["res"]]

        @hookimpl
        def weir_register_components(self) -> list[Any]:
            return [self.classes["comp"]]

        @hookimpl
        def weir_register_partition_types(self) -> list[Any]:
            return [self.classes["part"]]

    pm = fresh_pm(disabled=["weir.builtin.io_managers"])
    pm.register(Everything(), name="everything")
    registry = PluginRegistry(pm)
    assert registry.io_managers().names() == ["io_x"]
    assert registry.resources().names() == ["res_x"]
    assert registry.components().get("comp_x").__name__ == "CompX"
    assert registry.partition_types().get("part_x").__name__ == "PartX"


def test_duplicate_name_names_both_classes_and_both_plugins() -> None:
    pm = fresh_pm()
    pm.register(ResourcePlugin(local_resource("dup", "FirstResource")), name="first_plugin")
    pm.register(ResourcePlugin(local_resource("dup", "SecondResource")), name="second_plugin")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).resources().collect()
    message = str(info.value)
    assert "The resource name 'dup' is registered twice" in message
    assert "FirstResource" in message and "SecondResource" in message
    assert "'first_plugin'" in message and "'second_plugin'" in message
    assert "WEIR_DISABLED_PLUGINS=first_plugin" in message
    assert "WEIR_DISABLED_PLUGINS=second_plugin" in message


def test_duplicate_of_a_builtin_names_weir_as_its_distribution() -> None:
    from weir._execution.executor_def import ExecutorDefinition

    class ExecutorPlugin:
        @hookimpl
        def weir_register_executors(self) -> list[Any]:
            return [ExecutorDefinition("in_process")]

    pm = fresh_pm()
    pm.register(ExecutorPlugin(), name="impostor")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).executors().collect()
    message = str(info.value)
    assert "The executor name 'in_process' is registered twice" in message
    assert "'weir.builtin.executors' from weir (built-in)" in message
    assert "'impostor'" in message


def test_the_same_class_registered_twice_is_not_a_duplicate() -> None:
    cls = local_resource("shared")
    pm = fresh_pm()
    pm.register(ResourcePlugin(cls, cls), name="one")
    pm.register(ResourcePlugin(cls), name="two")
    assert PluginRegistry(pm).resources().collect() == {"shared": cls}


def test_unknown_name_suggests_the_closest_and_lists_known_names() -> None:
    pm = fresh_pm(disabled=["some_disabled_plugin"])
    pm.register(ResourcePlugin(local_resource("duckdb"), local_resource("s3", "S3")), name="local")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).resources().get("duckbd")
    message = str(info.value)
    assert "Unknown resource 'duckbd'" in message
    assert "Did you mean 'duckdb'?" in message
    assert "Known resources: duckdb, s3." in message
    assert "Disabled plugins: some_disabled_plugin." in message


def test_unknown_name_when_nothing_is_registered() -> None:
    with pytest.raises(
        PluginError, match=r"Unknown component 'x'\. No components are registered\."
    ):
        PluginRegistry(fresh_pm()).components().get("x")


@pytest.mark.parametrize("bad_name", [None, "", 42])
def test_item_without_a_usable_plugin_name_is_rejected(bad_name: Any) -> None:
    attrs = {} if bad_name is None else {"plugin_name": bad_name}
    cls = type("NamelessResource", (), attrs)
    pm = fresh_pm()
    pm.register(ResourcePlugin(cls), name="careless")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).resources().collect()
    message = str(info.value)
    assert "NamelessResource" in message and "'careless'" in message
    assert "plugin_name: ClassVar[str]" in message


def test_hook_must_return_a_list() -> None:
    class SloppyPlugin:
        @hookimpl
        def weir_register_resources(self) -> Any:
            return local_resource("alone")

    pm = fresh_pm()
    pm.register(SloppyPlugin(), name="sloppy")
    with pytest.raises(PluginError, match=r"of plugin 'sloppy'.*must return a list of resources"):
        PluginRegistry(pm).resources().collect()


def test_registry_checks_what_kind_of_item_it_gets() -> None:
    from weir._execution.executor_def import ExecutorDefinition

    class ClassInsteadOfInstance:
        @hookimpl
        def weir_register_executors(self) -> list[Any]:
            return [ExecutorDefinition]

    class InstanceInsteadOfClass:
        @hookimpl
        def weir_register_resources(self) -> list[Any]:
            return [local_resource("r")()]

    pm = fresh_pm()
    pm.register(ClassInsteadOfInstance(), name="cls_plugin")
    pm.register(InstanceInsteadOfClass(), name="inst_plugin")
    registry = PluginRegistry(pm)
    with pytest.raises(PluginError, match=r"'cls_plugin'.*expected an ExecutorDefinition instance"):
        registry.executors().collect()
    with pytest.raises(PluginError, match=r"'inst_plugin'.*expected a class"):
        registry.resources().collect()


def test_registry_refuses_a_hook_that_is_not_a_collect_hook() -> None:
    with pytest.raises(PluginError, match=r"Did you mean 'weir_register_resources'"):
        Registry(fresh_pm(), "weir_register_resource", "resource")
    with pytest.raises(
        PluginError, match="is a firstresult hook; a Registry reads collect hooks only"
    ):
        Registry(fresh_pm(), "weir_storage_for_url", "storage")


def test_registry_sees_plugins_registered_after_it_was_made() -> None:
    pm = fresh_pm()
    resources = PluginRegistry(pm).resources()
    assert resources.collect() == {}
    cls = local_resource("late")
    pm.register(ResourcePlugin(cls), name="late_plugin")
    assert resources.get("late") is cls


# --------------------------------------------------------------------------- hooks that raise


def test_hook_that_raises_gives_a_plugin_error_naming_the_plugin() -> None:
    class ExplodingPlugin:
        @hookimpl
        def weir_register_resources(self) -> list[Any]:
            raise ValueError("boom in registration")

    pm = fresh_pm()
    pm.register(ExplodingPlugin(), name="exploding")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).resources().collect()
    message = str(info.value)
    assert "Plugin 'exploding' (registered directly" in message
    assert "raised ValueError in weir_register_resources(): boom in registration" in message
    assert "WEIR_DISABLED_PLUGINS=exploding" in message
    assert isinstance(info.value.__cause__, ValueError)


# --------------------------------------------------------------------------- disabling and autoload


def test_disable_a_builtin_with_the_argument() -> None:
    pm = fresh_pm(disabled=["weir.builtin.executors"])
    registry = PluginRegistry(pm)
    assert registry.executors().collect() == {}
    assert "weir.builtin.executors" not in [info.name for info in registry.list_plugins()]
    assert registry.disabled_plugins() == ["weir.builtin.executors"]
    with pytest.raises(PluginError, match=r"Disabled plugins: weir\.builtin\.executors"):
        registry.executors().get("in_process")


def test_disabled_accepts_a_single_string() -> None:
    assert PluginRegistry(fresh_pm(disabled="weir.builtin.executors")).executors().collect() == {}


def test_disable_a_builtin_with_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "WEIR_DISABLED_PLUGINS",
        " weir.builtin.executors , weir.builtin.io_managers,weir.builtin.storage,"
        "weir.builtin.partitions",
    )
    registry = PluginRegistry(fresh_pm())
    assert registry.executors().collect() == {}
    assert registry.io_managers().collect() == {}
    assert registry.list_plugins() == []


# --------------------------------------------------------------------------- storage, commands, events


class FakeStorage:
    def __init__(self, url: str) -> None:
        self.url = url


class MemStoragePlugin:
    WEIR_STORAGE_SCHEMES = ("memtest",)

    @hookimpl(trylast=True)
    def weir_storage_for_url(self, url: str) -> FakeStorage | None:
        return FakeStorage(url) if url.startswith("memtest://") else None


def test_storage_for_url_finds_the_plugin_for_the_scheme() -> None:
    pm = fresh_pm()
    pm.register(MemStoragePlugin(), name="memtest_storage")
    storage = PluginRegistry(pm).storage_for_url("memtest://here")
    assert isinstance(storage, FakeStorage) and storage.url == "memtest://here"


def test_storage_for_url_asks_later_plugins_first() -> None:
    class Override:
        WEIR_STORAGE_SCHEMES = ("memtest",)

        @hookimpl
        def weir_storage_for_url(self, url: str) -> str:
            return "override"

    pm = fresh_pm()
    pm.register(MemStoragePlugin(), name="memtest_storage")
    pm.register(Override(), name="override")
    assert PluginRegistry(pm).storage_for_url("memtest://here") == "override"


def test_storage_for_unknown_scheme_lists_supported_and_hides_the_password() -> None:
    class Undeclared:
        @hookimpl
        def weir_storage_for_url(self, url: str) -> None:
            return None

    pm = fresh_pm()
    pm.register(MemStoragePlugin(), name="memtest_storage")
    pm.register(Undeclared(), name="undeclared")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).storage_for_url("postgresql://admin:hunter2@db/prod")
    message = str(info.value)
    assert "scheme 'postgresql'" in message
    assert "memtest:// (plugin 'memtest_storage'" in message
    assert "'undeclared'" in message and "declares no WEIR_STORAGE_SCHEMES" in message
    assert "hunter2" not in message


def test_storage_with_no_storage_plugins() -> None:
    pm = fresh_pm(disabled=["weir.builtin.storage"])
    with pytest.raises(PluginError, match="no installed plugin implements weir_storage_for_url"):
        PluginRegistry(pm).storage_for_url("sqlite:///x.db")


def test_the_builtin_storage_plugin_serves_sqlite_urls(tmp_path: Path) -> None:
    registry = PluginRegistry(fresh_pm())
    storage = registry.storage_for_url(f"sqlite:///{tmp_path / 'weir.db'}")
    try:
        assert storage.get_runs_count() == 0
    finally:
        storage.dispose()
    with pytest.raises(
        PluginError, match=r"scheme 'mongodb'.*sqlite:// \(plugin 'weir.builtin.storage'"
    ):
        registry.storage_for_url("mongodb://db/weir")


def test_storage_plugin_errors_keep_their_type_or_are_wrapped() -> None:
    class Refusing:
        @hookimpl
        def weir_storage_for_url(self, url: str) -> None:
            if "weir" in url:
                raise StorageError("database 'x' is unreachable")
            raise OSError("socket closed")

    pm = fresh_pm()
    pm.register(Refusing(), name="refusing")
    registry = PluginRegistry(pm)
    with pytest.raises(StorageError, match="unreachable"):
        registry.storage_for_url("weir://x")
    with pytest.raises(
        PluginError, match=r"'refusing'.*raised OSError in weir_storage_for_url\(\)"
    ):
        registry.storage_for_url("other://x")


def test_register_commands_lets_each_plugin_add_to_the_cli() -> None:
    class Group:
        def __init__(self) -> None:
            self.commands: dict[str, Callable[[], str]] = {}

        def command(self, name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
            def add(fn: Callable[[], str]) -> Callable[[], str]:
                self.commands[name] = fn
                return fn

            return add

    class CommandPlugin:
        @hookimpl
        def weir_register_commands(self, cli: Group) -> None:
            @cli.command("hello")
            def hello() -> str:
                return "hi"

    pm = fresh_pm()
    pm.register(CommandPlugin(), name="commands")
    group = Group()
    PluginRegistry(pm).register_commands(group)
    assert group.commands["hello"]() == "hi"


def test_notify_event_reaches_every_observer_and_reports_failures() -> None:
    seen: list[tuple[str, object]] = []

    class Observer:
        def __init__(self, label: str, fail: bool) -> None:
            self.label, self.fail = label, fail

        @hookimpl
        def weir_on_event(self, event: object) -> None:
            seen.append((self.label, event))
            if self.fail:
                raise KeyError(self.label)

    event = weir.DagsterEvent(event_type_value="STEP_START", job_name="observed_job")
    pm = fresh_pm()
    registry = PluginRegistry(pm)
    registry.notify_event(event)  # no observers: nothing happens

    pm.register(Observer("ok", fail=False), name="ok_observer")
    registry.notify_event(event)
    assert seen == [("ok", event)]

    pm.register(Observer("bad", fail=True), name="bad_observer")
    seen.clear()
    with pytest.raises(
        PluginError, match=r"'bad_observer'.*raised KeyError in weir_on_event"
    ) as info:
        registry.notify_event(event)
    assert sorted(label for label, _ in seen) == ["bad", "ok"]
    assert isinstance(info.value.__cause__, KeyError)

    pm.register(Observer("worse", fail=True), name="worse_observer")
    seen.clear()
    with pytest.raises(PluginError, match="2 weir_on_event observers failed") as info:
        registry.notify_event(event)
    assert "'bad_observer'" in str(info.value) and "'worse_observer'" in str(info.value)
    assert len(seen) == 3


# --------------------------------------------------------------------------- default manager, tracing


def test_default_manager_is_built_once_and_can_be_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_DISABLED_PLUGINS", "weir.builtin.executors")
    first = default_plugin_manager()
    assert default_plugin_manager() is first
    assert PluginRegistry().executors().collect() == {}
    monkeypatch.delenv("WEIR_DISABLED_PLUGINS")
    assert PluginRegistry().pm is first  # the environment is read when the manager is built
    reset_default_plugin_manager()
    assert default_plugin_manager() is not first
    assert "in_process" in PluginRegistry().executors().names()


def test_trace_plugins_logs_hook_calls_at_debug(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WEIR_TRACE_PLUGINS", "1")
    registry = PluginRegistry(fresh_pm())
    with caplog.at_level(logging.DEBUG, logger="weir.plugins"):
        registry.executors().collect()
    traced = [
        r.getMessage()
        for r in caplog.records
        if r.name == "weir.plugins" and r.levelno == logging.DEBUG
    ]
    assert any("weir_register_executors" in line for line in traced)
    assert any("finish" in line and "in_process" in line for line in traced)


def test_no_tracing_without_the_switch(caplog: pytest.LogCaptureFixture) -> None:
    registry = PluginRegistry(fresh_pm())
    with caplog.at_level(logging.DEBUG, logger="weir.plugins"):
        registry.executors().collect()
    assert not [r for r in caplog.records if "weir_register_executors" in r.getMessage()]
