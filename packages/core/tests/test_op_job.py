"""Ops, graphs and op jobs: composition, nesting, dynamic mapping, config, failures, invocation."""

from __future__ import annotations

import pytest

import weir as dg


@dg.op
def one() -> int:
    return 1


@dg.op
def add(x: int, y: int) -> int:
    return x + y


@dg.op(out=dg.DynamicOut())
def fan():
    for i in range(3):
        yield dg.DynamicOutput(i, mapping_key=f"k{i}")


@dg.op
def square(x: int) -> int:
    return x * x


@dg.op
def total(xs: list) -> int:
    return sum(xs)


def test_job_runs_ops_in_dependency_order_with_event_sequence():
    @dg.job
    def simple():
        add(one(), one())

    result = simple.execute_in_process()
    assert result.success
    assert result.output_for_node("add") == 2
    steps = [e.step_key for e in result.get_step_success_events()]
    assert steps == ["one", "one_2", "add"]
    kinds = [e.event_type_value for e in result.events_for_node("add")]
    assert kinds == [
        "STEP_START",
        "LOADED_INPUT",
        "STEP_INPUT",
        "LOADED_INPUT",
        "STEP_INPUT",
        "STEP_OUTPUT",
        "HANDLED_OUTPUT",
        "STEP_SUCCESS",
    ]
    assert isinstance(simple, dg.JobDefinition)


def test_nested_graph_step_keys_and_graph_outputs():
    @dg.graph
    def sub(a):
        return add(a, one())

    @dg.job
    def outer():
        add(sub(one()), one())

    result = outer.execute_in_process()
    assert {e.step_key for e in result.get_step_success_events()} == {
        "one",
        "sub.one",
        "sub.add",
        "one_2",
        "add",
    }
    assert result.output_for_node("sub") == 2
    assert result.output_for_node("sub.add") == 2
    assert result.output_for_node("add") == 3


def test_dynamic_map_and_collect():
    @dg.job
    def dynamic():
        total(fan().map(square).collect())

    result = dynamic.execute_in_process()
    assert result.success
    assert result.output_for_node("square") == {"k0": 0, "k1": 1, "k2": 4}
    assert result.output_for_node("total") == 5
    assert {"square[k0]", "square[k1]", "square[k2]"} <= {
        e.step_key for e in result.get_step_success_events()
    }


def test_duplicate_mapping_key_fails_clearly():
    @dg.op(out=dg.DynamicOut())
    def dup():
        yield dg.DynamicOutput(1, mapping_key="a")
        yield dg.DynamicOutput(2, mapping_key="a")

    @dg.job
    def j():
        dup().map(square)

    result = j.execute_in_process(raise_on_error=False)
    assert "mapping key" in result.failure_data_for_node("dup").error.message


def test_multiple_outputs_and_optional_output_skips_downstream():
    @dg.op(out={"a": dg.Out(int), "b": dg.Out(int, is_required=False)})
    def split():
        yield dg.Output(1, output_name="a")

    @dg.op
    def use(v: int) -> int:
        return v

    @dg.job
    def j():
        a, b = split()
        use.alias("use_a")(a)
        use.alias("use_b")(b)

    result = j.execute_in_process()
    assert result.success
    assert result.output_for_node("use_a") == 1
    assert result.is_node_skipped("use_b")


class Scale(dg.Config):
    factor: int


class Counter(dg.ConfigurableResource):
    start: int = 0


def test_config_param_and_run_config_errors():
    @dg.op
    def scaled(config: Scale) -> int:
        return 10 * config.factor

    @dg.job
    def j():
        scaled()

    assert (
        j.execute_in_process(
            run_config={"ops": {"scaled": {"config": {"factor": 3}}}}
        ).output_for_node("scaled")
        == 30
    )
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:ops:scaled:config"):
        j.execute_in_process(run_config={"ops": {"scaled": {"config": {"factor": "x"}}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match='unexpected config entry "nope"'):
        j.execute_in_process(run_config={"ops": {"nope": {}, "scaled": {"config": {"factor": 1}}}})


def test_failure_reraises_user_error_and_blocks_downstream():
    @dg.op
    def boom() -> int:
        raise RuntimeError("kaput")

    @dg.job
    def j():
        add(boom(), one())

    with pytest.raises(RuntimeError, match="kaput"):
        j.execute_in_process()
    result = j.execute_in_process(raise_on_error=False)
    assert result.is_node_failed("boom")
    assert result.is_node_untouched("add")
    assert result.is_node_success("one")


def test_unconnected_input_without_default_is_explained():
    @dg.job
    def j():
        square()

    result = j.execute_in_process(raise_on_error=False)
    assert (
        "not connected to any upstream output"
        in result.failure_data_for_node("square").error.message
    )
    ok = j.execute_in_process(run_config={"ops": {"square": {"inputs": {"x": {"value": 4}}}}})
    assert ok.output_for_node("square") == 16


def test_graph_inputs_and_to_job_with_input_values():
    @dg.graph
    def g(x):
        return square(x)

    result = g.to_job(input_values={"x": 5}).execute_in_process()
    assert result.output_value() == 25
    assert g.execute_in_process(input_values={"x": 2}).output_value() == 4


def test_composition_errors():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="only pass outputs of other ops"):

        @dg.graph
        def bad():
            square(3)

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="has no input 'z'"):

        @dg.graph
        def bad2():
            square(z=one())

    with pytest.raises(dg.DagsterInvalidInvocationError, match="cannot be invoked directly"):

        @dg.graph
        def g():
            one()

        g()


def test_direct_invocation_of_ops():
    assert add(1, 2) == 3
    assert add(x=1, y=4) == 5

    @dg.op
    def with_ctx(context: dg.OpExecutionContext, x: int) -> int:
        return x + (context.op_config or {}).get("plus", 0)

    assert with_ctx(dg.build_op_context(op_config={"plus": 2}), 1) == 3
    assert [o.mapping_key for o in fan()] == ["k0", "k1", "k2"]
    with pytest.raises(dg.DagsterInvalidInvocationError, match="missing input 'y'"):
        add(1)


def test_op_job_in_definitions_with_resources():
    @dg.op
    def count(counter: Counter) -> int:
        return counter.start + 1

    @dg.job
    def j():
        count()

    defs = dg.Definitions(jobs=[j], resources={"counter": Counter(start=41)})
    assert defs.get_job_def("j").execute_in_process().output_for_node("count") == 42
    with pytest.raises(dg.WeirError, match="counter"):
        j.execute_in_process()


def test_op_retry_policy_and_hooks():
    attempts = []
    seen_hooks = []

    @dg.success_hook
    def on_ok(context: dg.HookContext):
        seen_hooks.append(("ok", context.step_key))

    @dg.failure_hook
    def on_fail(context: dg.HookContext):
        seen_hooks.append(("fail", context.step_key))

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context: dg.OpExecutionContext) -> int:
        attempts.append(context.retry_number)
        if context.retry_number < 1:
            raise ValueError("transient")
        return 7

    @dg.job(hooks={on_ok, on_fail})
    def j():
        flaky()

    result = j.execute_in_process()
    assert result.output_for_node("flaky") == 7
    assert attempts == [0, 1]
    kinds = [e.event_type_value for e in result.events_for_node("flaky")]
    assert "STEP_UP_FOR_RETRY" in kinds and "STEP_RESTARTED" in kinds
    assert seen_hooks == [("ok", "flaky")]  # a retried attempt is not a failure


def test_op_retries_exhausted():
    @dg.op
    def always_fails() -> int:
        raise RuntimeError("nope")

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=1))
    def j():
        always_fails()

    with pytest.raises(dg.DagsterMaxRetriesExceededError, match="nope"):
        j.execute_in_process()
    result = j.execute_in_process(raise_on_error=False)
    assert result.is_node_failed("always_fails")


def test_assets_definition_from_op():
    @dg.op
    def doubled(numbers: list) -> list:
        return [n * 2 for n in numbers]

    @dg.asset
    def numbers() -> list:
        return [1, 2]

    asset_def = dg.AssetsDefinition.from_op(
        doubled, keys_by_output_name={"result": dg.AssetKey("doubled_numbers")}
    )
    assert asset_def.key == dg.AssetKey("doubled_numbers")
    result = dg.materialize_to_memory([numbers, asset_def])
    assert result.asset_value("doubled_numbers") == [2, 4]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="not inputs or outputs"):
        dg.AssetsDefinition.from_op(doubled, keys_by_input_name={"nope": dg.AssetKey("x")})


def test_nothing_dependency_orders_ops_and_mapping_key_is_visible():
    order = []

    @dg.op
    def first() -> None:
        order.append("first")

    @dg.op(ins={"start": dg.In(dg.Nothing)})
    def second() -> int:
        order.append("second")
        return 2

    @dg.op
    def keyed(context: dg.OpExecutionContext, x: int) -> str:
        return f"{context.get_mapping_key()}={x}"

    @dg.job
    def j():
        second(start=first())
        fan().map(keyed)

    result = j.execute_in_process()
    assert order == ["first", "second"]
    assert result.output_for_node("keyed") == {"k0": "k0=0", "k1": "k1=1", "k2": "k2=2"}
    assert dg.build_op_context(mapping_key="m").get_mapping_key() == "m"


def test_config_errors_have_dagster_style_entries():
    @dg.job
    def j():
        scaled_op()

    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        j.execute_in_process(run_config={"ops": {"scaled_op": {"config": {"factor": "x"}}}})
    first = info.value.errors[0]
    assert "root:ops:scaled_op:config" in first.message
    assert first == first.message  # each entry is also the message string


@dg.op
def scaled_op(config: Scale) -> int:
    return config.factor
