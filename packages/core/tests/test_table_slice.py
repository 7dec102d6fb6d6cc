"""weir.table_slice: Dagster's table mapping for database IO managers, and weir.lazy."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest

import weir as dg
from weir.table_slice import (
    TablePartitionDimension,
    TableSlice,
    table_slice_for_input,
    table_slice_for_output,
)


def test_asset_table_is_the_last_key_part_and_schema_the_one_before() -> None:
    ctx = dg.build_output_context(asset_key=["warehouse", "analytics", "orders"])
    assert table_slice_for_output(ctx) == TableSlice(table="orders", schema="analytics")
    assert table_slice_for_output(dg.build_output_context(asset_key=["orders"])).schema == "public"


def test_schema_precedence_metadata_then_config_then_key() -> None:
    key = ["analytics", "orders"]
    assert table_slice_for_output(dg.build_output_context(asset_key=key), schema="cfg").schema == (
        "cfg"
    )
    ctx = dg.build_output_context(asset_key=key, definition_metadata={"schema": "meta"})
    assert table_slice_for_output(ctx, schema="cfg").schema == "meta"


def test_op_output_is_named_by_table_metadata_else_output_name() -> None:
    plain = dg.build_output_context(step_key="op", name="result", run_id="r1")
    named = dg.build_output_context(
        step_key="op", name="result", definition_metadata={"table": "t", "schema": "s"}
    )
    assert table_slice_for_output(plain) == TableSlice(table="result", schema="public")
    assert table_slice_for_output(named) == TableSlice(table="t", schema="s")
    assert "output 'result' of step 'op'" in table_slice_for_output(plain).what


def test_input_reads_upstream_table_with_columns_subset() -> None:
    upstream = dg.build_output_context(asset_key=["s", "orders"])
    ctx = dg.build_input_context(
        asset_key=dg.AssetKey(["s", "orders"]),
        upstream_output=upstream,
        definition_metadata={"columns": ["id", "amount"]},
    )
    sliced = table_slice_for_input(ctx)
    assert (sliced.schema, sliced.table, sliced.columns) == ("s", "orders", ("id", "amount"))
    assert not sliced.partitioned


def test_input_without_upstream_output_says_what_is_missing() -> None:
    with pytest.raises(dg.DagsterInvariantViolationError, match="no upstream output"):
        table_slice_for_input(dg.build_input_context(name="frame"))
    with pytest.raises(dg.DagsterInvariantViolationError, match="input \\(unnamed\\)"):
        table_slice_for_input(dg.build_input_context())


def test_static_and_time_partitions_become_dimensions() -> None:
    static = dg.StaticPartitionsDefinition(["eu", "us"])
    ctx = dg.build_output_context(
        asset_key=["sales"],
        partition_key="us",
        asset_partitions_def=static,
        definition_metadata={"partition_expr": "region"},
    )
    sliced = table_slice_for_output(ctx)
    assert sliced.partition_dimensions == (TablePartitionDimension("region", ("us",)),)
    assert sliced.partitioned and sliced.partition_dimensions[0].time_window is None

    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    ctx = dg.build_output_context(
        asset_key=["events"],
        partition_key="2024-01-02",
        asset_partitions_def=daily,
        definition_metadata={"partition_expr": "ts"},
    )
    [dim] = table_slice_for_output(ctx).partition_dimensions
    window = dim.time_window
    assert window is not None and dim.keys == ()
    assert (window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)) == (
        datetime(2024, 1, 2),
        datetime(2024, 1, 3),
    )


def test_multi_partitions_give_one_dimension_per_name() -> None:
    multi = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date="2024-01-01"),
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
        }
    )
    ctx = dg.build_output_context(
        asset_key=["sales"],
        partition_key=dg.MultiPartitionKey({"date": "2024-01-05", "region": "eu"}),
        asset_partitions_def=multi,
        definition_metadata={"partition_expr": {"date": "day", "region": "reg"}},
    )
    date_dim, region_dim = table_slice_for_output(ctx).partition_dimensions
    assert date_dim.partition_expr == "day" and date_dim.time_window is not None
    assert region_dim == TablePartitionDimension("reg", ("eu",))


def test_partitioned_asset_without_partition_expr_is_a_definition_error() -> None:
    ctx = dg.build_output_context(
        asset_key=["sales"],
        partition_key="us",
        asset_partitions_def=dg.StaticPartitionsDefinition(["us"]),
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="no 'partition_expr' metadata"):
        table_slice_for_output(ctx)


def test_multi_partition_expr_missing_a_dimension_names_it() -> None:
    multi = dg.MultiPartitionsDefinition(
        {"a": dg.StaticPartitionsDefinition(["1"]), "b": dg.StaticPartitionsDefinition(["2"])}
    )
    ctx = dg.build_output_context(
        asset_key=["x"],
        partition_key=dg.MultiPartitionKey({"a": "1", "b": "2"}),
        asset_partitions_def=multi,
        definition_metadata={"partition_expr": {"a": "col_a"}},
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"dimension\(s\) \['b'\]"):
        table_slice_for_output(ctx)


def test_a_plugin_gets_its_own_slice_type() -> None:
    class QuotedSlice(TableSlice):
        @property
        def quoted(self) -> str:
            return f'"{self.schema}"."{self.table}"'

    sliced = table_slice_for_output(
        dg.build_output_context(asset_key=["a", "b"]), slice_type=QuotedSlice
    )
    assert isinstance(sliced, QuotedSlice) and sliced.quoted == '"a"."b"'


def test_lazy_exports_import_on_first_access(tmp_path: object) -> None:
    code = (
        "import sys, types\n"
        "from weir.lazy import lazy_dir, lazy_getattr\n"
        "mod = types.ModuleType('pkg_demo')\n"
        "table = {'dumps': 'json'}\n"
        "mod.__getattr__ = lazy_getattr(mod.__dict__, table)\n"
        "mod.__dir__ = lazy_dir(mod.__dict__, table)\n"
        "sys.modules.pop('json', None)\n"
        "assert 'dumps' in mod.__dir__()\n"
        "assert 'json' not in sys.modules\n"
        "assert mod.dumps([1]) == '[1]' and 'json' in sys.modules\n"
        "try:\n"
        "    mod.nope\n"
        "except AttributeError as exc:\n"
        "    assert \"has no attribute 'nope'\" in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_columns_to_load_is_the_metadata_subset_or_every_column() -> None:
    whole = TableSlice(table="t", schema="s", what="asset 's/t'")
    assert whole.columns_to_load(["id", "amount"], '"s"."t"') == ["id", "amount"]
    subset = TableSlice(table="t", schema="s", columns=("amount",), what="asset 's/t'")
    assert subset.columns_to_load(["id", "amount"], '"s"."t"') == ["amount"]
    wrong = TableSlice(table="t", schema="s", columns=("amount", "nope"), what="asset 's/t'")
    with pytest.raises(dg.DagsterExecutionLoadInputError, match=r"names \['nope'\], which table"):
        wrong.columns_to_load(["id", "amount"], '"s"."t"')
