"""UPathIOManager: layout, extension, metadata, partitions, missing files, UPath/URL base paths."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import weir as dg
from weir._io.upath import StoredValueNotFoundError, coerce_base_path


class JsonIOManager(dg.UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: Any) -> None:
        path.write_text(json.dumps(obj))

    def load_from_path(self, context: dg.InputContext, path: Any) -> Any:
        return json.loads(path.read_text())

    def get_metadata(self, context: dg.OutputContext, obj: Any) -> dict[str, Any]:
        return {"items": len(obj)} if isinstance(obj, list) else {}


def test_layout_extension_and_metadata(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    out = dg.build_output_context(asset_key=["pre", "fix", "orders"])
    io.handle_output(out, [1, 2, 3])
    path = tmp_path / "pre" / "fix" / "orders.json"
    assert json.loads(path.read_text()) == [1, 2, 3]
    md = out.consume_output_metadata()
    assert md is not None and md["path"] == dg.MetadataValue.path(str(path)) and md["items"] == 3
    assert io.load_input(dg.build_input_context(upstream_output=out)) == [1, 2, 3]


def test_partition_and_op_output_paths(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=str(tmp_path))
    io.handle_output(dg.build_output_context(asset_key=["d"], partition_key="2024-01-01"), {"x": 1})
    assert (tmp_path / "d" / "2024-01-01.json").is_file()
    op_out = dg.build_output_context(run_id="r1", step_key="op_a", name="result")
    io.handle_output(op_out, 5)
    assert (tmp_path / "r1" / "op_a" / "result.json").is_file()
    assert io.load_input(dg.build_input_context(name="x", upstream_output=op_out)) == 5
    assert io.load_input(dg.build_input_context(asset_key="d", partition_key="2024-01-01")) == {
        "x": 1
    }


def test_none_is_stored_without_a_path_in_metadata(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    out = dg.build_output_context(asset_key="empty")
    io.handle_output(out, None)
    assert (tmp_path / "empty.json").read_text() == "null"
    assert out.consume_output_metadata() is None


def test_layout_hooks_can_be_overridden(tmp_path: Path) -> None:
    class Flat(JsonIOManager):
        def get_asset_relative_path(self, context: Any) -> Any:
            return Path("_".join(context.asset_key.path))

        def get_path_for_partition(self, context: Any, path: Any, partition: str) -> Any:
            return path.parent / f"{path.name}-{partition}"

    io = Flat(base_path=tmp_path)
    io.handle_output(dg.build_output_context(asset_key=["a", "b"]), [1])
    io.handle_output(dg.build_output_context(asset_key=["a", "b"], partition_key="p"), [2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_b-p.json", "a_b.json"]


def test_missing_file_error_names_the_asset_and_path(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    with pytest.raises(StoredValueNotFoundError) as info:
        io.load_input(dg.build_input_context(asset_key=["raw", "orders"]))
    message = str(info.value)
    assert "No stored value for asset 'raw/orders'" in message
    assert str(tmp_path / "raw" / "orders.json") in message
    assert "Materialize 'raw/orders' first" in message
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value.__cause__, FileNotFoundError)


class Range(NamedTuple):
    start: str
    end: str


class TwoDays:
    def get_partition_keys_in_range(self, rng: Any) -> list[str]:
        return ["2024-01-01", "2024-01-02"]


def test_several_partitions_load_as_a_dict(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    for pk in ("2024-01-01", "2024-01-02"):
        io.handle_output(dg.build_output_context(asset_key="d", partition_key=pk), pk)
    ctx = dg.build_input_context(
        asset_key="d",
        asset_partition_key_range=Range("2024-01-01", "2024-01-02"),
        asset_partitions_def=TwoDays(),
    )
    assert io.load_input(ctx) == {"2024-01-01": "2024-01-01", "2024-01-02": "2024-01-02"}


def test_missing_partitions_fail_unless_allowed(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="d", partition_key="2024-01-01"), 1)
    rng = Range("2024-01-01", "2024-01-02")
    with pytest.raises(FileNotFoundError, match="partition '2024-01-02'"):
        io.load_input(
            dg.build_input_context(
                asset_key="d", asset_partition_key_range=rng, asset_partitions_def=TwoDays()
            )
        )
    allowed = dg.build_input_context(
        asset_key="d",
        asset_partition_key_range=rng,
        asset_partitions_def=TwoDays(),
        definition_metadata={"allow_missing_partitions": True},
    )
    assert io.load_input(allowed) == {"2024-01-01": 1}


def test_writing_several_partitions_at_once_needs_a_partition_dict(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)

    def ctx() -> Any:
        return dg.build_output_context(
            asset_key="d",
            asset_partition_key_range=Range("2024-01-01", "2024-01-02"),
            asset_partitions_def=TwoDays(),
        )

    with pytest.raises(
        dg.DagsterInvariantViolationError, match=r"covers 2 partitions .*needs a dict"
    ):
        io.handle_output(ctx(), 1)
    with pytest.raises(dg.DagsterInvariantViolationError, match="needs a dict"):
        io.handle_output(ctx(), {"2024-01-01": 1})  # a key missing
    io.handle_output(ctx(), {"2024-01-01": 1, "2024-01-02": 2})
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "2024-01-01.json",
        "2024-01-02.json",
    ]


def test_an_asset_that_becomes_partitioned_replaces_its_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class NoExt(JsonIOManager):
        extension = None

    io = NoExt(base_path=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="grows"), "whole")
    assert (tmp_path / "grows").is_file()
    with caplog.at_level(logging.WARNING):
        io.handle_output(dg.build_output_context(asset_key="grows", partition_key="p1"), "part")
    assert (tmp_path / "grows" / "p1").is_file()
    assert "now partitioned" in caplog.text


def test_default_base_path_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    io = JsonIOManager()
    io.handle_output(dg.build_output_context(asset_key="here"), [])
    assert (tmp_path / "here.json").is_file()


def test_log_lines_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    io = JsonIOManager(base_path=tmp_path)
    out = dg.build_output_context(asset_key="logged")
    with caplog.at_level(logging.DEBUG):
        io.handle_output(out, [])
        io.load_input(dg.build_input_context(upstream_output=out))
    assert f"Writing file at: {tmp_path / 'logged.json'} using JsonIOManager..." in caplog.text
    assert f"Loading file from: {tmp_path / 'logged.json'} using JsonIOManager..." in caplog.text


def test_upath_base_paths_work_without_being_a_core_dependency() -> None:
    upath = pytest.importorskip("upath")  # a dev/test dependency, never imported by the core itself
    base = upath.UPath("memory://weir-test/store")
    io = JsonIOManager(base_path=base)
    out = dg.build_output_context(asset_key=["a", "b"], partition_key="p")
    io.handle_output(out, [1])
    assert (base / "a" / "b" / "p.json").exists()
    assert io.load_input(
        dg.build_input_context(upstream_output=out, asset_key=["a", "b"], partition_key="p")
    ) == [1]
    from_url = JsonIOManager(base_path="memory://weir-test/store")
    assert from_url.load_input(dg.build_input_context(asset_key=["a", "b"], partition_key="p")) == [
        1
    ]
    with pytest.raises(FileNotFoundError, match="asset 'a/c'"):
        from_url.load_input(dg.build_input_context(asset_key=["a", "c"]))


def test_url_base_path_without_universal_pathlib_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "upath", None)  # makes `import upath` fail
    with pytest.raises(dg.ConfigError, match="pip install universal_pathlib"):
        coerce_base_path("s3://bucket/prefix")
    assert coerce_base_path("file:///tmp/x") == Path("/tmp/x")
    assert coerce_base_path(Path("rel")) == Path("rel")


def test_importing_upath_io_manager_stays_light() -> None:
    import subprocess

    code = "import sys, weir._io.upath, weir._io.memory, weir._io.contexts; print(sorted(m for m in ('pydantic', 'upath', 'fsspec') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
