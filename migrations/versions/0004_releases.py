"""releases: translations, one post per channel, state history, shipped themes

Revision ID: 0004_releases
Revises: 0002_feedback, 0003_launches
Create Date: 2026-11-21 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004_releases"
# Releases link to themes (0002) and launches (0003): this revision joins the two branches.
down_revision: str | Sequence[str] | None = ("0002_feedback", "0003_launches")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("default_locale", sa.String(length=16), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("approver", sa.String(length=32), nullable=True),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("approved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("post_when_approved", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("posted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"], ["launches.id"], name=op.f("fk_releases_launch_id_launches"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_releases_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_releases_team_id_status", ["team_id", "status"], unique=False)

    op.create_table(
        "release_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_events_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_events")),
    )
    with op.batch_alter_table("release_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_events_release_id"), ["release_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_release_events_team_id"), ["team_id"], unique=False)

    op.create_table(
        "release_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("edited_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_posts_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_posts")),
        sa.UniqueConstraint("release_id", "channel", name=op.f("uq_release_posts_release_id_channel")),
    )
    with op.batch_alter_table("release_posts", schema=None) as batch_op:
        batch_op.create_index("ix_release_posts_release_id_state", ["release_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_release_posts_team_id"), ["team_id"], unique=False)

    op.create_table(
        "release_themes",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_themes_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_release_themes_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("release_id", "theme_id", name=op.f("pk_release_themes")),
    )
    with op.batch_alter_table("release_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_themes_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_release_themes_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "release_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_variants_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_variants")),
        sa.UniqueConstraint("release_id", "locale", name=op.f("uq_release_variants_release_id_locale")),
    )
    with op.batch_alter_table("release_variants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_variants_release_id"), ["release_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_release_variants_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("release_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_variants_team_id"))
        batch_op.drop_index(batch_op.f("ix_release_variants_release_id"))
    op.drop_table("release_variants")

    with op.batch_alter_table("release_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_themes_theme_id"))
        batch_op.drop_index(batch_op.f("ix_release_themes_team_id"))
    op.drop_table("release_themes")

    with op.batch_alter_table("release_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_posts_team_id"))
        batch_op.drop_index("ix_release_posts_release_id_state")
    op.drop_table("release_posts")

    with op.batch_alter_table("release_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_events_team_id"))
        batch_op.drop_index(batch_op.f("ix_release_events_release_id"))
    op.drop_table("release_events")

    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index("ix_releases_team_id_status")
        batch_op.drop_index(batch_op.f("ix_releases_team_id"))
        batch_op.drop_index(batch_op.f("ix_releases_launch_id"))
    op.drop_table("releases")
