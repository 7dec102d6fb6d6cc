"""Runs: ``DagsterRunStatus`` and the ``DagsterRun`` record."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DagsterRun", "DagsterRunStatus", "RunStatus"]


class DagsterRunStatus(enum.Enum):
    """The lifecycle state of a run."""

    QUEUED = "QUEUED"
    NOT_STARTED = "NOT_STARTED"
    MANAGED = "MANAGED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def is_finished(self) -> bool:
        return self in (
            DagsterRunStatus.SUCCESS,
            DagsterRunStatus.FAILURE,
            DagsterRunStatus.CANCELED,
        )


RunStatus = DagsterRunStatus


class DagsterRun:
    """What is known about one run: its id, job, config, tags, status and lineage."""

    def __init__(
        self,
        *,
        run_id: str,
        job_name: str,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        status: DagsterRunStatus = DagsterRunStatus.NOT_STARTED,
        asset_selection: Sequence[Any] | None = None,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        step_keys_to_execute: Sequence[str] | None = None,
    ) -> None:
        self.run_id = run_id
        self.job_name = job_name
        self.run_config = dict(run_config or {})
        self.tags = dict(tags or {})
        self.status = status
        self.asset_selection = frozenset(asset_selection) if asset_selection is not None else None
        self.parent_run_id = parent_run_id
        self.root_run_id = root_run_id
        self.step_keys_to_execute = (
            list(step_keys_to_execute) if step_keys_to_execute is not None else None
        )

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def is_finished(self) -> bool:
        return self.status.is_finished

    @property
    def is_success(self) -> bool:
        return self.status is DagsterRunStatus.SUCCESS

    @property
    def is_failure(self) -> bool:
        return self.status is DagsterRunStatus.FAILURE

    def __repr__(self) -> str:
        return f"DagsterRun(run_id={self.run_id!r}, job_name={self.job_name!r}, status={self.status.value})"
