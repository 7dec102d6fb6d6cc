"""``PartitionsSubset``: bitmaps over a definition's indices, their algebra, ranges and encoding."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

import weir as dg
from weir._partitions.definition import PartitionsDefinition, UnknownPartitionKeyError
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.key_range import PartitionKeyRange
from weir._partitions.multi import MultiPartitionsDefinition
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.subset import PartitionsSubset, bits_from_indices, split_run_into_boxes
from weir.errors import DefinitionError

LETTERS = StaticPartitionsDefinition(list("abcdefghij"))


def _subset(keys: str) -> PartitionsSubset:
    return LETTERS.subset_with_partition_keys(list(keys))


def test_a_subset_is_a_bitmap_over_indices() -> None:
    subset = _subset("acd")
    assert subset.bits == 0b1101
    assert len(subset) == 3 and not subset.is_empty and bool(subset)
    assert list(subset.indices()) == [0, 2, 3]
    assert subset.index_runs() == [(0, 1), (2, 4)]
    assert subset.get_partition_keys() == ["a", "c", "d"]
    assert "c" in subset and "b" not in subset and "zz" not in subset and 3 not in subset
    assert LETTERS.empty_subset().is_empty and len(LETTERS.empty_subset()) == 0
    assert not LETTERS.empty_subset()


def test_keys_are_listed_in_definition_order_whatever_order_they_were_added() -> None:
    assert _subset("jab").get_partition_keys() == ["a", "b", "j"]
    assert _subset("aab").get_partition_keys() == ["a", "b"]


def test_set_algebra() -> None:
    left, right = _subset("abcd"), _subset("cdef")
    assert (left | right).get_partition_keys() == list("abcdef")
    assert (left & right).get_partition_keys() == ["c", "d"]
    assert (left - right).get_partition_keys() == ["a", "b"]
    assert (right - left).get_partition_keys() == ["e", "f"]
    assert (left - left).is_empty
    everything = LETTERS.subset_with_all_partitions()
    assert len(everything) == 10
    assert left.get_partition_keys_not_in_subset() == list("efghij")
    assert (everything - left) == _subset("efghij")


def test_equality_needs_the_same_definition_and_bits() -> None:
    assert _subset("ab") == StaticPartitionsDefinition(
        list("abcdefghij")
    ).subset_with_partition_keys(["b", "a"])
    assert _subset("ab") != _subset("abc")
    other = StaticPartitionsDefinition(list("abcdefghik"))
    assert _subset("ab") != other.subset_with_partition_keys(["a", "b"])
    assert hash(_subset("ab")) == hash(_subset("ba"))
    assert len({_subset("ab"), _subset("ba"), _subset("c")}) == 2


def test_combining_subsets_of_different_definitions_is_an_error() -> None:
    other = StaticPartitionsDefinition(["a", "b"]).subset_with_partition_keys(["a"])
    for operation in ("__or__", "__and__", "__sub__"):
        with pytest.raises(DefinitionError, match="different partitions definitions"):
            getattr(_subset("a"), operation)(other)
    with pytest.raises(DefinitionError, match="Cannot combine"):
        _subset("a") | {"a"}  # type: ignore[operator]


def test_unknown_keys_fail_with_a_suggestion() -> None:
    with pytest.raises(UnknownPartitionKeyError, match="'bb' is not a partition"):
        _subset("a").with_partition_keys(["b", "bb"])


def test_index_ranges_and_key_ranges() -> None:
    subset = LETTERS.empty_subset().with_index_range(2, 5).with_index_range(7, 8)
    assert subset.get_partition_keys() == ["c", "d", "e", "h"]
    assert subset.get_partition_key_ranges() == [
        PartitionKeyRange("c", "e"),
        PartitionKeyRange("h", "h"),
    ]
    # Dagster's spelling passes the definition first
    assert subset.get_partition_key_ranges(LETTERS) == subset.get_partition_key_ranges()
    ranged = LETTERS.empty_subset().with_partition_key_range(PartitionKeyRange("b", "d"))
    assert ranged.get_partition_keys() == ["b", "c", "d"]
    assert LETTERS.empty_subset().with_partition_key_range(
        LETTERS, PartitionKeyRange("b", "c")
    ) == _subset("bc")
    assert LETTERS.empty_subset().with_index_range(3, 3).is_empty
    with pytest.raises(DefinitionError, match="0 <= start <= stop"):
        LETTERS.empty_subset().with_index_range(4, 2)
    with pytest.raises(DefinitionError, match="different partitions definitions"):
        subset.get_partition_key_ranges(StaticPartitionsDefinition(["x"]))
    assert LETTERS.empty_subset().get_partition_key_ranges() == []


def test_bits_past_the_definition_are_reported() -> None:
    stray = PartitionsSubset(LETTERS, 1 << 12)
    with pytest.raises(DefinitionError, match="has only 10 partitions"):
        stray.get_partition_keys()
    with pytest.raises(DefinitionError, match="has only 10 partitions"):
        stray.get_partition_key_ranges()


def test_bad_bits_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="non-negative int"):
        PartitionsSubset(LETTERS, -1)
    with pytest.raises(DefinitionError, match="non-negative int"):
        PartitionsSubset(LETTERS, "0b1")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="needs a partitions definition"):
        PartitionsSubset(["a"], 1)  # type: ignore[arg-type]


def test_bits_from_indices() -> None:
    assert bits_from_indices([]) == 0
    assert bits_from_indices([0, 3, 3, 64]) == (1 | 1 << 3 | 1 << 64)
    with pytest.raises(DefinitionError, match="never negative"):
        bits_from_indices([-1])


@pytest.mark.parametrize("bits", [0, 0b1, 0b1011, (1 << 5000) - 1, int("10" * 3000, 2)])
def test_serialisation_round_trips_in_the_smaller_form(bits: int) -> None:
    definition = StaticPartitionsDefinition([str(i) for i in range(6000)])
    subset = PartitionsSubset(definition, bits)
    data = json.loads(json.dumps(subset.to_serializable()))
    assert PartitionsSubset.from_serializable(definition, data) == subset
    if bits == (1 << 5000) - 1:
        assert data == {"v": 1, "runs": [[0, 5000]]}
    if bits == int("10" * 3000, 2):
        assert "hex" in data and len(data["hex"]) == 1500


def test_serialised_garbage_is_rejected_clearly() -> None:
    with pytest.raises(DefinitionError, match="Not a serialised PartitionsSubset"):
        PartitionsSubset.from_serializable(LETTERS, {"bits": 3})
    with pytest.raises(DefinitionError, match="bad 'hex'"):
        PartitionsSubset.from_serializable(LETTERS, {"v": 1, "hex": "xyz"})
    with pytest.raises(DefinitionError, match=r"\[start, length\] pairs"):
        PartitionsSubset.from_serializable(LETTERS, {"v": 1, "runs": [[0, -2]]})


def test_repr_counts_instead_of_listing() -> None:
    big = StaticPartitionsDefinition([str(i) for i in range(100_000)])
    subset = big.subset_with_all_partitions() - big.subset_with_partition_keys(["500"])
    assert (
        repr(subset) == "PartitionsSubset(StaticPartitionsDefinition, 99,999 partitions in 2 runs)"
    )


def test_a_million_key_subset_lists_ranges_and_encodes() -> None:
    million = StaticPartitionsDefinition([f"k{i:07d}" for i in range(1_000_000)])
    keys = million.get_partition_keys()
    odd = million.subset_with_partition_keys(keys[1::2])
    assert len(odd) == 500_000
    assert odd.get_partition_keys()[:2] == ["k0000001", "k0000003"]
    assert len(odd.get_partition_key_ranges()) == 500_000
    evens = million.subset_with_all_partitions() - odd
    assert evens.get_partition_keys()[-1] == "k0999998"
    restored = PartitionsSubset.from_serializable(million, odd.to_serializable())
    assert restored == odd


def test_dynamic_subsets_use_the_store_given_once_or_per_call() -> None:
    instance = dg.Instance.ephemeral()
    instance.add_dynamic_partitions("fruits", ["apple", "pear", "plum", "fig"])
    fruits = DynamicPartitionsDefinition(name="fruits")
    subset = fruits.subset_with_partition_keys(["plum", "apple"], dynamic_partitions_store=instance)
    assert subset.get_partition_keys(dynamic_partitions_store=instance) == ["apple", "plum"]
    carried = PartitionsSubset(fruits, subset.bits, dynamic_partitions_store=instance)
    assert "plum" in carried and "pear" not in carried
    more = carried.with_partition_keys(["fig"])
    assert more.get_partition_keys() == ["apple", "plum", "fig"]
    assert more.get_partition_key_ranges() == [
        PartitionKeyRange("apple", "apple"),
        PartitionKeyRange("plum", "fig"),
    ]
    with pytest.raises(UnknownPartitionKeyError, match="Did you mean 'pear'"):
        carried.with_partition_keys(["peer"])


# --------------------------------------------------------------------------- multi-dimension


def _cube() -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition(
        {
            "date": StaticPartitionsDefinition(["d1", "d2", "d3", "d4"]),
            "product": StaticPartitionsDefinition(["p1", "p2", "p3"]),
            "region": StaticPartitionsDefinition(["eu", "us"]),
        }
    )


def test_split_run_into_boxes_covers_the_run_exactly() -> None:
    sizes = [4, 3, 2]
    rng = random.Random(5)
    for _ in range(200):
        start = rng.randrange(24)
        stop = rng.randrange(start + 1, 25)
        boxes = split_run_into_boxes(start, stop, sizes)
        assert boxes[0][0] == start and boxes[-1][1] == stop
        assert all(a[1] == b[0] for a, b in zip(boxes, boxes[1:]))
        assert len(boxes) <= 2 * len(sizes)


def test_multi_subset_keys_match_the_full_listing_for_random_subsets() -> None:
    cube = _cube()
    keys = cube.get_partition_keys()
    rng = random.Random(7)
    for _ in range(50):
        chosen = sorted(rng.sample(range(24), rng.randrange(25)))
        subset = PartitionsSubset(cube, bits_from_indices(chosen))
        assert subset.get_partition_keys() == [keys[i] for i in chosen]
        covered = [
            key
            for key_range in subset.get_partition_key_ranges()
            for key in cube.get_partition_keys_in_range(key_range)
        ]
        assert covered == [keys[i] for i in chosen]


def test_multi_key_range_subset_is_a_box() -> None:
    cube = _cube()
    box = cube.empty_subset().with_partition_key_range(PartitionKeyRange("d2|p1|us", "d3|p2|us"))
    assert box.get_partition_keys() == ["d2|p1|us", "d2|p2|us", "d3|p1|us", "d3|p2|us"]
    assert box == cube.subset_with_partition_keys(
        cube.get_partition_keys_in_range(PartitionKeyRange("d2|p1|us", "d3|p2|us"))
    )
    whole_days = cube.empty_subset().with_partition_key_range(
        PartitionKeyRange("d2|p1|eu", "d3|p3|us")
    )
    assert whole_days.get_partition_key_ranges() == [PartitionKeyRange("d2|p1|eu", "d3|p3|us")]


def test_multi_dimension_selection_equals_filtering_the_product() -> None:
    cube = _cube()
    chosen = cube.subset_for_dimension_keys({"product": ["p3", "p1"], "region": ["us"]})
    expected = [
        k
        for k in cube.get_partition_keys()
        if k.keys_by_dimension["product"] in {"p1", "p3"} and k.keys_by_dimension["region"] == "us"
    ]
    assert chosen.get_partition_keys() == expected
    assert len(chosen) == 8
    assert (
        cube.subset_with_all_partitions() - chosen
    ) | chosen == cube.subset_with_all_partitions()


def test_subsets_work_for_any_partitions_definition_through_the_index_primitives() -> None:
    class Squares(PartitionsDefinition):
        plugin_name = "squares"

        def get_num_partitions(
            self, current_time: Any = None, dynamic_partitions_store: Any = None
        ) -> int:
            return 1000

        def key_at(
            self, index: int, current_time: Any = None, dynamic_partitions_store: Any = None
        ) -> str:
            if not -1000 <= index < 1000:
                raise IndexError(index)
            return str((index % 1000) ** 2)

        def index_of(
            self, key: str, current_time: Any = None, dynamic_partitions_store: Any = None
        ) -> int | None:
            root = int(int(key) ** 0.5) if key.isdigit() else -1
            return root if root >= 0 and root * root == int(key) and root < 1000 else None

        def to_serializable(self) -> dict[str, Any]:
            return {"type": "squares"}

    squares = Squares()
    subset = squares.subset_with_partition_keys(["4", "9", "900"])
    assert subset.get_partition_keys() == ["4", "9", "900"]
    assert subset.get_partition_key_ranges() == [
        PartitionKeyRange("4", "9"),
        PartitionKeyRange("900", "900"),
    ]
    with pytest.raises(UnknownPartitionKeyError, match="'5' is not a partition"):
        subset.with_partition_keys(["5"])


def test_multi_subset_bits_past_the_product_are_reported() -> None:
    stray = PartitionsSubset(_cube(), 1 << 24)
    with pytest.raises(DefinitionError, match="past the end.*24 partitions"):
        stray.get_partition_keys()
    with pytest.raises(DefinitionError, match="past the end"):
        stray.get_partition_key_ranges()
    empty_dimension = MultiPartitionsDefinition(
        {
            "fruit": DynamicPartitionsDefinition(name="none_yet"),
            "region": StaticPartitionsDefinition(["eu"]),
        }
    )
    instance = dg.Instance.ephemeral()
    assert empty_dimension.subset_with_all_partitions(dynamic_partitions_store=instance).is_empty
    with pytest.raises(DefinitionError, match="0 partitions"):
        PartitionsSubset(empty_dimension, 1).get_partition_key_ranges(instance)
