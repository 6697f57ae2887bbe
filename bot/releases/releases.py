"""Releases as stored: finding and reading them, each language's copy, their history, and the jobs
that act on them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.text import escape_mrkdwn
from bot.releases.schema import REFERENCE
from bot.scheduler.jobs import enqueue
from models import (
    Job,
    JobStatus,
    Launch,
    Release,
    ReleaseEvent,
    ReleasePost,
    ReleaseStatus,
    ReleaseVariant,
    Theme,
    release_themes,
)
from models.base import utcnow

DELIVER_KIND = "release.deliver"
APPROVAL_KIND = "release.approval_request"
NOTIFY_KIND = "release.notify"
REPORT_KIND = "release.report"

# A change to a posted release held for its approver (the event carries the change and its diff).
PROPOSED = "revision_proposed"
# Events that settle a held change: applied, sent back, or overtaken by a direct edit or a cancel.
_SETTLES_PROPOSAL = ("edited", "approved", "changes_requested", "cancelled")

# Before posting starts, a release can still be changed freely (a change sends it back for approval).
BEFORE_POSTING = frozenset(
    {ReleaseStatus.DRAFT, ReleaseStatus.PENDING_APPROVAL, ReleaseStatus.APPROVED, ReleaseStatus.SCHEDULED}
)
# Once posting has started (ended or not), the audience is fixed and edits update what was posted.
POSTING_ENDED = frozenset({ReleaseStatus.POSTED, ReleaseStatus.PARTIALLY_POSTED, ReleaseStatus.FAILED})
ON_AIR = frozenset({ReleaseStatus.POSTING, *POSTING_ENDED})


@dataclass(frozen=True)
class ReleaseCopy:
    """What one language's message says, with fallbacks to the default text applied."""

    release_id: int
    locale: str
    title: str
    version: str | None
    summary: str
    notes: str
    launch_name: str | None
    themes: tuple[str, ...]
    revision: int


# ---- reading -------------------------------------------------------------------------------


async def get_release(*, session: AsyncSession, team_id: str, release_id: int) -> Release:
    """The release with this id in this workspace, or NotFound."""
    release = await session.scalar(
        select(Release).where(Release.team_id == team_id, Release.id == release_id)
    )
    if release is None:
        raise NotFound(f"No release #{release_id}; `/release list` shows the recent ones.")
    return release


async def list_releases(
    *,
    session: AsyncSession,
    team_id: str,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Release]:
    """Newest first, starting below `before_id` (keyset pagination)."""
    query = select(Release).where(Release.team_id == team_id).order_by(Release.id.desc()).limit(limit)
    if status:
        query = query.where(Release.status == status)
    if before_id is not None:
        query = query.where(Release.id < before_id)
    return list((await session.scalars(query)).all())


async def find_release(*, session: AsyncSession, team_id: str, reference: str) -> Release:
    """A release named by `#12`, `12`, its version or (fuzzily) its title."""
    reference = reference.strip()
    numeric = REFERENCE.match(reference)
    if numeric:
        return await get_release(session=session, team_id=team_id, release_id=int(numeric.group(1)))
    recent = await list_releases(session=session, team_id=team_id, limit=300)
    exact = [r for r in recent if r.version and r.version.lower() == reference.lower()]
    exact = exact or [r for r in recent if r.title.lower() == reference.lower()]
    if len(exact) == 1:
        return exact[0]
    names = {r.id: f"{r.title} {r.version or ''}".strip() for r in recent}
    matches = process.extract(reference, names, scorer=fuzz.WRatio, limit=3, score_cutoff=70)
    if not matches:
        raise NotFound(
            f"No release matches `{escape_mrkdwn(reference)}`; `/release list` shows the recent ones."
        )
    if len(matches) > 1 and matches[0][1] - matches[1][1] < 5:
        options = ", ".join(f"#{key} {escape_mrkdwn(names[key])}" for _name, _score, key in matches)
        raise UserError(
            f"Several releases match `{escape_mrkdwn(reference)}`: {options}. Name one by its number."
        )
    best = matches[0][2]
    return next(r for r in recent if r.id == best)


async def variants_of(*, session: AsyncSession, release_id: int) -> dict[str, ReleaseVariant]:
    rows = await session.scalars(select(ReleaseVariant).where(ReleaseVariant.release_id == release_id))
    return {v.locale: v for v in rows}


async def posts_of(*, session: AsyncSession, release_id: int) -> list[ReleasePost]:
    rows = await session.scalars(
        select(ReleasePost).where(ReleasePost.release_id == release_id).order_by(ReleasePost.id)
    )
    return list(rows)


async def theme_ids_of(*, session: AsyncSession, release_id: int) -> list[int]:
    rows = await session.scalars(
        select(release_themes.c.theme_id)
        .where(release_themes.c.release_id == release_id)
        .order_by(release_themes.c.theme_id)
    )
    return list(rows)


async def events_of(*, session: AsyncSession, release_id: int) -> list[ReleaseEvent]:
    rows = await session.scalars(
        select(ReleaseEvent).where(ReleaseEvent.release_id == release_id).order_by(ReleaseEvent.id)
    )
    return list(rows)


async def open_proposal(*, session: AsyncSession, release: Release) -> ReleaseEvent | None:
    """The change to this posted release that still waits for its approver, if any."""
    latest = await session.scalar(
        select(ReleaseEvent)
        .where(
            ReleaseEvent.release_id == release.id,
            ReleaseEvent.kind.in_([PROPOSED, *_SETTLES_PROPOSAL]),
        )
        .order_by(ReleaseEvent.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.kind == PROPOSED else None


async def post_counts(*, session: AsyncSession, release_ids: list[int]) -> dict[int, Counter[str]]:
    """Posts by state, per release."""
    counts: dict[int, Counter[str]] = {rid: Counter() for rid in release_ids}
    if not release_ids:
        return counts
    rows = await session.execute(
        select(ReleasePost.release_id, ReleasePost.state, func.count())
        .where(ReleasePost.release_id.in_(release_ids))
        .group_by(ReleasePost.release_id, ReleasePost.state)
    )
    for release_id, state, count in rows:
        counts[release_id][state] = count
    return counts


async def launch_name(*, session: AsyncSession, team_id: str, launch_id: int | None) -> str | None:
    if launch_id is None:
        return None
    return await session.scalar(select(Launch.name).where(Launch.team_id == team_id, Launch.id == launch_id))


async def theme_titles(*, session: AsyncSession, team_id: str, theme_ids: list[int]) -> dict[int, str]:
    if not theme_ids:
        return {}
    rows = await session.execute(
        select(Theme.id, Theme.title).where(Theme.team_id == team_id, Theme.id.in_(theme_ids))
    )
    return {int(theme_id): str(title) for theme_id, title in rows.all()}


async def release_copies(
    *, session: AsyncSession, release: Release, locales: list[str] | None = None
) -> dict[str, ReleaseCopy]:
    """The message in each language the audience reads (or in `locales`), fallbacks applied."""
    variants = await variants_of(session=session, release_id=release.id)
    if locales is None:
        used = await session.scalars(
            select(ReleasePost.locale).where(ReleasePost.release_id == release.id).distinct()
        )
        locales = sorted(set(used) | {release.default_locale}, key=lambda x: (x != release.default_locale, x))
    theme_ids = await theme_ids_of(session=session, release_id=release.id)
    titles = await theme_titles(session=session, team_id=release.team_id, theme_ids=theme_ids)
    launch = await launch_name(session=session, team_id=release.team_id, launch_id=release.launch_id)
    copies: dict[str, ReleaseCopy] = {}
    for locale in locales:
        variant = variants.get(locale) if locale != release.default_locale else None
        copies[locale] = ReleaseCopy(
            release_id=release.id,
            locale=locale,
            title=(variant.title if variant and variant.title else release.title),
            version=release.version,
            summary=(variant.summary if variant and variant.summary else release.summary),
            notes=(variant.notes if variant and variant.notes else release.notes),
            launch_name=launch,
            themes=tuple(titles[t] for t in theme_ids if t in titles),
            revision=release.revision,
        )
    return copies


# ---- history and notifications ------------------------------------------------------------


async def record_event(
    *, session: AsyncSession, release: Release, kind: str, actor: str | None, **detail: Any
) -> ReleaseEvent:
    """Write down one state change of `release`: what, who and when."""
    event = ReleaseEvent(
        team_id=release.team_id, release_id=release.id, kind=kind, actor=actor, at=utcnow(), detail=detail
    )
    session.add(event)
    await session.flush()
    return event


async def notify(
    *, session: AsyncSession, release: Release, user: str | None, event: ReleaseEvent, by: str | None
) -> None:
    """DM `user` about `event`, once (the job is keyed by the event), unless they did it themselves."""
    if not user or user == by:
        return
    await enqueue(
        session=session,
        team_id=release.team_id,
        kind=NOTIFY_KIND,
        key=f"{release.id}:{event.id}:{user}",
        payload={"release_id": release.id, "event_id": event.id, "user": user},
    )


async def ask_approval(*, session: AsyncSession, release: Release, event: ReleaseEvent) -> None:
    await enqueue(
        session=session,
        team_id=release.team_id,
        kind=APPROVAL_KIND,
        key=f"{release.id}:{event.id}",
        payload={
            "release_id": release.id,
            "approver": release.approver,
            "revision": release.revision,
            "event_id": event.id,
        },
    )


async def withdraw_jobs(*, session: AsyncSession, release: Release, reason: str) -> None:
    """Pending deliveries and approval requests of `release` will not run (nor show as upcoming)."""
    await session.execute(
        update(Job)
        .where(
            Job.team_id == release.team_id,
            Job.kind.in_([DELIVER_KIND, APPROVAL_KIND]),
            Job.dedupe_key.like(f"{release.id}:%"),
            Job.status == JobStatus.PENDING,
        )
        .values(status=JobStatus.SKIPPED, last_error=reason, finished_at=utcnow())
    )


async def enqueue_delivery(
    *, session: AsyncSession, release: Release, run_at: datetime, reason: str, key: str
) -> bool:
    """Queue a pass that posts (or updates) whatever of `release` is due at `run_at`."""
    return await enqueue(
        session=session,
        team_id=release.team_id,
        kind=DELIVER_KIND,
        key=f"{release.id}:{key}",
        run_at=run_at,
        payload={"release_id": release.id, "title": release.title, "reason": reason},
        max_attempts=10,
    )
