"""Feedback jobs: the capture marker, critical alerts, ship notices and the weekly digest."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from bot.analytics.slack import attach_charts_once, send_with_charts
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.feedback.capture import CRITICAL_KIND, MARK_KIND
from bot.feedback.digest import (
    DIGEST_GRACE,
    DIGEST_KIND,
    build_digest,
    next_digest_at,
    teams_with_feedback,
    week_before,
)
from bot.feedback.ship_reports import record_notice
from bot.feedback.themes import SHIP_NOTICE_KIND
from bot.feedback.views.digest import critical_alert, digest
from bot.feedback.views.themes import shipped_dm, shipped_thread_reply
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, SkipJob, Undelivered, job_handler, planner
from bot.slack.blocks import as_dicts
from bot.slack.errors import is_permanent, slack_error
from models import Area, Feedback, FeedbackReporter, Theme, ThemeNotification
from models.base import utcnow
from models.feedback import NotificationStatus

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)


@job_handler(MARK_KIND)
async def mark_captured(ctx: JobContext) -> dict[str, Any]:
    """React to the original message so its channel sees it was logged."""
    async with unit_of_work(ctx.session_factory) as session:
        item = await session.get(Feedback, int(ctx.job.payload["feedback_id"]))
        if item is None or not item.channel or not item.message_ts:
            raise SkipJob("the feedback item or its message is gone")
        channel, ts = item.channel, item.message_ts
    client = await ctx.client()
    try:
        await client.reactions_add(channel=channel, timestamp=ts, name=str(ctx.job.payload["emoji"]))
    except SlackApiError as exc:
        error = slack_error(exc)
        if error != "already_reacted":
            if is_permanent(exc):
                raise SkipJob(f"could not mark the message: {error}") from exc
            raise
    async with unit_of_work(ctx.session_factory) as session:
        await session.execute(
            update(Feedback)
            .where(Feedback.id == int(ctx.job.payload["feedback_id"]))
            .values(marked_at=utcnow())
        )
    return {"channel": channel, "ts": ts}


@job_handler(CRITICAL_KIND)
async def alert_critical(ctx: JobContext) -> dict[str, Any]:
    """Tell the area owner (or the feedback channel) about a critical item."""
    target = str(ctx.job.payload["target"])
    async with unit_of_work(ctx.session_factory) as session:
        item = await session.get(Feedback, int(ctx.job.payload["feedback_id"]))
        if item is None:
            raise SkipJob("the feedback item was deleted")
        area = await session.get(Area, item.area_id) if item.area_id is not None else None
        text, blocks = critical_alert(
            text=item.text,
            area_name=area.name if area else None,
            author=item.author,
            reporter=item.reporter,
            customer=item.customer,
            permalink=item.permalink,
            for_owner=target.startswith(("U", "W")),
        )
    client = await ctx.client()
    try:
        return await post_once(
            client,
            channel=target,
            key=f"{CRITICAL_KIND}:{ctx.job.dedupe_key}",
            text=text,
            blocks=as_dicts(blocks),
            maybe_posted=ctx.job.attempts > 1,
        )
    except SlackApiError as exc:
        if is_permanent(exc):
            raise SkipJob(f"could not alert {target}: {slack_error(exc)}") from exc
        raise


async def _items_of_person(*, session: Any, theme_id: int, user_id: str) -> list[tuple[str, str | None]]:
    reported = select(FeedbackReporter.feedback_id).where(FeedbackReporter.user_id == user_id)
    rows = await session.execute(
        select(Feedback.text, Feedback.permalink)
        .where(Feedback.theme_id == theme_id, or_(Feedback.author == user_id, Feedback.id.in_(reported)))
        .order_by(Feedback.created_at)
        .limit(6)
    )
    return [(text, permalink) for text, permalink in rows]


async def _record_notice(
    ctx: JobContext,
    *,
    status: NotificationStatus,
    channel: str | None = None,
    ts: str | None = None,
    detail: str | None = None,
) -> None:
    async with unit_of_work(ctx.session_factory) as session:
        await record_notice(
            session=session,
            team_id=ctx.job.team_id,
            theme_id=int(ctx.job.payload["theme_id"]),
            target=str(ctx.job.payload["target"]),
            status=status,
            now=utcnow(),
            channel=channel,
            ts=ts,
            detail=detail,
        )


async def ship_notice_undelivered(failed: Undelivered) -> None:
    """The notice stays unsent for good: its record says why, and the theme's report may go out."""
    await record_notice(
        session=failed.session,
        team_id=failed.job.team_id,
        theme_id=int(failed.job.payload["theme_id"]),
        target=str(failed.job.payload["target"]),
        status=NotificationStatus.FAILED,
        now=failed.now,
        detail=failed.error,
    )


@job_handler(SHIP_NOTICE_KIND, undelivered=ship_notice_undelivered)
async def send_ship_notice(ctx: JobContext) -> dict[str, Any]:
    """One thread reply or one DM saying a theme shipped; `post_once` keeps it to one."""
    payload = ctx.job.payload
    theme_id = int(payload["theme_id"])
    async with unit_of_work(ctx.session_factory) as session:
        theme = await session.get(Theme, theme_id)
        notice = await session.scalar(
            select(ThemeNotification).where(
                ThemeNotification.theme_id == theme_id, ThemeNotification.target == str(payload["target"])
            )
        )
        if theme is None:
            raise SkipJob("the theme was deleted")
        if notice is not None and notice.status == NotificationStatus.SENT:
            return {"channel": notice.channel, "ts": notice.ts, "already": "sent"}
        if payload.get("user"):
            channel, thread_ts = str(payload["user"]), None
            items = await _items_of_person(session=session, theme_id=theme_id, user_id=channel)
            text, blocks = shipped_dm(
                theme_title=theme.title,
                release_title=theme.release_title,
                release_link=theme.release_link,
                items=items,
            )
        else:
            channel, thread_ts = str(payload["channel"]), str(payload["thread_ts"])
            text, blocks = shipped_thread_reply(
                theme_title=theme.title, release_title=theme.release_title, release_link=theme.release_link
            )
    # Slack's refusals and outages are the scheduler's to handle (see bot.scheduler.retry).
    posted = await post_once(
        await ctx.client(),
        channel=channel,
        key=str(payload["key"]),
        text=text,
        blocks=as_dicts(blocks),
        thread_ts=thread_ts,
        maybe_posted=ctx.job.attempts > 1,
    )
    await _record_notice(ctx, status=NotificationStatus.SENT, channel=posted["channel"], ts=posted["ts"])
    return posted


@planner("feedback_digest")
async def plan_digests(runtime: Runtime, now: datetime) -> None:
    """Enqueue next week's digest for every workspace with feedback; one job per period."""
    settings = runtime.settings
    if not settings.feedback_channel:
        return
    end = next_digest_at(
        now,
        timezone=settings.switchboard_timezone,
        day=settings.feedback_digest_day,
        at=settings.feedback_digest_time,
    )
    start = week_before(end, timezone=settings.switchboard_timezone)
    async with unit_of_work(runtime.session_factory) as session:
        for team_id in await teams_with_feedback(session=session):
            await enqueue(
                session=session,
                team_id=team_id,
                kind=DIGEST_KIND,
                key=f"{team_id}:{end:%Y-%m-%dT%H:%MZ}",
                run_at=end,
                expires_at=end + DIGEST_GRACE,
                payload={"start": start.isoformat(), "end": end.isoformat()},
            )


@job_handler(DIGEST_KIND)
async def post_digest(ctx: JobContext) -> dict[str, Any]:
    """Post one period's digest to FEEDBACK_CHANNEL, its charts uploaded once however often it is tried."""
    channel = ctx.settings.feedback_channel
    if not channel:
        raise SkipJob("FEEDBACK_CHANNEL is not set")
    start = datetime.fromisoformat(str(ctx.job.payload["start"]))
    end = datetime.fromisoformat(str(ctx.job.payload["end"]))
    async with unit_of_work(ctx.session_factory) as session:
        data = await build_digest(
            session=session,
            team_id=ctx.job.team_id,
            start=start,
            end=end,
            timezone=ctx.settings.switchboard_timezone,
        )
    text, blocks = digest(data)
    client = await ctx.client()
    attached = await attach_charts_once(ctx, client, blocks)

    async def send(dicts: list[dict[str, Any]]) -> dict[str, str]:
        return await post_once(
            client,
            channel=channel,
            key=f"{DIGEST_KIND}:{ctx.job.dedupe_key}",
            text=text,
            blocks=dicts,
            maybe_posted=ctx.job.attempts > 1,
        )

    return await send_with_charts(send, attached)
