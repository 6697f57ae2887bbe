"""Launch readiness: launches, their sign-off matrix, standup runs and go/no-go votes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, Timestamped, UTCDateTime, utcnow


class LaunchStatus(StrEnum):
    PLANNING = "planning"
    AT_RISK = "at_risk"
    READY = "ready"
    LAUNCHED = "launched"
    CANCELLED = "cancelled"


class FunctionStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"
    DONE = "done"


class RunStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    SKIPPED = "skipped"
    MISSED = "missed"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class Vote(StrEnum):
    GO = "go"
    NO_GO = "no_go"


class DecisionStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    CANCELLED = "cancelled"


class Launch(TeamScoped, Timestamped, Base):
    __tablename__ = "launches"
    __table_args__ = (UniqueConstraint("team_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    target_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=LaunchStatus.PLANNING)
    # ISO weekdays (1 = Monday … 7 = Sunday) on which standups run.
    standup_weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1, 2, 3, 4, 5])
    # Local wall-clock time "HH:MM" in `timezone`; kept as text so DST never shifts it.
    standup_time: Mapped[str] = mapped_column(String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    standups_enabled: Mapped[bool] = mapped_column(default=True)
    reminder_after_minutes: Mapped[int] = mapped_column(Integer, default=120)
    cutoff_after_minutes: Mapped[int] = mapped_column(Integer, default=240)
    # None: no automatic go/no-go vote.
    gonogo_days_before: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(32))


class LaunchFunction(TeamScoped, Base):
    """One row of the sign-off matrix: a function (QA, Docs, …), its owner and readiness."""

    __tablename__ = "launch_functions"
    __table_args__ = (
        UniqueConstraint("launch_id", "name"),
        Index("ix_launch_functions_team_id_owner", "team_id", "owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(32))
    # Slug of the ownership-directory area this function maps to, if any.
    area_slug: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=FunctionStatus.NOT_STARTED)
    note: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every real change, so side effects of a change are keyed once per change.
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StandupRun(TeamScoped, Base):
    """One scheduled (or manual) readiness standup of a launch."""

    __tablename__ = "standup_runs"
    __table_args__ = (
        UniqueConstraint("launch_id", "scheduled_for"),
        Index("ix_standup_runs_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[date] = mapped_column(Date)
    # The end of `local_date` in the launch's timezone: past it, a prompt is no longer sent.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(16), default=RunTrigger.SCHEDULE)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.SCHEDULED)
    score: Mapped[int | None] = mapped_column(Integer)
    previous_score: Mapped[int | None] = mapped_column(Integer)
    # When the summary is due: the cut-off after the last person's prompt.
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary_channel: Mapped[str | None] = mapped_column(String(32))
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str | None] = mapped_column(String(32))
    prompted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StandupPrompt(TeamScoped, Base):
    """The DM one function owner gets for one run (covering every function they own)."""

    __tablename__ = "standup_prompts"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("standup_runs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    reminder_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When this person is asked: the standup time in their own timezone (`timezone`), and until
    # when asking them still makes sense (the end of that day for them). Prompts due at the same
    # moment go out together, by one job.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Set when its job starts sending: from then on the planner no longer moves `due_at`.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why this person was not asked (away), and until when they are away.
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    away_until: Mapped[date | None] = mapped_column(Date)


class StandupPerson(TeamScoped, Base):
    """What Slack last said about a person standups ask: their timezone and their status.

    A cache: read from `users.info` / `users.list` and trusted for a while (timezones for a day,
    statuses for minutes), so that planning a standup asks Slack about nobody twice.
    """

    __tablename__ = "standup_people"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    status_emoji: Mapped[str] = mapped_column(String(100), default="")
    status_text: Mapped[str] = mapped_column(String(200), default="")
    status_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time Slack was asked, whether or not it answered.
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StandupAway(TeamScoped, Base):
    """A period someone said they are away (`/launch away`): standups neither ask nor remind them.

    `scope` is "all" or "launch:<id>", so each person has at most one period per scope and saying
    it again (or Slack retrying the command) replaces it.
    """

    __tablename__ = "standup_away"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(32))
    launch_id: Mapped[int | None] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StandupResponse(TeamScoped, Base):
    """A function owner's answer for one function in one run."""

    __tablename__ = "standup_responses"
    __table_args__ = (UniqueConstraint("run_id", "function_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("standup_runs.id", ondelete="CASCADE"), index=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("launch_functions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoNoGoDecision(TeamScoped, Base):
    """A go/no-go vote of every function owner of a launch, and its recorded result."""

    __tablename__ = "gonogo_decisions"
    __table_args__ = (UniqueConstraint("launch_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=DecisionStatus.OPEN)
    result: Mapped[str | None] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default=RunTrigger.MANUAL)
    # Who must vote, fixed when the vote opens.
    voters: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    opened_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GoNoGoVote(TeamScoped, Base):
    __tablename__ = "gonogo_votes"
    __table_args__ = (UniqueConstraint("decision_id", "voter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("gonogo_decisions.id", ondelete="CASCADE"), index=True
    )
    voter: Mapped[str] = mapped_column(String(32))
    vote: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
