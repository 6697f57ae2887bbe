"""launches, sign-off matrix, standups, go/no-go

Revision ID: 0003_launches
Revises: 0001_foundation
Create Date: 2026-11-21 17:06:48.276404
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003_launches"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "launches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("standup_weekdays", sa.JSON(), nullable=False),
        sa.Column("standup_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("holiday_country", sa.String(length=8), nullable=True),
        sa.Column("holiday_subdivision", sa.String(length=16), nullable=True),
        sa.Column("standups_enabled", sa.Boolean(), nullable=False),
        sa.Column("reminder_after_minutes", sa.Integer(), nullable=False),
        sa.Column("cutoff_after_minutes", sa.Integer(), nullable=False),
        sa.Column("gonogo_days_before", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launches")),
        sa.UniqueConstraint("team_id", "slug", name=op.f("uq_launches_team_id_slug")),
    )
    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_launches_team_id"), ["team_id"], unique=False)

    op.create_table(
        "gonogo_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("voters", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("opened_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launches.id"],
            name=op.f("fk_gonogo_decisions_launch_id_launches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gonogo_decisions")),
        sa.UniqueConstraint("launch_id", "round", name=op.f("uq_gonogo_decisions_launch_id_round")),
    )
    with op.batch_alter_table("gonogo_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gonogo_decisions_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gonogo_decisions_team_id"), ["team_id"], unique=False)

    op.create_table(
        "launch_functions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("area_slug", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launches.id"],
            name=op.f("fk_launch_functions_launch_id_launches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_functions")),
        sa.UniqueConstraint("launch_id", "name", name=op.f("uq_launch_functions_launch_id_name")),
    )
    with op.batch_alter_table("launch_functions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_launch_functions_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_launch_functions_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_launch_functions_team_id_owner", ["team_id", "owner"], unique=False)

    op.create_table(
        "standup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("previous_score", sa.Integer(), nullable=True),
        sa.Column("summary_channel", sa.String(length=32), nullable=True),
        sa.Column("summary_ts", sa.String(length=32), nullable=True),
        sa.Column("skip_reason", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=32), nullable=True),
        sa.Column("prompted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launches.id"],
            name=op.f("fk_standup_runs_launch_id_launches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_runs")),
        sa.UniqueConstraint(
            "launch_id", "scheduled_for", name=op.f("uq_standup_runs_launch_id_scheduled_for")
        ),
    )
    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_runs_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index("ix_standup_runs_status_expires_at", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_standup_runs_team_id"), ["team_id"], unique=False)

    op.create_table(
        "gonogo_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=32), nullable=False),
        sa.Column("vote", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["gonogo_decisions.id"],
            name=op.f("fk_gonogo_votes_decision_id_gonogo_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gonogo_votes")),
        sa.UniqueConstraint("decision_id", "voter", name=op.f("uq_gonogo_votes_decision_id_voter")),
    )
    with op.batch_alter_table("gonogo_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gonogo_votes_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gonogo_votes_team_id"), ["team_id"], unique=False)

    op.create_table(
        "standup_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("reminder_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["standup_runs.id"],
            name=op.f("fk_standup_prompts_run_id_standup_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_prompts")),
        sa.UniqueConstraint("run_id", "user_id", name=op.f("uq_standup_prompts_run_id_user_id")),
    )
    with op.batch_alter_table("standup_prompts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_prompts_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_standup_prompts_team_id"), ["team_id"], unique=False)

    op.create_table(
        "standup_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("responded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["launch_functions.id"],
            name=op.f("fk_standup_responses_function_id_launch_functions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["standup_runs.id"],
            name=op.f("fk_standup_responses_run_id_standup_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_responses")),
        sa.UniqueConstraint("run_id", "function_id", name=op.f("uq_standup_responses_run_id_function_id")),
    )
    with op.batch_alter_table("standup_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_responses_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_standup_responses_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standup_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_responses_team_id"))
        batch_op.drop_index(batch_op.f("ix_standup_responses_run_id"))

    op.drop_table("standup_responses")
    with op.batch_alter_table("standup_prompts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_prompts_team_id"))
        batch_op.drop_index(batch_op.f("ix_standup_prompts_run_id"))

    op.drop_table("standup_prompts")
    with op.batch_alter_table("gonogo_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gonogo_votes_team_id"))
        batch_op.drop_index(batch_op.f("ix_gonogo_votes_decision_id"))

    op.drop_table("gonogo_votes")
    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_runs_team_id"))
        batch_op.drop_index("ix_standup_runs_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_standup_runs_launch_id"))

    op.drop_table("standup_runs")
    with op.batch_alter_table("launch_functions", schema=None) as batch_op:
        batch_op.drop_index("ix_launch_functions_team_id_owner")
        batch_op.drop_index(batch_op.f("ix_launch_functions_team_id"))
        batch_op.drop_index(batch_op.f("ix_launch_functions_launch_id"))

    op.drop_table("launch_functions")
    with op.batch_alter_table("gonogo_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gonogo_decisions_team_id"))
        batch_op.drop_index(batch_op.f("ix_gonogo_decisions_launch_id"))

    op.drop_table("gonogo_decisions")
    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_launches_team_id"))

    op.drop_table("launches")
