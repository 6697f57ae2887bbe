"""delivery window: when each release post's current operation was first tried

Revision ID: 0010_delivery_window
Revises: 0009_stats_rollups
Create Date: 2027-02-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010_delivery_window"
down_revision: str | Sequence[str] | None = "0009_stats_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("release_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_attempt_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("release_posts", schema=None) as batch_op:
        batch_op.drop_column("first_attempt_at")
