"""Retrying failed steps and failing them on purpose: ``RetryPolicy``, ``RetryRequested``, ``Failure``.

- :class:`RetryPolicy` (with :class:`Backoff` and :class:`Jitter`) is declared on an asset, op or
  check (``retry_policy=``) or for a whole job (``op_retry_policy=``); when user code raises, the step
  goes up for retry until ``max_retries`` retries were made.
- :class:`RetryRequested` is raised by user code to ask for a retry explicitly (no policy needed).
- :class:`Failure` fails a step on purpose, with a description and metadata that end up in the
  step's failure event (``result.failure_data_for_node(...).user_failure_data``).

The engine asks :func:`retry_request_for` whether a failed attempt should be retried; both the
asset engine and the op engine use it, so the rules live in one place.

Waiting times follow Dagster: ``LINEAR`` waits ``attempt * delay``, ``EXPONENTIAL`` waits
``(2 ** attempt - 1) * delay``; ``FULL`` jitter scales that by ``random()``, ``PLUS_MINUS`` jitter
adds a uniform offset in ``[-delay, +delay]``. ``attempt`` is 1 for the first retry.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from typing import Any

from weir.errors import DefinitionError, ExecutionError

__all__ = [
    "Backoff",
    "DagsterMaxRetriesExceededError",
    "Failure",
    "Jitter",
    "MaxRetriesExceededError",
    "RetryPolicy",
    "RetryRequested",
    "RetryRequestedFromPolicy",
    "StepRetryData",
    "UserFailureData",
    "retry_request_for",
]


class Backoff(enum.Enum):
    """How the wait grows with the retry number: ``LINEAR`` (``n * delay``) or ``EXPONENTIAL``
    (``(2 ** n - 1) * delay``)."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(enum.Enum):
    """Randomness added to the wait after backoff: ``FULL`` (``random() * wait``) or ``PLUS_MINUS``
    (``wait`` plus a uniform offset in ``[-delay, +delay]``)."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


def calculate_delay(
    attempt_num: int, backoff: Backoff | None, jitter: Jitter | None, base_delay: float
) -> float:
    """Seconds to wait before retry number ``attempt_num`` (1 for the first retry)."""
    if backoff is Backoff.EXPONENTIAL:
        wait = ((2**attempt_num) - 1) * base_delay
    elif backoff is Backoff.LINEAR:
        wait = attempt_num * base_delay
    else:
        wait = base_delay
    if jitter is Jitter.FULL:
        wait = random.random() * wait
    elif jitter is Jitter.PLUS_MINUS:
        wait = wait + (2 * random.random() * base_delay) - base_delay
    return wait


class RetryPolicy:
    """Retry a step whose user code raised, up to ``max_retries`` times.

    ``delay`` is the base wait in seconds (``None``: retry at once); ``backoff`` and ``jitter``
    need a ``delay``.

    >>> import weir as dg
    >>> policy = dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL)
    >>> [policy.calculate_delay(n) for n in (1, 2, 3)]
    [1, 3, 7]
    """

    __slots__ = ("backoff", "delay", "jitter", "max_retries")
    max_retries: int
    delay: float | None
    backoff: Backoff | None
    jitter: Jitter | None

    def __init__(
        self,
        max_retries: int = 1,
        delay: float | None = None,
        backoff: Backoff | None = None,
        jitter: Jitter | None = None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            msg = f"RetryPolicy(max_retries={max_retries!r}): max_retries must be an int >= 0."
            raise DefinitionError(msg)
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0
        ):
            msg = f"RetryPolicy(delay={delay!r}): delay must be a number of seconds >= 0, or None."
            raise DefinitionError(msg)
        if backoff is not None and not isinstance(backoff, Backoff):
            msg = f"RetryPolicy(backoff={backoff!r}): use Backoff.LINEAR or Backoff.EXPONENTIAL."
            raise DefinitionError(msg)
        if jitter is not None and not isinstance(jitter, Jitter):
            msg = f"RetryPolicy(jitter={jitter!r}): use Jitter.FULL or Jitter.PLUS_MINUS."
            raise DefinitionError(msg)
        if backoff is not None and delay is None:
            msg = "Cannot set backoff on a RetryPolicy without also setting delay (the base wait in seconds)."
            raise DefinitionError(msg)
        if jitter is not None and delay is None:
            msg = "Cannot set jitter on a RetryPolicy without also setting delay (the base wait in seconds)."
            raise DefinitionError(msg)
        object.__setattr__(self, "max_retries", max_retries)
        object.__setattr__(self, "delay", delay)
        object.__setattr__(self, "backoff", backoff)
        object.__setattr__(self, "jitter", jitter)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"RetryPolicy is immutable; build a new one instead of setting {name!r}."
        raise AttributeError(msg)

    def calculate_delay(self, attempt_num: int) -> float:
        """Seconds to wait before retry number ``attempt_num`` (1 for the first retry)."""
        return calculate_delay(attempt_num, self.backoff, self.jitter, self.delay or 0)

    def _fields(self) -> tuple[Any, ...]:
        return (self.max_retries, self.delay, self.backoff, self.jitter)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RetryPolicy) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self) -> tuple[Any, ...]:
        return (RetryPolicy, self._fields())

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_retries={self.max_retries}, delay={self.delay!r}, "
            f"backoff={self.backoff}, jitter={self.jitter})"
        )


class RetryRequested(Exception):
    """Raise from user code to retry the step: ``raise RetryRequested(max_retries=3) from exc``.

    ``max_retries`` counts retries of this step (the first attempt is not a retry);
    ``seconds_to_wait`` delays the next attempt.
    """

    def __init__(self, max_retries: int | None = 1, seconds_to_wait: float | None = None) -> None:
        if max_retries is None:
            max_retries = 1
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            msg = f"RetryRequested(max_retries={max_retries!r}): max_retries must be an int >= 0."
            raise DefinitionError(msg)
        if seconds_to_wait is not None and (
            isinstance(seconds_to_wait, bool)
            or not isinstance(seconds_to_wait, (int, float))
            or seconds_to_wait < 0
        ):
            msg = f"RetryRequested(seconds_to_wait={seconds_to_wait!r}): must be a number of seconds >= 0, or None."
            raise DefinitionError(msg)
        super().__init__(
            f"Retry requested (max_retries={max_retries}, seconds_to_wait={seconds_to_wait})"
        )
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


class RetryRequestedFromPolicy(RetryRequested):
    """A retry the engine requests because the step's ``RetryPolicy`` applies (cause: the user error)."""


class UserFailureData:
    """What a :class:`Failure` tells about itself, as kept in the step's failure event."""

    __slots__ = ("description", "label", "metadata")

    def __init__(self, label: str, description: str | None = None, metadata: Any = None) -> None:
        self.label = label
        self.description = description
        self.metadata = metadata if metadata is not None else {}

    def __repr__(self) -> str:
        return f"UserFailureData(label={self.label!r}, description={self.description!r}, metadata={self.metadata!r})"


class Failure(Exception):
    """Raise from user code to fail the step on purpose, with a description and metadata.

    ``allow_retries=False`` fails the step even when a ``RetryPolicy`` would retry it.

    >>> import weir as dg
    >>> err = dg.Failure(description="3 rows are negative", metadata={"rows": 3})
    >>> err.metadata["rows"].value
    3
    """

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool | None = None,
    ) -> None:
        from weir._model.metadata import normalize_metadata

        super().__init__(description)
        self.description = description
        self.metadata = normalize_metadata(metadata)
        self.allow_retries = True if allow_retries is None else bool(allow_retries)

    @property
    def user_failure_data(self) -> UserFailureData:
        return UserFailureData("intentional-failure", self.description, self.metadata)


class StepRetryData:
    """The payload of a ``STEP_UP_FOR_RETRY`` event: why the attempt failed and how long to wait."""

    __slots__ = ("error", "seconds_to_wait")

    def __init__(self, error: Any, seconds_to_wait: float | None = None) -> None:
        self.error = error
        self.seconds_to_wait = seconds_to_wait

    def __repr__(self) -> str:
        return f"StepRetryData(error={self.error!r}, seconds_to_wait={self.seconds_to_wait!r})"


class MaxRetriesExceededError(ExecutionError):
    """A step still failed after its last allowed retry (raised with ``raise_on_error=True``).

    ``user_exception`` (also ``__cause__``) is the error of the last attempt.
    """

    def __init__(
        self,
        message: str,
        *,
        step_key: str | None = None,
        max_retries: int | None = None,
        user_exception: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.step_key = step_key
        self.max_retries = max_retries
        self.user_exception = user_exception


DagsterMaxRetriesExceededError = MaxRetriesExceededError


def retry_request_for(
    user_error: BaseException | None, source: str, policy: RetryPolicy | None, retry_number: int
) -> RetryRequested | None:
    """The retry request a failed attempt makes, or ``None`` when it must simply fail.

    An explicit ``RetryRequested`` from user code always counts (no policy needed). Otherwise a
    policy retries errors raised by user code (``source == "USER_CODE"``), except a ``Failure``
    with ``allow_retries=False``. IO-manager, type-check and framework errors are not retried.
    ``retry_number`` is the number of the attempt that failed (0 for the first).
    """
    if isinstance(user_error, RetryRequested):
        return user_error
    if policy is None or source != "USER_CODE" or user_error is None:
        return None
    if isinstance(user_error, Failure) and not user_error.allow_retries:
        return None
    wait = max(0.0, policy.calculate_delay(retry_number + 1)) if policy.delay is not None else None
    request = RetryRequestedFromPolicy(max_retries=policy.max_retries, seconds_to_wait=wait)
    request.__cause__ = user_error
    return request
