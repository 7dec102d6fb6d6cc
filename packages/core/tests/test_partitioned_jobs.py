"""Jobs with partitioned config: a partition key picks the run config and tags, and is validated."""

from __future__ import annotations

from datetime import datetime

import pytest

import weir as dg
from weir.errors import ConfigError, DefinitionError


@dg.daily_partitioned_config(start_date=datetime(2024, 1, 1), end_offset=0)
def day_config(start: datetime, end: datetime) -> dict:
    return {"ops": {"report": {"config": {"date": start.strftime("%Y-%m-%d")}}}}


@dg.op(config_schema={"date": str})
def report(context: dg.OpExecutionContext) -> str:
    return f"{context.op_config['date']} {context.partition_key}"


@dg.job(config=day_config)
def daily_report() -> None:
    report()


def test_a_partition_key_selects_the_run_config_and_tags() -> None:
    result = daily_report.execute_in_process(partition_key="2024-01-05")
    assert result.output_for_node("report") == "2024-01-05 2024-01-05"
    assert result.dagster_run.tags["dagster/partition"] == "2024-01-05"
    assert daily_report.partitions_def == day_config.partitions_def


def test_a_partitioned_job_without_a_key_or_config_says_what_to_pass() -> None:
    with pytest.raises(ConfigError, match="has a partitioned config .* pass partition_key="):
        daily_report.execute_in_process()
    explicit = {"ops": {"report": {"config": {"date": "manual"}}}}
    with pytest.raises(dg.DagsterInvariantViolationError, match="partition_key"):
        daily_report.execute_in_process(run_config=explicit)  # runs, but the op asks for a key


def test_an_unknown_partition_key_of_a_partitioned_job_is_refused() -> None:
    with pytest.raises(DefinitionError, match="2023-12-31"):
        daily_report.execute_in_process(partition_key="2023-12-31")


def test_static_partitioned_config_tags() -> None:
    @dg.static_partitioned_config(partition_keys=["eu", "us"])
    def region_config(key: str) -> dict:
        return {"ops": {"region_op": {"config": {"region": key}}}}

    @dg.op(config_schema={"region": str})
    def region_op(context: dg.OpExecutionContext) -> str:
        return context.op_config["region"]

    @dg.job(config=region_config)
    def regional() -> None:
        region_op()

    assert regional.execute_in_process(partition_key="us").output_for_node("region_op") == "us"
