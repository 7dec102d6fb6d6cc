"""``context.log`` messages are recorded in the run's event log, as Dagster stores them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir import execute_job, reconstructable

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture
def fixtures(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(TESTS_DIR))  # worker processes import the jobs from here
    from mp_fixtures import logging_jobs

    yield logging_jobs


def _messages(instance: Any, run_id: str) -> list[tuple[str | None, int, str]]:
    return [
        (e.step_key, e.level, e.message)
        for e in instance.all_logs(run_id)
        if not e.is_dagster_event
    ]


def test_asset_logs_are_stored_with_their_step_level_and_formatted_text(tmp_path: Path) -> None:
    @dg.asset
    def first(context: dg.AssetExecutionContext) -> int:
        context.log.info("loaded %d rows from %s", 3, "orders")
        context.log.debug("debug lines are kept too")
        return 3

    @dg.asset
    def second(context: dg.AssetExecutionContext, first: int) -> int:
        context.log.warning("only %d rows", first)
        return first

    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    result = dg.materialize([first, second], instance=instance)
    assert _messages(instance, result.run_id) == [
        ("first", logging.INFO, "loaded 3 rows from orders"),
        ("first", logging.DEBUG, "debug lines are kept too"),
        ("second", logging.WARNING, "only 3 rows"),
    ]
    # in order with the step's events, and not in the run result's DagsterEvents
    logs = instance.all_logs(result.run_id)
    kinds = [e.dagster_event.event_type_value if e.is_dagster_event else "LOG" for e in logs]
    first_step = [k for e, k in zip(logs, kinds, strict=True) if e.step_key == "first"]
    assert first_step.index("LOG") > first_step.index("STEP_START")
    assert first_step.index("LOG") < first_step.index("STEP_SUCCESS")
    assert all(isinstance(e, dg.DagsterEvent) for e in result.all_events)
    assert len(result.all_events) == len([k for k in kinds if not k.endswith("_PLANNED")]) - 3
    # a fresh instance on the same home reads them back from SQLite
    again = dg.DagsterInstance.from_home(str(tmp_path / "home"))
    assert [m for _, _, m in _messages(again, result.run_id)][0] == "loaded 3 rows from orders"


def test_logs_of_a_failed_step_are_kept(tmp_path: Path) -> None:
    @dg.asset
    def broken(context: dg.AssetExecutionContext) -> int:
        context.log.error("giving up on %s", "the source")
        raise ValueError("source down")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([broken], instance=instance, raise_on_error=False)
    assert not result.success
    assert _messages(instance, result.run_id) == [
        ("broken", logging.ERROR, "giving up on the source")
    ]


def test_python_logging_still_gets_the_messages(caplog: pytest.LogCaptureFixture) -> None:
    @dg.asset
    def noisy(context: dg.AssetExecutionContext) -> None:
        context.log.info("to both places")

    with caplog.at_level(logging.INFO, logger="weir.user"):
        dg.materialize([noisy])
    assert any("to both places" in r.getMessage() for r in caplog.records)


def test_a_message_with_bad_format_arguments_is_still_recorded() -> None:
    @dg.asset
    def sloppy(context: dg.AssetExecutionContext) -> None:
        context.log.info("%d rows", "many")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([sloppy], instance=instance)
    assert result.success
    assert _messages(instance, result.run_id) == [("sloppy", logging.INFO, "%d rows ('many',)")]


def test_op_job_logs_in_process() -> None:
    @dg.op
    def make(context: dg.OpExecutionContext) -> int:
        context.log.info("making")
        return 1

    @dg.job
    def pipeline() -> None:
        make()

    instance = dg.DagsterInstance.ephemeral()
    result = pipeline.execute_in_process(instance=instance)
    assert _messages(instance, result.run_id) == [("make", logging.INFO, "making")]


def test_a_context_built_outside_a_run_logs_without_an_event_log() -> None:
    context = dg.build_asset_context()
    context.log.info("no run here")  # nothing to record into; must not fail


def test_multiprocess_asset_job_logs_reach_the_event_log(fixtures: Any, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    result = execute_job(reconstructable(fixtures.get_asset_job), instance=instance)
    assert result.success
    messages = _messages(instance, result.run_id)
    assert [(step, level) for step, level, _ in messages] == [
        ("greeting", logging.INFO),
        ("shout", logging.WARNING),
    ]
    assert messages[0][2].startswith("hello from pid ") and messages[1][2] == "shouting 'hi'"


def test_multiprocess_op_job_logs_reach_the_event_log(fixtures: Any, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    result = execute_job(reconstructable(fixtures.logging_ops), instance=instance)
    assert result.success
    assert _messages(instance, result.run_id) == [
        ("emit_number", logging.DEBUG, "about to emit"),
        ("report", logging.ERROR, "got 7"),
    ]
