"""Launch jobs: plan standups and votes, prompt owners, remind, summarise, alert, announce."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.analytics.queries import readiness_histories
from bot.analytics.slack import attach_charts_once, send_with_charts
from bot.core.pacing import SlackPacer, pacer_for
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.launches import answers, calendar, standups, summaries
from bot.launches import gonogo as launch_gonogo
from bot.launches.launches import LIVE_STATUSES, matrix
from bot.launches.views.charts import readiness_trend
from bot.launches.views.gonogo import result_text, vote_blocks, vote_text
from bot.launches.views.matrix import blocked_alert_text, summary_blocks, summary_text
from bot.launches.views.standup import prompt_blocks, prompt_text
from bot.scheduler.registry import JobContext, SkipJob, job_handler, planner
from bot.slack.blocks import as_dicts
from models.launch import FunctionStatus, GoNoGoDecision, Launch, LaunchFunction, StandupRun

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

# DMs in flight at once; the pacer, not this number, decides the rate.
PROMPT_CONCURRENCY = 20
# Slack answers that retrying cannot fix: the person is gone or cannot be messaged.
UNDELIVERABLE = {
    "user_not_found",
    "user_disabled",
    "channel_not_found",
    "cannot_dm_bot",
    "not_allowed_token_type",
}
CHANNEL_PROBLEMS = {"channel_not_found", "not_in_channel", "is_archived"}


@planner("launches")
async def plan_launch_work(runtime: Runtime, now: datetime) -> None:
    """Every tick: runs due within a day (each with its prompt job), missed runs, automatic votes."""
    async with unit_of_work(runtime.session_factory) as session:
        await standups.mark_missed_runs(session=session, now=now)
        launches = (await session.scalars(select(Launch).where(Launch.status.in_(LIVE_STATUSES)))).all()
        for launch in launches:
            await standups.plan_runs(session=session, launch=launch, now=now)
            await launch_gonogo.open_automatic_vote(session=session, launch=launch, now=now)


async def _send_all(
    users: list[str], send: Callable[[str], Awaitable[None]], *, concurrency: int = PROMPT_CONCURRENCY
) -> None:
    """Run `send` for every user, a bounded number at a time; the first failure is raised at the end."""
    gate = asyncio.Semaphore(concurrency)

    async def one(user_id: str) -> None:
        async with gate:
            await send(user_id)

    results = await asyncio.gather(*(one(u) for u in users), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]


async def _dm(
    client: AsyncWebClient,
    pacer: SlackPacer,
    *,
    user_id: str,
    key: str,
    text: str,
    blocks: list[Any],
    retried: bool,
) -> dict[str, str]:
    await pacer.wait("chat.postMessage", channel=user_id)
    return await post_once(
        client, channel=user_id, key=key, text=text, blocks=blocks or None, maybe_posted=retried
    )


@job_handler(standups.PROMPT_KIND)
async def send_standup_prompts(ctx: JobContext) -> dict[str, Any]:
    """DM every function owner of the run; each delivery is recorded as it happens."""
    run_id = int(ctx.job.payload["run_id"])
    async with unit_of_work(ctx.session_factory) as session:
        start = await standups.begin_run(session=session, run_id=run_id, now=ctx.now)
        if not isinstance(start, str):
            contents = await answers.prompt_data_for(
                session=session, launch=start.launch, run=start.run, user_ids=start.pending, now=ctx.now
            )
    # Raised after the commit: a skipped run records why.
    if isinstance(start, str):
        raise SkipJob(start)
    client = await ctx.client()
    pacer = pacer_for(ctx.runtime.http, ctx.job.team_id)
    undeliverable: list[str] = []

    async def prompt(user_id: str) -> None:
        data = contents[user_id]
        try:
            posted = await _dm(
                client,
                pacer,
                user_id=user_id,
                key=f"standup:{run_id}:{user_id}",
                text=prompt_text(data),
                blocks=as_dicts(prompt_blocks(data)),
                retried=ctx.job.attempts > 1,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in UNDELIVERABLE:
                raise
            undeliverable.append(user_id)
            async with unit_of_work(ctx.session_factory) as session:
                await answers.record_prompt(session=session, run_id=run_id, user_id=user_id, error=error)
            return
        async with unit_of_work(ctx.session_factory) as session:
            await answers.record_prompt(
                session=session, run_id=run_id, user_id=user_id, channel=posted["channel"], ts=posted["ts"]
            )

    await _send_all(start.pending, prompt)
    return {
        "prompted": len(start.pending) - len(undeliverable),
        "undeliverable": undeliverable,
        "owners": len(start.recipients),
    }


@job_handler(standups.REMINDER_KIND)
async def send_standup_reminders(ctx: JobContext) -> dict[str, Any]:
    """One reminder to each owner who has not answered yet; those who answered hear nothing."""
    run_id = int(ctx.job.payload["run_id"])
    async with unit_of_work(ctx.session_factory) as session:
        due = await summaries.reminders_due(session=session, run_id=run_id)
        if isinstance(due, str):
            raise SkipJob(due)
        run, launch, reminders = due
        users = [r.user_id for r in reminders]
        contents = await answers.prompt_data_for(
            session=session, launch=launch, run=run, user_ids=users, now=ctx.now
        )
    client = await ctx.client()
    pacer = pacer_for(ctx.runtime.http, ctx.job.team_id)

    async def remind(user_id: str) -> None:
        data = contents[user_id]
        try:
            posted = await _dm(
                client,
                pacer,
                user_id=user_id,
                key=f"standup-reminder:{run_id}:{user_id}",
                text=prompt_text(data, reminder=True),
                blocks=as_dicts(prompt_blocks(data, reminder=True)),
                retried=ctx.job.attempts > 1,
            )
        except SlackApiError as exc:
            if str(exc.response.get("error")) in UNDELIVERABLE:
                return
            raise
        async with unit_of_work(ctx.session_factory) as session:
            await answers.record_prompt(
                session=session,
                run_id=run_id,
                user_id=user_id,
                channel=posted["channel"],
                ts=posted["ts"],
                reminder=True,
            )

    await _send_all(users, remind)
    async with unit_of_work(ctx.session_factory) as session:
        stored = await session.get(StandupRun, run_id)
        if stored is not None:
            stored.reminded_at = ctx.now
    return {"reminded": users}


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
    for recipient in recipients:
        await _dm(
            client,
            pacer,
            user_id=recipient,
            key=f"blocked:{function.id}:{payload['version']}:{recipient}",
            text=text,
            blocks=[],
            retried=ctx.job.attempts > 1,
        )
    return {"alerted": recipients}


async def _vote_message(
    session: Any, decision: GoNoGoDecision, now: datetime
) -> tuple[Launch, str, list[Any]]:
    tally = await launch_gonogo.tally(session=session, decision=decision)
    board = await matrix(session=session, launch=tally.launch, now=now)
    return tally.launch, vote_text(tally), as_dicts(vote_blocks(tally, board))


@job_handler(launch_gonogo.POST_KIND)
async def post_gonogo_vote(ctx: JobContext) -> dict[str, Any]:
    decision_id = int(ctx.job.payload["decision_id"])
    async with unit_of_work(ctx.session_factory) as session:
        decision = await session.get(GoNoGoDecision, decision_id)
        if decision is None:
            raise SkipJob("the vote no longer exists")
        if decision.message_ts:
            return {"channel": decision.channel, "ts": decision.message_ts}
        launch, text, blocks = await _vote_message(session, decision, ctx.now)
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
        launch, text, blocks = await _vote_message(session, decision, ctx.now)
        tally = await launch_gonogo.tally(session=session, decision=decision)
        announcement = result_text(tally)
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
