"""Release jobs: post to every channel, ask the approver, tell the owner."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.releases import posting as release_posting
from bot.releases import releases as release_service
from bot.releases.releases import ReleaseCopy
from bot.releases.views.approval import approval_request, owner_notice
from bot.releases.views.message import release_message
from bot.releases.views.status import posting_report
from bot.scheduler.registry import JobContext, SkipJob, job_handler
from models import Release, ReleaseEvent, ReleaseStatus


async def _release(session: AsyncSession, ctx: JobContext) -> Release:
    try:
        return await release_service.get_release(
            session=session, team_id=ctx.job.team_id, release_id=int(ctx.job.payload["release_id"])
        )
    except NotFound as exc:
        raise SkipJob(str(exc)) from exc


@job_handler(release_service.DELIVER_KIND)
async def deliver(ctx: JobContext) -> dict[str, Any]:
    """Post the release wherever it is due (and bring edited messages up to date)."""
    try:
        result = await release_posting.deliver_release(
            session_factory=ctx.session_factory,
            client=await ctx.client(),
            team_id=ctx.job.team_id,
            release_id=int(ctx.job.payload["release_id"]),
            # Post leases belong to this attempt of this job, whichever process runs it.
            owner=f"job{ctx.job.id}:{ctx.job.attempts}:{uuid.uuid4().hex[:8]}",
            render=release_message,
            lease=timedelta(seconds=ctx.settings.switchboard_job_lease_seconds),
            window=timedelta(hours=ctx.settings.switchboard_delivery_window_hours),
        )
    except NotFound as exc:
        raise SkipJob(str(exc)) from exc
    if result.skipped:
        raise SkipJob(result.skipped)
    return {"status": result.status, "outcomes": dict(result.outcomes)}


@job_handler(release_service.APPROVAL_KIND)
async def ask_approval(ctx: JobContext) -> dict[str, Any]:
    """DM the approver the release as it will post, with Approve / Request changes."""
    payload = ctx.job.payload
    async with unit_of_work(ctx.session_factory) as session:
        release = await _release(session, ctx)
        event = await session.get(ReleaseEvent, int(payload["event_id"])) if payload.get("event_id") else None
        proposal = event if event is not None and event.kind == release_service.PROPOSED else None
        if proposal is not None:
            held = await release_service.open_proposal(session=session, release=release)
            if held is None or held.id != proposal.id:
                raise SkipJob(f"the change {proposal.id} to release #{release.id} was settled")
        elif release.status != ReleaseStatus.PENDING_APPROVAL or release.revision != payload.get("revision"):
            raise SkipJob(f"release #{release.id} is {release.status} at revision {release.revision}")
        if not release.approver:
            raise SkipJob(f"release #{release.id} has no approver")
        posts = await release_service.posts_of(session=session, release_id=release.id)
        copies = await release_service.release_copies(
            session=session, release=release, locales=[release.default_locale]
        )
        copy = copies[release.default_locale]
        if proposal is not None:
            copy = _with_change(copy, proposal.detail.get("patch") or {})
        changes = list(event.detail.get("changes") or []) if event is not None else []
        text, blocks = approval_request(release, posts, copy, changes=changes, proposal=proposal)
        approver = release.approver
    return await post_once(
        await ctx.client(),
        channel=approver,
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=blocks,
        maybe_posted=ctx.job.attempts > 1,
    )


def _with_change(copy: ReleaseCopy, patch: dict[str, Any]) -> ReleaseCopy:
    """The default language's message as it reads once a held change is applied."""
    text = {k: patch[k] for k in ("title", "summary", "notes") if isinstance(patch.get(k), str)}
    if "version" in patch:
        text["version"] = patch["version"]
    return dataclasses.replace(copy, **text)


@job_handler(release_service.NOTIFY_KIND)
async def notify(ctx: JobContext) -> dict[str, Any]:
    """Tell the owner (or approver) what someone else did to the release."""
    payload = ctx.job.payload
    async with unit_of_work(ctx.session_factory) as session:
        release = await _release(session, ctx)
        event = await session.get(ReleaseEvent, int(payload["event_id"]))
        if event is None:
            raise SkipJob(f"event {payload['event_id']} is gone")
        text = owner_notice(release, event)
    return await post_once(
        await ctx.client(),
        channel=str(payload["user"]),
        key=f"job:{ctx.job.id}",
        text=text,
        maybe_posted=ctx.job.attempts > 1,
    )


@job_handler(release_service.REPORT_KIND)
async def report(ctx: JobContext) -> dict[str, Any]:
    """Once every channel has an answer: where it was posted, and which channels need someone."""
    payload = ctx.job.payload
    async with unit_of_work(ctx.session_factory) as session:
        release = await _release(session, ctx)
        posts = await release_service.posts_of(session=session, release_id=release.id)
        theme_ids = await release_service.theme_ids_of(session=session, release_id=release.id)
        titles = await release_service.theme_titles(
            session=session, team_id=release.team_id, theme_ids=theme_ids
        )
        text, blocks = posting_report(release, posts, [titles[t] for t in theme_ids if t in titles])
    return await post_once(
        await ctx.client(),
        channel=str(payload["user"]),
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=blocks,
        maybe_posted=ctx.job.attempts > 1,
    )
