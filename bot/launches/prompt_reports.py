"""Standup prompts that could not be delivered: each one's row says why, and the launch owner hears
once per prompt moment whose prompt did not arrive (in the launch channel when the launch owner is
among them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.launches import prompts
from bot.launches.functions import answerer_of, functions_of
from bot.launches.views.standup import undelivered_prompts
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, SkipJob, Undelivered, job_handler
from bot.slack.blocks import as_dicts
from bot.slack.errors import describe
from models.launch import Launch, StandupPrompt, StandupRun

UNDELIVERED_KIND = "launch.standup_prompts_undelivered"
# Recorded for a prompt still unsent when its run stopped collecting answers (the cut-off passed
# while Slack was unreachable, the launch was cancelled).
CLOSED_BEFORE_DELIVERY = "closed_before_delivery"


def _moment(payload: dict[str, Any]) -> datetime | None:
    due = payload.get("due")
    return datetime.fromisoformat(str(due)) if due else None


async def _failed_prompts(session: AsyncSession, run_id: int, due: datetime) -> list[StandupPrompt]:
    query = (
        select(StandupPrompt)
        .where(
            StandupPrompt.run_id == run_id,
            StandupPrompt.due_at == due,
            StandupPrompt.message_ts.is_(None),
            StandupPrompt.error.is_not(None),
        )
        .order_by(StandupPrompt.user_id)
    )
    return list((await session.scalars(query)).all())


async def queue_report(*, session: AsyncSession, team_id: str, run_id: int, due: datetime) -> bool:
    """Queue the launch owner's message about this moment's undelivered prompts, if there are any."""
    if not await _failed_prompts(session, run_id, due):
        return False
    return await enqueue(
        session=session,
        team_id=team_id,
        kind=UNDELIVERED_KIND,
        key=prompts.batch_key(run_id, due),
        payload={"run_id": run_id, "due": prompts.whole_second(due).isoformat()},
    )


async def mark_unsent(*, session: AsyncSession, team_id: str, run_id: int, due: datetime, error: str) -> None:
    """The prompts of this moment a job took but did not deliver never will be: their rows say why,
    and the launch owner's report is queued."""
    unsent = await session.scalars(
        select(StandupPrompt).where(
            StandupPrompt.run_id == run_id,
            StandupPrompt.due_at == due,
            StandupPrompt.claimed_at.is_not(None),
            StandupPrompt.message_ts.is_(None),
            StandupPrompt.error.is_(None),
            StandupPrompt.skip_reason.is_(None),
        )
    )
    for prompt in unsent.all():
        prompt.error = error[:200]
    await session.flush()
    await queue_report(session=session, team_id=team_id, run_id=run_id, due=due)


async def prompts_undelivered(failed: Undelivered) -> None:
    """A prompt job failed for good: whoever it had not reached yet is recorded as not reached."""
    due = _moment(failed.job.payload)
    if due is not None:
        await mark_unsent(
            session=failed.session,
            team_id=failed.job.team_id,
            run_id=int(failed.job.payload["run_id"]),
            due=due,
            error=failed.error,
        )


def reason_for(error: str, *, window_hours: float) -> str:
    """Why one person's prompt did not arrive, in words."""
    if error == CLOSED_BEFORE_DELIVERY:
        return "the standup closed before Slack could be reached again"
    return describe(error, audience="person", window_hours=window_hours)


@job_handler(UNDELIVERED_KIND, delivery=True)
async def report_undelivered_prompts(ctx: JobContext) -> dict[str, Any]:
    """Tell the launch owner whose prompt of one moment did not arrive."""
    run_id, due = int(ctx.job.payload["run_id"]), _moment(ctx.job.payload)
    assert due is not None
    async with unit_of_work(ctx.session_factory) as session:
        run = await session.get(StandupRun, run_id)
        launch = await session.get(Launch, run.launch_id) if run is not None else None
        if run is None or launch is None:
            raise SkipJob("the standup run or its launch no longer exists")
        failed = await _failed_prompts(session, run_id, due)
        functions = await functions_of(session=session, launch_id=launch.id)
        name, owner, channel = launch.name, launch.owner, launch.channel
    if not failed:
        raise SkipJob("every prompt of this moment was delivered since")
    hours = ctx.settings.switchboard_delivery_window_hours
    unreached = [
        (
            p.user_id,
            [f.name for f in functions if answerer_of(f, launch) == p.user_id],
            reason_for(p.error or "", window_hours=hours),
            p.error or "",
        )
        for p in failed
    ]
    # The owner is told in person, unless their own prompt is among those that did not arrive.
    target = owner if owner and owner not in {p.user_id for p in failed} else channel
    if not target:
        raise SkipJob("the launch has no owner who can be reached and no channel")
    text, blocks = undelivered_prompts(launch_name=name, unreached=unreached, for_channel=target != owner)
    posted = await post_once(
        await ctx.client(),
        channel=target,
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=as_dicts(blocks),
        maybe_posted=ctx.job.attempts > 1,
    )
    return {**posted, "told": target, "undelivered": [p.user_id for p in failed]}
