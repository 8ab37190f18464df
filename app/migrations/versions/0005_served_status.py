"""served status per service, its per-check states and change events; sign-offs keep the verdict seen

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_scan_service_latest", "scan", ["service_id", "scanned_at", "id"])
    with op.batch_alter_table("signoff") as batch:
        batch.add_column(sa.Column("level", sa.String(64)))
        batch.add_column(sa.Column("ready", sa.Boolean))
        batch.add_column(sa.Column("score", sa.Float))
        batch.add_column(sa.Column("status_version", sa.Integer))
        batch.add_column(sa.Column("waivers", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("idempotency_key", sa.String(64)))
        batch.create_unique_constraint("uq_signoff_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("signoff") as batch:
        batch.alter_column("waivers", server_default=None)
    op.create_table(
        "service_status",
        sa.Column("service_id", sa.Integer, sa.ForeignKey("service.id"), primary_key=True, autoincrement=False),
        sa.Column("ref", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, index=True),
        sa.Column("owner", sa.String(255)),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("lifecycle", sa.String(64)),
        sa.Column("repo", sa.String(1024), nullable=False),
        sa.Column("level", sa.String(64)),
        sa.Column("level_rank", sa.Integer, nullable=False),
        sa.Column("required_level", sa.String(64), nullable=False),
        sa.Column("levels", sa.JSON, nullable=False),
        sa.Column("score", sa.Float, index=True),
        sa.Column("ready", sa.Boolean, nullable=False, index=True),
        sa.Column("unmet", sa.Integer, nullable=False),
        sa.Column("blocking_unmet", sa.Integer, nullable=False),
        sa.Column("waived", sa.Integer, nullable=False),
        sa.Column("waiver_carried", sa.Boolean, nullable=False),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id"), nullable=False),
        sa.Column("commit", sa.String(40), nullable=False),
        sa.Column("scanned_at", UTC, nullable=False, index=True),
        sa.Column("scorecard_id", sa.String(128), nullable=False),
        sa.Column("scorecard_version", sa.String(64), nullable=False),
        sa.Column("changes_at", UTC, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("inputs", sa.String(64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_service_status_tier_level", "service_status", ["tier", "level_rank"])
    op.create_index("ix_service_status_owner_ref", "service_status", ["owner", "ref"])
    op.create_table(
        "served_report",
        sa.Column(
            "service_id",
            sa.Integer,
            sa.ForeignKey("service_status.service_id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_table(
        "service_check",
        sa.Column(
            "service_id",
            sa.Integer,
            sa.ForeignKey("service_status.service_id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("check_id", sa.String(128), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("waiver", sa.JSON),
    )
    op.create_index("ix_service_check_check_state", "service_check", ["check_id", "state"])
    op.create_table(
        "status_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("service.id"), nullable=False),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.Column("at", UTC, nullable=False, index=True),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("cause_id", sa.Integer),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scan.id"), nullable=False),
        sa.Column("commit", sa.String(40), nullable=False),
        sa.Column("previous_level", sa.String(64)),
        sa.Column("level", sa.String(64)),
        sa.Column("level_rank", sa.Integer, nullable=False),
        sa.Column("previous_ready", sa.Boolean),
        sa.Column("ready", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("required_level", sa.String(64), nullable=False),
        sa.Column("waiver_carried", sa.Boolean, nullable=False),
        sa.Column("level_dropped", sa.Boolean, nullable=False),
        sa.Column("stopped_ready", sa.Boolean, nullable=False),
        sa.Column("worsened", sa.Boolean, nullable=False),
        sa.Column("newly_unmet", sa.JSON, nullable=False),
        sa.Column("newly_met", sa.JSON, nullable=False),
        sa.Column("unmet", sa.JSON, nullable=False),
        sa.Column("waived", sa.JSON, nullable=False),
    )
    op.create_index("ix_status_event_service_at", "status_event", ["service_id", "at", "id"])
    op.create_index("ix_status_event_worsened_at", "status_event", ["worsened", "at"])


def downgrade() -> None:
    for table in ("status_event", "service_check", "served_report", "service_status"):
        op.drop_table(table)
    with op.batch_alter_table("signoff") as batch:
        batch.drop_constraint("uq_signoff_idempotency_key", type_="unique")
        for column in ("idempotency_key", "waivers", "status_version", "score", "ready", "level"):
            batch.drop_column(column)
    op.drop_index("ix_scan_service_latest", "scan")
