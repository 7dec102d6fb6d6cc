"""Time-window partitions: each partition is the interval between two ticks of a cron schedule.

A :class:`TimeWindowPartitionsDefinition` numbers the ticks of its schedule in its timezone: tick 0
is the first tick at or after ``start``, and partition ``i`` is the window ``[tick i, tick i+1)``,
keyed by its start formatted with ``fmt``. Only complete windows exist at ``current_time``
(``end_offset`` adds in-progress ones, a negative one removes complete ones); ``end`` is exclusive.

Positions are computed, never searched, for the schedules Dagster builds in (hourly, daily, weekly,
monthly, every N minutes), and daylight-saving changes follow Dagster's rules: an hourly definition
in a DST zone has 23 or 25 windows on change days and its keys never repeat, daily windows are 23
or 25 hours long. Any other cron string (and exclusions given as cron strings) needs ``croniter``.

This module holds the public names; the machinery is private: ``_time_ticks`` (where a schedule's
ticks fall), ``_time_keys`` (keys, timezones, exclusions) and ``_time_positions`` (the state and
position arithmetic every definition inherits).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, NamedTuple

from weir._partitions._time_keys import (
    DEFAULT_DATE_FORMAT,
    DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE,
    normalize_exclusions,
    to_timestamp,
    zone,
)
from weir._partitions._time_positions import TimeWindowPositions
from weir._partitions.definition import UnknownPartitionKeyError
from weir.errors import DefinitionError

__all__ = [
    "DEFAULT_DATE_FORMAT",
    "DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE",
    "DailyPartitionsDefinition",
    "HourlyPartitionsDefinition",
    "MonthlyPartitionsDefinition",
    "ScheduleType",
    "TimeWindow",
    "TimeWindowPartitionsDefinition",
    "WeeklyPartitionsDefinition",
]

logger = logging.getLogger(__name__)


class ScheduleType(Enum):
    """Cadence of a time-window partitions definition."""

    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class TimeWindow(NamedTuple):
    """An interval closed at ``start`` and open at ``end`` (timezone-aware datetimes)."""

    start: datetime
    end: datetime


# -- the definition ----------------------------------------------------------------------------------
def _cron_from_schedule(
    schedule_type: Any, minute_offset: Any, hour_offset: Any, day_offset: Any, cron_schedule: Any
) -> str:
    if cron_schedule is not None:
        if schedule_type is not None or minute_offset or hour_offset or day_offset:
            msg = (
                "If cron_schedule argument is provided, then schedule_type, minute_offset, hour_offset, "
                "and day_offset can't also be provided."
            )
            raise DefinitionError(msg)
        if not isinstance(cron_schedule, str):
            msg = f"cron_schedule must be a cron string such as '0 0 * * *', got {cron_schedule!r}."
            raise DefinitionError(msg)
        return cron_schedule
    if schedule_type is None:
        msg = "One of schedule_type and cron_schedule must be provided (e.g. schedule_type=ScheduleType.DAILY)."
        raise DefinitionError(msg)
    try:
        stype = (
            schedule_type
            if isinstance(schedule_type, ScheduleType)
            else ScheduleType(str(schedule_type).upper())
        )
    except ValueError as exc:
        msg = f"Unknown schedule_type {schedule_type!r}; use one of {[s.value for s in ScheduleType]}."
        raise DefinitionError(msg) from exc
    default_day = {ScheduleType.WEEKLY: 0, ScheduleType.MONTHLY: 1}.get(stype, 0)
    minute, hour, day = (
        minute_offset or 0,
        hour_offset or 0,
        default_day if day_offset is None else day_offset,
    )
    limits = {"minute_offset": (minute, 0, 59), "hour_offset": (hour, 0, 23)}
    if stype is ScheduleType.WEEKLY:
        limits["day_offset"] = (day, 0, 6)
    elif stype is ScheduleType.MONTHLY:
        limits["day_offset"] = (day, 1, 31)
    for name, (value, lo, hi) in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            msg = f"{stype.value.lower()} partitions: {name}={value!r} is out of range; use an integer from {lo} to {hi}."
            raise DefinitionError(msg)
    if stype is ScheduleType.HOURLY:
        if hour_offset:
            msg = "Hourly partitions take no hour_offset (each window starts at minute_offset past the hour)."
            raise DefinitionError(msg)
        return f"{minute} * * * *"
    if stype is ScheduleType.DAILY:
        return f"{minute} {hour} * * *"
    if stype is ScheduleType.WEEKLY:
        return f"{minute} {hour} * * {day}"
    return f"{minute} {hour} {day} * *"


class TimeWindowPartitionsDefinition(TimeWindowPositions):
    """Partitions that are the windows between consecutive ticks of a cron schedule.

    Each key is its window's start formatted with ``fmt``; the first window starts at the first
    tick at or after ``start``. Only complete windows exist at ``current_time`` (default: now);
    ``end_offset=1`` adds the window in progress, a negative value removes the last complete
    ones; windows must end by ``end`` (exclusive). Give either ``schedule_type`` (with offsets) or
    ``cron_schedule``. ``exclusions`` (datetimes, or cron strings whose ticks match window
    starts) drop partitions; the other windows keep their bounds.

    Example::

        import weir as dg

        six_hourly = dg.TimeWindowPartitionsDefinition(
            start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M", cron_schedule="0 */6 * * *"
        )
    """

    plugin_name: ClassVar[str] = "time_window"
    _serial_class: ClassVar[str | None] = None

    def __init__(
        self,
        start: datetime | str,
        fmt: str,
        end: datetime | str | None = None,
        schedule_type: ScheduleType | None = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
        cron_schedule: str | None = None,
        exclusions: Sequence[str | datetime] | None = None,
    ) -> None:
        if not isinstance(fmt, str) or not fmt:
            msg = f"fmt must be a strftime format string such as '%Y-%m-%d', got {fmt!r}."
            raise DefinitionError(msg)
        tz_name, tz = zone(timezone)
        cron = _cron_from_schedule(
            schedule_type, minute_offset, hour_offset, day_offset, cron_schedule
        )
        if not isinstance(end_offset, int) or isinstance(end_offset, bool):
            msg = f"end_offset must be an integer (a number of partitions), got {end_offset!r}."
            raise DefinitionError(msg)
        start_ts = to_timestamp(start, "start", fmt, tz)
        end_ts = to_timestamp(end, "end", fmt, tz) if end else None
        self._setup(
            start_ts,
            end_ts,
            tz_name,
            fmt,
            end_offset,
            cron,
            normalize_exclusions(exclusions, fmt, tz),
        )

    def _raw_window(self, raw: int) -> TimeWindow:
        return TimeWindow(*self._raw_bounds(raw))

    # -- serialization ----------------------------------------------------------------------------------
    def to_serializable(self) -> dict[str, Any]:
        """``{"type": "time_window", ...}``: start/end as ISO datetimes with offsets; ``class``
        names the Daily/Hourly/Weekly/Monthly subclass so it comes back as that class."""
        return {
            "type": self.plugin_name,
            "class": self._serial_class,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end is not None else None,
            "timezone": self._tz_name,
            "fmt": self._fmt,
            "end_offset": self._end_offset,
            "cron_schedule": self._cron,
            "exclusions": [
                {"cron": v}
                if kind == "cron"
                else {"datetime": datetime.fromtimestamp(v, self._tz).isoformat()}
                for kind, v in self._exclusions
            ],
        }

    @classmethod
    def from_serializable(cls, data: dict[str, Any]) -> TimeWindowPartitionsDefinition:
        """The definition :meth:`to_serializable` described (the same subclass, equal behaviour)."""
        try:
            target = _SERIAL_CLASSES.get(data.get("class"), TimeWindowPartitionsDefinition)
            tz_name, _ = zone(data.get("timezone"))
            end = data.get("end")
            exclusions = tuple(
                sorted(
                    (
                        ("cron", e["cron"])
                        if "cron" in e
                        else ("ts", datetime.fromisoformat(e["datetime"]).timestamp())
                    )
                    for e in data.get("exclusions") or ()
                )
            )
            obj = object.__new__(target)
            obj._setup(
                datetime.fromisoformat(data["start"]).timestamp(),
                datetime.fromisoformat(end).timestamp() if end else None,
                tz_name,
                data["fmt"],
                int(data.get("end_offset", 0)),
                data["cron_schedule"],
                tuple(sorted(exclusions, key=repr)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"Not a serialized time-window partitions definition ({exc!r}): {data!r}."
            raise DefinitionError(msg) from exc
        return obj

    # -- Dagster's attributes ----------------------------------------------------------------------------
    @property
    def schedule_type(self) -> ScheduleType | None:
        """HOURLY/DAILY/WEEKLY/MONTHLY when the cron schedule is one of those shapes, else None."""
        for pattern, stype in _SCHEDULE_PATTERNS:
            if pattern.fullmatch(self._cron):
                return stype
        return None

    @property
    def minute_offset(self) -> int:
        return int(self._cron_field(0))

    @property
    def hour_offset(self) -> int:
        return int(self._cron_field(1))

    @property
    def day_offset(self) -> int:
        """The day of the week (0 = Sunday) of weekly, or the day of the month of monthly windows."""
        stype = self.schedule_type
        if stype not in (ScheduleType.WEEKLY, ScheduleType.MONTHLY):
            msg = f"{self!r} has no day offset: only weekly and monthly partitions do."
            raise DefinitionError(msg)
        return int(self._cron_field(4 if stype is ScheduleType.WEEKLY else 2))

    def _cron_field(self, i: int) -> str:
        fields = self._cron.split()
        if len(fields) != 5 or not fields[i].isdigit():
            msg = (
                f"The cron schedule {self._cron!r} of {self!r} has no fixed value in field {i + 1}."
            )
            raise DefinitionError(msg)
        return fields[i]

    @property
    def is_basic_daily(self) -> bool:
        return self._cron == "0 0 * * *"

    @property
    def is_basic_hourly(self) -> bool:
        return self._cron == "0 * * * *"

    def get_cron_schedule(
        self,
        minute_of_hour: int | None = None,
        hour_of_day: int | None = None,
        day_of_week: int | None = None,
        day_of_month: int | None = None,
    ) -> str:
        """The schedule's cron string, with the given fields overridden (for schedules that run at
        another time than the windows' boundaries)."""
        if (
            minute_of_hour is None
            and hour_of_day is None
            and day_of_week is None
            and day_of_month is None
        ):
            return self._cron
        stype = self.schedule_type
        if stype is None:
            msg = f"{self._cron!r} does not support minute_of_hour/hour_of_day/day_of_week/day_of_month."
            raise DefinitionError(msg)
        if (stype is ScheduleType.HOURLY and hour_of_day is not None) or (
            stype is ScheduleType.DAILY and (day_of_week is not None or day_of_month is not None)
        ):
            msg = f"Cannot set that field of a {stype.value.lower()} schedule ({self._cron!r})."
            raise DefinitionError(msg)
        minute = self.minute_offset if minute_of_hour is None else minute_of_hour
        hour = (
            (self.hour_offset if stype is not ScheduleType.HOURLY else 0)
            if hour_of_day is None
            else hour_of_day
        )
        day = None
        if stype is ScheduleType.MONTHLY:
            day = self.day_offset if day_of_month is None else day_of_month
        elif stype is ScheduleType.WEEKLY:
            day = self.day_offset if day_of_week is None else day_of_week
        return _cron_from_schedule(stype, minute, hour, day, None)

    # -- windows ------------------------------------------------------------------------------------
    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The window a key stands for (also for well-formed keys outside the current range)."""
        raw = self._raw_index_of_key(partition_key)
        if raw is None:
            raise UnknownPartitionKeyError(self._key_problem(partition_key))
        return self._raw_window(raw)

    def time_windows_for_partition_keys(
        self,
        partition_keys: Iterable[str],
        validate: bool = True,
        current_time: datetime | None = None,
    ) -> list[TimeWindow]:
        """The windows of ``partition_keys``, oldest first; with ``validate``, only those of
        partitions that exist at ``current_time`` (as Dagster does)."""
        raws = set()
        for key in partition_keys:
            raw = self._raw_index_of_key(key)
            if raw is None:
                raise UnknownPartitionKeyError(self._key_problem(key))
            raws.add(raw)
        if validate:
            n_raw = self._raw_count(self._now(current_time))
            excl = self._excl
            raws = {r for r in raws if 0 <= r < n_raw and not (excl and excl.is_excluded(r))}
        return [self._raw_window(r) for r in sorted(raws)]

    def start_time_for_partition_key(self, partition_key: str) -> datetime:
        return self.time_window_for_partition_key(partition_key).start

    def end_time_for_partition_key(self, partition_key: str) -> datetime:
        return self.time_window_for_partition_key(partition_key).end

    def time_window_at(self, index: int) -> TimeWindow:
        """The window at partition position ``index``, any integer (negative: before the start;
        past the end: not yet existing) -- for mappings that reach outside the range."""
        return self._raw_window(self._raw_of(index))

    def time_window_for_index_range(self, start: int, stop: int) -> TimeWindow:
        """The span from the start of partition ``start`` to the end of partition ``stop - 1``."""
        if stop <= start:
            msg = f"Empty partition index range [{start}, {stop}) of {self!r}."
            raise DefinitionError(msg)
        return TimeWindow(self.time_window_at(start).start, self.time_window_at(stop - 1).end)

    def index_range_for_time_window(self, time_window: TimeWindow) -> tuple[int, int]:
        """``[lo, hi)``: the positions of the partitions starting within ``time_window``, not
        clamped to the existing ones (lo < 0 or hi > num partitions mean missing partitions)."""
        eng = self._engine
        lo = eng.first_at_or_after(self._ts(time_window.start))
        hi = eng.first_at_or_after(self._ts(time_window.end))
        return self._final_position(lo), self._final_position(max(lo, hi))

    def get_partition_keys_in_time_window(self, time_window: TimeWindow) -> list[str]:
        """The keys of the windows starting within ``time_window`` (inclusive start, exclusive
        end), whether or not they exist yet."""
        eng = self._engine
        lo = eng.first_at_or_after(self._ts(time_window.start))
        return self._keys_for_raw(lo, max(lo, eng.first_at_or_after(self._ts(time_window.end))))

    def get_num_partitions_in_window(self, time_window: TimeWindow) -> int:
        lo, hi = self.index_range_for_time_window(time_window)
        return hi - lo

    def get_partition_key_range_for_time_window(
        self,
        time_window: TimeWindow,
        respect_bounds: bool = True,
        current_time: datetime | None = None,
    ) -> Any:
        """The ``PartitionKeyRange`` of the partitions starting within ``time_window`` (clamped to
        the existing ones with ``respect_bounds``)."""
        from weir._partitions.key_range import PartitionKeyRange

        lo, hi = self.index_range_for_time_window(time_window)
        if respect_bounds:
            lo, hi = max(lo, 0), min(hi, self.get_num_partitions(current_time))
        if hi <= lo:
            msg = (
                f"No partition of {self!r} starts within {time_window.start.isoformat()} .. "
                f"{time_window.end.isoformat()}."
            )
            raise DefinitionError(msg)
        return PartitionKeyRange(self._key_for_position(lo), self._key_for_position(hi - 1))

    def get_partition_subset_in_time_window(
        self, time_window: TimeWindow, current_time: datetime | None = None
    ) -> Any:
        """A ``PartitionsSubset`` of the existing partitions starting within ``time_window``."""
        lo, hi = self.index_range_for_time_window(time_window)
        lo, hi = max(lo, 0), min(hi, self.get_num_partitions(current_time))
        return self.empty_subset().with_index_range(lo, max(lo, hi))

    def get_first_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        return self.time_window_at(0) if self.get_num_partitions(current_time) else None

    def get_last_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        n = self.get_num_partitions(current_time)
        return self.time_window_at(n - 1) if n else None

    def get_next_partition_key(
        self, partition_key: str, current_time: datetime | None = None
    ) -> str | None:
        """The key after ``partition_key``, or None if that partition does not exist (yet)."""
        raw = self._raw_index_of_key(partition_key)
        if raw is None:
            raise UnknownPartitionKeyError(self._key_problem(partition_key))
        nxt = self._final_position(raw + 1) if raw >= 0 else raw + 1
        if 0 <= nxt < self.get_num_partitions(current_time):
            return self._key_for_position(nxt)
        return None

    def get_next_partition_window(
        self, end_dt: datetime, current_time: datetime | None = None, respect_bounds: bool = True
    ) -> TimeWindow | None:
        """The first window starting at or after ``end_dt`` (None past the last partition)."""
        raw = self._engine.first_at_or_after(self._ts(end_dt))
        if respect_bounds and self._final_position(raw) >= self.get_num_partitions(current_time):
            return None
        return self._raw_window(raw)

    def get_prev_partition_window(
        self, start_dt: datetime, respect_bounds: bool = True
    ) -> TimeWindow | None:
        """The last window ending at or before ``start_dt`` (None before the first partition)."""
        raw = self._engine.first_at_or_after(math.floor(self._ts(start_dt)) + 1) - 2
        if respect_bounds and raw < 0:
            return None
        return self._raw_window(raw)

    def less_than(self, partition_key1: str, partition_key2: str) -> bool:
        """Whether ``partition_key1``'s window starts before ``partition_key2``'s."""
        return self.start_time_for_partition_key(
            partition_key1
        ) < self.start_time_for_partition_key(partition_key2)

    def get_partition_key(self, key: str | date | datetime) -> str:
        """``key`` as a validated partition key (dates and datetimes are formatted with ``fmt``)."""
        if isinstance(key, datetime):
            key = (key.astimezone(self._tz) if key.tzinfo else key).strftime(self._fmt)
        elif isinstance(key, date):
            key = key.strftime(self._fmt)
        self.validate_partition_key(key)
        return key

    def equal_except_for_start_or_end(self, other: TimeWindowPartitionsDefinition) -> bool:
        return (self._tz_name, self._fmt, self._cron, self._end_offset) == (
            other._tz_name,
            other._fmt,
            other._cron,
            other._end_offset,
        )

    # -- identity -------------------------------------------------------------------------------------
    def _identity(self) -> tuple[Any, ...]:
        return (
            self._start_ts,
            self._end_ts,
            self._tz_name,
            self._fmt,
            self._end_offset,
            self._cron,
            self._exclusions,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimeWindowPartitionsDefinition):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        parts = [f"start={self.start.isoformat()!r}"]
        if self._end_ts is not None:
            parts.append(f"end={self.end.isoformat()!r}")  # type: ignore[union-attr]
        parts += [
            f"timezone={self._tz_name!r}",
            f"fmt={self._fmt!r}",
            f"cron_schedule={self._cron!r}",
        ]
        if self._end_offset:
            parts.append(f"end_offset={self._end_offset}")
        if self._exclusions:
            parts.append(f"exclusions={len(self._exclusions)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __str__(self) -> str:
        stype = self.schedule_type
        what = stype.value.capitalize() if stype else self._cron
        text = f"{what}, starting {self._formatter.one(math.ceil(self._start_ts))} {self._tz_name}."
        if self._end_offset:
            plural = "" if self._end_offset == 1 else "s"
            text += f" End offsetted by {self._end_offset} partition{plural}."
        return text


_SCHEDULE_PATTERNS = (
    (re.compile(r"\d+ \* \* \* \*"), ScheduleType.HOURLY),
    (re.compile(r"\d+ \d+ \* \* \*"), ScheduleType.DAILY),
    (re.compile(r"\d+ \d+ \* \* \d+"), ScheduleType.WEEKLY),
    (re.compile(r"\d+ \d+ \d+ \* \*"), ScheduleType.MONTHLY),
)


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """Hourly partitions, keyed ``%Y-%m-%d-%H:%M`` by default, each starting ``minute_offset``
    minutes past the hour. In a DST zone a change day has 23 or 25 of them.

    Example::

        import weir as dg

        hourly = dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00", timezone="Europe/Berlin")
    """

    _serial_class = "hourly"

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE,
            end=end_date,
            schedule_type=ScheduleType.HOURLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            exclusions=exclusions,
        )


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """Daily partitions, keyed ``%Y-%m-%d`` by default, each starting at
    ``hour_offset:minute_offset`` local time (so 23 or 25 hours long on DST change days).

    Example::

        import weir as dg

        daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
    """

    _serial_class = "daily"

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.DAILY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            exclusions=exclusions,
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """Weekly partitions starting on ``day_offset`` (0 = Sunday, the default), keyed ``%Y-%m-%d``.
    The first one starts on the first such day at or after ``start_date``.

    Example::

        import weir as dg

        weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-01")  # first key "2024-01-07"
    """

    _serial_class = "weekly"

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.WEEKLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
            exclusions=exclusions,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """Monthly partitions starting on day ``day_offset`` (default 1) of each month, keyed
    ``%Y-%m-%d``. Days 29-31 skip the months that lack them, as cron does.

    Example::

        import weir as dg

        monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01")
    """

    _serial_class = "monthly"

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.MONTHLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
            exclusions=exclusions,
        )


_SERIAL_CLASSES: dict[Any, type[TimeWindowPartitionsDefinition]] = {
    "hourly": HourlyPartitionsDefinition,
    "daily": DailyPartitionsDefinition,
    "weekly": WeeklyPartitionsDefinition,
    "monthly": MonthlyPartitionsDefinition,
}
