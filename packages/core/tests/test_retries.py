"""Retries and intentional failures: RetryPolicy, Backoff, Jitter, RetryRequested, Failure."""

from __future__ import annotations

import pickle
import random
import time
from typing import Any

import pytest

import weir as dg
from weir._model.asset_checks import AssetCheckResult
from weir._model.asset_checks_definition import asset_check
from weir._model.retry import (
    Backoff,
    DagsterMaxRetriesExceededError,
    Failure,
    Jitter,
    MaxRetriesExceededError,
    RetryPolicy,
    RetryRequested,
    StepRetryData,
)
from weir.errors import DefinitionError, ExecutionError, HandleOutputError


def _types(result: dg.ExecuteInProcessResult, step_key: str) -> list[str]:
    return [e.event_type_value for e in result.all_events if e.step_key == step_key]


def _flaky(failures: int, calls: list[int], **asset_kwargs: Any) -> dg.AssetsDefinition:
    """An asset that fails on its first ``failures`` attempts, recording each retry number."""

    @dg.asset(name="flaky", **asset_kwargs)
    def flaky(context: dg.AssetExecutionContext) -> int:
        calls.append(context.retry_number)
        if context.retry_number < failures:
            raise ValueError(f"attempt {context.retry_number} failed")
        return 42

    return flaky


# -- the policy object ----------------------------------------------------------------------------
def test_retry_policy_defaults_and_validation() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.delay, policy.backoff, policy.jitter) == (
        1,
        None,
        None,
        None,
    )
    assert RetryPolicy(2, 0.5) == RetryPolicy(max_retries=2, delay=0.5)
    assert hash(RetryPolicy(2, 0.5)) == hash(RetryPolicy(max_retries=2, delay=0.5))
    assert pickle.loads(pickle.dumps(RetryPolicy(3, 1, Backoff.LINEAR))) == RetryPolicy(
        3, 1, Backoff.LINEAR
    )
    assert "max_retries=3" in repr(RetryPolicy(3))
    with pytest.raises(AttributeError, match="immutable"):
        policy.max_retries = 5  # type: ignore[misc]
    with pytest.raises(DefinitionError, match="max_retries must be an int >= 0"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(DefinitionError, match="delay must be a number of seconds"):
        RetryPolicy(delay=-2)
    with pytest.raises(DefinitionError, match="Cannot set backoff .* without also setting delay"):
        RetryPolicy(backoff=Backoff.LINEAR)
    with pytest.raises(DefinitionError, match="Cannot set jitter .* without also setting delay"):
        RetryPolicy(jitter=Jitter.FULL)
    with pytest.raises(DefinitionError, match="Backoff.LINEAR or Backoff.EXPONENTIAL"):
        RetryPolicy(delay=1, backoff="LINEAR")  # type: ignore[arg-type]


def test_delays_follow_backoff_and_jitter() -> None:
    assert [RetryPolicy(5, 2).calculate_delay(n) for n in (1, 2, 3)] == [2, 2, 2]
    linear = RetryPolicy(5, 2, Backoff.LINEAR)
    assert [linear.calculate_delay(n) for n in (1, 2, 3)] == [2, 4, 6]
    exponential = RetryPolicy(5, 2, Backoff.EXPONENTIAL)
    assert [exponential.calculate_delay(n) for n in (1, 2, 3)] == [2, 6, 14]
    assert RetryPolicy().calculate_delay(3) == 0
    random.seed(7)
    full = [
        RetryPolicy(5, 1, Backoff.EXPONENTIAL, Jitter.FULL).calculate_delay(3) for _ in range(200)
    ]
    assert all(0 <= d <= 7 for d in full) and max(full) - min(full) > 3
    plus_minus = [
        RetryPolicy(5, 1, Backoff.LINEAR, Jitter.PLUS_MINUS).calculate_delay(2) for _ in range(200)
    ]
    assert all(1 <= d <= 3 for d in plus_minus) and min(plus_minus) < 1.5 and max(plus_minus) > 2.5


def test_retry_requested_and_failure_objects() -> None:
    request = RetryRequested()
    assert (request.max_retries, request.seconds_to_wait) == (1, None)
    with pytest.raises(DefinitionError, match="max_retries must be an int"):
        RetryRequested(max_retries=-1)
    with pytest.raises(DefinitionError, match="seconds_to_wait"):
        RetryRequested(seconds_to_wait=-1)
    failure = Failure("3 bad rows", metadata={"rows": 3})
    assert str(failure) == "3 bad rows"
    assert failure.metadata == {"rows": dg.MetadataValue.int(3)}
    assert failure.allow_retries is True
    data = failure.user_failure_data
    assert (data.label, data.description) == ("intentional-failure", "3 bad rows")
    assert Failure(allow_retries=False).allow_retries is False
    assert DagsterMaxRetriesExceededError is MaxRetriesExceededError
    assert issubclass(MaxRetriesExceededError, ExecutionError)


# -- retrying steps ----------------------------------------------------------------------------------
def test_policy_retries_until_success_with_events_and_retry_numbers() -> None:
    calls: list[int] = []
    result = dg.materialize_to_memory([_flaky(2, calls, retry_policy=RetryPolicy(max_retries=3))])
    assert result.success
    assert calls == [0, 1, 2]
    assert result.retry_attempts_for_node("flaky") == 2
    assert _types(result, "flaky") == [
        "STEP_START",
        "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED",
        "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED",
        "STEP_OUTPUT",
        "ASSET_MATERIALIZATION",
        "HANDLED_OUTPUT",
        "STEP_SUCCESS",
    ]
    messages = [e.message for e in result.all_events if e.step_key == "flaky"]
    assert messages[1] == 'Execution of step "flaky" failed and has requested a retry.'
    assert messages[2] == 'Started re-execution (attempt # 2) of step "flaky".'
    retry_data = result.all_events[5].event_specific_data
    assert isinstance(retry_data, StepRetryData)
    assert retry_data.error.cls_name == "RetryRequestedFromPolicy"
    assert retry_data.error.cause.cls_name == "ValueError"
    assert result.asset_value("flaky") == 42


def test_exhausted_retries_fail_the_step_with_the_last_error() -> None:
    calls: list[int] = []

    @dg.asset
    def after(flaky: int) -> int:
        return flaky

    @dg.asset
    def independent() -> int:
        return 1

    flaky = _flaky(5, calls, retry_policy=RetryPolicy(max_retries=2))
    result = dg.materialize_to_memory([flaky, after, independent], raise_on_error=False)
    assert not result.success
    assert calls == [0, 1, 2]
    assert result.retry_attempts_for_node("flaky") == 2
    error = result.failure_data_for_node("flaky").error
    assert error.cls_name == "RetryRequestedFromPolicy"
    assert error.message == "Exceeded max_retries of 2"
    assert error.cause.cls_name == "ValueError"
    assert "attempt 2 failed" in error.cause.message
    assert result.is_node_untouched("after")
    assert result.is_node_success("independent")

    calls.clear()
    with pytest.raises(MaxRetriesExceededError) as excinfo:
        dg.materialize_to_memory([flaky])
    assert 'Exceeded max_retries of 2 for step "flaky"' in str(excinfo.value)
    assert "ValueError: attempt 2 failed" in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, ValueError)
    assert excinfo.value.user_exception is excinfo.value.__cause__
    assert excinfo.value.step_key == "flaky"


def test_retry_requested_works_without_a_policy() -> None:
    calls: list[int] = []

    @dg.asset
    def manual(context: dg.AssetExecutionContext) -> int:
        calls.append(context.retry_number)
        if context.retry_number == 0:
            raise RetryRequested(max_retries=1, seconds_to_wait=0.01) from ValueError("transient")
        return 1

    result = dg.materialize_to_memory([manual])
    assert result.success and calls == [0, 1]
    up_for_retry = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert up_for_retry[0].message.endswith("requested a retry in 0.01 seconds.")
    assert up_for_retry[0].event_specific_data.seconds_to_wait == 0.01

    @dg.asset
    def always() -> int:
        raise RetryRequested(max_retries=2)

    result = dg.materialize_to_memory([always], raise_on_error=False)
    assert result.retry_attempts_for_node("always") == 2
    error = result.failure_data_for_node("always").error
    assert (error.cls_name, error.message) == ("RetryRequested", "Exceeded max_retries of 2")


def test_retries_can_be_disabled_in_executor_config() -> None:
    @dg.asset
    def wants_retry() -> int:
        raise RetryRequested(max_retries=3)

    config = {"execution": {"config": {"retries": {"disabled": {}}}}}
    result = dg.materialize_to_memory([wants_retry], run_config=config, raise_on_error=False)
    assert result.retry_attempts_for_node("wants_retry") == 0
    error = result.failure_data_for_node("wants_retry").error
    assert error.message == "RetryRequested but retries are disabled"
    with pytest.raises(RetryRequested):
        dg.materialize_to_memory([wants_retry], run_config=config)


def test_failure_carries_metadata_and_can_refuse_retries() -> None:
    @dg.asset(retry_policy=RetryPolicy(max_retries=3))
    def refuses() -> int:
        raise Failure(description="bad rows", metadata={"rows": 3}, allow_retries=False)

    result = dg.materialize_to_memory([refuses], raise_on_error=False)
    assert result.retry_attempts_for_node("refuses") == 0
    data = result.failure_data_for_node("refuses")
    assert data.error.cls_name == "Failure"
    assert data.user_failure_data.description == "bad rows"
    assert data.user_failure_data.metadata == {"rows": dg.MetadataValue.int(3)}
    with pytest.raises(Failure, match="bad rows"):
        dg.materialize_to_memory([refuses])

    @dg.asset(retry_policy=RetryPolicy(max_retries=1))
    def retried_failure() -> int:
        raise Failure(description="still bad", metadata={"n": 1})

    result = dg.materialize_to_memory([retried_failure], raise_on_error=False)
    assert result.retry_attempts_for_node("retried_failure") == 1
    data = result.failure_data_for_node("retried_failure")
    assert data.error.message == "Exceeded max_retries of 1"
    assert data.user_failure_data.description == "still bad"


def test_job_op_retry_policy_applies_unless_the_asset_has_its_own() -> None:
    job_calls: list[int] = []
    own_calls: list[int] = []
    job_level = _flaky(1, job_calls)

    @dg.asset(retry_policy=RetryPolicy(max_retries=0))
    def own_policy(context: dg.AssetExecutionContext) -> int:
        own_calls.append(context.retry_number)
        raise ValueError("no retries for me")

    defs = dg.Definitions(
        assets=[job_level, own_policy],
        jobs=[dg.define_asset_job("retrying", op_retry_policy=RetryPolicy(max_retries=2))],
        resources={"io_manager": dg.InMemoryIOManager()},
    )
    job = defs.get_job_def("retrying")
    assert job.op_retry_policy == RetryPolicy(max_retries=2)
    result = job.execute_in_process(raise_on_error=False)
    assert job_calls == [0, 1]
    assert result.is_node_success("flaky")
    assert own_calls == [0]
    assert result.failure_data_for_node("own_policy").error.message == "Exceeded max_retries of 0"


def test_other_steps_run_while_a_step_waits_for_its_retry() -> None:
    @dg.asset
    def a_slow(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            raise RetryRequested(max_retries=1, seconds_to_wait=0.15)
        return 1

    @dg.asset
    def b_after(a_slow: int) -> int:
        return a_slow + 1

    @dg.asset
    def c_meanwhile() -> int:
        return 2

    @dg.asset
    def d_child(c_meanwhile: int) -> int:
        return c_meanwhile

    start = time.perf_counter()
    result = dg.materialize_to_memory([a_slow, b_after, c_meanwhile, d_child])
    assert time.perf_counter() - start >= 0.15
    assert result.success
    order = [
        (e.event_type_value, e.step_key)
        for e in result.all_events
        if e.event_type_value in ("STEP_START", "STEP_RESTARTED", "STEP_UP_FOR_RETRY")
    ]
    assert order == [
        ("STEP_START", "a_slow"),
        ("STEP_UP_FOR_RETRY", "a_slow"),
        ("STEP_START", "c_meanwhile"),
        ("STEP_START", "d_child"),
        ("STEP_RESTARTED", "a_slow"),
        ("STEP_START", "b_after"),
    ]
    assert result.output_for_node("b_after") == 2


def test_a_step_behind_a_retry_that_finally_fails_is_untouched() -> None:
    @dg.asset
    def a_never(context: dg.AssetExecutionContext) -> int:
        raise RetryRequested(max_retries=1, seconds_to_wait=0.01)

    @dg.asset
    def b_blocked(a_never: int) -> int:
        return a_never

    @dg.asset
    def c_free() -> int:
        return 3

    result = dg.materialize_to_memory([a_never, b_blocked, c_free], raise_on_error=False)
    assert result.is_node_failed("a_never")
    assert result.is_node_untouched("b_blocked")
    assert result.is_node_success("c_free")
    assert "Steps failed: ['a_never']" in result.get_run_failure_event().message


def test_delay_is_waited_before_the_retry() -> None:
    calls: list[float] = []

    @dg.asset(retry_policy=RetryPolicy(max_retries=2, delay=0.05, backoff=Backoff.LINEAR))
    def waits() -> int:
        calls.append(time.perf_counter())
        if len(calls) < 3:
            raise ValueError("not yet")
        return 1

    assert dg.materialize_to_memory([waits]).success
    assert calls[1] - calls[0] >= 0.05
    assert calls[2] - calls[1] >= 0.1


def test_io_manager_errors_are_not_retried_by_a_policy() -> None:
    class Broken(dg.IOManager):
        def handle_output(self, context: Any, obj: Any) -> None:
            raise OSError("disk full")

        def load_input(self, context: Any) -> Any:
            raise AssertionError("unused")

    @dg.asset(retry_policy=RetryPolicy(max_retries=3))
    def stored() -> int:
        return 1

    result = dg.materialize([stored], resources={"io_manager": Broken()}, raise_on_error=False)
    assert result.retry_attempts_for_node("stored") == 0
    assert result.failure_data_for_node("stored").error.cls_name == "HandleOutputError"
    with pytest.raises(HandleOutputError, match="disk full"):
        dg.materialize([stored], resources={"io_manager": Broken()})


def test_asset_checks_retry_with_their_policy() -> None:
    @dg.asset
    def value() -> int:
        return 1

    calls: list[int] = []

    @asset_check(asset=value, retry_policy=RetryPolicy(max_retries=1))
    def eventually(context: Any, value: int) -> AssetCheckResult:
        calls.append(context.retry_number)
        if context.retry_number == 0:
            raise ConnectionError("warehouse asleep")
        return AssetCheckResult(passed=value == 1)

    result = dg.materialize_to_memory([value, eventually])
    assert result.success and calls == [0, 1]
    assert result.retry_attempts_for_node("value_eventually") == 1
    assert len(result.get_asset_check_evaluations()) == 1
