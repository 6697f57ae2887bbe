"""Posting a release to every audience channel, exactly once, paced, and surviving crashes.

Each channel has a `release_posts` row. A pass claims due rows with a short lease (PostgreSQL:
`FOR UPDATE SKIP LOCKED`; on both backends a conditional update is the final word), which also
records the intent to post *before* Slack is called; a heartbeat keeps the leases alive until
Slack has answered, and stops the pass if one is lost. A row found still `posting` after its lease
ran out belonged to a process that died mid-call: the next attempt first looks in the channel for
the release's message metadata (`post_once(maybe_posted=True)`) and only posts when it is not there.

Claiming and recording the rows are in `claims`; pacing and reading Slack's answers in `sending`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import SessionFactory
from bot.core.uow import unit_of_work
from bot.feedback.themes import ship_theme
from bot.releases import releases as release_service
from bot.releases.claims import (
    DELIVERY_WINDOW,
    POST_LEASE,
    Outcome,
    PostClaim,
    claim_due_posts,
    record_outcome,
    renew_post_leases,
)
from bot.releases.releases import REPORT_KIND, ReleaseCopy
from bot.releases.sending import SlackPacer, pacer_for, posting_client, send
from bot.scheduler.heartbeat import Heartbeat
from bot.scheduler.jobs import enqueue
from models import PostState, Release, ReleasePost, ReleaseStatus
from models.base import utcnow

log = logging.getLogger(__name__)

# Enough posts in flight to use Slack's whole workspace allowance while it answers 429s with
# whole-second Retry-After values.
CONCURRENCY = 16

Render = Callable[[ReleaseCopy], tuple[str, list[dict[str, Any]]]]


def delivery_key(release_id: int, channel: str) -> str:
    """The metadata key that identifies this release's message in `channel`."""
    return f"release:{release_id}:{channel}"


# ---- a delivery pass --------------------------------------------------------------------------


@dataclass
class PassResult:
    status: str
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: str | None = None


async def start_posting(*, session: AsyncSession, team_id: str, release_id: int, now: datetime) -> str | None:
    """Move a due scheduled release to `posting`; a reason to skip otherwise."""
    release = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status == ReleaseStatus.SCHEDULED:
        if release.scheduled_at and release.scheduled_at > now + timedelta(seconds=1):
            return f"release #{release_id} is now scheduled for {release.scheduled_at.isoformat()}"
        result = await session.execute(
            update(Release)
            .where(Release.id == release_id, Release.status == ReleaseStatus.SCHEDULED)
            .values(status=ReleaseStatus.POSTING, updated_at=now)
        )
        if getattr(result, "rowcount", 0):
            release.status = ReleaseStatus.POSTING
            await release_service.record_event(
                session=session, release=release, kind="posting", actor="scheduler"
            )
        return None
    if release.status in release_service.ON_AIR:
        return None
    return f"release #{release_id} is {release.status}"


async def workspace_url(client: AsyncWebClient) -> str | None:
    """The workspace's web address, for permalinks (one auth.test per pass)."""
    try:
        answer = await client.auth_test()
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("auth.test failed; posts are recorded without permalinks: %s", exc)
        return None
    return str(answer.get("url") or "") or None


async def deliver_release(
    *,
    session_factory: SessionFactory,
    client: AsyncWebClient,
    team_id: str,
    release_id: int,
    owner: str,
    render: Render,
    concurrency: int = CONCURRENCY,
    lease: timedelta = POST_LEASE,
    window: timedelta = DELIVERY_WINDOW,
) -> PassResult:
    """Post (or update) every due channel of a release, then settle what happened.

    Raises LeaseLost, having stopped posting, when a post's lease is taken over or cannot be
    renewed in time; its channel is then left to whoever claims it next."""
    async with unit_of_work(session_factory) as session:
        skip = await start_posting(session=session, team_id=team_id, release_id=release_id, now=utcnow())
    if skip:
        return PassResult(status="skipped", skipped=skip)
    client = posting_client(client)
    pacer = pacer_for(session_factory, team_id)
    url: str | None = None
    outcomes: Counter[str] = Counter()
    while True:
        since = time.monotonic()
        async with unit_of_work(session_factory) as session:
            release = await release_service.get_release(
                session=session, team_id=team_id, release_id=release_id
            )
            claims = await claim_due_posts(session=session, release=release, owner=owner, lease=lease)
            if not claims:
                break
            locales = sorted({c.locale for c in claims})
            copies = await release_service.release_copies(session=session, release=release, locales=locales)
            revision = release.revision
        if url is None:
            url = await workspace_url(client) or ""
        rendered = {locale: render(copy) for locale, copy in copies.items()}
        await _run_claims(
            claims,
            session_factory=session_factory,
            client=client,
            pacer=pacer,
            owner=owner,
            release_id=release_id,
            revision=revision,
            rendered=rendered,
            workspace=url,
            concurrency=concurrency,
            outcomes=outcomes,
            window=window,
            lease=lease,
            since=since,
        )
    async with unit_of_work(session_factory) as session:
        status = await settle(session=session, team_id=team_id, release_id=release_id)
    return PassResult(status=status, outcomes=outcomes)


async def _run_claims(
    claims: list[PostClaim],
    *,
    session_factory: SessionFactory,
    client: AsyncWebClient,
    pacer: SlackPacer,
    owner: str,
    release_id: int,
    revision: int,
    rendered: dict[str, tuple[str, list[dict[str, Any]]]],
    workspace: str,
    concurrency: int,
    outcomes: Counter[str],
    window: timedelta,
    lease: timedelta,
    since: float,
) -> None:
    """Send every claim with `concurrency` workers while one writer records the answers, the
    claims' leases (taken at the monotonic moment `since`) kept alive meanwhile."""

    async def renew(held: Collection[int], expires_at: datetime) -> set[int]:
        async with unit_of_work(session_factory) as session:
            return await renew_post_leases(session=session, post_ids=held, owner=owner, expires_at=expires_at)

    heartbeat = Heartbeat([c.id for c in claims], renew=renew, lease=lease, since=since, what="post lease")
    todo: asyncio.Queue[PostClaim] = asyncio.Queue()
    for claim in claims:
        todo.put_nowait(claim)
    done: asyncio.Queue[tuple[PostClaim, Outcome] | None] = asyncio.Queue()

    async def worker() -> None:
        while not todo.empty():
            claim = todo.get_nowait()
            if not heartbeat.holds(claim.id):
                # Not renewed in time (this process may have been frozen): the heartbeat is about
                # to stop the pass; the post is left to whoever claims it next.
                return
            text, blocks = rendered[claim.locale]
            key = delivery_key(release_id, claim.channel)
            outcome = await send(client, pacer, claim, key=key, text=text, blocks=blocks)
            outcomes[outcome.kind] += 1
            await done.put((claim, outcome))

    async def writer() -> None:
        # Group commit: every answer that arrived while the last transaction ran goes in the
        # next one. A crash in between loses only records, never messages: those rows stay
        # `posting` and the next attempt finds their message in the channel.
        finished = False
        while not finished:
            batch = [await done.get()]
            while not done.empty():
                batch.append(done.get_nowait())
            finished = batch[-1] is None
            results = [item for item in batch if item is not None]
            if not results:
                continue
            # Slack has answered: were the lease to run out before the record is written, the
            # next claimer would find the message by its metadata.
            for claim, _ in results:
                heartbeat.release(claim.id)
            async with unit_of_work(session_factory) as session:
                for claim, outcome in results:
                    held = await record_outcome(
                        session=session,
                        claim=claim,
                        owner=owner,
                        outcome=outcome,
                        revision=revision,
                        workspace_url=workspace,
                        window=window,
                    )
                    if not held:
                        log.warning(
                            "post %s of release %s finished after its lease was taken", claim.id, release_id
                        )

    async def send_all() -> None:
        # TaskGroups, not gather: if any task dies the others stop too, leaving their rows leased
        # for recovery instead of posting on unsupervised.
        async with asyncio.TaskGroup() as group:
            group.create_task(writer())
            async with asyncio.TaskGroup() as workers:
                for _ in range(min(concurrency, len(claims))):
                    workers.create_task(worker())
            done.put_nowait(None)

    async with heartbeat.running():
        await heartbeat.guard(send_all())


def final_status(posts: list[ReleasePost]) -> ReleaseStatus:
    """What a release is once every channel has an answer: posted only if every channel has it."""
    states = Counter(p.state for p in posts)
    if not states[PostState.FAILED]:
        return ReleaseStatus.POSTED
    return ReleaseStatus.PARTIALLY_POSTED if states[PostState.POSTED] else ReleaseStatus.FAILED


async def settle(*, session: AsyncSession, team_id: str, release_id: int, now: datetime | None = None) -> str:
    """After a pass: queue the next one if work remains; else mark the release posted, partially
    posted or failed (once), ship its themes and report to its owner."""
    now = now or utcnow()
    release = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
    posts = await release_service.posts_of(session=session, release_id=release_id)
    waiting = [p for p in posts if p.state in (PostState.PENDING, PostState.POSTING)]
    stale = [p for p in posts if p.state == PostState.POSTED and p.revision < release.revision]
    if waiting or stale:
        moments = [
            p.lease_expires_at if p.state == PostState.POSTING else p.next_attempt_at for p in waiting + stale
        ]
        next_at = max(min((m for m in moments if m is not None), default=now), now)
        await release_service.enqueue_delivery(
            session=session,
            release=release,
            run_at=next_at,
            reason="retry",
            key=f"retry:{next_at.isoformat()}",
        )
        return str(release.status)
    if release.status != ReleaseStatus.POSTING:
        return str(release.status)
    status = final_status(posts)
    states = Counter(p.state for p in posts)
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if states[PostState.POSTED]:
        values["posted_at"] = func.coalesce(Release.posted_at, now)
    result = await session.execute(
        update(Release)
        .where(Release.id == release_id, Release.status == ReleaseStatus.POSTING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return str(release.status)
    await session.refresh(release)
    failed = {p.channel: p.error for p in posts if p.state == PostState.FAILED}
    event = await release_service.record_event(
        session=session,
        release=release,
        kind=str(status),
        actor="scheduler",
        posted=states[PostState.POSTED],
        failed=failed,
    )
    first = next((p for p in posts if p.state == PostState.POSTED and p.permalink), None)
    if states[PostState.POSTED]:
        await _ship_themes(session=session, release=release, link=first.permalink if first else None)
    if release.owner:
        await enqueue(
            session=session,
            team_id=team_id,
            kind=REPORT_KIND,
            key=f"{release.id}:{event.id}",
            payload={"release_id": release.id, "event_id": event.id, "user": release.owner},
        )
    return str(release.status)


async def _ship_themes(*, session: AsyncSession, release: Release, link: str | None) -> None:
    """Close the loop: every requester of a shipped theme is told (the customer-voice path, once)."""
    title = f"{release.title} {release.version or ''}".strip()
    for theme_id in await release_service.theme_ids_of(session=session, release_id=release.id):
        await ship_theme(
            session=session,
            team_id=release.team_id,
            theme_id=theme_id,
            release_id=release.id,
            release_title=title,
            release_link=link,
            by=release.approved_by or release.owner,
        )
