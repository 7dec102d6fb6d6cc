"""The commands on a small project: asset, job, run, instance, definitions and plugin commands."""

from __future__ import annotations

import json
import logging

import click
from click.testing import CliRunner

import weir as dg
from weir.plugins import get_plugin_manager
from weir_cli.main import build_cli


def _runs() -> list[dg.DagsterRun]:
    with dg.DagsterInstance.get() as instance:
        return instance.get_runs()


# --------------------------------------------------------------------------- asset


def test_asset_list_with_a_selection(invoke, project) -> None:
    result = invoke("asset", "list", "-f", "proj.py")
    assert result.stdout.split() == ["broken", "parted", "raw", "shout"]
    result = invoke("asset", "list", "-f", "proj.py", "--select", "raw,shout")
    assert result.stdout.split() == ["raw", "shout"]


def test_unknown_asset_in_select_suggests_the_close_key(invoke, project) -> None:
    result = invoke("asset", "materialize", "-f", "proj.py", "--select", "shuot")
    assert result.exit_code == 2
    assert "Invalid --select 'shuot'" in result.stderr
    assert "'shout'" in result.stderr
    assert _runs() == []


def test_materialize_runs_in_the_persistent_instance(invoke, project) -> None:
    result = invoke("asset", "materialize", "-f", "proj.py", "--select", "raw,shout")
    assert result.exit_code == 0, result.output
    (run,) = _runs()
    assert run.run_id in result.stdout
    assert "steps succeeded: 2 (raw, shout)" in result.stdout
    assert "SUCCESS" in result.stdout
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert "hello world" in result.stderr  # context.log.info shows at the default log level


def test_materialize_with_config_files_merged(invoke, project, write) -> None:
    write("one.yaml", "ops:\n  raw:\n    config:\n      name: first\n")
    write("two.yaml", "ops:\n  raw:\n    config:\n      name: second\n")
    result = invoke(
        "asset",
        "materialize",
        "-f",
        "proj.py",
        "--select",
        "raw",
        "-c",
        "one.yaml",
        "-c",
        "two.yaml",
    )
    assert result.exit_code == 0, result.output
    assert "hello second" in result.stderr
    (run,) = _runs()
    assert run.run_config["ops"]["raw"]["config"]["name"] == "second"


def test_materialize_with_config_json(invoke, project) -> None:
    config = json.dumps({"ops": {"raw": {"config": {"name": "json"}}}})
    result = invoke(
        "asset", "materialize", "-f", "proj.py", "--select", "raw", "--config-json", config
    )
    assert result.exit_code == 0, result.output
    assert "hello json" in result.stderr


def test_bad_config_yaml_names_file_and_line(invoke, project, write) -> None:
    write("bad.yaml", "ops:\n  raw:\n    config: {name: [unclosed\n")
    result = invoke("asset", "materialize", "-f", "proj.py", "--select", "raw", "-c", "bad.yaml")
    assert result.exit_code == 2
    assert "bad.yaml:4" in result.stderr or "bad.yaml:3" in result.stderr
    assert "not valid YAML" in result.stderr
    assert _runs() == []


def test_config_that_fails_the_schema_exits_2_with_the_path(invoke, project) -> None:
    config = json.dumps({"ops": {"raw": {"config": {"nme": "typo"}}}})
    result = invoke(
        "asset", "materialize", "-f", "proj.py", "--select", "raw", "--config-json", config
    )
    assert result.exit_code == 2
    assert "could not start" in result.stderr
    assert "nme" in result.stderr


def test_failing_asset_exits_1_naming_the_step_and_error(invoke, project) -> None:
    result = invoke("asset", "materialize", "-f", "proj.py", "--select", "raw,shout,broken")
    assert result.exit_code == 1
    assert "steps failed: 1 (broken)" in result.stdout
    assert "FAILURE" in result.stdout
    assert "step 'broken' failed" in result.stderr
    assert "the broken asset always fails" in result.stderr
    (run,) = _runs()
    assert run.status == dg.DagsterRunStatus.FAILURE


def test_partition_and_partition_range(invoke, project) -> None:
    result = invoke(
        "asset", "materialize", "-f", "proj.py", "--select", "parted", "--partition", "b"
    )
    assert result.exit_code == 0, result.output
    result = invoke(
        "asset", "materialize", "-f", "proj.py", "--select", "parted", "--partition-range", "a...c"
    )
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.get() as instance:
        assert set(instance.get_materialized_partitions(dg.AssetKey("parted"))) == {"a", "b", "c"}
        tags = [r.tags for r in instance.get_runs()]
    assert {"dagster/partition": "b"}.items() <= tags[1].items()
    assert tags[0]["dagster/asset_partition_range_start"] == "a"


def test_partition_on_unpartitioned_assets_is_refused(invoke, project) -> None:
    result = invoke("asset", "materialize", "-f", "proj.py", "--select", "raw", "--partition", "a")
    assert result.exit_code == 2
    assert "raw are not partitioned" in result.stderr


def test_malformed_partition_range(invoke, project) -> None:
    result = invoke(
        "asset", "materialize", "-f", "proj.py", "--select", "parted", "--partition-range", "a-c"
    )
    assert result.exit_code == 2
    assert "must be START...END" in result.stderr


# --------------------------------------------------------------------------- job and run


def test_job_list_and_execute(invoke, project) -> None:
    result = invoke("job", "list", "-f", "proj.py")
    assert result.stdout.split() == ["op_job", "shout_job"]
    result = invoke("job", "execute", "-f", "proj.py", "-j", "op_job", "--tags", '{"team": "data"}')
    assert result.exit_code == 0, result.output
    assert "steps succeeded: 2 (one, plus)" in result.stdout
    (run,) = _runs()
    assert run.job_name == "op_job"
    assert run.tags["team"] == "data"


def test_asset_job_execute_with_config(invoke, project, write) -> None:
    write("cfg.yaml", "ops:\n  raw:\n    config:\n      name: job\n")
    result = invoke("job", "execute", "-f", "proj.py", "-j", "shout_job", "-c", "cfg.yaml")
    assert result.exit_code == 0, result.output
    assert "hello job" in result.stderr


def test_unknown_job_suggests_the_close_name(invoke, project) -> None:
    result = invoke("job", "execute", "-f", "proj.py", "-j", "shout_jbo")
    assert result.exit_code == 2
    assert "No job named 'shout_jbo'" in result.stderr
    assert "Did you mean" in result.stderr and "shout_job" in result.stderr


def test_bad_tags_json(invoke, project) -> None:
    result = invoke("job", "execute", "-f", "proj.py", "-j", "op_job", "--tags", "{team")
    assert result.exit_code == 2
    assert "--tags is not valid JSON" in result.stderr


def test_run_list_shows_recent_runs(invoke, project) -> None:
    assert "No runs yet." in invoke("run", "list").stdout
    invoke("job", "execute", "-f", "proj.py", "-j", "op_job")
    invoke("asset", "materialize", "-f", "proj.py", "--select", "raw")
    result = invoke("run", "list", "--limit", "1")
    runs = _runs()
    assert runs[0].run_id in result.stdout and runs[1].run_id not in result.stdout
    assert "__ASSET_JOB" in result.stdout and "SUCCESS" in result.stdout
    result = invoke("run", "list")
    assert "op_job" in result.stdout


# --------------------------------------------------------------------------- instance


def test_instance_info_masks_the_storage_password(invoke, tmp_path) -> None:
    result = invoke("instance", "info")
    assert result.exit_code == 0, result.output
    assert f"home: {tmp_path / 'home'}" in result.stdout
    assert "storage: sqlite:///" in result.stdout


def test_instance_migrate_twice(invoke) -> None:
    first = invoke("instance", "migrate")
    assert first.exit_code == 0, first.output
    assert "Created the weir schema" in first.stdout
    second = invoke("instance", "migrate")
    assert second.exit_code == 0, second.output
    assert "already at schema revision" in second.stdout
    assert "nothing to do" in second.stdout
    info = invoke("instance", "info")
    revision = second.stdout.split("schema revision ")[1].split(";")[0]
    assert f"schema revision: {revision}" in info.stdout


# --------------------------------------------------------------------------- definitions


def test_definitions_validate_success(invoke, project) -> None:
    result = invoke("definitions", "validate", "-f", "proj.py")
    assert result.exit_code == 0, result.output
    assert "Validation successful" in result.stdout


def test_definitions_validate_failure_exits_1(invoke, write) -> None:
    write(
        "invalid.py",
        """\
        import weir as dg

        @dg.asset
        def needs_db(db: dg.ResourceParam[str]) -> int:
            return 1

        defs = dg.Definitions(assets=[needs_db])
        """,
    )
    result = invoke("definitions", "validate", "-f", "invalid.py")
    assert result.exit_code == 1
    assert "Validation failed for file 'invalid.py'" in result.stderr
    assert "db" in result.stderr


def test_definitions_validate_load_error_exits_1(invoke, write) -> None:
    write("broken_load.py", "x = 1 / 0\n")
    result = invoke("definitions", "validate", "-f", "broken_load.py")
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.stderr and "broken_load.py:1" in result.stderr


# --------------------------------------------------------------------------- plugins and logging


class _HelloPlugin:
    @dg.hookimpl
    def weir_register_commands(self, cli: click.Group) -> None:
        @cli.command()
        @click.argument("name")
        def hello(name: str) -> None:
            """Say hello (from a plugin)."""
            click.echo(f"hello {name} from a plugin")


def test_plugin_commands_are_added_and_plugins_listed() -> None:
    pm = get_plugin_manager(autoload=False, disabled=["weir.builtin.partitions"])
    pm.register(_HelloPlugin(), name="hello-plugin")
    cli = build_cli(pm)
    runner = CliRunner()
    result = runner.invoke(cli, ["hello", "you"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello you from a plugin\n"
    assert "hello" in runner.invoke(cli, ["--help"]).stdout
    listing = runner.invoke(cli, ["plugins", "list"], catch_exceptions=False).stdout
    assert "hello-plugin" in listing
    assert "weir.builtin.io_managers" in listing and "weir (built-in)" in listing
    assert "weir.builtin.partitions" in listing and "disabled" in listing


def test_a_failing_plugin_hook_leaves_the_builtin_commands(caplog) -> None:
    class Broken:
        @dg.hookimpl
        def weir_register_commands(self, cli: click.Group) -> None:
            raise RuntimeError("plugin bug")

    pm = get_plugin_manager(autoload=False)
    pm.register(Broken(), name="broken-plugin")
    result = CliRunner().invoke(build_cli(pm), ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "plugins" in result.stdout and "asset" in result.stdout
    assert any("plugin bug" in r.getMessage() for r in caplog.records)


def test_debug_log_level_keeps_aws_loggers_at_info(invoke) -> None:
    result = invoke("--log-level", "debug", "run", "list")
    assert result.exit_code == 0
    assert logging.getLogger().level == logging.DEBUG
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.INFO
    invoke("run", "list")
    assert logging.getLogger().level == logging.WARNING
    assert logging.getLogger("weir.user").level == logging.INFO
