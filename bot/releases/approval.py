"""Release approval and scheduling: submit, approve, request changes, schedule, cancel, retry.
Every state change is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, UserError
from bot.core.permissions import Actor, may_approve_release, require
from bot.releases.releases import (
    BEFORE_POSTING,
    ON_AIR,
    ask_approval,
    enqueue_delivery,
    get_release,
    notify,
    record_event,
    withdraw_jobs,
)
from models import PostState, Release, ReleasePost, ReleaseStatus
from models.base import utcnow


async def submit_for_approval(*, session: AsyncSession, team_id: str, release_id: int, by: str) -> Release:
    """Ask the approver; the DM goes out through the job queue, once."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status == ReleaseStatus.PENDING_APPROVAL:
        return release
    if release.status != ReleaseStatus.DRAFT:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; it is past approval.")
    if not release.approver:
        raise UserError(f"Release #{release.id} has no approver; pick one (Edit) and send it again.")
    release.status = ReleaseStatus.PENDING_APPROVAL
    event = await record_event(
        session=session, release=release, kind="submitted", actor=by, revision=release.revision
    )
    await ask_approval(session=session, release=release, event=event)
    return release


async def approve_release(
    *,
    session: AsyncSession,
    team_id: str,
    release_id: int,
    by: str,
    as_approver: bool,
    revision: int | None = None,
    actor: Actor | None = None,
) -> Release:
    """Record the approval; a release with a time (or "now") is scheduled at once.

    `as_approver`: the call comes from Slack, so the policy decides who may approve (`actor`, else
    the plain user `by`); admin API callers may approve a draft directly. `revision`: the text the
    approver saw.
    """
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    allowed = {ReleaseStatus.PENDING_APPROVAL} | ({ReleaseStatus.DRAFT} if not as_approver else set())
    if release.status not in allowed:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; there is nothing to approve.")
    if as_approver:
        require(may_approve_release(actor or Actor(user_id=by), release))
    else:
        api_may_approve(actor or Actor.api(), release)
    if revision is not None and revision != release.revision:
        raise Conflict(
            f"Release #{release.id} changed after this request was sent; approve the newer request instead."
        )
    release.approved_by, release.approved_at = by, utcnow()
    release.status = ReleaseStatus.APPROVED
    event = await record_event(
        session=session, release=release, kind="approved", actor=by, revision=release.revision
    )
    await notify(session=session, release=release, user=release.owner, event=event, by=by)
    if release.post_when_approved or release.scheduled_at is not None:
        when = release.scheduled_at or utcnow()
        await _schedule(session=session, release=release, at=max(when, utcnow()), by=by)
    return release


def api_may_approve(actor: Actor, release: Release) -> None:
    """An admin-API token acts as an admin: it approves only a release that names no approver."""
    verdict = may_approve_release(actor, release)
    if not verdict.allowed:
        raise Conflict(f"Release #{release.id} waits for its approver. {verdict.refusal}")


async def request_changes(
    *, session: AsyncSession, team_id: str, release_id: int, by: str, reason: str, actor: Actor | None = None
) -> Release:
    """The approver sends it back to its owner with what should change."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status != ReleaseStatus.PENDING_APPROVAL:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; it is not waiting for approval.")
    require(may_approve_release(actor or Actor(user_id=by), release))
    release.status = ReleaseStatus.DRAFT
    event = await record_event(
        session=session, release=release, kind="changes_requested", actor=by, reason=reason.strip()
    )
    await notify(session=session, release=release, user=release.owner, event=event, by=by)
    return release


async def _schedule(*, session: AsyncSession, release: Release, at: datetime, by: str) -> None:
    await withdraw_jobs(session=session, release=release, reason="rescheduled")
    release.status = ReleaseStatus.SCHEDULED
    release.scheduled_at = at
    release.post_when_approved = False
    event = await record_event(
        session=session, release=release, kind="scheduled", actor=by, at=at.isoformat()
    )
    await enqueue_delivery(
        session=session, release=release, run_at=at, reason="scheduled", key=f"post:{event.id}"
    )


async def reschedule_from_fields(*, session: AsyncSession, release: Release, by: str) -> None:
    if release.post_when_approved or release.scheduled_at is not None:
        when = release.scheduled_at or utcnow()
        await _schedule(session=session, release=release, at=max(when, utcnow()), by=by)
        return
    await withdraw_jobs(session=session, release=release, reason="schedule cleared")
    release.status = ReleaseStatus.APPROVED
    await record_event(session=session, release=release, kind="unscheduled", actor=by)


async def schedule_release(
    *, session: AsyncSession, team_id: str, release_id: int, at: datetime | Literal["now"], by: str
) -> Release:
    """Post an approved release at `at` (or now); rescheduling replaces the earlier time."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status in {ReleaseStatus.DRAFT, ReleaseStatus.PENDING_APPROVAL}:
        who = f" by <@{release.approver}>" if release.approver else ""
        raise Conflict(
            f"Release #{release.id} needs approval{who} before it can be scheduled "
            f"(it is {_status_words(release)})."
        )
    if release.status not in {ReleaseStatus.APPROVED, ReleaseStatus.SCHEDULED}:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; it can't be scheduled again.")
    now = utcnow()
    when = now if at == "now" else at
    await _schedule(session=session, release=release, at=max(when, now), by=by)
    return release


async def cancel_release(*, session: AsyncSession, team_id: str, release_id: int, by: str) -> Release:
    """Call a release off before it is posted."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status not in BEFORE_POSTING:
        raise Conflict(
            f"Release #{release.id} is {_status_words(release)}; only a release that has not started "
            "posting can be cancelled."
        )
    release.status = ReleaseStatus.CANCELLED
    release.cancelled_at = utcnow()
    await session.execute(
        update(ReleasePost)
        .where(ReleasePost.release_id == release.id, ReleasePost.state == PostState.PENDING)
        .values(state=PostState.CANCELLED)
    )
    await withdraw_jobs(session=session, release=release, reason="release cancelled")
    event = await record_event(session=session, release=release, kind="cancelled", actor=by)
    for user in {release.owner, release.approver}:
        await notify(session=session, release=release, user=user, event=event, by=by)
    return release


async def retry_failed_posts(*, session: AsyncSession, team_id: str, release_id: int, by: str) -> int:
    """Try only the channels that failed again (after inviting the bot, say), each with a fresh
    delivery window; returns how many. The release is `posting` until they have an answer."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status not in ON_AIR:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; nothing was posted yet.")
    result = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.release_id == release.id, ReleasePost.state == PostState.FAILED)
        .values(state=PostState.PENDING, attempts=0, next_attempt_at=None, first_attempt_at=None, error=None)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        release.status = ReleaseStatus.POSTING
        event = await record_event(session=session, release=release, kind="retry", actor=by, channels=count)
        await enqueue_delivery(
            session=session, release=release, run_at=utcnow(), reason="retry", key=f"retry:{event.id}"
        )
    return count


def _status_words(release: Release) -> str:
    return str(release.status).replace("_", " ")
