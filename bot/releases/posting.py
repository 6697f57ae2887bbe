"""Posting a release to every audience channel, exactly once, paced, and surviving crashes.

Each channel has a `release_posts` row. A pass claims due rows with a lease (PostgreSQL:
`FOR UPDATE SKIP LOCKED`; on both backends a conditional update is the final word), which also
records the intent to post *before* Slack is called. A row found still `posting` after its lease
ran out belonged to a process that died mid-call: the next attempt first looks in the channel for
the release's message metadata (`post_once(maybe_posted=True)`) and only posts when it is not there.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import SessionFactory
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.feedback.themes import ship_theme
from bot.releases import compose as release_service
from bot.releases.compose import REPORT_KIND, ReleaseCopy
from bot.scheduler.jobs import enqueue
from models import PostState, Release, ReleasePost, ReleaseStatus
from models.base import utcnow

log = logging.getLogger(__name__)

POST_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# Enough posts in flight to use Slack's whole workspace allowance while it answers 429s with
# whole-second Retry-After values.
CONCURRENCY = 16
CLAIM_BATCH = 64
# Slack: "1 message per second to a specific channel".
PER_CHANNEL_INTERVAL = 1.0
# After a 429, this many posts in flight at most, until Slack has said nothing for a minute.
CAUTIOUS_IN_FLIGHT = 4
QUIET_AFTER_429 = 60.0
# The channel is gone or closed to the bot: retrying will not help until someone acts.
CHANNEL_ERRORS = {
    "channel_not_found": "the channel does not exist, or it is private and Switchboard is not in it",
    "not_in_channel": "Switchboard is not a member; invite it with `/invite @Switchboard`",
    "is_archived": "the channel is archived",
    "restricted_action": "a workspace setting stops Switchboard posting there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel only allows posts in threads",
    "restricted_action_non_threadable_channel": "the channel does not allow this kind of post",
    "ekm_access_denied": "the workspace's encryption keys deny access",
    "team_access_not_granted": "Switchboard has no access to the channel's workspace",
    "cant_update_message": "Slack no longer lets the message be edited",
    "message_not_found": "the message was deleted",
    "edit_window_closed": "the workspace no longer allows editing the message",
}
# Worth another try later; everything else Slack refuses is final.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

Render = Callable[[ReleaseCopy], tuple[str, list[dict[str, Any]]]]


def delivery_key(release_id: int, channel: str) -> str:
    """The metadata key that identifies this release's message in `channel`."""
    return f"release:{release_id}:{channel}"


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


# ---- pacing ---------------------------------------------------------------------------------


class SlackPacer:
    """Spaces posts to one channel, holds every post back while Slack says to wait, and after a
    429 keeps only a few posts in flight until Slack has been quiet for a while (so a wave of
    posts does not meet a wave of 429s)."""

    def __init__(
        self,
        per_channel: float = PER_CHANNEL_INTERVAL,
        cautious_in_flight: int = CAUTIOUS_IN_FLIGHT,
        quiet_after: float = QUIET_AFTER_429,
    ) -> None:
        self.per_channel = per_channel
        self.cautious_in_flight = cautious_in_flight
        self.quiet_after = quiet_after
        self._last: dict[str, float] = {}
        self._held_until = 0.0
        self._last_429 = -1e9
        self._in_flight = 0
        self._freed = asyncio.Event()

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        """Wait for a turn to call Slack for `channel`; the turn ends with the block."""
        while True:
            now = time.monotonic()
            wait = max(self._held_until - now, self._last.get(channel, -1e9) + self.per_channel - now)
            crowded = now - self._last_429 < self.quiet_after and self._in_flight >= self.cautious_in_flight
            if wait <= 0 and not crowded:
                break
            self._freed.clear()
            try:
                await asyncio.wait_for(self._freed.wait(), timeout=wait if wait > 0 else None)
            except TimeoutError:
                pass
        self._last[channel] = now
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._freed.set()

    def hold(self, seconds: float) -> None:
        now = time.monotonic()
        self._last_429 = now
        self._held_until = max(self._held_until, now + seconds)


# Per process (one session factory per running Switchboard) and workspace: Slack's limits are per
# app and workspace, whichever job posts.
_PACERS: weakref.WeakKeyDictionary[SessionFactory, dict[str, SlackPacer]] = weakref.WeakKeyDictionary()


def pacer_for(session_factory: SessionFactory, team_id: str) -> SlackPacer:
    return _PACERS.setdefault(session_factory, {}).setdefault(team_id, SlackPacer())


def posting_client(client: AsyncWebClient) -> AsyncWebClient:
    """The client without automatic retries: a retried post must first check the channel, and
    429s are paced here, against the post's lease."""
    client.retry_handlers = []
    return client


# ---- claiming and recording ------------------------------------------------------------------


@dataclass(frozen=True)
class PostClaim:
    id: int
    channel: str
    locale: str
    mode: Literal["post", "update"]
    ts: str | None
    attempts: int
    lease_expires_at: datetime


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
        )
        .returning(
            ReleasePost.id,
            ReleasePost.state,
            ReleasePost.channel,
            ReleasePost.locale,
            ReleasePost.ts,
            ReleasePost.attempts,
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
            lease_expires_at=expires,
        )
        for row in result
    ]
    return sorted(claims, key=lambda c: c.id)


def _backoff(attempts: int) -> float:
    return float(min(15 * 2 ** (attempts - 1), 900))


async def record_outcome(
    *,
    session: AsyncSession,
    claim: PostClaim,
    owner: str,
    outcome: Outcome,
    revision: int,
    workspace_url: str | None,
    now: datetime | None = None,
) -> bool:
    """Write what Slack answered; False when the lease was lost to another scheduler meanwhile."""
    now = now or utcnow()
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
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
        )
    elif outcome.kind == "updated":
        values.update(revision=revision, edited_at=now, error=None, attempts=0, next_attempt_at=None)
    elif outcome.kind == "failed" or claim.attempts >= MAX_ATTEMPTS:
        error = outcome.error or "unknown_error"
        if claim.mode == "post":
            values.update(state=PostState.FAILED, error=error[:255], next_attempt_at=None)
        else:
            # The message stays as it was; the error says why the edit is missing.
            values.update(error=f"edit not applied: {error}"[:255], revision=revision, attempts=0)
    else:
        values.update(
            state=PostState.PENDING if claim.mode == "post" else PostState.POSTED,
            error=(outcome.error or "")[:255] or None,
            next_attempt_at=now + timedelta(seconds=outcome.retry_in or _backoff(claim.attempts)),
        )
    result = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.id == claim.id, ReleasePost.lease_owner == owner)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


# ---- talking to Slack ------------------------------------------------------------------------


def _retry_after(exc: SlackApiError) -> float:
    headers = {str(k).lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after", "1")
    if isinstance(value, list):
        value = value[0] if value else "1"
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0


def _slack_error(exc: SlackApiError) -> str:
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{exc.response.status_code}"


async def _send(
    client: AsyncWebClient,
    pacer: SlackPacer,
    claim: PostClaim,
    *,
    key: str,
    text: str,
    blocks: list[dict[str, Any]],
) -> Outcome:
    """One post or edit, waiting out 429s while the lease allows; never raises for Slack's answers."""
    deadline = time.monotonic() + (claim.lease_expires_at - utcnow()).total_seconds() - 30
    while True:
        try:
            async with pacer.slot(claim.channel):
                if claim.mode == "post":
                    found = await post_once(
                        client,
                        channel=claim.channel,
                        key=key,
                        text=text,
                        blocks=blocks,
                        maybe_posted=claim.attempts > 1,
                    )
                    return Outcome(
                        "posted", ts=found["ts"], channel=found["channel"], recovered="recovered" in found
                    )
                assert claim.ts is not None
                await client.chat_update(channel=claim.channel, ts=claim.ts, text=text, blocks=blocks)
                return Outcome("updated", ts=claim.ts)
        except SlackApiError as exc:
            error = _slack_error(exc)
            if exc.response.status_code == 429 or error == "ratelimited":
                # Slack did not take the message; everyone waits, then this one tries again.
                wait = _retry_after(exc)
                pacer.hold(wait)
                if time.monotonic() + wait < deadline:
                    continue
                return Outcome("later", error="ratelimited", retry_in=wait)
            if error in CHANNEL_ERRORS:
                return Outcome("failed", error=error)
            if exc.response.status_code >= 500 or error in TRANSIENT_ERRORS:
                return Outcome("later", error=error)
            return Outcome("failed", error=error)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The post may have reached Slack; the next attempt looks before posting.
            return Outcome("later", error=f"connection: {type(exc).__name__}")


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
) -> PassResult:
    """Post (or update) every due channel of a release, then settle what happened."""
    async with unit_of_work(session_factory) as session:
        skip = await start_posting(session=session, team_id=team_id, release_id=release_id, now=utcnow())
    if skip:
        return PassResult(status="skipped", skipped=skip)
    client = posting_client(client)
    pacer = pacer_for(session_factory, team_id)
    url: str | None = None
    outcomes: Counter[str] = Counter()
    while True:
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
) -> None:
    """Send every claim with `concurrency` workers while one writer records the answers."""
    todo: asyncio.Queue[PostClaim] = asyncio.Queue()
    for claim in claims:
        todo.put_nowait(claim)
    done: asyncio.Queue[tuple[PostClaim, Outcome] | None] = asyncio.Queue()

    async def worker() -> None:
        while not todo.empty():
            claim = todo.get_nowait()
            text, blocks = rendered[claim.locale]
            key = delivery_key(release_id, claim.channel)
            outcome = await _send(client, pacer, claim, key=key, text=text, blocks=blocks)
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
            async with unit_of_work(session_factory) as session:
                for claim, outcome in results:
                    held = await record_outcome(
                        session=session,
                        claim=claim,
                        owner=owner,
                        outcome=outcome,
                        revision=revision,
                        workspace_url=workspace,
                    )
                    if not held:
                        log.warning(
                            "post %s of release %s finished after its lease was taken", claim.id, release_id
                        )

    # TaskGroups, not gather: if any task dies the others stop too, leaving their rows leased for
    # recovery instead of posting on unsupervised.
    async with asyncio.TaskGroup() as group:
        group.create_task(writer())
        async with asyncio.TaskGroup() as workers:
            for _ in range(min(concurrency, len(claims))):
                workers.create_task(worker())
        done.put_nowait(None)


async def settle(*, session: AsyncSession, team_id: str, release_id: int, now: datetime | None = None) -> str:
    """After a pass: queue the next one if work remains, else mark the release posted (once),
    ship its themes and report to its owner."""
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
    result = await session.execute(
        update(Release)
        .where(Release.id == release_id, Release.status == ReleaseStatus.POSTING)
        .values(status=ReleaseStatus.POSTED, posted_at=func.coalesce(Release.posted_at, now), updated_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return str(release.status)
    release.status = ReleaseStatus.POSTED
    states = Counter(p.state for p in posts)
    failed = {p.channel: p.error for p in posts if p.state == PostState.FAILED}
    event = await release_service.record_event(
        session=session,
        release=release,
        kind="posted",
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
