"""Launch jobs: plan standups and votes, summarise, alert, announce (the standup DMs and their
reminders: `prompt_jobs`, registered by importing it here)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.analytics.launch_queries import readiness_histories
from bot.analytics.slack import attach_charts_once, send_with_charts
from bot.core.pacing import pacer_for
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.launches import answers, calendar, people, prompt_jobs, standups, summaries
from bot.launches import gonogo as launch_gonogo
from bot.launches.launches import LIVE_STATUSES, matrix
from bot.launches.slack import display_name
from bot.launches.views.charts import readiness_trend
from bot.launches.views.gonogo import result_text, vote_blocks, vote_text
from bot.launches.views.matrix import blocked_alert_blocks, blocked_alert_text, summary_blocks, summary_text
from bot.scheduler.registry import JobContext, SkipJob, job_handler, planner
from bot.slack.blocks import as_dicts
from models.launch import FunctionStatus, GoNoGoDecision, Launch, LaunchFunction, StandupRun

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL_PROBLEMS = {"channel_not_found", "not_in_channel", "is_archived"}


@planner("launches")
async def plan_launch_work(runtime: Runtime, now: datetime) -> None:
    """Every tick: runs due within a day, each person's prompt at their own time, missed runs,
    automatic votes. Slack is asked about people between two transactions, never inside one."""
    async with unit_of_work(runtime.session_factory) as session:
        launches = list((await session.scalars(select(Launch).where(Launch.status.in_(LIVE_STATUSES)))).all())
        for launch in launches:
            await standups.plan_runs(session=session, launch=launch, now=now)
        wanted = await standups.people_to_plan(session=session, launches=launches, now=now)
    known = {
        team_id: await prompt_jobs.people_for(runtime, team_id, users, now=now, max_age=people.TIMEZONE_TTL)
        for team_id, users in wanted.items()
    }
    async with unit_of_work(runtime.session_factory) as session:
        launches = list((await session.scalars(select(Launch).where(Launch.status.in_(LIVE_STATUSES)))).all())
        await standups.plan_all_prompts(session=session, launches=launches, people=known, now=now)
        await standups.mark_missed_runs(session=session, now=now)
        for launch in launches:
            await launch_gonogo.open_automatic_vote(session=session, launch=launch, now=now)


async def _post_to_launch(
    client: AsyncWebClient,
    *,
    launch: Launch,
    key: str,
    text: str,
    blocks: list[Any],
    retried: bool,
) -> dict[str, str]:
    """Post in the launch channel; when that is impossible, DM the launch owner and say why."""
    if launch.channel:
        try:
            return await post_once(
                client,
                channel=launch.channel,
                key=key,
                text=text,
                blocks=blocks or None,
                maybe_posted=retried,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in CHANNEL_PROBLEMS:
                raise
            log.warning("cannot post in %s for launch %s: %s", launch.channel, launch.id, error)
            text = f":warning: I could not post in <#{launch.channel}> ({error}), so here it is.\n{text}"
    return await post_once(
        client, channel=launch.owner, key=key, text=text, blocks=blocks or None, maybe_posted=retried
    )


@job_handler(standups.CUTOFF_KIND)
async def post_standup_summary(ctx: JobContext) -> dict[str, Any]:
    """Close the run and post its summary, with the readiness chart, to the launch channel, once."""
    run_id = int(ctx.job.payload["run_id"])
    async with unit_of_work(ctx.session_factory) as session:
        summary = await summaries.close_run(session=session, run_id=run_id, now=ctx.now)
        if isinstance(summary, str):
            raise SkipJob(summary)
        if summary.run.summary_ts:
            return {"channel": summary.run.summary_channel, "ts": summary.run.summary_ts}
        launch, today = summary.launch, summary.run.local_date
        history = await readiness_histories(
            session=session, team_id=launch.team_id, launch_ids=[launch.id], until=today
        )
        trend_chart = readiness_trend(launch=launch, history=history.get(launch.id, []), today=today)
        blocks = summary_blocks(summary, trend_chart=trend_chart)
        text = summary_text(summary)
    client = await ctx.client()
    attached = await attach_charts_once(ctx, client, blocks)

    async def send(dicts: list[dict[str, Any]]) -> dict[str, str]:
        return await _post_to_launch(
            client,
            launch=summary.launch,
            key=f"standup-summary:{run_id}",
            text=text,
            blocks=dicts,
            retried=ctx.job.attempts > 1,
        )

    posted = await send_with_charts(send, attached)
    async with unit_of_work(ctx.session_factory) as session:
        run = await session.get(StandupRun, run_id)
        if run is not None:
            run.summary_channel, run.summary_ts = posted["channel"], posted["ts"]
    return {**posted, "score": summary.score}


# Slack answers that mean the summary can no longer be edited; retrying will not change that.
UNEDITABLE = {"message_not_found", "cant_update_message", "channel_not_found", "is_archived"}


@job_handler(answers.SUMMARY_UPDATE_KIND)
async def update_standup_summary(ctx: JobContext) -> dict[str, Any]:
    """An answer came after the cut-off: redo the posted summary in place, marking what changed."""
    run_id = int(ctx.job.payload["run_id"])
    async with unit_of_work(ctx.session_factory) as session:
        run = await session.get(StandupRun, run_id)
        if run is None:
            raise SkipJob("the run no longer exists")
        if not (run.summary_channel and run.summary_ts):
            # The cut-off job is posting it right now; the next attempt edits what it posted.
            raise RuntimeError(f"the summary of run {run_id} is not posted yet")
        summary = await summaries.close_run(session=session, run_id=run_id, now=ctx.now, rescore=True)
        if isinstance(summary, str):
            raise SkipJob(summary)
        channel, ts = run.summary_channel, run.summary_ts
        blocks, text = as_dicts(summary_blocks(summary)), summary_text(summary)
    client = await ctx.client()
    await pacer_for(ctx.runtime.http, ctx.job.team_id).wait("chat.update", channel=channel)
    try:
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if str(exc.response.get("error")) in UNEDITABLE:
            raise SkipJob(f"the summary can no longer be edited: {exc.response.get('error')}") from exc
        raise
    return {"channel": channel, "ts": ts, "late": len(summary.late), "score": summary.score}


@job_handler(answers.BLOCKED_KIND)
async def alert_blocked(ctx: JobContext) -> dict[str, Any]:
    """DM the launch owner (and the area's owner) that a function is blocked."""
    payload = ctx.job.payload
    async with unit_of_work(ctx.session_factory) as session:
        function = await session.get(LaunchFunction, int(payload["function_id"]))
        if function is None:
            raise SkipJob("the function no longer exists")
        if function.status != FunctionStatus.BLOCKED and function.version != payload["version"]:
            raise SkipJob("unblocked again before the alert went out")
        launch = await session.get(Launch, function.launch_id)
        assert launch is not None
        recipients = await answers.blocked_alert_recipients(
            session=session, function=function, launch=launch, by=payload.get("by")
        )
        days = calendar.days_until(launch.target_date, ctx.now, calendar.zone_of(launch.timezone))
        text = blocked_alert_text(launch=launch, function=function, by=payload.get("by"), days_to_launch=days)
    client = await ctx.client()
    pacer = pacer_for(ctx.runtime.http, ctx.job.team_id)
    # Whom the launch owner would ask about it: the function's owner, else whoever set Blocked.
    contact_id = function.owner or payload.get("by")
    contact_name = (await display_name(client, contact_id) if contact_id else None) or "the function owner"
    for recipient in recipients:
        contact = (contact_id, contact_name) if contact_id and contact_id != recipient else None
        blocks = blocked_alert_blocks(
            launch=launch, function=function, by=payload.get("by"), days_to_launch=days, contact=contact
        )
        await prompt_jobs.dm(
            client,
            pacer,
            user_id=recipient,
            key=f"blocked:{function.id}:{payload['version']}:{recipient}",
            text=text,
            blocks=as_dicts(blocks),
            retried=ctx.job.attempts > 1,
        )
    return {"alerted": recipients}


async def _vote_message(
    session: Any, decision: GoNoGoDecision, now: datetime
) -> tuple[Launch, str, list[Any], str]:
    """The vote message (text and blocks) and the result line, against today's matrix."""
    tally = await launch_gonogo.tally(session=session, decision=decision)
    board = await matrix(session=session, launch=tally.launch, now=now)
    return (
        tally.launch,
        vote_text(tally, board),
        as_dicts(vote_blocks(tally, board)),
        result_text(tally, board),
    )


@job_handler(launch_gonogo.POST_KIND)
async def post_gonogo_vote(ctx: JobContext) -> dict[str, Any]:
    decision_id = int(ctx.job.payload["decision_id"])
    async with unit_of_work(ctx.session_factory) as session:
        decision = await session.get(GoNoGoDecision, decision_id)
        if decision is None:
            raise SkipJob("the vote no longer exists")
        if decision.message_ts:
            return {"channel": decision.channel, "ts": decision.message_ts}
        launch, text, blocks, _ = await _vote_message(session, decision, ctx.now)
    client = await ctx.client()
    posted = await _post_to_launch(
        client,
        launch=launch,
        key=f"gonogo:{decision_id}",
        text=text,
        blocks=blocks,
        retried=ctx.job.attempts > 1,
    )
    async with unit_of_work(ctx.session_factory) as session:
        await launch_gonogo.record_message(
            session=session, decision_id=decision_id, channel=posted["channel"], ts=posted["ts"]
        )
    return posted


@job_handler(launch_gonogo.RESULT_KIND)
async def announce_gonogo_result(ctx: JobContext) -> dict[str, Any]:
    """Close the vote message and announce the result in the launch channel."""
    decision_id = int(ctx.job.payload["decision_id"])
    async with unit_of_work(ctx.session_factory) as session:
        decision = await session.get(GoNoGoDecision, decision_id)
        if decision is None:
            raise SkipJob("the vote no longer exists")
        launch, text, blocks, announcement = await _vote_message(session, decision, ctx.now)
    client = await ctx.client()
    if decision.channel and decision.message_ts:
        try:
            await client.chat_update(
                channel=decision.channel, ts=decision.message_ts, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            log.warning(
                "could not close go/no-go message %s: %s", decision.message_ts, exc.response.get("error")
            )
    return await _post_to_launch(
        client,
        launch=launch,
        key=f"gonogo-result:{decision_id}",
        text=announcement,
        blocks=[],
        retried=ctx.job.attempts > 1,
    )
