"""Tracker jobs: apply a delivery's events, tell area owners and draft owners, forget old deliveries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, update

from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.integrations.decisions import tracked_theme
from bot.integrations.drafts import DRAFT_NOTICE_KIND
from bot.integrations.intake import NO_WORKSPACE, TRACKER_EVENTS_KIND, event_from_payload
from bot.integrations.movement import OWNER_NOTICE_KIND, apply_events
from bot.integrations.views import decline_question, draft_ready, theme_done
from bot.releases.compose import get_release, posts_of
from bot.releases.views.compose import preview_controls
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, SkipJob, job_handler, planner
from bot.slack.blocks import as_dicts
from bot.slack.errors import is_permanent, slack_error
from models import ReleaseStatus, Theme, ThemeLink, WebhookDelivery
from models.base import utcnow
from models.feedback import ThemeStatus
from models.integration import Provider

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

PRUNE_KIND = "integrations.prune_deliveries"
# GitHub offers redelivery of the last 3 days' deliveries; Linear and Jira retry for hours.
KEEP_DELIVERIES = timedelta(days=30)
_NOTICE_STATUS = {"done": ThemeStatus.DONE, "shipped": ThemeStatus.SHIPPED}


@job_handler(TRACKER_EVENTS_KIND)
async def apply_delivery(ctx: JobContext) -> dict[str, Any]:
    """Move the themes a delivery's events are about, in one transaction with the delivery's mark.

    The mark (`processed_at`) is set only if unset, in the same transaction as every effect: a job
    run again after a crash, or by a second scheduler, finds it set and does nothing.
    """
    payload = ctx.job.payload
    provider, delivery_id = Provider(payload["provider"]), str(payload["delivery_id"])
    events = [
        event_from_payload(provider=provider, delivery_id=delivery_id, data=data)
        for data in payload["events"]
    ]
    async with unit_of_work(ctx.session_factory) as session:
        marked = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.provider == provider,
                WebhookDelivery.delivery_id == delivery_id,
                WebhookDelivery.processed_at.is_(None),
            )
            .values(processed_at=utcnow())
        )
        if not getattr(marked, "rowcount", 0):
            raise SkipJob(f"{provider} delivery {delivery_id} was applied already")
        tally = await apply_events(session=session, events=events, settings=ctx.settings)
    ctx.runtime.wake_scheduler()
    return tally


@job_handler(OWNER_NOTICE_KIND)
async def tell_area_owner(ctx: JobContext) -> dict[str, Any]:
    """One DM to the theme's area owner (or FEEDBACK_CHANNEL when the area has none): done, or
    closed as not planned with Decline / Keep open."""
    payload = ctx.job.payload
    notice = str(payload["notice"])
    async with unit_of_work(ctx.session_factory) as session:
        theme = await session.get(Theme, int(payload["theme_id"]))
        if theme is None:
            raise SkipJob("the theme was deleted")
        expected = _NOTICE_STATUS.get(notice)
        if expected is not None and theme.status != expected:
            raise SkipJob(f"theme {theme.id} is {theme.status} now, not {expected}")
        if notice == "not_planned" and theme.status in (ThemeStatus.SHIPPED, ThemeStatus.DECLINED):
            raise SkipJob(f"theme {theme.id} is {theme.status} already")
        tracked, area = await tracked_theme(session=session, theme=theme)
        target = (area.owner if area else None) or ctx.settings.feedback_channel
        if not target:
            raise SkipJob(f"theme {theme.id} has no area owner and FEEDBACK_CHANNEL is not set")
        for_owner = target.startswith(("U", "W"))
        if notice == "not_planned":
            link = await session.get(ThemeLink, int(payload["link_id"]))
            if link is None:
                raise SkipJob("the tracker link was removed")
            text, blocks = decline_question(tracked, key=link.key, url=link.url, for_owner=for_owner)
        else:
            text, blocks = theme_done(tracked, shipped=notice == "shipped", for_owner=for_owner)
    return await _post(ctx, channel=target, text=text, blocks=as_dicts(blocks))


@job_handler(DRAFT_NOTICE_KIND)
async def tell_draft_owner(ctx: JobContext) -> dict[str, Any]:
    """The owner of a draft made from a GitHub release, when nobody is set to approve it."""
    payload = ctx.job.payload
    async with unit_of_work(ctx.session_factory) as session:
        release = await get_release(
            session=session, team_id=ctx.job.team_id, release_id=int(payload["release_id"])
        )
        if release.status != ReleaseStatus.DRAFT:
            raise SkipJob(f"release #{release.id} is {release.status} already")
        _text, controls = preview_controls(release, await posts_of(session=session, release_id=release.id))
        text, blocks = draft_ready(release.id, release.version or release.title, controls)
    return await _post(ctx, channel=str(payload["user"]), text=text, blocks=blocks)


async def _post(ctx: JobContext, *, channel: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await post_once(
            await ctx.client(),
            channel=channel,
            key=f"{ctx.job.kind}:{ctx.job.dedupe_key}",
            text=text,
            blocks=blocks,
            maybe_posted=ctx.job.attempts > 1,
        )
    except SlackApiError as exc:
        if is_permanent(exc):
            raise SkipJob(f"could not tell {channel}: {slack_error(exc)}") from exc
        raise


@planner("integrations")
async def plan_pruning(runtime: Runtime, now: datetime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await enqueue(
            session=session, team_id=NO_WORKSPACE, kind=PRUNE_KIND, key=f"{now:%Y-%m-%d}", run_at=now
        )


@job_handler(PRUNE_KIND)
async def prune_deliveries(ctx: JobContext) -> dict[str, int]:
    """Forget deliveries too old for any tracker to send again."""
    async with unit_of_work(ctx.session_factory) as session:
        removed = await session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.received_at < ctx.now - KEEP_DELIVERIES,
                WebhookDelivery.processed_at.is_not(None),
            )
        )
    return {"removed": int(getattr(removed, "rowcount", 0) or 0)}
