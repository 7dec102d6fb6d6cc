"""``AssetCheckExecutionContext``: the context an asset check function receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from weir._execution.context import OpExecutionContext, _build
from weir._model.asset_key import AssetCheckKey

__all__ = ["AssetCheckExecutionContext", "bind_check_context", "build_asset_check_context"]


class AssetCheckExecutionContext(OpExecutionContext):
    """What a running asset check sees: run info, resources, config, logging, and which checks
    this step evaluates (``selected_asset_check_keys`` / ``check_specs``).

    ``op_execution_context`` returns the context itself, so code written against Dagster's
    wrapper (``context.op_execution_context.asset_key_for_input(...)``) works unchanged.
    """

    __slots__ = ("_check_specs",)

    def __init__(self, *, check_specs: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check_specs = tuple(check_specs)

    @property
    def op_execution_context(self) -> OpExecutionContext:
        return self

    @property
    def check_specs(self) -> list[Any]:
        """The specs of the checks this step evaluates."""
        return list(self._check_specs)

    @property
    def selected_asset_check_keys(self) -> frozenset[AssetCheckKey]:
        if self._check_specs:
            return frozenset(spec.key for spec in self._check_specs)
        return super().selected_asset_check_keys


def bind_check_context(
    context: AssetCheckExecutionContext, check_def: Any
) -> AssetCheckExecutionContext:
    """``context`` (from :func:`build_asset_check_context`) bound to ``check_def`` for a direct call."""
    if context._check_specs:
        return context
    bound = AssetCheckExecutionContext(
        check_specs=check_def.check_specs,
        run=context._run,
        job_name=context._job_name,
        step_key=check_def.node_def.name,
        assets_def=check_def,
        selected_keys=frozenset(),
        resources=context._resources,
        config=context._config,
        instance=context._instance,
        retry_number=context._retry_number,
        partition_key=context._partition_key,
    )
    return bound


def build_asset_check_context(
    resources: Mapping[str, Any] | None = None,
    resources_config: Mapping[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
) -> AssetCheckExecutionContext:
    """A context for calling an asset check function directly in a unit test.

    ``resources`` are initialised; use the context in a ``with`` block to tear them down.
    """
    ctx = _build(
        AssetCheckExecutionContext, resources, resources_config, asset_config, instance, None, None
    )
    assert isinstance(ctx, AssetCheckExecutionContext)
    return ctx
