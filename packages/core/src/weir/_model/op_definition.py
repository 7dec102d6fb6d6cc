"""``OpDefinition``: a named unit of computation with inputs and outputs.

Every asset definition is backed by one op (its ``node_def``). The ``@op`` decorator, graphs and
op jobs build on this module in the ops issue; assets use it already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir._model.asset_in_out import NO_TYPE
from weir._model.compute_fn import ComputeFnInfo
from weir.errors import DefinitionError

__all__ = ["InputDefinition", "OpDefinition", "OutputDefinition", "PendingNodeInvocation"]


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

    __slots__ = (
        "__weakref__",
        "code_version",
        "compute_fn",
        "config_schema",
        "description",
        "fn_info",
        "ins",
        "name",
        "outs",
        "pool",
        "required_resource_keys",
        "retry_policy",
        "tags",
    )

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

    # -- composition --------------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        return list(self.ins)

    @property
    def output_names(self) -> list[str]:
        return list(self.outs)

    @property
    def dynamic_output_names(self) -> list[str]:
        return [n for n, o in self.outs.items() if o.is_dynamic]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside ``@graph``/``@job``: record an invocation. Elsewhere: run the function (unit tests)."""
        from weir._model.composition import in_composition, invoke_in_composition

        if in_composition():
            return invoke_in_composition(self, args, kwargs)
        from weir._execution.invocation import invoke_op

        return invoke_op(self, args, kwargs)

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, alias=name)

    def tag(self, tags: Mapping[str, Any]) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, tags=tags)

    def with_hooks(self, hook_defs: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, hook_defs=hook_defs)

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, retry_policy=retry_policy)

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


class PendingNodeInvocation:
    """An op or graph with an alias, tags, hooks or a retry policy, about to be invoked in a graph body."""

    def __init__(
        self,
        definition: Any,
        *,
        alias: str | None = None,
        tags: Mapping[str, Any] | None = None,
        hook_defs: Any = None,
        retry_policy: Any = None,
    ) -> None:
        self.definition = definition
        self._alias = alias
        self._tags = dict(tags or {})
        self._hooks = frozenset(hook_defs or ())
        self._retry_policy = retry_policy

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(
            self.definition,
            alias=name,
            tags=self._tags,
            hook_defs=self._hooks,
            retry_policy=self._retry_policy,
        )

    def tag(self, tags: Mapping[str, Any]) -> PendingNodeInvocation:
        return PendingNodeInvocation(
            self.definition,
            alias=self._alias,
            tags={**self._tags, **tags},
            hook_defs=self._hooks,
            retry_policy=self._retry_policy,
        )

    def with_hooks(self, hook_defs: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(
            self.definition,
            alias=self._alias,
            tags=self._tags,
            hook_defs=self._hooks | set(hook_defs),
            retry_policy=self._retry_policy,
        )

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(
            self.definition,
            alias=self._alias,
            tags=self._tags,
            hook_defs=self._hooks,
            retry_policy=retry_policy,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from weir._model.composition import in_composition, invoke_in_composition

        if not in_composition():
            msg = f"{self.definition!r} with an alias/tags/hooks can only be invoked inside a @graph or @job body."
            raise DefinitionError(msg)
        return invoke_in_composition(
            self.definition,
            args,
            kwargs,
            alias=self._alias,
            tags=self._tags,
            hook_defs=self._hooks,
            retry_policy=self._retry_policy,
        )
