"""Partitioned config: run config and run tags computed per partition key."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from weir._config.config import RunConfig
from weir._partitions.definition import UnknownPartitionKeyError
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.multi import MultiPartitionsDefinition
from weir._partitions.partitioned_config import (
    Partition,
    PartitionedConfig,
    daily_partitioned_config,
    dynamic_partitioned_config,
    hourly_partitioned_config,
    monthly_partitioned_config,
    partitioned_config,
    static_partitioned_config,
    weekly_partitioned_config,
)
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.time_window import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from weir.errors import DefinitionError, InvalidInvocationError

UTC = timezone.utc


def test_partitioned_config_maps_keys_to_fresh_run_config() -> None:
    regions = StaticPartitionsDefinition(["us", "eu"])

    @partitioned_config(
        partitions_def=regions, tags_for_partition_key_fn=lambda key: {"region": key}
    )
    def region_config(partition_key: str) -> dict:
        return {"ops": {"load": {"config": {"region": partition_key, "limits": [1, 2]}}}}

    assert isinstance(region_config, PartitionedConfig)
    assert region_config.partitions_def is regions
    assert region_config.get_partition_keys() == ["us", "eu"]
    first = region_config.get_run_config_for_partition_key("eu")
    assert first == {"ops": {"load": {"config": {"region": "eu", "limits": [1, 2]}}}}
    first["ops"]["load"]["config"]["limits"].append(3)  # the caller's copy only
    assert region_config.get_run_config_for_partition_key("eu")["ops"]["load"]["config"][
        "limits"
    ] == [1, 2]
    assert region_config("us") == {"ops": {"load": {"config": {"region": "us", "limits": [1, 2]}}}}
    assert region_config.get_tags_for_partition_key("us") == {
        "region": "us",
        "dagster/partition": "us",
    }
    assert region_config.get_tags_for_partition_key("us", job_name="load_job") == {
        "region": "us",
        "dagster/partition": "us",
        "dagster/partition_set": "load_job_partition_set",
    }


def test_system_partition_tag_wins_and_run_config_objects_are_converted() -> None:
    keys = StaticPartitionsDefinition(["a"])
    config = PartitionedConfig(
        keys,
        run_config_for_partition_key_fn=lambda key: RunConfig(ops={"op": {"config": {"k": key}}}),
        tags_for_partition_key_fn=lambda key: {"dagster/partition": "spoofed", "team": "data"},
    )
    assert config.get_run_config_for_partition_key("a")["ops"] == {"op": {"config": {"k": "a"}}}
    assert config.get_tags_for_partition_key("a") == {"dagster/partition": "a", "team": "data"}


def test_legacy_partition_functions_receive_a_partition() -> None:
    seen: list[Partition] = []

    def run_config(partition: Partition) -> dict:
        seen.append(partition)
        return {"ops": {"x": {"config": {"key": partition.name}}}}

    config = PartitionedConfig(
        StaticPartitionsDefinition(["k1"]),
        run_config_for_partition_fn=run_config,
        tags_for_partition_fn=lambda partition: {"v": str(partition.value)},
    )
    assert config.get_run_config_for_partition_key("k1") == {
        "ops": {"x": {"config": {"key": "k1"}}}
    }
    assert seen == [Partition("k1")]
    assert config.get_tags_for_partition_key("k1") == {"v": "k1", "dagster/partition": "k1"}


def test_multi_partition_keys_get_dimension_tags() -> None:
    multi = MultiPartitionsDefinition(
        {
            "date": DailyPartitionsDefinition(start_date="2024-01-01"),
            "region": StaticPartitionsDefinition(["us"]),
        }
    )
    config = partitioned_config(multi)(lambda key: {})
    tags = config.get_tags_for_partition_key("2024-01-02|us")
    assert tags["dagster/partition"] == "2024-01-02|us"
    assert tags["dagster/partition/date"] == "2024-01-02"
    assert tags["dagster/partition/region"] == "us"


def test_static_and_dynamic_partitioned_config() -> None:
    @static_partitioned_config(
        partition_keys=["x", "y"], tags_for_partition_key_fn=lambda k: {"t": k}
    )
    def static_config(partition_key: str) -> dict:
        return {"ops": {"o": {"config": {"k": partition_key}}}}

    assert static_config.partitions_def == StaticPartitionsDefinition(["x", "y"])
    assert static_config.get_run_config_for_partition_key("y") == {
        "ops": {"o": {"config": {"k": "y"}}}
    }
    assert static_config.get_tags_for_partition_key("x")["t"] == "x"
    with pytest.raises(DefinitionError, match="unique"):
        static_partitioned_config(partition_keys=["x", "x"])

    def list_keys(current_time: datetime | None) -> list[str]:
        return ["p1", "p2"]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the decorator itself must not warn
        dynamic_config = dynamic_partitioned_config(list_keys)(
            lambda key: {"ops": {"o": {"config": {"k": key}}}}
        )
    assert isinstance(dynamic_config.partitions_def, DynamicPartitionsDefinition)
    assert dynamic_config.get_partition_keys() == ["p1", "p2"]
    assert dynamic_config.get_run_config_for_partition_key("p2") == {
        "ops": {"o": {"config": {"k": "p2"}}}
    }


def test_daily_partitioned_config_passes_window_bounds() -> None:
    calls: list[tuple[datetime, datetime]] = []

    @daily_partitioned_config(
        start_date="2024-01-01",
        timezone="America/New_York",
        tags_for_partition_fn=lambda start, end: {"start": start.isoformat()},
    )
    def day_config(start: datetime, end: datetime) -> dict:
        calls.append((start, end))
        return {"ops": {"load": {"config": {"date": start.strftime("%Y-%m-%d")}}}}

    assert day_config.partitions_def == DailyPartitionsDefinition(
        start_date="2024-01-01", timezone="America/New_York"
    )
    config = day_config.get_run_config_for_partition_key("2024-03-10")
    assert config == {"ops": {"load": {"config": {"date": "2024-03-10"}}}}
    start, end = calls[-1]
    assert start == datetime(2024, 3, 10, tzinfo=ZoneInfo("America/New_York"))
    assert end.timestamp() - start.timestamp() == timedelta(hours=23).total_seconds()  # DST day
    assert day_config.get_tags_for_partition_key("2024-01-02") == {
        "start": "2024-01-02T00:00:00-05:00",
        "dagster/partition": "2024-01-02",
    }
    assert day_config(datetime(2024, 1, 1), datetime(2024, 1, 2)) == {
        "ops": {"load": {"config": {"date": "2024-01-01"}}}
    }
    assert day_config.get_partition_keys(current_time=datetime(2024, 1, 3, 12, tzinfo=UTC)) == [
        "2024-01-01",
        "2024-01-02",
    ]
    with pytest.raises(UnknownPartitionKeyError, match="does not match the key format"):
        day_config.get_run_config_for_partition_key("Jan 5")


def test_hourly_weekly_monthly_partitioned_configs_build_their_definitions() -> None:
    def fn(start: datetime, end: datetime) -> dict:
        return {"ops": {"o": {"config": {"hours": (end - start).total_seconds() / 3600}}}}

    hourly = hourly_partitioned_config(start_date="2024-01-01-00:00", minute_offset=30)(fn)
    assert hourly.partitions_def == HourlyPartitionsDefinition(
        start_date="2024-01-01-00:00", minute_offset=30
    )
    assert (
        hourly.get_run_config_for_partition_key("2024-01-01-00:30")["ops"]["o"]["config"]["hours"]
        == 1
    )
    weekly = weekly_partitioned_config(start_date="2024-01-01", day_offset=1, end_offset=1)(fn)
    assert weekly.partitions_def == WeeklyPartitionsDefinition(
        start_date="2024-01-01", day_offset=1, end_offset=1
    )
    assert (
        weekly.get_run_config_for_partition_key("2024-01-08")["ops"]["o"]["config"]["hours"] == 168
    )
    monthly = monthly_partitioned_config(start_date="2024-01-01", exclusions=["2024-02-01"])(fn)
    assert monthly.partitions_def == MonthlyPartitionsDefinition(
        start_date="2024-01-01", exclusions=["2024-02-01"]
    )
    assert monthly.get_partition_keys(current_time=datetime(2024, 5, 1)) == [
        "2024-01-01",
        "2024-03-01",
        "2024-04-01",
    ]
    daily = daily_partitioned_config(start_date="2024-01-01", hour_offset=6)(fn)
    assert daily.get_run_config_for_partition_key("2024-01-01")["ops"]["o"]["config"]["hours"] == 24


def test_bad_partitioned_configs_fail_clearly() -> None:
    keys = StaticPartitionsDefinition(["a"])
    with pytest.raises(DefinitionError, match="exactly one of run_config_for_partition_fn"):
        PartitionedConfig(keys)
    with pytest.raises(DefinitionError, match="exactly one of"):
        PartitionedConfig(
            keys,
            run_config_for_partition_fn=lambda p: {},
            run_config_for_partition_key_fn=lambda k: {},
        )
    with pytest.raises(DefinitionError, match="Cannot provide both"):
        PartitionedConfig(
            keys,
            run_config_for_partition_key_fn=lambda k: {},
            tags_for_partition_fn=lambda p: {},
            tags_for_partition_key_fn=lambda k: {},
        )
    with pytest.raises(DefinitionError, match="needs a partitions definition"):
        PartitionedConfig(["a"], run_config_for_partition_key_fn=lambda k: {})  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="must be a function"):
        PartitionedConfig(keys, run_config_for_partition_key_fn={"ops": {}})  # type: ignore[arg-type]
    returns_list = PartitionedConfig(keys, run_config_for_partition_key_fn=lambda k: [k])
    with pytest.raises(DefinitionError, match=r"partition 'a' returned list"):
        returns_list.get_run_config_for_partition_key("a")
    bad_tags = PartitionedConfig(
        keys,
        run_config_for_partition_key_fn=lambda k: {},
        tags_for_partition_key_fn=lambda k: {"n": 1},
    )
    with pytest.raises(DefinitionError, match="strings to strings"):
        bad_tags.get_tags_for_partition_key("a")
    with pytest.raises(InvalidInvocationError, match="decorators can be directly invoked"):
        PartitionedConfig(keys, run_config_for_partition_key_fn=lambda k: {})("a")
    with pytest.raises(DefinitionError, match="tags_for_partition_fn must be a function"):
        daily_partitioned_config(start_date="2024-01-01", tags_for_partition_fn="nope")  # type: ignore[arg-type]


def test_from_flexible_config() -> None:
    days = DailyPartitionsDefinition(start_date="2024-01-01")
    fixed = PartitionedConfig.from_flexible_config({"ops": {"o": {"config": {"x": 1}}}}, days)
    assert fixed.get_run_config_for_partition_key("2024-01-02") == {
        "ops": {"o": {"config": {"x": 1}}}
    }
    assert (
        PartitionedConfig.from_flexible_config(None, days).get_run_config_for_partition_key(
            "2024-01-02"
        )
        == {}
    )
    own = daily_partitioned_config(start_date="2024-01-01")(lambda s, e: {})
    assert PartitionedConfig.from_flexible_config(own, days) is own
    with pytest.raises(DefinitionError, match="different PartitionsDefinition"):
        PartitionedConfig.from_flexible_config(
            own, DailyPartitionsDefinition(start_date="2023-01-01")
        )
