"""``TimeWindowPartitionMapping``: downstream time windows depend on the upstream windows they overlap.

Between two time-window definitions (the inferred default for that pair), a downstream partition
depends on every upstream partition whose window overlaps its own: daily downstream of hourly
reads the 24 hours of its day (23 or 25 on DST change days), hourly downstream of daily reads its
day, weekly downstream of daily reads its seven days.

``start_offset`` / ``end_offset`` shift the start and end of the downstream window by whole
partitions *of the downstream definition* before the overlap is taken, as Dagster does (since
1.7.4): ``(-1, -1)`` is "the previous partition" (a self-dependency), ``(-1, 0)`` is "this and
the previous one"; daily downstream of hourly with ``start_offset=-1`` reads 48 hours.

Everything is index arithmetic on runs of the subset's bitmap: each run of downstream partitions
becomes one upstream index range (two window look-ups and two timestamp → index computations, or
a constant shift when both definitions share a schedule), so 20 years of hourly partitions map in
microseconds and the result is a bitmap.

Upstream partitions that the mapping requires but that do not exist (before the upstream's first
partition, or not complete yet at ``current_time``) raise :class:`NonexistentUpstreamPartitionsError`
naming the downstream keys, the missing windows and the flag to set, unless
``allow_nonexistent_upstream_partitions=True``: then they are dropped and reported in the result's
``allowed_nonexistent_subset``. (Dagster's implementation clamps offsets at the upstream's bounds
silently, so there the first partition of a ``(-1, -1)`` self-dependency maps to nothing; its
docs describe the error. weir raises, so a ported self-dependent asset sets the flag.)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from weir._partitions.definition import PartitionsDefinition
from weir._partitions.mapping_base import (
    NonexistentPartitionsSubset,
    NonexistentUpstreamPartitionsError,
    PartitionMapping,
    UpstreamPartitionsResult,
    bits_from_runs,
    checked_subset,
    make_subset,
)
from weir._partitions.subset import PartitionsSubset
from weir._partitions.time_window import TimeWindow, TimeWindowPartitionsDefinition
from weir.errors import DefinitionError

__all__ = ["TimeWindowPartitionMapping", "is_time_window_definition"]

logger = logging.getLogger(__name__)

_SHOWN = 10  # keys listed per missing window in error messages


def is_time_window_definition(partitions_def: Any) -> bool:
    """Whether ``partitions_def`` is a time-window definition (Daily, Hourly, ... or a cron one)."""
    return isinstance(partitions_def, TimeWindowPartitionsDefinition)


class _Overlap:
    """Maps a run of ``source`` windows to the (unclamped) positions of the ``target`` windows
    that overlap it; positions may lie outside either definition's range.

    When both definitions share a schedule (only their starts or ends differ), window ``i`` of
    ``source`` is window ``i + shift`` of ``target`` and the map is one addition. Otherwise two
    timestamp look-ups per run, with the last target window remembered: consecutive runs mostly
    land in the same coarse window (hours of one day), which then costs no look-up at all.
    """

    __slots__ = ("_end", "_index", "_source", "_start", "_target", "shift")

    def __init__(
        self, source: TimeWindowPartitionsDefinition, target: TimeWindowPartitionsDefinition
    ) -> None:
        self._source, self._target = source, target
        self._start = self._end = 0.0
        self._index: int | None = None
        self.shift: int | None = None
        if source is target or source == target:
            self.shift = 0
        elif (
            source.cron_schedule == target.cron_schedule
            and source.timezone == target.timezone
            and not source.exclusions
            and not target.exclusions
        ):
            self.shift = target.index_for_timestamp(source.time_window_at(0).start.timestamp())

    def _locate(self, timestamp: float, end_closed: bool) -> int:
        if self._index is not None and (
            self._start < timestamp <= self._end
            if end_closed
            else self._start <= timestamp < self._end
        ):
            return self._index
        index = self._target.index_for_timestamp(timestamp, end_closed=end_closed)
        window = self._target.time_window_at(index)
        self._start, self._end, self._index = (
            window.start.timestamp(),
            window.end.timestamp(),
            index,
        )
        return index

    def __call__(self, lo: int, hi: int) -> tuple[int, int]:
        """``[start, stop)`` of the target windows overlapping source windows ``lo .. hi - 1``."""
        if self.shift is not None:
            return lo + self.shift, hi + self.shift
        start = self._source.time_window_at(lo).start.timestamp()
        end = self._source.time_window_at(hi - 1).end.timestamp()
        return self._locate(start, False), self._locate(end, True) + 1


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class TimeWindowPartitionMapping(PartitionMapping):
    """The default mapping between two time-window partitions definitions.

    A downstream partition depends on every upstream partition whose window overlaps its own
    window, shifted by the offsets.

    Args:
        start_offset: Shift the start of the downstream window by this many downstream partitions
            (``-1``: also depend on the previous partition's window).
        end_offset: Shift the end of the downstream window by this many downstream partitions.
        allow_nonexistent_upstream_partitions: When the shifted window reaches upstream partitions
            that do not exist (before the upstream's start, or not complete yet), skip them
            instead of raising :class:`NonexistentUpstreamPartitionsError`.

    Example::

        import weir as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01")

        @dg.asset(
            partitions_def=days,
            ins={
                "running_total": dg.AssetIn(
                    partition_mapping=dg.TimeWindowPartitionMapping(
                        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
                    )
                )
            },
        )
        def running_total(running_total): ...
    """

    def __init__(
        self,
        start_offset: int = 0,
        end_offset: int = 0,
        allow_nonexistent_upstream_partitions: bool = False,
    ) -> None:
        for name, value in (("start_offset", start_offset), ("end_offset", end_offset)):
            if not isinstance(value, int) or isinstance(value, bool):
                msg = f"TimeWindowPartitionMapping({name}=...) must be an int (a number of partitions), got {value!r}."
                raise DefinitionError(msg)
        if not isinstance(allow_nonexistent_upstream_partitions, bool):
            msg = (
                "TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=...) must be True or "
                f"False, got {allow_nonexistent_upstream_partitions!r}."
            )
            raise DefinitionError(msg)
        self.start_offset = start_offset
        self.end_offset = end_offset
        self.allow_nonexistent_upstream_partitions = allow_nonexistent_upstream_partitions

    def _fields(self) -> tuple[Any, ...]:
        return (self.start_offset, self.end_offset, self.allow_nonexistent_upstream_partitions)

    def __repr__(self) -> str:
        return (
            f"TimeWindowPartitionMapping(start_offset={self.start_offset}, end_offset={self.end_offset}, "
            f"allow_nonexistent_upstream_partitions={self.allow_nonexistent_upstream_partitions})"
        )

    @property
    def description(self) -> str:
        text = (
            "Maps a downstream partition to any upstream partition with an overlapping time window."
        )
        if self.start_offset or self.end_offset:
            text += (
                " The start and end of the upstream time window is offsetted by "
                f"{self.start_offset} and {self.end_offset} partitions respectively."
            )
        return text

    # -- checks ------------------------------------------------------------------------------------
    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        self._definitions(downstream_partitions_def, upstream_partitions_def)

    def _definitions(
        self, downstream: PartitionsDefinition | None, upstream: PartitionsDefinition | None
    ) -> tuple[TimeWindowPartitionsDefinition, TimeWindowPartitionsDefinition]:
        for role, pd in (("Downstream", downstream), ("Upstream", upstream)):
            if not isinstance(pd, TimeWindowPartitionsDefinition):
                msg = (
                    f"{role} partitions definition must be a TimeWindowPartitionsDefinition for "
                    f"TimeWindowPartitionMapping, got {pd!r}. Use IdentityPartitionMapping, "
                    "AllPartitionMapping or MultiToSingleDimensionPartitionMapping for other definitions."
                )
                raise DefinitionError(msg)
        assert isinstance(downstream, TimeWindowPartitionsDefinition)
        assert isinstance(upstream, TimeWindowPartitionsDefinition)
        if upstream.timezone != downstream.timezone:
            msg = (
                f"Timezones {upstream.timezone} and {downstream.timezone} don't match: "
                "TimeWindowPartitionMapping relates time windows of one timezone. Give the upstream "
                "and downstream partitions definitions the same timezone."
            )
            raise DefinitionError(msg)
        return downstream, upstream

    # -- downstream -> upstream ----------------------------------------------------------------------
    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: PartitionsSubset | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        down, up = self._definitions(downstream_partitions_def, upstream_partitions_def)
        down_subset = checked_subset(downstream_partitions_subset, down, "downstream", self)
        count = up.get_num_partitions(current_time)
        overlap = _Overlap(down, up)
        so, eo = self.start_offset, self.end_offset
        found: list[tuple[int, int]] = []
        missing: list[tuple[int, int, int, int]] = []  # upstream lo, hi; downstream run a, b
        if so <= eo:  # otherwise every shifted window is empty
            for a, b in down_subset.index_runs():
                lo, hi = overlap(a + so, b + eo)
                if max(lo, 0) < min(hi, count):
                    found.append((max(lo, 0), min(hi, count)))
                if lo < min(hi, 0):
                    missing.append((lo, min(hi, 0), a, b))
                if max(lo, count) < hi:
                    missing.append((max(lo, count), hi, a, b))
        subset = make_subset(up, bits_from_runs(found), dynamic_partitions_store)
        absent = self._absent(up, [(lo, hi) for lo, hi, _, _ in missing])
        if not missing:
            return UpstreamPartitionsResult(subset)
        if self.allow_nonexistent_upstream_partitions:
            return UpstreamPartitionsResult(subset, allowed_nonexistent_subset=absent)
        result = UpstreamPartitionsResult(subset, absent)
        raise self._nonexistent_error(down, up, count, overlap, missing, result, current_time)

    @staticmethod
    def _absent(
        up: TimeWindowPartitionsDefinition, ranges: list[tuple[int, int]]
    ) -> NonexistentPartitionsSubset:
        if not ranges:
            return NonexistentPartitionsSubset()
        windows = [
            TimeWindow(up.time_window_at(lo).start, up.time_window_at(hi - 1).end)
            for lo, hi in _merge(ranges)
        ]

        def keys() -> list[str]:
            return [
                key for window in windows for key in up.get_partition_keys_in_time_window(window)
            ]

        return NonexistentPartitionsSubset(time_windows=windows, key_fn=keys)

    def _nonexistent_error(
        self,
        down: TimeWindowPartitionsDefinition,
        up: TimeWindowPartitionsDefinition,
        count: int,
        overlap: _Overlap,
        missing: list[tuple[int, int, int, int]],
        result: UpstreamPartitionsResult,
        current_time: datetime | None,
    ) -> NonexistentUpstreamPartitionsError:
        so, eo = self.start_offset, self.end_offset

        def upstream_range(i: int) -> tuple[int, int]:
            return overlap(i + so, i + eo + 1)

        lines: list[str] = []
        affected_keys: list[str] = []
        for lo, hi, a, b in missing:
            before = hi <= 0
            # the affected downstream partitions are a prefix (before) or suffix (after) of the run
            left, right = a, b
            while left < right:
                mid = (left + right) // 2
                reaches = upstream_range(mid)[0] < 0 if before else upstream_range(mid)[1] <= count
                if reaches:
                    left = mid + 1
                else:
                    right = mid
            start, stop = (a, left) if before else (left, b)
            keys = down.get_partition_keys_between_indexes(start, min(stop, start + _SHOWN))
            affected_keys.extend(keys)
            more = f" and {stop - start - len(keys):,} more" if stop - start > len(keys) else ""
            window = TimeWindow(up.time_window_at(lo).start, up.time_window_at(hi - 1).end)
            first_key = up.get_partition_key_for_timestamp(window.start.timestamp())
            first = up.get_first_partition_window(current_time)
            last = up.get_last_partition_window(current_time)
            where = (
                f"before the first upstream partition (which starts {first.start.isoformat()})"
                if before and first is not None
                else f"after the last existing upstream partition (which ends {last.end.isoformat()})"
                if last is not None
                else "and the upstream definition has no partitions yet"
            )
            lines.append(
                f"  downstream {keys}{more} -> upstream window {window.start.isoformat()} .. "
                f"{window.end.isoformat()} ({hi - lo:,} partition{'s' if hi - lo != 1 else ''} from "
                f"{first_key!r}), {where}"
            )
            if len(lines) == 3 and len(missing) > 3:
                lines.append(f"  ... and {len(missing) - 3} more runs")
                break
        message = (
            f"{self!r}: downstream partitions of {down!r} depend on upstream partitions of {up!r} "
            "that do not exist:\n" + "\n".join(lines) + "\nSet "
            "TimeWindowPartitionMapping(..., allow_nonexistent_upstream_partitions=True) to skip them "
            "(the downstream partitions then read only the upstream partitions that exist), or "
            "change the offsets or the definitions' start dates."
        )
        return NonexistentUpstreamPartitionsError(
            message, result=result, downstream_partition_keys=affected_keys
        )

    # -- upstream -> downstream ----------------------------------------------------------------------
    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: PartitionsSubset,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionsSubset:
        down, up = self._definitions(downstream_partitions_def, upstream_partitions_def)
        up_subset = checked_subset(upstream_partitions_subset, up, "upstream", self)
        count = down.get_num_partitions(current_time)
        overlap = _Overlap(up, down)
        so, eo = self.start_offset, self.end_offset
        found: list[tuple[int, int]] = []
        if so <= eo:
            for a, b in up_subset.index_runs():
                lo, hi = overlap(a, b)
                # downstream i reads downstream windows i+so .. i+eo; those overlap lo .. hi-1
                lo, hi = max(lo - eo, 0), min(hi - so, count)
                if lo < hi:
                    found.append((lo, hi))
        return make_subset(down, bits_from_runs(found), dynamic_partitions_store)
