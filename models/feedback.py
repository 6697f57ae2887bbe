"""Customer voice: feedback items, the people who logged them, and the themes they roll up into."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
)
from sqlalchemy.dialects import postgresql  # noqa: F401  (registers to_tsvector for the GIN index)
from sqlalchemy.orm import Mapped, mapped_column

from models import rollups
from models.base import Base, TeamScoped, Timestamped, UTCDateTime, utcnow


class FeedbackKind(StrEnum):
    BUG = "bug"
    REQUEST = "request"
    PRAISE = "praise"
    QUESTION = "question"
    OTHER = "other"


class Importance(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FeedbackSource(StrEnum):
    SHORTCUT = "shortcut"
    COMMAND = "command"
    REACTION = "reaction"
    API = "api"


class FeedbackStatus(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    SHIPPED = "shipped"
    DECLINED = "declined"


class ThemeStatus(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    # Done where the work is tracked; ships with the next release.
    DONE = "done"
    SHIPPED = "shipped"
    DECLINED = "declined"


class ThemeEventKind(StrEnum):
    STATUS = "status"
    LINKED = "linked"
    UNLINKED = "unlinked"
    # The area owner chose to keep the theme open after an issue was closed as not planned.
    KEPT_OPEN = "kept_open"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    # Slack refused it, or stayed unreachable for the whole delivery window.
    FAILED = "failed"


# The text search configuration is part of the index expression: queries must use the same one
# for PostgreSQL to pick the GIN index.
SEARCH_CONFIG = "english"


def search_vector(column: Any) -> ColumnElement[Any]:
    """`to_tsvector('english', text)` — the expression the GIN index is built on."""
    return func.to_tsvector(literal_column(f"'{SEARCH_CONFIG}'"), column)


class Theme(TeamScoped, Timestamped, Base):
    """A product need that feedback items link to. Counts are derived from the linked items."""

    __tablename__ = "themes"
    __table_args__ = (Index("ix_themes_team_id_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ThemeStatus.OPEN)
    created_by: Mapped[str | None] = mapped_column(String(32))
    # A merged theme is kept (releases and links may point at it) but hidden; its items moved.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_by: Mapped[str | None] = mapped_column(String(32))
    release_id: Mapped[int | None] = mapped_column(Integer)
    release_title: Mapped[str | None] = mapped_column(String(300))
    release_link: Mapped[str | None] = mapped_column(String(1000))


class Feedback(TeamScoped, Timestamped, Base):
    """One item of customer voice; one Slack message is at most one item."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("team_id", "channel", "message_ts"),
        # Covering on PostgreSQL: the weekly statistics read the window's items from the index alone.
        Index(
            "ix_feedback_team_id_created_at_id",
            "team_id",
            "created_at",
            "id",
            postgresql_include=["kind", "area_id", "importance"],
        ),
        Index("ix_feedback_team_id_area_id_created_at", "team_id", "area_id", "created_at"),
        # Full-text search on PostgreSQL; SQLite answers the same queries with LIKE.
        Index("ix_feedback_search", search_vector(literal_column("text")), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Slack messages reach 40,000 characters; stored whole, truncated only when rendered.
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default=FeedbackKind.OTHER)
    importance: Mapped[str] = mapped_column(String(16), default=Importance.MEDIUM)
    customer: Mapped[str | None] = mapped_column(String(200), index=True)
    segment: Mapped[str | None] = mapped_column(String(100))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(16), default=FeedbackSource.API)
    permalink: Mapped[str | None] = mapped_column(String(1000))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Replies about this item go to the thread the message lives in (its own ts when top-level).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(32))
    reporter: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=FeedbackStatus.NEW)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ThemeCount(Base):
    """A theme's linked items and distinct customers (case-insensitive), kept by triggers.

    Written only by the triggers in `models.rollups`, in the transaction that changes the items.
    """

    __tablename__ = "theme_counts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)


class ThemeCustomer(Base):
    """One customer of a theme: how many of their items link to it and when the first was logged.

    Written only by the triggers in `models.rollups`; `first_at` tells who is new in a window.
    """

    __tablename__ = "theme_customers"
    __table_args__ = (
        Index("ix_theme_customers_team_id_theme_id_first_at", "team_id", "theme_id", "first_at"),
    )

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True)
    # lower(customer): the statistics count "Acme" and "acme" as one customer.
    customer_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeedbackWeek(Base):
    """Items per UTC week (its Monday), kind and area, and how many are critical, kept by triggers.

    Written only by the triggers in `models.rollups`; `area_key` is the area id, 0 for none.
    """

    __tablename__ = "feedback_weeks"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    area_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    critical: Mapped[int] = mapped_column(Integer)


@event.listens_for(Base.metadata, "after_create")
def _create_rollup_triggers(_target: object, connection: Any, **_kw: Any) -> None:
    rollups.create_triggers(connection)


@event.listens_for(Base.metadata, "before_drop")
def _drop_rollup_triggers(_target: object, connection: Any, **_kw: Any) -> None:
    rollups.drop_triggers(connection)


class FeedbackReporter(TeamScoped, Base):
    """Everyone who logged the same item (the first reporter included)."""

    __tablename__ = "feedback_reporters"
    __table_args__ = (UniqueConstraint("feedback_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThemeFollower(TeamScoped, Base):
    """People who want to hear about a theme (creators, people who link items, explicit follows)."""

    __tablename__ = "theme_followers"
    __table_args__ = (UniqueConstraint("theme_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThemeNotification(TeamScoped, Base):
    """One row per person or thread told that a theme shipped: the ledger that makes it once."""

    __tablename__ = "theme_notifications"
    __table_args__ = (UniqueConstraint("theme_id", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    # "dm:<user>" or "thread:<channel>:<ts>"
    target: Mapped[str] = mapped_column(String(100))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ThemeEvent(TeamScoped, Base):
    """One change in a theme's history: a move between statuses, or a tracker link added or removed."""

    __tablename__ = "theme_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=ThemeEventKind.STATUS)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    # A Slack user id, `api:<token name>`, or the tracker that moved it (`github`, `linear`, `jira`).
    actor: Mapped[str | None] = mapped_column(String(120))
    # What caused it, in words: "acme/app#123 closed as completed".
    reason: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackDraft(TeamScoped, Base):
    """Full text of a message while its feedback modal is open.

    A modal's text input holds 3,000 characters and its private_metadata as many, but a Slack
    message holds 40,000; the draft keeps the whole text until the modal is submitted.
    """

    __tablename__ = "feedback_drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
