"""Type checks of step inputs and outputs, as the engine runs them.

The engine hands over whatever an input or output declares: a raw annotation (``int``,
``list[str]``, a class), a ``DagsterType`` from ``In``/``Out``/``@asset(dagster_type=...)``,
``None`` (no value: ``Nothing``) or "not given" (``Any``). Each maps to a
:class:`~weir._model.dagster_type.DagsterType` once (cached), so a check of a plain ``int`` costs
a dict lookup and an ``isinstance``.

``type_check`` and ``display_name`` are the engine's original pair; ``run_type_check`` also
returns the check's metadata and accepts a :class:`TypeCheckContext` (run id, log, resources).
"""

from __future__ import annotations

import inspect
from typing import Any

from weir._model.asset_in_out import NO_TYPE
from weir._model.dagster_type import Any as AnyType
from weir._model.dagster_type import (
    DagsterType,
    TypeCheck,
    TypeCheckContext,
    TypeCheckFunctionError,
    resolve_dagster_type,
)
from weir.errors import WeirError

__all__ = ["display_name", "is_nothing", "resolve_type", "run_type_check", "type_check"]

_DEFAULT_CONTEXT = TypeCheckContext()


def resolve_type(ann: Any) -> DagsterType:
    """The ``DagsterType`` for what an input or output declares (``Any`` when nothing is).

    Raises ``DefinitionError`` for a value that is not a type (call it at definition time to
    report bad ``dagster_type=`` arguments early).
    """
    if isinstance(ann, DagsterType):
        return ann
    if ann is NO_TYPE or ann is inspect.Parameter.empty:
        return AnyType
    return resolve_dagster_type(ann)


def display_name(ann: Any) -> str:
    """How the type of ``ann`` is shown in events: ``Int``, ``[String]``, ``Int?``, ``MyClass``."""
    return resolve_type(ann).display_name


def is_nothing(ann: Any) -> bool:
    """Whether ``ann`` declares no value (``None``, ``Nothing`` or an ``ObserveResult``)."""
    return ann is None or resolve_type(ann).is_nothing


def run_type_check(
    ann: Any,
    value: Any,
    context: TypeCheckContext | None = None,
    *,
    label: str | None = None,
) -> TypeCheck:
    """Check ``value`` against ``ann``; the :class:`TypeCheck` (with its metadata).

    ``label`` names what is checked in the error raised when the check function itself fails,
    e.g. ``'output "result" of op "scaled"'``. A weir error raised by the check (such as
    ``Failure``) propagates unchanged; any other exception is wrapped in
    :class:`TypeCheckFunctionError` (alias ``DagsterTypeCheckError``) naming the type, with
    the original as ``user_exception`` and ``__cause__``.
    """
    dagster_type = ann if type(ann) is DagsterType else resolve_type(ann)
    try:
        if context is None:
            return dagster_type.type_check(_DEFAULT_CONTEXT, value)
        if context.dagster_type is not dagster_type and not dagster_type.is_builtin:
            context = context.for_type(dagster_type)  # built-in checks never read the context
        return dagster_type.type_check(context, value)
    except WeirError:
        raise
    except Exception as exc:
        what = label or "a value"
        msg = (
            f"Error occurred while type-checking {what}, with Python type {type(value)} and Dagster "
            f"type {dagster_type.display_name}: {type(exc).__name__}: {exc}. Fix the type check "
            f'function of "{dagster_type.display_name}": it must return a bool or a TypeCheck, not raise.'
        )
        raise TypeCheckFunctionError(msg, user_exception=exc) from exc


def type_check(ann: Any, value: Any) -> tuple[bool, str | None]:
    """``(passed, description)`` for ``value`` against ``ann`` (see :func:`run_type_check`)."""
    outcome = run_type_check(ann, value)
    return outcome.success, outcome.description
