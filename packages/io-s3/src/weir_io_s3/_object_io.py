"""The shared machinery of the S3 IO managers: key layout, transfer, bucket check, errors.

Each output is one S3 object; a subclass only says how a value becomes bytes and back
(:meth:`S3ObjectIOManager.write_value` / :meth:`S3ObjectIOManager.read_value`) and which
file extension its keys get. The layout is Dagster's (``dagster_aws.s3`` pickle IO manager)::

    <prefix>/<asset key parts joined by />[<ext>]                 an asset
    <prefix>/<asset key parts...>/<partition key>[<ext>]           one partition
    <prefix>/<asset key parts...>/<dim 1 value>/<dim 2 value>[<ext>]   a multi-partition (dimension names sorted)
    <prefix>/storage/<run_id>/<step key>/<output name>[<ext>]      an op output

with ``[`` in a step key written ``--`` and ``]`` dropped (``sq[k0]`` -> ``sq--k0``).

Why not the core's ``UPathIOManager``: it works on path objects (``exists``/``is_file``/
``mkdir``) and reports paths, while an object store has keys, no folders, and errors that must
name the bucket and endpoint. The layout rules are the same; see the module tests.

Transfer: values are serialised into a spooled temporary file (memory up to 64 MB, then disk)
and sent with boto3's managed transfer (``upload_fileobj``): objects above
``multipart_threshold`` (8 MB) go up in parallel multipart chunks, and an S3 object only appears
once its upload completed, so readers never see a half-written value. Downloads use ranged
parallel GETs the same way. Transient errors are retried by the client (see ``S3Resource``).
"""

from __future__ import annotations

import logging
import tempfile
from abc import abstractmethod
from collections.abc import Mapping
from typing import IO, Any, ClassVar

from pydantic import Field, PrivateAttr

import weir as dg
from weir.errors import HandleOutputError, InvariantViolationError, WeirError
from weir_io_s3.resource import S3Resource

__all__ = [
    "S3ObjectIOManager",
    "S3ObjectNotFoundError",
    "S3SerializationError",
    "describe_output",
    "op_output_step_segment",
    "type_name",
]

logger = logging.getLogger(__name__)

_SPOOL_BYTES = 64 * 1024 * 1024
_MB = 1024 * 1024


class S3ObjectNotFoundError(WeirError, FileNotFoundError):
    """An input's S3 object does not exist (its asset, partition or op output was never stored
    under this bucket and prefix). Also a ``FileNotFoundError``, as in Dagster."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class S3SerializationError(HandleOutputError):
    """An output value cannot be written in the IO manager's format (it cannot be pickled, or
    is not a frame for the Parquet manager). Nothing was uploaded."""


def op_output_step_segment(step_key: str) -> str:
    """A step key as Dagster writes it in S3 keys: ``[`` becomes ``--`` and ``]`` is dropped."""
    return step_key.replace("[", "--").replace("]", "")


def _client_error_in(exc: BaseException) -> BaseException:
    """The botocore ``ClientError`` behind ``exc`` (boto3's transfer wraps it), else ``exc``."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(getattr(seen, "response", None), dict):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def _status_of(exc: BaseException) -> tuple[str | None, int | None]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None, None
    code = (response.get("Error") or {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (str(code) if code else None), status


def type_name(obj: Any) -> str:
    """``int`` for builtins, ``module.Class`` otherwise (for error messages)."""
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_output(context: Any) -> str:
    """``asset 'a/b'`` or ``output 'result' of step 'op'`` (for error messages)."""
    if context.has_asset_key:
        return f"asset {context.asset_key.to_user_string()!r}"
    return f"output {context.name!r} of step {context.step_key!r}"


class S3ObjectIOManager(dg.ConfigurableIOManager):
    """Base of the S3 IO managers: one S3 object per output (or per partition).

    Subclasses implement :meth:`write_value` and :meth:`read_value` and may set ``extension``.
    """

    extension: ClassVar[str] = ""
    multipart_threshold: ClassVar[int] = 8 * _MB
    """Objects larger than this are uploaded in parallel parts (boto3's default)."""
    multipart_chunksize: ClassVar[int] = 8 * _MB

    s3_resource: S3Resource = Field(
        description="The S3Resource giving the client (endpoint, region, credentials, retries)."
    )
    s3_bucket: str = Field(description="The bucket to store outputs in; it must exist.")
    s3_prefix: str = Field(
        default="dagster", description="Prefix of every key written (Dagster's default)."
    )

    _bucket_checked: bool = PrivateAttr(default=False)

    # -- the format: subclasses implement these ---------------------------------------------------
    @abstractmethod
    def write_value(self, context: Any, obj: Any, fileobj: IO[bytes]) -> None:
        """Serialise ``obj`` into ``fileobj``; raise :class:`S3SerializationError` when it cannot."""

    @abstractmethod
    def read_value(self, context: Any, fileobj: IO[bytes]) -> Any:
        """The value serialised in ``fileobj`` (positioned at its start)."""

    def combine_partitions(self, context: Any, values: dict[str, Any]) -> Any:
        """The value of an input spanning several partitions: ``{partition key: value}``."""
        return values

    # -- the lifecycle ----------------------------------------------------------------------------
    def setup_for_execution(self, context: Any) -> None:
        """Check the bucket once per run, before the first step stores or loads anything."""
        self.check_bucket_access()

    def check_bucket_access(self) -> None:
        """List at most one key under the prefix, as Dagster does at start-up.

        Raises:
            S3AccessError: the bucket does not exist, the credentials are refused or lack
                permission, or the endpoint cannot be reached; naming bucket and endpoint.
        """
        if self._bucket_checked:
            return
        client = self.s3_resource.get_client()
        try:
            client.list_objects_v2(Bucket=self.s3_bucket, Prefix=self._prefix(), MaxKeys=1)
        except Exception as exc:
            if not _is_boto_error(exc):
                raise
            raise self.s3_resource.access_error(
                _client_error_in(exc), bucket=self.s3_bucket, doing="Listing"
            ) from None
        self._bucket_checked = True

    # -- the layout -------------------------------------------------------------------------------
    def _prefix(self) -> str:
        return self.s3_prefix.strip("/")

    def _join(self, *parts: str) -> str:
        return "/".join(p for p in (self._prefix(), *parts) if p)

    def uri(self, key: str) -> str:
        """``s3://<bucket>/<key>``."""
        return f"s3://{self.s3_bucket}/{key}"

    def _asset_path(self, context: Any) -> str:
        return self._join(*context.asset_key.path)

    def _op_output_key(self, context: Any) -> str:
        run_id, step_key, *rest = context.get_identifier()
        return (
            self._join("storage", run_id, op_output_step_segment(step_key), *rest) + self.extension
        )

    def get_key(self, context: Any) -> str:
        """The key of an unpartitioned asset or of an op output."""
        if context.has_asset_key:
            return self._asset_path(context) + self.extension
        return self._op_output_key(context)

    def get_partition_keys(self, context: Any) -> dict[str, str]:
        """``{partition key: S3 key}`` of every partition of the asset in this run."""
        base = self._asset_path(context)
        multi = _is_multi_partitioned(context)
        return {
            str(pk): f"{base}/{str(pk).replace('|', '/') if multi else pk}{self.extension}"
            for pk in context.asset_partition_keys
        }

    # -- storing ----------------------------------------------------------------------------------
    def handle_output(self, context: Any, obj: Any) -> None:
        """Store ``obj`` at its key (a ``{partition key: value}`` dict for a multi-partition run)."""
        self.check_bucket_access()
        if context.has_asset_partitions:
            keys = self.get_partition_keys(context)
            if len(keys) == 1:
                key = next(iter(keys.values()))
                self._upload(context, obj, key)
                uri = self.uri(key)
            else:
                self._upload_partition_dict(context, obj, keys)
                uri = self.uri(self._asset_path(context))
        else:
            key = self.get_key(context)
            self._upload(context, obj, key)
            uri = self.uri(key)
        metadata: dict[str, Any] = {"uri": dg.MetadataValue.path(uri)}
        metadata.update(self.output_metadata(context, obj))
        context.add_output_metadata(metadata)

    def output_metadata(self, context: Any, obj: Any) -> Mapping[str, Any]:
        """Extra metadata for the materialization (next to ``uri``)."""
        return {}

    def _upload_partition_dict(self, context: Any, obj: Any, keys: dict[str, str]) -> None:
        if not isinstance(obj, dict) or set(obj) != set(keys):
            got = (
                f"a dict with keys {sorted(obj)[:5]}"
                if isinstance(obj, dict)
                else type(obj).__name__
            )
            msg = (
                f"The output of {describe_output(context)} covers {len(keys)} partitions "
                f"({min(keys)}...{max(keys)}), so {type(self).__name__} needs a dict "
                f"{{partition key: value}} with exactly those keys; got {got}. Return one value per "
                "partition, or run one partition per run."
            )
            raise InvariantViolationError(msg)
        for partition, key in keys.items():
            self._upload(context, obj[partition], key)

    def _upload(self, context: Any, obj: Any, key: str) -> None:
        from boto3.s3.transfer import TransferConfig

        log = context.log
        if log.isEnabledFor(logging.DEBUG):
            log.debug(f"Writing S3 object at: {self.uri(key)} using {type(self).__name__}...")
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as buffer:
            self.write_value(context, obj, buffer)
            size = buffer.tell()
            buffer.seek(0)
            config = TransferConfig(
                multipart_threshold=self.multipart_threshold,
                multipart_chunksize=self.multipart_chunksize,
            )
            try:
                self.s3_resource.get_client().upload_fileobj(
                    buffer, self.s3_bucket, key, Config=config
                )
            except Exception as exc:
                if not _is_boto_error(exc):
                    raise
                raise self.s3_resource.access_error(
                    _client_error_in(exc),
                    bucket=self.s3_bucket,
                    doing=f"Writing {self.uri(key)} to",
                ) from None
        logger.debug("Stored %s bytes at %s", size, self.uri(key))

    # -- loading ----------------------------------------------------------------------------------
    def load_input(self, context: Any) -> Any:
        """The stored value; ``{partition key: value}`` (see :meth:`combine_partitions`) when the
        input spans several partitions."""
        self.check_bucket_access()
        if context.has_asset_key and context.has_asset_partitions:
            keys = self.get_partition_keys(context)
            if len(keys) == 1:
                partition, key = next(iter(keys.items()))
                return self._download(context, key, partition)
            return self.combine_partitions(context, self._load_partitions(context, keys))
        if context.has_asset_key:
            return self._download(context, self.get_key(context))
        upstream = context.upstream_output
        if upstream is None:
            msg = (
                f"{type(self).__name__} cannot load {_input_name(context)}: it has no asset key and "
                "no upstream output to find the stored object by."
            )
            raise InvariantViolationError(msg)
        return self._download(context, self.get_key(upstream))

    def _load_partitions(self, context: Any, keys: dict[str, str]) -> dict[str, Any]:
        allow_missing = bool(context.definition_metadata.get("allow_missing_partitions", False))
        values: dict[str, Any] = {}
        for partition, key in keys.items():
            try:
                values[partition] = self._download(context, key, partition)
            except S3ObjectNotFoundError:
                if not allow_missing:
                    raise
                logger.debug("Partition %s (%s) is missing; skipped.", partition, self.uri(key))
        return values

    def _download(self, context: Any, key: str, partition: str | None = None) -> Any:
        log = context.log
        if log.isEnabledFor(logging.DEBUG):
            log.debug(f"Loading S3 object from: {self.uri(key)} using {type(self).__name__}...")
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as buffer:
            try:
                self.s3_resource.get_client().download_fileobj(self.s3_bucket, key, buffer)
            except Exception as exc:
                if not _is_boto_error(exc):
                    raise
                cause = _client_error_in(exc)
                code, status = _status_of(cause)
                if status == 404 or code in ("404", "NoSuchKey"):
                    raise S3ObjectNotFoundError(
                        self._not_found_message(context, key, partition)
                    ) from None
                raise self.s3_resource.access_error(
                    cause, bucket=self.s3_bucket, doing=f"Reading {self.uri(key)} from"
                ) from None
            buffer.seek(0)
            return self.read_value(context, buffer)

    def _not_found_message(self, context: Any, key: str, partition: str | None) -> str:
        where = f"Could not find file {self.uri(key)} (at {self.s3_resource.describe_endpoint()})"
        if context.has_asset_key:
            name = context.asset_key.to_user_string()
            part = f", partition {partition!r}" if partition is not None else ""
            return (
                f"{where}: no stored value for asset {name!r}{part}. Materialize it first with "
                f"this IO manager (bucket {self.s3_bucket!r}, prefix {self.s3_prefix!r}), then "
                "run the assets that read it."
            )
        upstream = context.upstream_output
        what = describe_output(upstream) if upstream is not None else "this input"
        return (
            f"{where}: no stored value for {what}. An op output is stored only by the run that "
            "produced it; re-run the upstream step first."
        )


def _input_name(context: Any) -> str:
    try:
        return f"input {context.name!r}"
    except WeirError:  # a test-built context without a name
        return "an input"


def _is_boto_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from botocore/boto3 (a request failure to translate)."""
    module = type(exc).__module__.split(".")[0]
    return module in ("botocore", "boto3", "s3transfer")


def _is_multi_partitioned(context: Any) -> bool:
    try:
        pdef = context.asset_partitions_def
    except WeirError:
        return False
    return bool(getattr(pdef, "partition_dimension_names", None))
