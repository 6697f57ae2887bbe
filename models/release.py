"""Release announcements: the release, its translations, one post per channel, and its history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, Timestamped, UTCDateTime, utcnow


class ReleaseStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    # Approved, but no time was given yet (the admin API approves and schedules separately).
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    POSTING = "posting"
    POSTED = "posted"
    # Posting has ended with some channels (partially_posted) or every channel (failed) refusing
    # it for good, or still unreachable when the delivery window closed.
    PARTIALLY_POSTED = "partially_posted"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PostState(StrEnum):
    PENDING = "pending"
    # Claimed by a scheduler: a Slack call may be in flight. Recorded before the call, so a
    # process that dies here leaves a row that says "look in the channel before posting again".
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    CANCELLED = "cancelled"


release_themes = Table(
    "release_themes",
    Base.metadata,
    Column("release_id", ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("team_id", String(32), nullable=False, index=True),
)


class Release(TeamScoped, Timestamped, Base):
    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_team_id_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    # Markdown as written; converted to Slack mrkdwn when rendered.
    notes: Mapped[str] = mapped_column(Text, default="")
    default_locale: Mapped[str] = mapped_column(String(16), default="en")
    launch_id: Mapped[int | None] = mapped_column(ForeignKey("launches.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ReleaseStatus.DRAFT)
    owner: Mapped[str | None] = mapped_column(String(32))
    approver: Mapped[str | None] = mapped_column(String(32))
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Post as soon as it is approved" (the modal's "now").
    post_when_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shown next to times; the instant itself is scheduled_at.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Bumped on every change of what the message says; posts remember the revision they show.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReleaseVariant(TeamScoped, Base):
    """The release in another language; a blank field falls back to the default text."""

    __tablename__ = "release_variants"
    __table_args__ = (UniqueConstraint("release_id", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class ReleasePost(TeamScoped, Base):
    """The release in one audience channel: the Slack message, or why there is none."""

    __tablename__ = "release_posts"
    __table_args__ = (
        UniqueConstraint("release_id", "channel"),
        Index("ix_release_posts_release_id_state", "release_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=PostState.PENDING)
    ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(255))
    # Attempts at the current operation (posting, or applying an edit).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The release revision this post last handled (posted, or edited to).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the current operation was first tried: Slack outages are retried until the delivery
    # window since then has closed.
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReleaseEvent(TeamScoped, Base):
    """One change of a release's state: what, who (Slack user, `api:<token>` or `scheduler`), when."""

    __tablename__ = "release_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
