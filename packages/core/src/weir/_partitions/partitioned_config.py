"""Partitioned config: run config (and run tags) computed from a partition key.

A :class:`PartitionedConfig` pairs a partitions definition with a function from a partition key to
run config, so a job given ``config=`` one runs per partition (a schedule or backfill picks the
key). The decorators build one from a plain function:

* :func:`partitioned_config` -- any partitions definition; the function takes the key;
* :func:`static_partitioned_config` / :func:`dynamic_partitioned_config` -- static keys, or keys a
  function lists; the function takes the key;
* :func:`daily_partitioned_config` (and hourly, weekly, monthly) -- time windows; the function
  takes the window's ``start`` and ``end`` datetimes.

Example::

    import weir as dg

    @dg.daily_partitioned_config(start_date="2024-01-01")
    def day_config(start, end):
        return {"ops": {"load": {"config": {"date": start.strftime("%Y-%m-%d")}}}}

    day_config.get_run_config_for_partition_key("2024-01-05")
    # {'ops': {'load': {'config': {'date': '2024-01-05'}}}}
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from weir._partitions.definition import PartitionsDefinition
from weir.errors import DefinitionError, InvalidInvocationError

if TYPE_CHECKING:
    from weir._partitions.time_window import TimeWindowPartitionsDefinition

__all__ = [
    "PARTITION_SET_TAG",
    "PARTITION_TAG",
    "Partition",
    "PartitionedConfig",
    "daily_partitioned_config",
    "dynamic_partitioned_config",
    "hourly_partitioned_config",
    "monthly_partitioned_config",
    "partitioned_config",
    "static_partitioned_config",
    "weekly_partitioned_config",
]

PARTITION_TAG = "dagster/partition"
PARTITION_SET_TAG = "dagster/partition_set"

RunConfigFn = Callable[[str], Any]
TagsFn = Callable[[str], Mapping[str, str]]
WindowConfigFn = Callable[[datetime, datetime], Any]
WindowTagsFn = Callable[[datetime, datetime], Mapping[str, str]]


class Partition:
    """A partition handed to the legacy ``run_config_for_partition_fn``/``tags_for_partition_fn``
    (Dagster deprecated them for the ``*_key_fn`` forms, which take the key string)."""

    __slots__ = ("name", "value")

    def __init__(self, value: Any, name: str | None = None) -> None:
        self.value = value
        self.name = str(value) if name is None else name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Partition) and (self.value, self.name) == (other.value, other.name)

    def __hash__(self) -> int:
        return hash((self.name, str(self.value)))

    def __repr__(self) -> str:
        return f"Partition(value={self.value!r}, name={self.name!r})"


def _check_callable(value: Any, what: str) -> None:
    if value is not None and not callable(value):
        msg = f"{what} must be a function, got {type(value).__name__} {value!r}."
        raise DefinitionError(msg)


class PartitionedConfig:
    """Run config for a job that runs one partition at a time.

    Give exactly one of ``run_config_for_partition_key_fn`` (key -> run config) and the legacy
    ``run_config_for_partition_fn`` (:class:`Partition` -> run config); tags likewise. Run config
    may be a dict or a ``RunConfig``; :meth:`get_run_config_for_partition_key` returns a fresh
    deep copy each time.
    """

    def __init__(
        self,
        partitions_def: PartitionsDefinition,
        run_config_for_partition_fn: Callable[[Partition], Any] | None = None,
        decorated_fn: Callable[..., Any] | None = None,
        tags_for_partition_fn: Callable[[Partition], Mapping[str, str]] | None = None,
        run_config_for_partition_key_fn: RunConfigFn | None = None,
        tags_for_partition_key_fn: TagsFn | None = None,
    ) -> None:
        if not isinstance(partitions_def, PartitionsDefinition):
            msg = (
                "PartitionedConfig needs a partitions definition (e.g. DailyPartitionsDefinition(...)), "
                f"got {type(partitions_def).__name__} {partitions_def!r}."
            )
            raise DefinitionError(msg)
        if (run_config_for_partition_fn is None) == (run_config_for_partition_key_fn is None):
            msg = "Must provide exactly one of run_config_for_partition_fn or run_config_for_partition_key_fn."
            raise DefinitionError(msg)
        if tags_for_partition_fn is not None and tags_for_partition_key_fn is not None:
            msg = "Cannot provide both of tags_for_partition_fn or tags_for_partition_key_fn."
            raise DefinitionError(msg)
        for value, what in (
            (run_config_for_partition_fn, "run_config_for_partition_fn"),
            (run_config_for_partition_key_fn, "run_config_for_partition_key_fn"),
            (tags_for_partition_fn, "tags_for_partition_fn"),
            (tags_for_partition_key_fn, "tags_for_partition_key_fn"),
            (decorated_fn, "decorated_fn"),
        ):
            _check_callable(value, what)
        self._partitions_def = partitions_def
        self._decorated_fn = decorated_fn
        self._run_config_for_partition_fn = run_config_for_partition_fn
        self._run_config_for_partition_key_fn = run_config_for_partition_key_fn
        self._tags_for_partition_fn = tags_for_partition_fn
        self._tags_for_partition_key_fn = tags_for_partition_key_fn

    @property
    def partitions_def(self) -> PartitionsDefinition:
        """The partitions the config is defined over."""
        return self._partitions_def

    @property
    def run_config_for_partition_fn(self) -> Callable[[Partition], Any] | None:
        return self._run_config_for_partition_fn

    @property
    def run_config_for_partition_key_fn(self) -> RunConfigFn | None:
        return self._run_config_for_partition_key_fn

    @property
    def tags_for_partition_fn(self) -> Callable[[Partition], Mapping[str, str]] | None:
        return self._tags_for_partition_fn

    @property
    def tags_for_partition_key_fn(self) -> TagsFn | None:
        return self._tags_for_partition_key_fn

    def get_partition_keys(self, current_time: datetime | None = None) -> Sequence[str]:
        """The keys the config can be applied to (at ``current_time``, for time windows)."""
        return self._partitions_def.get_partition_keys(current_time)

    def get_run_config_for_partition_key(self, partition_key: str) -> dict[str, Any]:
        """The run config for ``partition_key``: a dict (a ``RunConfig`` is converted), deep-copied."""
        if self._run_config_for_partition_fn is not None:
            run_config = self._run_config_for_partition_fn(Partition(partition_key))
        else:
            assert self._run_config_for_partition_key_fn is not None
            run_config = self._run_config_for_partition_key_fn(partition_key)
        to_dict = getattr(run_config, "to_config_dict", None)
        if to_dict is not None:
            run_config = to_dict()
        if run_config is None:
            run_config = {}
        if not isinstance(run_config, Mapping):
            msg = (
                f"The partitioned config function for partition {partition_key!r} returned "
                f"{type(run_config).__name__} {run_config!r:.200}; it must return a run-config dict "
                "or a RunConfig."
            )
            raise DefinitionError(msg)
        return copy.deepcopy(dict(run_config))

    def get_tags_for_partition_key(
        self, partition_key: str, job_name: str | None = None
    ) -> dict[str, str]:
        """The run tags for ``partition_key``: the user's tags, then the partition tags
        (``dagster/partition``, and ``dagster/partition_set`` when ``job_name`` is given)."""
        if self._tags_for_partition_fn is not None:
            user_tags = self._tags_for_partition_fn(Partition(partition_key))
        elif self._tags_for_partition_key_fn is not None:
            user_tags = self._tags_for_partition_key_fn(partition_key)
        else:
            user_tags = {}
        tags = _checked_tags(user_tags or {}, partition_key)
        system_fn = getattr(self._partitions_def, "get_tags_for_partition_key", None)
        tags.update(
            system_fn(partition_key) if system_fn is not None else {PARTITION_TAG: partition_key}
        )
        if job_name:
            tags[PARTITION_SET_TAG] = f"{job_name}_partition_set"
        return tags

    @classmethod
    def from_flexible_config(
        cls, config: Any, partitions_def: PartitionsDefinition
    ) -> PartitionedConfig:
        """A job's ``config=`` as a :class:`PartitionedConfig` over ``partitions_def``: itself
        (when over the same partitions), or the same fixed run config for every partition."""
        if isinstance(config, PartitionedConfig):
            if config.partitions_def != partitions_def:
                msg = (
                    f"Can't supply a PartitionedConfig for 'config' with a different PartitionsDefinition "
                    f"than supplied for 'partitions_def': {config.partitions_def!r} vs {partitions_def!r}."
                )
                raise DefinitionError(msg)
            return config
        if (
            config is not None
            and not isinstance(config, Mapping)
            and not hasattr(config, "to_config_dict")
        ):
            msg = (
                "Can't supply a ConfigMapping (or any non-dict config) for 'config' when "
                f"'partitions_def' is supplied; got {type(config).__name__}."
            )
            raise DefinitionError(msg)
        fixed = config if config else {}
        return cls(partitions_def, run_config_for_partition_key_fn=lambda _key: fixed)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._decorated_fn is None:
            msg = (
                "Only PartitionedConfig objects created using one of the partitioned config "
                "decorators can be directly invoked."
            )
            raise InvalidInvocationError(msg)
        return self._decorated_fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"PartitionedConfig(partitions_def={self._partitions_def!r})"


def _checked_tags(tags: Any, partition_key: str) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        msg = (
            f"The tags function for partition {partition_key!r} returned {type(tags).__name__} "
            f"{tags!r:.200}; it must return a dict of string tags."
        )
        raise DefinitionError(msg)
    bad = {k: v for k, v in tags.items() if not isinstance(k, str) or not isinstance(v, str)}
    if bad:
        msg = (
            f"Run tags must map strings to strings, but the tags for partition {partition_key!r} "
            f"have {bad!r:.200}. Convert the values with str() or json.dumps()."
        )
        raise DefinitionError(msg)
    return dict(tags)


def partitioned_config(
    partitions_def: PartitionsDefinition, tags_for_partition_key_fn: TagsFn | None = None
) -> Callable[[RunConfigFn], PartitionedConfig]:
    """Decorate a function from a partition key to run config, making a :class:`PartitionedConfig`
    over ``partitions_def``."""
    _check_callable(tags_for_partition_key_fn, "tags_for_partition_key_fn")

    def inner(fn: RunConfigFn) -> PartitionedConfig:
        _check_callable(fn, "The decorated partitioned config function")
        return PartitionedConfig(
            partitions_def=partitions_def,
            run_config_for_partition_key_fn=fn,
            decorated_fn=fn,
            tags_for_partition_key_fn=tags_for_partition_key_fn,
        )

    return inner


def static_partitioned_config(
    partition_keys: Sequence[str],
    tags_for_partition_fn: TagsFn | None = None,
    tags_for_partition_key_fn: TagsFn | None = None,
) -> Callable[[RunConfigFn], PartitionedConfig]:
    """Decorate a function from a key to run config, over a static set of keys.
    ``tags_for_partition_fn`` is the older name of ``tags_for_partition_key_fn``."""
    from weir._partitions.static import StaticPartitionsDefinition

    if tags_for_partition_fn is not None and tags_for_partition_key_fn is not None:
        msg = "Cannot provide both of tags_for_partition_fn or tags_for_partition_key_fn."
        raise DefinitionError(msg)
    return partitioned_config(
        StaticPartitionsDefinition(partition_keys),
        tags_for_partition_key_fn or tags_for_partition_fn,
    )


def dynamic_partitioned_config(
    partition_fn: Callable[[datetime | None], Sequence[str]],
    tags_for_partition_fn: TagsFn | None = None,
    tags_for_partition_key_fn: TagsFn | None = None,
) -> Callable[[RunConfigFn], PartitionedConfig]:
    """Decorate a function from a key to run config, over the keys ``partition_fn(current_time)``
    lists. ``tags_for_partition_fn`` is the older name of ``tags_for_partition_key_fn``."""
    from weir._partitions.dynamic import DynamicPartitionsDefinition

    _check_callable(partition_fn, "partition_fn")
    if tags_for_partition_fn is not None and tags_for_partition_key_fn is not None:
        msg = "Cannot provide both of tags_for_partition_fn or tags_for_partition_key_fn."
        raise DefinitionError(msg)
    with warnings.catch_warnings():
        # the definition warns about partition_fn; this decorator is the supported way to use one
        warnings.simplefilter("ignore", DeprecationWarning)
        partitions_def = DynamicPartitionsDefinition(partition_fn=partition_fn)
    return partitioned_config(partitions_def, tags_for_partition_key_fn or tags_for_partition_fn)


def _time_window_config(
    partitions_def: TimeWindowPartitionsDefinition, tags_for_partition_fn: WindowTagsFn | None
) -> Callable[[WindowConfigFn], PartitionedConfig]:
    _check_callable(tags_for_partition_fn, "tags_for_partition_fn")

    def inner(fn: WindowConfigFn) -> PartitionedConfig:
        _check_callable(fn, "The decorated partitioned config function")

        def run_config_for_key(key: str) -> Any:
            window = partitions_def.time_window_for_partition_key(key)
            return fn(window.start, window.end)

        def tags_for_key(key: str) -> Mapping[str, str]:
            if tags_for_partition_fn is None:
                return {}
            window = partitions_def.time_window_for_partition_key(key)
            return tags_for_partition_fn(window.start, window.end)

        return PartitionedConfig(
            partitions_def=partitions_def,
            run_config_for_partition_key_fn=run_config_for_key,
            decorated_fn=fn,
            tags_for_partition_key_fn=tags_for_key,
        )

    return inner


def hourly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: WindowTagsFn | None = None,
    exclusions: Sequence[str | datetime] | None = None,
) -> Callable[[WindowConfigFn], PartitionedConfig]:
    """Decorate ``fn(start, end) -> run config`` over hourly partitions (see
    ``HourlyPartitionsDefinition``)."""
    from weir._partitions.time_window import HourlyPartitionsDefinition

    partitions_def = HourlyPartitionsDefinition(
        start_date=start_date,
        minute_offset=minute_offset,
        timezone=timezone,
        fmt=fmt,
        end_offset=end_offset,
        exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def daily_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: WindowTagsFn | None = None,
    exclusions: Sequence[str | datetime] | None = None,
) -> Callable[[WindowConfigFn], PartitionedConfig]:
    """Decorate ``fn(start, end) -> run config`` over daily partitions (see
    ``DailyPartitionsDefinition``)."""
    from weir._partitions.time_window import DailyPartitionsDefinition

    partitions_def = DailyPartitionsDefinition(
        start_date=start_date,
        minute_offset=minute_offset,
        hour_offset=hour_offset,
        timezone=timezone,
        fmt=fmt,
        end_offset=end_offset,
        exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def weekly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    day_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: WindowTagsFn | None = None,
    exclusions: Sequence[str | datetime] | None = None,
) -> Callable[[WindowConfigFn], PartitionedConfig]:
    """Decorate ``fn(start, end) -> run config`` over weekly partitions (see
    ``WeeklyPartitionsDefinition``; weeks start on Sunday unless ``day_offset`` says otherwise)."""
    from weir._partitions.time_window import WeeklyPartitionsDefinition

    partitions_def = WeeklyPartitionsDefinition(
        start_date=start_date,
        minute_offset=minute_offset,
        hour_offset=hour_offset,
        day_offset=day_offset,
        timezone=timezone,
        fmt=fmt,
        end_offset=end_offset,
        exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def monthly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    day_offset: int = 1,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: WindowTagsFn | None = None,
    exclusions: Sequence[str | datetime] | None = None,
) -> Callable[[WindowConfigFn], PartitionedConfig]:
    """Decorate ``fn(start, end) -> run config`` over monthly partitions (see
    ``MonthlyPartitionsDefinition``)."""
    from weir._partitions.time_window import MonthlyPartitionsDefinition

    partitions_def = MonthlyPartitionsDefinition(
        start_date=start_date,
        minute_offset=minute_offset,
        hour_offset=hour_offset,
        day_offset=day_offset,
        timezone=timezone,
        fmt=fmt,
        end_offset=end_offset,
        exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)
