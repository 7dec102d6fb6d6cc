"""weir: an asset-centric data orchestrator with a Dagster-compatible API.

``import weir as dg`` runs Dagster user code. Names are loaded lazily on first access
(PEP 562), so ``import weir`` costs a few milliseconds and heavy libraries (pydantic,
SQLAlchemy, pandas) load only when a feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir._lazy import lazy_getattr

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    # keys, specs, definitions
    "AssetKey": "._model.asset_key",
    "AssetCheckKey": "._model.asset_key",
    "AssetSpec": "._model.asset_spec",
    "AssetIn": "._model.asset_in_out",
    "AssetOut": "._model.asset_in_out",
    "AssetDep": "._model.asset_in_out",
    "SourceAsset": "._model.source_asset",
    "AssetsDefinition": "._model.assets_definition",
    "asset": "._model.asset_decorator",
    "multi_asset": "._model.asset_decorator",
    "Definitions": "._model.definitions",
    "load_assets_from_modules": "._model.module_loaders",
    "load_assets_from_package_module": "._model.module_loaders",
    "load_assets_from_current_module": "._model.module_loaders",
    "load_definitions_from_modules": "._model.module_loaders",
    # metadata and results
    "MetadataValue": "._model.metadata",
    "TextMetadataValue": "._model.metadata",
    "IntMetadataValue": "._model.metadata",
    "FloatMetadataValue": "._model.metadata",
    "BoolMetadataValue": "._model.metadata",
    "JsonMetadataValue": "._model.metadata",
    "MarkdownMetadataValue": "._model.metadata",
    "PathMetadataValue": "._model.metadata",
    "UrlMetadataValue": "._model.metadata",
    "TimestampMetadataValue": "._model.metadata",
    "NullMetadataValue": "._model.metadata",
    "TableMetadataValue": "._model.metadata",
    "TableSchemaMetadataValue": "._model.metadata",
    "TableSchema": "._model.metadata",
    "TableColumn": "._model.metadata",
    "TableRecord": "._model.metadata",
    "TableColumnConstraints": "._model.metadata",
    "TableConstraints": "._model.metadata",
    "Output": "._model.results",
    "MaterializeResult": "._model.results",
    "AssetMaterialization": "._model.results",
    "AssetObservation": "._model.results",
    "DataVersion": "._model.results",
    "DataVersionsByPartition": "._model.results",
    "DynamicOutput": "._model.results",
    "ObserveResult": "._model.results",
    "ExpectationResult": "._model.results",
    "DagsterAssetMetadataValue": "._model.metadata",
    "DagsterRunMetadataValue": "._model.metadata",
    "DagsterJobMetadataValue": "._model.metadata",
    "PythonArtifactMetadataValue": "._model.metadata",
    "NotebookMetadataValue": "._model.metadata",
    "TableColumnLineageMetadataValue": "._model.metadata",
    "TableColumnLineage": "._model.metadata",
    "TableColumnDep": "._model.metadata",
    "DagsterInvalidMetadata": "._model.metadata",
    # ops, graphs and op jobs
    "op": "._model.op_decorator",
    "In": "._model.op_decorator",
    "Out": "._model.op_decorator",
    "DynamicOut": "._model.op_decorator",
    "OpDefinition": "._model.op_definition",
    "graph": "._model.graph_definition",
    "GraphDefinition": "._model.graph_definition",
    "GraphIn": "._model.graph_definition",
    "GraphOut": "._model.graph_definition",
    "job": "._model.job_decorator",
    "graph_asset": "._model.graph_asset",
    "graph_multi_asset": "._model.graph_asset",
    "build_op_context": "._execution.context",
    # checks, retries, hooks
    "AssetCheckSpec": "._model.asset_checks",
    "AssetCheckResult": "._model.asset_checks",
    "AssetCheckSeverity": "._model.asset_checks",
    "AssetCheckEvaluation": "._model.asset_checks",
    "DagsterAssetCheckFailedError": "._model.asset_checks",
    "asset_check": "._model.asset_checks_definition",
    "multi_asset_check": "._model.asset_checks_definition",
    "AssetChecksDefinition": "._model.asset_checks_definition",
    "load_asset_checks_from_modules": "._model.asset_checks_definition",
    "load_asset_checks_from_package_module": "._model.asset_checks_definition",
    "load_asset_checks_from_current_module": "._model.asset_checks_definition",
    "AssetCheckExecutionContext": "._execution.check_context",
    "build_asset_check_context": "._execution.check_context",
    "RetryPolicy": "._model.retry",
    "Backoff": "._model.retry",
    "Jitter": "._model.retry",
    "RetryRequested": "._model.retry",
    "Failure": "._model.retry",
    "DagsterMaxRetriesExceededError": "._model.retry",
    "success_hook": "._model.hooks",
    "failure_hook": "._model.hooks",
    "HookContext": "._model.hooks",
    "HookDefinition": "._model.hooks",
    "build_hook_context": "._model.hooks",
    # types
    "DagsterType": "._model.dagster_type",
    "TypeCheck": "._model.dagster_type",
    "TypeCheckContext": "._model.dagster_type",
    "DagsterTypeKind": "._model.dagster_type",
    "PythonObjectDagsterType": "._model.dagster_type",
    "Any": "._model.dagster_type",
    "Bool": "._model.dagster_type",
    "Int": "._model.dagster_type",
    "Float": "._model.dagster_type",
    "String": "._model.dagster_type",
    "Nothing": "._model.dagster_type",
    "List": "._model.dagster_type",
    "Dict": "._model.dagster_type",
    "Optional": "._model.dagster_type",
    "Set": "._model.dagster_type",
    "Tuple": "._model.dagster_type",
    "make_python_type_usable_as_dagster_type": "._model.dagster_type",
    "usable_as_dagster_type": "._model.dagster_type",
    "dagster_type_loader": "._model.dagster_type",
    "DagsterTypeLoader": "._model.dagster_type",
    "check_dagster_type": "._model.dagster_type",
    "DagsterTypeCheckError": "._model.dagster_type",
    # selection and jobs
    "AssetSelection": "._graph.selection",
    "define_asset_job": "._execution.asset_job",
    "JobDefinition": "._execution.asset_job",
    "UnresolvedAssetJobDefinition": "._execution.asset_job",
    # execution
    "materialize": "._execution.materialize",
    "materialize_to_memory": "._execution.materialize",
    "ExecuteInProcessResult": "._execution.result",
    "DagsterEvent": "._execution.events",
    "DagsterEventType": "._execution.events",
    "DagsterRunStatus": "._execution.run",
    "DagsterRun": "._execution.run",
    "AssetExecutionContext": "._execution.context",
    "OpExecutionContext": "._execution.context",
    "build_asset_context": "._execution.context",
    # IO managers
    "IOManager": "._io.io_manager",
    "IOManagerDefinition": "._io.io_manager",
    "io_manager": "._io.io_manager",
    "ConfigurableIOManager": "._io.io_manager",
    "ConfigurableIOManagerFactory": "._io.io_manager",
    "InputManager": "._io.io_manager",
    "InputManagerDefinition": "._io.io_manager",
    "input_manager": "._io.io_manager",
    "InputContext": "._io.contexts",
    "OutputContext": "._io.contexts",
    "build_input_context": "._io.context_builders",
    "build_output_context": "._io.context_builders",
    "FilesystemIOManager": "._io.filesystem",
    "PickledObjectFilesystemIOManager": "._io.filesystem",
    "fs_io_manager": "._io.filesystem",
    "InMemoryIOManager": "._io.memory",
    "mem_io_manager": "._io.memory",
    "UPathIOManager": "._io.upath",
    # config and resources
    "Config": "._config.config",
    "PermissiveConfig": "._config.config",
    "RunConfig": "._config.config",
    "ConfigurableResource": "._config.resources",
    "ResourceParam": "._config.resources",
    "ResourceDefinition": "._config.resources",
    "resource": "._config.resources",
    "InitResourceContext": "._config.resources",
    "build_init_resource_context": "._config.resources",
    "build_resources": "._config.resources",
    # config and resources (full)
    "EnvVar": "._config.env_var",
    "Field": "._config.schema",
    "Shape": "._config.schema",
    "Permissive": "._config.schema",
    "Selector": "._config.schema",
    "Array": "._config.schema",
    "Noneable": "._config.schema",
    "Map": "._config.schema",
    "Enum": "._config.schema",
    "EnumValue": "._config.schema",
    "StringSource": "._config.schema",
    "IntSource": "._config.schema",
    "BoolSource": "._config.schema",
    "ConfigMapping": "._config.config_mapping",
    "config_mapping": "._config.config_mapping",
    "DagsterConfigMappingFunctionError": "._config.config_mapping",
    "validate_run_config": "._config.validate",
    "with_resources": "._config.with_resources",
    "ResourceDependency": "._config.resources",
    "ConfigurableResourceFactory": "._config.resources",
    "PartialResource": "._config.resources",
    # executors
    "execute_job": "._execution.execute_job",
    "JobExecutionResult": "._execution.execute_job",
    "ReexecutionOptions": "._execution.execute_job",
    "UnmetExecutorRequirementsError": "._execution.execute_job",
    "DagsterUnmetExecutorRequirementsError": "._execution.execute_job",
    "reconstructable": "._execution.reconstructable",
    "ReconstructableJob": "._execution.reconstructable",
    "build_reconstructable_job": "._execution.reconstructable",
    "multiprocess_executor": "._execution.executor_def",
    "in_process_executor": "._execution.executor_def",
    "multi_or_in_process_executor": "._execution.executor_def",
    "ExecutorDefinition": "._execution.executor_def",
    # partitions
    "PartitionsDefinition": "._partitions.definition",
    "StaticPartitionsDefinition": "._partitions.static",
    "DynamicPartitionsDefinition": "._partitions.dynamic",
    "MultiPartitionsDefinition": "._partitions.multi",
    "MultiPartitionKey": "._partitions.key_range",
    "PartitionKeyRange": "._partitions.key_range",
    "AddDynamicPartitionsRequest": "._partitions.requests",
    "DeleteDynamicPartitionsRequest": "._partitions.requests",
    "TimeWindow": "._partitions.time_window",
    "ScheduleType": "._partitions.time_window",
    "TimeWindowPartitionsDefinition": "._partitions.time_window",
    "DailyPartitionsDefinition": "._partitions.time_window",
    "HourlyPartitionsDefinition": "._partitions.time_window",
    "WeeklyPartitionsDefinition": "._partitions.time_window",
    "MonthlyPartitionsDefinition": "._partitions.time_window",
    "PartitionedConfig": "._partitions.partitioned_config",
    "partitioned_config": "._partitions.partitioned_config",
    "static_partitioned_config": "._partitions.partitioned_config",
    "dynamic_partitioned_config": "._partitions.partitioned_config",
    "daily_partitioned_config": "._partitions.partitioned_config",
    "hourly_partitioned_config": "._partitions.partitioned_config",
    "weekly_partitioned_config": "._partitions.partitioned_config",
    "monthly_partitioned_config": "._partitions.partitioned_config",
    "PartitionMapping": "._partitions.mapping",
    "IdentityPartitionMapping": "._partitions.mapping",
    "AllPartitionMapping": "._partitions.mapping",
    "LastPartitionMapping": "._partitions.mapping",
    "StaticPartitionMapping": "._partitions.mapping",
    "SpecificPartitionsPartitionMapping": "._partitions.mapping",
    "TimeWindowPartitionMapping": "._partitions.time_window_mapping",
    "MultiToSingleDimensionPartitionMapping": "._partitions.multi_mapping",
    "MultiPartitionMapping": "._partitions.multi_mapping",
    "DimensionPartitionMapping": "._partitions.multi_mapping",
    # backfills
    "BackfillPolicy": "._backfill.policy",
    "BackfillPolicyType": "._backfill.policy",
    "plan_backfill": "._backfill.plan",
    "BackfillPlan": "._backfill.plan",
    "BackfillReason": "._backfill.plan",
    "PlanEntry": "._backfill.plan",
    "PlannedRun": "._backfill.plan",
    "launch_backfill": "._backfill.driver",
    "resume_backfill": "._backfill.driver",
    "cancel_backfill": "._backfill.driver",
    "BackfillResult": "._backfill.driver",
    "get_backfill": "._backfill.record",
    "get_backfills": "._backfill.record",
    "BackfillRecord": "._backfill.record",
    "BulkActionStatus": "._backfill.record",
    "BackfillPartitionStatus": "._backfill.record",
    "BackfillNotFoundError": "._backfill.record",
    # instance
    "Instance": "._instance.instance",
    "DagsterInstance": "._instance.instance",
    "InstanceRef": "._instance.instance",
    "instance_for_test": "._instance.for_test",
    "RunsFilter": "._instance.records",
    "AssetPartitionStatus": "._instance.partition_status",
    "RunRecord": "._instance.records",
    "EventLogEntry": "._instance.records",
    "EventLogRecord": "._instance.records",
    "EventRecordsFilter": "._instance.records",
    "EventRecordsResult": "._instance.records",
    "AssetRecordsFilter": "._instance.records",
    "AssetCheckExecutionRecord": "._instance.records",
    "AssetCheckExecutionRecordStatus": "._instance.records",
    # plugins
    "hookimpl": ".hookspecs",
    "get_plugin_manager": ".plugins",
    # errors
    "WeirError": ".errors",
    "DefinitionError": ".errors",
    "DuplicateKeyError": ".errors",
    "InvariantViolationError": ".errors",
    "InvalidInvocationError": ".errors",
    "ConfigError": ".errors",
    "ConfigProblem": ".errors",
    "ResourceError": ".errors",
    "ExecutionError": ".errors",
    "StepExecutionError": ".errors",
    "UserCodeExecutionError": ".errors",
    "TypeCheckError": ".errors",
    "LoadInputError": ".errors",
    "HandleOutputError": ".errors",
    "StorageError": ".errors",
    "RunAlreadyExistsError": ".errors",
    "RunNotFoundError": ".errors",
    "SchemaVersionError": ".errors",
    "DagsterRunAlreadyExists": ".errors",
    "DagsterRunNotFoundError": ".errors",
    "PluginError": ".errors",
    "SelectionError": ".errors",
    "DagsterError": ".errors",
    "DagsterInvalidDefinitionError": ".errors",
    "DagsterInvariantViolationError": ".errors",
    "DagsterInvalidInvocationError": ".errors",
    "DagsterInvalidConfigError": ".errors",
    "DagsterExecutionStepExecutionError": ".errors",
    "DagsterUserCodeExecutionError": ".errors",
    "DagsterTypeCheckDidNotPass": ".errors",
    "DagsterExecutionLoadInputError": ".errors",
    "DagsterExecutionHandleOutputError": ".errors",
    "DagsterUnknownResourceError": ".errors",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # static checkers see real imports
    from weir._config.config import Config, PermissiveConfig, RunConfig
    from weir._config.resources import (
        ConfigurableResource,
        InitResourceContext,
        ResourceDefinition,
        ResourceParam,
        build_init_resource_context,
        resource,
    )
    from weir._execution.asset_job import (
        JobDefinition,
        UnresolvedAssetJobDefinition,
        define_asset_job,
    )
    from weir._execution.context import (
        AssetExecutionContext,
        OpExecutionContext,
        build_asset_context,
    )
    from weir._execution.events import DagsterEvent, DagsterEventType
    from weir._execution.materialize import materialize, materialize_to_memory
    from weir._execution.result import ExecuteInProcessResult
    from weir._execution.run import DagsterRun, DagsterRunStatus
    from weir._graph.selection import AssetSelection
    from weir._instance.for_test import instance_for_test
    from weir._instance.instance import DagsterInstance, Instance, InstanceRef
    from weir._instance.records import (
        AssetCheckExecutionRecord,
        AssetCheckExecutionRecordStatus,
        AssetRecordsFilter,
        EventLogEntry,
        EventLogRecord,
        EventRecordsFilter,
        EventRecordsResult,
        RunRecord,
        RunsFilter,
    )
    from weir._io.context_builders import build_input_context, build_output_context
    from weir._io.contexts import InputContext, OutputContext
    from weir._io.filesystem import (
        FilesystemIOManager,
        PickledObjectFilesystemIOManager,
        fs_io_manager,
    )
    from weir._io.io_manager import (
        ConfigurableIOManager,
        ConfigurableIOManagerFactory,
        IOManager,
        IOManagerDefinition,
        io_manager,
    )
    from weir._io.memory import InMemoryIOManager, mem_io_manager
    from weir._io.upath import UPathIOManager
    from weir._model.asset_decorator import asset, multi_asset
    from weir._model.asset_in_out import AssetDep, AssetIn, AssetOut
    from weir._model.asset_key import AssetCheckKey, AssetKey
    from weir._model.asset_spec import AssetSpec
    from weir._model.assets_definition import AssetsDefinition
    from weir._model.definitions import Definitions
    from weir._model.metadata import (
        BoolMetadataValue,
        FloatMetadataValue,
        IntMetadataValue,
        JsonMetadataValue,
        MarkdownMetadataValue,
        MetadataValue,
        NullMetadataValue,
        PathMetadataValue,
        TableColumn,
        TableColumnConstraints,
        TableConstraints,
        TableMetadataValue,
        TableRecord,
        TableSchema,
        TableSchemaMetadataValue,
        TextMetadataValue,
        TimestampMetadataValue,
        UrlMetadataValue,
    )
    from weir._model.module_loaders import (
        load_assets_from_current_module,
        load_assets_from_modules,
        load_assets_from_package_module,
        load_definitions_from_modules,
    )
    from weir._model.results import (
        AssetMaterialization,
        AssetObservation,
        DataVersion,
        MaterializeResult,
        Output,
    )
    from weir._model.source_asset import SourceAsset
    from weir.errors import *
    from weir.hookspecs import hookimpl
    from weir.plugins import get_plugin_manager
