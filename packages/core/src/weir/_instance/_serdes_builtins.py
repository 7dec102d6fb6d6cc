"""weir's own serializable classes: what :mod:`weir._instance.serdes` registers on first use.

Runs, events and their payloads, metadata values, tables inside metadata and the instance's
records. A class that can reach the instance's storage and is not listed here is stored as its
repr (with a warning); add it here when weir grows a new record, payload or metadata type.
This module is imported by ``serdes`` only when the first value is written or read, so importing
``serdes`` (and ``weir``) stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir._execution import events
from weir._execution.run import DagsterRun, DagsterRunStatus
from weir._instance import records
from weir._model import asset_checks, metadata, results, retry, table
from weir._model.asset_key import AssetCheckKey, AssetKey

__all__ = ["register_builtins"]


def register_builtins(
    register: Callable[[type], None],
    register_codec: Callable[
        [type, str, Callable[[Any], Any], Callable[[dict[str, Any]], Any]], None
    ],
) -> None:
    """Register weir's classes: ``AssetKey`` through ``register_codec`` (rebuilt through its
    constructor, so keys stay interned), every other class through ``register`` (field by
    field)."""

    def encode_key(key: AssetKey) -> dict[str, Any]:
        return {"__class__": "AssetKey", "path": list(key)}

    def decode_key(data: dict[str, Any]) -> AssetKey:
        return AssetKey(data["path"])

    register_codec(AssetKey, "AssetKey", encode_key, decode_key)

    classes: tuple[type, ...] = (
        AssetCheckKey,
        # runs
        DagsterRun,
        DagsterRunStatus,
        # events and their payloads
        events.DagsterEventType,
        events.DagsterEvent,
        events.SerializableErrorInfo,
        events.StepFailureData,
        events.TypeCheckData,
        events.StepOutputData,
        events.StepInputData,
        events.StepMaterializationData,
        events.AssetObservationData,
        events.HandledOutputData,
        events.LoadedInputData,
        events.AssetMaterializationPlannedData,
        events.AssetCheckEvaluationPlanned,
        retry.UserFailureData,
        retry.StepRetryData,
        results.AssetMaterialization,
        results.AssetObservation,
        results.ExpectationResult,
        results.DataVersion,
        results.DataVersionsByPartition,
        asset_checks.AssetCheckSeverity,
        asset_checks.AssetCheckResult,
        asset_checks.AssetCheckEvaluation,
        asset_checks.AssetCheckEvaluationTargetMaterializationData,
        # instance records
        records.EventLogEntry,
        records.EventLogRecord,
        records.RunRecord,
        records.RunsFilter,
        records.EventRecordsFilter,
        records.AssetRecordsFilter,
        records.AssetCheckExecutionRecordStatus,
        records.AssetCheckExecutionRecord,
        records.StoredRecord,
        # metadata values
        metadata.TextMetadataValue,
        metadata.UrlMetadataValue,
        metadata.PathMetadataValue,
        metadata.NotebookMetadataValue,
        metadata.JsonMetadataValue,
        metadata.MarkdownMetadataValue,
        metadata.PythonArtifactMetadataValue,
        metadata.FloatMetadataValue,
        metadata.IntMetadataValue,
        metadata.BoolMetadataValue,
        metadata.TimestampMetadataValue,
        metadata.DagsterRunMetadataValue,
        metadata.DagsterJobMetadataValue,
        metadata.DagsterAssetMetadataValue,
        metadata.TableMetadataValue,
        metadata.TableSchemaMetadataValue,
        metadata.TableColumnLineageMetadataValue,
        metadata.PoolMetadataValue,
        metadata.NullMetadataValue,
        # tables inside metadata
        table.TableRecord,
        table.TableConstraints,
        table.TableColumnConstraints,
        table.TableColumn,
        table.TableSchema,
        table.TableColumnDep,
        table.TableColumnLineage,
    )
    for cls in classes:
        register(cls)
