"""``UPathIOManager``: the base class of IO managers that store each value at a path.

Subclasses implement ``dump_to_path(context, obj, path)`` and ``load_from_path(context, path)``
and may set ``extension`` (e.g. ``".parquet"``). The layout under ``base_path``::

    <base>/<asset key path...>[<extension>]                   an asset
    <base>/<asset key path...>/<partition key>[<extension>]   one partition of an asset
    <base>/<asset key path...>/<dim 1 key>/<dim 2 key>...      one partition of a multi-partitioned asset
    <base>/<run_id>/<step_key>/<output name>[<extension>]     an op output

Paths are :class:`pathlib.Path` unless the user passes a ``upath.UPath`` or a URL string
(``"s3://bucket/prefix"``, ``"memory://x"``), in which case ``universal_pathlib`` is imported
then (it is not a dependency of the core). Each path operation is a method (``path_exists``,
``unlink``, ``make_directory``) so object stores can override it.

Partitions: one partition key per run is supported now; ``load_partitions`` already returns a
``{partition_key: value}`` dict for several keys, so key ranges work as soon as the partitions
definition can list the keys of a range.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from abc import abstractmethod
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from weir._io.io_manager import IOManager
from weir.errors import ConfigError, InvariantViolationError, WeirError

if TYPE_CHECKING:
    from weir._io.contexts import InputContext, OutputContext

__all__ = [
    "StoredValueNotFoundError",
    "UPathIOManager",
    "atomic_write_local",
    "coerce_base_path",
    "is_local_path",
]

logger = logging.getLogger(__name__)


class StoredValueNotFoundError(WeirError, FileNotFoundError):
    """No stored file for the input being loaded (the upstream was never materialized here).

    Also a ``FileNotFoundError``, so code that catches that keeps working.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def coerce_base_path(base: Any) -> Any:
    """A ``Path`` for local paths; a ``UPath`` for ``UPath`` objects and URL strings."""
    if base is None:
        return None
    if isinstance(base, Path):
        return base  # includes local UPath subclasses of Path
    if type(base).__module__.split(".")[0] == "upath":
        return base
    text = os.fspath(base) if not isinstance(base, str) else base
    if "://" in text and not text.startswith("file://"):
        try:
            from upath import UPath
        except ImportError as exc:
            msg = (
                f"The base path {text!r} is a URL, which needs universal_pathlib: "
                "pip install universal_pathlib (plus the fsspec backend, e.g. s3fs for s3://)."
            )
            raise ConfigError(msg) from exc
        return UPath(text)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return Path(text)


class UPathIOManager(IOManager):
    """Stores each output at a path under ``base_path``; subclasses choose the file format.

    Example::

        class JsonIOManager(dg.UPathIOManager):
            extension = ".json"

            def dump_to_path(self, context, obj, path):
                path.write_text(json.dumps(obj))

            def load_from_path(self, context, path):
                return json.loads(path.read_text())
    """

    extension: ClassVar[str | None] = None

    def __init__(self, base_path: Any = None) -> None:
        self._base_path = coerce_base_path(base_path)

    # -- the format: subclasses implement these --
    @abstractmethod
    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        """Write ``obj`` to ``path``."""

    @abstractmethod
    def load_from_path(self, context: InputContext, path: Any) -> Any:
        """Read the value stored at ``path``."""

    # -- path operations: override for stores without directories, etc. --
    def path_exists(self, path: Any) -> bool:
        return bool(path.exists())

    def unlink(self, path: Any) -> None:
        path.unlink()

    def make_directory(self, path: Any) -> None:
        """Create ``path`` and its parents (object stores may make this a no-op)."""
        path.mkdir(parents=True, exist_ok=True)

    def get_metadata(self, context: OutputContext, obj: Any) -> dict[str, Any]:
        """Extra metadata for the materialization (added next to ``path``)."""
        return {}

    # -- the layout --
    def get_base_path(self, context: OutputContext | InputContext) -> Any:
        """The folder every path is relative to (``base_path``, or ``.`` when none was given)."""
        return self._base_path if self._base_path is not None else Path(".")

    def get_asset_relative_path(self, context: OutputContext | InputContext) -> Any:
        """Where an asset lives, relative to the base: its key path."""
        return PurePosixPath(*context.asset_key.path)

    def get_op_output_relative_path(self, context: OutputContext | InputContext) -> Any:
        """Where an op output lives, relative to the base: ``run_id/step_key/output_name``."""
        return PurePosixPath(*context.get_identifier())

    def get_path_for_partition(
        self, context: OutputContext | InputContext, path: Any, partition: str
    ) -> Any:
        """The path of one partition inside the asset's path: ``path/partition``."""
        return path / partition

    def _with_extension(self, path: Any) -> Any:
        ext = self.extension
        return path.with_name(path.name + ext) if ext else path

    def _relative_path(self, context: OutputContext | InputContext) -> Any:
        if context.has_asset_key:
            return self.get_asset_relative_path(context)
        return self.get_op_output_relative_path(context)

    def _get_path_without_extension(self, context: OutputContext | InputContext) -> Any:
        return self.get_base_path(context) / self._relative_path(context)

    def _get_path(self, context: OutputContext | InputContext) -> Any:
        """The path of an unpartitioned output, or of the op output an input reads."""
        return self._with_extension(self._get_path_without_extension(context))

    def _get_paths_for_partitions(self, context: OutputContext | InputContext) -> dict[str, Any]:
        """``{partition_key: path}`` for every partition of the asset in this run."""
        if not context.has_asset_partitions:
            msg = "Asked for partition paths of an output that is not partitioned."
            raise InvariantViolationError(msg)
        asset_path = self._get_path_without_extension(context)
        pdef = getattr(context, "_partitions_def_or_none", lambda: None)()
        multi = bool(getattr(pdef, "partition_dimension_names", None))
        return {
            # a multi-partition key "2024-01-01|eu" is stored as 2024-01-01/eu (Dagster's layout)
            key: self._with_extension(
                self.get_path_for_partition(
                    context, asset_path, key.replace("|", "/") if multi else key
                )
            )
            for key in context.asset_partition_keys
        }

    def get_writing_output_log_message(self, path: Any) -> str:
        return f"Writing file at: {path} using {type(self).__name__}..."

    def get_loading_input_log_message(self, path: Any) -> str:
        return f"Loading file from: {path} using {type(self).__name__}..."

    # -- the IOManager interface --
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if context.has_asset_partitions:
            paths = self._get_paths_for_partitions(context)
            if len(paths) != 1:
                self._handle_partition_dict(context, obj, paths)
                return
            path = next(iter(paths.values()))
            self._replace_file_with_directory(path.parent)
        else:
            path = self._get_path(context)
        self.make_directory(path.parent)
        log = context.log
        if log.isEnabledFor(logging.DEBUG):
            log.debug(self.get_writing_output_log_message(path))
        self.dump_to_path(context, obj, path)
        if obj is not None:
            from weir._model.metadata import MetadataValue

            metadata: dict[str, Any] = {"path": MetadataValue.path(str(path))}
            metadata.update(self.get_metadata(context, obj))
            context.add_output_metadata(metadata)
        else:
            extra = self.get_metadata(context, obj)
            if extra:
                context.add_output_metadata(extra)

    def _handle_partition_dict(
        self, context: OutputContext, obj: Any, paths: dict[str, Any]
    ) -> None:
        """A run over several partitions (a single-run backfill) stores a ``{partition key: value}``
        dict, one file per partition (Dagster refuses such outputs)."""
        if not isinstance(obj, dict) or set(obj) != set(paths):
            got = (
                f"a dict with keys {sorted(obj)[:5]}"
                if isinstance(obj, dict)
                else type(obj).__name__
            )
            msg = (
                f"The output of {context.asset_key.to_user_string()!r} covers {len(paths)} partitions "
                f"({min(paths)}...{max(paths)}), so {type(self).__name__} needs a dict "
                f"{{partition key: value}} with exactly those keys; got {got}. Return one value per "
                "partition, or run one partition per run (a multi-run backfill)."
            )
            raise InvariantViolationError(msg)
        for key, path in paths.items():
            self._replace_file_with_directory(path.parent)
            self.make_directory(path.parent)
            self.dump_to_path(context, obj[key], path)
        first = next(iter(paths.values()))
        from weir._model.metadata import MetadataValue

        context.add_output_metadata({"path": MetadataValue.path(str(first.parent))})

    def _replace_file_with_directory(self, directory: Any) -> None:
        """The asset became partitioned: its old unpartitioned file sits where the folder goes."""
        try:
            is_file = directory.is_file()
        except OSError:
            return
        if is_file:
            logger.warning(
                "Replacing the file %s (an unpartitioned value of this asset) with a directory of "
                "partitions: the asset is now partitioned.",
                directory,
            )
            self.unlink(directory)

    def load_input(self, context: InputContext) -> Any:
        if context.has_asset_key and context.has_asset_partitions:
            keys = context.asset_partition_keys
            if len(keys) == 1:
                path = self._get_paths_for_partitions(context)[keys[0]]
                return self._load_single(context, path)
            return self.load_partitions(context)
        if context.has_asset_key:
            path = self._get_path(context)
        else:
            upstream = context.upstream_output
            if upstream is None:
                msg = (
                    f"{type(self).__name__} cannot load input {context._name!r}: it has no asset key "
                    "and no upstream output."
                )
                raise InvariantViolationError(msg)
            path = self._get_path(upstream)
        return self._load_single(context, path)

    def _load_single(self, context: InputContext, path: Any) -> Any:
        log = context.log
        if log.isEnabledFor(logging.DEBUG):
            log.debug(self.get_loading_input_log_message(path))
        try:
            return self.load_from_path(context, path)
        except FileNotFoundError as exc:
            if isinstance(exc, StoredValueNotFoundError):
                raise
            raise StoredValueNotFoundError(self._not_found_message(context, path)) from exc

    def _not_found_message(
        self, context: InputContext, path: Any, partition: str | None = None
    ) -> str:
        if context.has_asset_key:
            name = context.asset_key.to_user_string()
            part = f" (partition {partition!r})" if partition is not None else ""
            return (
                f"No stored value for asset {name!r}{part}: {path} does not exist. Materialize {name!r} "
                f"first (with this IO manager and base path), then run the assets that read it."
            )
        return (
            f"No stored value for input {context._name!r}: {path} does not exist. The upstream op output "
            "is only stored by the run that produced it; re-run the upstream step first."
        )

    def load_partitions(self, context: InputContext) -> dict[str, Any]:
        """Load several partitions as ``{partition_key: value}``.

        A missing partition raises, unless the input's metadata sets ``allow_missing_partitions``
        to true, in which case it is left out.
        """
        allow_missing = bool(context.definition_metadata.get("allow_missing_partitions", False))
        values: dict[str, Any] = {}
        for key, path in self._get_paths_for_partitions(context).items():
            try:
                values[key] = self.load_from_path(context, path)
            except FileNotFoundError as exc:
                if allow_missing:
                    logger.debug("Partition %s of %s is missing; skipped.", key, path)
                    continue
                raise StoredValueNotFoundError(self._not_found_message(context, path, key)) from exc
        return values

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_path={str(self._base_path) if self._base_path is not None else None!r})"


def is_local_path(path: Any) -> bool:
    """Whether ``path`` is on the local file system (a ``Path``; a ``file://`` UPath counts)."""
    if not isinstance(path, Path):
        return False
    protocol = getattr(path, "protocol", "")
    return protocol in ("", "file", "local")


_tmp_counter = itertools.count()


def atomic_write_local(path: Path, write: Any) -> None:
    """Write a file atomically: ``write(fileobj)`` into a temp file beside it, then rename over it.

    A crash (or an exception from ``write``) leaves the previous file untouched. The temp file
    is created with mode 0o666 filtered by the umask, like a plain ``open(path, "wb")``.
    """
    tmp = f"{path.parent}{os.sep}.{path.name}.{os.getpid()}-{threading.get_ident()}-{next(_tmp_counter)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
