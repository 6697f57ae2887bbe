"""Release announcements: compose, edit and delete them. Every state change is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, UserError
from bot.releases.approval import reschedule_from_fields
from bot.releases.releases import (
    ON_AIR,
    PROPOSED,
    ask_approval,
    enqueue_delivery,
    get_release,
    launch_name,
    posts_of,
    record_event,
    theme_ids_of,
    theme_titles,
    variants_of,
    withdraw_jobs,
)
from bot.releases.schema import AUDIENCE_FIELDS, ReleaseIn, ReleasePatch, VariantIn
from models import Launch, PostState, Release, ReleasePost, ReleaseStatus, ReleaseVariant, release_themes
from models.base import utcnow


@dataclass(frozen=True)
class EditResult:
    release: Release
    content_changed: bool
    # The change withdrew an approval: the approver is asked again.
    approval_reset: bool
    # Messages already in channels will be updated.
    updates_posts: bool
    # The change waits for the approver; nothing posted changes until they approve it.
    awaiting_approval: bool = False


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
    *,
    session: AsyncSession,
    team_id: str,
    release_id: int,
    patch: ReleasePatch,
    by: str,
    review: bool = False,
) -> EditResult:
    """Apply a change. After posting, posted messages follow. Before posting, a change by someone
    the approver must hear from first (`review`: the policy says so) withdraws the approval and asks
    again; the approver's own change, or an admin's, keeps it. On a posted release a `review`
    change is held as a proposal and the messages follow only once approved.
    """
    release = await get_release(session=session, team_id=team_id, release_id=release_id)
    fields = patch.model_fields_set
    if release.status == ReleaseStatus.CANCELLED:
        raise Conflict(f"Release #{release.id} was cancelled; it can't be edited.")
    if release.status in ON_AIR and fields & (AUDIENCE_FIELDS | {"scheduled_at", "approver"}):
        raise Conflict(
            f"Release #{release.id} is already {str(release.status).replace('_', ' ')}: its channels, "
            "schedule and approver can no longer change (its text still can)."
        )
    await _check_links(
        session=session,
        team_id=team_id,
        launch_id=patch.launch_id if "launch_id" in fields else None,
        theme_ids=patch.theme_ids if "theme_ids" in fields else None,
    )
    changes = await describe_changes(session=session, release=release, patch=patch)
    if review and release.status in ON_AIR and release.approver:
        return await _propose(session=session, release=release, patch=patch, changes=changes, by=by)
    before = await _content_snapshot(session=session, release=release)
    old_default, old_approver = release.default_locale, release.approver
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
    # The modal always sends its approver; only a different one needs asking.
    needs_approval = changed or release.approver != old_approver
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
    if not needs_approval or (approved and not review and release.approver == old_approver):
        # Only the time moved, or the approver (or an admin) changed what they may approve: the
        # approval stands and the release keeps, or moves to, its time.
        if approved and "scheduled_at" in fields:
            await reschedule_from_fields(session=session, release=release, by=by)
        return EditResult(release, content_changed=changed, approval_reset=False, updates_posts=False)
    reset = approved or release.status == ReleaseStatus.PENDING_APPROVAL
    if reset:
        await withdraw_jobs(session=session, release=release, reason="release changed before posting")
        release.approved_by = release.approved_at = None
        if release.approver:
            release.status = ReleaseStatus.PENDING_APPROVAL
            submitted = await record_event(
                session=session,
                release=release,
                kind="submitted",
                actor=by,
                revision=release.revision,
                changes=changes,
            )
            await ask_approval(session=session, release=release, event=submitted)
        else:
            release.status = ReleaseStatus.DRAFT
    return EditResult(release, content_changed=changed, approval_reset=reset, updates_posts=False)


async def _propose(
    *, session: AsyncSession, release: Release, patch: ReleasePatch, changes: list[dict[str, str]], by: str
) -> EditResult:
    """Hold a change to a posted release for its approver; the messages stay as they are."""
    if not changes:
        return EditResult(release, content_changed=False, approval_reset=False, updates_posts=False)
    event = await record_event(
        session=session,
        release=release,
        kind=PROPOSED,
        actor=by,
        revision=release.revision,
        patch=patch.model_dump(mode="json", exclude_unset=True),
        changes=changes,
    )
    await ask_approval(session=session, release=release, event=event)
    return EditResult(
        release, content_changed=True, approval_reset=False, updates_posts=False, awaiting_approval=True
    )


async def describe_changes(
    *, session: AsyncSession, release: Release, patch: ReleasePatch
) -> list[dict[str, str]]:
    """What `patch` would change, field by field, old and new as the approver should read them."""
    fields = patch.model_fields_set
    changes: list[dict[str, str]] = []

    def compare(field: str, old: object, new: object, locale: str = "") -> None:
        before, after = _shown(old), _shown(new)
        if before != after:
            changes.append({"field": field, "locale": locale, "old": before, "new": after})

    for name in ("title", "version", "summary", "notes", "default_locale"):
        if name in fields:
            compare(name, getattr(release, name), getattr(patch, name))
    if "variants" in fields and patch.variants is not None:
        stored = await variants_of(session=session, release_id=release.id)
        for locale in sorted(set(stored) | set(patch.variants)):
            old, new = stored.get(locale), patch.variants.get(locale)
            for name in ("title", "summary", "notes"):
                compare(name, getattr(old, name, None), getattr(new, name, None), locale)
    if "launch_id" in fields:
        compare(
            "launch",
            await launch_name(session=session, team_id=release.team_id, launch_id=release.launch_id),
            await launch_name(session=session, team_id=release.team_id, launch_id=patch.launch_id),
        )
    if "theme_ids" in fields:
        old_ids = await theme_ids_of(session=session, release_id=release.id)
        new_ids = sorted(patch.theme_ids or [])
        titles = await theme_titles(session=session, team_id=release.team_id, theme_ids=old_ids + new_ids)
        compare(
            "themes",
            ", ".join(titles.get(t, f"#{t}") for t in old_ids),
            ", ".join(titles.get(t, f"#{t}") for t in new_ids),
        )
    if fields & AUDIENCE_FIELDS:
        posts = await posts_of(session=session, release_id=release.id)
        current = {p.channel: p.locale for p in posts}
        default = patch.default_locale or release.default_locale
        channels = patch.channels if patch.channels is not None else list(current)
        explicit = {c: loc for c, loc in current.items() if loc != release.default_locale}
        mapping = patch.channel_locales if patch.channel_locales is not None else explicit
        audience = {c: mapping.get(c, default) for c in dict.fromkeys([*channels, *mapping])}
        compare("channels", _audience_text(current), _audience_text(audience))
    if "scheduled_at" in fields:
        old_when = "now" if release.post_when_approved else release.scheduled_at
        compare("when", old_when, patch.scheduled_at)
    return changes


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def _audience_text(audience: dict[str, str]) -> str:
    return ", ".join(f"<#{c}> ({loc})" for c, loc in sorted(audience.items()))


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
    await withdraw_jobs(session=session, release=release, reason="release deleted")
    await session.delete(release)
    await session.flush()
