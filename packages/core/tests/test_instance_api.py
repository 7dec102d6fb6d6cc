"""The instance's Dagster-named API over a real SQLite file, and weir.yaml.

``materialize`` and ``execute_in_process`` record into the instance they get; the queries
(``get_runs``, ``fetch_materializations`` ...) read back what ran. The weir.yaml tests cover each way
a configuration can be wrong.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir.errors import ConfigError, PluginError


@pytest.fixture
def instance(tmp_path: Path) -> Any:
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        yield instance


@dg.asset
def upstream() -> int:
    return 1


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="downstream")])
def downstream(upstream: int) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"rows": upstream}, check_results=[dg.AssetCheckResult(passed=upstream > 0)]
    )


@dg.asset_check(asset=upstream)
def separate_check(upstream: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=upstream == 1)


@dg.asset
def broken() -> int:
    raise ValueError("no data today")


def _types(entries: list[Any]) -> list[str]:
    return [e.dagster_event.event_type_value for e in entries if e.is_dagster_event]


def test_a_materialization_is_recorded_with_its_planned_events(instance: Any) -> None:
    result = dg.materialize([upstream, downstream], instance=instance)
    assert instance.storage.display_url.startswith("sqlite:///")
    run = instance.get_run_by_id(result.run_id)
    assert run.status is dg.DagsterRunStatus.SUCCESS and run.job_name == "__ephemeral_asset_job__"
    logs = instance.all_logs(result.run_id)
    planned = _types(logs)[:3]
    assert planned == ["ASSET_MATERIALIZATION_PLANNED"] * 2 + ["ASSET_CHECK_EVALUATION_PLANNED"]
    assert _types(logs)[3:] == [e.event_type_value for e in result.all_events]
    record = instance.get_run_record_by_id(result.run_id)
    assert record.start_time <= record.end_time


def test_runs_are_filtered_by_status_and_paged(instance: Any) -> None:
    ok = dg.materialize([upstream], instance=instance)
    bad = dg.materialize([broken], instance=instance, raise_on_error=False)
    assert not bad.success
    failed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert [r.run_id for r in failed] == [bad.run_id]
    assert [r.run_id for r in instance.get_runs()] == [bad.run_id, ok.run_id]  # newest first
    assert [r.run_id for r in instance.get_runs(cursor=bad.run_id)] == [ok.run_id]
    assert instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS])) == 1
    instance.delete_run(bad.run_id)
    assert not instance.has_run(bad.run_id) and instance.all_logs(bad.run_id) == []


def test_materializations_are_fetched_newest_first_with_a_cursor(instance: Any) -> None:
    runs = [dg.materialize([upstream], instance=instance).run_id for _ in range(3)]
    page = instance.fetch_materializations(dg.AssetKey("upstream"), limit=2)
    assert [r.run_id for r in page.records] == [runs[2], runs[1]] and page.has_more
    rest = instance.fetch_materializations(dg.AssetKey("upstream"), limit=2, cursor=page.cursor)
    assert [r.run_id for r in rest.records] == [runs[0]] and not rest.has_more
    latest = instance.get_latest_materialization_event(dg.AssetKey("upstream"))
    assert latest.run_id == runs[2]
    assert latest.asset_materialization.asset_key == dg.AssetKey("upstream")
    assert instance.get_asset_keys() == [dg.AssetKey("upstream")]
    instance.wipe_assets([dg.AssetKey("upstream")])
    assert instance.get_asset_keys() == []
    assert instance.get_latest_materialization_event(dg.AssetKey("upstream")) is None
    assert instance.get_runs_count() == 3  # runs survive a wipe


def test_check_evaluations_point_at_the_materialization_they_checked(instance: Any) -> None:
    dg.materialize([upstream, downstream], instance=instance)
    check = dg.AssetCheckKey(dg.AssetKey("downstream"), "positive")
    (execution,) = instance.get_asset_check_execution_history(check)
    assert execution.status is dg.AssetCheckExecutionRecordStatus.SUCCEEDED
    assert execution.evaluation.passed
    stored = instance.fetch_materializations(dg.AssetKey("downstream"), limit=1).records[0]
    # a check in the asset's own step: this run's materialization, not stored yet (same step)
    assert execution.evaluation.target_materialization_data.run_id == stored.run_id
    # a check in its own step points at the stored materialization, with its storage id
    result = dg.materialize([upstream, separate_check], instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    stored = instance.fetch_materializations(dg.AssetKey("upstream"), limit=1).records[0]
    assert stored.run_id == result.run_id
    assert evaluation.target_materialization_data.storage_id == stored.storage_id


def test_the_instance_persists_across_opens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with dg.Instance.from_home(home) as first:
        run_id = dg.materialize([upstream], instance=first).run_id
    with dg.Instance.from_home(home) as second:
        assert second.get_run_by_id(run_id).status is dg.DagsterRunStatus.SUCCESS
        assert (home / "weir.db").is_file()


def test_runless_events_and_dynamic_partitions(instance: Any) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization("external_table", metadata={"rows": 3})
    )
    (record,) = instance.fetch_materializations(dg.AssetKey("external_table"), limit=5).records
    assert record.asset_materialization.metadata["rows"].value == 3
    instance.add_dynamic_partitions("customers", ["acme", "o'brien"])
    instance.add_dynamic_partitions("customers", ["acme", "zeta"])
    assert instance.get_dynamic_partitions("customers") == ["acme", "o'brien", "zeta"]
    instance.delete_dynamic_partition("customers", "acme")
    assert not instance.has_dynamic_partition("customers", "acme")
    with pytest.raises(dg.DagsterInvariantViolationError, match="list of keys"):
        instance.add_dynamic_partitions("customers", "acme")


def test_an_ephemeral_instance_records_in_memory() -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([upstream], instance=instance)
    assert instance.get_run_by_id(result.run_id).is_success
    assert instance.get_latest_materialization_event("upstream").run_id == result.run_id


# -- weir.yaml ---------------------------------------------------------------------------------------


def _home(tmp_path: Path, text: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "weir.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return home


def test_weir_yaml_chooses_the_sqlite_folder_and_artifact_storage(tmp_path: Path) -> None:
    home = _home(
        tmp_path,
        """
        storage:
          sqlite:
            base_dir: history
        local_artifact_storage:
          base_dir: values
        telemetry:
          enabled: false
        """,
    )
    with dg.Instance.from_home(home) as instance:
        dg.materialize([upstream], instance=instance)
        assert (home / "history" / "weir.db").is_file()
        assert instance.storage_directory() == str(home / "values")
        assert (home / "values" / "upstream").is_file()
        assert instance.settings["telemetry"] == {"enabled": False}


def test_weir_yaml_reads_env_vars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_TEST_DB", str(tmp_path / "elsewhere.db"))
    home = _home(tmp_path, "storage:\n  url:\n    env: WEIR_TEST_DB_URL\n")
    with pytest.raises(
        ConfigError,
        match=r"weir.yaml:2: storage.url: the environment variable 'WEIR_TEST_DB_URL' is not set",
    ):
        dg.Instance.from_home(home)
    monkeypatch.setenv("WEIR_TEST_DB_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with dg.Instance.from_home(home) as instance:
        dg.materialize([upstream], instance=instance)
    assert (tmp_path / "elsewhere.db").is_file()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "storage:\n  sqlite:\n    base_dir: x\n  sqlit: {}\n",
            r"weir.yaml:4: storage.sqlit: unknown key. Did you mean 'sqlite'\?",
        ),
        ("storage: [\n", r"weir.yaml:2: the instance configuration is not valid YAML"),
        (
            "run_storage:\n  module: dagster_postgres\n",
            r"weir.yaml:1: run_storage: weir keeps runs, events and schedules in one storage",
        ),
        ("storage:\n  mysql:\n    mysql_url: x\n", r"weir has no 'mysql' storage"),
        ("storag:\n  sqlite: {}\n", r"weir.yaml:1: storag: unknown key. Did you mean 'storage'\?"),
        (
            "storage:\n  postgres:\n    postgres_db:\n      username: u\n",
            r"storage.postgres.postgres_db: missing 'hostname'",
        ),
    ],
)
def test_a_bad_weir_yaml_says_where_and_what(tmp_path: Path, text: str, message: str) -> None:
    home = _home(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        dg.Instance.from_home(home)


def test_a_url_no_plugin_handles_lists_the_supported_schemes(tmp_path: Path) -> None:
    home = _home(tmp_path, "storage:\n  url: 'mongodb://user:hunter2@db/weir'\n")
    instance = dg.Instance.from_home(home)  # the storage opens on first use
    with pytest.raises(PluginError, match=r"scheme 'mongodb'.*sqlite://") as info:
        instance.get_runs()
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(instance)
