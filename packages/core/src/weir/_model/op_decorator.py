"""``@op``, ``In``, ``Out`` and ``DynamicOut``: ops as plain computations for op jobs and graphs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from weir._model.asset_in_out import NO_TYPE
from weir._model.asset_key import check_valid_name
from weir._model.compute_fn import analyze_compute_fn
from weir._model.op_definition import InputDefinition, OpDefinition, OutputDefinition
from weir.errors import DefinitionError

__all__ = ["DynamicOut", "In", "Out", "op"]


class In:
    """Describes one input of an op: type, default value, metadata and input manager."""

    __slots__ = (
        "asset_key",
        "asset_partitions",
        "dagster_type",
        "default_value",
        "description",
        "input_manager_key",
        "metadata",
    )

    def __init__(
        self,
        dagster_type: Any = NO_TYPE,
        description: str | None = None,
        default_value: Any = NO_TYPE,
        metadata: Mapping[str, Any] | None = None,
        asset_key: Any = None,
        asset_partitions: Any = None,
        input_manager_key: str | None = None,
    ) -> None:
        self.dagster_type = dagster_type
        self.description = description
        self.default_value = default_value
        self.metadata = dict(metadata or {})
        self.asset_key = asset_key
        self.asset_partitions = asset_partitions
        self.input_manager_key = input_manager_key

    def __repr__(self) -> str:
        return f"In(dagster_type={self.dagster_type!r})"


class Out:
    """Describes one output of an op: type, whether it must be emitted, and its IO manager."""

    __slots__ = (
        "code_version",
        "dagster_type",
        "description",
        "io_manager_key",
        "is_required",
        "metadata",
    )

    is_dynamic = False

    def __init__(
        self,
        dagster_type: Any = NO_TYPE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        code_version: str | None = None,
    ) -> None:
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})
        self.code_version = code_version

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dagster_type={self.dagster_type!r})"


class DynamicOut(Out):
    """An output that yields any number of ``DynamicOutput(value, mapping_key)`` values."""

    __slots__ = ()
    is_dynamic = True


def _is_nothing(tp: Any) -> bool:
    return tp is None or getattr(tp, "display_name", None) == "Nothing"


@overload
def op(compute_fn: Callable[..., Any]) -> OpDefinition: ...


@overload
def op(
    compute_fn: None = None,
    *,
    name: str | None = ...,
    description: str | None = ...,
    ins: Mapping[str, In] | None = ...,
    out: Out | Mapping[str, Out] | None = ...,
    config_schema: Any = ...,
    required_resource_keys: Iterable[str] | None = ...,
    tags: Mapping[str, Any] | None = ...,
    version: str | None = ...,
    retry_policy: Any = ...,
    code_version: str | None = ...,
    pool: str | None = ...,
) -> Callable[[Callable[..., Any]], OpDefinition]: ...


def op(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    version: str | None = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    pool: str | None = None,
) -> OpDefinition | Callable[[Callable[..., Any]], OpDefinition]:
    """Declare an op: a computation whose parameters are inputs and whose return value is its output.

    >>> import weir as dg
    >>> @dg.op
    ... def add_one(x: int) -> int:
    ...     return x + 1
    """

    def inner(fn: Callable[..., Any]) -> OpDefinition:
        op_name = check_valid_name(name or fn.__name__, "Op name")
        what = f"@op {op_name!r}"
        info = analyze_compute_fn(fn, what=what)
        given_ins = dict(ins or {})
        unknown = {
            n
            for n in set(given_ins) - set(info.input_params)
            if not _is_nothing(given_ins[n].dagster_type)
        }  # In(Nothing) inputs order the op after another and are not function parameters
        if unknown and not _accepts_kwargs(fn):
            msg = f"{what}: ins= names {sorted(unknown)}, which are not parameters of the function (inputs: {info.input_params})."
            raise DefinitionError(msg)
        input_defs: dict[str, InputDefinition] = {}
        for param in [*info.input_params, *(n for n in given_ins if n not in info.input_params)]:
            spec = given_ins.get(param)
            dagster_type = spec.dagster_type if spec is not None else NO_TYPE
            if dagster_type is NO_TYPE and param in info.input_annotations:
                dagster_type = info.input_annotations[param]
            default = spec.default_value if spec is not None else NO_TYPE
            if default is NO_TYPE and param in info.input_defaults:
                default = info.input_defaults[param]
            input_defs[param] = InputDefinition(
                param,
                dagster_type=dagster_type,
                description=spec.description if spec is not None else None,
                metadata=spec.metadata if spec is not None else None,
                input_manager_key=spec.input_manager_key if spec is not None else None,
                asset_key=spec.asset_key if spec is not None else None,
                default_value=default,
            )
        outs: dict[str, OutputDefinition] = {}
        if out is None or isinstance(out, Out):
            single = out if isinstance(out, Out) else Out()
            dagster_type = single.dagster_type
            if dagster_type is NO_TYPE:
                dagster_type = None if info.returns_nothing else info.return_annotation
            outs["result"] = _output_def("result", single, dagster_type)
        elif isinstance(out, Mapping):
            if not out:
                raise DefinitionError(
                    f"{what}: out= is an empty mapping; omit it for a single output."
                )
            for out_name, spec_out in out.items():
                check_valid_name(out_name, f"{what}: output name")
                outs[out_name] = _output_def(out_name, spec_out, spec_out.dagster_type)
        else:
            msg = f"{what}: out= must be an Out, a DynamicOut or a dict of them; got {type(out).__name__}."
            raise DefinitionError(msg)
        keys = set(required_resource_keys or ())
        return OpDefinition(
            name=op_name,
            compute_fn=fn,
            fn_info=info,
            ins=input_defs,
            outs=outs,
            description=description or _doc(fn),
            config_schema=config_schema,
            required_resource_keys=frozenset(keys | set(info.resource_params)),
            tags=tags,
            retry_policy=retry_policy,
            code_version=code_version or version,
            pool=pool,
        )

    if compute_fn is not None:
        return inner(compute_fn)
    return inner


def _output_def(name: str, spec: Out, dagster_type: Any) -> OutputDefinition:
    return OutputDefinition(
        name,
        dagster_type=None if _is_nothing(dagster_type) else dagster_type,
        description=spec.description,
        is_required=spec.is_required,
        io_manager_key=spec.io_manager_key,
        metadata=spec.metadata,
        code_version=spec.code_version,
        is_dynamic=spec.is_dynamic,
    )


def _accepts_kwargs(fn: Callable[..., Any]) -> bool:
    code = getattr(fn, "__code__", None)
    return bool(code is not None and code.co_flags & 0x08)


def _doc(fn: Callable[..., Any]) -> str | None:
    import inspect

    return inspect.cleandoc(fn.__doc__) if fn.__doc__ else None
