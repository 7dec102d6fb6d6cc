"""The state of a time-window partitions definition and where its partitions are.

:class:`TimeWindowPositions` is the private base of
:class:`~weir._partitions.time_window.TimeWindowPartitionsDefinition`. It holds the definition's
state (start, end, timezone, key format, cron schedule, end offset, exclusions) and turns it into
positions: tick ``raw`` of the schedule (any integer; 0 is the first tick at or after ``start``),
partition index ``i`` (the ticks left by the exclusions, up to the last complete window at
``current_time``), key and instant, each from the others, by arithmetic on the schedule's tick
engine. On that it implements the partitions contract's index primitives, and says why a key is
not a partition.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from weir._partitions._time_keys import (
    DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE,
    Exclusions,
    KeyFormatter,
    parse_key,
)
from weir._partitions._time_ticks import (
    Engine,
    build_engine,
    classify,
    instants_for_wall,
    repeats_every_hour,
    validate_cron,
)
from weir._partitions.definition import PartitionsDefinition
from weir.errors import DefinitionError

__all__ = ["TimeWindowPositions"]

logger = logging.getLogger(__name__)


class TimeWindowPositions(PartitionsDefinition):
    """A time-window definition's state and position arithmetic (abstract: the public class adds
    construction, serialization, windows and identity)."""

    def _setup(
        self,
        start_ts: float,
        end_ts: float | None,
        tz_name: str,
        fmt: str,
        end_offset: int,
        cron: str,
        exclusions: tuple[tuple[str, Any], ...],
    ) -> None:
        self._start_ts, self._end_ts, self._tz_name, self._fmt = start_ts, end_ts, tz_name, fmt
        self._end_offset, self._cron, self._exclusions = end_offset, cron, exclusions
        self._tz = ZoneInfo(tz_name)
        self._cadence = classify(cron)
        if self._cadence.kind == "cron":
            validate_cron(cron, f"The cron schedule {cron!r}")
        self._every_hour = repeats_every_hour(cron)
        self._formatter = KeyFormatter(fmt, self._tz, self._every_hour)
        self._engine_cache: Engine | None = None
        self._excl_cache: Exclusions | None = None
        self._check_fmt()
        if end_ts is not None and end_ts < start_ts:
            logger.warning("%r ends before it starts, so it has no partitions.", self)

    def _check_fmt(self) -> None:
        """Keys must tell windows apart: a daily format for hourly windows would repeat keys."""
        cad, a = self._cadence, datetime(2001, 1, 1, 0, 0)
        step = {
            "fixed": timedelta(seconds=cad.period),
            "daily": timedelta(days=1),
            "weekly": timedelta(days=7),
            "monthly": timedelta(days=31),
        }.get(cad.kind)
        if step is not None:
            same = a.strftime(self._fmt) == (a + step).strftime(self._fmt)
        else:  # an arbitrary cron: compare its first two keys
            same = self._formatter.one(self._engine.instant(0)) == self._formatter.one(
                self._engine.instant(1)
            )
        if same:
            msg = (
                f"The partition key format {self._fmt!r} cannot tell apart consecutive windows of the "
                f"cron schedule {self._cron!r}, so keys would repeat. Use a finer format, e.g. "
                f"{DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE!r} for hourly windows."
            )
            raise DefinitionError(msg)

    # -- pickling drops the tick caches (they hold generators) ------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_engine_cache"] = state["_excl_cache"] = None
        return state

    # -- engines -------------------------------------------------------------------------------------
    @property
    def _engine(self) -> Engine:
        if self._engine_cache is None:
            self._engine_cache = build_engine(
                self._cadence, self._tz, self._start_ts, self._end_ts, self._cron, self._every_hour
            )
        return self._engine_cache

    @property
    def _excl(self) -> Exclusions | None:
        if not self._exclusions:
            return None
        if self._excl_cache is None:
            self._excl_cache = Exclusions(self._engine, self._tz, self._exclusions)
        return self._excl_cache

    # -- raw positions (every tick) <-> partition indices (ticks minus exclusions) --------------------------
    def _now(self, current_time: Any) -> float:
        if current_time is None:
            return time.time()
        if isinstance(current_time, (int, float)):
            return float(current_time)
        if current_time.tzinfo is None:  # a naive "now" is in the definition's timezone
            current_time = current_time.replace(tzinfo=self._tz)
        return float(current_time.timestamp())

    def _ts(self, dt: datetime) -> float:
        return (dt if dt.tzinfo else dt.replace(tzinfo=self._tz)).timestamp()

    def _raw_count(self, now: float) -> int:
        eng, k = self._engine, self._end_offset
        last_tick = eng.first_at_or_after(math.floor(now) + 1) - 1  # the last tick at or before now
        n = max(last_tick + max(k, 0), 0)
        if self._end_ts is not None:
            n = min(n, max(eng.first_at_or_after(math.floor(self._end_ts) + 1) - 1, 0))
        return max(n + min(k, 0), 0)

    def _final_position(self, raw: int) -> int:
        excl = self._excl
        return raw - excl.count_below(raw) if excl is not None and raw > 0 else raw

    def _raw_of(self, index: int) -> int:
        excl = self._excl
        return excl.raw_of(index) if excl is not None else index

    def _raw_index_of_key(self, key: Any) -> int | None:
        if not isinstance(key, str):
            return None
        ts = parse_key(key, self._fmt, self._tz)
        if ts is None:
            return None
        raw = self._engine.first_at_or_after(ts)
        return raw if self._formatter.one(self._engine.instant(raw)) == key else None

    def _raw_bounds(self, raw: int) -> tuple[datetime, datetime]:
        """The start and end of the window of tick position ``raw`` (any integer)."""
        eng, tz = self._engine, self._tz
        return (
            datetime.fromtimestamp(eng.instant(raw), tz),
            datetime.fromtimestamp(eng.instant(raw + 1), tz),
        )

    def _keys_for_raw(self, lo: int, hi: int) -> list[str]:
        instants = self._engine.instants(lo, hi)
        excl = self._excl
        if excl is not None and hi > 0:
            instants = [
                ts
                for raw, ts in zip(range(lo, hi), instants, strict=True)
                if not excl.is_excluded(raw)
            ]
        return self._formatter.many(instants)

    def _keys_between(self, start: int, stop: int) -> list[str]:
        if stop <= start:
            return []
        return self._keys_for_raw(self._raw_of(start), self._raw_of(stop - 1) + 1)

    def _key_for_position(self, index: int) -> str:
        return self._formatter.one(self._engine.instant(self._raw_of(index)))

    def _raw_for_timestamp(self, timestamp: float, end_closed: bool) -> int:
        eng = self._engine
        raw = eng.first_at_or_after(timestamp)
        if eng.instant(raw) == timestamp:
            return raw - 1 if end_closed else raw
        return raw - 1

    # -- the contract's primitives -------------------------------------------------------------------
    def get_num_partitions(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int:
        """How many partitions exist at ``current_time`` (default: now)."""
        return self._final_position(self._raw_count(self._now(current_time)))

    def key_at(
        self, index: int, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> str:
        """The key at position ``index`` (negative counts from the end)."""
        n = self.get_num_partitions(current_time)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            msg = (
                f"Partition index {index} is out of range for {self!r}, which has {n:,} partitions."
            )
            raise IndexError(msg)
        return self._formatter.one(self._engine.instant(self._raw_of(i)))

    def index_of(
        self, key: str, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> int | None:
        """The position of ``key``, or None: parse, compute, check that it formats back to ``key``."""
        raw = self._raw_index_of_key(key)
        if raw is None or raw < 0 or raw >= self._raw_count(self._now(current_time)):
            return None
        excl = self._excl
        if excl is not None:
            return None if excl.is_excluded(raw) else raw - excl.count_below(raw)
        return raw

    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> Sequence[str]:
        """Every key, oldest first."""
        return self._keys_between(0, self.get_num_partitions(current_time))

    def iter_partition_keys(
        self,
        start: int = 0,
        stop: int | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> Iterator[str]:
        """The keys with index in ``[start, stop)``, formatted in chunks."""
        n = self.get_num_partitions(current_time)
        stop = n if stop is None else min(stop, n)
        for lo in range(max(start, 0), stop, 4096):
            yield from self._keys_between(lo, min(lo + 4096, stop))

    def get_partition_keys_between_indexes(
        self, start_idx: int, end_idx: int, current_time: datetime | None = None
    ) -> list[str]:
        """The keys with index in ``[start_idx, end_idx)``."""
        n = self.get_num_partitions(current_time)
        return self._keys_between(max(start_idx, 0), min(end_idx, n))

    # -- timestamps ----------------------------------------------------------------------------------
    def index_for_timestamp(self, timestamp: float, end_closed: bool = False) -> int:
        """The position of the window containing ``timestamp`` (not clamped; see
        :meth:`get_partition_key_for_timestamp`)."""
        return self._final_position(self._raw_for_timestamp(timestamp, end_closed))

    def get_partition_key_for_timestamp(self, timestamp: float, end_closed: bool = False) -> str:
        """The key of the window containing ``timestamp`` (epoch seconds). At a boundary, the
        window starting there -- or, with ``end_closed``, the one ending there."""
        return self._formatter.one(
            self._engine.instant(self._raw_for_timestamp(timestamp, end_closed))
        )

    # -- the state, as Dagster names it -------------------------------------------------------------
    @property
    def start(self) -> datetime:
        """The start (inclusive lower bound of the first window's start), in the timezone."""
        return datetime.fromtimestamp(self._start_ts, self._tz)

    @property
    def end(self) -> datetime | None:
        """The exclusive end (every window ends by it), or None."""
        return None if self._end_ts is None else datetime.fromtimestamp(self._end_ts, self._tz)

    @property
    def start_timestamp(self) -> float:
        """The start, in epoch seconds."""
        return self._start_ts

    @property
    def end_timestamp(self) -> float | None:
        """The exclusive end, in epoch seconds, or None."""
        return self._end_ts

    @property
    def timezone(self) -> str:
        """The IANA timezone name the schedule runs in."""
        return self._tz_name

    @property
    def fmt(self) -> str:
        """The strftime format of the keys."""
        return self._fmt

    @property
    def end_offset(self) -> int:
        """Windows added past the last complete one (negative: complete ones left out)."""
        return self._end_offset

    @property
    def cron_schedule(self) -> str:
        """The cron string whose ticks bound the windows."""
        return self._cron

    @property
    def exclusions(self) -> list[str | datetime]:
        """The exclusions: cron strings and datetimes (in the timezone)."""
        return [
            v if kind == "cron" else datetime.fromtimestamp(v, self._tz)
            for kind, v in self._exclusions
        ]

    # -- errors -----------------------------------------------------------------------------------------
    def _key_problem(self, key: Any) -> str:
        """Why ``key`` names no window at all (bad format, or not a window start)."""
        example = self._formatter.one(self._engine.instant(0))
        ts = parse_key(key, self._fmt, self._tz) if isinstance(key, str) else None
        if ts is None:
            return (
                f"Partition key {key!r} does not match the key format {self._fmt!r} of {self!r}; "
                f"keys look like {example!r}."
            )
        containing = self.get_partition_key_for_timestamp(ts)
        try:  # the key may carry a UTC offset (an ambiguous DST hour) the plain format lacks
            naive = datetime.strptime(key, self._fmt) if "%z" not in self._fmt else None
        except ValueError:
            naive = None
        if naive is not None and instants_for_wall(naive, self._tz, True) == []:
            why = (
                f"that local time does not exist in {self._tz_name} (clocks skip it at a "
                "daylight-saving change)"
            )
        else:
            why = (
                f"it is not the start of a window of the schedule {self._cron!r} in {self._tz_name}"
            )
        return (
            f"Partition key {key!r} is not a partition of {self!r}: {why}. The window containing "
            f"it starts at {containing!r}."
        )

    def _unknown_key_message(
        self, partition_key: str, current_time: Any, dynamic_partitions_store: Any
    ) -> str:
        raw = self._raw_index_of_key(partition_key)
        if raw is None:
            return self._key_problem(partition_key)
        now = self._now(current_time)
        n = self._final_position(self._raw_count(now))
        head = f"Partition key {partition_key!r} is not a partition of {self!r}"
        first, last = (self._key_for_position(0), self._key_for_position(n - 1)) if n else ("", "")
        span = f" Keys run from {first!r} to {last!r}." if n else ""
        if raw < 0:
            start = self.start.isoformat()
            return f"{head}: it is before the first window, which starts at or after {start}.{span}"
        excl = self._excl
        if excl is not None and excl.is_excluded(raw):
            return f"{head}: it is excluded by exclusions={self.exclusions!r}.{span}"
        window_start, window_end = self._raw_bounds(raw)
        if self.end is not None and window_end.timestamp() > self.end.timestamp():
            end = self.end.isoformat()
            return f"{head}: its window ends after the definition's end {end} (exclusive).{span}"
        span = span or " There are no partitions yet."
        if window_end.timestamp() <= now:
            k = self._end_offset
            return f"{head}: end_offset={k} leaves out the last {-k} complete window(s).{span}"
        when = datetime.fromtimestamp(now, self._tz).isoformat()
        return (
            f"{head}: at {when} its window ({window_start.isoformat()} .. {window_end.isoformat()}) "
            f"has not ended, and only complete windows are partitions (end_offset={self._end_offset})."
            f" Pass current_time= or a larger end_offset to include it.{span}"
        )
