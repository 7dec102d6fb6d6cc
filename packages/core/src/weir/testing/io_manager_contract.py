"""The IO manager contract: behaviour every IO manager must have, as reusable pytest tests.

A plugin package subclasses :class:`IOManagerContract` in a class whose name starts with
``Test`` and says how to make a fresh IO manager, either by overriding the ``io_manager``
fixture (it may use other fixtures, e.g. a temporary bucket) or the ``make_io_manager`` method::

    from weir.testing import IOManagerContract


    class TestParquetIOManager(IOManagerContract):
        @pytest.fixture
        def io_manager(self, tmp_path):
            return ParquetIOManager(base_path=str(tmp_path))

        def sample_value(self):
            return pd.DataFrame({"a": [1, 2]})

        def assert_same_value(self, loaded, expected):
            pd.testing.assert_frame_equal(loaded, expected)

The value may be anything ``resources=`` accepts (an ``IOManager``, a ``ConfigurableIOManager``,
a ``ConfigurableIOManagerFactory``, an ``IOManagerDefinition``): the suite initialises it the
way a run does, with a temporary instance, and tears it down afterwards.

The tests: an asset value round-trips; assets whose keys differ only in their prefix do not
collide; op outputs are identified by run id, step key and output name (or, for managers that
set ``op_outputs_keyed_by_run = False``, by output name alone); loading an asset that was never
stored fails with an error naming the asset key; storing again replaces the old value;
partitions round-trip independently. Hooks (``sample_value``, ``other_value``,
``assert_same_value``, ``partition_keys``) adapt the suite to managers of special types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from weir._config.resources import initialize_resources
from weir._io.context_builders import build_input_context, build_output_context
from weir._io.contexts import InputContext, OutputContext
from weir._model.asset_key import AssetKey

__all__ = ["IOManagerContract"]


class IOManagerContract:
    """Base class of the IO manager contract suite (not collected itself: no ``Test`` prefix)."""

    # -- what a subclass provides ------------------------------------------------------------
    op_outputs_keyed_by_run: ClassVar[bool] = True
    """Whether op outputs of different runs are kept apart (the filesystem and object-store
    layout ``storage/<run_id>/<step_key>/<output>``). Database IO managers follow Dagster's rule
    instead -- an op output is the table named by its ``table`` metadata, else by the output
    name, and a later run replaces it -- and set this to False."""

    def make_io_manager(self) -> Any:
        """A fresh IO manager (or anything ``resources=`` accepts). Override this or the fixture."""
        msg = (
            f"{type(self).__name__} must say how to build the IO manager under test: override the "
            "`io_manager` fixture or the `make_io_manager()` method."
        )
        raise NotImplementedError(msg)

    @pytest.fixture
    def io_manager(self) -> Any:
        """The IO manager under test (by default ``make_io_manager()``)."""
        return self.make_io_manager()

    def sample_value(self) -> Any:
        """A value the manager can store."""
        return {"numbers": [1, 2, 3], "text": "weir"}

    def other_value(self) -> Any:
        """A second value, different from :meth:`sample_value`."""
        return {"numbers": [4, 5], "text": "other"}

    def assert_same_value(self, loaded: Any, expected: Any) -> None:
        """Assert a loaded value equals the stored one (override for frames, arrays ...)."""
        assert loaded == expected

    def partition_keys(self) -> list[str]:
        """Two partition keys used by the partition test."""
        return ["2024-01-01", "2024-01-02"]

    # -- machinery ---------------------------------------------------------------------------
    @pytest.fixture
    def contract_instance(self, tmp_path: Path) -> Any:
        """A throwaway instance whose storage directory is under ``tmp_path``."""
        from weir._instance.instance import Instance

        return Instance.ephemeral(tempdir=str(tmp_path / "weir_home"))

    @pytest.fixture
    def live_io_manager(self, io_manager: Any, contract_instance: Any) -> Iterator[Any]:
        """The live IO manager, initialised like a run does it and torn down afterwards."""
        with initialize_resources(
            {"io_manager": io_manager},
            ["io_manager"],
            instance=contract_instance,
            run_id="contract-run",
        ) as live:
            yield live["io_manager"]

    def output_context(
        self,
        instance: Any,
        *,
        asset_key: list[str] | None = None,
        run_id: str = "contract-run",
        step_key: str = "contract_step",
        name: str = "result",
        partition_key: str | None = None,
    ) -> OutputContext:
        if asset_key is not None and step_key == "contract_step":
            step_key = AssetKey(asset_key).to_python_identifier()
        return build_output_context(
            step_key=step_key,
            name=name,
            run_id=run_id,
            asset_key=asset_key,
            partition_key=partition_key,
            instance=instance,
        )

    def input_context(
        self, upstream: OutputContext, instance: Any, *, partition_key: str | None = None
    ) -> InputContext:
        return build_input_context(
            name="upstream",
            upstream_output=upstream,
            asset_key=upstream.asset_key if upstream.has_asset_key else None,
            partition_key=partition_key,
            instance=instance,
        )

    def store(self, manager: Any, ctx: OutputContext, value: Any) -> None:
        manager.handle_output(ctx, value)

    def load(self, manager: Any, upstream: OutputContext, instance: Any, **kwargs: Any) -> Any:
        return manager.load_input(self.input_context(upstream, instance, **kwargs))

    # -- the contract ------------------------------------------------------------------------
    def test_asset_value_round_trips(self, live_io_manager: Any, contract_instance: Any) -> None:
        out = self.output_context(contract_instance, asset_key=["contract", "round_trip"])
        value = self.sample_value()
        self.store(live_io_manager, out, value)
        self.assert_same_value(self.load(live_io_manager, out, contract_instance), value)

    def test_asset_value_loads_in_a_later_run(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        first = self.output_context(
            contract_instance, asset_key=["contract", "later"], run_id="run-1"
        )
        self.store(live_io_manager, first, self.sample_value())
        # a later run that did not produce the asset knows its key, not the run that stored it
        later = build_output_context(
            asset_key=["contract", "later"],
            step_key="contract__later",
            name="result",
            instance=contract_instance,
        )
        self.assert_same_value(
            self.load(live_io_manager, later, contract_instance), self.sample_value()
        )

    def test_keys_differing_only_in_prefix_do_not_collide(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        a = self.output_context(contract_instance, asset_key=["prefix_a", "shared"])
        b = self.output_context(contract_instance, asset_key=["prefix_b", "shared"])
        bare = self.output_context(contract_instance, asset_key=["shared"])
        self.store(live_io_manager, a, self.sample_value())
        self.store(live_io_manager, b, self.other_value())
        self.assert_same_value(
            self.load(live_io_manager, a, contract_instance), self.sample_value()
        )
        self.assert_same_value(self.load(live_io_manager, b, contract_instance), self.other_value())
        self.store(live_io_manager, bare, self.other_value())
        self.assert_same_value(
            self.load(live_io_manager, a, contract_instance), self.sample_value()
        )
        self.assert_same_value(
            self.load(live_io_manager, bare, contract_instance), self.other_value()
        )

    def test_op_outputs_are_identified_by_run_step_and_name(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        first = self.output_context(
            contract_instance, run_id="run-1", step_key="op_a", name="result"
        )
        other_run = self.output_context(
            contract_instance, run_id="run-2", step_key="op_a", name="result"
        )
        other_name = self.output_context(
            contract_instance, run_id="run-1", step_key="op_a", name="extra"
        )
        self.store(live_io_manager, first, self.sample_value())
        self.store(live_io_manager, other_name, self.other_value())
        self.assert_same_value(
            self.load(live_io_manager, first, contract_instance), self.sample_value()
        )
        self.store(live_io_manager, other_run, self.other_value())
        # keyed by run: the first run's output is still there; keyed by name: the later run's
        # output replaced it
        expected_first = self.sample_value() if self.op_outputs_keyed_by_run else self.other_value()
        self.assert_same_value(self.load(live_io_manager, first, contract_instance), expected_first)
        self.assert_same_value(
            self.load(live_io_manager, other_run, contract_instance), self.other_value()
        )
        self.assert_same_value(
            self.load(live_io_manager, other_name, contract_instance), self.other_value()
        )

    def test_missing_input_error_names_the_asset_key(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        never = self.output_context(contract_instance, asset_key=["contract", "never_stored"])
        with pytest.raises(Exception) as info:
            self.load(live_io_manager, never, contract_instance)
        assert "contract/never_stored" in str(info.value), (
            f"the error for a missing input should name the asset key 'contract/never_stored'; got: {info.value}"
        )

    def test_storing_again_replaces_the_value(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        out = self.output_context(contract_instance, asset_key=["contract", "overwrite"])
        self.store(live_io_manager, out, self.sample_value())
        self.store(live_io_manager, out, self.other_value())
        self.assert_same_value(
            self.load(live_io_manager, out, contract_instance), self.other_value()
        )

    def test_partitions_round_trip_independently(
        self, live_io_manager: Any, contract_instance: Any
    ) -> None:
        first_key, second_key = self.partition_keys()
        key = ["contract", "partitioned"]
        first = self.output_context(contract_instance, asset_key=key, partition_key=first_key)
        second = self.output_context(contract_instance, asset_key=key, partition_key=second_key)
        self.store(live_io_manager, first, self.sample_value())
        self.store(live_io_manager, second, self.other_value())
        self.assert_same_value(
            self.load(live_io_manager, first, contract_instance, partition_key=first_key),
            self.sample_value(),
        )
        self.assert_same_value(
            self.load(live_io_manager, second, contract_instance, partition_key=second_key),
            self.other_value(),
        )
