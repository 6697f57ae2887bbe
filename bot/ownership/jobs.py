"""Ownership jobs: announcements, "Still yours?" DMs with one reminder, and the weekly stale report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.core.posting import post_once
from bot.core.text import user_mention
from bot.core.uow import unit_of_work
from bot.ownership.accounts import account_status, sync_owner_accounts, workspace_accounts
from bot.ownership.announcements import (
    ANNOUNCE_KIND,
    IMPORT_SUMMARY_KIND,
    NEEDS_OWNER_KIND,
    STALE_REPORT_KIND,
    stale_listing,
    teams_with_areas,
)
from bot.ownership.confirmation import (
    CONFIRM_KIND,
    NEW_OWNER_KIND,
    REMIND_AFTER,
    REMIND_KIND,
    UNANSWERED_KIND,
    areas_to_ask,
    enqueue_confirmation,
    find_area,
    flag_owner,
    lock_area_owned_by,
    needs_asking,
    record_request,
    still_unanswered,
)
from bot.ownership.unreachable import owner_unreachable_hook
from bot.ownership.views.announcements import owner_change_text, owner_changes_summary
from bot.ownership.views.freshness import (
    AREAS_PER_QUESTION,
    confirm_request,
    confirm_request_text,
    needs_owner_text,
    new_owner_text,
    stale_report,
)
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, SkipJob, job_handler, planner
from bot.slack.blocks import as_dicts
from models import Area, OwnerStatus

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

# The stale report goes out on Mondays at this local time (SWITCHBOARD_TIMEZONE).
REPORT_WEEKDAY = 0
REPORT_TIME = time(9, 0)


def ownership_channel(ctx: JobContext) -> str:
    """Where ownership news goes; without OWNERSHIP_CHANNEL the job is skipped."""
    channel = ctx.settings.ownership_channel
    if not channel:
        raise SkipJob("OWNERSHIP_CHANNEL is not set")
    return channel


async def tell_ownership_channel(
    ctx: JobContext, text: str, blocks: list[Block] | None = None
) -> dict[str, Any]:
    """Post this job's one message to OWNERSHIP_CHANNEL, once however often the job runs."""
    return await post_once(
        await ctx.client(),
        channel=ownership_channel(ctx),
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=as_dicts(blocks) if blocks else None,
        maybe_posted=ctx.job.attempts > 1,
    )


@job_handler(ANNOUNCE_KIND, delivery=True)
async def announce(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.job.payload
    # Jobs queued before changes were grouped per window carry one change and no list.
    changes = payload["changes"] if "changes" in payload else [payload]
    total = int(payload.get("total") or len(changes))
    if total == 0:
        raise SkipJob("no owner changed in this window")
    if total == 1:
        return await tell_ownership_channel(ctx, owner_change_text(changes[0]))
    text, blocks = owner_changes_summary(changes, total)
    return {**await tell_ownership_channel(ctx, text, blocks), "changes": total}


# Owners named in a bulk-import summary; the rest are counted.
SUMMARY_OWNERS = 10


def import_summary_text(payload: dict[str, Any]) -> str:
    owners = sorted(payload["owners"].items(), key=lambda item: (-item[1], item[0]))
    named = ", ".join(f"{user_mention(user)} ({count})" for user, count in owners[:SUMMARY_OWNERS])
    if len(owners) > SUMMARY_OWNERS:
        named += f" and {len(owners) - SUMMARY_OWNERS} more"
    actor = f" by {user_mention(payload['by'])}" if payload.get("by") else ""
    return (
        f":inbox_tray: {payload['count']} new areas were imported from a {payload['source']} file"
        f"{actor}. Owners: {named}. Ask `/whoowns <what>` to find any of them."
    )


@job_handler(IMPORT_SUMMARY_KIND, delivery=True)
async def announce_import(ctx: JobContext) -> dict[str, Any]:
    return await tell_ownership_channel(ctx, import_summary_text(ctx.job.payload))


# ---- "Still yours?" -----------------------------------------------------------------------


@planner("ownership.confirm")
async def plan_confirmations(runtime: Runtime, now: datetime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        due = await areas_to_ask(session=session, now=now)
        owners: dict[tuple[str, str], list[Area]] = {}
        for area in due:
            if area.owner is not None:
                owners.setdefault((area.team_id, area.owner), []).append(area)
        for (team_id, owner), areas in owners.items():
            areas.sort(key=lambda area: (area.name.lower(), area.id))
            await enqueue_confirmation(session=session, team_id=team_id, owner=owner, areas=areas, now=now)


@dataclass(frozen=True)
class _Question:
    team_id: str
    owner: str
    area_ids: tuple[int, ...]

    @classmethod
    def of(cls, ctx: JobContext) -> _Question:
        payload = ctx.job.payload
        # Questions queued before they were grouped per owner name one area.
        ids = payload.get("area_ids") or [payload["area_id"]]
        return cls(ctx.job.team_id, str(payload["owner"]), tuple(int(i) for i in ids))


async def _load(ctx: JobContext, question: _Question) -> list[Area]:
    """The question's areas still owned by its owner, in the order they were listed."""
    async with unit_of_work(ctx.session_factory) as session:
        areas = [
            await find_area(session=session, team_id=question.team_id, area_id=area_id)
            for area_id in question.area_ids
        ]
    return [area for area in areas if area is not None and area.owner == question.owner]


async def _owner_gone(ctx: JobContext, question: _Question, areas: list[Area]) -> OwnerStatus | None:
    """Flag the areas when their owner's account is deactivated or missing; no DM is sent then."""
    status = await account_status(await ctx.client(), question.owner)
    if status == OwnerStatus.ACTIVE:
        return None
    async with unit_of_work(ctx.session_factory) as session:
        for area in areas:
            await flag_owner(
                session=session,
                settings=ctx.settings,
                team_id=question.team_id,
                area_id=area.id,
                owner=question.owner,
                status=status,
            )
    return status


async def _dm_question(
    ctx: JobContext, question: _Question, areas: list[Area], *, reminder: bool
) -> dict[str, Any]:
    """Ask the owner "Still yours?" about `areas` in one DM, once however often the job is retried."""
    return await post_once(
        await ctx.client(),
        channel=question.owner,
        key=f"job:{ctx.job.id}",
        text=confirm_request_text(areas, reminder=reminder),
        blocks=as_dicts(confirm_request(areas, reminder=reminder)),
        maybe_posted=ctx.job.attempts > 1,
    )


def _follow_up(question: _Question, areas: list[Area], requested_at: datetime) -> dict[str, Any]:
    return {
        "owner": question.owner,
        "area_ids": [area.id for area in areas],
        "requested_at": requested_at.isoformat(),
    }


@job_handler(CONFIRM_KIND, undelivered=owner_unreachable_hook)
async def ask_owner(ctx: JobContext) -> dict[str, Any]:
    question = _Question.of(ctx)
    owned = await _load(ctx, question)
    if not owned:
        raise SkipJob("the areas were deleted or changed hands")
    areas = [area for area in owned if needs_asking(area, ctx.now)][:AREAS_PER_QUESTION]
    if not areas:
        raise SkipJob("the owner already answered or was already asked this period")
    gone = await _owner_gone(ctx, question, areas)
    if gone is not None:
        return {"owner_status": gone}
    posted = await _dm_question(ctx, question, areas, reminder=False)
    async with unit_of_work(ctx.session_factory) as session:
        asked = [
            area
            for area in areas
            if await record_request(
                session=session, team_id=question.team_id, area_id=area.id, owner=question.owner, now=ctx.now
            )
        ]
        if asked:
            await enqueue(
                session=session,
                team_id=question.team_id,
                kind=REMIND_KIND,
                key=ctx.job.dedupe_key,
                run_at=ctx.now + REMIND_AFTER,
                payload=_follow_up(question, asked, ctx.now),
            )
    return posted


def _unanswered(areas: list[Area], question: _Question, requested_at: datetime) -> list[Area]:
    return [area for area in areas if still_unanswered(area, question.owner, requested_at)]


@job_handler(REMIND_KIND, undelivered=owner_unreachable_hook)
async def remind_owner(ctx: JobContext) -> dict[str, Any]:
    question = _Question.of(ctx)
    requested_at = datetime.fromisoformat(ctx.job.payload["requested_at"])
    areas = _unanswered(await _load(ctx, question), question, requested_at)
    if not areas:
        raise SkipJob("the owner answered, or the question was superseded")
    gone = await _owner_gone(ctx, question, areas)
    if gone is not None:
        return {"owner_status": gone}
    posted = await _dm_question(ctx, question, areas, reminder=True)
    async with unit_of_work(ctx.session_factory) as session:
        await enqueue(
            session=session,
            team_id=question.team_id,
            kind=UNANSWERED_KIND,
            key=ctx.job.dedupe_key,
            run_at=ctx.now + REMIND_AFTER,
            payload=_follow_up(question, areas, requested_at),
        )
    return posted


@job_handler(UNANSWERED_KIND)
async def flag_unanswered(ctx: JobContext) -> dict[str, Any]:
    question = _Question.of(ctx)
    requested_at = datetime.fromisoformat(ctx.job.payload["requested_at"])
    flagged = 0
    async with unit_of_work(ctx.session_factory) as session:
        for area_id in question.area_ids:
            area = await lock_area_owned_by(
                session=session, team_id=question.team_id, area_id=area_id, owner=question.owner
            )
            if area is not None and still_unanswered(area, question.owner, requested_at):
                area.owner_status = OwnerStatus.UNCONFIRMED
                flagged += 1
    if not flagged:
        raise SkipJob("the owner answered, or the question was superseded")
    return {"owner_status": OwnerStatus.UNCONFIRMED, "flagged": flagged}


# ---- after an answer ----------------------------------------------------------------------


@job_handler(NEW_OWNER_KIND, undelivered=owner_unreachable_hook)
async def welcome_new_owner(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.job.payload
    return await post_once(
        await ctx.client(),
        channel=str(payload["owner"]),
        key=f"job:{ctx.job.id}",
        text=new_owner_text(
            name=str(payload["name"]),
            previous_owner=payload.get("previous_owner"),
            by=payload.get("by"),
            every_days=int(payload.get("confirm_every_days") or 90),
        ),
        maybe_posted=ctx.job.attempts > 1,
    )


@job_handler(NEEDS_OWNER_KIND, delivery=True)
async def announce_needs_owner(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.job.payload
    text = needs_owner_text(
        name=str(payload["name"]),
        slug=str(payload["slug"]),
        owner=str(payload["owner"]),
        by=payload.get("by"),
        reason=str(payload.get("reason") or OwnerStatus.DISOWNED),
    )
    return await tell_ownership_channel(ctx, text)


# ---- the weekly stale report --------------------------------------------------------------


@dataclass(frozen=True)
class ReportWeek:
    label: str
    due: datetime
    ends: datetime


def report_week(now: datetime, timezone: str) -> ReportWeek:
    """The ISO week `now` falls in (locally), when its report is due, and when that week ends."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    year, week, weekday = local.isocalendar()
    monday = local.date() - timedelta(days=weekday - 1)
    due_day = monday + timedelta(days=REPORT_WEEKDAY)
    due = datetime.combine(due_day, REPORT_TIME, tzinfo=zone)
    ends = datetime.combine(monday + timedelta(days=7), time(0, 0), tzinfo=zone)
    return ReportWeek(label=f"{year}-W{week:02d}", due=due, ends=ends)


@planner("ownership.stale_report")
async def plan_stale_reports(runtime: Runtime, now: datetime) -> None:
    if not runtime.settings.ownership_channel:
        return
    week = report_week(now, runtime.settings.switchboard_timezone)
    async with unit_of_work(runtime.session_factory) as session:
        for team_id in await teams_with_areas(session=session):
            await enqueue(
                session=session,
                team_id=team_id,
                kind=STALE_REPORT_KIND,
                key=f"{team_id}:{week.label}",
                run_at=week.due,
                expires_at=week.ends,
                payload={"week": week.label},
            )


@job_handler(STALE_REPORT_KIND, delivery=True)
async def post_stale_report(ctx: JobContext) -> dict[str, Any]:
    channel = ownership_channel(ctx)
    client = await ctx.client()
    # Owners are otherwise checked only when asked to confirm; a weekly sweep catches people
    # who left (or came back) since.
    accounts = await workspace_accounts(client)
    async with unit_of_work(ctx.session_factory) as session:
        flagged, restored = await sync_owner_accounts(
            session=session, settings=ctx.settings, team_id=ctx.job.team_id, accounts=accounts
        )
        listing = await stale_listing(session=session, team_id=ctx.job.team_id)
    if listing.total == 0:
        return {"stale": 0, "flagged": flagged, "restored": restored}
    text, blocks = stale_report(
        by_status=listing.by_status, unowned=listing.unowned, week=str(ctx.job.payload["week"])
    )
    posted = await post_once(
        client,
        channel=channel,
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=as_dicts(blocks),
        maybe_posted=ctx.job.attempts > 1,
    )
    return {**posted, "stale": listing.total, "flagged": flagged, "restored": restored}
