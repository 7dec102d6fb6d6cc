"""Partitioned runs end to end: keys and ranges reach the context, IO managers store one object
per partition, inputs read their upstream partitions through the partition mappings, and the
instance records a materialization per partition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir.errors import DefinitionError

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")


@pytest.fixture
def instance(tmp_path: Path) -> Any:
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        yield instance


def _io(tmp_path: Path) -> dict[str, Any]:
    return {"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))}


@dg.asset(partitions_def=daily)
def events(context: dg.AssetExecutionContext) -> list[str]:
    window = context.partition_time_window
    return [context.partition_key, window.start.isoformat(), window.end.isoformat()]


@dg.asset(partitions_def=daily)
def daily_count(context: dg.AssetExecutionContext, events: list[str]) -> int:
    assert context.asset_partition_key_for_input("events") == context.partition_key
    return len(events)


@dg.asset(
    partitions_def=daily,
    ins={
        "events": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    },
)
def previous_day(context: dg.AssetExecutionContext, events: list[str]) -> str:
    return events[0]


@dg.asset
def all_days(events: dict[str, list[str]]) -> list[str]:
    return sorted(events)


def test_a_partition_key_reaches_the_context_the_io_manager_and_the_instance(
    tmp_path: Path, instance: Any
) -> None:
    result = dg.materialize(
        [events], partition_key="2024-01-02", instance=instance, resources=_io(tmp_path)
    )
    assert result.success
    value = result.asset_value("events")
    assert value == ["2024-01-02", "2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"]
    assert (tmp_path / "store" / "events" / "2024-01-02").is_file()  # Dagster's layout
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["dagster/partition"] == "2024-01-02"
    (mat,) = result.asset_materializations_for_node("events")
    assert mat.partition == "2024-01-02"
    assert instance.get_materialized_partitions(dg.AssetKey("events")) == {"2024-01-02"}


def test_inputs_read_their_upstream_partitions_through_the_mapping(
    tmp_path: Path, instance: Any
) -> None:
    days = daily.get_partition_keys()
    for day in days:
        dg.materialize([events], partition_key=day, instance=instance, resources=_io(tmp_path))
    assets = [events, daily_count, previous_day, all_days]
    result = dg.materialize(
        assets,
        partition_key="2024-01-02",
        instance=instance,
        resources=_io(tmp_path),
        selection=[daily_count, previous_day],
    )
    assert result.asset_value("daily_count") == 3
    assert result.asset_value("previous_day") == "2024-01-01"  # offset -1: the day before
    everything = dg.materialize(
        assets, instance=instance, resources=_io(tmp_path), selection=[all_days]
    )
    # an unpartitioned asset reads every partition of a partitioned upstream as a dict
    assert everything.asset_value("all_days") == days == [f"2024-01-0{d}" for d in range(1, 6)]


def test_unknown_keys_and_mixed_definitions_fail_before_the_run(
    tmp_path: Path, instance: Any
) -> None:
    with pytest.raises(
        DefinitionError,
        match=r"'2024-02-30' does not match the key format '%Y-%m-%d' of DailyPartitionsDefinition",
    ):
        dg.materialize(
            [events], partition_key="2024-02-30", instance=instance, resources=_io(tmp_path)
        )
    weekly_asset = dg.asset(
        name="weekly_asset", partitions_def=dg.WeeklyPartitionsDefinition(start_date="2024-01-01")
    )(lambda: 1)
    with pytest.raises(DefinitionError, match="share one partitions definition"):
        dg.materialize(
            [events, weekly_asset],
            partition_key="2024-01-07",
            instance=instance,
            resources=_io(tmp_path),
        )
    plain = dg.asset(name="plain")(lambda: 1)
    with pytest.raises(DefinitionError, match="none of its assets is partitioned"):
        dg.materialize(
            [plain], partition_key="2024-01-01", instance=instance, resources=_io(tmp_path)
        )
    assert instance.get_runs_count() == 0  # nothing ran, nothing recorded


def test_a_range_run_sees_every_key_and_records_each_partition(instance: Any) -> None:
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=daily)
    def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        seen["keys"] = context.partition_keys
        seen["range"] = context.partition_key_range
        seen["window"] = context.partition_time_window
        seen["has_key"] = context.has_partition_key
        return dg.MaterializeResult()

    result = dg.materialize(
        [ranged],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2024-01-02",
            "dagster/asset_partition_range_end": "2024-01-04",
        },
    )
    assert seen["keys"] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert (seen["range"].start, seen["range"].end) == ("2024-01-02", "2024-01-04")
    assert seen["window"].end.isoformat() == "2024-01-05T00:00:00+00:00"
    assert seen["has_key"] is False
    assert [m.partition for m in result.asset_materializations_for_node("ranged")] == seen["keys"]
    assert instance.get_materialized_partitions(dg.AssetKey("ranged")) == set(seen["keys"])


def test_static_multi_and_dynamic_partitions_run(tmp_path: Path, instance: Any) -> None:
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    grid = dg.MultiPartitionsDefinition(
        {"date": daily, "region": regions, "product": dg.StaticPartitionsDefinition(["a", "b"])}
    )
    customers = dg.DynamicPartitionsDefinition(name="customers")

    @dg.asset(partitions_def=grid)
    def cube(context: dg.AssetExecutionContext) -> str:
        assert context.partition_key.keys_by_dimension["region"] == "eu"  # a MultiPartitionKey
        return (
            str(context.partition_key.keys_by_dimension)
            if hasattr(context.partition_key, "keys_by_dimension")
            else context.partition_key
        )

    @dg.asset(partitions_def=customers)
    def per_customer(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    key = "2024-01-01|a|eu"  # dimension-name order: date, product, region
    result = dg.materialize([cube], partition_key=key, instance=instance, resources=_io(tmp_path))
    assert result.success
    assert (tmp_path / "store" / "cube" / "2024-01-01" / "a" / "eu").is_file()  # Dagster's layout
    run = instance.get_run_by_id(result.run_id)
    assert (
        run.tags["dagster/partition/product"] == "a"
        and run.tags["dagster/partition/region"] == "eu"
    )
    with pytest.raises(DefinitionError, match="not a partition"):
        dg.materialize(
            [per_customer], partition_key="o'brien", instance=instance, resources=_io(tmp_path)
        )
    instance.add_dynamic_partitions("customers", ["o'brien"])
    done = dg.materialize(
        [per_customer], partition_key="o'brien", instance=instance, resources=_io(tmp_path)
    )
    assert done.asset_value("per_customer") == "o'brien"


def test_a_mapping_to_partitions_that_do_not_exist_is_a_clear_error(
    tmp_path: Path, instance: Any
) -> None:
    dg.materialize([events], partition_key="2024-01-01", instance=instance, resources=_io(tmp_path))
    result = dg.materialize(
        [events, previous_day],
        partition_key="2024-01-01",  # the day before the first day does not exist
        instance=instance,
        resources=_io(tmp_path),
        selection=[previous_day],
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.message
    assert "do not exist" in message and "downstream ['2024-01-01']" in message
    assert "allow_nonexistent_upstream_partitions=True" in message


def test_partition_status_reports_materialized_failed_and_missing(
    tmp_path: Path, instance: Any
) -> None:
    flaky_days = {"2024-01-03"}

    @dg.asset(partitions_def=daily)
    def flaky(context: dg.AssetExecutionContext) -> int:
        if context.partition_key in flaky_days:
            raise RuntimeError("source not ready")
        return 1

    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        dg.materialize(
            [flaky],
            partition_key=day,
            instance=instance,
            resources=_io(tmp_path),
            raise_on_error=False,
        )
    status = instance.get_partition_status("flaky", daily)
    assert status.materialized.get_partition_keys() == ["2024-01-01", "2024-01-02"]
    assert status.failed.get_partition_keys() == ["2024-01-03"]
    assert status.missing.get_partition_keys() == ["2024-01-04", "2024-01-05"]
    by_key = instance.get_status_by_partition(
        "flaky", ["2024-01-01", "2024-01-03", "2024-01-05"], daily
    )
    assert by_key == {
        "2024-01-01": dg.AssetPartitionStatus.MATERIALIZED,
        "2024-01-03": dg.AssetPartitionStatus.FAILED,
        "2024-01-05": None,
    }
    # a later success clears the failure; the cached bitmap picks up only what is new
    flaky_days.clear()
    dg.materialize([flaky], partition_key="2024-01-03", instance=instance, resources=_io(tmp_path))
    again = instance.get_partition_status("flaky", daily)
    assert again.failed.is_empty
    assert again.materialized.get_partition_keys() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # a different definition for the same asset rebuilds the cache instead of misreading it
    wider = dg.DailyPartitionsDefinition(start_date="2023-12-30", end_date="2024-01-06")
    assert instance.get_partition_status("flaky", wider).materialized.get_partition_keys() == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]


def test_a_range_run_stores_a_partition_dict_one_file_per_partition(
    tmp_path: Path, instance: Any
) -> None:
    @dg.asset(partitions_def=daily)
    def by_day(context: dg.AssetExecutionContext) -> dict[str, int]:
        return {key: int(key[-2:]) for key in context.partition_keys}

    tags = {
        "dagster/asset_partition_range_start": "2024-01-02",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
    dg.materialize([by_day], instance=instance, resources=_io(tmp_path), tags=tags)
    assert sorted(p.name for p in (tmp_path / "store" / "by_day").iterdir()) == [
        "2024-01-02",
        "2024-01-03",
    ]
    second = dg.materialize(
        [by_day], partition_key="2024-01-03", instance=instance, resources=_io(tmp_path)
    )
    assert second.asset_value("by_day") == {"2024-01-03": 3}

    @dg.asset(partitions_def=daily, name="by_day")
    def not_a_dict(context: dg.AssetExecutionContext) -> int:
        return 1

    with pytest.raises(
        dg.DagsterExecutionHandleOutputError, match=r"covers 2 partitions .*needs a dict"
    ):
        dg.materialize([not_a_dict], instance=instance, resources=_io(tmp_path), tags=tags)


def test_a_failed_range_run_marks_its_whole_range_failed(instance: Any) -> None:
    @dg.asset(partitions_def=daily)
    def ranged_fail(context: dg.AssetExecutionContext) -> None:
        raise RuntimeError("upstream API down")

    tags = {
        "dagster/asset_partition_range_start": "2024-01-02",
        "dagster/asset_partition_range_end": "2024-01-04",
    }
    dg.materialize([ranged_fail], instance=instance, tags=tags, raise_on_error=False)
    status = instance.get_partition_status("ranged_fail", daily)
    assert status.failed.get_partition_keys() == ["2024-01-02", "2024-01-03", "2024-01-04"]
    # one planned event for the range (a compact subset), not one per partition
    (run,) = instance.get_runs()
    planned = instance.all_logs(run.run_id, of_type="ASSET_MATERIALIZATION_PLANNED")
    assert len(planned) == 1 and planned[0].dagster_event.event_specific_data.partitions_subset


def test_status_along_one_dimension_of_a_three_dimension_asset(
    tmp_path: Path, instance: Any
) -> None:
    grid = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03"),
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
            "product": dg.StaticPartitionsDefinition(["a", "b", "c"]),
        }
    )

    @dg.asset(partitions_def=grid)
    def sales(context: dg.AssetExecutionContext) -> None:
        if context.partition_key.endswith("|us") and "|c|" in context.partition_key:
            raise RuntimeError("no feed for product c in the US")

    for key in ("2024-01-01|a|eu", "2024-01-01|b|eu", "2024-01-02|a|us", "2024-01-02|c|us"):
        dg.materialize([sales], partition_key=key, instance=instance, raise_on_error=False)
    status = instance.get_partition_status("sales", grid)
    assert status.counts_by_dimension("region") == {
        "eu": {"materialized": 2, "missing": 4},
        "us": {"materialized": 1, "failed": 1, "missing": 4},
    }
    assert status.counts_by_dimension("product")["c"] == {"failed": 1, "missing": 3}
    with pytest.raises(DefinitionError, match="'colour' is not a dimension"):
        status.counts_by_dimension("colour")


def test_a_partitioned_run_keeps_the_status_bitmap_current(tmp_path: Path, instance: Any) -> None:
    cache_key = "weir/partition_status/" + dg.AssetKey("events").to_string()
    assert instance.storage.kvs_get([cache_key]) == {}
    dg.materialize([events], partition_key="2024-01-03", instance=instance, resources=_io(tmp_path))
    (cached,) = instance.storage.kvs_get([cache_key]).values()  # written by the run, not by a read
    latest = instance.fetch_materializations(dg.AssetKey("events"), limit=1).records[0]
    assert f'"cursor": {latest.storage_id}' in cached
    assert instance.get_partition_status("events", daily).materialized.get_partition_keys() == [
        "2024-01-03"
    ]
