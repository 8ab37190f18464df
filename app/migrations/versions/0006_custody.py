"""a service ref held by the source that registered it; owner and tier changes awaiting an approver

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ref_conflict",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(255), nullable=False, index=True),
        sa.Column("holder_repo", sa.String(1024), nullable=False),
        sa.Column("claimant_repo", sa.String(1024), nullable=False, index=True),
        sa.Column("claimant_commit", sa.String(40), nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("refused_scans", sa.Integer, nullable=False),
        sa.Column("resolution", sa.String(16)),
        sa.Column("resolved_by", sa.String(255)),
        sa.Column("resolved_at", UTC),
        sa.UniqueConstraint("ref", "claimant_repo"),
    )
    op.create_table(
        "pending_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("service.id"), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("in_force", sa.String(255)),
        sa.Column("declared", sa.String(255)),
        sa.Column("declared_in", sa.Text, nullable=False),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id"), nullable=False),
        sa.Column("commit", sa.String(40), nullable=False),
        sa.Column("seen_at", UTC, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_at", UTC),
    )
    op.create_index("ix_pending_change_service_state", "pending_change", ["service_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_pending_change_service_state", "pending_change")
    op.drop_table("pending_change")
    op.drop_table("ref_conflict")
