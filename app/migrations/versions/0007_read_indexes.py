"""indexes for the portal's reads: the services list by score (unscored last, ties by ref) each way,
and the fleet's counts by tier and level from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNSCORED_LAST = sa.text("(score IS NULL)")


def upgrade() -> None:
    op.create_index("ix_service_status_score_sort", "service_status", [UNSCORED_LAST, "score", "ref"])
    op.create_index(
        "ix_service_status_score_sort_desc", "service_status", [UNSCORED_LAST, sa.text("score DESC"), "ref"]
    )
    op.create_index("ix_service_status_summary", "service_status", ["tier", "level", "ready"])


def downgrade() -> None:
    op.drop_index("ix_service_status_summary", "service_status")
    op.drop_index("ix_service_status_score_sort_desc", "service_status")
    op.drop_index("ix_service_status_score_sort", "service_status")
