"""The pydantic IO manager classes: ``ConfigurableIOManager``, ``ConfigurableIOManagerFactory``
and the built-in ``FilesystemIOManager``.

Re-exported lazily by :mod:`weir._io.io_manager` / :mod:`weir._io.filesystem` so that importing the IO
manager interface, or running with the default filesystem manager, never imports pydantic.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Optional

from pydantic import Field

from weir._config._configurable import ConfigurableResource, ConfigurableResourceFactory
from weir._config.resources import InitResourceContext
from weir._io.io_manager import IOManager

__all__ = ["ConfigurableIOManager", "ConfigurableIOManagerFactory", "FilesystemIOManager"]


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An :class:`IOManager` configured by pydantic fields; implement the two methods.

    Example::

        class CsvIOManager(dg.ConfigurableIOManager):
            plugin_name: ClassVar[str] = "csv"
            root: str

            def handle_output(self, context, obj) -> None:
                ...

            def load_input(self, context):
                ...

        dg.Definitions(assets=[...], resources={"io_manager": CsvIOManager(root="/data")})
    """


class ConfigurableIOManagerFactory(ConfigurableResourceFactory):
    """Pydantic config that creates the IO manager a run uses: implement ``create_io_manager``.

    Useful when the IO manager is not itself the config object (it wraps a client, or is built
    from values resolved at run time). ``create_io_manager`` is called once per run.
    """

    @abstractmethod
    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        """The IO manager for this run."""

    def create_resource(self, context: InitResourceContext) -> Any:
        return self.create_io_manager(context)


class FilesystemIOManager(ConfigurableIOManagerFactory):
    """Pickles every output to a file under ``base_dir`` (the default IO manager of ``materialize``).

    ``base_dir`` defaults to the instance's storage directory (``$WEIR_HOME/storage``, else
    ``$DAGSTER_HOME/storage``, else ``./.weir/storage``). Layout: ``<base>/<asset key path...>``,
    ``<base>/<asset key path...>/<partition_key>``, ``<base>/<run_id>/<step_key>/<output_name>``.
    The config is read once per run; the manager it creates does the per-output work.
    """

    plugin_name: ClassVar[str] = "filesystem"

    base_dir: Optional[str] = Field(
        default=None,
        description="Folder to store files in (default: the instance's storage directory).",
    )

    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        from weir._io.filesystem import PickledObjectFilesystemIOManager, default_storage_directory

        base = self.base_dir
        if base is None and context.instance is not None:
            base = default_storage_directory(context.instance)
        return PickledObjectFilesystemIOManager(base_dir=base)
