"""The context user code receives: ``AssetExecutionContext`` / ``OpExecutionContext``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from weir._execution.partition_context import PartitionAccessors, StepPartitionsView
from weir._model.asset_key import AssetCheckKey, AssetKey, CoercibleToAssetKey
from weir.errors import DefinitionError, InvariantViolationError

if TYPE_CHECKING:
    from weir._execution.run import DagsterRun
    from weir._model.assets_definition import AssetsDefinition

__all__ = ["AssetExecutionContext", "OpExecutionContext", "build_asset_context", "build_op_context"]

_user_logger = logging.getLogger("weir.user")


class RunLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """``context.log``: a logger that tags each line with the run and step.

    Every message, whatever the Python logging level, is also recorded in the run's event log
    (``instance.all_logs(run_id)``) as a plain entry of its step; Python logging (the
    ``weir.user`` logger) gets it as usual.
    """

    def __init__(
        self,
        logger: logging.Logger,
        extra: Mapping[str, Any],
        record: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(logger, extra)
        self._record = record

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self._record is not None:
            self._record_message(level, msg, args)
        super().log(level, msg, *args, **kwargs)

    def _record_message(self, level: int, msg: Any, args: tuple[Any, ...]) -> None:
        from weir._instance.records import EventLogEntry

        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):  # what logging would report as a formatting error
            text = f"{msg} {args!r}"
        extra = self.extra or {}
        entry = EventLogEntry(
            None,
            level,
            text,
            str(extra.get("run_id", "")),
            None,
            _optional_str(extra.get("step_key")),
            _optional_str(extra.get("job_name")),
        )
        assert self._record is not None
        self._record(entry)

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return (
            f"{extra.get('job_name', '')} - {extra.get('run_id', '')} - {extra.get('step_key', '')} - {msg}",
            kwargs,
        )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


class _PartitionsNotAvailable:
    pass


class OpExecutionContext(PartitionAccessors):
    """What a running step can see and do: run info, config, resources, logging, metadata."""

    __slots__ = (
        "_added_asset_metadata",
        "_added_output_metadata",
        "_assets_def",
        "_config",
        "_instance",
        "_job_name",
        "_log",
        "_log_sink",
        "_logged_events",
        "_mapping_key",
        "_partition_key",
        "_partitions",
        "_resources",
        "_retry_number",
        "_run",
        "_selected_keys",
        "_step_key",
    )

    def __init__(
        self,
        *,
        run: DagsterRun | None,
        job_name: str | None,
        step_key: str | None,
        assets_def: AssetsDefinition | None,
        selected_keys: frozenset[AssetKey] | None,
        resources: Any,
        config: Any,
        instance: Any,
        retry_number: int = 0,
        partition_key: str | None = None,
        mapping_key: str | None = None,
        log_sink: Callable[[Any], None] | None = None,
    ) -> None:
        self._mapping_key = mapping_key
        self._log_sink = log_sink
        self._run = run
        self._job_name = job_name
        self._step_key = step_key
        self._assets_def = assets_def
        self._selected_keys = selected_keys
        self._resources = resources
        self._config = config
        self._instance = instance
        self._retry_number = retry_number
        self._partition_key = partition_key
        self._partitions: StepPartitionsView | None = None  # set by the engine
        self._log: RunLog | None = None
        self._added_output_metadata: dict[str, dict[str, Any]] = {}
        self._added_asset_metadata: dict[AssetKey, dict[str, Any]] = {}
        self._logged_events: list[Any] = []

    # -- run ------------------------------------------------------------------------------------
    @property
    def log(self) -> RunLog:
        if self._log is None:
            self._log = RunLog(
                _user_logger,
                {"run_id": self.run_id, "job_name": self._job_name, "step_key": self._step_key},
                self._log_sink,
            )
        return self._log

    @property
    def run(self) -> DagsterRun:
        if self._run is None:
            raise InvariantViolationError(
                "This context was built outside of a run (build_asset_context); it has no run."
            )
        return self._run

    @property
    def dagster_run(self) -> DagsterRun:
        return self.run

    @property
    def run_id(self) -> str:
        return self._run.run_id if self._run is not None else "EPHEMERAL"

    @property
    def run_tags(self) -> Mapping[str, str]:
        return self._run.tags if self._run is not None else {}

    @property
    def run_config(self) -> Mapping[str, Any]:
        return self._run.run_config if self._run is not None else {}

    def get_tag(self, key: str) -> str | None:
        return self.run_tags.get(key)

    def has_tag(self, key: str) -> bool:
        return key in self.run_tags

    @property
    def job_name(self) -> str | None:
        return self._job_name

    @property
    def job_def(self) -> Any:
        return None

    @property
    def step_key(self) -> str | None:
        return self._step_key

    @property
    def instance(self) -> Any:
        if self._instance is None:
            from weir._instance.instance import Instance

            self._instance = Instance.ephemeral()
        return self._instance

    @property
    def resources(self) -> Any:
        return self._resources

    @property
    def op_config(self) -> Any:
        return self._config

    @property
    def retry_number(self) -> int:
        return self._retry_number

    # -- op / assets ---------------------------------------------------------------------------
    @property
    def op_def(self) -> Any:
        return self._assets_def.node_def if self._assets_def is not None else None

    @property
    def op(self) -> Any:
        return self.op_def

    @property
    def has_assets_def(self) -> bool:
        return self._assets_def is not None and self._assets_def.has_node

    @property
    def assets_def(self) -> AssetsDefinition:
        if self._assets_def is None:
            raise InvariantViolationError(
                "This step does not compute assets, so context.assets_def is not available."
            )
        return self._assets_def

    @property
    def selected_asset_keys(self) -> frozenset[AssetKey]:
        if self._selected_keys is not None:
            return self._selected_keys
        return self._assets_def.keys if self._assets_def is not None else frozenset()

    @property
    def selected_output_names(self) -> set[str]:
        if self._assets_def is None:
            return set()
        return {
            n
            for n, k in self._assets_def.keys_by_output_name.items()
            if k in self.selected_asset_keys
        }

    @property
    def selected_asset_check_keys(self) -> frozenset[AssetCheckKey]:
        return self._assets_def.check_keys if self._assets_def is not None else frozenset()

    @property
    def is_subset(self) -> bool:
        return (
            self._assets_def is not None and self.selected_asset_keys != self._assets_def.all_keys
        )

    @property
    def asset_key(self) -> AssetKey:
        keys = self.selected_asset_keys
        if len(keys) != 1:
            msg = f"context.asset_key is only defined for steps that materialize exactly one asset; this one has {len(keys)} ({sorted(k.to_user_string() for k in keys)}). Use context.selected_asset_keys."
            raise InvariantViolationError(msg)
        return next(iter(keys))

    def asset_key_for_output(self, output_name: str = "result") -> AssetKey:
        try:
            return self.assets_def.keys_by_output_name[output_name]
        except KeyError:
            msg = f"Output {output_name!r} is not an asset output of this step; outputs: {sorted(self.assets_def.keys_by_output_name)}."
            raise DefinitionError(msg) from None

    def asset_key_for_input(self, input_name: str) -> AssetKey:
        try:
            return self.assets_def.keys_by_input_name[input_name]
        except KeyError:
            msg = f"Input {input_name!r} is not an asset input of this step; inputs: {sorted(self.assets_def.keys_by_input_name)}."
            raise DefinitionError(msg) from None

    # -- metadata and events ------------------------------------------------------------------------
    def add_output_metadata(
        self,
        metadata: Mapping[str, Any],
        output_name: str | None = None,
        mapping_key: str | None = None,
    ) -> None:
        name = output_name or self._default_output_name()
        self._added_output_metadata.setdefault(name, {}).update(metadata)

    def add_asset_metadata(
        self,
        metadata: Mapping[str, Any],
        asset_key: CoercibleToAssetKey | None = None,
        partition_key: str | None = None,
    ) -> None:
        key = AssetKey.from_coercible(asset_key) if asset_key is not None else self.asset_key
        if self._assets_def is not None and key not in self._assets_def.all_keys:
            msg = f"add_asset_metadata: {key.to_user_string()!r} is not an asset of this step."
            raise DefinitionError(msg)
        self._added_asset_metadata.setdefault(key, {}).update(metadata)

    def _default_output_name(self) -> str:
        if self._assets_def is None:
            return "result"
        names = list(self._assets_def.node_def.outs) if self._assets_def.has_node else ["result"]
        if len(names) != 1:
            msg = (
                f"This step has several outputs {names}; pass output_name= to add_output_metadata."
            )
            raise DefinitionError(msg)
        return names[0]

    def log_event(self, event: Any) -> None:
        """Record an ``AssetMaterialization``, ``AssetObservation`` or ``ExpectationResult`` from user code."""
        self._logged_events.append(event)

    def get_mapping_key(self) -> str | None:
        """The mapping key of a step mapped over a dynamic output (``op[key]``), else ``None``."""
        return self._mapping_key

    @property
    def pdb(self) -> Any:
        import pdb

        return pdb.Pdb()

    # build_*_context contexts can be used in a with-block; teardown of their resources happens here
    def __enter__(self) -> OpExecutionContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self._resources, "_teardown", None)
        if close is not None:
            close()


class AssetExecutionContext(OpExecutionContext):
    """The context of an asset step (the same surface as the op context, asset-first)."""

    __slots__ = ()

    @property
    def op_execution_context(self) -> OpExecutionContext:
        return self


def _build(
    cls: type[OpExecutionContext],
    resources: Mapping[str, Any] | None,
    resources_config: Mapping[str, Any] | None,
    config: Any,
    instance: Any,
    partition_key: str | None,
    run_tags: Mapping[str, str] | None,
    mapping_key: str | None = None,
) -> OpExecutionContext:
    from weir._execution.run import DagsterRun

    live: Any = None
    if resources:
        from contextlib import ExitStack

        from weir._config.resources import initialize_resources

        stack = ExitStack()
        live = stack.enter_context(
            initialize_resources(
                resources,
                list(resources),
                instance=instance,
                run_id="EPHEMERAL",
                resources_config=resources_config,
            )
        )
        try:
            live._teardown = stack.close
        except AttributeError:  # a Resources object without a teardown slot: close at exit instead
            import atexit

            atexit.register(stack.close)
    else:
        from weir._config.resources import Resources

        live = Resources({})
    run = DagsterRun(run_id="EPHEMERAL", job_name="__ephemeral__", tags=run_tags)
    return cls(
        run=run,
        job_name=None,
        step_key=None,
        assets_def=None,
        selected_keys=None,
        resources=live,
        config=config,
        instance=instance,
        partition_key=partition_key,
        mapping_key=mapping_key,
    )


def build_asset_context(
    resources: Mapping[str, Any] | None = None,
    resources_config: Mapping[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    run_tags: Mapping[str, str] | None = None,
) -> AssetExecutionContext:
    """A context for calling an asset function directly in a unit test."""
    ctx = _build(
        AssetExecutionContext,
        resources,
        resources_config,
        asset_config,
        instance,
        partition_key,
        run_tags,
    )
    assert isinstance(ctx, AssetExecutionContext)
    return ctx


def build_op_context(
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    resources_config: Mapping[str, Any] | None = None,
    instance: Any = None,
    config: Any = None,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    mapping_key: str | None = None,
    run_tags: Mapping[str, str] | None = None,
    event_loop: Any = None,
) -> OpExecutionContext:
    """A context for calling an op function directly in a unit test."""
    return _build(
        OpExecutionContext,
        resources,
        resources_config,
        op_config if op_config is not None else config,
        instance,
        partition_key,
        run_tags,
        mapping_key=mapping_key,
    )
