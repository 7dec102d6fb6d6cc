"""FilesystemIOManager / PickledObjectFilesystemIOManager / fs_io_manager: layout, defaults,
atomic writes, errors and cost."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pydantic
import pytest

import weir as dg
from weir._config.resources import initialize_resources
from weir._io.filesystem import PickledObjectFilesystemIOManager, default_storage_directory


def _live(resource: Any, instance: Any = None) -> Any:
    """Initialise ``resource`` as a run would and return the IO manager (no teardown needed)."""
    cm = initialize_resources({"io_manager": resource}, ["io_manager"], instance=instance)
    return cm.__enter__()["io_manager"]


def test_asset_partition_and_op_output_layout(tmp_path: Path) -> None:
    io = _live(dg.FilesystemIOManager(base_dir=str(tmp_path)))
    io.handle_output(dg.build_output_context(asset_key=["pre", "fix", "p_up"]), {"a": 1})
    io.handle_output(
        dg.build_output_context(asset_key=["pre", "fix", "daily"], partition_key="2024-01-01"), 2
    )
    io.handle_output(dg.build_output_context(run_id="run-9", step_key="my_op", name="result"), 3)
    io.handle_output(
        dg.build_output_context(run_id="run-9", step_key="fan", name="out", mapping_key="k"), 4
    )
    assert pickle.loads((tmp_path / "pre" / "fix" / "p_up").read_bytes()) == {"a": 1}
    assert pickle.loads((tmp_path / "pre" / "fix" / "daily" / "2024-01-01").read_bytes()) == 2
    assert pickle.loads((tmp_path / "run-9" / "my_op" / "result").read_bytes()) == 3
    assert pickle.loads((tmp_path / "run-9" / "fan" / "out" / "k").read_bytes()) == 4


def test_materialize_writes_files_and_reports_the_path(tmp_path: Path) -> None:
    @dg.asset(key_prefix=["warehouse"])
    def orders() -> list[int]:
        return [1, 2]

    result = dg.materialize(
        [orders], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}
    )
    path = tmp_path / "warehouse" / "orders"
    assert pickle.loads(path.read_bytes()) == [1, 2]
    mat = result.asset_materializations_for_node("warehouse__orders")[0]
    assert mat.metadata["path"] == dg.MetadataValue.path(str(path))


def test_none_is_pickled_but_gets_no_path_metadata(tmp_path: Path) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    out = dg.build_output_context(asset_key="nothing")
    io.handle_output(out, None)
    assert pickle.loads((tmp_path / "nothing").read_bytes()) is None
    assert out.consume_output_metadata() is None


def test_default_base_dir_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "inst"))
    assert default_storage_directory(instance) == str(tmp_path / "inst" / "storage")
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "weir_home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert default_storage_directory() == str(tmp_path / "weir_home" / "storage")
    monkeypatch.delenv("WEIR_HOME")
    assert default_storage_directory() == str(tmp_path / "dagster_home" / "storage")
    monkeypatch.delenv("DAGSTER_HOME")
    monkeypatch.chdir(tmp_path)
    assert default_storage_directory() == str(tmp_path / ".weir" / "storage")


def test_unconfigured_managers_write_under_the_instance_storage(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    storage = tmp_path / "storage"
    for resource in (
        dg.FilesystemIOManager(),
        dg.fs_io_manager,
        PickledObjectFilesystemIOManager(),
    ):
        io = _live(resource, instance)
        name = type(resource).__name__.lower()
        io.handle_output(dg.build_output_context(asset_key=name, instance=instance), name)
        assert pickle.loads((storage / name).read_bytes()) == name


def test_no_instance_and_no_env_falls_back_to_dot_weir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEIR_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    io = PickledObjectFilesystemIOManager()
    io.handle_output(dg.build_output_context(asset_key="loose"), 1)
    assert (tmp_path / ".weir" / "storage" / "loose").is_file()


def test_legacy_fs_io_manager_configured(tmp_path: Path) -> None:
    io = _live(dg.fs_io_manager.configured({"base_dir": str(tmp_path)}))
    assert isinstance(io, PickledObjectFilesystemIOManager)
    io.handle_output(dg.build_output_context(asset_key="legacy"), 7)
    assert pickle.loads((tmp_path / "legacy").read_bytes()) == 7
    with pytest.raises(dg.ResourceError, match='Value "3" of type "<class \'int\'>"'):
        _live(dg.fs_io_manager.configured({"base_dir": 3}))


def test_filesystem_io_manager_is_typed_config() -> None:
    assert dg.FilesystemIOManager.plugin_name == "filesystem"
    assert dg.FilesystemIOManager().base_dir is None
    with pytest.raises(pydantic.ValidationError):
        dg.FilesystemIOManager(base_dir=["not", "a", "path"])  # type: ignore[arg-type]


class Unpicklable:
    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this on purpose")


def test_a_failing_pickle_leaves_the_old_file_intact(tmp_path: Path) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    out = dg.build_output_context(asset_key="precious")
    io.handle_output(out, {"good": True})
    with pytest.raises(TypeError, match="on purpose"):
        io.handle_output(
            dg.build_output_context(asset_key="precious"), ["partly", "written", Unpicklable()]
        )
    assert pickle.loads((tmp_path / "precious").read_bytes()) == {"good": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]  # no temp file left behind


def test_a_crash_mid_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    """A process killed while pickling never replaces the good file with a partial one."""
    script = textwrap.dedent(
        f"""
        import os
        import weir as dg
        from weir._io.filesystem import PickledObjectFilesystemIOManager

        class DieMidway:
            def __reduce__(self):
                os._exit(17)  # the process dies with part of the pickle written

        io = PickledObjectFilesystemIOManager(base_dir={str(tmp_path)!r})
        io.handle_output(dg.build_output_context(asset_key="precious"), "good")
        io.handle_output(dg.build_output_context(asset_key="precious"), ["x" * 100_000, DieMidway()])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 17, proc.stderr
    assert pickle.loads((tmp_path / "precious").read_bytes()) == "good"


def test_written_files_honour_the_umask(tmp_path: Path) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="perm"), 1)
    old = os.umask(0)
    os.umask(old)
    assert (tmp_path / "perm").stat().st_mode & 0o777 == 0o666 & ~old


def test_missing_upstream_names_asset_and_path(tmp_path: Path) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        io.load_input(dg.build_input_context(asset_key=["raw", "orders"]))
    assert "asset 'raw/orders'" in str(info.value)
    assert str(tmp_path / "raw" / "orders") in str(info.value)
    assert "Materialize 'raw/orders' first" in str(info.value)


def test_a_partition_folder_where_a_file_should_go_is_explained(tmp_path: Path) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="shrinks", partition_key="p1"), 1)
    with pytest.raises(dg.WeirError, match="it is a directory, probably of partitions"):
        io.handle_output(dg.build_output_context(asset_key="shrinks"), 2)


def test_log_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    io = PickledObjectFilesystemIOManager(base_dir=tmp_path)
    out = dg.build_output_context(asset_key="logged")
    with caplog.at_level(logging.DEBUG):
        io.handle_output(out, 1)
        io.load_input(dg.build_input_context(upstream_output=out))
    path = tmp_path / "logged"
    assert f"Writing file at: {path} using PickledObjectFilesystemIOManager..." in caplog.text
    assert f"Loading file from: {path} using PickledObjectFilesystemIOManager..." in caplog.text


def test_the_default_filesystem_manager_does_not_import_pydantic(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        import weir as dg

        @dg.asset
        def a() -> int:
            return 1

        assert dg.materialize([a]).success
        print("pydantic" in sys.modules)
        """
    )
    env = {**os.environ, "WEIR_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
    assert (tmp_path / "storage" / "a").is_file()


def test_per_asset_overhead_is_well_under_a_millisecond(tmp_path: Path) -> None:
    io = _live(dg.FilesystemIOManager(base_dir=str(tmp_path)))
    value = {"id": 1, "rows": list(range(20))}
    keys = [dg.AssetKey(["bench", f"a{i}"]) for i in range(200)]
    for key in keys:  # warm up: directories exist, code paths are hot
        io.handle_output(dg.build_output_context(asset_key=key), value)
    rounds = 3
    start = time.perf_counter()
    for _ in range(rounds):
        for key in keys:
            out = dg.build_output_context(asset_key=key)
            io.handle_output(out, value)
            out.consume_output_metadata()
            assert io.load_input(dg.build_input_context(upstream_output=out)) == value
    per_asset_ms = (time.perf_counter() - start) / (rounds * len(keys)) * 1000
    assert per_asset_ms < 1.0, f"store + load took {per_asset_ms:.3f} ms per asset"
