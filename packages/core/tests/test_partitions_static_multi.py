"""Static, dynamic and multi-dimension partitions definitions, and the partition-type registry.

Dagster's behaviour is the reference: key formats ("2024-01-01|us" in dimension-name order),
duplicate-key and dimension errors, dynamic keys kept in the instance. Beyond Dagster: any number
of dimensions (3+), per-dimension selections as bitmaps, a million static keys.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import weir as dg
from weir._partitions.definition import UnknownPartitionKeyError
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.key_range import MultiPartitionKey, PartitionDimensionKey, PartitionKeyRange
from weir._partitions.multi import MultiPartitionsDefinition, PartitionDimensionDefinition
from weir._partitions.registry import (
    partitions_def_from_serializable,
    partitions_def_to_serializable,
)
from weir._partitions.requests import AddDynamicPartitionsRequest, DeleteDynamicPartitionsRequest
from weir._partitions.static import StaticPartitionsDefinition
from weir.errors import (
    DefinitionError,
    InvalidInvocationError,
    InvariantViolationError,
    PluginError,
)
from weir.hookspecs import hookimpl
from weir.plugins import PluginRegistry, get_plugin_manager

# --------------------------------------------------------------------------- static


def test_static_keys_keep_their_order_and_index() -> None:
    oceans = StaticPartitionsDefinition(["pacific", "arctic", "indian"])
    assert oceans.get_partition_keys() == ["pacific", "arctic", "indian"]
    assert oceans.get_num_partitions() == 3
    assert [oceans.index_of(k) for k in ("indian", "pacific", "atlantic")] == [2, 0, None]
    assert oceans.key_at(1) == "arctic" and oceans.key_at(-1) == "indian"
    assert oceans.get_first_partition_key() == "pacific"
    assert oceans.get_last_partition_key() == "indian"
    assert oceans.has_partition_key("arctic") and not oceans.has_partition_key("atlantic")
    assert list(oceans.iter_partition_keys(1)) == ["arctic", "indian"]
    assert oceans.get_partition_keys_in_range(PartitionKeyRange("arctic", "indian")) == [
        "arctic",
        "indian",
    ]


def test_static_listing_returns_a_copy_the_caller_may_change() -> None:
    regions = StaticPartitionsDefinition(("eu", "us"))
    keys = regions.get_partition_keys()
    keys.append("apac")
    assert regions.get_partition_keys() == ["eu", "us"]


def test_static_duplicates_fail_with_dagsters_message() -> None:
    with pytest.raises(
        DefinitionError,
        match=r"Partition keys must be unique\. Duplicate instances of partition keys: \['a', 'b'\]\.",
    ):
        StaticPartitionsDefinition(["a", "b", "a", "c", "b"])


def test_static_many_duplicates_are_listed_briefly() -> None:
    keys = [str(i) for i in range(100)] * 2
    with pytest.raises(DefinitionError, match="and 80 more"):
        StaticPartitionsDefinition(keys)


@pytest.mark.parametrize("bad", ["2024...2025", "tab\there", "new\nline", "nul\0"])
def test_static_keys_may_not_hold_range_separators_or_control_characters(bad: str) -> None:
    with pytest.raises(DefinitionError, match="invalid substrings in a partition key") as info:
        StaticPartitionsDefinition(["ok", bad])
    assert repr(bad) in str(info.value) and "key #1" in str(info.value)


def test_static_keys_must_be_strings_in_an_ordered_sequence() -> None:
    with pytest.raises(DefinitionError, match=r"partition key #1 is int 2"):
        StaticPartitionsDefinition(["1", 2])  # type: ignore[list-item]
    with pytest.raises(DefinitionError, match="takes a list or tuple of strings, got set"):
        StaticPartitionsDefinition({"a", "b"})  # type: ignore[arg-type]


def test_static_a_single_string_is_a_sequence_of_characters_as_in_dagster() -> None:
    assert StaticPartitionsDefinition("abc").get_partition_keys() == ["a", "b", "c"]


def test_static_unknown_key_suggests_the_closest_one() -> None:
    oceans = StaticPartitionsDefinition(["pacific", "arctic", "indian"])
    with pytest.raises(UnknownPartitionKeyError, match="Did you mean 'pacific'") as info:
        oceans.validate_partition_key("pacifc")
    assert "'pacifc' is not a partition of StaticPartitionsDefinition" in str(info.value)
    with pytest.raises(UnknownPartitionKeyError, match="'atlantic'"):
        oceans.get_partition_keys_in_range(PartitionKeyRange("arctic", "atlantic"))


def test_static_range_ending_before_it_starts_is_an_error() -> None:
    oceans = StaticPartitionsDefinition(["pacific", "arctic", "indian"])
    with pytest.raises(DefinitionError, match="ends before it starts"):
        oceans.get_partition_keys_in_range(PartitionKeyRange("indian", "pacific"))


def test_static_key_at_past_the_end_is_an_index_error() -> None:
    with pytest.raises(IndexError, match="out of range"):
        StaticPartitionsDefinition(["a"]).key_at(1)


def test_static_equality_hash_and_a_short_repr_for_many_keys() -> None:
    assert StaticPartitionsDefinition(["a", "b"]) == StaticPartitionsDefinition(("a", "b"))
    assert StaticPartitionsDefinition(["a", "b"]) != StaticPartitionsDefinition(["b", "a"])
    assert hash(StaticPartitionsDefinition(["a"])) == hash(StaticPartitionsDefinition(["a"]))
    assert repr(StaticPartitionsDefinition(["a", "b"])) == (
        "StaticPartitionsDefinition(partition_keys=['a', 'b'])"
    )
    many = StaticPartitionsDefinition([f"k{i}" for i in range(5000)])
    assert (
        repr(many)
        == "StaticPartitionsDefinition(partition_keys=['k0', 'k1', 'k2', ..., 'k4999'] (5,000 keys))"
    )


def test_a_million_static_keys_define_list_and_look_up() -> None:
    keys = [f"customer-{i:07d}" for i in range(1_000_000)]
    customers = StaticPartitionsDefinition(keys)
    listed = customers.get_partition_keys()
    assert len(listed) == 1_000_000 and listed[-1] == "customer-0999999"
    assert customers.index_of("customer-0500000") == 500_000
    assert customers.indices_of(["customer-0000003", "nobody"]) == [3, None]
    with pytest.raises(UnknownPartitionKeyError, match="Keys run from 'customer-0000000'"):
        customers.require_index("nobody")


# --------------------------------------------------------------------------- dynamic


@pytest.fixture(params=["ephemeral", "sqlite"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "ephemeral":
        yield dg.Instance.ephemeral()
    else:
        with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as sqlite_instance:
            yield sqlite_instance


def test_dynamic_keys_come_from_the_instance_in_the_order_added(instance: Any) -> None:
    fruits = DynamicPartitionsDefinition(name="fruits")
    assert fruits.get_partition_keys(dynamic_partitions_store=instance) == []
    instance.add_dynamic_partitions("fruits", ["apple", "pear"])
    instance.add_dynamic_partitions("fruits", ["plum", "apple"])
    instance.add_dynamic_partitions("vegetables", ["leek"])
    assert fruits.get_partition_keys(dynamic_partitions_store=instance) == ["apple", "pear", "plum"]
    assert fruits.get_num_partitions(dynamic_partitions_store=instance) == 3
    assert fruits.index_of("plum", dynamic_partitions_store=instance) == 2
    assert fruits.index_of("leek", dynamic_partitions_store=instance) is None
    assert fruits.key_at(1, dynamic_partitions_store=instance) == "pear"
    assert fruits.has_partition_key("pear", dynamic_partitions_store=instance)
    assert fruits.get_partition_keys_in_range(PartitionKeyRange("pear", "plum"), instance) == [
        "pear",
        "plum",
    ]
    instance.delete_dynamic_partition("fruits", "pear")
    assert fruits.get_partition_keys(dynamic_partitions_store=instance) == ["apple", "plum"]
    assert not fruits.has_partition_key("pear", dynamic_partitions_store=instance)


def test_dynamic_unknown_key_suggests_a_close_one(instance: Any) -> None:
    fruits = DynamicPartitionsDefinition(name="fruits")
    with pytest.raises(UnknownPartitionKeyError, match="no keys yet"):
        fruits.validate_partition_key("apple", dynamic_partitions_store=instance)
    instance.add_dynamic_partitions("fruits", ["apple", "pear"])
    with pytest.raises(UnknownPartitionKeyError, match="Did you mean 'apple'"):
        fruits.validate_partition_key("aple", dynamic_partitions_store=instance)
    with pytest.raises(UnknownPartitionKeyError, match="'grape'"):
        fruits.get_partition_keys_in_range(PartitionKeyRange("apple", "grape"), instance)


def test_dynamic_without_an_instance_says_to_pass_one() -> None:
    fruits = DynamicPartitionsDefinition(name="fruits")
    with pytest.raises(InvariantViolationError, match="dynamic_partitions_store=context.instance"):
        fruits.get_partition_keys()
    with pytest.raises(InvariantViolationError, match="no instance was given"):
        fruits.has_partition_key("apple")
    with pytest.raises(InvariantViolationError, match="must be an instance"):
        fruits.get_partition_keys(dynamic_partitions_store=["apple"])


class _CountingStore:
    """A third-party dynamic partitions store (the protocol, not weir's instance), counting calls."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.listings = 0
        self.lookups = 0

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        self.listings += 1
        return list(self.keys)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        self.lookups += 1
        return partition_key in self.keys


def test_dynamic_membership_asks_the_store_without_listing_and_nothing_is_cached() -> None:
    fruits = DynamicPartitionsDefinition(name="fruits")
    store = _CountingStore(["apple", "pear"])
    assert fruits.has_partition_key("pear", dynamic_partitions_store=store)
    assert not fruits.has_partition_key("fig", dynamic_partitions_store=store)
    assert (store.listings, store.lookups) == (0, 2)
    assert fruits.index_of("fig", dynamic_partitions_store=store) is None
    assert store.listings == 0  # a miss never lists
    assert fruits.indices_of(["pear", "fig", "apple"], dynamic_partitions_store=store) == [
        1,
        None,
        0,
    ]
    assert store.listings == 1  # bulk lookups list once
    store.keys.append("fig")
    assert fruits.get_partition_keys(dynamic_partitions_store=store) == ["apple", "pear", "fig"]


def test_dynamic_partition_fn_is_deprecated_but_works() -> None:
    with pytest.warns(DeprecationWarning, match="partition_fn"):
        legacy = DynamicPartitionsDefinition(lambda current_time: ["x", "y"])
    assert legacy.get_partition_keys() == ["x", "y"]
    assert legacy.has_partition_key("y") and legacy.index_of("y") == 1
    with pytest.raises(InvariantViolationError, match="has no name"):
        legacy.build_add_request(["z"])
    with pytest.raises(InvariantViolationError, match="has no name"):
        legacy.to_serializable()


def test_dynamic_needs_exactly_one_of_name_and_partition_fn() -> None:
    with pytest.raises(DefinitionError, match="Must provide either partition_fn or name"):
        DynamicPartitionsDefinition()
    with pytest.raises(DefinitionError, match="Cannot provide both partition_fn and name"):
        DynamicPartitionsDefinition(lambda t: [], name="x")
    with pytest.raises(DefinitionError, match="non-empty string"):
        DynamicPartitionsDefinition(name="")


def test_dynamic_requests_carry_the_name_and_keys() -> None:
    fruits = DynamicPartitionsDefinition(name="fruits")
    add = fruits.build_add_request(["apple", "pear"])
    delete = fruits.build_delete_request(("pear",))
    assert add == AddDynamicPartitionsRequest("fruits", ["apple", "pear"])
    assert (add.partitions_def_name, add.partition_keys) == ("fruits", ["apple", "pear"])
    assert delete == DeleteDynamicPartitionsRequest("fruits", ["pear"])
    assert AddDynamicPartitionsRequest("f", ["a"]) != DeleteDynamicPartitionsRequest("f", ["a"])
    with pytest.raises(InvariantViolationError, match="Wrap a single key in a list"):
        fruits.build_add_request("apple")  # type: ignore[arg-type]
    with pytest.raises(InvariantViolationError, match="partition key #1 is int"):
        fruits.build_add_request(["apple", 3])  # type: ignore[list-item]
    with pytest.raises(DefinitionError, match="invalid substrings"):
        fruits.build_add_request(["a...b"])


def test_dynamic_equality_and_repr() -> None:
    assert DynamicPartitionsDefinition(name="a") == DynamicPartitionsDefinition(name="a")
    assert DynamicPartitionsDefinition(name="a") != DynamicPartitionsDefinition(name="b")
    assert repr(DynamicPartitionsDefinition(name="a")) == "DynamicPartitionsDefinition(name='a')"
    assert str(DynamicPartitionsDefinition(name="a")) == 'Dynamic partitions: "a"'


# --------------------------------------------------------------------------- multi


def _regions() -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(["us", "eu"])


def _dates() -> StaticPartitionsDefinition:
    return StaticPartitionsDefinition(["2024-01-01", "2024-01-02", "2024-01-03"])


def test_two_dimension_keys_join_values_in_dimension_name_order() -> None:
    by_date = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    keys = by_date.get_partition_keys()
    assert keys[:3] == ["2024-01-01|us", "2024-01-01|eu", "2024-01-02|us"]
    assert all(isinstance(k, MultiPartitionKey) for k in keys)
    assert keys[0].keys_by_dimension == {"date": "2024-01-01", "region": "us"}
    colors = MultiPartitionsDefinition(
        {"date": _dates(), "color": StaticPartitionsDefinition(["r", "g"])}
    )
    assert colors.get_partition_keys()[0] == "r|2024-01-01"
    assert colors.partition_dimension_names == ["color", "date"]
    assert MultiPartitionKey({"date": "2024-01-01", "region": "us"}) == "2024-01-01|us"


def test_multi_partition_key_parts_and_pickling() -> None:
    key = MultiPartitionKey({"region": "us", "date": "2024-01-01"})
    assert key.dimension_keys == [
        PartitionDimensionKey("date", "2024-01-01"),
        PartitionDimensionKey("region", "us"),
    ]
    assert hash(key) == hash("2024-01-01|us")
    restored = pickle.loads(pickle.dumps(key))
    assert (
        type(restored) is MultiPartitionKey and restored.keys_by_dimension == key.keys_by_dimension
    )
    listed = MultiPartitionsDefinition(
        {"region": _regions(), "date": _dates()}
    ).get_partition_keys()[1]
    assert pickle.loads(pickle.dumps(listed)).keys_by_dimension == {
        "date": "2024-01-01",
        "region": "eu",
    }
    with pytest.raises(InvariantViolationError, match="mapping of dimension name to key"):
        MultiPartitionKey("2024-01-01|us")  # type: ignore[arg-type]


def test_multi_dimensions_are_sorted_by_name() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    assert multi.partitions_defs == [
        PartitionDimensionDefinition("date", _dates()),
        PartitionDimensionDefinition("region", _regions()),
    ]
    assert multi.get_partitions_def_for_dimension("region") == _regions()
    with pytest.raises(DefinitionError, match="Did you mean 'region'"):
        multi.get_partitions_def_for_dimension("regoin")


def test_multi_index_is_mixed_radix_with_the_first_dimension_slowest() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    keys = multi.get_partition_keys()
    assert multi.get_num_partitions() == 6
    assert [multi.index_of(k) for k in keys] == list(range(6))
    assert [multi.key_at(i) for i in range(6)] == keys
    assert multi.key_at(-1) == "2024-01-03|eu"
    assert multi.index_of("2024-01-02|eu") == 3
    assert multi.index_of("2024-01-09|eu") is None
    assert multi.index_of("2024-01-02") is None
    assert multi.indices_of(["2024-01-03|us", "x|y", "nope"]) == [4, None, None]
    assert list(multi.iter_partition_keys(4)) == ["2024-01-03|us", "2024-01-03|eu"]


def test_three_dimensions_are_supported() -> None:
    cube = MultiPartitionsDefinition(
        {
            "region": _regions(),
            "date": _dates(),
            "product": StaticPartitionsDefinition(["a", "b", "c", "d"]),
        }
    )
    keys = cube.get_partition_keys()
    assert len(keys) == cube.get_num_partitions() == 24
    assert keys[:2] == ["2024-01-01|a|us", "2024-01-01|a|eu"]
    assert keys[-1].keys_by_dimension == {"date": "2024-01-03", "product": "d", "region": "eu"}
    assert [cube.index_of(k) for k in keys] == list(range(24))
    assert cube.key_at(13) == keys[13]
    assert cube.get_partition_key_from_str("2024-01-02|c|us").keys_by_dimension["product"] == "c"
    assert cube.get_tags_for_partition_key("2024-01-02|c|us") == {
        "dagster/partition": "2024-01-02|c|us",
        "dagster/partition/date": "2024-01-02",
        "dagster/partition/product": "c",
        "dagster/partition/region": "us",
    }


def test_a_365_by_50_by_20_product_lists_all_its_keys() -> None:
    cube = MultiPartitionsDefinition(
        {
            "date": StaticPartitionsDefinition([f"2024-{d:03d}" for d in range(365)]),
            "region": StaticPartitionsDefinition([f"r{i}" for i in range(50)]),
            "product": StaticPartitionsDefinition([f"p{i}" for i in range(20)]),
        }
    )
    keys = cube.get_partition_keys()
    assert len(keys) == 365_000
    assert keys[-1] == "2024-364|p19|r49" and cube.index_of(keys[-1]) == 364_999


def test_multi_needs_at_least_two_dimensions() -> None:
    with pytest.raises(InvalidInvocationError, match="at least 2 partitions definitions"):
        MultiPartitionsDefinition({"date": _dates()})
    with pytest.raises(InvalidInvocationError, match="has 0"):
        MultiPartitionsDefinition({})
    with pytest.raises(DefinitionError, match="takes a mapping"):
        MultiPartitionsDefinition([_dates(), _regions()])  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["a|b", "a,b", "[a]", "x]"])
def test_multi_static_keys_may_not_hold_separator_characters(bad: str) -> None:
    with pytest.raises(
        DefinitionError, match="Invalid character in partition key for dimension region"
    ):
        MultiPartitionsDefinition(
            {"date": _dates(), "region": StaticPartitionsDefinition(["ok", bad])}
        )


def test_multi_rejects_bad_dimensions() -> None:
    with pytest.raises(DefinitionError, match="must have a name to be used in a MultiPartitions"):
        with pytest.warns(DeprecationWarning):
            legacy = DynamicPartitionsDefinition(lambda t: ["a"])
        MultiPartitionsDefinition({"date": _dates(), "x": legacy})
    with pytest.raises(DefinitionError, match="nesting is not supported"):
        inner = MultiPartitionsDefinition({"a": _dates(), "b": _regions()})
        MultiPartitionsDefinition({"date": _dates(), "inner": inner})
    with pytest.raises(DefinitionError, match="Invalid partitions definition type list"):
        MultiPartitionsDefinition({"date": _dates(), "region": ["us"]})  # type: ignore[dict-item]


def test_multi_key_strings_with_the_wrong_number_of_parts_are_rejected() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    with pytest.raises(
        UnknownPartitionKeyError,
        match="Expected 2 partition keys in partition key string 'a\\|b\\|c', but got 3",
    ):
        multi.get_partition_key_from_str("a|b|c")
    with pytest.raises(
        UnknownPartitionKeyError, match="in dimension 'date'.*Did you mean '2024-01-03'"
    ):
        multi.validate_partition_key("2024-01-04|us")
    with pytest.raises(UnknownPartitionKeyError, match="joins? one key per dimension"):
        multi.validate_partition_key("us")
    with pytest.raises(UnknownPartitionKeyError, match="are not the dimensions"):
        multi.has_partition_key(MultiPartitionKey({"date": "2024-01-01", "color": "us"}))
    assert multi.get_multipartition_key_from_str("2024-01-01|us") == "2024-01-01|us"


def test_multi_key_range_is_a_box_as_in_dagster() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    box = multi.get_partition_keys_in_range(PartitionKeyRange("2024-01-01|eu", "2024-01-03|eu"))
    assert box == ["2024-01-01|eu", "2024-01-02|eu", "2024-01-03|eu"]
    assert multi.index_range(PartitionKeyRange("2024-01-02|us", "2024-01-03|eu")) == (2, 6)
    with pytest.raises(DefinitionError, match="not one contiguous run"):
        multi.index_range(PartitionKeyRange("2024-01-01|eu", "2024-01-03|eu"))


def test_multi_selection_by_dimension_never_lists_the_product() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    eu = multi.subset_for_dimension_keys({"region": ["eu"]})
    assert eu.get_partition_keys() == ["2024-01-01|eu", "2024-01-02|eu", "2024-01-03|eu"]
    both = multi.subset_for_dimension_keys({"region": ["us"], "date": ["2024-01-03", "2024-01-01"]})
    assert both.get_partition_keys() == ["2024-01-01|us", "2024-01-03|us"]
    assert multi.get_multipartition_keys_with_dimension_value("date", "2024-01-02") == [
        "2024-01-02|us",
        "2024-01-02|eu",
    ]
    assert multi.subset_for_dimension_keys({"region": []}).is_empty
    with pytest.raises(UnknownPartitionKeyError, match="In dimension 'region'.*Did you mean 'eu'"):
        multi.subset_for_dimension_keys({"region": ["euu"]})
    with pytest.raises(DefinitionError, match="Invalid dimension name 'color'"):
        multi.subset_for_dimension_keys({"color": ["r"]})
    assert multi.filter_valid_partition_keys({"2024-01-01|us", "2024-01-09|us", "bad"}) == {
        "2024-01-01|us"
    }


def test_multi_without_a_time_dimension_has_no_time_window() -> None:
    multi = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    assert not multi.has_time_window_dimension
    assert multi.primary_dimension.name == "date" and multi.secondary_dimension.name == "region"
    with pytest.raises(
        DefinitionError, match="Expected exactly one time window partitioned dimension"
    ):
        multi.time_window_for_partition_key("2024-01-01|us")


def test_time_window_dimensions_keep_dagsters_key_format_and_delegate_windows() -> None:
    from weir._partitions.time_window import DailyPartitionsDefinition

    daily = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
    by_region = MultiPartitionsDefinition({"date": daily, "region": _regions()})
    assert by_region.get_partition_keys()[:2] == ["2024-01-01|us", "2024-01-01|eu"]
    by_color = MultiPartitionsDefinition(
        {"date": daily, "color": StaticPartitionsDefinition(["r", "g"])}
    )
    assert by_color.get_partition_keys()[0] == "r|2024-01-01"
    assert by_color.has_time_window_dimension
    assert by_color.time_window_dimension.name == "date"
    assert by_color.primary_dimension.name == "date"
    assert by_color.secondary_dimension.name == "color"
    assert by_color.time_window_partitions_def == daily
    window = by_color.time_window_for_partition_key("g|2024-01-02")
    assert window == daily.time_window_for_partition_key("2024-01-02")
    assert by_color.index_of("g|2024-01-03") == 5


def test_two_time_dimensions_are_allowed_but_have_no_single_time_window() -> None:
    from weir._partitions.time_window import DailyPartitionsDefinition

    both = MultiPartitionsDefinition(
        {
            "start": DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03"),
            "end": DailyPartitionsDefinition(start_date="2024-02-01", end_date="2024-02-03"),
        }
    )
    assert both.get_num_partitions() == 4
    assert both.primary_dimension.name == "end"
    with pytest.raises(DefinitionError, match=r"found 2 \(\['end', 'start'\]\)"):
        both.time_window_for_partition_key("2024-02-01|2024-01-01")


def test_multi_with_a_dynamic_dimension_reads_the_instance(instance: Any) -> None:
    multi = MultiPartitionsDefinition(
        {"fruit": DynamicPartitionsDefinition(name="fruits"), "region": _regions()}
    )
    assert multi.get_partition_keys(dynamic_partitions_store=instance) == []
    instance.add_dynamic_partitions("fruits", ["apple", "pear"])
    keys = multi.get_partition_keys(dynamic_partitions_store=instance)
    assert keys == ["apple|us", "apple|eu", "pear|us", "pear|eu"]
    assert multi.index_of("pear|us", dynamic_partitions_store=instance) == 2
    assert multi.key_at(3, dynamic_partitions_store=instance) == "pear|eu"
    assert multi.has_partition_key("pear|eu", dynamic_partitions_store=instance)
    assert not multi.has_partition_key("fig|eu", dynamic_partitions_store=instance)
    subset = multi.subset_for_dimension_keys({"fruit": ["pear"]}, dynamic_partitions_store=instance)
    assert subset.get_partition_keys(dynamic_partitions_store=instance) == ["pear|us", "pear|eu"]
    instance.add_dynamic_partitions("fruits", ["a|b"])
    with pytest.raises(
        DefinitionError, match="Invalid character in partition key for dimension fruit"
    ):
        multi.get_partition_keys(dynamic_partitions_store=instance)


def test_multi_equality_and_str() -> None:
    one = MultiPartitionsDefinition({"region": _regions(), "date": _dates()})
    assert one == MultiPartitionsDefinition({"date": _dates(), "region": _regions()})
    assert hash(one) == hash(MultiPartitionsDefinition({"date": _dates(), "region": _regions()}))
    assert one != MultiPartitionsDefinition({"date": _dates(), "area": _regions()})
    assert str(one).startswith("Multi-partitioned, with dimensions: \nDate: ")


# --------------------------------------------------------------------------- registry


def _registry() -> PluginRegistry:
    import weir.builtin.partitions as builtin_partitions

    pm = get_plugin_manager(autoload=False)
    if not pm.is_registered(builtin_partitions):
        pm.register(builtin_partitions, name="weir.builtin.partitions")
    return PluginRegistry(pm)


def _round_trip(partitions_def: Any) -> Any:
    data = partitions_def_to_serializable(partitions_def)
    import json

    return partitions_def_from_serializable(json.loads(json.dumps(data)), registry=_registry())


def test_registry_lists_the_core_partition_types() -> None:
    assert _registry().partition_types().names() == ["dynamic", "multi", "static", "time_window"]


@pytest.mark.parametrize(
    "partitions_def",
    [
        StaticPartitionsDefinition(["a", "b"]),
        DynamicPartitionsDefinition(name="fruits"),
        MultiPartitionsDefinition(
            {"x": StaticPartitionsDefinition(["1"]), "y": DynamicPartitionsDefinition(name="d")}
        ),
    ],
    ids=["static", "dynamic", "multi"],
)
def test_registry_round_trips_each_type(partitions_def: Any) -> None:
    restored = _round_trip(partitions_def)
    assert type(restored) is type(partitions_def) and restored == partitions_def


def test_registry_round_trips_time_windows_alone_and_as_a_dimension() -> None:
    from weir._partitions.time_window import DailyPartitionsDefinition

    daily = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
    restored = _round_trip(daily)
    assert restored.get_partition_keys() == daily.get_partition_keys()
    multi = MultiPartitionsDefinition({"date": daily, "region": _regions()})
    assert _round_trip(multi).get_partition_keys() == multi.get_partition_keys()


def test_registry_unknown_type_names_the_installed_ones() -> None:
    with pytest.raises(
        PluginError,
        match=r"Unknown partition type 'statik'.*Did you mean 'static'.*Known partition types: dynamic, multi, static, time_window",
    ):
        partitions_def_from_serializable(
            {"type": "statik", "partition_keys": []}, registry=_registry()
        )
    with pytest.raises(DefinitionError, match="string 'type'"):
        partitions_def_from_serializable({"partition_keys": []}, registry=_registry())
    with pytest.raises(DefinitionError, match="needs 'partition_keys'"):
        partitions_def_from_serializable({"type": "static"}, registry=_registry())


def test_registry_finds_a_plugin_partition_type() -> None:
    class EvenNumbers(StaticPartitionsDefinition):
        plugin_name = "even_numbers"

        def __init__(self, count: int) -> None:
            super().__init__([str(i * 2) for i in range(count)])
            self.count = count

        def to_serializable(self) -> dict[str, Any]:
            return {"type": "even_numbers", "count": self.count}

        @classmethod
        def from_serializable(cls, data: dict[str, Any]) -> EvenNumbers:
            return cls(data["count"])

    class Plugin:
        @hookimpl
        def weir_register_partition_types(self) -> list[type[Any]]:
            return [EvenNumbers]

    registry = _registry()
    registry.pm.register(Plugin())
    multi = MultiPartitionsDefinition({"n": EvenNumbers(3), "region": _regions()})
    data = partitions_def_to_serializable(multi)
    assert data["partitions_defs"]["n"] == {"type": "even_numbers", "count": 3}
    restored = partitions_def_from_serializable(data, registry=registry)
    assert restored.get_partition_keys()[:2] == ["0|us", "0|eu"]
