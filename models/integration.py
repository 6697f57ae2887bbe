"""Where work is tracked: tracker issues linked to themes, and the webhook deliveries already seen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, Timestamped, UTCDateTime, utcnow


class Provider(StrEnum):
    GITHUB = "github"
    LINEAR = "linear"
    JIRA = "jira"


class LinkState(StrEnum):
    """The state of the tracked issue, as its tracker last reported it."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED_COMPLETED = "closed_completed"
    CLOSED_NOT_PLANNED = "closed_not_planned"


class ThemeLink(TeamScoped, Timestamped, Base):
    """One tracker issue (or pull request) a theme is tracked in."""

    __tablename__ = "theme_links"
    __table_args__ = (
        UniqueConstraint("team_id", "theme_id", "provider", "key"),
        # Webhooks name an issue, not a workspace: incoming events look links up by issue alone.
        Index("ix_theme_links_provider_key", "provider", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    # "owner/repo#123" (GitHub), "ENG-123" (Linear), "PROJ-123" (Jira).
    key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(24), default=LinkState.OPEN)
    # The pull request whose merge closed the issue: release notes often name it, not the issue.
    closed_by: Mapped[str | None] = mapped_column(String(200))
    # A Slack user id, or the name of the admin-API token that added the link.
    created_by: Mapped[str | None] = mapped_column(String(120))


class WebhookDelivery(TeamScoped, Base):
    """One row per tracker delivery id, so that a redelivered webhook never repeats its effects.

    A delivery names issues, not a workspace: its `team_id` is "" (the events may concern several).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("provider", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Set in the transaction that applied the delivery's events: a job run again does nothing twice.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
