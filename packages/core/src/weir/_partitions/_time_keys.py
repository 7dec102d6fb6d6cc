"""Partition keys of time windows: formatting instants as keys, parsing keys back, timezones and
exclusions.

A key is its window's start formatted with ``fmt`` in the definition's timezone. Where an hourly
(or finer) schedule ticks twice at one wall time on a fall-back night, the second key gets the UTC
offset appended, as in Dagster (``2024-11-03-01:00-0500``), so keys never repeat. Exclusions
(datetimes, or cron strings matched against window starts) remove tick positions; they are found
lazily, in order.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weir._partitions._time_ticks import (
    CronFields,
    Engine,
    is_second_ambiguous,
    require_croniter,
    validate_cron,
)
from weir.errors import DefinitionError

__all__ = [
    "DEFAULT_DATE_FORMAT",
    "DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE",
    "Exclusions",
    "KeyFormatter",
    "normalize_exclusions",
    "parse_key",
    "to_timestamp",
    "zone",
]

logger = logging.getLogger(__name__)

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE = "%Y-%m-%d-%H:%M"

_DATE_DIRECTIVES = frozenset("aAbBdhjmUwWyYGuVC")
_TIME_DIRECTIVES = frozenset("HIMSp")


def _split_fmt(fmt: str) -> tuple[str, str] | None:
    """Split ``fmt`` into a part that depends only on the date and one that depends only on the
    time of day (so bulk formatting can cache both), or None if the directives interleave."""
    split_at: int | None = None
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            i += 1
            continue
        if i + 1 >= len(fmt):
            return None
        d = fmt[i + 1]
        if d in _TIME_DIRECTIVES:
            split_at = i if split_at is None else split_at
        elif d in _DATE_DIRECTIVES:
            if split_at is not None:
                return None
        elif d != "%":
            return None
        i += 2
    return (fmt, "") if split_at is None else (fmt[:split_at], fmt[split_at:])


class KeyFormatter:
    """Formats instants as keys, one at a time or in bulk (caching the date and time parts)."""

    __slots__ = ("_fmt", "_safe_fmt", "_split", "_suffix", "_tz")

    def __init__(self, fmt: str, tz: ZoneInfo, every_hour: bool) -> None:
        self._fmt, self._tz = fmt, tz
        self._suffix = every_hour and "%z" not in fmt
        self._safe_fmt = fmt + "%z"
        self._split = _split_fmt(fmt)

    def one(self, ts: int) -> str:
        dt = datetime.fromtimestamp(ts, self._tz)
        if self._suffix and is_second_ambiguous(dt):
            return dt.strftime(self._safe_fmt)
        return dt.strftime(self._fmt)

    def many(self, instants: Iterable[int]) -> list[str]:
        if self._split is None:
            return [self.one(ts) for ts in instants]
        date_fmt, time_fmt = self._split
        tz, suffix = self._tz, self._suffix
        by_date: dict[int, str] = {}
        by_time: dict[int, str] = {}
        out: list[str] = []
        append = out.append
        for ts in instants:
            dt = datetime.fromtimestamp(ts, tz)
            if dt.fold and suffix and is_second_ambiguous(dt):
                append(dt.strftime(self._safe_fmt))
                continue
            day = dt.toordinal()
            prefix = by_date.get(day)
            if prefix is None:
                prefix = by_date[day] = dt.strftime(date_fmt)
            tod = dt.hour * 3600 + dt.minute * 60 + dt.second
            rest = by_time.get(tod)
            if rest is None:
                rest = by_time[tod] = dt.strftime(time_fmt)
            append(prefix + rest)
        return out


def zone(timezone_name: Any) -> tuple[str, ZoneInfo]:
    """The IANA name and zone of ``timezone_name`` (None: UTC), or a DefinitionError."""
    if timezone_name is None:
        timezone_name = "UTC"
    if isinstance(timezone_name, ZoneInfo):
        return timezone_name.key, timezone_name
    if not isinstance(timezone_name, str):
        msg = f"timezone must be an IANA timezone name such as 'America/New_York', got {timezone_name!r}."
        raise DefinitionError(msg)
    try:
        return timezone_name, ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"Unknown timezone {timezone_name!r} for a time-window partitions definition. Use an IANA "
            "timezone name such as 'UTC', 'America/New_York' or 'Europe/Berlin'."
        )
        raise DefinitionError(msg) from exc


def parse_key(key: str, fmt: str, tz: ZoneInfo) -> float | None:
    """Dagster's parse of a key: ``fmt``, else ``fmt`` + UTC offset; naive times take the first
    instant of an ambiguous wall time."""
    try:
        parsed = datetime.strptime(key, fmt)
    except ValueError:
        if "%z" in fmt:
            return None
        try:
            parsed = datetime.strptime(key, fmt + "%z")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.timestamp()


def to_timestamp(value: Any, what: str, fmt: str, tz: ZoneInfo) -> float:
    """The instant of a ``start``/``end``/exclusion given as a datetime, date or string."""
    if isinstance(value, datetime):
        # Dagster reads a datetime's wall-clock fields in the definition's timezone
        return value.replace(tzinfo=tz).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz).timestamp()
    if isinstance(value, str):
        ts = parse_key(value, fmt, tz)
        if ts is not None:
            return ts
        try:
            iso = datetime.fromisoformat(value)
        except ValueError:
            iso = None
        if iso is not None:
            return iso.timestamp() if iso.tzinfo else iso.replace(tzinfo=tz).timestamp()
        example = datetime(2024, 1, 1).strftime(fmt)
        msg = (
            f"{what}={value!r} does not match the partition key format {fmt!r}. Pass a datetime, an "
            f"ISO date, or a string in that format such as {example!r}."
        )
        raise DefinitionError(msg)
    msg = f"{what} must be a datetime or a string, got {type(value).__name__} {value!r}."
    raise DefinitionError(msg)


def _cron_matcher(cron: str) -> Callable[[datetime], bool]:
    croniter = require_croniter(f"The exclusion {cron!r}")
    fields = CronFields.of(cron, croniter)
    if fields is None:
        return lambda dt: bool(croniter.match(cron, dt))
    return fields.matches


class Exclusions:
    """The raw tick positions (>= 0) that exclusions remove, found lazily in order."""

    def __init__(self, engine: Engine, tz: ZoneInfo, items: Sequence[tuple[str, Any]]) -> None:
        self._engine, self._tz = engine, tz
        self._matchers = [_cron_matcher(v) for kind, v in items if kind == "cron"]
        fixed = set()
        for kind, ts in items:
            if kind == "ts":
                raw = engine.first_at_or_after(ts)
                if raw >= 0 and engine.instant(raw) == ts:
                    fixed.add(raw)
        self._fixed = sorted(fixed)
        self._sorted: list[int] = []
        self._scanned = 0
        self._lock = threading.Lock()

    def _ensure(self, upto: int) -> None:
        if upto <= self._scanned:
            return
        with self._lock:
            if upto > self._scanned:
                self._scan(max(upto, self._scanned + 512))

    def _scan(self, upto: int) -> None:
        lo = self._scanned
        found = set(
            self._fixed[bisect.bisect_left(self._fixed, lo) : bisect.bisect_left(self._fixed, upto)]
        )
        if self._matchers:
            tz, matchers = self._tz, self._matchers
            for raw, ts in zip(range(lo, upto), self._engine.instants(lo, upto), strict=True):
                local = datetime.fromtimestamp(ts, tz).replace(tzinfo=None)
                if any(m(local) for m in matchers):
                    found.add(raw)
        self._sorted.extend(sorted(found))
        self._scanned = upto

    def count_below(self, raw: int) -> int:
        if raw <= 0:
            return 0
        self._ensure(raw)
        return bisect.bisect_left(self._sorted, raw)

    def is_excluded(self, raw: int) -> bool:
        if raw < 0:
            return False
        self._ensure(raw + 1)
        i = bisect.bisect_left(self._sorted, raw)
        return i < len(self._sorted) and self._sorted[i] == raw

    def raw_of(self, final: int) -> int:
        if final < 0:
            return final
        raw = final
        for _ in range(10_000):  # converges fast unless nearly every tick is excluded
            self._ensure(raw + 1)
            nxt = final + bisect.bisect_right(self._sorted, raw)
            if nxt == raw:
                return raw
            raw = nxt
        msg = f"The exclusions leave no partition at position {final} (they remove almost every window)."
        raise DefinitionError(msg)


def normalize_exclusions(exclusions: Any, fmt: str, tz: ZoneInfo) -> tuple[tuple[str, Any], ...]:
    """``exclusions`` as sorted ``("ts", instant)`` and ``("cron", string)`` pairs, validated."""
    if exclusions is None:
        return ()
    if isinstance(exclusions, (str, date)) or not isinstance(exclusions, Iterable):
        msg = f"exclusions must be a list of cron strings and datetimes, got {exclusions!r}."
        raise DefinitionError(msg)
    items: set[tuple[str, Any]] = set()
    for item in exclusions:
        if isinstance(item, (datetime, date)):
            items.add(("ts", to_timestamp(item, "exclusion", fmt, tz)))
        elif isinstance(item, str):
            ts = parse_key(item, fmt, tz)
            if ts is not None:
                items.add(("ts", ts))
            else:
                validate_cron(item, f"The exclusion {item!r}")
                items.add(("cron", " ".join(item.split())))
        else:
            msg = f"Each exclusion must be a cron string or a datetime, got {type(item).__name__} {item!r}."
            raise DefinitionError(msg)
    return tuple(sorted(items, key=repr))
