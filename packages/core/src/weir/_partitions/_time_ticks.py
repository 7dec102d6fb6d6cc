"""Where the ticks of a time-window schedule fall: tick ``i`` <-> instant, for any integer ``i``.

A schedule is a cron string in a timezone, numbered from a start: tick 0 is the first tick at or
after it. Positions are computed, never searched, for the schedules Dagster builds in (no
``croniter``):

* fixed-length ticks (hourly, ``*/15 * * * *`` ...): instants on a grid in UTC, because every
  daylight-saving change moves the clock by whole periods (:class:`_FixedEngine`);
* daily, weekly and monthly ticks: calendar arithmetic on local dates, so daily windows are 23 or
  25 hours long on change days (:class:`_CalendarEngine`). A wall time that does not exist moves to
  the end of the gap (02:30 -> 03:00), an ambiguous one takes its later instant: Dagster's
  documented rules.

Any other cron string needs ``croniter``; its ticks are listed lazily, cached and searched by
bisection (:class:`_ListEngine`), as are those of the rare zones whose UTC offset changes by a
fraction of the period. :func:`build_engine` picks the engine for a schedule.
"""

from __future__ import annotations

import bisect
import calendar
import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from weir.errors import DefinitionError

__all__ = [
    "Cadence",
    "CronFields",
    "Engine",
    "NaiveTicks",
    "build_engine",
    "classify",
    "instants_for_wall",
    "is_second_ambiguous",
    "repeats_every_hour",
    "require_croniter",
    "validate_cron",
]

logger = logging.getLogger(__name__)

_UTC = timezone.utc
_DAY = 86_400
_MAX_UTC_OFFSET = 16 * 3600  # no zone has ever been further than this from UTC
_CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


class Cadence(NamedTuple):
    """A cron schedule's shape, when its tick positions are pure arithmetic (else kind "cron")."""

    kind: str  # "fixed" | "daily" | "weekly" | "monthly" | "cron"
    period: int = 0  # fixed: seconds between ticks (divides an hour)
    phase: int = 0  # fixed: wall-clock seconds past the period boundary
    hour: int = 0
    minute: int = 0
    day: int = 0  # weekly: cron weekday (0 = Sunday); monthly: day of the month


def _minute_values(field: str) -> list[int] | None:
    if field == "*":
        return list(range(60))
    if field.startswith("*/") and field[2:].isdigit() and 0 < int(field[2:]) < 60:
        return list(range(0, 60, int(field[2:])))
    parts = field.split(",")
    if all(p.isdigit() for p in parts):
        return sorted({int(p) for p in parts})
    return None


def classify(cron: str) -> Cadence:
    """Recognise the schedules whose tick positions are pure arithmetic; everything else is "cron"."""
    fields = _CRON_ALIASES.get(cron.strip(), cron).split()
    if len(fields) != 5:
        return Cadence("cron")
    minute, hour, dom, month, dow = fields
    if hour == dom == month == dow == "*":
        minutes = _minute_values(minute)
        if minutes is None:
            return Cadence("cron")
        if minutes[-1] > 59:
            raise DefinitionError(_invalid_cron(cron, "minutes run from 0 to 59"))
        step = 60 // len(minutes)
        if 60 % len(minutes) == 0 and minutes == list(range(minutes[0], 60, step)):
            return Cadence("fixed", period=step * 60, phase=minutes[0] * 60)
        return Cadence("cron")
    if not (minute.isdigit() and hour.isdigit() and month == "*"):
        return Cadence("cron")
    m, h = int(minute), int(hour)
    if m > 59 or h > 23:
        raise DefinitionError(
            _invalid_cron(cron, "minutes run from 0 to 59 and hours from 0 to 23")
        )
    if dom == "*" and dow == "*":
        return Cadence("daily", hour=h, minute=m)
    if dom == "*" and dow.isdigit():
        if int(dow) > 7:
            raise DefinitionError(_invalid_cron(cron, "days of the week run from 0 (Sunday) to 6"))
        return Cadence("weekly", hour=h, minute=m, day=int(dow) % 7)
    if dow == "*" and dom.isdigit():
        if not 1 <= int(dom) <= 31:
            raise DefinitionError(_invalid_cron(cron, "days of the month run from 1 to 31"))
        return Cadence("monthly", hour=h, minute=m, day=int(dom))
    return Cadence("cron")


def _invalid_cron(cron: str, why: str) -> str:
    return f"Found invalid cron schedule {cron!r} for a TimeWindowPartitionsDefinition: {why}."


def require_croniter(purpose: str) -> Any:
    """The ``croniter`` class, or a DefinitionError saying that ``purpose`` needs it."""
    try:
        from croniter import croniter
    except ImportError as exc:
        msg = (
            f"{purpose} needs the 'croniter' package: pip install 'croniter>=2'. (weir computes "
            "hourly, daily, weekly, monthly and every-N-minutes schedules without it.)"
        )
        raise DefinitionError(msg) from exc
    return croniter


def validate_cron(cron: str, purpose: str) -> None:
    """Raise a DefinitionError unless ``cron`` is a valid five-field cron string."""
    croniter = require_croniter(purpose)
    fields = _CRON_ALIASES.get(cron.strip(), cron).split()
    feb_30 = len(fields) == 5 and fields[3] == "2" and fields[2] in {"30", "31"}
    if len(fields) != 5 or feb_30 or not croniter.is_valid(cron):
        msg = _invalid_cron(cron, "use five fields: minute hour day-of-month month day-of-week")
        raise DefinitionError(msg)


def repeats_every_hour(cron: str) -> bool:
    """Whether ``cron`` fires in every hour (so both instants of an ambiguous wall time tick)."""
    fields = _CRON_ALIASES.get(cron.strip(), cron).split()
    return len(fields) == 5 and fields[1] in ("*", "*/1")


# -- wall time <-> instants -----------------------------------------------------------------------------
def instants_for_wall(naive: datetime, tz: ZoneInfo, every_hour: bool) -> list[int]:
    """The instants a schedule tick at local wall time ``naive`` stands for.

    Normal times: one. Ambiguous ones (fall back): both for schedules that fire every hour, the
    later one otherwise. Non-existent ones (spring forward): none for every-hour schedules, the
    end of the gap otherwise (Dagster's rules)."""
    ts0 = naive.replace(tzinfo=tz, fold=0).timestamp()
    ts1 = naive.replace(tzinfo=tz, fold=1).timestamp()
    if ts0 == ts1:
        return [int(ts0)]
    if ts0 < ts1:  # ambiguous
        return [int(ts0), int(ts1)] if every_hour else [int(ts1)]
    if every_hour:  # non-existent
        return []
    gap_hour = naive.replace(minute=0, second=0, microsecond=0, tzinfo=tz, fold=0)
    return [int(gap_hour.timestamp())]


def is_second_ambiguous(dt: datetime) -> bool:
    """Whether ``dt`` is the second occurrence of a wall time repeated when clocks fall back."""
    if not dt.fold:
        return False
    earlier, later = dt.replace(fold=0).utcoffset(), dt.utcoffset()
    return earlier is not None and later is not None and earlier > later


def _uniform_residue(tz: ZoneInfo, period: int, lo: float, hi: float) -> int | None:
    """``utcoffset mod period`` if it is the same over ``[lo, hi]`` (sampled every 2 weeks), else None."""
    residues: set[int] = set()
    t = lo
    while t <= hi + 14 * _DAY:
        offset = datetime.fromtimestamp(t, tz).utcoffset()
        residues.add(int(offset.total_seconds() if offset else 0) % period)
        if len(residues) > 1:
            return None
        t += 14 * _DAY
    return residues.pop()


# -- tick engines: tick i <-> instant (epoch seconds), for any integer i -------------------------------
class Engine(Protocol):
    """Tick positions <-> instants (epoch seconds) of one schedule from one start."""

    def instant(self, i: int) -> int: ...
    def first_at_or_after(self, ts: float) -> int: ...
    def instants(self, lo: int, hi: int) -> Iterable[int]: ...


class _FixedEngine:
    """Ticks every ``period`` seconds from ``anchor``."""

    __slots__ = ("anchor", "period")

    def __init__(self, anchor: int, period: int) -> None:
        self.anchor, self.period = anchor, period

    def instant(self, i: int) -> int:
        return self.anchor + i * self.period

    def first_at_or_after(self, ts: float) -> int:
        return -int((self.anchor - ts) // self.period)

    def instants(self, lo: int, hi: int) -> Iterable[int]:
        p = self.period
        return range(self.anchor + lo * p, self.anchor + max(lo, hi) * p, p)


class _CalendarEngine:
    """Daily, weekly or monthly ticks at a fixed wall time; index arithmetic on local dates."""

    __slots__ = ("_base", "_cad", "_tz")

    def __init__(self, cad: Cadence, tz: ZoneInfo, start_ts: float) -> None:
        self._cad, self._tz = cad, tz
        local = datetime.fromtimestamp(start_ts, tz).date()
        if cad.kind == "daily":
            self._base = local.toordinal()
        elif cad.kind == "weekly":
            self._base = local.toordinal() - (local.isoweekday() % 7 - cad.day) % 7
        else:
            self._base = local.year * 12 + local.month - 1
        shift = self.first_at_or_after(start_ts)
        self._base += shift * 7 if cad.kind == "weekly" else shift

    def wall(self, i: int) -> datetime:
        cad = self._cad
        if cad.kind == "monthly":
            year, month0 = divmod(self._base + i, 12)
            return datetime(year, month0 + 1, cad.day, cad.hour, cad.minute)
        d = date.fromordinal(self._base + (7 * i if cad.kind == "weekly" else i))
        return datetime(d.year, d.month, d.day, cad.hour, cad.minute)

    def instant(self, i: int) -> int:
        return instants_for_wall(self.wall(i), self._tz, False)[0]

    def first_at_or_after(self, ts: float) -> int:
        local = datetime.fromtimestamp(ts, self._tz).date()
        if self._cad.kind == "daily":
            i = local.toordinal() - self._base
        elif self._cad.kind == "weekly":
            i = (local.toordinal() - self._base) // 7
        else:
            i = local.year * 12 + local.month - 1 - self._base
        while self.instant(i) < ts:
            i += 1
        while self.instant(i - 1) >= ts:
            i -= 1
        return i

    def instants(self, lo: int, hi: int) -> Iterable[int]:
        return [self.instant(i) for i in range(lo, hi)]


NaiveTicks = Callable[[datetime], Iterator[datetime]]


class _ListEngine:
    """Ticks of any schedule, listed lazily (forwards from the start, backwards before it) and
    found by bisection. Used for arbitrary cron strings and for the rare zones whose UTC offset
    changes by a fraction of the period."""

    def __init__(
        self, naive_ticks: NaiveTicks, tz: ZoneInfo, start_ts: float, every_hour: bool
    ) -> None:
        self._naive_ticks, self._tz, self._every_hour = naive_ticks, tz, every_hour
        self._start_ts = start_ts
        self._fwd: list[int] = []
        self._bwd: list[int] = []  # tick -1, -2, ... (descending)
        self._span = 32 * _DAY
        self._fwd_iter = self._instants_from(start_ts)
        self._lock = threading.Lock()  # the generator must not run in two threads at once

    def _instants_from(self, lower: float) -> Iterator[int]:
        naive_from = datetime.fromtimestamp(lower, self._tz).replace(
            tzinfo=None, fold=0
        ) - timedelta(days=1)
        heap: list[int] = []
        last: int | None = None
        for naive in self._naive_ticks(naive_from):
            for ts in instants_for_wall(naive, self._tz, self._every_hour):
                heapq.heappush(heap, ts)
            # ticks of later wall times cannot fall before this bound, so these are final
            bound = naive.replace(tzinfo=_UTC).timestamp() - _MAX_UTC_OFFSET
            while heap and heap[0] < bound:
                ts = heapq.heappop(heap)
                if ts >= lower and ts != last:
                    last = ts
                    yield ts

    def _grow_fwd(self, length: int) -> None:
        if len(self._fwd) >= length:
            return
        with self._lock:
            while len(self._fwd) < length:
                self._fwd.append(next(self._fwd_iter))

    def _grow_bwd(self) -> bool:
        with self._lock:
            hi = self._bwd[-1] if self._bwd else self._start_ts
            while True:
                lo = hi - self._span
                if lo < -62_000_000_000:  # before year 1
                    return False
                found = list(itertools.takewhile(lambda t: t < hi, self._instants_from(lo)))
                self._span *= 2
                if found:
                    self._bwd.extend(reversed(found))
                    return True

    def instant(self, i: int) -> int:
        if i >= 0:
            self._grow_fwd(i + 1)
            return self._fwd[i]
        while len(self._bwd) < -i:
            if not self._grow_bwd():
                msg = f"The schedule has no tick {-i} positions before its start."
                raise IndexError(msg)
        return self._bwd[-i - 1]

    def first_at_or_after(self, ts: float) -> int:
        self._grow_fwd(1)
        if ts > self._fwd[0]:
            while self._fwd[-1] < ts:
                self._grow_fwd(len(self._fwd) * 2)
            return bisect.bisect_left(self._fwd, ts)
        p = 0
        while True:
            if p == len(self._bwd) and not self._grow_bwd():
                return -p
            if self._bwd[p] < ts:
                return -p
            p += 1

    def instants(self, lo: int, hi: int) -> Iterable[int]:
        if hi <= lo:
            return []
        if lo >= 0:
            self._grow_fwd(hi)
            return self._fwd[lo:hi]
        return [self.instant(i) for i in range(lo, hi)]


class CronFields(NamedTuple):
    """A cron string's fields as sets (None: any value), when it uses no croniter extension."""

    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    doms: frozenset[int] | None
    months: frozenset[int] | None
    dows: frozenset[int] | None  # 0 = Sunday

    @staticmethod
    def of(cron: str, croniter: Any) -> CronFields | None:
        expanded, nth, *_ = croniter.expand(cron)
        if nth or not all(all(v == "*" or isinstance(v, int) for v in f) for f in expanded):
            return None  # "L", "#" and friends: leave them to croniter
        sets = [None if f == ["*"] else frozenset(f) for f in expanded]
        if sets[4] is not None:
            sets[4] = frozenset(d % 7 for d in sets[4])
        return CronFields(*sets)

    def day_matches(self, d: date) -> bool:
        if self.months is not None and d.month not in self.months:
            return False
        dom_ok = self.doms is None or d.day in self.doms
        dow_ok = self.dows is None or d.isoweekday() % 7 in self.dows
        # cron's rule: when both day fields are restricted, either may match
        both = self.doms is not None and self.dows is not None
        return (dom_ok or dow_ok) if both else (dom_ok and dow_ok)

    def matches(self, dt: datetime) -> bool:
        if self.minutes is not None and dt.minute not in self.minutes:
            return False
        return (self.hours is None or dt.hour in self.hours) and self.day_matches(dt.date())


def _cron_ticks(cron: str) -> NaiveTicks:
    """Wall times of an arbitrary cron string: day by day from its field sets (fast), or through
    croniter for its extensions."""
    croniter = require_croniter(f"The cron schedule {cron!r}")
    fields = CronFields.of(cron, croniter)
    if fields is None:

        def croniter_ticks(naive_from: datetime) -> Iterator[datetime]:
            it = croniter(cron, naive_from - timedelta(seconds=1))
            while True:
                yield it.get_next(datetime)

        return croniter_ticks
    times = [
        (h, m)
        for h in sorted(fields.hours or range(24))
        for m in sorted(fields.minutes or range(60))
    ]

    def ticks(naive_from: datetime) -> Iterator[datetime]:
        d, idle = naive_from.date(), 0
        while True:
            if fields.day_matches(d):
                idle = 0
                for h, m in times:
                    t = datetime(d.year, d.month, d.day, h, m)
                    if t >= naive_from:
                        yield t
            elif (idle := idle + 1) > 3000:  # no day in 8 years
                msg = f"The cron schedule {cron!r} never fires (no day matches it)."
                raise DefinitionError(msg)
            d += timedelta(days=1)

    return ticks


def _stepping_ticks(period: int, phase: int) -> NaiveTicks:
    def ticks(naive_from: datetime) -> Iterator[datetime]:
        t = naive_from.replace(minute=0, second=0, microsecond=0) + timedelta(seconds=phase)
        step = timedelta(seconds=period)
        while t < naive_from:
            t += step
        while True:
            yield t
            t += step

    return ticks


def _monthly_ticks(day: int, hour: int, minute: int) -> NaiveTicks:
    def ticks(naive_from: datetime) -> Iterator[datetime]:
        year, month = naive_from.year, naive_from.month
        while True:
            if day <= calendar.monthrange(year, month)[1]:
                t = datetime(year, month, day, hour, minute)
                if t >= naive_from:
                    yield t
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    return ticks


# -- choosing the engine -----------------------------------------------------------------------------
def build_engine(
    cad: Cadence, tz: ZoneInfo, start_ts: float, end_ts: float | None, cron: str, every_hour: bool
) -> Engine:
    """The engine for ``cron`` (classified as ``cad``) in ``tz``, numbered from ``start_ts``:
    arithmetic where the schedule allows it, a lazy list of ticks otherwise."""
    if cad.kind == "fixed":
        hi = max(time.time(), end_ts or start_ts, start_ts) + 3 * 366 * _DAY
        residue = _uniform_residue(tz, cad.period, start_ts - 366 * _DAY, hi)
        if residue is not None:
            first = math.ceil(start_ts)
            grid = (cad.phase - residue) % cad.period
            return _FixedEngine(first + (grid - first) % cad.period, cad.period)
        return _ListEngine(_stepping_ticks(cad.period, cad.phase), tz, start_ts, True)
    if cad.kind in ("daily", "weekly") or (cad.kind == "monthly" and cad.day <= 28):
        return _CalendarEngine(cad, tz, start_ts)
    if cad.kind == "monthly":
        return _ListEngine(_monthly_ticks(cad.day, cad.hour, cad.minute), tz, start_ts, False)
    return _ListEngine(_cron_ticks(cron), tz, start_ts, every_hour)
