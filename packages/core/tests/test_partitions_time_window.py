"""Time-window partitions: key formats, ranges, end offsets, DST, exclusions, errors and scale."""

from __future__ import annotations

import copy
import pickle
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from weir._partitions.definition import UnknownPartitionKeyError
from weir._partitions.key_range import PartitionKeyRange
from weir._partitions.registry import (
    partitions_def_from_serializable,
    partitions_def_to_serializable,
)
from weir._partitions.time_window import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    ScheduleType,
    TimeWindow,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from weir.errors import DefinitionError

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def hours(window: TimeWindow) -> float:
    return (window.end.timestamp() - window.start.timestamp()) / 3600


# -- key formats and the first key ---------------------------------------------------------------------
def test_daily_keys_are_window_starts_in_dagster_format() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    keys = daily.get_partition_keys(current_time=datetime(2024, 1, 4, 12))
    assert keys == ["2024-01-01", "2024-01-02", "2024-01-03"]
    window = daily.time_window_for_partition_key("2024-01-02")
    assert window == TimeWindow(datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC))
    assert window.start.tzinfo is not None


def test_hourly_keys_use_the_hour_minute_format() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
    keys = hourly.get_partition_keys(current_time=datetime(2024, 1, 1, 3, 30))
    assert keys == ["2024-01-01-00:00", "2024-01-01-01:00", "2024-01-01-02:00"]
    offset = HourlyPartitionsDefinition(start_date=datetime(2024, 1, 1), minute_offset=15)
    assert offset.get_partition_keys(current_time=datetime(2024, 1, 1, 2, 20)) == [
        "2024-01-01-00:15",
        "2024-01-01-01:15",
    ]


def test_weekly_starts_on_sunday_and_first_key_follows_a_monday_start() -> None:
    weekly = WeeklyPartitionsDefinition(start_date="2024-01-01")  # a Monday
    assert weekly.get_first_partition_key(current_time=datetime(2024, 2, 1)) == "2024-01-07"
    assert weekly.get_partition_keys(current_time=datetime(2024, 1, 27)) == [
        "2024-01-07",
        "2024-01-14",
    ]
    mondays = WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1)
    assert mondays.get_first_partition_key(current_time=datetime(2024, 2, 1)) == "2024-01-01"
    assert hours(weekly.time_window_for_partition_key("2024-01-07")) == 7 * 24


def test_monthly_starts_on_day_offset_and_skips_months_without_that_day() -> None:
    monthly = MonthlyPartitionsDefinition(start_date="2024-01-15")
    assert monthly.get_partition_keys(current_time=datetime(2024, 4, 30)) == [
        "2024-02-01",
        "2024-03-01",
    ]
    mid = MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=15)
    assert mid.get_partition_keys(current_time=datetime(2024, 3, 20))[0] == "2024-01-15"
    last_days = MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=31)
    assert last_days.get_partition_keys(current_time=datetime(2024, 9, 1)) == [
        "2024-01-31",
        "2024-03-31",
        "2024-05-31",
        "2024-07-31",
    ]
    assert last_days.index_of("2024-03-31", current_time=datetime(2024, 9, 1)) == 1
    assert last_days.index_of("2024-02-29", current_time=datetime(2024, 9, 1)) is None


def test_custom_fmt_and_cron_schedule() -> None:
    six_hourly = TimeWindowPartitionsDefinition(
        start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M", cron_schedule="0 */6 * * *"
    )
    assert six_hourly.get_partition_keys(current_time=datetime(2024, 1, 1, 17)) == [
        "2024-01-01-00:00",
        "2024-01-01-06:00",
    ]
    compact = DailyPartitionsDefinition(start_date="20240101", fmt="%Y%m%d")
    assert compact.get_partition_keys(current_time=datetime(2024, 1, 3)) == ["20240101", "20240102"]
    assert compact.start == datetime(2024, 1, 1, tzinfo=ZoneInfo("UTC"))


def test_weekday_cron_windows_run_between_ticks() -> None:
    weekdays = TimeWindowPartitionsDefinition(
        start="2024-01-05", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5"
    )
    keys = weekdays.get_partition_keys(current_time=datetime(2024, 1, 10))
    assert keys == ["2024-01-05", "2024-01-08", "2024-01-09"]
    friday = weekdays.time_window_for_partition_key("2024-01-05")
    assert hours(friday) == 72  # Friday to Monday, as the cron ticks fall
    assert weekdays.schedule_type is None


def test_schedule_type_and_offsets_build_the_cron_schedule() -> None:
    daily = TimeWindowPartitionsDefinition(
        start="2024-01-01",
        fmt="%Y-%m-%d",
        schedule_type=ScheduleType.DAILY,
        hour_offset=6,
        minute_offset=30,
    )
    assert daily.cron_schedule == "30 6 * * *"
    assert (daily.schedule_type, daily.minute_offset, daily.hour_offset) == (
        ScheduleType.DAILY,
        30,
        6,
    )
    assert daily.get_first_partition_key(current_time=datetime(2024, 1, 3)) == "2024-01-01"
    assert daily.time_window_for_partition_key("2024-01-01").start == datetime(
        2024, 1, 1, 6, 30, tzinfo=UTC
    )
    weekly = WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=3, hour_offset=2)
    assert (weekly.cron_schedule, weekly.day_offset) == ("0 2 * * 3", 3)
    monthly = MonthlyPartitionsDefinition(start_date="2024-01-01")
    assert (monthly.cron_schedule, monthly.day_offset, monthly.schedule_type) == (
        "0 0 1 * *",
        1,
        ScheduleType.MONTHLY,
    )
    assert (
        HourlyPartitionsDefinition(start_date="2024-01-01-00:00").schedule_type
        is ScheduleType.HOURLY
    )
    assert daily.get_cron_schedule(hour_of_day=9) == "30 9 * * *"


# -- ranges: end_date, end_offset, empty definitions -----------------------------------------------------
def test_end_date_is_exclusive() -> None:
    bounded = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")
    assert bounded.get_partition_keys() == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert bounded.get_num_partitions(current_time=datetime(2030, 1, 1)) == 4
    assert bounded.get_partition_keys(current_time=datetime(2024, 1, 3)) == [
        "2024-01-01",
        "2024-01-02",
    ]
    with pytest.raises(UnknownPartitionKeyError, match="ends after the definition's end"):
        bounded.require_index("2024-01-05")


def test_end_offset_adds_the_in_progress_window_or_drops_complete_ones() -> None:
    now = datetime(2024, 1, 3, 5)
    plus = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    assert plus.get_partition_keys(current_time=now) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert plus.get_last_partition_key(current_time=now) == "2024-01-03"
    minus = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=-1)
    assert minus.get_partition_keys(current_time=now) == ["2024-01-01"]
    assert minus.index_of("2024-01-02", current_time=now) is None
    with pytest.raises(UnknownPartitionKeyError, match="end_offset=-1 leaves out the last 1"):
        minus.require_index("2024-01-02", current_time=now)
    capped = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03", end_offset=5)
    assert capped.get_partition_keys(current_time=now) == ["2024-01-01", "2024-01-02"]


def test_a_definition_starting_in_the_future_is_empty() -> None:
    future = DailyPartitionsDefinition(start_date="2999-01-01")
    assert future.get_partition_keys() == []
    assert future.get_num_partitions() == 0
    assert future.get_first_partition_key() is None
    assert future.get_last_partition_window() is None
    with pytest.raises(IndexError, match="out of range"):
        future.key_at(0)
    with pytest.raises(UnknownPartitionKeyError, match="There are no partitions yet"):
        future.require_index("2999-01-01")
    assert future.time_window_for_partition_key("2999-01-01").start.year == 2999


def test_only_complete_windows_exist_and_current_time_is_respected() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    # the first window ends exactly at midnight, so it is complete then
    assert daily.get_num_partitions(current_time=datetime(2024, 1, 2)) == 1
    assert daily.get_num_partitions(current_time=datetime(2024, 1, 1, 23, 59)) == 0
    naive, aware = datetime(2024, 1, 10, 3), datetime(2024, 1, 10, 3, tzinfo=UTC)
    assert daily.get_partition_keys(current_time=naive) == daily.get_partition_keys(
        current_time=aware
    )
    ny_daily = DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/New_York")
    # a naive current time is read in the definition's timezone
    assert ny_daily.get_num_partitions(current_time=datetime(2024, 1, 2, 0, 0)) == 1
    assert ny_daily.get_num_partitions(current_time=datetime(2024, 1, 2, 0, 0, tzinfo=UTC)) == 0


# -- unknown keys ------------------------------------------------------------------------------------------
def test_unknown_keys_say_why() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    now = datetime(2024, 2, 1)
    with pytest.raises(
        UnknownPartitionKeyError, match=r"does not match the key format '%Y-%m-%d'.*'2024-01-01'"
    ):
        daily.require_index("01/02/2024", current_time=now)
    with pytest.raises(UnknownPartitionKeyError, match="before the first window"):
        daily.require_index("2023-12-31", current_time=now)
    with pytest.raises(
        UnknownPartitionKeyError, match=r"has not ended.*end_offset=0.*'2024-01-01' to '2024-01-31'"
    ):
        daily.require_index("2024-03-01", current_time=now)
    hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
    with pytest.raises(
        UnknownPartitionKeyError, match=r"not the start of a window.*starts at '2024-01-01-05:00'"
    ):
        hourly.require_index("2024-01-01-05:30", current_time=now)
    with pytest.raises(UnknownPartitionKeyError, match="not the start of a window"):
        hourly.time_window_for_partition_key("2024-01-01-05:30")
    weekly = WeeklyPartitionsDefinition(start_date="2024-01-01")
    assert weekly.index_of("2024-01-08", current_time=now) is None  # a Monday
    assert not weekly.has_partition_key("2024-01-08", current_time=now)
    assert weekly.has_partition_key("2024-01-14", current_time=now)
    # "2024-1-5" parses, but it is not how keys are written
    assert daily.index_of("2024-1-5", current_time=now) is None
    assert daily.index_of(20240105, current_time=now) is None  # type: ignore[arg-type]


# -- DST -----------------------------------------------------------------------------------------------
def test_hourly_new_york_spring_forward_has_23_windows_and_no_2am() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-03-09-00:00", timezone="America/New_York")
    now = datetime(2024, 3, 12)
    keys = [k for k in hourly.get_partition_keys(current_time=now) if k.startswith("2024-03-10")]
    assert len(keys) == 23
    assert keys[:4] == [
        "2024-03-10-00:00",
        "2024-03-10-01:00",
        "2024-03-10-03:00",
        "2024-03-10-04:00",
    ]
    assert all(hours(hourly.time_window_for_partition_key(k)) == 1 for k in keys)
    one_am = hourly.require_index("2024-03-10-01:00", current_time=now)
    assert hourly.index_of("2024-03-10-03:00", current_time=now) == one_am + 1
    with pytest.raises(UnknownPartitionKeyError, match="does not exist in America/New_York"):
        hourly.require_index("2024-03-10-02:00", current_time=now)


def test_hourly_new_york_fall_back_has_25_windows_and_unique_keys() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-11-02-00:00", timezone="America/New_York")
    now = datetime(2024, 11, 5)
    all_keys = hourly.get_partition_keys(current_time=now)
    keys = [k for k in all_keys if k.startswith("2024-11-03")]
    assert len(keys) == 25
    assert keys[1:4] == ["2024-11-03-01:00", "2024-11-03-01:00-0500", "2024-11-03-02:00"]
    assert len(set(all_keys)) == len(all_keys)
    first, second = (hourly.time_window_for_partition_key(k) for k in keys[1:3])
    assert first.end == second.start and hours(first) == hours(second) == 1
    assert second.start.utcoffset() == timedelta(hours=-5)
    for i, key in enumerate(all_keys):
        assert hourly.index_of(key, current_time=now) == i
        assert hourly.key_at(i, current_time=now) == key


def test_daily_windows_are_23_and_25_hours_on_new_york_dst_days() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/New_York")
    assert hours(daily.time_window_for_partition_key("2024-03-10")) == 23
    assert hours(daily.time_window_for_partition_key("2024-11-03")) == 25
    assert hours(daily.time_window_for_partition_key("2024-06-01")) == 24
    keys = daily.get_partition_keys(current_time=datetime(2025, 1, 1))
    assert len(keys) == 366 and keys[-1] == "2024-12-31"


def test_a_wall_time_skipped_by_dst_moves_to_the_end_of_the_gap() -> None:
    at_230 = DailyPartitionsDefinition(
        start_date="2024-03-08", hour_offset=2, minute_offset=30, timezone="America/New_York"
    )
    window = at_230.time_window_for_partition_key("2024-03-10")
    assert (window.start.hour, window.start.minute) == (3, 0)
    assert window.end == datetime(2024, 3, 11, 2, 30, tzinfo=NY)
    assert at_230.index_of("2024-03-10", current_time=datetime(2024, 3, 12)) == 2
    ambiguous = DailyPartitionsDefinition(
        start_date="2024-11-01", hour_offset=1, minute_offset=30, timezone="America/New_York"
    )
    start = ambiguous.time_window_for_partition_key("2024-11-03").start
    assert start.utcoffset() == timedelta(hours=-5)  # the later of the two 01:30s


def test_europe_berlin_hourly_and_daily() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-03-30-00:00", timezone="Europe/Berlin")
    keys = hourly.get_partition_keys(current_time=datetime(2024, 10, 29))
    assert len([k for k in keys if k.startswith("2024-03-31")]) == 23
    autumn = [k for k in keys if k.startswith("2024-10-27")]
    assert len(autumn) == 25 and "2024-10-27-02:00+0100" in autumn
    daily = DailyPartitionsDefinition(start_date="2024-03-01", timezone="Europe/Berlin")
    assert hours(daily.time_window_for_partition_key("2024-03-31")) == 23
    assert hours(daily.time_window_for_partition_key("2024-10-27")) == 25
    assert daily.time_window_for_partition_key("2024-07-01").start == datetime(
        2024, 7, 1, tzinfo=BERLIN
    )


def test_utc_days_are_always_24_hours() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
    keys = hourly.get_partition_keys(current_time=datetime(2025, 1, 1))
    assert len(keys) == 366 * 24
    assert len([k for k in keys if k.startswith("2024-03-10")]) == 24


def test_key_range_across_a_dst_change() -> None:
    hourly = HourlyPartitionsDefinition(start_date="2024-11-01-00:00", timezone="America/New_York")
    rng = PartitionKeyRange("2024-11-03-00:00", "2024-11-03-03:00")
    assert hourly.get_partition_keys_in_range(rng) == [
        "2024-11-03-00:00",
        "2024-11-03-01:00",
        "2024-11-03-01:00-0500",
        "2024-11-03-02:00",
        "2024-11-03-03:00",
    ]
    day = DailyPartitionsDefinition(start_date="2024-11-01", timezone="America/New_York")
    window = day.time_window_for_partition_key("2024-11-03")
    assert len(hourly.get_partition_keys_in_time_window(window)) == 25
    assert hourly.get_partition_key_range_for_time_window(window) == PartitionKeyRange(
        "2024-11-03-00:00", "2024-11-03-23:00"
    )
    assert hourly.get_num_partitions_in_window(window) == 25


# -- windows and timestamps --------------------------------------------------------------------------------
def test_windows_timestamps_and_neighbours() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    now = datetime(2024, 1, 10)
    midnight = datetime(2024, 1, 3, tzinfo=UTC).timestamp()
    assert daily.get_partition_key_for_timestamp(midnight) == "2024-01-03"
    assert daily.get_partition_key_for_timestamp(midnight, end_closed=True) == "2024-01-02"
    assert daily.get_partition_key_for_timestamp(midnight + 3600) == "2024-01-03"
    assert daily.get_first_partition_window(
        current_time=now
    ) == daily.time_window_for_partition_key("2024-01-01")
    assert daily.get_last_partition_window(current_time=now) == daily.time_window_for_partition_key(
        "2024-01-09"
    )
    assert daily.get_next_partition_key("2024-01-08", current_time=now) == "2024-01-09"
    assert daily.get_next_partition_key("2024-01-09", current_time=now) is None
    prev = daily.get_prev_partition_window(datetime(2024, 1, 5, 12, tzinfo=UTC))
    assert prev == daily.time_window_for_partition_key("2024-01-04")
    assert daily.get_prev_partition_window(datetime(2024, 1, 1, tzinfo=UTC)) is None
    windows = daily.time_windows_for_partition_keys(
        ["2024-01-05", "2024-01-02", "2024-02-01"], current_time=now
    )
    assert [w.start.day for w in windows] == [2, 5]  # sorted; the future one dropped by validate
    assert daily.less_than("2024-01-02", "2024-01-05")
    assert daily.get_partition_key(date(2024, 1, 4)) == "2024-01-04"


def test_positions_outside_the_range_for_mappings() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-05")
    assert daily.time_window_at(-1) == daily.time_window_for_partition_key("2024-01-04")
    window = TimeWindow(datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 7, tzinfo=UTC))
    assert daily.index_range_for_time_window(window) == (-2, 2)
    assert daily.get_partition_keys_in_time_window(window) == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-06",
    ]
    assert daily.time_window_for_index_range(0, 3).end == datetime(2024, 1, 8, tzinfo=UTC)
    assert daily.index_for_timestamp(datetime(2024, 1, 6, 12, tzinfo=UTC).timestamp()) == 1
    subset = daily.get_partition_subset_in_time_window(window, current_time=datetime(2024, 2, 1))
    assert subset.get_partition_keys() == ["2024-01-05", "2024-01-06"]
    with pytest.raises(DefinitionError, match="No partition"):
        daily.get_partition_key_range_for_time_window(
            TimeWindow(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 2, tzinfo=UTC))
        )


# -- exclusions ------------------------------------------------------------------------------------------
def test_exclusions_by_cron_and_datetime() -> None:
    business = DailyPartitionsDefinition(
        start_date="2024-01-01", exclusions=["0 0 * * 6,0", datetime(2024, 1, 3)]
    )
    now = datetime(2024, 1, 16)
    keys = business.get_partition_keys(current_time=now)
    assert keys == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
        "2024-01-10",
        "2024-01-11",
        "2024-01-12",
        "2024-01-15",
    ]
    assert [business.index_of(k, current_time=now) for k in keys] == list(range(10))
    assert [business.key_at(i, current_time=now) for i in range(10)] == keys
    assert business.index_of("2024-01-06", current_time=now) is None
    with pytest.raises(UnknownPartitionKeyError, match="excluded by exclusions"):
        business.require_index("2024-01-03", current_time=now)
    # windows keep their bounds: Friday's window does not stretch over the weekend
    assert hours(business.time_window_for_partition_key("2024-01-05")) == 24
    same = DailyPartitionsDefinition(
        start_date="2024-01-01", exclusions=["2024-01-03", "0 0 * * 6,0"]
    )
    assert same == business
    with pytest.raises(DefinitionError, match="cron"):
        DailyPartitionsDefinition(start_date="2024-01-01", exclusions=["every sunday"])
    nothing_left = DailyPartitionsDefinition(start_date="2024-01-01", exclusions=["0 0 * * *"])
    assert nothing_left.get_partition_keys(current_time=now) == []
    with pytest.raises(DefinitionError, match="leave no partition"):
        nothing_left.time_window_at(0)


# -- bad definitions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2024-01-01", "fmt": "%Y-%m-%d"}, "One of schedule_type and cron_schedule"),
        (
            {
                "start": "2024-01-01",
                "fmt": "%Y-%m-%d",
                "cron_schedule": "0 0 * * *",
                "schedule_type": ScheduleType.DAILY,
            },
            "can't also be provided",
        ),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "cron_schedule": "0 25 * * *"},
            "invalid cron schedule",
        ),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "cron_schedule": "0 0 * * * *"},
            "invalid cron schedule",
        ),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "cron_schedule": "0 0 30 2 *"},
            "invalid cron schedule",
        ),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "cron_schedule": "0 * * * *"},
            "cannot tell apart",
        ),
        (
            {
                "start": "2024-01-01",
                "fmt": "%Y-%m-%d",
                "schedule_type": "DAILY",
                "timezone": "Mars/Olympus",
            },
            "Unknown timezone 'Mars/Olympus'",
        ),
        (
            {"start": "Jan 1st", "fmt": "%Y-%m-%d", "schedule_type": "DAILY"},
            r"start='Jan 1st' does not match",
        ),
        ({"start": "2024-01-01", "fmt": "", "schedule_type": "DAILY"}, "fmt must be"),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "schedule_type": "DAILY", "hour_offset": 24},
            "hour_offset=24 is out of range",
        ),
        (
            {"start": "2024-01-01", "fmt": "%Y-%m-%d", "schedule_type": "SECONDLY"},
            "Unknown schedule_type",
        ),
    ],
)
def test_bad_definitions_fail_clearly(kwargs: dict, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        TimeWindowPartitionsDefinition(**kwargs)


def test_subclass_argument_errors() -> None:
    with pytest.raises(DefinitionError, match="day_offset=7 is out of range"):
        WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=7)
    with pytest.raises(DefinitionError, match="day_offset=0 is out of range"):
        MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=0)
    with pytest.raises(DefinitionError, match="minute_offset=60"):
        HourlyPartitionsDefinition(start_date="2024-01-01-00:00", minute_offset=60)
    with pytest.raises(DefinitionError, match="end_offset must be an integer"):
        DailyPartitionsDefinition(start_date="2024-01-01", end_offset="1")  # type: ignore[arg-type]


def test_start_forms() -> None:
    iso = HourlyPartitionsDefinition(start_date="2024-01-01")  # an ISO date for an hourly format
    assert iso.get_first_partition_key(current_time=datetime(2024, 1, 2)) == "2024-01-01-00:00"
    aware = DailyPartitionsDefinition(
        start_date=datetime(2024, 1, 1, tzinfo=UTC), timezone="America/New_York"
    )
    # as in Dagster, a datetime's wall-clock fields are read in the definition's timezone
    assert aware.start == datetime(2024, 1, 1, tzinfo=NY)
    assert DailyPartitionsDefinition(start_date=date(2024, 1, 1)) == DailyPartitionsDefinition(
        "2024-01-01"
    )


# -- identity, serialisation -------------------------------------------------------------------------------
def test_equality_hash_repr_and_str() -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    same = TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * *"
    )
    assert daily == same and hash(daily) == hash(same)
    assert daily != DailyPartitionsDefinition(start_date="2024-01-02")
    assert daily != DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Berlin")
    assert daily != DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    assert repr(daily).startswith("DailyPartitionsDefinition(start='2024-01-01T00:00:00+00:00'")
    assert str(daily) == "Daily, starting 2024-01-01 UTC."
    assert str(DailyPartitionsDefinition("2024-01-01", end_offset=2)).endswith(
        "End offsetted by 2 partitions."
    )
    assert {daily: 1}[same] == 1


@pytest.mark.parametrize(
    "definition",
    [
        DailyPartitionsDefinition(
            start_date="2024-01-01", end_date="2024-03-01", timezone="America/New_York"
        ),
        HourlyPartitionsDefinition(start_date="2024-01-01-00:00", minute_offset=30, end_offset=1),
        WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=2),
        MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=31),
        TimeWindowPartitionsDefinition(
            start="2024-01-01-00:00",
            fmt="%Y-%m-%d-%H:%M",
            cron_schedule="0 */6 * * *",
            timezone="Europe/Berlin",
        ),
        DailyPartitionsDefinition(
            start_date="2024-01-01", exclusions=["0 0 * * 0", datetime(2024, 1, 2)]
        ),
    ],
)
def test_serializable_and_pickle_round_trips(definition: TimeWindowPartitionsDefinition) -> None:
    now = datetime(2024, 2, 10)
    keys = definition.get_partition_keys(current_time=now)
    data = partitions_def_to_serializable(definition)
    assert data["type"] == "time_window"
    back = partitions_def_from_serializable(data)
    assert back == definition and type(back) is type(definition)
    assert back.get_partition_keys(current_time=now) == keys
    assert copy.deepcopy(definition).get_partition_keys(current_time=now) == keys
    unpickled = pickle.loads(pickle.dumps(definition))
    assert unpickled == definition and unpickled.get_partition_keys(current_time=now) == keys


def test_from_serializable_rejects_garbage() -> None:
    with pytest.raises(DefinitionError, match="Not a serialized time-window"):
        TimeWindowPartitionsDefinition.from_serializable({"type": "time_window", "fmt": "%Y"})


# -- irregular zones and scale -------------------------------------------------------------------------------
def test_half_hour_dst_zone_keys_stay_unique_and_ordered() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: the UTC grid trick does not apply there
    hourly = HourlyPartitionsDefinition(
        start_date="2024-04-05-00:00", timezone="Australia/Lord_Howe"
    )
    now = datetime(2024, 4, 9)
    keys = hourly.get_partition_keys(current_time=now)
    assert len(set(keys)) == len(keys)
    starts = [hourly.time_window_for_partition_key(k).start.timestamp() for k in keys]
    assert starts == sorted(starts)
    assert all(hourly.time_window_for_partition_key(k).start.minute == 0 for k in keys)
    assert [hourly.index_of(k, current_time=now) for k in keys] == list(range(len(keys)))


def test_twenty_years_of_hourly_partitions() -> None:
    for tz in ("UTC", "America/New_York"):
        hourly = HourlyPartitionsDefinition(start_date="2004-01-01-00:00", timezone=tz)
        now = datetime(2024, 1, 1, tzinfo=ZoneInfo(tz))
        expected = (
            int(now.timestamp() - datetime(2004, 1, 1, tzinfo=ZoneInfo(tz)).timestamp()) // 3600
        )
        assert hourly.get_num_partitions(current_time=now) == expected == 175_320
        assert hourly.key_at(0, current_time=now) == "2004-01-01-00:00"
        assert hourly.key_at(-1, current_time=now) == "2023-12-31-23:00"
        assert hourly.index_of("2023-12-31-23:00", current_time=now) == expected - 1
        assert hourly.index_of("2004-01-01-00:00", current_time=now) == 0
        assert hourly.index_of("2024-01-01-00:00", current_time=now) is None
        keys = hourly.get_partition_keys(current_time=now)
        assert len(keys) == expected and len(set(keys)) == expected
        assert keys[87_654] == hourly.key_at(87_654, current_time=now)
        assert (
            list(hourly.iter_partition_keys(100_000, 100_003, current_time=now))
            == keys[100_000:100_003]
        )
        assert len(hourly.subset_with_all_partitions(current_time=now)) == expected


def test_built_in_schedules_do_not_need_croniter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "croniter", None)  # "import croniter" now fails
    now = datetime(2024, 6, 1)
    for definition in (
        HourlyPartitionsDefinition(start_date="2024-01-01-00:00", timezone="America/New_York"),
        DailyPartitionsDefinition(start_date="2024-01-01", hour_offset=3),
        WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=4),
        MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=30),
        TimeWindowPartitionsDefinition(
            start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M", cron_schedule="*/15 * * * *"
        ),
    ):
        keys = definition.get_partition_keys(current_time=now)
        assert keys and definition.index_of(keys[-1], current_time=now) == len(keys) - 1
    with pytest.raises(DefinitionError, match=r"needs the 'croniter' package"):
        TimeWindowPartitionsDefinition(
            start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5"
        )
    with pytest.raises(DefinitionError, match=r"needs the 'croniter' package"):
        DailyPartitionsDefinition(start_date="2024-01-01", exclusions=["0 0 * * 0"])


def test_a_daily_key_with_an_hour_and_offset_is_a_clear_unknown_key_error() -> None:
    from weir._partitions.definition import UnknownPartitionKeyError
    from weir._partitions.time_window import DailyPartitionsDefinition

    daily = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-12-31")
    with pytest.raises(UnknownPartitionKeyError, match="2024-11-03-01:00"):
        daily.validate_partition_key("2024-11-03-01:00")
