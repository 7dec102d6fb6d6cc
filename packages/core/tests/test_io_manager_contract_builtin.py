"""The core's own IO managers pass the IO manager contract suite (``weir.testing``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir.testing import IOManagerContract


class TestFilesystemIOManagerContract(IOManagerContract):
    @pytest.fixture
    def io_manager(self, tmp_path: Path) -> Any:
        return dg.FilesystemIOManager(base_dir=str(tmp_path / "storage"))


class TestFilesystemIOManagerDefaultBaseContract(IOManagerContract):
    """No base_dir: the manager writes under the instance's storage directory."""

    def make_io_manager(self) -> Any:
        return dg.FilesystemIOManager()

    def test_files_land_in_the_instance_storage_directory(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        out = self.output_context(contract_instance, asset_key=["where", "stored"])
        self.store(live_io_manager, out, self.sample_value())
        assert (Path(contract_instance.storage_directory()) / "where" / "stored").is_file()


class TestLegacyFsIOManagerContract(IOManagerContract):
    @pytest.fixture
    def io_manager(self, tmp_path: Path) -> Any:
        return dg.fs_io_manager.configured({"base_dir": str(tmp_path)})


class TestPickledObjectFilesystemIOManagerContract(IOManagerContract):
    @pytest.fixture
    def io_manager(self, tmp_path: Path) -> Any:
        return dg.PickledObjectFilesystemIOManager(base_dir=tmp_path)


class TestInMemoryIOManagerContract(IOManagerContract):
    def make_io_manager(self) -> Any:
        return dg.InMemoryIOManager()


class TestMemIOManagerDefinitionContract(IOManagerContract):
    def make_io_manager(self) -> Any:
        return dg.mem_io_manager


class TestContractHooks(IOManagerContract):
    """The value hooks are honoured: a manager of tuples compared loosely."""

    def make_io_manager(self) -> Any:
        return dg.InMemoryIOManager()

    def sample_value(self) -> Any:
        return (1, 2)

    def other_value(self) -> Any:
        return (3,)

    def assert_same_value(self, loaded: Any, expected: Any) -> None:
        assert list(loaded) == list(expected)


def test_a_contract_without_an_io_manager_says_how_to_provide_one() -> None:
    class Incomplete(IOManagerContract):
        pass

    with pytest.raises(
        NotImplementedError, match="override the `io_manager` fixture or the `make_io_manager"
    ):
        Incomplete().make_io_manager()


def test_the_contract_catches_a_manager_that_ignores_the_key_prefix(tmp_path: Path) -> None:
    """The suite is not vacuous: a manager keyed by the last key component fails it."""

    class LastComponentIOManager(dg.IOManager):
        def __init__(self) -> None:
            self.values: dict[str, Any] = {}

        def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
            self.values[context.asset_key.path[-1] if context.has_asset_key else context.name] = obj

        def load_input(self, context: dg.InputContext) -> Any:
            return self.values[
                context.asset_key.path[-1]
                if context.has_asset_key
                else context.upstream_output.name
            ]

    suite = IOManagerContract()
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    manager = LastComponentIOManager()
    with pytest.raises(AssertionError):
        suite.test_keys_differing_only_in_prefix_do_not_collide(manager, instance)
    with pytest.raises(AssertionError):
        suite.test_missing_input_error_names_the_asset_key(manager, instance)


def test_importing_weir_testing_does_not_import_pytest() -> None:
    code = "import sys, weir.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
