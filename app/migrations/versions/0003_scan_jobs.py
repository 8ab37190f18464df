"""portal: rescan jobs shared by every worker process

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scan_job",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("service_ref", sa.String(255), nullable=False, index=True),
        sa.Column("active_ref", sa.String(255), unique=True, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("heartbeat_at", UTC, nullable=False),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id")),
        sa.Column("error", sa.Text),
        sa.Column("finished_at", UTC),
    )


def downgrade() -> None:
    op.drop_table("scan_job")
