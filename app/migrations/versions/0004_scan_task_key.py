"""scans from queued tasks: a unique task key, so a redelivered task stores its scan once

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan") as batch:
        batch.add_column(sa.Column("task_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_scan_task_key", ["task_key"])


def downgrade() -> None:
    with op.batch_alter_table("scan") as batch:
        batch.drop_constraint("uq_scan_task_key", type_="unique")
        batch.drop_column("task_key")
