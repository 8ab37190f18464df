"""portal: waivers, attestations, sign-offs, API tokens, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "waiver",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_ref", sa.String(255), nullable=False, index=True),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("approver", sa.String(255), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC),
        sa.Column("revoked_by", sa.String(255)),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_table(
        "attestation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_ref", sa.String(255), nullable=False, index=True),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("answer", sa.Boolean, nullable=False),
        sa.Column("evidence_url", sa.String(2048)),
        sa.Column("attested_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
    )
    op.create_table(
        "signoff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_ref", sa.String(255), nullable=False, index=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id"), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", UTC, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTC, nullable=False, index=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "api_token", "signoff", "attestation", "waiver"):
        op.drop_table(table)
