"""``BackfillPolicy``: how a backfill splits its partitions into runs.

``BackfillPolicy.single_run()`` runs every partition of a contiguous key range in one run (the
asset and its IO manager see the whole range); ``BackfillPolicy.multi_run(n)`` launches one run per
``n`` consecutive partitions. Without a policy a backfill runs one partition per run, as Dagster does.
"""

from __future__ import annotations

import enum
from typing import Any

from weir.errors import DefinitionError

__all__ = ["BackfillPolicy", "BackfillPolicyType"]


class BackfillPolicyType(enum.Enum):
    """The two kinds of backfill policy (Dagster's names)."""

    SINGLE_RUN = "SINGLE_RUN"
    MULTI_RUN = "MULTI_RUN"


class BackfillPolicy:
    """How a backfill of a partitioned asset is split into runs.

    Build one with :meth:`single_run` or :meth:`multi_run`; ``max_partitions_per_run`` is None for
    a single-run policy.

    Example::

        import weir as dg

        @dg.asset(
            partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"),
            backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=7),
        )
        def events(context) -> None: ...
    """

    __slots__ = ("_max_partitions_per_run",)

    def __init__(self, max_partitions_per_run: int | None = 1) -> None:
        if max_partitions_per_run is not None and (
            isinstance(max_partitions_per_run, bool)
            or not isinstance(max_partitions_per_run, int)
            or max_partitions_per_run < 1
        ):
            msg = (
                f"BackfillPolicy max_partitions_per_run must be a positive int (or None for a single "
                f"run), got {max_partitions_per_run!r}."
            )
            raise DefinitionError(msg)
        self._max_partitions_per_run = max_partitions_per_run

    @staticmethod
    def single_run() -> BackfillPolicy:
        """Every partition of a contiguous range in one run."""
        return BackfillPolicy(max_partitions_per_run=None)

    @staticmethod
    def multi_run(max_partitions_per_run: int = 1) -> BackfillPolicy:
        """One run per ``max_partitions_per_run`` consecutive partitions."""
        return BackfillPolicy(max_partitions_per_run=max_partitions_per_run)

    @property
    def max_partitions_per_run(self) -> int | None:
        """How many partitions one run covers at most (None: no limit, a single run)."""
        return self._max_partitions_per_run

    @property
    def policy_type(self) -> BackfillPolicyType:
        """``SINGLE_RUN`` or ``MULTI_RUN``."""
        if self._max_partitions_per_run is None:
            return BackfillPolicyType.SINGLE_RUN
        return BackfillPolicyType.MULTI_RUN

    def to_serializable(self) -> dict[str, Any]:
        """``{"max_partitions_per_run": n or None}``."""
        return {"max_partitions_per_run": self._max_partitions_per_run}

    @staticmethod
    def from_serializable(data: dict[str, Any]) -> BackfillPolicy:
        return BackfillPolicy(max_partitions_per_run=data.get("max_partitions_per_run"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BackfillPolicy):
            return NotImplemented
        return self._max_partitions_per_run == other._max_partitions_per_run

    def __hash__(self) -> int:
        return hash(("BackfillPolicy", self._max_partitions_per_run))

    def __repr__(self) -> str:
        if self._max_partitions_per_run is None:
            return "BackfillPolicy.single_run()"
        return f"BackfillPolicy.multi_run(max_partitions_per_run={self._max_partitions_per_run})"
