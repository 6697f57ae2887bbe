"""The announcement draft a published GitHub release makes: its notes, the themes it ships, owned by
RELEASE_DRAFT_OWNER and sent for approval to RELEASE_DRAFT_APPROVER through the release flow."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.core.text import truncate
from bot.integrations.events import TrackerRelease
from bot.releases import approval as release_approval
from bot.releases import compose as release_compose
from bot.releases import releases as release_service
from bot.releases.schema import NOTES_MAX, TITLE_MAX, VERSION_MAX, ReleaseIn
from bot.scheduler.jobs import enqueue
from models import Release, ReleaseStatus

log = logging.getLogger(__name__)

DRAFT_NOTICE_KIND = "integrations.draft_notice"
DRAFTED_BY = "github"


def release_title(release: TrackerRelease) -> str:
    """`Exports v2.4.0`: the release's name, with its tag unless the name says it already."""
    if release.tag in release.name:
        return release.name
    return f"{release.name} {release.tag}"


async def _audience(*, session: AsyncSession, team_id: str, settings: Settings) -> dict[str, str]:
    """Channel → locale: where the workspace's last announcement went, else FEEDBACK_CHANNEL."""
    last = await session.scalar(
        select(Release.id)
        .where(Release.team_id == team_id, Release.status != ReleaseStatus.CANCELLED)
        .order_by(Release.id.desc())
        .limit(1)
    )
    if last is not None:
        posts = await release_service.posts_of(session=session, release_id=last)
        if posts:
            return {post.channel: post.locale for post in posts}
    return {settings.feedback_channel: "en"} if settings.feedback_channel else {}


async def _drafted_before(*, session: AsyncSession, team_id: str, version: str) -> bool:
    found = await session.scalar(
        select(Release.id).where(
            Release.team_id == team_id,
            Release.version == version,
            Release.status != ReleaseStatus.CANCELLED,
        )
    )
    return found is not None


async def draft_announcement(
    *,
    session: AsyncSession,
    team_id: str,
    release: TrackerRelease,
    theme_ids: list[int],
    settings: Settings,
) -> int:
    """Create the draft and send it for approval (or tell its owner); 1 when a draft was made."""
    owner, approver = settings.release_draft_owner, settings.release_draft_approver
    if not owner:
        log.info("no draft announcement for %s in %s: RELEASE_DRAFT_OWNER is not set", release.tag, team_id)
        return 0
    version = release.tag[:VERSION_MAX].strip()
    if await _drafted_before(session=session, team_id=team_id, version=version):
        log.info("release %s already has an announcement in %s; no second draft", version, team_id)
        return 0
    audience = await _audience(session=session, team_id=team_id, settings=settings)
    if not audience:
        log.info(
            "no draft announcement for %s in %s: no earlier release and no FEEDBACK_CHANNEL", version, team_id
        )
        return 0
    try:
        data = ReleaseIn(
            title=truncate(release_title(release), TITLE_MAX),
            version=version,
            notes=truncate(release.body, NOTES_MAX),
            theme_ids=theme_ids,
            channels=list(audience),
            channel_locales={channel: locale for channel, locale in audience.items() if locale != "en"},
            owner=owner,
            approver=approver,
        )
    except ValidationError as exc:
        log.warning("no draft announcement for %s in %s: %s", version, team_id, exc.errors()[0]["msg"])
        return 0
    draft = await release_compose.create_release(
        session=session,
        team_id=team_id,
        data=data,
        by=DRAFTED_BY,
        default_timezone=settings.switchboard_timezone,
    )
    if approver:
        await release_approval.submit_for_approval(
            session=session, team_id=team_id, release_id=draft.id, by=DRAFTED_BY
        )
    else:
        await enqueue(
            session=session,
            team_id=team_id,
            kind=DRAFT_NOTICE_KIND,
            key=f"release:{draft.id}",
            payload={"release_id": draft.id, "user": owner},
        )
    return 1
