"""materialize / materialize_to_memory: events, values, IO, failures, skips, subsetting."""

from __future__ import annotations

import pickle

import pytest

import weir as dg


@dg.asset
def upstream() -> int:
    return 1


@dg.asset
def downstream(upstream: int) -> int:
    return upstream + 1


def test_event_sequence_matches_dagster_order():
    result = dg.materialize_to_memory([upstream, downstream])
    assert result.success
    kinds = [(e.event_type_value, e.step_key) for e in result.all_events]
    assert kinds == [
        ("PIPELINE_START", None),
        ("ENGINE_EVENT", None),
        ("RESOURCE_INIT_STARTED", None),
        ("RESOURCE_INIT_SUCCESS", None),
        ("STEP_START", "upstream"),
        ("STEP_OUTPUT", "upstream"),
        ("ASSET_MATERIALIZATION", "upstream"),
        ("HANDLED_OUTPUT", "upstream"),
        ("STEP_SUCCESS", "upstream"),
        ("STEP_START", "downstream"),
        ("LOADED_INPUT", "downstream"),
        ("STEP_INPUT", "downstream"),
        ("STEP_OUTPUT", "downstream"),
        ("ASSET_MATERIALIZATION", "downstream"),
        ("HANDLED_OUTPUT", "downstream"),
        ("STEP_SUCCESS", "downstream"),
        ("ENGINE_EVENT", None),
        ("PIPELINE_SUCCESS", None),
    ]
    messages = {
        e.event_type_value: e.message for e in result.all_events if e.step_key == "downstream"
    }
    assert messages["STEP_OUTPUT"] == 'Yielded output "result" of type "Int". (Type check passed).'
    assert (
        messages["LOADED_INPUT"]
        == 'Loaded input "upstream" using input manager "io_manager", from output "result" of step "upstream"'
    )
    assert messages["HANDLED_OUTPUT"] == 'Handled output "result" using IO manager "io_manager"'
    assert result.all_events[0].event_type is dg.DagsterEventType.RUN_START
    assert (
        result.all_events[-1].message == 'Finished execution of run for "__ephemeral_asset_job__".'
    )


def test_values_and_materializations():
    result = dg.materialize_to_memory([upstream, downstream])
    assert result.asset_value("downstream") == 2
    assert result.output_for_node("upstream") == 1
    mats = result.asset_materializations_for_node("downstream")
    assert [m.asset_key for m in mats] == [dg.AssetKey("downstream")]
    assert result.is_node_success("downstream")
    assert result.dagster_run.status is dg.DagsterRunStatus.SUCCESS


def test_filesystem_layout_and_loading_unselected_upstream(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))

    @dg.asset(key_prefix=["pre", "fix"])
    def p_up():
        return {"a": 1}

    @dg.asset(key_prefix=["pre", "fix"])
    def p_down(p_up):
        return p_up["a"] + 41

    first = dg.materialize([p_up, p_down], resources={"io_manager": io})
    assert first.success
    path = tmp_path / "pre" / "fix" / "p_up"
    assert pickle.loads(path.read_bytes()) == {"a": 1}
    mat = first.asset_materializations_for_node("pre__fix__p_up")[0]
    assert str(path) in str(mat.metadata["path"].value)
    # a second run selects only the downstream asset and loads the upstream from disk
    second = dg.materialize([p_up, p_down], resources={"io_manager": io}, selection=[p_down])
    assert [e.step_key for e in second.get_step_success_events()] == ["pre__fix__p_down"]
    loaded = [e for e in second.all_events if e.event_type_value == "LOADED_INPUT"][0]
    assert loaded.message == 'Loaded input "p_up" using input manager "io_manager"'
    assert second.asset_value(["pre", "fix", "p_down"]) == 42


def test_default_io_manager_writes_under_weir_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    result = dg.materialize([upstream])
    assert result.success
    assert pickle.loads((tmp_path / "storage" / "upstream").read_bytes()) == 1


def test_loading_missing_upstream_is_a_clear_error(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    with pytest.raises(
        dg.DagsterExecutionLoadInputError, match=r'input "upstream".*materialize \'upstream\' first'
    ) as info:
        dg.materialize([upstream, downstream], resources={"io_manager": io}, selection=[downstream])
    assert ".." not in str(info.value)  # the IO manager's message ends with its own full stop


def test_materialize_result_and_none_annotation_skip_io(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))

    @dg.asset
    def reported():
        return dg.MaterializeResult(metadata={"rows": 3})

    @dg.asset
    def side_effect() -> None:
        pass

    result = dg.materialize([reported, side_effect], resources={"io_manager": io})
    assert result.success
    assert not (tmp_path / "reported").exists()
    assert not (tmp_path / "side_effect").exists()
    types_ = [e.event_type_value for e in result.all_events]
    assert "HANDLED_OUTPUT" not in types_
    assert types_.count("ASSET_MATERIALIZATION") == 2
    mat = result.asset_materializations_for_node("reported")[0]
    assert mat.metadata["rows"] == dg.MetadataValue.int(3)


def test_returning_none_without_annotation_still_stores_none(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))

    @dg.asset
    def returns_none():
        return None

    result = dg.materialize([returns_none], resources={"io_manager": io})
    assert result.success
    assert pickle.loads((tmp_path / "returns_none").read_bytes()) is None


def test_user_exception_is_reraised_and_downstream_untouched():
    @dg.asset
    def boom():
        raise ValueError("bad data in row 7")

    @dg.asset
    def after(boom):
        return boom

    @dg.asset
    def independent():
        return 5

    with pytest.raises(ValueError, match="bad data in row 7"):
        dg.materialize_to_memory([boom, after, independent])

    result = dg.materialize_to_memory([boom, after, independent], raise_on_error=False)
    assert not result.success
    assert result.is_node_failed("boom")
    assert result.is_node_untouched("after")
    assert result.is_node_success("independent")
    failure = result.failure_data_for_node("boom")
    assert failure.error.cls_name == "ValueError"
    assert "bad data in row 7" in failure.error.message
    assert (
        result.get_run_failure_event().message
        == "Execution of run for \"__ephemeral_asset_job__\" failed. Steps failed: ['boom']."
    )
    assert result.get_failed_step_keys() == {"boom"}


def test_output_type_check_failure():
    @dg.asset
    def wrong() -> int:
        return "not an int"  # type: ignore[return-value]

    result = dg.materialize_to_memory([wrong], raise_on_error=False)
    assert not result.success
    assert (
        "Type check failed for step output" in result.failure_data_for_node("wrong").error.message
    )


def test_multi_asset_tuple_and_yield_forms():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def pair():
        return 1, 2

    @dg.multi_asset(outs={"c": dg.AssetOut(), "d": dg.AssetOut()})
    def yielded():
        yield dg.Output(3, output_name="c")
        yield dg.Output(4, output_name="d")

    @dg.asset
    def total(a, b, c, d):
        return a + b + c + d

    result = dg.materialize_to_memory([pair, yielded, total])
    assert result.asset_value("total") == 10
    assert len(result.asset_materializations_for_node("pair")) == 2


def test_multi_asset_wrong_tuple_length_is_explained():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def pair():
        return 1

    result = dg.materialize_to_memory([pair], raise_on_error=False)
    assert (
        "must return a tuple of that length" in result.failure_data_for_node("pair").error.message
    )


def test_can_subset_multi_asset_runs_only_selected():
    seen = []

    @dg.multi_asset(specs=[dg.AssetSpec("s1"), dg.AssetSpec("s2")], can_subset=True)
    def ms(context: dg.AssetExecutionContext):
        seen.append(set(context.selected_asset_keys))
        for key in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=key)

    result = dg.materialize_to_memory([ms], selection=["s2"])
    assert result.success
    assert seen == [{dg.AssetKey("s2")}]
    assert [m.asset_key for m in result.asset_materializations_for_node("ms")] == [
        dg.AssetKey("s2")
    ]


def test_optional_output_not_emitted_skips_downstream():
    @dg.asset(output_required=False)
    def maybe():
        if False:
            yield dg.Output(1)

    @dg.asset
    def after_maybe(maybe):
        return maybe

    result = dg.materialize_to_memory([maybe, after_maybe])
    assert result.success
    assert result.is_node_skipped("after_maybe")


def test_required_output_not_emitted_fails():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def half():
        yield dg.Output(1, output_name="a")

    result = dg.materialize_to_memory([half], raise_on_error=False)
    assert (
        'did not return an output for non-optional output "b"'
        in result.failure_data_for_node("half").error.message
    )


def test_context_members_and_metadata():
    @dg.asset(metadata={"owner": "x"})
    def with_ctx(context: dg.AssetExecutionContext):
        assert context.asset_key == dg.AssetKey("with_ctx")
        assert context.run_id == context.run.run_id
        assert context.job_name == "__ephemeral_asset_job__"
        assert context.get_tag("team") == "data"
        assert context.retry_number == 0
        context.log.info("hello")
        context.add_output_metadata({"rows": 10})
        context.log_event(dg.AssetObservation(asset_key="with_ctx", metadata={"seen": True}))
        return 1

    result = dg.materialize_to_memory([with_ctx], tags={"team": "data"})
    assert result.success
    mat = result.asset_materializations_for_node("with_ctx")[0]
    assert mat.metadata["rows"] == dg.MetadataValue.int(10)
    assert mat.tags["dagster/code_version"] == result.run_id
    assert len(result.get_asset_observation_events()) == 1


def test_source_asset_and_spec_inputs_load_through_io_manager():
    io = dg.InMemoryIOManager()

    @dg.asset
    def seed():
        return 41

    dg.materialize([seed], resources={"io_manager": io})

    @dg.asset(ins={"seed": dg.AssetIn("seed")})
    def uses_source(seed):
        return seed + 1

    result = dg.materialize([dg.SourceAsset("seed"), uses_source], resources={"io_manager": io})
    assert result.asset_value("uses_source") == 42
    result2 = dg.materialize([dg.AssetSpec("seed"), uses_source], resources={"io_manager": io})
    assert result2.asset_value("uses_source") == 42


def test_external_asset_cannot_be_selected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="external asset"):
        from weir._execution.plan import build_plan
        from weir._graph.resolve import resolve_assets

        resolved = resolve_assets([dg.AssetSpec("ext")])
        build_plan(resolved, [dg.AssetKey("ext")])


def test_materialize_needs_a_list():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="takes a list"):
        dg.materialize(upstream)  # type: ignore[arg-type]


def test_materialize_to_memory_rejects_io_managers():
    with pytest.raises(dg.DagsterInvariantViolationError, match="materialize_to_memory"):
        dg.materialize_to_memory([upstream], resources={"io_manager": dg.InMemoryIOManager()})


def test_direct_invocation():
    assert upstream() == 1
    assert downstream(5) == 6
    assert downstream(upstream=5) == 6

    @dg.asset
    def needs_context(context: dg.AssetExecutionContext, x):
        return x * 2

    assert needs_context(dg.build_asset_context(), 3) == 6
    with pytest.raises(dg.DagsterInvalidInvocationError, match="missing input 'upstream'"):
        downstream()
