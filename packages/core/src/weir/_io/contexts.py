"""``OutputContext`` and ``InputContext``: what an IO manager knows about the value it stores or loads.

The executor builds several of these per step, so they are plain ``__slots__`` classes whose
keyword-only constructor only stores its arguments; everything derived (the type view, the
asset spec of a test-built context, partition keys) is computed when first asked for. Tests
build them with :func:`build_output_context` / :func:`build_input_context`, whose signatures
match Dagster's.

Accessing something the context was not given (``asset_key`` of an op output, ``step_key`` of a
test context built without one) raises ``InvariantViolationError`` saying what is missing, as
Dagster does. Partition accessors work for one partition key (``partition_key``) and for key
ranges whose start and end are equal; enumerating longer ranges needs the asset's partitions
definition (``get_partition_keys_in_range``), which the partitions issue provides.
"""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from weir._model.asset_key import AssetKey
from weir.errors import InvariantViolationError

if TYPE_CHECKING:
    from weir._config.resources import Resources

__all__ = ["InputContext", "OutputContext"]

logger = logging.getLogger(__name__)

_NOT_GIVEN: Any = object()


class _KeyRange(NamedTuple):
    """A partition key range (``start`` .. ``end``, inclusive) until ``PartitionKeyRange`` exists."""

    start: str
    end: str


class _TypeView:
    """``context.dagster_type`` for a plain annotation: ``.typing_type`` and ``.display_name``."""

    __slots__ = ("_display_name", "typing_type")

    def __init__(self, typing_type: Any) -> None:
        self.typing_type = typing_type
        self._display_name: str | None = None

    @property
    def display_name(self) -> str:
        if self._display_name is None:
            from weir._execution.types import display_name

            self._display_name = display_name(self.typing_type)
        return self._display_name

    @property
    def is_nothing(self) -> bool:
        return self.typing_type is type(None)

    def __repr__(self) -> str:
        return f"DagsterType({self.display_name})"


_ANY_TYPE = _TypeView(typing.Any)
_ANY_TYPE._display_name = "Any"


def _type_view(raw: Any) -> Any:
    if raw is _NOT_GIVEN:
        return _ANY_TYPE
    if hasattr(raw, "typing_type") and hasattr(raw, "display_name"):
        return raw  # already a type object (a DagsterType, or a view another context made)
    if raw is None:
        return _TypeView(type(None))
    if raw is inspect.Parameter.empty or type(raw).__name__ == "_NoType":
        return _ANY_TYPE
    return _TypeView(raw)


def _empty_resources() -> Resources:
    from weir._config.resources import Resources

    return Resources({})


class _IOContext:
    """What output and input contexts share: resources, logging, partitions, collected events."""

    __slots__ = (
        "_asset_key",
        "_config",
        "_dagster_type",
        "_events",
        "_instance",
        "_job_name",
        "_log",
        "_name",
        "_op_def",
        "_partition_key",
        "_partition_key_range",
        "_partition_keys",
        "_partitions_def",
        "_resource_config",
        "_resources",
        "_step_context",
    )

    _kind = "context"

    _asset_key: AssetKey | None
    _config: Any
    _dagster_type: Any
    _events: list[Any] | None
    _instance: Any
    _job_name: str | None
    _log: Any
    _name: str | None
    _op_def: Any
    _partition_key: str | None
    _partition_key_range: Any
    _partition_keys: Sequence[str] | None  # explicit keys (set by the engine for mapped inputs)
    _partitions_def: Any
    _resource_config: Mapping[str, Any] | None
    _resources: Any
    _step_context: Any

    def _missing(self, what: str, hint: str = "") -> InvariantViolationError:
        return InvariantViolationError(
            f"Attempting to access {what}, but it was not provided when constructing the "
            f"{type(self).__name__}.{hint}"
        )

    # -- general --
    @property
    def name(self) -> str:
        """The output (``"result"`` by default) or input name."""
        if self._name is None:
            raise self._missing("name", f" Pass name=... to build_{self._kind}_context().")
        return self._name

    @property
    def job_name(self) -> str:
        if self._job_name is None:
            raise self._missing("job_name")
        return self._job_name

    @property
    def op_def(self) -> Any:
        """The op (node) definition of the step."""
        if self._op_def is None:
            raise self._missing("op_def")
        return self._op_def

    @property
    def config(self) -> Any:
        """Per-output / per-input config given to the IO manager (``None`` when there is none)."""
        return self._config

    @property
    def dagster_type(self) -> Any:
        """The type of the value: ``.typing_type`` (the annotation) and ``.display_name``."""
        view = _type_view(self._dagster_type)
        self._dagster_type = view
        return view

    @property
    def log(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        return self._log if self._log is not None else logger

    @property
    def resource_config(self) -> Mapping[str, Any] | None:
        """The config of the IO manager resource, when it has one."""
        return self._resource_config

    @property
    def resources(self) -> Resources:
        """The run's resources (``resources.db``)."""
        if self._resources is None:
            self._resources = _empty_resources()
        return self._resources

    @property
    def instance(self) -> Any:
        if self._instance is None:
            raise self._missing(
                "instance", " Pass instance=... (e.g. dg.DagsterInstance.ephemeral())."
            )
        return self._instance

    @property
    def step_context(self) -> Any:
        if self._step_context is None:
            raise self._missing("step_context")
        return self._step_context

    # -- assets --
    @property
    def has_asset_key(self) -> bool:
        return self._asset_key is not None

    @property
    def asset_key(self) -> AssetKey:
        if self._asset_key is None:
            raise InvariantViolationError(
                f"Attempting to access asset_key, but no asset is associated with this {self._kind} "
                f"({self._describe()}). Check context.has_asset_key first; op outputs have no asset key."
            )
        return self._asset_key

    def _describe(self) -> str:
        return f"{self._kind} {self._name!r}" if self._name is not None else f"this {self._kind}"

    # -- partitions --
    def _spec_partitions_def(self) -> Any:
        return _NOT_GIVEN

    def _asset_is_partitioned(self) -> bool:
        if self._partitions_def is not None:
            return True
        known = self._spec_partitions_def()
        # a spec says whether the asset is partitioned; a test-built context with a key is
        return True if known is _NOT_GIVEN else known is not None

    @property
    def has_partition_key(self) -> bool:
        """Whether the run targets one partition."""
        return self._partition_key is not None

    @property
    def partition_key(self) -> str:
        """The partition key of the run."""
        if self._partition_key is None:
            if self._partition_key_range is not None:
                start, end = self._partition_key_range.start, self._partition_key_range.end
                if start == end:
                    return str(start)
            raise InvariantViolationError(
                f"Cannot access partition_key for a non-partitioned run ({self._describe()}). "
                "Check context.has_partition_key first."
            )
        return self._partition_key

    @property
    def has_asset_partitions(self) -> bool:
        """Whether the asset being stored/loaded is partitioned in this run."""
        if self._asset_key is None:
            return False
        if self._partition_key is None and self._partition_key_range is None:
            return False
        return self._asset_is_partitioned()

    def _require_asset_partitions(self, what: str) -> None:
        if not self.has_asset_partitions:
            key = self._asset_key.to_user_string() if self._asset_key is not None else None
            raise InvariantViolationError(
                f"Cannot access {what}: the {self._kind} "
                + (f"of asset {key!r} " if key else "")
                + "is not partitioned in this run. Check context.has_asset_partitions first."
            )

    @property
    def asset_partition_key(self) -> str:
        """The one partition key of the asset; an error when the run spans several."""
        self._require_asset_partitions("asset_partition_key")
        if self._partition_key is not None:
            return self._partition_key
        rng = self._partition_key_range
        if rng.start == rng.end:
            return str(rng.start)
        raise InvariantViolationError(
            f"Cannot access asset_partition_key: the run spans partitions {rng.start}..{rng.end}. "
            "Use asset_partition_keys or asset_partition_key_range instead."
        )

    @property
    def asset_partition_key_range(self) -> Any:
        """The partition key range of the asset (``start`` and ``end`` equal for one key)."""
        self._require_asset_partitions("asset_partition_key_range")
        if self._partition_key_range is not None:
            return self._partition_key_range
        assert self._partition_key is not None
        return _make_range(self._partition_key, self._partition_key)

    @property
    def asset_partition_keys(self) -> Sequence[str]:
        """Every partition key of the asset in this run."""
        self._require_asset_partitions("asset_partition_keys")
        if self._partition_keys is not None:
            return list(self._partition_keys)
        if self._partition_key is not None:
            return [self._partition_key]
        rng = self._partition_key_range
        if rng.start == rng.end:
            return [str(rng.start)]
        pdef = self._partitions_def_or_none()
        keys_in_range = getattr(pdef, "get_partition_keys_in_range", None)
        if keys_in_range is None:
            raise InvariantViolationError(
                f"Cannot list the partition keys in {rng.start}..{rng.end} without the asset's "
                "partitions definition; pass asset_partitions_def=... (or give the asset partitions_def=)."
            )
        return list(keys_in_range(rng))

    @property
    def asset_partitions_time_window(self) -> Any:
        """The time window covered by the asset's partitions (time-window partitions only)."""
        self._require_asset_partitions("asset_partitions_time_window")
        pdef = self._partitions_def_or_none()
        window_for = getattr(pdef, "time_window_for_partition_key", None)
        if window_for is None:
            raise InvariantViolationError(
                "Cannot access asset_partitions_time_window: the asset is not partitioned by time "
                "(its partitions definition has no time windows)."
            )
        rng = self.asset_partition_key_range
        first, last = window_for(rng.start), window_for(rng.end)
        return first if rng.start == rng.end else type(first)(first.start, last.end)

    @property
    def asset_partitions_def(self) -> Any:
        """The partitions definition of the asset."""
        pdef = self._partitions_def_or_none()
        if pdef is None:
            raise InvariantViolationError(
                f"Attempting to access asset_partitions_def, but the asset of this {self._kind} "
                "has no partitions definition."
            )
        return pdef

    def _partitions_def_or_none(self) -> Any:
        if self._partitions_def is not None:
            return self._partitions_def
        known = self._spec_partitions_def()
        return None if known is _NOT_GIVEN else known

    # -- events --
    def log_event(self, event: Any) -> None:
        """Record an ``AssetMaterialization`` / ``AssetObservation`` to emit with this step."""
        if self._events is None:
            self._events = []
        self._events.append(event)

    def get_logged_events(self) -> list[Any]:
        return list(self._events or ())

    def consume_logged_events(self) -> list[Any]:
        """The events logged so far, removed from the context (used by the executor)."""
        events, self._events = self._events or [], None
        return events

    # ``with build_output_context(resources=...) as ctx:`` tears its resources down at the end
    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        teardown = getattr(self._resources, "_teardown", None)
        if teardown is not None:
            self._resources._teardown = None  # type: ignore[union-attr]
            teardown()


def _make_range(start: str, end: str) -> Any:
    """``PartitionKeyRange(start, end)`` once weir exports it, else an equivalent named tuple."""
    import weir

    if "PartitionKeyRange" in weir._EXPORTS:
        factory: Any = weir.__getattr__("PartitionKeyRange")
        return factory(start, end)
    return _KeyRange(start, end)


class OutputContext(_IOContext):
    """What an IO manager's ``handle_output`` knows about the output it stores.

    Identity: ``step_key``, ``name``, ``run_id``, ``mapping_key`` (``get_identifier()``) and,
    for assets, ``asset_key`` / ``asset_spec`` (``get_asset_identifier()``, which adds the
    partition key). ``add_output_metadata`` attaches metadata (e.g. the file path) to the
    asset's materialization event.
    """

    __slots__ = (
        "_added_metadata",
        "_asset_spec",
        "_definition_metadata",
        "_mapping_key",
        "_output_metadata",
        "_run_id",
        "_step_key",
        "_version",
    )

    _kind = "output"

    def __init__(
        self,
        *,
        step_key: str | None = None,
        name: str | None = None,
        job_name: str | None = None,
        run_id: str | None = None,
        definition_metadata: Mapping[str, Any] | None = None,
        output_metadata: Mapping[str, Any] | None = None,
        mapping_key: str | None = None,
        config: Any = None,
        dagster_type: Any = _NOT_GIVEN,
        log: Any = None,
        version: str | None = None,
        resource_config: Mapping[str, Any] | None = None,
        resources: Any = None,
        op_def: Any = None,
        asset_key: AssetKey | None = None,
        asset_spec: Any = None,
        partition_key: str | None = None,
        asset_partition_key_range: Any = None,
        asset_partitions_def: Any = None,
        instance: Any = None,
        step_context: Any = None,
    ) -> None:
        self._step_key = step_key
        self._name = name
        self._job_name = job_name
        self._run_id = run_id
        self._definition_metadata = definition_metadata
        self._output_metadata = output_metadata
        self._mapping_key = mapping_key
        self._config = config
        self._dagster_type = dagster_type
        self._log = log
        self._version = version
        self._resource_config = resource_config
        self._resources = resources
        self._op_def = op_def
        self._asset_key = asset_key
        self._asset_spec = asset_spec
        self._partition_key = partition_key
        self._partition_key_range = asset_partition_key_range
        self._partition_keys = None
        self._partitions_def = asset_partitions_def
        self._instance = instance
        self._step_context = step_context
        self._added_metadata: dict[str, Any] | None = None
        self._events = None

    @property
    def step_key(self) -> str:
        """The key of the step that produced the output (``a__b`` for asset ``a/b``)."""
        if self._step_key is None:
            raise self._missing("step_key", " Pass step_key=... to build_output_context().")
        return self._step_key

    @property
    def run_id(self) -> str:
        """The id of the run that produced the output."""
        if self._run_id is None:
            raise self._missing("run_id", " Pass run_id=... to build_output_context().")
        return self._run_id

    @property
    def definition_metadata(self) -> Mapping[str, Any]:
        """Metadata declared on the asset / output definition."""
        return self._definition_metadata if self._definition_metadata is not None else {}

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Deprecated alias of :attr:`definition_metadata`."""
        return self.definition_metadata

    @property
    def output_metadata(self) -> Mapping[str, Any]:
        """Metadata attached at run time (``Output(value, metadata=...)``)."""
        return self._output_metadata if self._output_metadata is not None else {}

    @property
    def mapping_key(self) -> str | None:
        """The mapping key of a dynamic output, else ``None``."""
        return self._mapping_key

    @property
    def version(self) -> str | None:
        """The code version of the output, when known."""
        return self._version

    @property
    def asset_spec(self) -> Any:
        """The ``AssetSpec`` of the asset being stored."""
        if self._asset_spec is None:
            key = self.asset_key  # raises the no-asset error
            from weir._model.asset_spec import AssetSpec

            self._asset_spec = AssetSpec(key, partitions_def=self._partitions_def)
        return self._asset_spec

    def _spec_partitions_def(self) -> Any:
        spec = self._asset_spec
        return getattr(spec, "partitions_def", None) if spec is not None else _NOT_GIVEN

    def get_identifier(self) -> list[str]:
        """``[run_id, step_key, name]`` (plus the mapping key of a dynamic output)."""
        ident = [self.run_id, self.step_key, self.name]
        if self._mapping_key:
            ident.append(self._mapping_key)
        return ident

    def get_asset_identifier(self) -> list[str]:
        """The asset key path, plus the partition key when the asset is partitioned."""
        path = self.asset_key.path
        if self.has_asset_partitions:
            path.append(self.asset_partition_key)
        return path

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to the output; it lands on the asset's materialization event."""
        if self._added_metadata is None:
            self._added_metadata = dict(metadata)
        else:
            self._added_metadata.update(metadata)

    def get_logged_metadata(self) -> Mapping[str, Any]:
        """The metadata added with :meth:`add_output_metadata` so far."""
        return dict(self._added_metadata or {})

    def consume_output_metadata(self) -> dict[str, Any] | None:
        """The added metadata, removed from the context (the executor calls this once)."""
        md, self._added_metadata = self._added_metadata, None
        return md

    def __repr__(self) -> str:
        what = (
            f"asset_key={self._asset_key.to_user_string()!r}"
            if self._asset_key is not None
            else f"step_key={self._step_key!r}"
        )
        return f"OutputContext({what}, name={self._name!r}, run_id={self._run_id!r})"


class InputContext(_IOContext):
    """What an IO manager's ``load_input`` knows about the input it loads.

    ``upstream_output`` is the :class:`OutputContext` of the output that produced the value (for
    an asset stored by an earlier run, its ``run_id`` may be unknown). ``asset_key`` is the
    upstream asset being loaded.
    """

    __slots__ = ("_added_metadata", "_definition_metadata", "_upstream_output")

    _kind = "input"

    def __init__(
        self,
        *,
        name: str | None = None,
        job_name: str | None = None,
        op_def: Any = None,
        config: Any = None,
        definition_metadata: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        upstream_output: OutputContext | None = None,
        dagster_type: Any = _NOT_GIVEN,
        log: Any = None,
        resource_config: Mapping[str, Any] | None = None,
        resources: Any = None,
        asset_key: AssetKey | None = None,
        partition_key: str | None = None,
        asset_partition_key_range: Any = None,
        asset_partitions_def: Any = None,
        instance: Any = None,
        step_context: Any = None,
    ) -> None:
        self._name = name
        self._job_name = job_name
        self._op_def = op_def
        self._config = config
        self._definition_metadata = (
            definition_metadata if definition_metadata is not None else metadata
        )
        self._upstream_output = upstream_output
        self._dagster_type = dagster_type
        self._log = log
        self._resource_config = resource_config
        self._resources = resources
        self._asset_key = asset_key
        self._partition_key = partition_key
        self._partition_key_range = asset_partition_key_range
        self._partition_keys = None
        self._partitions_def = asset_partitions_def
        self._instance = instance
        self._step_context = step_context
        self._added_metadata: dict[str, Any] | None = None
        self._events = None
        if asset_key is None and upstream_output is not None:
            self._asset_key = upstream_output._asset_key

    @property
    def definition_metadata(self) -> Mapping[str, Any]:
        """Metadata declared on the input (``AssetIn(metadata=...)``)."""
        return self._definition_metadata if self._definition_metadata is not None else {}

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Alias of :attr:`definition_metadata`."""
        return self.definition_metadata

    @property
    def upstream_output(self) -> OutputContext | None:
        """The context of the output this input is loaded from (``None`` for unconnected inputs)."""
        return self._upstream_output

    def _spec_partitions_def(self) -> Any:
        up = self._upstream_output
        if up is None or up._asset_spec is None:
            return _NOT_GIVEN
        return getattr(up._asset_spec, "partitions_def", None)

    def get_identifier(self) -> list[str]:
        """The identifier of the upstream output (``[run_id, step_key, name(, mapping_key)]``)."""
        if self._upstream_output is None:
            raise InvariantViolationError(
                f"Cannot compute an identifier for {self._describe()}: it has no upstream_output. "
                "Pass upstream_output=build_output_context(...) to build_input_context()."
            )
        return self._upstream_output.get_identifier()

    def get_asset_identifier(self) -> list[str]:
        """The upstream asset's key path, plus the partition key when it is partitioned."""
        path = self.asset_key.path
        if self.has_asset_partitions:
            path.append(self.asset_partition_key)
        return path

    def add_input_metadata(
        self, metadata: Mapping[str, Any], description: str | None = None
    ) -> None:
        """Attach metadata about the loaded input (recorded as an observation of the asset)."""
        if self._added_metadata is None:
            self._added_metadata = dict(metadata)
        else:
            self._added_metadata.update(metadata)

    def get_logged_metadata(self) -> Mapping[str, Any]:
        return dict(self._added_metadata or {})

    def consume_input_metadata(self) -> dict[str, Any] | None:
        """The added metadata, removed from the context (the executor calls this once)."""
        md, self._added_metadata = self._added_metadata, None
        return md

    def __repr__(self) -> str:
        what = (
            f"asset_key={self._asset_key.to_user_string()!r}"
            if self._asset_key is not None
            else f"name={self._name!r}"
        )
        return f"InputContext({what})"


# -- test builders -------------------------------------------------------------------------------
