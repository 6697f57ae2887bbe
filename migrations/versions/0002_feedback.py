"""feedback, themes, reporters, followers, ship notifications

Revision ID: 0002_feedback
Revises: 0001_foundation
Create Date: 2026-11-21 17:06:28.954706
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002_feedback"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_drafts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_drafts")),
    )
    with op.batch_alter_table("feedback_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_drafts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_drafts_team_id"), ["team_id"], unique=False)

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("shipped_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_by", sa.String(length=32), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("release_title", sa.String(length=300), nullable=True),
        sa.Column("release_link", sa.String(length=1000), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_themes_area_id_areas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["themes.id"],
            name=op.f("fk_themes_merged_into_id_themes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_themes_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_themes_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_themes_team_id_status", ["team_id", "status"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("importance", sa.String(length=16), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("permalink", sa.String(length=1000), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("author", sa.String(length=32), nullable=True),
        sa.Column("reporter", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_feedback_area_id_areas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_feedback_theme_id_themes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint(
            "team_id", "channel", "message_ts", name=op.f("uq_feedback_team_id_channel_message_ts")
        ),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_customer"), ["customer"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "ix_feedback_team_id_area_id_created_at", ["team_id", "area_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_team_id_created_at_id", ["team_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feedback_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "theme_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_followers_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_followers")),
        sa.UniqueConstraint("theme_id", "user_id", name=op.f("uq_theme_followers_theme_id_user_id")),
    )
    if op.get_context().dialect.name == "postgresql":
        # Full-text search; the expression must match models.feedback.search_vector exactly.
        op.execute("CREATE INDEX ix_feedback_search ON feedback USING gin (to_tsvector('english', text))")

    with op.batch_alter_table("theme_followers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_theme_followers_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_theme_followers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "feedback_reporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_reporters_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reporters")),
        sa.UniqueConstraint("feedback_id", "user_id", name=op.f("uq_feedback_reporters_feedback_id_user_id")),
    )
    with op.batch_alter_table("feedback_reporters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_reporters_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_reporters_user_id"), ["user_id"], unique=False)

    op.create_table(
        "theme_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_theme_notifications_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_theme_notifications_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_notifications")),
        sa.UniqueConstraint("theme_id", "target", name=op.f("uq_theme_notifications_theme_id_target")),
    )
    with op.batch_alter_table("theme_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_theme_notifications_team_id"), ["team_id"], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("theme_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_notifications_team_id"))

    op.drop_table("theme_notifications")
    with op.batch_alter_table("feedback_reporters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_reporters_user_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_reporters_team_id"))

    op.drop_table("feedback_reporters")
    with op.batch_alter_table("theme_followers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_followers_user_id"))
        batch_op.drop_index(batch_op.f("ix_theme_followers_team_id"))

    op.drop_table("theme_followers")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_feedback_search")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_theme_id"))
        batch_op.drop_index("ix_feedback_team_id_created_at_id")
        batch_op.drop_index("ix_feedback_team_id_area_id_created_at")
        batch_op.drop_index(batch_op.f("ix_feedback_team_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_customer"))

    op.drop_table("feedback")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_index("ix_themes_team_id_status")
        batch_op.drop_index(batch_op.f("ix_themes_team_id"))
        batch_op.drop_index(batch_op.f("ix_themes_area_id"))

    op.drop_table("themes")
    with op.batch_alter_table("feedback_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_drafts_team_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_drafts_created_at"))

    op.drop_table("feedback_drafts")
    # ### end Alembic commands ###
