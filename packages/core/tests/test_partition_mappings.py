"""Partition mappings: identity, all, last, static, specific, time windows, multi-dimension, inference."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from weir._model.asset_in_out import AssetIn
from weir._partitions.mapping import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    NonexistentUpstreamPartitionsError,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
    UpstreamPartitionsResult,
    infer_partition_mapping,
)
from weir._partitions.multi import MultiPartitionsDefinition
from weir._partitions.multi_mapping import (
    DimensionPartitionMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionPartitionMapping,
)
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.subset import PartitionsSubset
from weir._partitions.time_window import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from weir._partitions.time_window_mapping import TimeWindowPartitionMapping
from weir.errors import DefinitionError, InvariantViolationError

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)

abc = StaticPartitionsDefinition(["a", "b", "c"])
bcd = StaticPartitionsDefinition(["b", "c", "d"])
daily = DailyPartitionsDefinition(start_date="2024-01-01")
hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")


def up(mapping, down_def, keys, up_def, now=NOW):
    subset = down_def.subset_with_partition_keys(keys)
    return mapping.get_upstream_mapped_partitions_result_for_partitions(
        subset, down_def, up_def, now
    )


def down(mapping, up_def, keys, down_def, now=NOW):
    subset = up_def.subset_with_partition_keys(keys)
    return mapping.get_downstream_partitions_for_partitions(subset, up_def, down_def, now)


# -- identity -----------------------------------------------------------------------------------------
def test_identity_same_definition_keeps_the_bitmap():
    result = up(IdentityPartitionMapping(), abc, ["a", "c"], abc)
    assert isinstance(result.partitions_subset, PartitionsSubset)
    assert result.partitions_subset.get_partition_keys() == ["a", "c"]
    assert result.required_but_nonexistent_subset.is_empty
    assert result.required_but_nonexistent_partition_keys == []


def test_identity_with_mismatched_keys_reports_the_missing_ones():
    result = up(IdentityPartitionMapping(), abc, ["a", "b", "c"], bcd)
    assert result.partitions_subset.partitions_def == bcd
    assert result.partitions_subset.get_partition_keys() == ["b", "c"]
    assert result.required_but_nonexistent_partition_keys == ["a"]
    assert "a" in result.required_but_nonexistent_subset
    assert len(result.required_but_nonexistent_subset) == 1
    # downstream: upstream keys the downstream lacks are dropped
    assert down(IdentityPartitionMapping(), bcd, ["b", "d"], abc).get_partition_keys() == ["b"]


def test_identity_validation_and_unpartitioned_side():
    with pytest.raises(DefinitionError, match="must match"):
        IdentityPartitionMapping().validate_partition_mapping(abc, daily)
    with pytest.raises(DefinitionError, match="needs a partitioned downstream asset"):
        IdentityPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
            None, None, abc
        )


def test_subset_of_another_definition_is_rejected():
    with pytest.raises(DefinitionError, match="belongs to"):
        IdentityPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
            bcd.subset_with_partition_keys(["b"]), abc, abc
        )


# -- all / last -----------------------------------------------------------------------------------------
def test_all_partition_mapping():
    mapping = AllPartitionMapping()
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(None, None, abc)
    assert result.partitions_subset.get_partition_keys() == ["a", "b", "c"]
    assert result.required_but_nonexistent_subset.is_empty
    assert up(mapping, bcd, ["d"], abc).partitions_subset.get_partition_keys() == ["a", "b", "c"]
    assert down(mapping, abc, ["b"], bcd).get_partition_keys() == ["b", "c", "d"]
    assert down(mapping, abc, [], bcd).is_empty


def test_last_partition_mapping_follows_current_time():
    mapping = LastPartitionMapping()
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(None, None, daily, NOW)
    assert result.partitions_subset.get_partition_keys() == ["2024-05-31"]
    later = datetime(2024, 6, 3, 12, tzinfo=timezone.utc)
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(None, None, daily, later)
    assert result.partitions_subset.get_partition_keys() == ["2024-06-02"]
    assert down(mapping, abc, ["c"], bcd).get_partition_keys() == ["b", "c", "d"]
    assert down(mapping, abc, ["a", "b"], bcd).is_empty
    empty = StaticPartitionsDefinition([])
    assert mapping.get_upstream_mapped_partitions_result_for_partitions(
        None, None, empty
    ).partitions_subset.is_empty


# -- static / specific ----------------------------------------------------------------------------------
def test_static_partition_mapping_one_to_many():
    upstream = StaticPartitionsDefinition(["eu-west", "eu-north", "global", "unused"])
    downstream = StaticPartitionsDefinition(["eu", "us", "apac"])
    mapping = StaticPartitionMapping({"eu-west": "eu", "eu-north": "eu", "global": {"eu", "us"}})
    mapping.validate_partition_mapping(upstream, downstream)
    assert up(mapping, downstream, ["eu"], upstream).partitions_subset.get_partition_keys() == [
        "eu-west",
        "eu-north",
        "global",
    ]
    assert up(mapping, downstream, ["us"], upstream).partitions_subset.get_partition_keys() == [
        "global"
    ]
    assert up(mapping, downstream, ["apac"], upstream).partitions_subset.is_empty
    assert down(mapping, upstream, ["global"], downstream).get_partition_keys() == ["eu", "us"]
    assert down(mapping, upstream, ["unused"], downstream).is_empty


def test_static_partition_mapping_bad_keys():
    mapping = StaticPartitionMapping({"a": "x"})
    with pytest.raises(
        DefinitionError,
        match=r"target partitions not in the downstream partitions definition: \['x'\]",
    ):
        mapping.validate_partition_mapping(abc, bcd)
    with pytest.raises(DefinitionError, match=r"source partitions not in the upstream .*\['a'\]"):
        up(mapping, abc, ["a"], bcd)
    with pytest.raises(DefinitionError, match="collection of strings"):
        StaticPartitionMapping({"a": 3})  # type: ignore[dict-item]
    with pytest.raises(DefinitionError, match="not partitioned"):
        mapping.validate_partition_mapping(None, bcd)


def test_specific_partitions_mapping():
    mapping = SpecificPartitionsPartitionMapping(["a", "c"])
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(None, None, abc)
    assert result.partitions_subset.get_partition_keys() == ["a", "c"]
    assert result.required_but_nonexistent_subset.is_empty
    missing = SpecificPartitionsPartitionMapping(
        ["a", "zz"]
    ).get_upstream_mapped_partitions_result_for_partitions(None, None, abc)
    assert missing.partitions_subset.get_partition_keys() == ["a"]
    assert missing.required_but_nonexistent_partition_keys == ["zz"]
    assert down(mapping, abc, ["c"], bcd).get_partition_keys() == ["b", "c", "d"]
    assert down(mapping, abc, ["b"], bcd).is_empty
    with pytest.raises(DefinitionError, match="list of upstream partition keys"):
        SpecificPartitionsPartitionMapping("abc")


# -- time windows ---------------------------------------------------------------------------------------
def test_daily_downstream_of_hourly_reads_its_24_hours():
    result = up(TimeWindowPartitionMapping(), daily, ["2024-01-02"], hourly)
    keys = result.partitions_subset.get_partition_keys()
    assert len(keys) == 24
    assert keys[0] == "2024-01-02-00:00"
    assert keys[-1] == "2024-01-02-23:00"
    assert result.required_but_nonexistent_subset.is_empty
    assert down(
        TimeWindowPartitionMapping(), hourly, ["2024-01-02-05:00"], daily
    ).get_partition_keys() == ["2024-01-02"]


def test_daily_of_hourly_on_a_dst_day_has_23_hours():
    ny_daily = DailyPartitionsDefinition(start_date="2024-03-01", timezone="America/New_York")
    ny_hourly = HourlyPartitionsDefinition(
        start_date="2024-03-01-00:00", timezone="America/New_York"
    )
    keys = up(
        TimeWindowPartitionMapping(), ny_daily, ["2024-03-10"], ny_hourly
    ).partitions_subset.get_partition_keys()
    assert len(keys) == 23
    assert "2024-03-10-02:00" not in keys


def test_hourly_downstream_of_daily_reads_its_day():
    result = up(
        TimeWindowPartitionMapping(), hourly, ["2024-01-02-05:00", "2024-01-03-23:00"], daily
    )
    assert result.partitions_subset.get_partition_keys() == ["2024-01-02", "2024-01-03"]
    hours = down(TimeWindowPartitionMapping(), daily, ["2024-01-02"], hourly).get_partition_keys()
    assert len(hours) == 24


def test_hourly_of_a_day_not_complete_yet_is_nonexistent():
    midday = datetime(2024, 1, 5, 12, tzinfo=timezone.utc)
    with pytest.raises(
        NonexistentUpstreamPartitionsError, match="after the last existing upstream partition"
    ):
        up(TimeWindowPartitionMapping(), hourly, ["2024-01-05-03:00"], daily, now=midday)


def test_weekly_downstream_of_daily():
    weekly = WeeklyPartitionsDefinition(start_date="2024-01-01")  # weeks start Sunday: 2024-01-07
    keys = up(
        TimeWindowPartitionMapping(), weekly, ["2024-01-07"], daily
    ).partitions_subset.get_partition_keys()
    assert keys == [f"2024-01-{day:02d}" for day in range(7, 14)]
    assert down(
        TimeWindowPartitionMapping(), daily, ["2024-01-10"], weekly
    ).get_partition_keys() == ["2024-01-07"]
    # the first days of daily lie before the first complete week: nothing downstream reads them
    assert down(TimeWindowPartitionMapping(), daily, ["2024-01-02"], weekly).is_empty
    with pytest.raises(NonexistentUpstreamPartitionsError, match=r"\['2024-01-02'\]"):
        up(TimeWindowPartitionMapping(), daily, ["2024-01-02"], weekly)


def test_offsets_previous_partition_self_dependency():
    previous = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    result = up(previous, daily, ["2024-01-05", "2024-01-09"], daily)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-04", "2024-01-08"]
    assert down(previous, daily, ["2024-01-04"], daily).get_partition_keys() == ["2024-01-05"]
    window = TimeWindowPartitionMapping(start_offset=-2, end_offset=0)
    assert up(window, daily, ["2024-01-05"], daily).partitions_subset.get_partition_keys() == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    assert down(window, daily, ["2024-01-03"], daily).get_partition_keys() == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    # offsets count downstream partitions (Dagster >= 1.7.4): daily of hourly, one day back = 48 hours
    assert (
        len(
            up(
                TimeWindowPartitionMapping(start_offset=-1), daily, ["2024-01-03"], hourly
            ).partitions_subset
        )
        == 48
    )
    # a start after the end is an empty window for every partition
    assert up(
        TimeWindowPartitionMapping(1, 0), daily, ["2024-01-03"], daily
    ).partitions_subset.is_empty


def test_first_partition_with_offset_minus_one_errors_clearly():
    previous = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    with pytest.raises(NonexistentUpstreamPartitionsError) as info:
        up(previous, daily, ["2024-01-01", "2024-01-02"], daily)
    message = str(info.value)
    assert "['2024-01-01']" in message
    assert "2023-12-31T00:00:00+00:00 .. 2024-01-01T00:00:00+00:00" in message
    assert "before the first upstream partition" in message
    assert "allow_nonexistent_upstream_partitions=True" in message
    assert isinstance(info.value, InvariantViolationError)
    assert info.value.downstream_partition_keys == ["2024-01-01"]
    assert info.value.result.required_but_nonexistent_partition_keys == ["2023-12-31"]
    assert info.value.result.partitions_subset.get_partition_keys() == ["2024-01-01"]


def test_nonexistent_upstream_allowed_is_dropped_and_reported():
    previous = TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )
    result = up(previous, daily, ["2024-01-01", "2024-01-02"], daily)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-01"]
    assert result.required_but_nonexistent_subset.is_empty
    assert result.allowed_nonexistent_subset.get_partition_keys() == ["2023-12-31"]
    assert result.allowed_nonexistent_subset.time_windows[0].start == datetime(
        2023, 12, 31, tzinfo=timezone.utc
    )
    # an upstream that starts later: early downstream partitions read nothing
    late = DailyPartitionsDefinition(start_date="2024-02-01")
    allowed = TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    result = up(allowed, daily, ["2024-01-15", "2024-02-02"], late)
    assert result.partitions_subset.get_partition_keys() == ["2024-02-02"]
    assert result.allowed_nonexistent_subset.get_partition_keys() == ["2024-01-15"]
    with pytest.raises(NonexistentUpstreamPartitionsError, match=r"downstream \['2024-01-15'\]"):
        up(TimeWindowPartitionMapping(), daily, ["2024-01-15", "2024-02-02"], late)


def test_time_window_mapping_rejects_other_definitions():
    with pytest.raises(DefinitionError, match="must be a TimeWindowPartitionsDefinition"):
        up(TimeWindowPartitionMapping(), abc, ["a"], daily)
    berlin = DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Berlin")
    with pytest.raises(DefinitionError, match="don't match"):
        TimeWindowPartitionMapping().validate_partition_mapping(berlin, daily)
    with pytest.raises(DefinitionError, match="must be an int"):
        TimeWindowPartitionMapping(start_offset="1")  # type: ignore[arg-type]


def test_twenty_years_of_hours_map_as_one_bitmap():
    hours = HourlyPartitionsDefinition(start_date="2004-01-01-00:00")
    days = DailyPartitionsDefinition(start_date="2004-01-01")
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    everything = days.subset_with_all_partitions(now)
    result = TimeWindowPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
        everything, days, hours, now
    )
    assert len(result.partitions_subset) == hours.get_num_partitions(now) == 175_320
    assert result.partitions_subset.index_runs() == [(0, 175_320)]
    every_other_day = PartitionsSubset(days, int("01" * 3652, 2))
    result = TimeWindowPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
        every_other_day, days, hours, now
    )
    assert len(result.partitions_subset) == 3652 * 24
    back = TimeWindowPartitionMapping().get_downstream_partitions_for_partitions(
        result.partitions_subset, hours, days, now
    )
    assert back == every_other_day


# -- multi-dimension ---------------------------------------------------------------------------------------
small_days = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
regions = StaticPartitionsDefinition(["eu", "us"])
date_region = MultiPartitionsDefinition({"date": small_days, "region": regions})


def test_multi_to_single_both_directions():
    mapping = MultiToSingleDimensionPartitionMapping()
    # single downstream, multi upstream
    result = up(mapping, small_days, ["2024-01-02"], date_region)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-02|eu", "2024-01-02|us"]
    assert down(mapping, date_region, ["2024-01-02|us"], small_days).get_partition_keys() == [
        "2024-01-02"
    ]
    # multi downstream, single upstream
    assert up(
        mapping, date_region, ["2024-01-03|eu"], regions
    ).partitions_subset.get_partition_keys() == ["eu"]
    assert down(mapping, regions, ["us"], date_region).get_partition_keys() == [
        "2024-01-01|us",
        "2024-01-02|us",
        "2024-01-03|us",
    ]


def test_multi_to_single_through_a_time_dimension_of_another_granularity():
    hours = HourlyPartitionsDefinition(start_date="2024-01-01-00:00", end_date="2024-01-04-00:00")
    result = up(MultiToSingleDimensionPartitionMapping(), hours, ["2024-01-02-07:00"], date_region)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-02|eu", "2024-01-02|us"]


def test_multi_to_single_dimension_inference_errors():
    twins = MultiPartitionsDefinition({"x": regions, "y": regions})
    with pytest.raises(DefinitionError, match="partition dimension name must be specified"):
        MultiToSingleDimensionPartitionMapping().validate_partition_mapping(twins, regions)
    assert up(
        MultiToSingleDimensionPartitionMapping("y"), twins, ["eu|us"], regions
    ).partitions_subset.get_partition_keys() == ["us"]
    with pytest.raises(DefinitionError, match="Did you mean 'region'"):
        MultiToSingleDimensionPartitionMapping("regoin").validate_partition_mapping(
            date_region, regions
        )
    with pytest.raises(DefinitionError, match="can only be used when"):
        MultiToSingleDimensionPartitionMapping().validate_partition_mapping(date_region, abc)
    with pytest.raises(DefinitionError, match="received 0 multi-partitioned assets"):
        MultiToSingleDimensionPartitionMapping().validate_partition_mapping(abc, abc)


def test_multi_to_multi_with_dimension_mappings():
    codes = StaticPartitionsDefinition(["EU", "US"])
    upstream = MultiPartitionsDefinition({"date": small_days, "region": regions})
    downstream = MultiPartitionsDefinition({"day": small_days, "code": codes})
    mapping = MultiPartitionMapping(
        {
            "date": DimensionPartitionMapping(
                "day", TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
            ),
            "region": DimensionPartitionMapping(
                "code", StaticPartitionMapping({"eu": "EU", "us": "US"})
            ),
        }
    )
    mapping.validate_partition_mapping(upstream, downstream)
    result = up(mapping, downstream, ["EU|2024-01-03"], upstream)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-02|eu"]
    assert down(mapping, upstream, ["2024-01-02|us"], downstream).get_partition_keys() == [
        "US|2024-01-03"
    ]
    with pytest.raises(
        NonexistentUpstreamPartitionsError,
        match="downstream dimension 'day' to upstream dimension 'date'",
    ):
        up(mapping, downstream, ["EU|2024-01-01"], upstream)


def test_multi_partition_mapping_unmapped_dimensions_take_everything():
    codes = StaticPartitionsDefinition(["EU", "US"])
    downstream = MultiPartitionsDefinition({"date": small_days, "code": codes})
    mapping = MultiPartitionMapping(
        {"date": DimensionPartitionMapping("date", IdentityPartitionMapping())}
    )
    result = up(mapping, downstream, ["US|2024-01-02"], date_region)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-02|eu", "2024-01-02|us"]
    assert down(mapping, date_region, ["2024-01-01|eu"], downstream).get_partition_keys() == [
        "EU|2024-01-01",
        "US|2024-01-01",
    ]


def test_multi_partition_mapping_bad_dimensions():
    with pytest.raises(DefinitionError, match="Did you mean 'region'"):
        MultiPartitionMapping(
            {"regoin": DimensionPartitionMapping("region", IdentityPartitionMapping())}
        ).validate_partition_mapping(date_region, date_region)
    with pytest.raises(DefinitionError, match="must be multi-partitioned"):
        MultiPartitionMapping({}).validate_partition_mapping(regions, date_region)
    with pytest.raises(DefinitionError, match="mapped from two upstream dimensions"):
        MultiPartitionMapping(
            {
                "date": DimensionPartitionMapping("date", IdentityPartitionMapping()),
                "region": DimensionPartitionMapping("date", IdentityPartitionMapping()),
            }
        )


def test_three_dimensions():
    products = StaticPartitionsDefinition(["p1", "p2", "p3"])
    cube = MultiPartitionsDefinition({"date": small_days, "region": regions, "product": products})
    # single -> one of three dimensions
    result = up(MultiToSingleDimensionPartitionMapping(), products, ["p2"], cube)
    assert len(result.partitions_subset) == 3 * 2
    assert all(
        key.keys_by_dimension["product"] == "p2"
        for key in result.partitions_subset.get_partition_keys()
    )
    assert down(
        MultiToSingleDimensionPartitionMapping(), cube, ["2024-01-01|p3|us"], products
    ).get_partition_keys() == ["p3"]
    # cube -> cube, date shifted back one day, product identical, region unmapped
    mapping = MultiPartitionMapping(
        {
            "date": DimensionPartitionMapping("date", TimeWindowPartitionMapping(-1, -1)),
            "product": DimensionPartitionMapping("product", IdentityPartitionMapping()),
        }
    )
    keys = up(
        mapping, cube, ["2024-01-03|p1|eu", "2024-01-03|p3|eu"], cube
    ).partitions_subset.get_partition_keys()
    assert keys == ["2024-01-02|p1|eu", "2024-01-02|p1|us", "2024-01-02|p3|eu", "2024-01-02|p3|us"]
    everything = cube.subset_with_all_partitions()
    shifted = mapping.get_downstream_partitions_for_partitions(everything, cube, cube)
    assert len(shifted) == 2 * 2 * 3  # the last two days read the first two


# -- inference and value semantics -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("downstream_def", "upstream_def", "expected"),
    [
        (None, abc, AllPartitionMapping()),
        (abc, None, AllPartitionMapping()),
        (abc, abc, IdentityPartitionMapping()),
        (abc, bcd, IdentityPartitionMapping()),
        (daily, hourly, TimeWindowPartitionMapping()),
        (daily, daily, TimeWindowPartitionMapping()),
        (date_region, regions, MultiToSingleDimensionPartitionMapping()),
        (small_days, date_region, MultiToSingleDimensionPartitionMapping()),
        (hourly, date_region, MultiToSingleDimensionPartitionMapping()),
        (date_region, date_region, IdentityPartitionMapping()),
        (abc, daily, IdentityPartitionMapping()),
    ],
)
def test_inferred_default(downstream_def, upstream_def, expected):
    assert infer_partition_mapping(None, downstream_def, upstream_def) == expected


def test_explicit_mapping_wins_and_must_be_a_mapping():
    explicit = LastPartitionMapping()
    assert infer_partition_mapping(explicit, daily, hourly) is explicit
    with pytest.raises(DefinitionError, match="must be a PartitionMapping"):
        infer_partition_mapping("last", daily, hourly)  # type: ignore[arg-type]


def test_mappings_are_values():
    assert TimeWindowPartitionMapping(-1, -1) == TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1
    )
    assert TimeWindowPartitionMapping(-1, -1) != TimeWindowPartitionMapping(-1, 0)
    assert hash(StaticPartitionMapping({"a": ["x", "y"]})) == hash(
        StaticPartitionMapping({"a": {"y", "x"}})
    )
    assert IdentityPartitionMapping() != AllPartitionMapping()
    assert AssetIn("x", partition_mapping=TimeWindowPartitionMapping(-1, -1)).partition_mapping == (
        TimeWindowPartitionMapping(-1, -1)
    )
    assert "offsetted by -1 and -1" in TimeWindowPartitionMapping(-1, -1).description


def test_upstream_result_accepts_dagster_forms():
    subset = abc.subset_with_partition_keys(["a"])
    assert UpstreamPartitionsResult(
        subset, abc.empty_subset()
    ).required_but_nonexistent_subset.is_empty
    older = UpstreamPartitionsResult(subset, required_but_nonexistent_partition_keys=["zz"])
    assert older.required_but_nonexistent_partition_keys == ["zz"]


def test_upstream_with_no_partitions_yet():
    future = DailyPartitionsDefinition(start_date="2030-01-01")
    with pytest.raises(NonexistentUpstreamPartitionsError, match="has no partitions yet"):
        up(TimeWindowPartitionMapping(), daily, ["2024-01-02"], future)
    allowed = TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    assert up(allowed, daily, ["2024-01-02"], future).partitions_subset.is_empty


def test_multi_dimension_reports_allowed_missing_dimension_keys():
    mapping = MultiPartitionMapping(
        {"date": DimensionPartitionMapping("date", TimeWindowPartitionMapping(-1, -1, True))}
    )
    result = up(mapping, date_region, ["2024-01-01|us", "2024-01-02|us"], date_region)
    assert result.partitions_subset.get_partition_keys() == ["2024-01-01|eu", "2024-01-01|us"]
    assert result.allowed_nonexistent_subset.get_partition_keys() == ["2023-12-31"]
    assert result.required_but_nonexistent_subset.is_empty


def test_dynamic_definitions_through_a_real_instance():
    from weir._instance.instance import Instance
    from weir._partitions.dynamic import DynamicPartitionsDefinition

    instance = Instance.ephemeral()
    fruits = DynamicPartitionsDefinition(name="fruits")
    instance.add_dynamic_partitions("fruits", ["apple", "banana", "cherry"])
    subset = fruits.subset_with_partition_keys(["banana"], dynamic_partitions_store=instance)
    result = IdentityPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
        subset, fruits, fruits, dynamic_partitions_store=instance
    )
    assert result.partitions_subset.get_partition_keys() == ["banana"]  # the store travels along
    baskets = StaticPartitionsDefinition(["sweet", "sour"])
    mapping = StaticPartitionMapping({"apple": "sweet", "banana": "sweet", "cherry": "sour"})
    mapping.validate_partition_mapping(fruits, baskets)  # dynamic keys are checked at run time
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        baskets.subset_with_partition_keys(["sweet"]),
        baskets,
        fruits,
        dynamic_partitions_store=instance,
    )
    assert upstream.partitions_subset.get_partition_keys() == ["apple", "banana"]
    everything = AllPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
        None, None, fruits, dynamic_partitions_store=instance
    )
    assert len(everything.partitions_subset) == 3
    instance.add_dynamic_partitions("fruits", ["durian"])
    with pytest.raises(
        DefinitionError, match=r"not in the upstream partitions definition: \['kiwi'\]"
    ):
        StaticPartitionMapping(
            {"kiwi": "sour"}
        ).get_upstream_mapped_partitions_result_for_partitions(
            baskets.subset_with_partition_keys(["sour"]),
            baskets,
            fruits,
            dynamic_partitions_store=instance,
        )
