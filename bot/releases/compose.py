"""Release announcements: compose, approve, schedule, cancel, edit. Every state change is recorded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rapidfuzz import fuzz, process
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound, UserError
from bot.releases.schema import (
    AUDIENCE_FIELDS,
    REFERENCE,
    ReleaseIn,
    ReleasePatch,
    VariantIn,
)
from bot.scheduler.jobs import enqueue
from models import (
    Job,
    JobStatus,
    Launch,
    PostState,
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

# Before posting starts, a release can still be changed freely (a change sends it back for approval).
BEFORE_POSTING = frozenset(
    {ReleaseStatus.DRAFT, ReleaseStatus.PENDING_APPROVAL, ReleaseStatus.APPROVED, ReleaseStatus.SCHEDULED}
)
ON_AIR = frozenset({ReleaseStatus.POSTING, ReleaseStatus.POSTED})


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


@dataclass(frozen=True)
class EditResult:
    release: Release
    content_changed: bool
    # The change withdrew an approval: the approver is asked again.
    approval_reset: bool
    # Messages already in channels will be updated.
    updates_posts: bool


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
        raise NotFound(f"No release matches `{reference}`; `/release list` shows the recent ones.")
    if len(matches) > 1 and matches[0][1] - matches[1][1] < 5:
        options = ", ".join(f"#{key} {names[key]}" for _name, _score, key in matches)
        raise UserError(f"Several releases match `{reference}`: {options}. Name one by its number.")
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


async def _notify(
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


async def _ask_approval(*, session: AsyncSession, release: Release, event: ReleaseEvent) -> None:
    await enqueue(
        session=session,
        team_id=release.team_id,
        kind=APPROVAL_KIND,
        key=f"{release.id}:{event.id}",
        payload={"release_id": release.id, "approver": release.approver, "revision": release.revision},
    )


async def _withdraw_jobs(*, session: AsyncSession, release: Release, reason: str) -> None:
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


# ---- composing -----------------------------------------------------------------------------


async def _check_links(
    *, session: AsyncSession, team_id: str, launch_id: int | None, theme_ids: list[int] | None
) -> None:
    if launch_id is not None:
        found = await session.scalar(
            select(Launch.id).where(Launch.team_id == team_id, Launch.id == launch_id)
        )
        if found is None:
            raise UserError(f"launch_id: no launch {launch_id} in this workspace.")
    if theme_ids:
        titles = await theme_titles(session=session, team_id=team_id, theme_ids=theme_ids)
        missing = [str(t) for t in theme_ids if t not in titles]
        if missing:
            raise UserError(f"theme_ids: no theme {', '.join(missing)} in this workspace.")


async def _set_themes(*, session: AsyncSession, release: Release, theme_ids: list[int]) -> None:
    await session.execute(delete(release_themes).where(release_themes.c.release_id == release.id))
    if theme_ids:
        await session.execute(
            insert(release_themes),
            [{"release_id": release.id, "theme_id": t, "team_id": release.team_id} for t in theme_ids],
        )


async def _set_variants(*, session: AsyncSession, release: Release, variants: dict[str, VariantIn]) -> None:
    existing = await variants_of(session=session, release_id=release.id)
    for locale, row in existing.items():
        if locale not in variants:
            await session.delete(row)
    for locale, data in variants.items():
        if data.is_empty():
            continue
        row = existing.get(locale) or ReleaseVariant(
            team_id=release.team_id, release_id=release.id, locale=locale
        )
        row.title, row.summary, row.notes = data.title, data.summary, data.notes
        session.add(row)
    await session.flush()


async def _set_audience(*, session: AsyncSession, release: Release, audience: dict[str, str]) -> None:
    posts = {p.channel: p for p in await posts_of(session=session, release_id=release.id)}
    for channel, gone in posts.items():
        if channel not in audience:
            await session.delete(gone)
    for channel, locale in audience.items():
        post = posts.get(channel)
        if post is None:
            session.add(
                ReleasePost(
                    team_id=release.team_id,
                    release_id=release.id,
                    channel=channel,
                    locale=locale,
                    state=PostState.PENDING,
                )
            )
        else:
            post.locale = locale
    await session.flush()


def _apply_schedule(release: Release, when: datetime | Literal["now"] | None) -> None:
    release.post_when_approved = when == "now"
    release.scheduled_at = when if isinstance(when, datetime) else None


async def create_release(
    *, session: AsyncSession, team_id: str, data: ReleaseIn, by: str, default_timezone: str = "UTC"
) -> Release:
    """A new draft with its audience, translations and links."""
    await _check_links(session=session, team_id=team_id, launch_id=data.launch_id, theme_ids=data.theme_ids)
    release = Release(
        team_id=team_id,
        title=data.title,
        version=data.version,
        summary=data.summary,
        notes=data.notes,
        default_locale=data.default_locale,
        launch_id=data.launch_id,
        status=ReleaseStatus.DRAFT,
        owner=data.owner,
        approver=data.approver,
        timezone=data.timezone or default_timezone,
        revision=1,
    )
    _apply_schedule(release, data.scheduled_at)
    session.add(release)
    await session.flush()
    await _set_variants(session=session, release=release, variants=data.variants)
    await _set_themes(session=session, release=release, theme_ids=data.theme_ids)
    await _set_audience(session=session, release=release, audience=data.audience())
    await record_event(session=session, release=release, kind="created", actor=by)
    return release


async def update_release(
    *, session: AsyncSession, team_id: str, release_id: int, patch: ReleasePatch, by: str
) -> EditResult:
    """Apply a change. Before posting, a change withdraws approval; after, posted messages follow."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    fields = patch.model_fields_set
    if release.status == ReleaseStatus.CANCELLED:
        raise Conflict(f"Release #{release.id} was cancelled; it can't be edited.")
    if release.status in ON_AIR and fields & (AUDIENCE_FIELDS | {"scheduled_at", "approver"}):
        raise Conflict(
            f"Release #{release.id} is already {release.status}: its channels, schedule and approver "
            "can no longer change (its text still can)."
        )
    await _check_links(
        session=session,
        team_id=team_id,
        launch_id=patch.launch_id if "launch_id" in fields else None,
        theme_ids=patch.theme_ids if "theme_ids" in fields else None,
    )
    before = await _content_snapshot(session=session, release=release)
    old_default = release.default_locale
    for name in (
        "title",
        "version",
        "summary",
        "notes",
        "default_locale",
        "launch_id",
        "approver",
        "timezone",
    ):
        if name in fields:
            setattr(release, name, getattr(patch, name))
    if "scheduled_at" in fields:
        _apply_schedule(release, patch.scheduled_at)
    if "variants" in fields and patch.variants is not None:
        await _set_variants(session=session, release=release, variants=patch.variants)
    if "theme_ids" in fields:
        await _set_themes(session=session, release=release, theme_ids=patch.theme_ids or [])
    if fields & AUDIENCE_FIELDS or release.default_locale != old_default:
        await _reset_audience(session=session, release=release, patch=patch, old_default=old_default)
    changed = before != await _content_snapshot(session=session, release=release)
    needs_approval = changed or "approver" in fields
    if not (needs_approval or "scheduled_at" in fields):
        return EditResult(release, content_changed=False, approval_reset=False, updates_posts=False)
    if changed:
        release.revision += 1
    event = await record_event(
        session=session,
        release=release,
        kind="edited",
        actor=by,
        fields=sorted(fields),
        revision=release.revision,
    )
    if release.status in ON_AIR:
        if changed:
            await enqueue_delivery(
                session=session, release=release, run_at=utcnow(), reason="edit", key=f"edit:{event.id}"
            )
        return EditResult(release, content_changed=changed, approval_reset=False, updates_posts=changed)
    approved = release.status in {ReleaseStatus.APPROVED, ReleaseStatus.SCHEDULED}
    if not needs_approval:
        # Only the time moved: an approved release keeps its approval and is rescheduled.
        if approved:
            await _reschedule_from_fields(session=session, release=release, by=by)
        return EditResult(release, content_changed=False, approval_reset=False, updates_posts=False)
    reset = approved or release.status == ReleaseStatus.PENDING_APPROVAL
    if reset:
        await _withdraw_jobs(session=session, release=release, reason="release changed before posting")
        release.approved_by = release.approved_at = None
        if release.approver:
            release.status = ReleaseStatus.PENDING_APPROVAL
            submitted = await record_event(
                session=session, release=release, kind="submitted", actor=by, revision=release.revision
            )
            await _ask_approval(session=session, release=release, event=submitted)
        else:
            release.status = ReleaseStatus.DRAFT
    return EditResult(release, content_changed=changed, approval_reset=reset, updates_posts=False)


async def _reschedule_from_fields(*, session: AsyncSession, release: Release, by: str) -> None:
    if release.post_when_approved or release.scheduled_at is not None:
        when = release.scheduled_at or utcnow()
        await _schedule(session=session, release=release, at=max(when, utcnow()), by=by)
        return
    await _withdraw_jobs(session=session, release=release, reason="schedule cleared")
    release.status = ReleaseStatus.APPROVED
    await record_event(session=session, release=release, kind="unscheduled", actor=by)


async def _reset_audience(
    *, session: AsyncSession, release: Release, patch: ReleasePatch, old_default: str
) -> None:
    posts = await posts_of(session=session, release_id=release.id)
    current = {p.channel: p.locale for p in posts}
    explicit = {c: loc for c, loc in current.items() if loc != old_default}
    channels = patch.channels if patch.channels is not None else list(current)
    mapping = patch.channel_locales if patch.channel_locales is not None else explicit
    channels = list(dict.fromkeys([*channels, *mapping]))
    if not channels:
        raise UserError("channels: name at least one audience channel")
    audience = {c: mapping.get(c, release.default_locale) for c in channels}
    await _set_audience(session=session, release=release, audience=audience)


async def _content_snapshot(*, session: AsyncSession, release: Release) -> tuple[object, ...]:
    variants = await variants_of(session=session, release_id=release.id)
    audience = sorted((p.channel, p.locale) for p in await posts_of(session=session, release_id=release.id))
    return (
        release.title,
        release.version,
        release.summary,
        release.notes,
        release.default_locale,
        release.launch_id,
        tuple(await theme_ids_of(session=session, release_id=release.id)),
        tuple(sorted((k, v.title, v.summary, v.notes) for k, v in variants.items())),
        tuple(audience),
    )


async def delete_release(*, session: AsyncSession, team_id: str, release_id: int) -> None:
    """Forget a release that never reached a channel."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status in ON_AIR:
        raise Conflict(
            f"Release #{release.id} is {release.status}; its messages are in channels, so it is kept. "
            "Edit it instead."
        )
    await _withdraw_jobs(session=session, release=release, reason="release deleted")
    await session.delete(release)
    await session.flush()


# ---- approval and scheduling ---------------------------------------------------------------


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
    await _ask_approval(session=session, release=release, event=event)
    return release


async def approve_release(
    *,
    session: AsyncSession,
    team_id: str,
    release_id: int,
    by: str,
    as_approver: bool,
    revision: int | None = None,
) -> Release:
    """Record the approval; a release with a time (or "now") is scheduled at once.

    `as_approver`: the call comes from Slack, so only the named approver may approve; admin API
    callers may approve a draft directly. `revision`: the text the approver saw.
    """
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    allowed = {ReleaseStatus.PENDING_APPROVAL} | ({ReleaseStatus.DRAFT} if not as_approver else set())
    if release.status not in allowed:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; there is nothing to approve.")
    if as_approver and release.approver and by != release.approver:
        raise UserError(f"Only <@{release.approver}> can approve release #{release.id}.")
    if revision is not None and revision != release.revision:
        raise Conflict(
            f"Release #{release.id} changed after this request was sent; approve the newer request instead."
        )
    release.approved_by, release.approved_at = by, utcnow()
    release.status = ReleaseStatus.APPROVED
    event = await record_event(
        session=session, release=release, kind="approved", actor=by, revision=release.revision
    )
    await _notify(session=session, release=release, user=release.owner, event=event, by=by)
    if release.post_when_approved or release.scheduled_at is not None:
        when = release.scheduled_at or utcnow()
        await _schedule(session=session, release=release, at=max(when, utcnow()), by=by)
    return release


async def request_changes(
    *, session: AsyncSession, team_id: str, release_id: int, by: str, reason: str
) -> Release:
    """The approver sends it back to its owner with what should change."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status != ReleaseStatus.PENDING_APPROVAL:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; it is not waiting for approval.")
    if release.approver and by != release.approver:
        raise UserError(f"Only <@{release.approver}> can send release #{release.id} back.")
    release.status = ReleaseStatus.DRAFT
    event = await record_event(
        session=session, release=release, kind="changes_requested", actor=by, reason=reason.strip()
    )
    await _notify(session=session, release=release, user=release.owner, event=event, by=by)
    return release


async def _schedule(*, session: AsyncSession, release: Release, at: datetime, by: str) -> None:
    await _withdraw_jobs(session=session, release=release, reason="rescheduled")
    release.status = ReleaseStatus.SCHEDULED
    release.scheduled_at = at
    release.post_when_approved = False
    event = await record_event(
        session=session, release=release, kind="scheduled", actor=by, at=at.isoformat()
    )
    await enqueue_delivery(
        session=session, release=release, run_at=at, reason="scheduled", key=f"post:{event.id}"
    )


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
    await _withdraw_jobs(session=session, release=release, reason="release cancelled")
    event = await record_event(session=session, release=release, kind="cancelled", actor=by)
    for user in {release.owner, release.approver}:
        await _notify(session=session, release=release, user=user, event=event, by=by)
    return release


async def retry_failed_posts(*, session: AsyncSession, team_id: str, release_id: int, by: str) -> int:
    """Try the channels that failed again (after inviting the bot, say); returns how many."""
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    if release.status not in ON_AIR:
        raise Conflict(f"Release #{release.id} is {_status_words(release)}; nothing was posted yet.")
    result = await session.execute(
        update(ReleasePost)
        .where(ReleasePost.release_id == release.id, ReleasePost.state == PostState.FAILED)
        .values(state=PostState.PENDING, attempts=0, next_attempt_at=None, error=None)
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
