"""Each audience channel's `release_posts` row, leased: claiming the posts that are due, keeping
their short leases alive while they are sent, and recording what Slack answered while the lease is
still held."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler.retry import delivery_backoff
from models import PostState, Release, ReleasePost
from models.base import utcnow

# SWITCHBOARD_JOB_LEASE_SECONDS's default; a heartbeat renews it while the post is sent.
POST_LEASE = timedelta(seconds=30)
CLAIM_BATCH = 64
# How long a post Slack cannot take right now is retried (SWITCHBOARD_DELIVERY_WINDOW_HOURS).
DELIVERY_WINDOW = timedelta(hours=24)


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


# ---- claiming and recording ------------------------------------------------------------------


@dataclass(frozen=True)
class PostClaim:
    id: int
    channel: str
    locale: str
    mode: Literal["post", "update"]
    ts: str | None
    attempts: int
    first_attempt_at: datetime


@dataclass(frozen=True)
class Outcome:
    kind: Literal["posted", "updated", "later", "failed"]
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    retry_in: float = 0.0
    recovered: bool = False


def _claimable(release: Release, now: datetime) -> Any:
    due = or_(ReleasePost.next_attempt_at.is_(None), ReleasePost.next_attempt_at <= now)
    lease_free = or_(ReleasePost.lease_expires_at.is_(None), ReleasePost.lease_expires_at < now)
    return or_(
        and_(ReleasePost.state == PostState.PENDING, due),
        and_(ReleasePost.state == PostState.POSTING, ReleasePost.lease_expires_at < now),
        and_(
            ReleasePost.state == PostState.POSTED,
            ReleasePost.revision < release.revision,
            due,
            lease_free,
        ),
    )


async def claim_due_posts(
    *,
    session: AsyncSession,
    release: Release,
    owner: str,
    now: datetime | None = None,
    limit: int = CLAIM_BATCH,
    lease: timedelta = POST_LEASE,
) -> list[PostClaim]:
    """Take due posts of `release` (and posted ones whose text is stale) for `owner`."""
    now = now or utcnow()
    candidates = (
        await session.scalars(
            select(ReleasePost.id)
            .where(ReleasePost.release_id == release.id, _claimable(release, now))
            .order_by(ReleasePost.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not candidates:
        return []
    expires = now + lease
    # One conditional statement: on SQLite (no row locks) two schedulers may read the same
    # candidates; the update re-checks each row under the write lock, so only one takes it.
    result = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.id.in_(candidates), _claimable(release, now))
        .values(
            state=case((ReleasePost.state == PostState.POSTED, PostState.POSTED), else_=PostState.POSTING),
            lease_owner=owner,
            lease_expires_at=expires,
            attempts=ReleasePost.attempts + 1,
            first_attempt_at=func.coalesce(ReleasePost.first_attempt_at, now),
        )
        .returning(
            ReleasePost.id,
            ReleasePost.state,
            ReleasePost.channel,
            ReleasePost.locale,
            ReleasePost.ts,
            ReleasePost.attempts,
            ReleasePost.first_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )
    claims = [
        PostClaim(
            id=row.id,
            channel=row.channel,
            locale=row.locale,
            mode="update" if row.state == PostState.POSTED else "post",
            ts=row.ts,
            attempts=row.attempts,
            first_attempt_at=row.first_attempt_at or now,
        )
        for row in result
    ]
    return sorted(claims, key=lambda c: c.id)


async def renew_post_leases(
    *, session: AsyncSession, post_ids: Iterable[int], owner: str, expires_at: datetime
) -> set[int]:
    """Move on the leases `owner` still holds among `post_ids`; the ids renewed."""
    rows = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.id.in_(list(post_ids)), ReleasePost.lease_owner == owner)
        .values(lease_expires_at=expires_at)
        .returning(ReleasePost.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


async def record_outcome(
    *,
    session: AsyncSession,
    claim: PostClaim,
    owner: str,
    outcome: Outcome,
    revision: int,
    workspace_url: str | None,
    window: timedelta = DELIVERY_WINDOW,
    now: datetime | None = None,
) -> bool:
    """Write what Slack answered; False when the lease was lost to another scheduler meanwhile.

    A transient answer is tried again later, until `window` since the first attempt has closed;
    then it counts as failed like a permanent one."""
    now = now or utcnow()
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
    closes = claim.first_attempt_at + window
    if outcome.kind == "posted":
        assert outcome.ts is not None
        channel = outcome.channel or claim.channel
        values.update(
            state=PostState.POSTED,
            ts=outcome.ts,
            permalink=permalink(workspace_url, channel, outcome.ts),
            error=None,
            attempts=0,
            revision=revision,
            posted_at=now,
            next_attempt_at=None,
            first_attempt_at=None,
        )
    elif outcome.kind == "updated":
        values.update(revision=revision, edited_at=now, error=None, attempts=0)
        values.update(next_attempt_at=None, first_attempt_at=None)
    elif outcome.kind == "failed" or now >= closes:
        error = outcome.error or "unknown_error"
        values.update(first_attempt_at=None, next_attempt_at=None)
        if claim.mode == "post":
            values.update(state=PostState.FAILED, error=error[:255])
        else:
            # The message stays as it was; the error says why the edit is missing.
            values.update(error=f"edit not applied: {error}"[:255], revision=revision, attempts=0)
    else:
        wait = timedelta(seconds=outcome.retry_in) if outcome.retry_in else delivery_backoff(claim.attempts)
        values.update(
            state=PostState.PENDING if claim.mode == "post" else PostState.POSTED,
            error=(outcome.error or "")[:255] or None,
            # One last attempt as the window closes, however long the backoff has grown.
            next_attempt_at=min(now + wait, closes),
        )
    result = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.id == claim.id, ReleasePost.lease_owner == owner)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))
