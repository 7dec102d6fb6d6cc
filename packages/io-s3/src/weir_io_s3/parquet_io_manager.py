"""``S3ParquetIOManager``: pandas DataFrames, pyarrow Tables and polars frames as Parquet objects in S3.

Dagster's ``dagster-aws`` has no Parquet IO manager for S3 (its docs build one on
``UPathIOManager``); this one keeps the pickle manager's fields and layout and adds the
``.parquet`` extension::

    <prefix>/<asset key parts joined by />.parquet
    <prefix>/<asset key parts...>/<partition key>.parquet
    <prefix>/<asset key parts...>/<dim a value>/<dim b value>.parquet
    <prefix>/storage/<run_id>/<step key>/<output name>.parquet

What stores: a ``pandas.DataFrame``, a ``pyarrow.Table``, a ``polars.DataFrame`` or a
``polars.LazyFrame`` (collected once, then written). pandas and pyarrow frames are written by
pyarrow, polars frames by polars itself, so polars alone (``weir-io-s3[polars]``) is enough
for polars code.

What loads (the input's type annotation decides):

* one partition, or an unpartitioned asset: a ``pandas.DataFrame``; a ``pyarrow.Table`` when the
  input is annotated ``pa.Table``; a ``polars.DataFrame`` (``polars.LazyFrame``) when annotated
  ``pl.DataFrame`` (``pl.LazyFrame``);
* several partitions: ``{partition key: frame}`` (Dagster's behaviour) by default, each frame
  of the dict annotation's value type (``dict[str, pl.DataFrame]`` gives polars frames); **one
  concatenated frame** (in the partitions definition's order) when the input is annotated with
  a frame type itself.

A value of any other type (or a frame Arrow cannot convert, such as an object column mixing
ints and strings) raises :class:`~weir_io_s3.S3SerializationError` naming the asset, the type
and the supported types; nothing is uploaded. polars is imported only when a polars value or
annotation is seen; pandas and pyarrow only when they are needed.
"""

from __future__ import annotations

import sys
import typing
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
_SUPPORTED = (
    "pandas DataFrames, pyarrow Tables, polars DataFrames and polars LazyFrames (collected)"
)


def _require_arrow(manager: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError as exc:
        msg = (
            f"{manager} needs pyarrow to write pandas DataFrames / pyarrow Tables as Parquet and "
            f"to load Parquet as them: {_INSTALL_HINT}. polars frames need only polars: annotate "
            "the input pl.DataFrame or pl.LazyFrame to load it with polars."
        )
        raise ConfigError(msg) from exc
    return pa


def _annotation(context: Any) -> Any:
    return getattr(getattr(context, "dagster_type", None), "typing_type", None)


def _imported(library: str) -> Any:
    """``library``'s module if something imported it already, else ``None`` (never imports it:
    a frame or a frame annotation exists only once its library was imported)."""
    return sys.modules.get(library)


def _is_pandas_frame(obj: Any) -> bool:
    pd = _imported("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_pandas_frame_type(annotation: Any) -> bool:
    pd = _imported("pandas")
    return pd is not None and isinstance(annotation, type) and issubclass(annotation, pd.DataFrame)


def _is_arrow_table(obj: Any) -> bool:
    pa = _imported("pyarrow")
    return pa is not None and isinstance(obj, pa.Table)


def _is_arrow_table_type(annotation: Any) -> bool:
    pa = _imported("pyarrow")
    return pa is not None and isinstance(annotation, type) and issubclass(annotation, pa.Table)


def _polars_kind(cls: Any) -> str | None:
    """``"eager"`` for ``polars.DataFrame`` (and subclasses), ``"lazy"`` for ``polars.LazyFrame``,
    else ``None``."""
    pl = _imported("polars")
    if pl is None or not isinstance(cls, type):
        return None
    if issubclass(cls, pl.DataFrame):
        return "eager"
    if issubclass(cls, pl.LazyFrame):
        return "lazy"
    return None


def _element_annotation(annotation: Any) -> Any:
    """``X`` of a ``dict[str, X]`` / ``Mapping[str, X]`` annotation, else ``None``."""
    origin = typing.get_origin(annotation)
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        args = typing.get_args(annotation)
        if len(args) == 2:
            return args[1]
    return None


class S3ParquetIOManager(S3ObjectIOManager):
    """Stores pandas / polars DataFrames and pyarrow Tables as Parquet objects under
    ``s3://<s3_bucket>/<s3_prefix>/``.

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

    With polars, annotate the inputs (``pl.DataFrame`` or ``pl.LazyFrame``) to load polars
    frames; return a ``pl.LazyFrame`` and it is collected once and stored::

        import polars as pl

        @dg.asset
        def cleaned(events: pl.DataFrame) -> pl.LazyFrame:
            return events.lazy().filter(pl.col("amount") > 0)

    Output metadata: ``uri`` and ``dagster/row_count`` (``dagster/partition_row_count`` for
    one partition).
    """

    plugin_name: ClassVar[str] = "s3_parquet"
    extension: ClassVar[str] = ".parquet"

    # -- storing ----------------------------------------------------------------------------------
    def handle_output(self, context: Any, obj: Any) -> None:
        """Store ``obj`` (a frame, or ``{partition key: frame}`` for a run of several partitions);
        a polars ``LazyFrame`` is collected once first."""
        if isinstance(obj, dict):
            obj = {key: self._collected(context, value) for key, value in obj.items()}
        else:
            obj = self._collected(context, obj)
        super().handle_output(context, obj)

    def _collected(self, context: Any, obj: Any) -> Any:
        if _polars_kind(type(obj)) != "lazy":
            return obj
        import polars as pl

        try:
            return obj.collect()
        except pl.exceptions.PolarsError as exc:
            msg = (
                f"{type(self).__name__} cannot store {describe_output(context)}: collecting its "
                f"polars LazyFrame failed ({type(exc).__name__}: {exc}). Fix the query, or "
                "collect it in the asset and return the DataFrame."
            )
            raise S3SerializationError(msg, user_exception=exc) from exc

    def _unsupported(self, context: Any, obj: Any) -> S3SerializationError:
        msg = (
            f"{type(self).__name__} cannot store {describe_output(context)}: its value is of "
            f"type {type_name(obj)}, and it stores only {_SUPPORTED} as Parquet. Return one of "
            "those, or give this output another IO manager (e.g. S3PickleIOManager with "
            "io_manager_key)."
        )
        return S3SerializationError(msg)

    def _to_table(self, context: Any, obj: Any) -> Any:
        if _is_arrow_table(obj):
            return obj
        if not _is_pandas_frame(obj):
            raise self._unsupported(context, obj)
        pa = _require_arrow(type(self).__name__)
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
        """Write ``obj`` (a pandas/polars DataFrame or a pyarrow Table) as Parquet into ``fileobj``."""
        if _polars_kind(type(obj)) == "eager":
            self._write_polars(context, obj, fileobj)
            return
        table = self._to_table(context, obj)
        import pyarrow.parquet as pq

        pq.write_table(table, fileobj)

    def _write_polars(self, context: Any, frame: Any, fileobj: IO[bytes]) -> None:
        import polars as pl

        try:
            frame.write_parquet(fileobj)
        except pl.exceptions.PolarsError as exc:
            msg = (
                f"{type(self).__name__} cannot store {describe_output(context)}: polars cannot "
                f"write its {type_name(frame)} as Parquet ({type(exc).__name__}: {exc}). Cast "
                "Object columns to a Parquet type, or store it with S3PickleIOManager."
            )
            raise S3SerializationError(msg, user_exception=exc) from exc

    # -- loading ----------------------------------------------------------------------------------
    def _frame_annotation(self, context: Any) -> Any:
        """The frame type one stored object loads as: the input's annotation, or ``X`` of a
        ``dict[str, X]`` annotation (a dict of partitions)."""
        annotation = _annotation(context)
        element = _element_annotation(annotation)
        return element if element is not None else annotation

    def read_value(self, context: Any, fileobj: IO[bytes]) -> Any:
        """The stored Parquet as a pandas DataFrame, or as the annotated ``pa.Table`` /
        ``pl.DataFrame`` / ``pl.LazyFrame``."""
        annotation = self._frame_annotation(context)
        kind = _polars_kind(annotation)
        if kind is not None:
            import polars as pl

            frame = pl.read_parquet(fileobj)
            return frame.lazy() if kind == "lazy" else frame
        _require_arrow(type(self).__name__)
        import pyarrow.parquet as pq

        table = pq.read_table(fileobj)
        if _is_arrow_table_type(annotation):
            return table
        try:
            return table.to_pandas()
        except ImportError as exc:
            msg = (
                f"{type(self).__name__} loads Parquet as a pandas DataFrame unless the input is "
                "annotated pa.Table or pl.DataFrame, and pandas is not installed: install it "
                f"({_INSTALL_HINT}), or annotate the input."
            )
            raise ConfigError(msg) from exc

    def combine_partitions(self, context: Any, values: dict[str, Any]) -> Any:
        """``{partition key: frame}``, or one frame (partition order) for a ``pd.DataFrame`` /
        ``pa.Table`` / ``pl.DataFrame`` / ``pl.LazyFrame`` annotation."""
        annotation = _annotation(context)
        ordered = list(values.values())  # the partitions definition's order
        if _is_pandas_frame_type(annotation):
            import pandas as pd

            if not ordered:
                return pd.DataFrame()
            # default indexes (0..n-1 per partition) are renumbered; real indexes are kept
            plain = all(isinstance(frame.index, pd.RangeIndex) for frame in ordered)
            return pd.concat(ordered, ignore_index=plain)
        kind = _polars_kind(annotation)
        if kind is not None:
            import polars as pl

            if not ordered:
                empty = pl.DataFrame()
                return empty.lazy() if kind == "lazy" else empty
            # columns are unioned and widened to a common type, as pd.concat does
            return pl.concat(ordered, how="diagonal_relaxed")
        if _is_arrow_table_type(annotation):
            import pyarrow as pa

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
