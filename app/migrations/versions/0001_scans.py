"""services, scans and check results

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("lifecycle", sa.String(64)),
        sa.Column("repo", sa.String(1024), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_service_ref", "service", ["ref"], unique=True)
    op.create_index("ix_service_owner", "service", ["owner"])
    op.create_table(
        "scan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("service.id"), nullable=False),
        sa.Column("commit", sa.String(40), nullable=False),
        sa.Column("repo", sa.String(1024), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scorecard_id", sa.String(128), nullable=False),
        sa.Column("scorecard_version", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("level", sa.String(64)),
        sa.Column("ready", sa.Boolean, nullable=False),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_index("ix_scan_service_id", "scan", ["service_id"])
    op.create_index("ix_scan_scanned_at", "scan", ["scanned_at"])
    op.create_table(
        "check_result",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id"), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("met", sa.Boolean),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.UniqueConstraint("scan_id", "check_id"),
    )
    op.create_index("ix_check_result_scan_id", "check_result", ["scan_id"])
    op.create_index("ix_check_result_check_id", "check_result", ["check_id"])
    op.create_index("ix_check_result_status", "check_result", ["status"])


def downgrade() -> None:
    op.drop_table("check_result")
    op.drop_table("scan")
    op.drop_table("service")
