"""``OpDefinition``: a named unit of computation with inputs and outputs.

Every asset definition is backed by one op (its ``node_def``). The ``@op`` decorator, graphs and
op jobs build on this module in the ops issue; assets use it already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir._model.asset_in_out import NO_TYPE
from weir._model.compute_fn import ComputeFnInfo

__all__ = ["InputDefinition", "OpDefinition", "OutputDefinition"]


class InputDefinition:
    """One input of an op: a name, an optional type, metadata and the input manager to load it."""

    __slots__ = (
        "asset_key",
        "dagster_type",
        "default_value",
        "description",
        "input_manager_key",
        "metadata",
        "name",
    )

    def __init__(
        self,
        name: str,
        *,
        dagster_type: Any = NO_TYPE,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        input_manager_key: str | None = None,
        asset_key: Any = None,
        default_value: Any = NO_TYPE,
    ) -> None:
        self.name = name
        self.dagster_type = dagster_type
        self.description = description
        self.metadata = dict(metadata or {})
        self.input_manager_key = input_manager_key
        self.asset_key = asset_key
        self.default_value = default_value

    def __repr__(self) -> str:
        return f"InputDefinition({self.name!r})"


class OutputDefinition:
    """One output of an op: a name, a type, whether it must be emitted and its IO manager."""

    __slots__ = (
        "code_version",
        "dagster_type",
        "description",
        "io_manager_key",
        "is_dynamic",
        "is_required",
        "metadata",
        "name",
    )

    def __init__(
        self,
        name: str = "result",
        *,
        dagster_type: Any = NO_TYPE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        code_version: str | None = None,
        is_dynamic: bool = False,
    ) -> None:
        self.name = name
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key or "io_manager"
        self.metadata = dict(metadata or {})
        self.code_version = code_version
        self.is_dynamic = is_dynamic

    def __repr__(self) -> str:
        return f"OutputDefinition({self.name!r}, io_manager_key={self.io_manager_key!r})"


class OpDefinition:
    """A named computation. ``compute_fn`` is the user's function; ``fn_info`` says what its params are."""

    def __init__(
        self,
        *,
        name: str,
        compute_fn: Callable[..., Any] | None,
        fn_info: ComputeFnInfo | None,
        ins: Mapping[str, InputDefinition],
        outs: Mapping[str, OutputDefinition],
        description: str | None = None,
        config_schema: Any = None,
        required_resource_keys: frozenset[str] = frozenset(),
        tags: Mapping[str, Any] | None = None,
        retry_policy: Any = None,
        code_version: str | None = None,
        pool: str | None = None,
    ) -> None:
        self.name = name
        self.compute_fn = compute_fn
        self.fn_info = fn_info
        self.ins = dict(ins)
        self.outs = dict(outs)
        self.description = description
        self.config_schema = config_schema
        self.required_resource_keys = frozenset(required_resource_keys)
        self.tags = dict(tags or {})
        self.retry_policy = retry_policy
        self.code_version = code_version
        self.pool = pool

    @property
    def input_defs(self) -> list[InputDefinition]:
        return list(self.ins.values())

    @property
    def output_defs(self) -> list[OutputDefinition]:
        return list(self.outs.values())

    @property
    def output_dict(self) -> dict[str, OutputDefinition]:
        return self.outs

    @property
    def input_dict(self) -> dict[str, InputDefinition]:
        return self.ins

    def with_name(self, name: str) -> OpDefinition:
        return OpDefinition(
            name=name,
            compute_fn=self.compute_fn,
            fn_info=self.fn_info,
            ins=self.ins,
            outs=self.outs,
            description=self.description,
            config_schema=self.config_schema,
            required_resource_keys=self.required_resource_keys,
            tags=self.tags,
            retry_policy=self.retry_policy,
            code_version=self.code_version,
            pool=self.pool,
        )

    def __repr__(self) -> str:
        return f"OpDefinition({self.name!r})"
