"""Hooks: functions that run after a step succeeds (``@success_hook``) or fails (``@failure_hook``).

Attach them with ``hooks={...}`` on ``@asset``/``@multi_asset`` or on a job
(``define_asset_job(hooks=...)``, ``@job(hooks=...)``). They run after each attempt of each step
they are attached to and emit ``HOOK_COMPLETED`` (ran), ``HOOK_SKIPPED`` (its trigger did not
match: a success hook after a failure, or after an attempt that goes up for retry) or
``HOOK_ERRORED`` (it raised). A hook that raises never fails the run.

>>> import weir as dg
>>> seen = []
>>> @dg.failure_hook
... def alert(context: dg.HookContext):
...     seen.append(context.op_exception)
>>> alert(dg.build_hook_context(op_exception=ValueError("boom")))
>>> seen
[ValueError('boom')]
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from weir.errors import DefinitionError, InvariantViolationError, UserCodeExecutionError

__all__ = [
    "HookContext",
    "HookDefinition",
    "HookErroredData",
    "HookExecutionError",
    "HookExecutionResult",
    "build_hook_context",
    "failure_hook",
    "sorted_hooks",
    "success_hook",
    "trigger_hooks",
]

logger = logging.getLogger(__name__)


class HookExecutionResult:
    """What running a hook's trigger function produced: whether the hook was skipped."""

    __slots__ = ("hook_name", "is_skipped")

    def __init__(self, hook_name: str, is_skipped: bool = False) -> None:
        self.hook_name = hook_name
        self.is_skipped = is_skipped

    def __repr__(self) -> str:
        return f"HookExecutionResult(hook_name={self.hook_name!r}, is_skipped={self.is_skipped})"


class HookExecutionError(UserCodeExecutionError):
    """A hook function raised; the run carries on and a ``HOOK_ERRORED`` event records it."""


class HookErroredData:
    """The payload of a ``HOOK_ERRORED`` event: the error the hook raised."""

    __slots__ = ("error",)

    def __init__(self, error: Any) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"HookErroredData(error={self.error!r})"


class HookDefinition:
    """A named hook: ``hook_fn(context, step_events)`` decides whether to run and runs.

    Built by :func:`success_hook` / :func:`failure_hook`. Calling the definition with a
    ``HookContext`` runs the decorated function directly (for tests); calling it with a job or
    graph attaches the hook to it (``my_hook(my_job)``).
    """

    __slots__ = ("decorated_fn", "hook_fn", "name", "required_resource_keys")

    def __init__(
        self,
        *,
        name: str,
        hook_fn: Callable[..., Any],
        required_resource_keys: Iterable[str] | None = None,
        decorated_fn: Callable[..., Any] | None = None,
    ) -> None:
        if not callable(hook_fn):
            msg = f"HookDefinition {name!r}: hook_fn must be callable, got {hook_fn!r}."
            raise DefinitionError(msg)
        if isinstance(required_resource_keys, str):
            msg = (
                f"HookDefinition {name!r}: required_resource_keys must be a set of str, not a str."
            )
            raise DefinitionError(msg)
        self.name = name
        self.hook_fn = hook_fn
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.decorated_fn = decorated_fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and not isinstance(args[0], HookContext):
            target = args[0]
            with_hooks = getattr(target, "with_hooks", None)
            if with_hooks is not None:
                return with_hooks({self})
        context = args[0] if args else kwargs.pop("context", None)
        if not isinstance(context, HookContext):
            msg = (
                f"Hook {self.name!r} was called with {context!r}; call it with a HookContext "
                "(build_hook_context(...)) to run it, or with a job to attach it."
            )
            raise InvariantViolationError(msg)
        fn = self.decorated_fn
        if fn is None:
            return self.hook_fn(context, *args[1:], **kwargs)
        return fn(context)

    def __repr__(self) -> str:
        return f"HookDefinition({self.name!r})"


class HookContext:
    """What a hook function sees: the step that triggered it, its config, error and outputs.

    ``op_exception`` is the exception of a failed step (for a step that exhausted its
    ``RetryPolicy``: the error of the last attempt); ``op_output_values`` maps output names to the
    values the step produced.
    """

    __slots__ = (
        "_hook_def",
        "_instance",
        "_job_name",
        "_log",
        "_op",
        "_op_config",
        "_op_exception",
        "_op_output_values",
        "_resources",
        "_run_id",
        "_step_key",
    )

    def __init__(
        self,
        *,
        hook_def: HookDefinition | None = None,
        step_key: str | None = None,
        op: Any = None,
        op_config: Any = None,
        op_exception: BaseException | None = None,
        op_output_values: Mapping[str, Any] | None = None,
        resources: Any = None,
        instance: Any = None,
        run_id: str | None = None,
        job_name: str | None = None,
    ) -> None:
        self._hook_def = hook_def
        self._step_key = step_key
        self._op = op
        self._op_config = op_config
        self._op_exception = op_exception
        self._op_output_values = dict(op_output_values or {})
        self._resources = resources
        self._instance = instance
        self._run_id = run_id
        self._job_name = job_name
        self._log: Any = None

    def _required(self, value: Any, attribute: str, param: str) -> Any:
        if value is None:
            msg = (
                f"HookContext.{attribute} is not set: this context was built by build_hook_context "
                f"without {param}=. Pass {param}=... to build_hook_context."
            )
            raise InvariantViolationError(msg)
        return value

    @property
    def hook_def(self) -> HookDefinition:
        return self._required(self._hook_def, "hook_def", "hook_def")  # type: ignore[no-any-return]

    @property
    def op(self) -> Any:
        return self._required(self._op, "op", "op")

    @property
    def step_key(self) -> str:
        return self._required(self._step_key, "step_key", "op")  # type: ignore[no-any-return]

    @property
    def job_name(self) -> str | None:
        return self._job_name

    @property
    def run_id(self) -> str | None:
        return self._run_id

    @property
    def required_resource_keys(self) -> frozenset[str]:
        return self._hook_def.required_resource_keys if self._hook_def is not None else frozenset()

    @property
    def resources(self) -> Any:
        if self._resources is None:
            from weir._config.resources import Resources

            self._resources = Resources({})
        return self._resources

    @property
    def op_config(self) -> Any:
        return self._op_config

    @property
    def op_exception(self) -> BaseException | None:
        return self._op_exception

    @property
    def op_output_values(self) -> dict[str, Any]:
        return self._op_output_values

    @property
    def instance(self) -> Any:
        if self._instance is None:
            from weir._instance.instance import Instance

            self._instance = Instance.ephemeral()
        return self._instance

    @property
    def log(self) -> Any:
        if self._log is None:
            from weir._execution.context import RunLog

            self._log = RunLog(
                logging.getLogger("weir.user"),
                {"run_id": self._run_id, "job_name": self._job_name, "step_key": self._step_key},
            )
        return self._log

    def __enter__(self) -> HookContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self._resources, "_teardown", None)
        if close is not None:
            close()

    def __repr__(self) -> str:
        name = self._hook_def.name if self._hook_def is not None else None
        return f"HookContext(hook={name!r}, step_key={self._step_key!r})"


def build_hook_context(
    resources: Mapping[str, Any] | None = None,
    op: Any = None,
    run_id: str | None = None,
    job_name: str | None = None,
    op_exception: BaseException | None = None,
    instance: Any = None,
) -> HookContext:
    """A ``HookContext`` for calling a hook function directly in a unit test.

    ``resources`` are initialised (use the context in a ``with`` block to tear them down).
    """
    live: Any = None
    if resources:
        from contextlib import ExitStack

        from weir._config.resources import initialize_resources

        stack = ExitStack()
        live = stack.enter_context(
            initialize_resources(resources, list(resources), instance=instance, run_id=run_id)
        )
        live._teardown = stack.close
    return HookContext(
        op=op,
        step_key=getattr(op, "name", None),
        resources=live,
        instance=instance,
        run_id=run_id,
        job_name=job_name,
        op_exception=op_exception,
    )


def _make_hook(kind: str, fn: Callable[..., Any], name: str | None, keys: Any) -> HookDefinition:
    if not callable(fn):
        msg = f"@{kind} must decorate a function, got {fn!r}."
        raise DefinitionError(msg)
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) != 1:
        msg = (
            f"@{kind} {getattr(fn, '__name__', fn)!r} must take exactly one positional parameter, the "
            f"HookContext (it takes {[p.name for p in params]})."
        )
        raise DefinitionError(msg)
    wanted = "STEP_SUCCESS" if kind == "success_hook" else "STEP_FAILURE"
    hook_name = name or fn.__name__

    def hook_fn(context: HookContext, step_events: Sequence[Any]) -> HookExecutionResult:
        for event in step_events:
            if event.event_type_value == wanted:
                fn(context)
                return HookExecutionResult(hook_name, is_skipped=False)
        return HookExecutionResult(hook_name, is_skipped=True)

    return HookDefinition(
        name=hook_name, hook_fn=hook_fn, required_resource_keys=keys, decorated_fn=fn
    )


@overload
def success_hook(hook_fn: Callable[..., Any]) -> HookDefinition: ...
@overload
def success_hook(
    hook_fn: None = None,
    *,
    name: str | None = ...,
    required_resource_keys: Iterable[str] | None = ...,
) -> Callable[[Callable[..., Any]], HookDefinition]: ...
def success_hook(
    hook_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
) -> HookDefinition | Callable[[Callable[..., Any]], HookDefinition]:
    """A hook that runs after a step succeeds: ``def notify(context: HookContext): ...``."""
    if hook_fn is not None:
        return _make_hook("success_hook", hook_fn, name, required_resource_keys)
    return lambda fn: _make_hook("success_hook", fn, name, required_resource_keys)


@overload
def failure_hook(hook_fn: Callable[..., Any]) -> HookDefinition: ...
@overload
def failure_hook(
    hook_fn: None = None,
    *,
    name: str | None = ...,
    required_resource_keys: Iterable[str] | None = ...,
) -> Callable[[Callable[..., Any]], HookDefinition]: ...
def failure_hook(
    hook_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
) -> HookDefinition | Callable[[Callable[..., Any]], HookDefinition]:
    """A hook that runs after a step fails (``context.op_exception`` is the error)."""
    if hook_fn is not None:
        return _make_hook("failure_hook", hook_fn, name, required_resource_keys)
    return lambda fn: _make_hook("failure_hook", fn, name, required_resource_keys)


def sorted_hooks(*groups: Iterable[HookDefinition]) -> list[HookDefinition]:
    """The hooks of several groups, each once, in a stable order (by name)."""
    seen: dict[int, HookDefinition] = {}
    for group in groups:
        for hook in group:
            seen.setdefault(id(hook), hook)
    return sorted(seen.values(), key=lambda h: h.name)


def trigger_hooks(
    hooks: Sequence[HookDefinition],
    step_events: Sequence[Any],
    make_context: Callable[[HookDefinition], HookContext],
    emit: Callable[[str, str, Any], Any],
    op_name: str,
) -> None:
    """Run ``hooks`` after one attempt of a step whose events were ``step_events``.

    ``emit(event_type_value, message, data)`` records the hook's outcome. A hook that raises is
    logged and recorded as ``HOOK_ERRORED``; it never propagates.
    """
    from weir._execution.events import SerializableErrorInfo

    for hook in hooks:
        context = make_context(hook)
        try:
            result = hook.hook_fn(context, step_events)
        except Exception as exc:
            error = HookExecutionError(
                f'Error occurred during the execution of hook_fn triggered for op "{op_name}"',
                user_exception=exc,
            )
            error.__cause__ = exc
            logger.warning("Hook %r raised %s: %s", hook.name, type(exc).__name__, exc)
            emit(
                "HOOK_ERRORED",
                f"{error} (hook {hook.name!r}): {type(exc).__name__}: {exc}",
                HookErroredData(SerializableErrorInfo.from_exception(exc)),
            )
            continue
        if isinstance(result, HookExecutionResult) and result.is_skipped:
            emit(
                "HOOK_SKIPPED",
                f'Skipped the execution of hook "{hook.name}". It did not meet its triggering '
                f'condition during the execution of "{op_name}".',
                None,
            )
        else:
            emit(
                "HOOK_COMPLETED",
                f'Finished the execution of hook "{hook.name}" triggered for "{op_name}".',
                None,
            )
