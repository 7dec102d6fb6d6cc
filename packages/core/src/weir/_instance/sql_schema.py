"""The SQL schema of an instance: SQLAlchemy Core tables shared by every SQL backend.

One ``MetaData`` holds every table; SQLite and PostgreSQL create it identically (the migration
chain in ``weir/_instance/migrations`` builds the same schema step by step, and a test checks
that both agree). ``id`` columns are ``BIGINT`` on PostgreSQL and ``INTEGER`` on SQLite, where
an ``INTEGER PRIMARY KEY`` is the rowid itself. ``event_logs.id`` is the storage id, the global
cursor: it uses ``AUTOINCREMENT`` on SQLite so that ids of deleted events are never reused.

Timestamps are epoch seconds (floats). JSON bodies (``run_body``, ``event``, ``body``) are text
written by :mod:`weir._instance.serdes`. Asset keys are stored in their ``AssetKey.to_string()``
form.

Changing this module means writing a migration: add a script under ``migrations/versions``
whose ``down_revision`` is the current head, append its id to :data:`SCHEMA_REVISIONS`, and keep
the schema test green.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "SCHEMA_HEAD",
    "SCHEMA_REVISIONS",
    "alembic_version",
    "asset_check_executions",
    "asset_keys",
    "dynamic_partitions",
    "event_logs",
    "kvs",
    "metadata",
    "run_tags",
    "runs",
    "states",
    "ticks",
]

SCHEMA_REVISIONS: tuple[str, ...] = ("0001", "0002")
"""Every migration revision id, oldest first. The last one is the schema these tables describe."""

SCHEMA_HEAD: str = SCHEMA_REVISIONS[-1]
"""The Alembic revision id of the schema in this module (the head of the migration chain)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are derived, never left to the database, so migrations can refer to them."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# BIGINT on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" aliases the rowid.
StorageId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[int]:
    return Column("id", StorageId, primary_key=True, autoincrement=True)


runs = Table(
    "runs",
    metadata,
    _id(),
    Column("run_id", String(255), nullable=False, unique=True),
    Column("job_name", String(255), nullable=False),
    Column("status", String(63), nullable=False),
    Column("parent_run_id", String(255)),
    Column("root_run_id", String(255)),
    Column("create_timestamp", Float, nullable=False),
    Column("update_timestamp", Float, nullable=False),
    Column("start_time", Float),
    Column("end_time", Float),
    Column("partition", Text),
    Column("backfill_id", String(255)),
    Column("run_body", Text, nullable=False),
    # revision 0002
    Column("worker_pid", Integer),
    Column("worker_host", String(255)),
    Index("ix_runs_status_id", "status", "id"),
    Index("ix_runs_job_name_id", "job_name", "id"),
    Index("ix_runs_parent_run_id", "parent_run_id"),
)
"""One row per run. ``run_body`` is the serialized ``DagsterRun``; ``status`` overrides its status."""

run_tags = Table(
    "run_tags",
    metadata,
    _id(),
    Column(
        "run_id",
        String(255),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", Text, nullable=False),
    Column("value", Text, nullable=False),
    UniqueConstraint("run_id", "key"),
    Index("ix_run_tags_key_value", "key", "value"),
)
"""The tags of each run, for filtering (``RunsFilter.tags``); deleted with their run."""

event_logs = Table(
    "event_logs",
    metadata,
    _id(),
    Column("run_id", String(255), nullable=False),
    Column("event", Text, nullable=False),
    Column("dagster_event_type", String(255)),
    Column("timestamp", Float, nullable=False),
    Column("step_key", Text),
    Column("asset_key", Text),
    Column("partition", Text),
    Index("ix_event_logs_run_id_id", "run_id", "id"),
    # Partial: most events have no asset key, and leaving them out of this index keeps a
    # step's commit from touching one index page per event type (a quarter of its cost).
    Index(
        "ix_event_logs_asset_key_dagster_event_type_partition_id",
        "asset_key",
        "dagster_event_type",
        "partition",
        "id",
        sqlite_where=text("asset_key IS NOT NULL"),
        postgresql_where=text("asset_key IS NOT NULL"),
    ),
    Index("ix_event_logs_dagster_event_type_id", "dagster_event_type", "id"),
    sqlite_autoincrement=True,
)
"""Every event of every run; ``id`` is the storage id. ``dagster_event_type`` is NULL for log lines."""

asset_keys = Table(
    "asset_keys",
    metadata,
    _id(),
    Column("asset_key", Text, nullable=False, unique=True),
    Column("last_materialization_storage_id", BigInteger),
    Column("last_materialization_timestamp", Float),
    Column("last_observation_storage_id", BigInteger),
    Column("last_observation_timestamp", Float),
    Column("last_run_id", String(255)),
    Column("wipe_timestamp", Float),
    Column("create_timestamp", Float, nullable=False),
)
"""Known assets. A key is listed while it has a materialization or an observation (not wiped)."""

asset_check_executions = Table(
    "asset_check_executions",
    metadata,
    _id(),
    Column("asset_key", Text, nullable=False),
    Column("check_name", Text, nullable=False),
    Column("partition", Text),
    Column("run_id", String(255), nullable=False),
    Column("execution_status", String(63), nullable=False),
    Column("evaluation_event", Text),
    Column("evaluation_event_timestamp", Float),
    Column("evaluation_event_storage_id", BigInteger),
    Column("create_timestamp", Float, nullable=False),
    Index("ix_asset_check_executions_asset_key_check_name_id", "asset_key", "check_name", "id"),
    Index("ix_asset_check_executions_run_id", "run_id"),
    # revision 0002
    Index(
        "ix_asset_check_executions_asset_key_check_name_partition_id",
        "asset_key",
        "check_name",
        "partition",
        "id",
    ),
)
"""One row per planned or evaluated check execution (PLANNED, then SUCCEEDED or FAILED)."""

dynamic_partitions = Table(
    "dynamic_partitions",
    metadata,
    _id(),
    Column("partitions_def_name", Text, nullable=False),
    Column("partition", Text, nullable=False),
    Column("create_timestamp", Float, nullable=False),
    UniqueConstraint("partitions_def_name", "partition"),
)
"""Keys of dynamic partitions definitions; ``id`` order is the order they were added in."""

kvs = Table(
    "kvs",
    metadata,
    _id(),
    Column("key", Text, nullable=False, unique=True),
    Column("value", Text, nullable=False),
)
"""A small key-value store (daemon cursors and the like)."""

states = Table(
    "states",
    metadata,
    _id(),
    Column("kind", String(255), nullable=False),
    Column("key", Text, nullable=False),
    Column("status", String(63), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("kind", "key"),
    Index("ix_states_kind_status_id", "kind", "status", "id"),
)
"""Named state records: schedule/sensor state, backfills, daemon heartbeats."""

ticks = Table(
    "ticks",
    metadata,
    _id(),
    Column("kind", String(255), nullable=False),
    Column("key", Text, nullable=False),
    Column("status", String(63), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_ticks_kind_key_timestamp", "kind", "key", "timestamp"),
)
"""Ticks of schedules and sensors."""

alembic_version = Table(
    "alembic_version",
    metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
"""Alembic's own bookkeeping table, declared here so a new database gets it with the schema."""
