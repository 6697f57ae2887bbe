"""integrations: tracker issues linked to themes, webhook deliveries seen

Revision ID: 0005_integrations
Revises: 0004_releases
Create Date: 2026-12-02 18:29:56.984868
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005_integrations"
down_revision: str | Sequence[str] | None = "0004_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_links_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_links")),
        sa.UniqueConstraint(
            "team_id",
            "theme_id",
            "provider",
            "key",
            name=op.f("uq_theme_links_team_id_theme_id_provider_key"),
        ),
    )
    with op.batch_alter_table("theme_links", schema=None) as batch_op:
        batch_op.create_index("ix_theme_links_provider_key", ["provider", "key"], unique=False)
        batch_op.create_index(batch_op.f("ix_theme_links_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_theme_links_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "provider", "delivery_id", name=op.f("uq_webhook_deliveries_provider_delivery_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_team_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_received_at"))
    op.drop_table("webhook_deliveries")

    with op.batch_alter_table("theme_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_links_theme_id"))
        batch_op.drop_index(batch_op.f("ix_theme_links_team_id"))
        batch_op.drop_index("ix_theme_links_provider_key")
    op.drop_table("theme_links")
