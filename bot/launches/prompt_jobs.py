"""Standup DMs as scheduled work: the prompts due at one moment, and their reminder."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.pacing import SlackPacer, pacer_for
from bot.core.posting import post_once
from bot.core.uow import unit_of_work
from bot.launches import answers, away, people, prompt_reports, prompts, standups, summaries
from bot.launches.views.standup import prompt_blocks, prompt_text
from bot.scheduler.registry import JobContext, SkipJob, job_handler
from bot.slack.blocks import as_dicts
from bot.slack.errors import is_permanent, slack_error
from models.launch import Launch, StandupPerson, StandupRun

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

# DMs in flight at once; the pacer, not this number, decides the rate.
PROMPT_CONCURRENCY = 20


async def send_all(
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


async def dm(
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


async def people_for(
    runtime: Runtime, team_id: str, user_ids: Iterable[str], *, now: datetime, max_age: timedelta
) -> dict[str, StandupPerson]:
    """What Slack says about these people, no older than `max_age`; when Slack cannot be asked,
    what is known (the launch's timezone stands in for an unknown one)."""
    try:
        client = await runtime.client_for_team(team_id)
        return await people.refresh_people(
            client=client,
            pacer=pacer_for(runtime.http, team_id),
            session_factory=runtime.session_factory,
            team_id=team_id,
            user_ids=user_ids,
            now=now,
            max_age=max_age,
        )
    except Exception as exc:  # noqa: BLE001  (a lookup that fails must not stop planning or asking)
        log.warning("could not look people up in %s (%r); using what is known", team_id, exc)
        async with unit_of_work(runtime.session_factory) as session:
            return await people.people_of(session=session, team_id=team_id, user_ids=user_ids)


def _due_of(payload: dict[str, Any]) -> datetime | None:
    due = payload.get("due")
    return datetime.fromisoformat(due) if due else None


@job_handler(prompts.PROMPT_KIND, undelivered=prompt_reports.prompts_undelivered)
async def send_standup_prompts(ctx: JobContext) -> dict[str, Any]:
    """DM everyone of the run whose prompt is due at this moment; each delivery is recorded.

    A person Slack refuses to DM is recorded as undeliverable and the others are still asked; when
    Slack is unreachable the job is tried again, for those not yet asked (see bot.scheduler.retry).
    """
    run_id = int(ctx.job.payload["run_id"])
    due = _due_of(ctx.job.payload)
    async with unit_of_work(ctx.session_factory) as session:
        if due is None:
            # Queued by an earlier version, one job per run: plan it person by person instead.
            run = await session.get(StandupRun, run_id)
            launch = await session.get(Launch, run.launch_id) if run else None
            if run is not None and launch is not None:
                await prompts.plan_prompts(session=session, launch=launch, run=run, people={}, now=ctx.now)
        batch = (
            "planned person by person"
            if due is None
            else await standups.begin_batch(session=session, run_id=run_id, due=due, now=ctx.now)
        )
    # Raised after the commit: a skipped run records why.
    if isinstance(batch, str):
        if due is not None and ctx.job.attempts > 1:
            # An earlier attempt did not reach everyone (Slack was unreachable, or the attempt was
            # cut short): whoever it left will not be asked now, and the launch owner hears.
            async with unit_of_work(ctx.session_factory) as session:
                await prompt_reports.mark_unsent(
                    session=session,
                    team_id=ctx.job.team_id,
                    run_id=run_id,
                    due=due,
                    error=prompt_reports.CLOSED_BEFORE_DELIVERY,
                )
        raise SkipJob(batch)
    known = await people_for(
        ctx.runtime, ctx.job.team_id, batch.users, now=ctx.now, max_age=people.STATUS_TTL
    )
    async with unit_of_work(ctx.session_factory) as session:
        launch, run = await session.get(Launch, batch.launch.id), await session.get(StandupRun, run_id)
        assert launch is not None and run is not None
        gone = await away.set_aside_away(
            session=session, launch=launch, run=run, people=known, user_ids=batch.users, now=ctx.now
        )
        users = [u for u in batch.users if u not in gone]
        contents = await answers.prompt_data_for(
            session=session, launch=launch, run=run, user_ids=users, now=ctx.now
        )
    client = await ctx.client()
    pacer = pacer_for(ctx.runtime.http, ctx.job.team_id)
    undeliverable: list[str] = []

    async def prompt(user_id: str) -> None:
        data = contents[user_id]
        try:
            posted = await dm(
                client,
                pacer,
                user_id=user_id,
                key=f"standup:{run_id}:{user_id}",
                text=prompt_text(data),
                blocks=as_dicts(prompt_blocks(data)),
                retried=ctx.job.attempts > 1,
            )
        except SlackApiError as exc:
            if not is_permanent(exc):
                raise
            undeliverable.append(user_id)
            async with unit_of_work(ctx.session_factory) as session:
                await answers.record_prompt(
                    session=session, run_id=run_id, user_id=user_id, error=slack_error(exc)
                )
            return
        async with unit_of_work(ctx.session_factory) as session:
            await answers.record_prompt(
                session=session, run_id=run_id, user_id=user_id, channel=posted["channel"], ts=posted["ts"]
            )

    await send_all(users, prompt)
    async with unit_of_work(ctx.session_factory) as session:
        await prompt_reports.queue_report(
            session=session, team_id=ctx.job.team_id, run_id=run_id, due=batch.due
        )
    return {"prompted": len(users) - len(undeliverable), "undeliverable": undeliverable, "away": sorted(gone)}


@job_handler(prompts.REMINDER_KIND, delivery=True)
async def send_standup_reminders(ctx: JobContext) -> dict[str, Any]:
    """One reminder to each person of this moment who has not answered yet; the others hear nothing."""
    run_id = int(ctx.job.payload["run_id"])
    async with unit_of_work(ctx.session_factory) as session:
        due = await summaries.reminders_due(session=session, run_id=run_id, due=_due_of(ctx.job.payload))
        if isinstance(due, str):
            raise SkipJob(due)
        run, launch, reminders = due
    waiting = [r.user_id for r in reminders]
    known = await people_for(ctx.runtime, ctx.job.team_id, waiting, now=ctx.now, max_age=people.STATUS_TTL)
    async with unit_of_work(ctx.session_factory) as session:
        # Someone who went away since they were asked is left alone too.
        gone = await away.who_is_away(
            session=session, launch=launch, run=run, people=known, user_ids=waiting, now=ctx.now
        )
        users = [u for u in waiting if u not in gone]
        contents = await answers.prompt_data_for(
            session=session, launch=launch, run=run, user_ids=users, now=ctx.now
        )
    client = await ctx.client()
    pacer = pacer_for(ctx.runtime.http, ctx.job.team_id)

    async def remind(user_id: str) -> None:
        data = contents[user_id]
        try:
            posted = await dm(
                client,
                pacer,
                user_id=user_id,
                key=f"standup-reminder:{run_id}:{user_id}",
                text=prompt_text(data, reminder=True),
                blocks=as_dicts(prompt_blocks(data, reminder=True)),
                retried=ctx.job.attempts > 1,
            )
        except SlackApiError as exc:
            # The prompt itself reached them; a reminder Slack refuses is not worth a word.
            if is_permanent(exc):
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

    await send_all(users, remind)
    async with unit_of_work(ctx.session_factory) as session:
        stored = await session.get(StandupRun, run_id)
        if stored is not None:
            stored.reminded_at = ctx.now
    return {"reminded": users}
