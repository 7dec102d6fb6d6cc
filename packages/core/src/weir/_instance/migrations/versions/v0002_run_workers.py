"""Record the worker (pid and host) of each run, and index check executions by partition.

Revision ID: 0002
Revises: 0001

``runs.worker_pid`` / ``runs.worker_host`` are filled from each run's PIPELINE_START event;
the instance reads them (``get_run_workers``) to tell whether a started run's process is still
alive. The new index serves ``get_asset_check_executions(..., partition=...)``. Runs started
before this revision have no worker recorded: their columns stay NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("worker_pid", sa.Integer))
    op.add_column("runs", sa.Column("worker_host", sa.String(255)))
    op.create_index(
        "ix_asset_check_executions_asset_key_check_name_partition_id",
        "asset_check_executions",
        ["asset_key", "check_name", "partition", "id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_asset_check_executions_asset_key_check_name_partition_id",
        table_name="asset_check_executions",
    )
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("worker_host")
        batch.drop_column("worker_pid")
