"""The initial instance schema: runs, tags, the event log and its indexes, partitions, state.

Revision ID: 0001
Revises: none

The tables are written out here as they were at this revision (not imported from
``sql_schema``, which moves on with later revisions).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "runs",
        _id(),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("job_name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(63), nullable=False),
        sa.Column("parent_run_id", sa.String(255)),
        sa.Column("root_run_id", sa.String(255)),
        sa.Column("create_timestamp", sa.Float, nullable=False),
        sa.Column("update_timestamp", sa.Float, nullable=False),
        sa.Column("start_time", sa.Float),
        sa.Column("end_time", sa.Float),
        sa.Column("partition", sa.Text),
        sa.Column("backfill_id", sa.String(255)),
        sa.Column("run_body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("run_id", name=op.f("uq_runs_run_id")),
    )
    op.create_index("ix_runs_status_id", "runs", ["status", "id"])
    op.create_index("ix_runs_job_name_id", "runs", ["job_name", "id"])
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])

    op.create_table(
        "run_tags",
        _id(),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_tags")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name=op.f("fk_run_tags_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("run_id", "key", name=op.f("uq_run_tags_run_id_key")),
    )
    op.create_index("ix_run_tags_key_value", "run_tags", ["key", "value"])

    op.create_table(
        "event_logs",
        _id(),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("dagster_event_type", sa.String(255)),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("step_key", sa.Text),
        sa.Column("asset_key", sa.Text),
        sa.Column("partition", sa.Text),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_logs")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_logs_run_id_id", "event_logs", ["run_id", "id"])
    op.create_index(
        "ix_event_logs_asset_key_dagster_event_type_partition_id",
        "event_logs",
        ["asset_key", "dagster_event_type", "partition", "id"],
        sqlite_where=sa.text("asset_key IS NOT NULL"),
        postgresql_where=sa.text("asset_key IS NOT NULL"),
    )
    op.create_index(
        "ix_event_logs_dagster_event_type_id", "event_logs", ["dagster_event_type", "id"]
    )

    op.create_table(
        "asset_keys",
        _id(),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("last_materialization_storage_id", sa.BigInteger),
        sa.Column("last_materialization_timestamp", sa.Float),
        sa.Column("last_observation_storage_id", sa.BigInteger),
        sa.Column("last_observation_timestamp", sa.Float),
        sa.Column("last_run_id", sa.String(255)),
        sa.Column("wipe_timestamp", sa.Float),
        sa.Column("create_timestamp", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_keys")),
        sa.UniqueConstraint("asset_key", name=op.f("uq_asset_keys_asset_key")),
    )

    op.create_table(
        "asset_check_executions",
        _id(),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("check_name", sa.Text, nullable=False),
        sa.Column("partition", sa.Text),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("execution_status", sa.String(63), nullable=False),
        sa.Column("evaluation_event", sa.Text),
        sa.Column("evaluation_event_timestamp", sa.Float),
        sa.Column("evaluation_event_storage_id", sa.BigInteger),
        sa.Column("create_timestamp", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_check_executions")),
    )
    op.create_index(
        "ix_asset_check_executions_asset_key_check_name_id",
        "asset_check_executions",
        ["asset_key", "check_name", "id"],
    )
    op.create_index("ix_asset_check_executions_run_id", "asset_check_executions", ["run_id"])

    op.create_table(
        "dynamic_partitions",
        _id(),
        sa.Column("partitions_def_name", sa.Text, nullable=False),
        sa.Column("partition", sa.Text, nullable=False),
        sa.Column("create_timestamp", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dynamic_partitions")),
        sa.UniqueConstraint(
            "partitions_def_name",
            "partition",
            name=op.f("uq_dynamic_partitions_partitions_def_name_partition"),
        ),
    )

    op.create_table(
        "kvs",
        _id(),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kvs")),
        sa.UniqueConstraint("key", name=op.f("uq_kvs_key")),
    )

    op.create_table(
        "states",
        _id(),
        sa.Column("kind", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("status", sa.String(63), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_states")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_states_kind_key")),
    )
    op.create_index("ix_states_kind_status_id", "states", ["kind", "status", "id"])

    op.create_table(
        "ticks",
        _id(),
        sa.Column("kind", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("status", sa.String(63), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticks")),
    )
    op.create_index("ix_ticks_kind_key_timestamp", "ticks", ["kind", "key", "timestamp"])


def downgrade() -> None:
    for table in (
        "ticks",
        "states",
        "kvs",
        "dynamic_partitions",
        "asset_check_executions",
        "asset_keys",
        "event_logs",
        "run_tags",
        "runs",
    ):
        op.drop_table(table)
