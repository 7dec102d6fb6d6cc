"""``S3PickleIOManager``: every output pickled to one S3 object, in Dagster's key layout.

Dagster's ``dagster_aws.s3.S3PickleIOManager`` (also exported as
``ConfigurablePickledObjectS3IOManager``): same fields, same keys, same pickle protocol, so a
bucket written by one can be read by the other (as long as the pickled classes import).

Keys (``s3_prefix`` defaults to ``"dagster"``)::

    dagster/<asset key parts joined by />                 an asset
    dagster/<asset key parts...>/<partition key>           one partition
    dagster/<asset key parts...>/<dim a value>/<dim b value>   a multi-partition (dimensions by name)
    dagster/storage/<run_id>/<step key>/<output name>      an op output ("sq[k0]" -> "sq--k0")

An input spanning several partitions loads as ``{partition key: value}``. A missing object
raises :class:`~weir_io_s3.S3ObjectNotFoundError` (a ``FileNotFoundError``: "Could not find file
s3://..."); a value that cannot be pickled raises :class:`~weir_io_s3.S3SerializationError`
naming the asset and the type, and nothing is uploaded.
"""

from __future__ import annotations

import pickle
from typing import IO, Any, ClassVar

from weir_io_s3._object_io import (
    S3ObjectIOManager,
    S3SerializationError,
    describe_output,
    type_name,
)

__all__ = ["PICKLE_PROTOCOL", "ConfigurablePickledObjectS3IOManager", "S3PickleIOManager"]

PICKLE_PROTOCOL = 4
"""The pickle protocol of stored objects (Dagster's; readable by every supported Python)."""


class S3PickleIOManager(S3ObjectIOManager):
    """Pickles every output to an S3 object under ``s3://<s3_bucket>/<s3_prefix>/``.

    Example::

        import weir as dg
        from weir_io_s3 import S3PickleIOManager, S3Resource

        defs = dg.Definitions(
            assets=[...],
            resources={
                "io_manager": S3PickleIOManager(
                    s3_resource=S3Resource(region_name="eu-west-1"),
                    s3_bucket="my-bucket",
                    s3_prefix="weir",
                )
            },
        )

    At the start of a run the bucket is checked (one ``ListObjectsV2`` with ``MaxKeys=1``): a
    bucket that does not exist, refused credentials or an unreachable endpoint fail the run
    before any step, with an :class:`~weir_io_s3.S3AccessError` naming bucket and endpoint.
    Output metadata: ``uri`` (``s3://bucket/key``).
    """

    plugin_name: ClassVar[str] = "s3_pickle"

    def write_value(self, context: Any, obj: Any, fileobj: IO[bytes]) -> None:
        """Pickle ``obj`` (protocol 4) into ``fileobj``."""
        try:
            pickle.dump(obj, fileobj, PICKLE_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            msg = (
                f"{type(self).__name__} cannot store {describe_output(context)}: its value, of "
                f"type {type_name(obj)}, cannot be pickled ({type(exc).__name__}: {exc}). Return "
                "a picklable value (no open files, locks, connections, lambdas or local classes), "
                "or give this output an IO manager that knows the type."
            )
            raise S3SerializationError(msg, user_exception=exc) from exc

    def read_value(self, context: Any, fileobj: IO[bytes]) -> Any:
        """Unpickle the stored value."""
        return pickle.load(fileobj)


ConfigurablePickledObjectS3IOManager = S3PickleIOManager
"""Dagster's other name for :class:`S3PickleIOManager`."""
