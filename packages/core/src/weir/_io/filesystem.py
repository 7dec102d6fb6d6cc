"""The filesystem IO manager: pickles every output to a file under a base directory.

* :class:`PickledObjectFilesystemIOManager` -- the ``UPathIOManager`` that does the work.
* ``FilesystemIOManager(base_dir=None)`` -- its pydantic, configurable face (the one to put in
  ``Definitions(resources=...)``); defined in :mod:`weir._io._configurable` and re-exported here
  lazily, so the default IO manager of a run never imports pydantic.
* :data:`fs_io_manager` -- the legacy definition (``fs_io_manager.configured({"base_dir": ...})``).

Layout (Dagster's): ``<base>/<asset key path...>``, ``<base>/<asset key path...>/<partition_key>``
for a partitioned asset, and ``<base>/<run_id>/<step_key>/<output_name>`` for an op output.

The base directory, when not given: the run's instance storage directory
(``instance.storage_directory()``), else ``$WEIR_HOME/storage``, else ``$DAGSTER_HOME/storage``,
else ``./.weir/storage``.

Writes are atomic on local disks: the pickle goes to a temporary file in the same directory,
which then replaces the target with ``os.replace``. A crash or a failing pickle never leaves a
half-written file where a good one was. (The data is not ``fsync``-ed: it survives a process
crash, not necessarily a power cut.)
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir._io.io_manager import IOManagerDefinition
from weir._io.upath import UPathIOManager, atomic_write_local, is_local_path
from weir.errors import WeirError
from weir.lazy import lazy_getattr

if TYPE_CHECKING:
    from weir._io._configurable import FilesystemIOManager
    from weir._io.contexts import InputContext, OutputContext

__all__ = [
    "PICKLE_PROTOCOL",
    "FilesystemIOManager",
    "PickledObjectFilesystemIOManager",
    "default_storage_directory",
    "fs_io_manager",
]

PICKLE_PROTOCOL = 4
"""The pickle protocol of stored files (readable by every supported Python version)."""


__getattr__ = lazy_getattr(globals(), {"FilesystemIOManager": "weir._io._configurable"})


def default_storage_directory(instance: Any = None) -> str:
    """Where the filesystem IO manager writes when no ``base_dir`` is given (see the module doc)."""
    if instance is not None:
        storage_directory = getattr(instance, "storage_directory", None)
        if storage_directory is not None:
            return str(storage_directory())
    for var in ("WEIR_HOME", "DAGSTER_HOME"):
        home = os.environ.get(var)
        if home:
            return os.path.join(home, "storage")
    return os.path.join(os.getcwd(), ".weir", "storage")


class PickledObjectFilesystemIOManager(UPathIOManager):
    """Pickles outputs to files under ``base_dir`` (a local path, a ``UPath`` or a URL)."""

    def __init__(self, base_dir: Any = None, **kwargs: Any) -> None:
        super().__init__(base_path=base_dir)
        self._default_base: tuple[Any, Path] | None = None

    @property
    def base_dir(self) -> Any:
        return self._base_path

    def get_base_path(self, context: OutputContext | InputContext) -> Any:
        if self._base_path is not None:
            return self._base_path
        instance = context._instance
        cached = self._default_base
        if cached is not None and cached[0] is instance:
            return cached[1]
        base = Path(default_storage_directory(instance))
        self._default_base = (instance, base)
        return base

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        if is_local_path(path):
            try:
                atomic_write_local(path, lambda fh: pickle.dump(obj, fh, PICKLE_PROTOCOL))
            except IsADirectoryError as exc:
                msg = (
                    f"Cannot write {path}: it is a directory, probably of partitions stored while the "
                    "asset was partitioned. Delete that directory (or give the asset its partitions back)."
                )
                raise WeirError(msg) from exc
        else:
            path.write_bytes(pickle.dumps(obj, PICKLE_PROTOCOL))

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        if is_local_path(path):
            with open(path, "rb") as fh:
                return pickle.load(fh)
        return pickle.loads(path.read_bytes())


def _make_fs_io_manager(init_context: Any) -> PickledObjectFilesystemIOManager:
    config = init_context.resource_config or {}
    base_dir = config.get("base_dir")
    if base_dir is None and init_context.instance is not None:
        base_dir = default_storage_directory(init_context.instance)
    return PickledObjectFilesystemIOManager(base_dir=base_dir)


fs_io_manager = IOManagerDefinition(
    _make_fs_io_manager,
    config_schema={"base_dir": str | None},
    description="Pickles outputs to files under base_dir (default: the instance's storage directory).",
)
"""The legacy filesystem IO manager definition; ``fs_io_manager.configured({"base_dir": "/data"})``."""
