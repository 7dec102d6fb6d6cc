"""DagsterType and friends: definitions, built-ins, annotation mapping, checks in runs, errors."""

from __future__ import annotations

import time
import typing
from collections.abc import Iterator, Sequence

import pytest

import weir as dg
from weir._execution.types import display_name, is_nothing, resolve_type, run_type_check, type_check
from weir._model import dagster_type as T
from weir._model.asset_in_out import NO_TYPE
from weir._model.metadata import IntMetadataValue, TextMetadataValue
from weir._model.results import DynamicOutput, MaterializeResult, ObserveResult, Output
from weir.errors import (
    DefinitionError,
    InvariantViolationError,
    TypeCheckError,
    UserCodeExecutionError,
    WeirError,
)


def _is_even(_context, value):
    return isinstance(value, int) and value % 2 == 0


Even = T.DagsterType(_is_even, name="Even", description="An even integer")


# -- DagsterType definition ---------------------------------------------------------------------


def test_dagster_type_attributes():
    assert Even.display_name == Even.unique_name == Even.key == "Even"
    assert Even.has_unique_name
    assert Even.description == "An even integer"
    assert Even.kind is T.DagsterTypeKind.REGULAR
    assert Even.typing_type is typing.Any
    assert not Even.is_builtin and not Even.is_nothing and not Even.is_nullable
    assert Even.loader is None and Even.required_resource_keys == frozenset()
    assert repr(Even) == "DagsterType('Even')"


def test_key_only_type_has_no_unique_name():
    keyed = T.DagsterType(_is_even, key="even_key")
    assert keyed.display_name == "even_key"
    assert not keyed.has_unique_name
    with pytest.raises(InvariantViolationError, match="unique_name requested but is None"):
        keyed.unique_name  # noqa: B018


def test_types_compare_by_key():
    again = T.DagsterType(lambda _c, v: True, name="Even")
    assert again == Even and hash(again) == hash(Even)
    assert T.DagsterType(_is_even, name="Odd") != Even


def test_metadata_is_normalized():
    typed = T.DagsterType(_is_even, name="Documented", metadata={"rows": 3, "owner": "ana"})
    assert typed.metadata == {"rows": IntMetadataValue(3), "owner": TextMetadataValue("ana")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"needs a name \(or a key\)"),
        ({"name": 3}, "name must be a str, got 3"),
        ({"name": "X", "kind": "REGULAR"}, 'kind of DagsterType "X" must be a DagsterTypeKind'),
        ({"name": "X", "loader": object()}, "must be made with @dagster_type_loader"),
        ({"name": "X", "required_resource_keys": {1}}, "required_resource_keys .* must be strings"),
    ],
)
def test_bad_definitions_fail_clearly(kwargs, message):
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=message):
        T.DagsterType(_is_even, **kwargs)


def test_type_check_fn_must_take_context_and_value():
    with pytest.raises(
        DefinitionError, match=r'type_check_fn argument on type "One" must take 2 .*received 1'
    ):
        T.DagsterType(lambda value: True, name="One")
    with pytest.raises(DefinitionError, match="received 3"):
        T.DagsterType(lambda c, v, extra: True, name="Three")
    with pytest.raises(DefinitionError, match="must be callable"):
        T.DagsterType("not a function", name="Str")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="received 3"):
        T.DagsterType(lambda c, v, *, flag: True, name="KeywordOnly")
    # optional extras and *args are fine
    assert T.DagsterType(lambda c, v, extra=1: True, name="Extra").type_check(None, 1).success
    assert T.DagsterType(lambda *args: True, name="Star").type_check(None, 1).success


def test_type_check_accepts_bool_or_type_check():
    assert Even.type_check(None, 4) == T.TypeCheck(True)
    assert Even.type_check(None, 3) == T.TypeCheck(False)
    rich = T.DagsterType(
        lambda _c, v: T.TypeCheck(v > 0, description=f"got {v}", metadata={"value": v}),
        name="Positive",
    )
    outcome = rich.type_check(None, -1)
    assert not outcome.success and outcome.description == "got -1"
    assert outcome.metadata == {"value": IntMetadataValue(-1)}


def test_type_check_returning_something_else_names_the_type():
    sloppy = T.DagsterType(lambda _c, v: "yes", name="Sloppy")
    with pytest.raises(dg.DagsterInvariantViolationError) as info:
        sloppy.type_check(None, 1)
    assert str(info.value) == (
        "You have returned 'yes' of type <class 'str'> from the type check function of type "
        '"Sloppy". Return value must be instance of TypeCheck or a bool.'
    )


# -- TypeCheck and TypeCheckContext -------------------------------------------------------------


def test_type_check_value_object():
    outcome = T.TypeCheck(False, "too small", {"n": 1})
    success, description, metadata = outcome
    assert (success, description, metadata) == (False, "too small", {"n": IntMetadataValue(1)})
    assert repr(T.TypeCheck(True)) == "TypeCheck(success=True, description=None, metadata={})"
    with pytest.raises(AttributeError, match="immutable"):
        outcome.success = True  # type: ignore[misc]
    with pytest.raises(DefinitionError, match="success must be a bool, got 1"):
        T.TypeCheck(1)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="description must be a str"):
        T.TypeCheck(True, description=3)  # type: ignore[arg-type]


def test_context_carries_run_resources_and_type():
    seen = {}

    def check(context, value):
        seen["run_id"] = context.run_id
        seen["db"] = context.resources.db
        seen["type"] = context.dagster_type
        context.log.debug("checked %s", value)
        return True

    Checked = T.DagsterType(check, name="Checked", required_resource_keys={"db"})

    class Resources:
        db = "sqlite://"

    context = T.TypeCheckContext(run_id="r1", resources=Resources())
    assert run_type_check(Checked, 1, context).success
    assert seen == {"run_id": "r1", "db": "sqlite://", "type": Checked}


def test_missing_resources_say_what_to_declare():
    needy = T.DagsterType(lambda context, v: context.resources.db is not None, name="Needy")
    with pytest.raises(InvariantViolationError, match=r"required_resource_keys=\{'db'\}"):
        needy.type_check(None, 1)
    probing = T.DagsterType(lambda context, v: not hasattr(context.resources, "db"), name="Probe")
    assert probing.type_check(None, 1).success


# -- built-ins ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dagster_type", "value", "description"),
    [
        (T.Int, "a", 'Value "a" of python type "str" must be a int.'),
        (T.Int, 1.5, 'Value "1.5" of python type "float" must be a int.'),
        (T.Float, 1, 'Value "1" of python type "int" must be a float.'),
        (T.Bool, 1, 'Value "1" of python type "int" must be a bool.'),
        (T.String, b"x", 'Value "b\'x\'" of python type "bytes" must be a string.'),
        (T.Nothing, 0, "Value must be None or unset, got a <class 'int'>"),
    ],
)
def test_builtin_failures_match_dagster_messages(dagster_type, value, description):
    assert dagster_type.type_check(None, value) == T.TypeCheck(False, description)


@pytest.mark.parametrize(
    ("dagster_type", "value"),
    [(T.Int, 3), (T.Int, True), (T.Float, 2.5), (T.Bool, False), (T.String, ""), (T.Nothing, None)],
)
def test_builtin_successes(dagster_type, value):
    # like Dagster, Int is an isinstance check, so bools pass; Float does not take ints
    assert dagster_type.type_check(None, value).success


def test_any_accepts_everything():
    for value in (None, 1, "x", object()):
        assert T.Any.type_check(None, value).success
    assert T.Any.kind is T.DagsterTypeKind.ANY and T.Nothing.is_nothing
    assert {t.display_name for t in (T.Any, T.Int, T.Float, T.Bool, T.String, T.Nothing)} == {
        "Any",
        "Int",
        "Float",
        "Bool",
        "String",
        "Nothing",
    }
    assert all(t.is_builtin for t in (T.Any, T.Int, T.Float, T.Bool, T.String, T.Nothing))


def test_long_values_are_cut_in_messages():
    description = T.Int.type_check(None, "x" * 10_000).description
    assert (
        description is not None
        and len(description) < 600
        and '..." of python type "str"' in description
    )


# -- PythonObjectDagsterType --------------------------------------------------------------------


class Point:
    pass


def test_python_object_type():
    point = T.PythonObjectDagsterType(Point)
    assert point.display_name == "Point" and point.typing_type is Point
    assert point.type_check(None, Point()).success
    assert point.type_check(None, 3).description == (
        "Value of type <class 'int'> failed type check for Dagster type Point, expected value to be "
        "of Python type Point."
    )
    number = T.PythonObjectDagsterType((int, float))
    assert number.display_name == "Union[int, float]"
    assert number.type_check(None, 1.5).success and not number.type_check(None, "1").success
    named = T.PythonObjectDagsterType(Point, name="Point2D", description="A point")
    assert named.display_name == "Point2D" and named.description == "A point"


def test_python_object_type_needs_a_class():
    with pytest.raises(DefinitionError, match="needs a class or a tuple of classes, got 3"):
        T.PythonObjectDagsterType(3)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="not an instance"):
        T.PythonObjectDagsterType(Point())  # type: ignore[arg-type]


# -- annotations -> types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        (int, "Int"),
        (str, "String"),
        (float, "Float"),
        (bool, "Bool"),
        (typing.Any, "Any"),
        (None, "Nothing"),
        (type(None), "Nothing"),
        (list, "[Any]"),
        (list[int], "[Int]"),
        (typing.List[str], "[String]"),  # noqa: UP006
        (dict, "PythonDict"),
        (dict[str, int], "Dict[String,Int]"),
        (set, "PythonSet"),
        (set[int], "Set[Int]"),
        (tuple, "PythonTuple"),
        (tuple[int, str], "Tuple[Int,String]"),
        (tuple[int, ...], "Tuple[Int,...]"),
        (typing.Optional[int], "Int?"),  # noqa: UP045
        (int | None, "Int?"),
        (list[typing.Optional[str]], "[String?]"),  # noqa: UP045
        (typing.Union[int, str], "Union[Int, String]"),  # noqa: UP007
        (Point, "Point"),
        (Output[int], "Int"),
        (Output, "Any"),
        (MaterializeResult, "Any"),
        (MaterializeResult[str], "String"),
        (ObserveResult, "Nothing"),
        (list[DynamicOutput[int]], "Int"),
        (typing.Annotated[int, "meta"], "Int"),
        (Sequence[int], "Sequence[Int]"),
        (NO_TYPE, "Any"),
    ],
)
def test_annotation_display_names(annotation, shown):
    assert display_name(annotation) == shown


def test_annotations_resolve_to_cached_types():
    assert resolve_type(int) is T.Int and resolve_type(list[int]) is resolve_type(list[int])
    assert resolve_type(Point) is resolve_type(Point)
    assert resolve_type(Point).key == f"_TypeHintInferred[{__name__}.Point]"
    assert isinstance(resolve_type(Point), T.PythonObjectDagsterType)
    assert not resolve_type(Point).has_unique_name
    assert resolve_type(list[int]).typing_type == list[int]
    assert resolve_type(typing.Optional[int]).is_nullable  # noqa: UP045


@pytest.mark.parametrize(
    ("annotation", "value", "passed", "description"),
    [
        (list[int], [1, 2], True, None),
        (list[int], [1, "x"], False, 'Value "x" of python type "str" must be a int.'),
        (list[int], (1,), False, 'Value "(1,)" of python type "tuple" must be a list.'),
        (dict[str, int], {"a": 1}, True, None),
        (dict[str, int], {"a": "b"}, False, 'Value "b" of python type "str" must be a int.'),
        (dict[str, int], [], False, "Value should be a dict, got a <class 'list'>"),
        (set[int], {1}, True, None),
        (set[int], [1], False, "Value should be a set, got a <class 'list'>"),
        (tuple[int, str], (1, "a"), True, None),
        (
            tuple[int, str],
            (1,),
            False,
            "Tuple with key TypedPythonTupleInt.String requires 2 entries, received 1 values",
        ),
        (tuple[int, ...], (1, 2, 3), True, None),
        (tuple[int, ...], (1, "2"), False, 'Value "2" of python type "str" must be a int.'),
        (typing.Optional[int], None, True, None),  # noqa: UP045
        (int | None, "a", False, 'Value "a" of python type "str" must be a int.'),
        (typing.Union[int, str], "a", True, None),  # noqa: UP007
        (
            typing.Union[int, str],
            [],
            False,
            'Value "[]" of python type "list" must be a Union[Int, String].',
        ),  # noqa: UP007
        (dict, {}, True, None),
        (
            dict,
            [],
            False,
            "Value of type <class 'list'> failed type check for Dagster type PythonDict, expected value to be of Python type dict.",
        ),
        (Sequence[int], [1], True, None),
        (
            Sequence[int],
            3,
            False,
            "Value of type <class 'int'> failed type check for Dagster type Sequence[Int], expected value to be of Python type Sequence.",
        ),
        (typing.Literal["a"], "b", True, None),
        (Iterator[int], 3, True, None),
        ("Unresolved", 3, True, None),
        (None, None, True, None),
        (NO_TYPE, object(), True, None),
    ],
)
def test_checks_of_annotations(annotation, value, passed, description):
    assert type_check(annotation, value) == (passed, description)


def test_weir_container_apis():
    assert T.List[T.Int].display_name == "[Int]" and T.List(T.Int).display_name == "[Int]"
    assert T.List[int] == T.List[T.Int]
    assert T.Dict[str, T.Int].display_name == "Dict[String,Int]"
    assert T.Set[int].display_name == "Set[Int]"
    assert T.Tuple[int, str].display_name == "Tuple[Int,String]"
    assert T.Tuple[int].display_name == "Tuple[Int]"
    assert T.Optional[T.List[Even]].display_name == "[Even]?"
    assert T.List[Even].type_check(None, [2, 3]) == T.TypeCheck(False)
    assert T.List[T.Int].inner_types == [T.Int] and T.List[T.Int].supports_fan_in
    assert resolve_type(T.List) is resolve_type(list) and resolve_type(T.Dict) is T.PythonDict


def test_container_misuse_fails_clearly():
    with pytest.raises(
        DefinitionError, match="Type Nothing can not be wrapped in List or Optional"
    ):
        T.List[T.Nothing]
    with pytest.raises(
        DefinitionError, match="Type Nothing can not be wrapped in List or Optional"
    ):
        T.Optional[None]
    with pytest.raises(
        DefinitionError,
        match=r"List\(\.\.\.\) takes a DagsterType, got <class 'int'>; write List\[int\]",
    ):
        T.List(int)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="Dict.* takes two parameters"):
        T.Dict[str]
    with pytest.raises(DefinitionError, match="Set"):
        T.Set[T.Nothing]
    with pytest.raises(DefinitionError, match=r"Optional needs a type parameter"):
        resolve_type(T.Optional)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            [int],
            r"got \[<class 'int'>\], which isn't hashable. Did you pass an instance of a type instead of the type\?",
        ),
        (
            5,
            r"Invalid type: dagster_type must be an instance of DagsterType or a Python type: got 5\. Pass a Python class",
        ),
        (T.DagsterType, "Do not pass runtime type classes"),
    ],
)
def test_values_that_are_not_types(value, message):
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=message):
        resolve_type(value)


def test_dynamic_output_alone_is_an_error():
    with pytest.raises(
        InvariantViolationError,
        match="DynamicOutputs can only be returned in the context of a List",
    ):
        resolve_type(DynamicOutput)


def test_is_nothing():
    assert is_nothing(None) and is_nothing(T.Nothing) and is_nothing(ObserveResult)
    assert not is_nothing(int) and not is_nothing(NO_TYPE) and not is_nothing(Even)


# -- registering classes ------------------------------------------------------------------------


def test_make_python_type_usable_as_dagster_type():
    class Money:
        pass

    MoneyType = T.DagsterType(lambda _c, v: isinstance(v, Money), name="MoneyType")
    T.make_python_type_usable_as_dagster_type(Money, MoneyType)
    T.make_python_type_usable_as_dagster_type(Money, MoneyType)  # same pair again: fine
    assert resolve_type(Money) is MoneyType and display_name(list[Money]) == "[MoneyType]"
    with pytest.raises(DefinitionError, match="can only be called once per class"):
        T.make_python_type_usable_as_dagster_type(Money, T.DagsterType(_is_even, name="Other"))


def test_registering_after_use_as_annotation_is_an_error():
    class Late:
        pass

    assert display_name(Late) == "Late"  # inferred from the annotation
    with pytest.raises(
        DefinitionError, match="before make_python_type_usable_as_dagster_type was called"
    ):
        T.make_python_type_usable_as_dagster_type(Late, T.DagsterType(_is_even, name="LateType"))


def test_make_python_type_usable_checks_arguments():
    with pytest.raises(DefinitionError, match="needs a class, got 3"):
        T.make_python_type_usable_as_dagster_type(3, Even)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="needs a DagsterType, got <class 'int'>"):
        T.make_python_type_usable_as_dagster_type(Point, int)  # type: ignore[arg-type]


def test_usable_as_dagster_type_decorator():
    @T.usable_as_dagster_type
    class Bare:
        pass

    @T.usable_as_dagster_type(name="Fancy", description="fancy things")
    class Named:
        pass

    assert resolve_type(Bare).display_name == "Bare" and resolve_type(Bare).has_unique_name
    assert resolve_type(Named).display_name == "Fancy"
    assert resolve_type(Named).description == "fancy things"
    assert not type_check(Named, Bare())[0]
    with pytest.raises(DefinitionError, match="decorates a class"):
        T.usable_as_dagster_type(name="X")(lambda: None)  # type: ignore[type-var]


# -- loaders ------------------------------------------------------------------------------------


def test_dagster_type_loader_is_stored_on_the_type():
    @T.dagster_type_loader(config_schema={"path": str}, required_resource_keys={"fs"})
    def load_csv(_context, config):
        return f"rows of {config['path']}"

    assert isinstance(load_csv, T.DagsterTypeLoader)
    assert load_csv.schema_type == {"path": str} and load_csv.required_resource_keys() == {"fs"}
    assert load_csv.construct_from_config_value(None, {"path": "a.csv"}) == "rows of a.csv"
    frame = T.DagsterType(lambda _c, v: True, name="Frame", loader=load_csv)
    assert frame.loader is load_csv
    assert T.Int.loader is not None and T.Int.loader.schema_type is int


def test_dagster_type_loader_needs_context_and_value():
    with pytest.raises(
        DefinitionError,
        match=r"'only_config' must take two positional parameters, \(context, config_value\)",
    ):

        @T.dagster_type_loader(config_schema=str)
        def only_config(config):
            return config


# -- check_dagster_type -------------------------------------------------------------------------


def test_check_dagster_type():
    assert T.check_dagster_type(Even, 2).success
    assert not T.check_dagster_type(Even, 3).success
    assert T.check_dagster_type(T.List[T.Int], [1]).success
    assert T.check_dagster_type(int, 1).success
    assert T.check_dagster_type(T.Dict[str, T.Any], {"foo": "bar"}).success
    with pytest.raises(InvariantViolationError, match="Must pass in a type from dagster module"):
        T.check_dagster_type(list[int], [1])
    with pytest.raises(InvariantViolationError, match="Must pass in a type from dagster module"):
        T.check_dagster_type(typing.Dict, {})  # noqa: UP006


def test_check_dagster_type_turns_failure_into_a_failed_check():
    class Failure(WeirError):  # stands in for weir's Failure: matched by name, like Dagster's
        def __init__(self, description, metadata=None):
            super().__init__(description)
            self.description = description
            self.metadata = metadata

    def strict(_context, value):
        raise Failure("not today", metadata={"tries": 2})

    def broken(_context, value):
        raise KeyError("oops")

    outcome = T.check_dagster_type(T.DagsterType(strict, name="Strict"), 1)
    assert outcome == T.TypeCheck(False, "not today", {"tries": 2})
    with pytest.raises(KeyError, match="oops"):
        T.check_dagster_type(T.DagsterType(broken, name="Broken"), 1)


# -- run_type_check (what the engine calls) -----------------------------------------------------


def test_raising_check_function_is_a_clear_error():
    def broken(_context, value):
        raise ValueError("kaput")

    Broken = T.DagsterType(broken, name="Broken")
    with pytest.raises(T.DagsterTypeCheckError) as info:
        run_type_check(Broken, 3, label='output "result" of op "scaled"')
    error = info.value
    assert isinstance(error, UserCodeExecutionError) and isinstance(
        error, dg.DagsterUserCodeExecutionError
    )
    assert isinstance(error.user_exception, ValueError) and error.__cause__ is error.user_exception
    assert str(error).startswith(
        'Error occurred while type-checking output "result" of op "scaled", with Python type '
        "<class 'int'> and Dagster type Broken: ValueError: kaput."
    )
    with pytest.raises(T.TypeCheckFunctionError, match='Fix the type check function of "Broken"'):
        type_check(Broken, 3)


def test_weir_errors_from_check_functions_propagate_unchanged():
    def strict(_context, value):
        raise TypeCheckError("deliberate")

    with pytest.raises(TypeCheckError, match="^deliberate$"):
        run_type_check(T.DagsterType(strict, name="Deliberate"), 1)


def test_run_type_check_returns_metadata():
    Sized = T.DagsterType(lambda _c, v: T.TypeCheck(True, metadata={"len": len(v)}), name="Sized")
    assert run_type_check(Sized, "abc").metadata == {"len": IntMetadataValue(3)}


def test_plain_int_check_stays_cheap():
    for _ in range(1000):
        type_check(int, 5)
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(20_000):
            type_check(int, 5)
        rounds.append((time.perf_counter() - start) / 20_000)
    # ~0.3 µs on the 2-core CI box; the bound leaves room for a noisy neighbour
    assert min(rounds) < 3e-6, f"type_check(int, 5) took {min(rounds) * 1e6:.2f} µs"


# -- in runs ------------------------------------------------------------------------------------


def test_custom_type_failure_in_a_run_matches_dagster():
    @dg.asset(dagster_type=Even)
    def odd():
        return 3

    result = dg.materialize_to_memory([odd], raise_on_error=False)
    assert not result.success
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    assert output.message == 'Yielded output "result" of type "Even". Warning! Type check failed.'
    assert output.event_specific_data.type_check_data.success is False
    error = result.failure_data_for_node("odd").error
    assert error.cls_name == "TypeCheckError"
    assert error.message.endswith(
        'Type check failed for step output "result" - expected type "Even". Description: None'
    )


def test_input_type_failure_in_a_run_matches_dagster():
    @dg.asset
    def letters():
        return "a"

    @dg.asset
    def count(letters: int) -> int:
        return letters + 1

    result = dg.materialize_to_memory([letters, count], raise_on_error=False)
    assert not result.success
    assert (
        'Type check failed for step input "letters" - expected type "Int". Description: '
        'Value "a" of python type "str" must be a int.'
    ) in result.failure_data_for_node("count").error.message


def test_container_annotations_in_a_run():
    @dg.asset
    def numbers() -> list[int]:
        return [1, 2]

    @dg.asset
    def maybe(numbers: list[int]) -> typing.Optional[int]:  # noqa: UP045
        return None

    result = dg.materialize_to_memory([numbers, maybe])
    assert result.success
    messages = [
        e.message for e in result.all_events if e.event_type_value in ("STEP_INPUT", "STEP_OUTPUT")
    ]
    assert messages == [
        'Yielded output "result" of type "[Int]". (Type check passed).',
        'Got input "numbers" of type "[Int]". (Type check passed).',
        'Yielded output "result" of type "Int?". (Type check passed).',
    ]

    @dg.asset
    def wrong() -> list[int]:
        return [1, "two"]  # type: ignore[list-item]

    failed = dg.materialize_to_memory([wrong], raise_on_error=False)
    assert (
        'expected type "[Int]". Description: Value "two" of python type "str" must be a int.'
        in (failed.failure_data_for_node("wrong").error.message)
    )


def test_raising_check_fails_the_output_step_naming_the_type():
    def broken(_context, value):
        raise ValueError("kaput")

    @dg.asset(dagster_type=T.DagsterType(broken, name="Broken"))
    def produced():
        return 1

    result = dg.materialize_to_memory([produced], raise_on_error=False)
    assert not result.success
    error = result.failure_data_for_node("produced").error
    assert "Dagster type Broken: ValueError: kaput" in error.message
