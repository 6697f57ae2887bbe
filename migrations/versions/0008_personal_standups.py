"""personal standups: each person asked at their own time, what Slack says about them, away periods

Revision ID: 0008_personal_standups
Revises: 0005_integrations
Create Date: 2027-01-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008_personal_standups"
down_revision: str | Sequence[str] | None = "0007_encrypted_installations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cutoff_at", models.base.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("standup_prompts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("skip_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("away_until", sa.Date(), nullable=True))

    op.create_table(
        "standup_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("status_emoji", sa.String(length=100), nullable=False),
        sa.Column("status_text", sa.String(length=200), nullable=False),
        sa.Column("status_expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_people")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_standup_people_team_id_user_id")),
    )
    with op.batch_alter_table("standup_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_people_team_id"), ["team_id"], unique=False)

    op.create_table(
        "standup_away",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launches.id"],
            name=op.f("fk_standup_away_launch_id_launches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_away")),
        sa.UniqueConstraint(
            "team_id", "user_id", "scope", name=op.f("uq_standup_away_team_id_user_id_scope")
        ),
    )
    with op.batch_alter_table("standup_away", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_away_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standup_away", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_away_team_id"))
    op.drop_table("standup_away")

    with op.batch_alter_table("standup_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_people_team_id"))
    op.drop_table("standup_people")

    with op.batch_alter_table("standup_prompts", schema=None) as batch_op:
        batch_op.drop_column("away_until")
        batch_op.drop_column("skip_reason")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("timezone")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("due_at")

    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.drop_column("cutoff_at")
