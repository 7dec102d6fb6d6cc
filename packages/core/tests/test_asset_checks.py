"""Asset checks: decorators, specs on assets, execution, blocking semantics, selection, errors."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

import weir as dg
from weir._execution.check_context import AssetCheckExecutionContext, build_asset_check_context
from weir._model.asset_checks import (
    AssetCheckEvaluation,
    AssetCheckFailedError,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    DagsterAssetCheckFailedError,
)
from weir._model.asset_checks_definition import (
    AssetChecksDefinition,
    asset_check,
    load_asset_checks_from_modules,
    multi_asset_check,
)
from weir.errors import (
    DefinitionError,
    DuplicateKeyError,
    InvariantViolationError,
    LoadInputError,
    ResourceError,
)

CK = dg.AssetCheckKey
K = dg.AssetKey


@dg.asset
def up() -> int:
    return 5


@dg.asset
def down(up: int) -> int:
    return up + 1


@dg.asset
def unrelated() -> int:
    return 0


def _check_events(result: dg.ExecuteInProcessResult) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]


# -- definitions ---------------------------------------------------------------------------------
def test_asset_check_decorator_builds_a_spec_and_a_step_named_after_asset_and_check() -> None:
    @asset_check(asset=up, metadata={"owner": "data"})
    def positive(up: int) -> AssetCheckResult:
        """Values must be positive."""
        return AssetCheckResult(passed=up > 0)

    assert isinstance(positive, AssetChecksDefinition)
    assert positive.check_key == CK(K("up"), "positive")
    assert positive.check_keys == {CK(K("up"), "positive")}
    assert positive.node_def.name == "up_positive"
    assert positive.op.name == "up_positive"
    spec = positive.get_spec_for_check_key(CK(K("up"), "positive"))
    assert spec.description == "Values must be positive."
    assert spec.metadata == {"owner": "data"}
    assert spec.blocking is False
    assert positive.keys_by_input_name == {"up": K("up")}


def test_asset_given_as_str_key_or_prefixed_definition() -> None:
    @dg.asset(key_prefix="raw")
    def orders() -> int:
        return 1

    @asset_check(asset=orders, name="fresh", blocking=True)
    def _check() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    assert _check.check_key == CK(K(["raw", "orders"]), "fresh")
    assert _check.node_def.name == "raw__orders_fresh"
    assert _check.blocking is True
    by_list = asset_check(asset=["raw", "orders"])(lambda_check())
    assert by_list.asset_key == K(["raw", "orders"])
    by_key = asset_check(asset=K("x"), name="named")(lambda_check())
    assert by_key.check_key == CK(K("x"), "named")


def lambda_check() -> object:
    def a_check() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    return a_check


def test_asset_check_spec_attributes_and_copies() -> None:
    spec = AssetCheckSpec(
        "nonneg", asset="orders", additional_deps=["customers"], blocking=True, description="d"
    )
    assert spec.key == CK(K("orders"), "nonneg")
    assert spec.asset_key == K("orders")
    assert spec.additional_dep_keys == [K("customers")]
    moved = spec.with_asset_key(K(["p", "orders"]))
    assert moved.key == CK(K(["p", "orders"]), "nonneg") and moved.blocking
    assert spec == AssetCheckSpec(
        "nonneg", asset="orders", additional_deps=["customers"], blocking=True, description="d"
    )
    assert "nonneg" in repr(spec) and "blocking=True" in repr(spec)
    with pytest.raises(AttributeError, match="immutable"):
        spec.blocking = False  # type: ignore[misc]
    import pickle

    assert pickle.loads(pickle.dumps(spec)) == spec
    with pytest.raises(DefinitionError, match="additional_deps lists the checked asset"):
        AssetCheckSpec("x", asset="orders", additional_deps=["orders"])
    with pytest.raises(DefinitionError, match="not a valid name"):
        AssetCheckSpec("bad name", asset="orders")


def test_asset_check_result_validates_its_fields() -> None:
    result = AssetCheckResult(passed=True, metadata={"rows": 3}, asset_key="a", check_name="c")
    assert result.metadata == {"rows": dg.MetadataValue.int(3)}
    assert result.asset_key == K("a")
    assert result.severity is AssetCheckSeverity.ERROR
    with pytest.raises(DefinitionError, match="passed must be True or False"):
        AssetCheckResult(passed="yes")  # type: ignore[arg-type]
    with pytest.raises(
        DefinitionError, match="AssetCheckSeverity.ERROR or AssetCheckSeverity.WARN"
    ):
        AssetCheckResult(passed=True, severity="WARN")  # type: ignore[arg-type]


def test_decorator_errors_name_the_problem() -> None:
    with pytest.raises(
        DefinitionError, match=r"multiple assets provided as parameters: \['a', 'b'\]"
    ):

        @asset_check(asset="a")
        def two(a, b) -> AssetCheckResult:  # type: ignore[no-untyped-def]
            return AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match=r"additional_ins names \['other'\]"):

        @asset_check(asset="a", additional_ins={"other": dg.AssetIn("o")})
        def missing_param(a) -> AssetCheckResult:  # type: ignore[no-untyped-def]
            return AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match="is the checked asset 'a'"):

        @asset_check(asset="a", additional_ins={"a": dg.AssetIn("a")})
        def self_in(a) -> AssetCheckResult:  # type: ignore[no-untyped-def]
            return AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match="asset= is required"):
        asset_check(asset=None)(lambda_check())


# -- execution -------------------------------------------------------------------------------------
def test_check_runs_after_its_asset_and_records_an_evaluation() -> None:
    @asset_check(asset=up, description="positive values")
    def positive(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=up > 0, metadata={"value": up}, description="checked")

    result = dg.materialize_to_memory([up, positive])
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert isinstance(evaluation, AssetCheckEvaluation)
    assert evaluation.asset_key == K("up")
    assert evaluation.check_name == "positive"
    assert evaluation.asset_check_key == CK(K("up"), "positive")
    assert evaluation.passed is True
    assert evaluation.metadata == {"value": dg.MetadataValue.int(5)}
    assert evaluation.severity is AssetCheckSeverity.ERROR
    assert evaluation.description == "checked"
    assert evaluation.blocking is False
    assert evaluation.target_materialization_data is not None
    assert evaluation.target_materialization_data.run_id == result.run_id
    [event] = _check_events(result)
    assert event.step_key == "up_positive"
    assert event.message == "Asset check 'positive' on 'up' passed."
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert steps == ["up", "up_positive"]
    assert result.is_node_success("up_positive")


def test_check_parameter_may_have_any_name_and_take_context_and_additional_ins() -> None:
    @asset_check(asset=up)
    def renamed(context: AssetCheckExecutionContext, value: int) -> AssetCheckResult:
        assert isinstance(context, AssetCheckExecutionContext)
        assert context.selected_asset_check_keys == {CK(K("up"), "renamed")}
        assert context.op_execution_context.asset_key_for_input("value") == K("up")
        assert [s.name for s in context.check_specs] == ["renamed"]
        return AssetCheckResult(passed=value == 5)

    @asset_check(asset=down, additional_ins={"base": dg.AssetIn("up")})
    def consistent(down: int, base: int) -> AssetCheckResult:
        return AssetCheckResult(passed=down == base + 1)

    @asset_check(asset=down, additional_deps=[unrelated])
    def no_input() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    assert consistent.keys_by_input_name == {"down": K("down"), "base": K("up")}
    result = dg.materialize_to_memory([up, down, unrelated, renamed, consistent, no_input])
    assert result.success
    assert sorted(e.check_name for e in result.get_asset_check_evaluations()) == [
        "consistent",
        "no_input",
        "renamed",
    ]
    assert all(e.passed for e in result.get_asset_check_evaluations())
    starts = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert starts.index("down_no_input") > starts.index("unrelated")


def test_check_is_not_run_when_its_asset_fails() -> None:
    ran = []

    @dg.asset
    def broken() -> int:
        raise ValueError("boom")

    @asset_check(asset=broken)
    def check_broken() -> AssetCheckResult:
        ran.append(1)
        return AssetCheckResult(passed=True)

    result = dg.materialize_to_memory([broken, check_broken], raise_on_error=False)
    assert not result.success
    assert ran == []
    assert result.is_node_untouched("broken_check_broken")


def test_blocking_error_check_fails_its_step_and_stops_downstream() -> None:
    @asset_check(asset=up, blocking=True)
    def negative(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=up < 0)

    result = dg.materialize_to_memory([up, down, unrelated, negative], raise_on_error=False)
    assert not result.success
    assert result.is_node_failed("up_negative")
    assert result.is_node_untouched("down")
    assert result.is_node_success("unrelated")
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed is False and evaluation.blocking is True
    error = result.failure_data_for_node("up_negative").error
    assert error.cls_name == "AssetCheckFailedError"
    assert error.message.endswith(
        "1 blocking asset check failed with ERROR severity:\nup: negative"
    )
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        K("unrelated"),
        K("up"),
    ]
    assert "Steps failed: ['up_negative']" in result.get_run_failure_event().message

    with pytest.raises(DagsterAssetCheckFailedError, match="1 blocking asset check failed"):
        dg.materialize_to_memory([up, down, negative])


def test_warn_failures_and_non_blocking_failures_block_nothing() -> None:
    @asset_check(asset=up, blocking=True)
    def warn_only(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN)

    @asset_check(asset=up)
    def not_blocking(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=False)

    result = dg.materialize_to_memory([up, down, warn_only, not_blocking])
    assert result.success
    assert result.is_node_success("down")
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["warn_only"].severity is AssetCheckSeverity.WARN
    assert not evaluations["warn_only"].passed and not evaluations["not_blocking"].passed
    assert _check_events(result)[0].message.endswith("failed.")


def test_blocking_check_on_an_external_asset_stops_its_dependents() -> None:
    external = dg.AssetSpec("ext")

    @asset_check(asset=external, blocking=True)
    def ext_ok() -> AssetCheckResult:
        return AssetCheckResult(passed=False)

    @dg.asset(deps=[external])
    def uses_ext() -> None:
        return None

    result = dg.materialize_to_memory([external, uses_ext, ext_ok], raise_on_error=False)
    assert not result.success
    assert result.is_node_untouched("uses_ext")
    assert result.get_asset_materialization_events() == []


def test_multi_asset_check_yields_one_result_per_spec() -> None:
    @dg.asset
    def second() -> int:
        return 7

    @multi_asset_check(
        specs=[
            AssetCheckSpec("c1", asset=up),
            AssetCheckSpec("c2", asset=up, blocking=True),
            AssetCheckSpec("c3", asset=second),
        ],
        ins={"remapped": second.key},
    )
    def many(up: int, remapped: int) -> Iterator[AssetCheckResult]:
        yield AssetCheckResult(passed=up == 5, asset_key="up", check_name="c1")
        yield AssetCheckResult(passed=False, asset_key="up", check_name="c2")
        yield AssetCheckResult(passed=remapped == 7, asset_key="second")

    assert many.node_def.name == "many"
    assert many.keys_by_input_name == {"up": K("up"), "remapped": K("second")}
    result = dg.materialize_to_memory([up, second, down, many], raise_on_error=False)
    assert [(e.check_name, e.passed) for e in result.get_asset_check_evaluations()] == [
        ("c1", True),
        ("c2", False),
        ("c3", True),
    ]
    assert result.is_node_failed("many")
    assert result.is_node_untouched("down")


def test_multi_asset_check_subsets_only_when_allowed() -> None:
    specs = [AssetCheckSpec("c1", asset="up"), AssetCheckSpec("c2", asset="up")]

    @multi_asset_check(specs=specs, name="fixed")
    def fixed() -> Iterator[AssetCheckResult]:
        yield AssetCheckResult(passed=True, check_name="c1")
        yield AssetCheckResult(passed=True, check_name="c2")

    with pytest.raises(DefinitionError, match="cannot run only"):
        dg.materialize_to_memory([up, fixed], selection=dg.AssetSelection.checks(CK(K("up"), "c1")))

    @multi_asset_check(specs=specs, name="flexible", can_subset=True)
    def flexible(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        for key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
            yield AssetCheckResult(passed=True, check_name=key.name)

    result = dg.materialize_to_memory(
        [up, flexible], selection=dg.AssetSelection.checks(CK(K("up"), "c2"))
    )
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["c2"]
    assert result.is_node_untouched("up")

    with pytest.raises(DefinitionError, match="parameter 'nonsense' matches none"):

        @multi_asset_check(specs=specs)
        def bad(nonsense: int) -> Iterator[AssetCheckResult]:
            yield AssetCheckResult(passed=True)


# -- checks declared on assets -----------------------------------------------------------------------
def test_check_specs_on_an_asset_are_evaluated_in_the_asset_step() -> None:
    @dg.asset(check_specs=[AssetCheckSpec("nonneg", asset="yielder")])
    def yielder() -> Iterator[object]:
        yield dg.Output(3)
        yield AssetCheckResult(passed=True, metadata={"min": 3})

    @dg.asset(check_specs=[AssetCheckSpec("ok", asset="returner")])
    def returner() -> dg.MaterializeResult:
        return dg.MaterializeResult(check_results=[AssetCheckResult(passed=False)])

    result = dg.materialize_to_memory([yielder, returner])
    assert result.success
    events = _check_events(result)
    assert [(e.step_key, e.event_specific_data.check_name) for e in events] == [
        ("returner", "ok"),
        ("yielder", "nonneg"),
    ]
    assert events[1].event_specific_data.target_materialization_data.run_id == result.run_id
    assert result.asset_value("yielder") == 3


def test_blocking_check_spec_fails_the_asset_step_after_its_materialization() -> None:
    @dg.asset(check_specs=[AssetCheckSpec("nonneg", asset="withchk", blocking=True)])
    def withchk() -> Iterator[object]:
        yield dg.Output(5)
        yield AssetCheckResult(passed=False)

    @dg.asset
    def after(withchk: int) -> int:
        return withchk

    result = dg.materialize_to_memory([withchk, after], raise_on_error=False)
    assert not result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [K("withchk")]
    assert result.is_node_untouched("after")
    message = result.failure_data_for_node("withchk").error.message
    assert "Blocking check 'nonneg' for asset 'withchk' failed with ERROR severity." in message
    with pytest.raises(AssetCheckFailedError, match="Blocking check 'nonneg'"):
        dg.materialize_to_memory([withchk, after])


def test_results_for_checks_the_step_does_not_evaluate_are_errors() -> None:
    @dg.asset(check_specs=[AssetCheckSpec("check1", asset="asset1")])
    def asset1() -> Iterator[object]:
        yield dg.Output(1)

    with pytest.raises(
        InvariantViolationError,
        match='did not return an output for non-optional output "asset1_check1"',
    ):
        dg.materialize_to_memory([asset1])

    @dg.asset(check_specs=[AssetCheckSpec("check1", asset="asset2")])
    def asset2() -> AssetCheckResult:
        return AssetCheckResult(check_name="check2", passed=True)

    with pytest.raises(
        InvariantViolationError,
        match="No checks currently being evaluated target asset 'asset2' and have name 'check2'",
    ):
        dg.materialize_to_memory([asset2])

    @asset_check(asset="up")
    def wrong_asset() -> AssetCheckResult:
        return AssetCheckResult(passed=True, asset_key="other")

    with pytest.raises(
        InvariantViolationError, match="It targets asset 'other' which is not targeted"
    ):
        dg.materialize_to_memory([up, wrong_asset])

    @dg.asset
    def no_specs() -> Iterator[object]:
        yield dg.Output(1)
        yield AssetCheckResult(passed=True)

    result = dg.materialize_to_memory([no_specs], raise_on_error=False)
    assert "No AssetCheckSpecs were found for this step" in (
        result.failure_data_for_node("no_specs").error.message
    )

    @dg.asset(
        check_specs=[
            AssetCheckSpec("c1", asset="two_checks"),
            AssetCheckSpec("c2", asset="two_checks"),
        ]
    )
    def two_checks() -> Iterator[object]:
        yield dg.Output(1)
        yield AssetCheckResult(passed=True)

    with pytest.raises(InvariantViolationError, match="didn't specify a check name"):
        dg.materialize_to_memory([two_checks])

    @asset_check(asset="up")
    def returns_number() -> int:
        return 1

    with pytest.raises(DefinitionError, match="must return an AssetCheckResult"):
        dg.materialize_to_memory([up, returns_number])

    @asset_check(asset="up")
    def returns_nothing() -> None:
        return None

    with pytest.raises(InvariantViolationError, match="returned no AssetCheckResult"):
        dg.materialize_to_memory([up, returns_nothing])


# -- definitions and selection --------------------------------------------------------------------
def test_check_on_an_asset_that_is_not_defined_is_a_clear_error() -> None:
    @asset_check(asset="upp")
    def typo() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError) as excinfo:
        dg.Definitions(assets=[up], asset_checks=[typo]).resolve_asset_graph()
    message = str(excinfo.value)
    assert "Asset check 'upp:typo'" in message
    assert "targets asset 'upp', which is not in these Definitions" in message
    assert "Did you mean 'up'?" in message
    assert "AssetSpec('upp')" in message
    # declaring the asset as external makes the check valid
    defs = dg.Definitions(assets=[up, dg.AssetSpec("upp")], asset_checks=[typo])
    assert CK(K("upp"), "typo") in defs.resolve_asset_graph().asset_check_keys

    @asset_check(asset=up, additional_ins={"other": dg.AssetIn("missing")})
    def bad_input(up: int, other: int) -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match="Input 'other' of asset check 'up_bad_input'"):
        dg.Definitions(assets=[up], asset_checks=[bad_input]).resolve_asset_graph()

    with pytest.raises(DefinitionError, match=r"asset_checks\[0\] is .*expected a definition"):
        dg.Definitions(assets=[up], asset_checks=[lambda_check()]).resolve_asset_graph()


def test_duplicate_check_keys_name_both_definitions() -> None:
    def make() -> AssetChecksDefinition:
        @asset_check(asset=up, name="same")
        def check_fn() -> AssetCheckResult:
            return AssetCheckResult(passed=True)

        return check_fn

    with pytest.raises(DuplicateKeyError, match="Duplicate asset check key: 'up:same'"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[up], asset_checks=[make(), make()]))

    @dg.asset(check_specs=[AssetCheckSpec("inline", asset="spec_owner")])
    def spec_owner() -> Iterator[object]:
        yield dg.Output(1)
        yield AssetCheckResult(passed=True)

    @asset_check(asset=spec_owner, name="inline")
    def clash() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    with pytest.raises(DuplicateKeyError, match="'spec_owner:inline'"):
        dg.Definitions(assets=[spec_owner], asset_checks=[clash]).resolve_asset_graph()


def test_job_selections_choose_which_checks_run() -> None:
    @dg.asset
    def other() -> int:
        return 1

    @asset_check(asset=up)
    def check_up() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    @asset_check(asset=other)
    def check_other() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    defs = dg.Definitions(
        assets=[up, other],
        asset_checks=[check_up, check_other],
        jobs=[
            dg.define_asset_job("only_up", selection=[up]),
            dg.define_asset_job("no_checks", selection=dg.AssetSelection.all().without_checks()),
            dg.define_asset_job("checks_only", selection=dg.AssetSelection.all_asset_checks()),
            dg.define_asset_job("one_check", selection=dg.AssetSelection.checks(check_other)),
        ],
        resources={"io_manager": dg.InMemoryIOManager()},
    )

    def run(name: str) -> tuple[list[str], list[str]]:
        result = defs.get_job_def(name).execute_in_process()
        assert result.success
        mats = sorted(
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
        )
        return mats, sorted(e.check_name for e in result.get_asset_check_evaluations())

    assert run("only_up") == (["up"], ["check_up"])
    assert run("no_checks") == (["other", "up"], [])
    assert run("checks_only") == ([], ["check_other", "check_up"])
    assert run("one_check") == ([], ["check_other"])
    implicit = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert len(implicit.get_asset_check_evaluations()) == 2


def test_check_only_run_loads_the_stored_value_or_says_what_to_do(tmp_path: object) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))

    @asset_check(asset=up)
    def stored(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=up == 5)

    only_check = dg.AssetSelection.checks(stored)
    result = dg.materialize(
        [up, stored], selection=only_check, instance=instance, raise_on_error=False
    )
    assert not result.success
    error = result.failure_data_for_node("up_stored").error
    assert error.cls_name == "LoadInputError"
    assert "materialize 'up' first" in error.message
    with pytest.raises(LoadInputError):
        dg.materialize([up, stored], selection=only_check, instance=instance)

    first = dg.materialize([up], instance=instance)
    result = dg.materialize([up, stored], selection=only_check, instance=instance)
    assert result.success
    assert result.is_node_untouched("up")
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.target_materialization_data is not None
    assert evaluation.target_materialization_data.run_id == first.run_id


def test_checks_may_be_listed_among_assets_and_loaded_from_modules() -> None:
    module = types.ModuleType("weir_test_checks_module")
    exec(
        "from weir._model.asset_checks import AssetCheckResult\n"
        "from weir._model.asset_checks_definition import asset_check\n"
        "@asset_check(asset='up')\n"
        "def mod_check(up):\n"
        "    return AssetCheckResult(passed=up == 5)\n"
        "not_a_check = 3\n",
        module.__dict__,
    )
    sys.modules[module.__name__] = module
    try:
        [loaded] = load_asset_checks_from_modules([module])
        assert loaded.check_key == CK(K("up"), "mod_check")
        [prefixed] = load_asset_checks_from_modules([module], asset_key_prefix="pre")
        assert prefixed.check_key == CK(K(["pre", "up"]), "mod_check")
        assert prefixed.keys_by_input_name == {"up": K(["pre", "up"])}
        assets = dg.load_assets_from_modules([sys.modules[__name__]], key_prefix="pre")
        pre_up = [a for a in assets if K(["pre", "up"]) in a.keys]
        result = dg.materialize_to_memory([*pre_up, prefixed])
        assert [e.asset_key for e in result.get_asset_check_evaluations()] == [K(["pre", "up"])]
        with pytest.raises(DefinitionError, match="takes modules"):
            load_asset_checks_from_modules(["not a module"])  # type: ignore[list-item]
    finally:
        del sys.modules[module.__name__]
    result = dg.Definitions(assets=[up, loaded], resources={"io_manager": dg.InMemoryIOManager()})
    evaluations = result.resolve_implicit_global_asset_job_def().execute_in_process()
    assert [e.check_name for e in evaluations.get_asset_check_evaluations()] == ["mod_check"]


class Threshold(dg.ConfigurableResource):
    minimum: int


def test_check_resources_are_injected_and_missing_ones_reported() -> None:
    @asset_check(asset=up)
    def above(up: int, threshold: Threshold) -> AssetCheckResult:
        return AssetCheckResult(passed=up >= threshold.minimum)

    @asset_check(asset=up, required_resource_keys={"limit"})
    def below(context: AssetCheckExecutionContext, up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=up <= context.resources.limit)

    result = dg.materialize_to_memory(
        [up, above, below], resources={"threshold": Threshold(minimum=1), "limit": 10}
    )
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True, True]

    @asset_check(asset=up, resource_defs={"limit": 3}, required_resource_keys={"limit"})
    def own_resource(context: AssetCheckExecutionContext) -> AssetCheckResult:
        return AssetCheckResult(passed=context.resources.limit == 3)

    assert dg.materialize_to_memory([up, own_resource]).get_asset_check_evaluations()[0].passed
    with pytest.raises(ResourceError, match="'threshold'"):
        dg.Definitions(assets=[up], asset_checks=[above], resources={}).resolve_asset_graph()


def test_direct_invocation_of_checks() -> None:
    @asset_check(asset=up)
    def plain() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    @asset_check(asset=up)
    def with_value(up: int) -> AssetCheckResult:
        return AssetCheckResult(passed=up == 5)

    @asset_check(asset=up)
    def with_context(context: AssetCheckExecutionContext, up: int) -> AssetCheckResult:
        assert context.selected_asset_check_keys == {CK(K("up"), "with_context")}
        return AssetCheckResult(passed=up == 5)

    assert plain().passed
    assert with_value(5).passed
    assert not with_value(4).passed
    assert with_context(build_asset_check_context(), 5).passed

    @multi_asset_check(specs=[AssetCheckSpec("a", asset="up"), AssetCheckSpec("b", asset="up")])
    def both() -> Iterator[AssetCheckResult]:
        yield AssetCheckResult(passed=True, check_name="a")
        yield AssetCheckResult(passed=False, check_name="b")

    assert [r.passed for r in both()] == [True, False]
