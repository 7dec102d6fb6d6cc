"""Dagster's function-style S3 definitions: ``s3_resource``, ``s3_pickle_io_manager`` and
``PickledObjectS3IOManager``.

Ported ``dagster_aws.s3`` code that wires resources by key and configures them with
``.configured({...})`` or run config runs as is::

    import weir as dg
    from weir_io_s3 import s3_pickle_io_manager, s3_resource

    defs = dg.Definitions(
        assets=[...],
        resources={
            "io_manager": s3_pickle_io_manager.configured({"s3_bucket": "my-bucket"}),
            "s3": s3_resource.configured({"region_name": "eu-west-1"}),
        },
    )

* ``s3_resource``'s value is a boto3 S3 **client** (as in Dagster), made by an
  :class:`~weir_io_s3.S3Resource` from the same fields, so retries, SSL, unsigned sessions and
  error translation are the resource's.
* ``s3_pickle_io_manager`` needs the resource key ``s3`` (any boto3 S3 client, or an
  :class:`~weir_io_s3.S3Resource`) and stores
  exactly as :class:`~weir_io_s3.S3PickleIOManager` does: same keys, same pickles, same errors,
  the bucket checked when the IO manager is initialised. A bucket written by one is read by the
  other.

A client made by ``s3_resource`` is remembered (weakly) with its config, so errors name its
endpoint and mask its credentials. Any other boto3 client works too; its endpoint and region
are then read from ``client.meta``, and its credentials, which weir never saw, cannot be masked
(S3's error messages do not contain them).
"""

from __future__ import annotations

import weakref
from typing import Any

import weir as dg
from weir.errors import ResourceError
from weir_io_s3.pickle_io_manager import S3PickleIOManager
from weir_io_s3.resource import S3Resource

__all__ = ["PickledObjectS3IOManager", "s3_pickle_io_manager", "s3_resource"]

# the config types of S3Resource's fields in the classic schema (defaults and descriptions are
# read from S3Resource itself, so the two cannot drift)
_FIELD_TYPES: dict[str, Any] = {
    "use_unsigned_session": dg.BoolSource,
    "region_name": dg.Noneable(dg.StringSource),
    "endpoint_url": dg.Noneable(dg.StringSource),
    "max_attempts": dg.IntSource,
    "profile_name": dg.Noneable(dg.StringSource),
    "use_ssl": dg.BoolSource,
    "verify": dg.Noneable(dg.StringSource),
    "aws_access_key_id": dg.Noneable(dg.StringSource),
    "aws_secret_access_key": dg.Noneable(dg.StringSource),
    "aws_session_token": dg.Noneable(dg.StringSource),
}
_SECRET_FIELDS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})


def _s3_config_schema() -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for name, config_type in _FIELD_TYPES.items():
        info = S3Resource.model_fields[name]
        schema[name] = dg.Field(
            config_type,
            default_value=info.default,
            description=info.description,
            is_secret=name in _SECRET_FIELDS,
        )
    return schema


# client made by s3_resource -> the config it was made from (dropped with the client)
_CONFIG_OF_CLIENT: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


@dg.resource(config_schema=_s3_config_schema())
def s3_resource(init_context: dg.InitResourceContext) -> Any:
    """A boto3 S3 client, configured by :class:`~weir_io_s3.S3Resource`'s fields (Dagster's legacy
    ``s3_resource``).

    Config (all optional): ``region_name``, ``endpoint_url``, ``max_attempts`` (5),
    ``profile_name``, ``use_ssl`` (true), ``verify``, ``use_unsigned_session`` (false),
    ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token`` (secrets: give
    ``{"env": "VAR"}`` to read them from the environment at run time).

    Example::

        @dg.op(required_resource_keys={"s3"})
        def list_landing(context) -> list[str]:
            listing = context.resources.s3.list_objects_v2(Bucket="landing")
            return [item["Key"] for item in listing.get("Contents", [])]

        @dg.job(resource_defs={"s3": s3_resource.configured({"region_name": "eu-west-1"})})
        def landing(): list_landing()
    """
    config = {
        name: value
        for name, value in dict(init_context.resource_config or {}).items()
        if name in _FIELD_TYPES
    }
    client = S3Resource(**config).get_client()
    _CONFIG_OF_CLIENT[client] = config
    return client


def _resource_for_client(client: Any) -> S3Resource:
    """An :class:`~weir_io_s3.S3Resource` that hands out ``client`` (a boto3 S3 client).

    A client made by ``s3_resource`` gets the resource of its config (endpoint, masked
    credentials); any other client one with the endpoint and region of ``client.meta``. An
    ``S3Resource`` given as the ``s3`` resource (a common mix of the two styles) is used as is.

    Raises:
        ResourceError: ``client`` is neither a boto3 S3 client nor an ``S3Resource``.
    """
    if isinstance(client, S3Resource):
        return client
    try:
        config = _CONFIG_OF_CLIENT.get(client)
    except TypeError:  # not weak-referenceable: certainly not a client s3_resource made
        config = None
    if config is None:
        meta = getattr(client, "meta", None)
        if meta is None or not callable(getattr(client, "list_objects_v2", None)):
            msg = (
                "The S3 client of s3_pickle_io_manager (its resource key 's3', or the s3_session "
                "of PickledObjectS3IOManager) must be a boto3 S3 client or an S3Resource; got "
                f"{type(client).__module__}.{type(client).__qualname__}. Give the resource key "
                "'s3' the legacy s3_resource, an S3Resource, or a resource whose value is "
                "boto3.client('s3')."
            )
            raise ResourceError(msg)
        config = {
            field: value
            for field in ("endpoint_url", "region_name")
            if isinstance(value := getattr(meta, field, None), str)
        }
    resource = S3Resource(**config)
    resource._use_client(client)
    return resource


class PickledObjectS3IOManager(dg.IOManager):
    """Pickles outputs to ``s3://<s3_bucket>/<s3_prefix>/...`` through a given boto3 client
    (Dagster's ``PickledObjectS3IOManager``, what ``s3_pickle_io_manager`` returns).

    Stores exactly as :class:`~weir_io_s3.S3PickleIOManager` does. ``s3_prefix=None`` (the
    default here, as in Dagster) writes keys at the root of the bucket. The bucket is checked
    now: a missing bucket, refused credentials or an unreachable endpoint raise
    :class:`~weir_io_s3.S3AccessError` naming bucket and endpoint.
    """

    def __init__(self, s3_bucket: str, s3_session: Any, s3_prefix: str | None = None) -> None:
        self._manager = S3PickleIOManager(
            s3_resource=_resource_for_client(s3_session),
            s3_bucket=s3_bucket,
            s3_prefix=s3_prefix or "",
        )
        self._manager.check_bucket_access()

    @property
    def bucket(self) -> str:
        """The bucket written to."""
        return self._manager.s3_bucket

    @property
    def s3_prefix(self) -> str:
        """The prefix of every key (``""`` for none)."""
        return self._manager.s3_prefix

    @property
    def s3(self) -> Any:
        """The boto3 client."""
        return self._manager.s3_resource.get_client()

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Pickle ``obj`` to its key (see :class:`~weir_io_s3.S3PickleIOManager`)."""
        self._manager.handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        """The unpickled value of the input's key (a dict for several partitions)."""
        return self._manager.load_input(context)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(s3_bucket={self.bucket!r}, s3_prefix={self.s3_prefix!r}, "
            f"at {self._manager.s3_resource.describe_endpoint()})"
        )


@dg.io_manager(
    config_schema={
        "s3_bucket": dg.Field(dg.StringSource, description="The bucket; it must exist."),
        "s3_prefix": dg.Field(
            dg.StringSource, default_value="dagster", description="Prefix of every key."
        ),
    },
    required_resource_keys={"s3"},
)
def s3_pickle_io_manager(init_context: dg.InitResourceContext) -> PickledObjectS3IOManager:
    """Pickles outputs to S3 through the ``s3`` resource (Dagster's legacy ``s3_pickle_io_manager``).

    Config: ``s3_bucket`` (required), ``s3_prefix`` (default ``"dagster"``). Needs the resource
    key ``s3`` holding a boto3 S3 client, normally ``s3_resource``. Keys, pickles, metadata and
    errors are :class:`~weir_io_s3.S3PickleIOManager`'s; the bucket is checked when the IO
    manager is initialised, so a missing bucket fails the run before any step.

    Example::

        defs = dg.Definitions(
            assets=[...],
            resources={
                "io_manager": s3_pickle_io_manager.configured({"s3_bucket": "my-bucket"}),
                "s3": s3_resource,
            },
        )
    """
    config = init_context.resource_config
    return PickledObjectS3IOManager(
        config["s3_bucket"], init_context.resources.s3, s3_prefix=config["s3_prefix"]
    )
