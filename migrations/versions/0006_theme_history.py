"""theme history, links closed by a pull request, deliveries applied

The new theme status `done` needs no change: `themes.status` is a string column without a check.

Revision ID: 0006_theme_history
Revises: 0005_integrations
Create Date: 2026-12-02 19:19:13.261537
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006_theme_history"
down_revision: str | Sequence[str] | None = "0005_integrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_events_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_events")),
    )
    with op.batch_alter_table("theme_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_theme_events_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_theme_events_theme_id"), ["theme_id"], unique=False)

    with op.batch_alter_table("theme_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_by", sa.String(length=200), nullable=True))

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processed_at", models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("processed_at")

    with op.batch_alter_table("theme_links", schema=None) as batch_op:
        batch_op.drop_column("closed_by")

    with op.batch_alter_table("theme_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_events_theme_id"))
        batch_op.drop_index(batch_op.f("ix_theme_events_team_id"))
    op.drop_table("theme_events")
