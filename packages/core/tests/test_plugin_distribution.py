"""Plugins that come from installed distributions, found through the ``weir.plugins`` entry points.

Two levels of realism:

* in-process: a ``*.dist-info`` folder and a module written to a temporary folder on
  ``sys.path``, found by ``importlib.metadata`` exactly as an installed package would be;
* a real wheel, built with hatchling and installed with pip into a target folder, checked
  from a fresh interpreter with ``PYTHONPATH`` pointing there.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from weir.errors import PluginError
from weir.hookspecs import hookimpl
from weir.plugins import (
    PluginInfo,
    PluginRegistry,
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
    before = set(sys.modules)
    yield
    reset_default_plugin_manager()
    for name in set(sys.modules) - before:
        if name.startswith("weirtest_"):
            del sys.modules[name]


MakeDist = Callable[..., None]


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeDist:
    """Write an installed distribution (dist-info + modules) into a folder on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def make(
        name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
    ) -> None:
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[weir.plugins]\n{lines}")
        importlib.invalidate_caches()

    return make


GOOD_PLUGIN = """
    from typing import ClassVar
    from weir.hookspecs import hookimpl

    class EpResource:
        plugin_name: ClassVar[str] = "ep_resource"

    @hookimpl
    def weir_register_resources():
        return [EpResource]
"""


class ResourcePlugin:
    """A local plugin registering the given resource classes."""

    def __init__(self, *classes: Any) -> None:
        self.classes = list(classes)

    @hookimpl
    def weir_register_resources(self) -> list[Any]:
        return self.classes


# --------------------------------------------------------------------------- in-process distributions


def test_entry_point_plugin_is_loaded_with_its_distribution(make_dist: MakeDist) -> None:
    make_dist(
        "weirtest-good",
        "1.2.3",
        {"weirtest_good": "weirtest_good_mod"},
        {"weirtest_good_mod": GOOD_PLUGIN},
    )
    registry = PluginRegistry(get_plugin_manager())
    assert PluginInfo("weirtest_good", "weirtest-good", "1.2.3") in registry.list_plugins()
    assert registry.resources().get("ep_resource").__name__ == "EpResource"


def test_duplicate_with_an_entry_point_plugin_names_its_distribution(make_dist: MakeDist) -> None:
    make_dist(
        "weirtest-good",
        "1.2.3",
        {"weirtest_good": "weirtest_good_mod"},
        {"weirtest_good_mod": GOOD_PLUGIN},
    )
    pm = get_plugin_manager()
    pm.register(ResourcePlugin(type("MyResource", (), {"plugin_name": "ep_resource"})), name="mine")
    with pytest.raises(PluginError) as info:
        PluginRegistry(pm).resources().collect()
    message = str(info.value)
    assert (
        "weirtest_good_mod.EpResource from plugin 'weirtest_good' from weirtest-good 1.2.3"
        in message
    )
    assert "MyResource" in message and "'mine'" in message


def test_autoload_switches(make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    make_dist(
        "weirtest-good",
        "1.0",
        {"weirtest_good": "weirtest_good_mod"},
        {"weirtest_good_mod": GOOD_PLUGIN},
    )

    def loaded(**kwargs: Any) -> bool:
        return get_plugin_manager(**kwargs).has_plugin("weirtest_good")

    assert loaded()
    assert not loaded(autoload=False)
    monkeypatch.setenv("WEIR_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert not loaded()
    assert loaded(autoload=True)  # an explicit argument wins over the environment
    assert get_plugin_manager().has_plugin("weir.builtin.executors")  # built-ins always load
    monkeypatch.setenv("WEIR_DISABLE_PLUGIN_AUTOLOAD", "0")
    assert loaded()


def test_broken_plugin_import_in_strict_mode_is_a_plugin_error_naming_everything(
    make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(
        "weirtest-broken",
        "0.9",
        {"weirtest_broken": "weirtest_broken_mod"},
        {"weirtest_broken_mod": "raise RuntimeError('vendor SDK missing')\n"},
    )
    with pytest.raises(PluginError) as info:
        get_plugin_manager(strict=True)
    message = str(info.value)
    assert "'weirtest_broken = weirtest_broken_mod'" in message
    assert "weirtest-broken 0.9" in message
    assert "RuntimeError: vendor SDK missing" in message
    assert "WEIR_DISABLED_PLUGINS=weirtest_broken" in message
    assert isinstance(info.value.__cause__, RuntimeError)
    # the environment switch; nothing half-built is cached as the default
    monkeypatch.setenv("WEIR_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError):
        default_plugin_manager()
    assert get_plugin_manager(strict=False) is not None  # the argument wins


def test_broken_plugin_import_is_left_out_with_a_warning_and_named_by_lookups(
    make_dist: MakeDist, caplog: pytest.LogCaptureFixture
) -> None:
    make_dist(
        "weirtest-broken",
        "0.9",
        {"weirtest_broken": "weirtest_broken_mod"},
        {"weirtest_broken_mod": "raise RuntimeError('vendor SDK missing')\n"},
    )
    with caplog.at_level(logging.WARNING, logger="weir.plugins"):
        pm = get_plugin_manager()
    assert not pm.has_plugin("weirtest_broken")
    assert pm.has_plugin("weir.builtin.io_managers")  # everything else still works
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "weirtest-broken 0.9" in warning and "RuntimeError: vendor SDK missing" in warning
    assert "WEIR_DISABLED_PLUGINS=weirtest_broken" in warning
    registry = PluginRegistry(pm)
    [broken] = registry.broken_plugins()
    assert (broken.name, broken.distribution, broken.version) == (
        "weirtest_broken",
        "weirtest-broken",
        "0.9",
    )
    assert broken.error == "RuntimeError: vendor SDK missing"
    with pytest.raises(PluginError) as info:
        registry.io_managers().get("parquet")
    assert "failed to import and were left out: 'weirtest_broken' (weirtest-broken 0.9)" in str(
        info.value
    )
    with pytest.raises(PluginError, match="failed to import.*vendor SDK missing"):
        registry.storage_for_url("duckdb:///x.db")
    # a disabled broken plugin is not even imported, so it is not reported
    assert PluginRegistry(get_plugin_manager(disabled=["weirtest_broken"])).broken_plugins() == []


def test_broken_plugin_can_be_disabled_or_skipped(
    make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(
        "weirtest-broken",
        "0.9",
        {"weirtest_broken": "weirtest_broken_mod"},
        {"weirtest_broken_mod": "1 / 0\n"},
    )
    assert not get_plugin_manager(disabled=["weirtest_broken"]).has_plugin("weirtest_broken")
    assert not get_plugin_manager(autoload=False).has_plugin("weirtest_broken")
    monkeypatch.setenv("WEIR_DISABLED_PLUGINS", "weirtest_broken")
    assert PluginRegistry(get_plugin_manager()).disabled_plugins() == ["weirtest_broken"]


def test_disabling_an_unknown_name_from_the_environment_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WEIR_DISABLED_PLUGINS", "weirtest_no_such_plugin")
    with caplog.at_level(logging.WARNING, logger="weir.plugins"):
        get_plugin_manager()
    assert any("weirtest_no_such_plugin" in r.getMessage() for r in caplog.records)


def test_plugin_implementing_an_unknown_hook_is_rejected_with_a_suggestion(
    make_dist: MakeDist,
) -> None:
    source = """
        from weir.hookspecs import hookimpl

        @hookimpl
        def weir_register_io_manager():
            return []
    """
    make_dist(
        "weirtest-typo",
        "1.0",
        {"weirtest_typo": "weirtest_typo_mod"},
        {"weirtest_typo_mod": source},
    )
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert "'weirtest_typo' from weirtest-typo 1.0" in message
    assert "Did you mean 'weir_register_io_managers'?" in message


def test_optional_unknown_hook_is_allowed(make_dist: MakeDist) -> None:
    source = """
        from weir.hookspecs import hookimpl

        @hookimpl(optionalhook=True)
        def weir_hook_from_the_future():
            return []
    """
    make_dist(
        "weirtest-future",
        "1.0",
        {"weirtest_future": "weirtest_future_mod"},
        {"weirtest_future_mod": source},
    )
    assert get_plugin_manager().has_plugin("weirtest_future")


def test_hook_function_without_the_decorator_is_rejected(make_dist: MakeDist) -> None:
    source = """
        from weir.hookspecs import hookimpl  # imported, then forgotten

        def weir_register_resources():
            return []
    """
    make_dist(
        "weirtest-bare",
        "1.0",
        {"weirtest_bare": "weirtest_bare_mod"},
        {"weirtest_bare_mod": source},
    )
    with pytest.raises(
        PluginError, match=r"defines weir_register_resources\(\) without the @hookimpl"
    ):
        get_plugin_manager()


def test_hookimpl_with_arguments_the_spec_lacks_is_rejected(make_dist: MakeDist) -> None:
    source = """
        from weir.hookspecs import hookimpl

        @hookimpl
        def weir_storage_for_url(url, timeout):
            return None
    """
    make_dist(
        "weirtest-args",
        "1.0",
        {"weirtest_args": "weirtest_args_mod"},
        {"weirtest_args_mod": source},
    )
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert (
        "'weirtest_args' (weirtest-args 1.0) does not match weir's hook specifications" in message
    )
    assert "timeout" in message


def test_two_distributions_with_one_entry_point_name(make_dist: MakeDist) -> None:
    make_dist(
        "weirtest-one",
        "1.0",
        {"weirtest_same": "weirtest_one_mod"},
        {"weirtest_one_mod": GOOD_PLUGIN},
    )
    make_dist(
        "weirtest-two",
        "2.0",
        {"weirtest_same": "weirtest_two_mod"},
        {"weirtest_two_mod": GOOD_PLUGIN},
    )
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert "named 'weirtest_same'" in message
    assert "weirtest-one 1.0" in message and "weirtest-two 2.0" in message


# --------------------------------------------------------------------------- a real wheel


PLUGIN_MODULE = '''
from typing import ClassVar

from weir.hookspecs import hookimpl


class {class_name}:
    """An IO manager class registered by a third-party plugin."""

    plugin_name: ClassVar[str] = "tiny"


@hookimpl
def weir_register_io_managers() -> list[type]:
    return [{class_name}]
'''

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{dist}"
version = "{version}"
requires-python = ">=3.10"
dependencies = []

[project.entry-points."weir.plugins"]
{ep_name} = "{package}.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/{package}"]
"""

# Prints what the registry found as JSON; a PluginError is reported, not raised.
PROBE = """
import json
from weir.errors import PluginError
from weir.plugins import PluginRegistry, get_plugin_manager

try:
    # The core's own IO managers are covered elsewhere; keep this probe about the plugin.
    registry = PluginRegistry(get_plugin_manager(disabled=["weir.builtin.io_managers"]))
    io_managers = registry.io_managers().collect()
    print(json.dumps({
        "plugins": [list(info) for info in registry.list_plugins()],
        # only this test's plugins: other weir packages may be installed in the same environment
        "io_managers": {
            name: f"{cls.__module__}.{cls.__qualname__}"
            for name, cls in io_managers.items()
            if cls.__module__.startswith("weir_tiny")
        },
    }))
except PluginError as exc:
    print(json.dumps({"error": str(exc)}))
"""


def _write_project(root: Path, dist: str, version: str, ep_name: str, class_name: str) -> Path:
    package = dist.replace("-", "_")
    project = root / dist
    (project / "src" / package).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        PYPROJECT.format(dist=dist, version=version, ep_name=ep_name, package=package)
    )
    (project / "README.md").write_text(f"# {dist}\n")
    (project / "src" / package / "__init__.py").write_text("")
    (project / "src" / package / "plugin.py").write_text(
        PLUGIN_MODULE.format(class_name=class_name)
    )
    return project


def _pip(*args: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two plugin wheels, each installed into its own target folder."""
    root = tmp_path_factory.mktemp("plugin_dists")
    tiny = _write_project(root, "weir-tiny", "0.1.0", "tiny", "TinyIOManager")
    clash = _write_project(root, "weir-tiny-clash", "2.0.0", "tiny_clash", "ClashingIOManager")
    wheels = root / "wheels"
    _pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        str(wheels),
        str(tiny),
        str(clash),
    )
    targets = {}
    for dist in ("weir_tiny", "weir_tiny_clash"):
        (wheel,) = wheels.glob(f"{dist}-*.whl")
        target = root / f"site_{dist}"
        _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
        targets[dist] = target
    return targets


def _probe(*paths: Path, **env_vars: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    env.update(env_vars)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_installed_plugin_is_found_with_its_distribution(installed: dict[str, Path]) -> None:
    found = _probe(installed["weir_tiny"])
    assert "error" not in found, found
    assert ["tiny", "weir-tiny", "0.1.0"] in found["plugins"]  # type: ignore[operator]
    assert found["io_managers"] == {"tiny": "weir_tiny.plugin.TinyIOManager"}


def test_disabled_plugins_env_removes_the_installed_plugin(installed: dict[str, Path]) -> None:
    found = _probe(installed["weir_tiny"], WEIR_DISABLED_PLUGINS="tiny")
    assert "error" not in found, found
    assert [p for p in found["plugins"] if p[0] == "tiny"] == []  # type: ignore[attr-defined]
    assert found["io_managers"] == {}


def test_autoload_switch_skips_the_installed_plugin(installed: dict[str, Path]) -> None:
    found = _probe(installed["weir_tiny"], WEIR_DISABLE_PLUGIN_AUTOLOAD="1")
    assert found["io_managers"] == {}


def test_second_plugin_with_the_same_name_fails_clearly(installed: dict[str, Path]) -> None:
    found = _probe(installed["weir_tiny"], installed["weir_tiny_clash"])
    error = found.get("error")
    assert isinstance(error, str), found
    assert "The IO manager name 'tiny' is registered twice" in error
    assert "weir_tiny.plugin.TinyIOManager" in error
    assert "weir_tiny_clash.plugin.ClashingIOManager" in error
    assert "weir-tiny 0.1.0" in error and "weir-tiny-clash 2.0.0" in error
    # disabling either one resolves the clash
    assert _probe(
        installed["weir_tiny"], installed["weir_tiny_clash"], WEIR_DISABLED_PLUGINS="tiny_clash"
    )["io_managers"] == {"tiny": "weir_tiny.plugin.TinyIOManager"}


def test_the_wheel_declares_the_entry_point(installed: dict[str, Path]) -> None:
    (info,) = installed["weir_tiny"].glob("weir_tiny-0.1.0.dist-info")
    entry_points = (info / "entry_points.txt").read_text()
    assert textwrap.dedent(entry_points).strip() == "[weir.plugins]\ntiny = weir_tiny.plugin"
