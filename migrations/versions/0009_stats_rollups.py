"""statistics rollups kept by triggers: theme figures, items per week; a covering index

Revision ID: 0009_stats_rollups
Revises: 0008_personal_standups
Create Date: 2027-01-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models import rollups

revision: str = "0009_stats_rollups"
down_revision: str | Sequence[str] | None = "0008_personal_standups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _covering_index(include: list[str]) -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_team_id_created_at_id")
        batch_op.create_index(
            "ix_feedback_team_id_created_at_id",
            ["team_id", "created_at", "id"],
            unique=False,
            postgresql_include=include,
        )


def upgrade() -> None:
    op.create_table(
        "theme_counts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_counts_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "theme_id", name=op.f("pk_theme_counts")),
    )
    op.create_table(
        "theme_customers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("customer_key", sa.String(length=200), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("first_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_customers_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "theme_id", "customer_key", name=op.f("pk_theme_customers")),
    )
    op.create_table(
        "feedback_weeks",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_key", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("critical", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "week", "kind", "area_key", name=op.f("pk_feedback_weeks")),
    )
    with op.batch_alter_table("theme_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_theme_customers_team_id_theme_id_first_at", ["team_id", "theme_id", "first_at"], unique=False
        )

    # The covering index is rebuilt before the triggers exist: on SQLite a batch rebuild of
    # `feedback` would drop them.
    _covering_index(["kind", "area_id", "importance"])
    # Triggers first: on PostgreSQL CREATE TRIGGER locks out writes to `feedback` until this
    # migration commits, so no item is written between the backfill and the triggers.
    bind = op.get_bind()
    rollups.create_triggers(bind)
    for statement in rollups.backfill(bind.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    rollups.drop_triggers(op.get_bind())
    _covering_index([])
    op.drop_table("feedback_weeks")
    with op.batch_alter_table("theme_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_theme_customers_team_id_theme_id_first_at")
    op.drop_table("theme_customers")
    op.drop_table("theme_counts")
