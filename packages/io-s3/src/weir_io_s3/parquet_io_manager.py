"""``S3ParquetIOManager``: pandas DataFrames and pyarrow Tables as Parquet objects in S3.

Dagster's ``dagster-aws`` has no Parquet IO manager for S3 (its docs build one on
``UPathIOManager``); this one keeps the pickle manager's fields and layout and adds the
``.parquet`` extension::

    <prefix>/<asset key parts joined by />.parquet
    <prefix>/<asset key parts...>/<partition key>.parquet
    <prefix>/<asset key parts...>/<dim a value>/<dim b value>.parquet
    <prefix>/storage/<run_id>/<step key>/<output name>.parquet

What loads (the input's type annotation decides):

* one partition, or an unpartitioned asset: a ``pandas.DataFrame``; a ``pyarrow.Table`` when the
  input is annotated ``pa.Table``;
* several partitions: ``{partition key: frame}`` (Dagster's behaviour) by default; **one
  concatenated frame** (in the partitions definition's order) when the input is annotated ``pd.DataFrame``
  or ``pa.Table``.

A value that is neither a DataFrame nor a Table (or a frame Arrow cannot convert, such as an
object column mixing ints and strings) raises :class:`~weir_io_s3.S3SerializationError` naming
the asset and the type; nothing is uploaded. Needs ``pip install "weir-io-s3[parquet]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, ClassVar

from weir.errors import ConfigError
from weir_io_s3._object_io import (
    S3ObjectIOManager,
    S3SerializationError,
    describe_output,
    type_name,
)

__all__ = ["S3ParquetIOManager"]

_INSTALL_HINT = 'pip install "weir-io-s3[parquet]" (pandas and pyarrow)'


def _require_arrow(manager: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError as exc:
        msg = f"{manager} needs pyarrow to read and write Parquet: {_INSTALL_HINT}."
        raise ConfigError(msg) from exc
    return pa


def _annotation(context: Any) -> Any:
    return getattr(getattr(context, "dagster_type", None), "typing_type", None)


def _is_pandas_frame(obj: Any) -> bool:
    if not type(obj).__module__.startswith("pandas"):
        return False
    import pandas as pd

    return isinstance(obj, pd.DataFrame)


def _is_pandas_frame_type(annotation: Any) -> bool:
    if not isinstance(annotation, type) or not annotation.__module__.startswith("pandas"):
        return False
    import pandas as pd

    return issubclass(annotation, pd.DataFrame)


class S3ParquetIOManager(S3ObjectIOManager):
    """Stores pandas DataFrames / pyarrow Tables as Parquet objects under ``s3://<s3_bucket>/<s3_prefix>/``.

    Example::

        import pandas as pd
        import weir as dg
        from weir_io_s3 import S3ParquetIOManager, S3Resource

        @dg.asset(partitions_def=dg.DailyPartitionsDefinition("2024-01-01"))
        def events(context) -> pd.DataFrame: ...

        @dg.asset
        def summary(events: pd.DataFrame) -> pd.DataFrame:   # all partitions, concatenated
            ...

        defs = dg.Definitions(
            assets=[events, summary],
            resources={
                "io_manager": S3ParquetIOManager(
                    s3_resource=S3Resource(region_name="eu-west-1"), s3_bucket="lake"
                )
            },
        )

    Output metadata: ``uri`` and ``dagster/row_count`` (``dagster/partition_row_count`` for
    one partition).
    """

    plugin_name: ClassVar[str] = "s3_parquet"
    extension: ClassVar[str] = ".parquet"

    def _to_table(self, context: Any, obj: Any) -> Any:
        pa = _require_arrow(type(self).__name__)
        if isinstance(obj, pa.Table):
            return obj
        if not _is_pandas_frame(obj):
            msg = (
                f"{type(self).__name__} cannot store {describe_output(context)}: its value is of "
                f"type {type_name(obj)}, and Parquet stores only pandas DataFrames and pyarrow Tables. "
                "Return a DataFrame/Table, or give this output another IO manager (e.g. "
                "S3PickleIOManager with io_manager_key)."
            )
            raise S3SerializationError(msg)
        try:
            return pa.Table.from_pandas(obj)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            msg = (
                f"{type(self).__name__} cannot store {describe_output(context)}: Arrow cannot "
                f"convert its {type_name(obj)} to Parquet ({exc}). Give each column one type "
                "(e.g. df[col].astype(str)), or store it with S3PickleIOManager."
            )
            raise S3SerializationError(msg, user_exception=exc) from exc

    def write_value(self, context: Any, obj: Any, fileobj: IO[bytes]) -> None:
        """Write ``obj`` (DataFrame or Table) as Parquet into ``fileobj``."""
        import pyarrow.parquet as pq

        pq.write_table(self._to_table(context, obj), fileobj)

    def read_value(self, context: Any, fileobj: IO[bytes]) -> Any:
        """The stored Parquet as a DataFrame (a ``pa.Table`` when the input is annotated so)."""
        import pyarrow.parquet as pq

        pa = _require_arrow(type(self).__name__)
        table = pq.read_table(fileobj)
        if _annotation(context) is pa.Table:
            return table
        return table.to_pandas()

    def combine_partitions(self, context: Any, values: dict[str, Any]) -> Any:
        """``{partition key: frame}``, or one frame (partition order) for ``pd.DataFrame`` / ``pa.Table``
        annotations."""
        annotation = _annotation(context)
        ordered = list(values.values())  # the partitions definition's order
        if _is_pandas_frame_type(annotation):
            import pandas as pd

            if not ordered:
                return pd.DataFrame()
            # default indexes (0..n-1 per partition) are renumbered; real indexes are kept
            plain = all(isinstance(frame.index, pd.RangeIndex) for frame in ordered)
            return pd.concat(ordered, ignore_index=plain)
        pa = _require_arrow(type(self).__name__)
        if annotation is pa.Table:
            if not ordered:
                return pa.table({})
            return pa.concat_tables(ordered, promote_options="default")
        return values

    def output_metadata(self, context: Any, obj: Any) -> Mapping[str, Any]:
        """``dagster/row_count`` (``dagster/partition_row_count`` for one partition)."""
        rows = len(obj) if not isinstance(obj, dict) else None
        if rows is None:
            return {}
        partitioned = context.has_asset_partitions
        return {"dagster/partition_row_count" if partitioned else "dagster/row_count": rows}
