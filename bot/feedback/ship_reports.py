"""Ship notices that could not be delivered: each one's record says so, and once every notice of a
theme has an answer, whoever answers for the theme hears in one message which requesters were not
told and why.

The message goes to the theme's area owner, else to whoever shipped it, else to FEEDBACK_CHANNEL
(never to someone who is among the people not told). Each undelivered notice is reported once: a
report lists the notices it covers, and notices failing after a later ship get a report of their own.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.feedback.views.themes import UnsentNotice, undelivered_ship_notices
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, SkipJob, job_handler
from bot.slack.blocks import as_dicts
from bot.slack.errors import describe
from models import Area, Feedback, Job, Theme, ThemeNotification
from models.feedback import NotificationStatus

log = logging.getLogger(__name__)

UNDELIVERED_KIND = "themes.undelivered_notices"


async def record_notice(
    *,
    session: AsyncSession,
    team_id: str,
    theme_id: int,
    target: str,
    status: NotificationStatus,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    detail: str | None = None,
) -> None:
    """Record how one notice ended; the theme's last one to end queues the report of those that failed."""
    # The theme's row first: notices of one theme ending at once settle one after the other, so
    # exactly one of them sees that none is pending any more.
    await session.execute(
        update(Theme)
        .where(Theme.id == theme_id)
        .values(updated_at=Theme.updated_at)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ThemeNotification)
        .where(ThemeNotification.theme_id == theme_id, ThemeNotification.target == target)
        .values(status=status, channel=channel, ts=ts, detail=detail[:255] if detail else None, sent_at=now)
    )
    await queue_report(session=session, team_id=team_id, theme_id=theme_id)


async def _reported(session: AsyncSession, theme_id: int) -> set[int]:
    """Notices some report of this theme already covers."""
    payloads = await session.scalars(
        select(Job.payload).where(Job.kind == UNDELIVERED_KIND, Job.dedupe_key.startswith(f"{theme_id}:"))
    )
    return {int(i) for payload in payloads for i in (payload or {}).get("notification_ids", [])}


async def queue_report(*, session: AsyncSession, team_id: str, theme_id: int) -> bool:
    """Once no notice of the theme is pending, queue one report of the failed ones not yet reported."""
    rows = (
        await session.execute(
            select(ThemeNotification.id, ThemeNotification.status).where(
                ThemeNotification.theme_id == theme_id
            )
        )
    ).all()
    if any(status == NotificationStatus.PENDING for _, status in rows):
        return False
    failed = {notice_id for notice_id, status in rows if status == NotificationStatus.FAILED}
    unreported = sorted(failed - await _reported(session, theme_id))
    if not unreported:
        return False
    return await enqueue(
        session=session,
        team_id=team_id,
        kind=UNDELIVERED_KIND,
        key=f"{theme_id}:{unreported[0]}",
        payload={"theme_id": theme_id, "notification_ids": unreported},
    )


async def _failed_notices(session: AsyncSession, ids: list[int]) -> list[ThemeNotification]:
    query = (
        select(ThemeNotification)
        .where(ThemeNotification.id.in_(ids), ThemeNotification.status == NotificationStatus.FAILED)
        .order_by(ThemeNotification.id)
    )
    return list((await session.scalars(query)).all())


def _unsent(notice: ThemeNotification, permalink: str | None, window_hours: float) -> UnsentNotice:
    kind, _, rest = notice.target.partition(":")
    error = notice.detail or "unknown_error"
    if kind == "dm":
        reason = describe(error, audience="person", window_hours=window_hours)
        return UnsentNotice(reason=reason, error=error, user=rest)
    channel = rest.partition(":")[0]
    reason = describe(error, audience="channel", window_hours=window_hours)
    return UnsentNotice(reason=reason, error=error, channel=channel, permalink=permalink)


def _is_person(user: str | None) -> bool:
    return bool(user) and str(user).startswith(("U", "W"))


def recipient(
    *, area_owner: str | None, shipped_by: str | None, feedback_channel: str | None, not_told: set[str]
) -> str | None:
    """Who hears about a theme's undelivered notices."""
    for user in (area_owner, shipped_by):
        if user and _is_person(user) and user not in not_told:
            return user
    return feedback_channel


@job_handler(UNDELIVERED_KIND, delivery=True)
async def report_undelivered_notices(ctx: JobContext) -> dict[str, Any]:
    """One message per theme naming the requesters who were not told that it shipped."""
    theme_id = int(ctx.job.payload["theme_id"])
    ids = [int(i) for i in ctx.job.payload["notification_ids"]]
    async with unit_of_work(ctx.session_factory) as session:
        theme = await session.get(Theme, theme_id)
        if theme is None:
            raise SkipJob("the theme was deleted")
        area = await session.get(Area, theme.area_id) if theme.area_id is not None else None
        notices = await _failed_notices(session, ids)
        total = await session.scalar(
            select(func.count()).select_from(ThemeNotification).where(ThemeNotification.theme_id == theme_id)
        )
        items = [n.feedback_id for n in notices if n.feedback_id is not None]
        links = await session.execute(select(Feedback.id, Feedback.permalink).where(Feedback.id.in_(items)))
        permalinks: dict[int | None, str | None] = {row.id: row.permalink for row in links}
        title, area_owner, shipped_by = theme.title, area.owner if area else None, theme.shipped_by
    if not notices:
        raise SkipJob("every notice of this report was delivered since")
    hours = ctx.settings.switchboard_delivery_window_hours
    unsent = [_unsent(n, permalinks.get(n.feedback_id), hours) for n in notices]
    target = recipient(
        area_owner=area_owner,
        shipped_by=shipped_by,
        feedback_channel=ctx.settings.feedback_channel,
        not_told={u.user for u in unsent if u.user},
    )
    if target is None:
        log.warning("theme %s: %s ship notices not delivered and nobody to tell", theme_id, len(unsent))
        raise SkipJob("the theme has no area owner or shipper to tell, and FEEDBACK_CHANNEL is not set")
    text, blocks = undelivered_ship_notices(theme_title=title, total=int(total or 0), unsent=unsent)
    posted = await post_once(
        await ctx.client(),
        channel=target,
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=as_dicts(blocks),
        maybe_posted=ctx.job.attempts > 1,
    )
    return {**posted, "told": target, "undelivered": len(unsent)}
