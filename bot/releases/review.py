"""The approver's answer, whether to a release waiting for approval or to a change held back
from a posted release: approving applies it (posted messages follow), sending back drops it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict
from bot.core.permissions import Actor, may_approve_release, require
from bot.releases.approval import api_may_approve, approve_release, request_changes
from bot.releases.compose import update_release
from bot.releases.releases import ON_AIR, get_release, notify, open_proposal, record_event
from bot.releases.schema import ReleasePatch
from models import Release, ReleaseEvent


@dataclass(frozen=True)
class Answer:
    release: Release
    # The answer was about a change to a posted release, not the release itself.
    revised: bool


async def held_change(*, session: AsyncSession, release: Release) -> ReleaseEvent | None:
    """The change to this posted release that waits for its approver, if any."""
    if release.status not in ON_AIR:
        return None
    return await open_proposal(session=session, release=release)


async def approve(
    *,
    session: AsyncSession,
    team_id: str,
    release_id: int,
    actor: Actor,
    by: str,
    as_approver: bool,
    revision: int | None = None,
    proposal: int | None = None,
) -> Answer:
    """Approve the release, or the change held back from it (which then reaches every channel)."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    held = await held_change(session=session, release=release)
    if held is None:
        if proposal is not None:
            raise Conflict(f"That change to release #{release.id} no longer waits for approval.")
        approved = await approve_release(
            session=session,
            team_id=team_id,
            release_id=release_id,
            by=by,
            as_approver=as_approver,
            revision=revision,
            actor=actor,
        )
        return Answer(approved, revised=False)
    if as_approver:
        require(may_approve_release(actor, release))
        if proposal != held.id:
            raise Conflict(
                f"Release #{release.id} changed again after this request was sent; "
                "approve the newer request instead."
            )
    else:
        api_may_approve(actor, release)
    patch = ReleasePatch.model_validate(held.detail.get("patch") or {})
    # The change is its author's; the approval is the approver's.
    await update_release(
        session=session, team_id=team_id, release_id=release_id, patch=patch, by=held.actor or by
    )
    event = await record_event(
        session=session,
        release=release,
        kind="approved",
        actor=by,
        revision=release.revision,
        proposal=held.id,
    )
    await notify(session=session, release=release, user=held.actor, event=event, by=by)
    return Answer(release, revised=True)


async def send_back(
    *, session: AsyncSession, team_id: str, release_id: int, actor: Actor, by: str, reason: str
) -> Answer:
    """Send the release (or the change held back from it) back to its author with what to change."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    held = await held_change(session=session, release=release)
    if held is None:
        returned = await request_changes(
            session=session, team_id=team_id, release_id=release_id, by=by, reason=reason, actor=actor
        )
        return Answer(returned, revised=False)
    require(may_approve_release(actor, release))
    event = await record_event(
        session=session,
        release=release,
        kind="changes_requested",
        actor=by,
        reason=reason.strip(),
        proposal=held.id,
    )
    await notify(session=session, release=release, user=held.actor, event=event, by=by)
    return Answer(release, revised=True)
