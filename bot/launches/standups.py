"""Readiness standups: one run per launch per scheduled occurrence, planned, caught up or skipped,
then opened for answers as each person's prompt falls due (when each person is asked: `prompts`;
DMs and answers: `answers`; the cut-off summary: `summaries`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn
from bot.launches import calendar, prompts
from bot.launches._common import dialect_insert
from bot.launches.functions import functions_of, standup_recipients
from bot.launches.launches import LIVE_STATUSES
from bot.launches.prompts import CUTOFF_KIND, PROMPT_KIND, REMINDER_GRACE, REMINDER_KIND
from bot.scheduler.jobs import enqueue
from models.base import utcnow
from models.launch import Launch, RunStatus, RunTrigger, StandupPerson, StandupPrompt, StandupRun

log = logging.getLogger(__name__)

__all__ = ["CUTOFF_KIND", "PROMPT_KIND", "REMINDER_KIND"]
# Runs are planned this far ahead (so upcoming work is visible) and looked for this far back
# (so a run missed while no scheduler ran is either caught up today or skipped with a log line).
PLAN_AHEAD = timedelta(hours=24)
LOOK_BACK = timedelta(days=2)


@dataclass(frozen=True)
class Batch:
    """What one prompt job sends: the people of a run whose prompt is due at one moment."""

    launch: Launch
    run: StandupRun
    due: datetime
    users: list[str]  # not sent yet (a retried job lists again whom it had not recorded)


def schedule_of(launch: Launch) -> calendar.Schedule:
    return calendar.Schedule(
        weekdays=frozenset(launch.standup_weekdays or []),
        at=calendar.parse_time_of_day(launch.standup_time),
        timezone=launch.timezone,
        holiday_country=launch.holiday_country,
        holiday_subdivision=launch.holiday_subdivision,
    )


async def plan_runs(*, session: AsyncSession, launch: Launch, now: datetime) -> list[StandupRun]:
    """Create the runs of `launch` due between two days ago and a day ahead (whom each asks, and
    when, is `prompts.plan_prompts`).

    The (launch, scheduled_for) unique constraint makes this safe to run on every tick of every
    scheduler at once: each occurrence gets exactly one run.
    """
    if not launch.standups_enabled or launch.status not in LIVE_STATUSES:
        return []
    schedule = schedule_of(launch)
    start = max(now - LOOK_BACK, launch.created_at)
    occurrences = [
        o
        for o in calendar.occurrences_between(schedule, start, now + PLAN_AHEAD)
        if o.local_date <= launch.target_date
    ]
    if not occurrences:
        return []
    existing = set(
        (
            await session.scalars(
                select(StandupRun.scheduled_for).where(
                    StandupRun.launch_id == launch.id,
                    StandupRun.scheduled_for >= occurrences[0].scheduled_for,
                    StandupRun.scheduled_for <= occurrences[-1].scheduled_for,
                )
            )
        ).all()
    )
    planned: list[StandupRun] = []
    for occurrence in occurrences:
        if occurrence.scheduled_for in existing:
            continue
        await session.execute(
            dialect_insert(session)(StandupRun)
            .values(
                team_id=launch.team_id,
                launch_id=launch.id,
                scheduled_for=occurrence.scheduled_for,
                local_date=occurrence.local_date,
                expires_at=occurrence.expires_at,
                trigger=RunTrigger.SCHEDULE,
                status=RunStatus.SCHEDULED,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[StandupRun.launch_id, StandupRun.scheduled_for])
        )
        run = await session.scalar(
            select(StandupRun).where(
                StandupRun.launch_id == launch.id, StandupRun.scheduled_for == occurrence.scheduled_for
            )
        )
        if run is not None:
            planned.append(run)
    return planned


async def active_runs(*, session: AsyncSession, launch: Launch, now: datetime) -> list[StandupRun]:
    """The launch's runs still to ask people in: planned or open, their last day not over."""
    query = select(StandupRun).where(
        StandupRun.launch_id == launch.id,
        StandupRun.status.in_([RunStatus.SCHEDULED, RunStatus.OPEN]),
        StandupRun.expires_at > now - LOOK_BACK,
    )
    return list((await session.scalars(query.order_by(StandupRun.scheduled_for))).all())


async def people_to_plan(
    *, session: AsyncSession, launches: list[Launch], now: datetime
) -> dict[str, set[str]]:
    """Per workspace, everyone an active run asks: whose timezone planning needs."""
    wanted: dict[str, set[str]] = {}
    for launch in launches:
        if await active_runs(session=session, launch=launch, now=now):
            functions = await functions_of(session=session, launch_id=launch.id)
            wanted.setdefault(launch.team_id, set()).update(standup_recipients(functions, launch))
    return wanted


async def plan_all_prompts(
    *,
    session: AsyncSession,
    launches: list[Launch],
    people: dict[str, dict[str, StandupPerson]],
    now: datetime,
) -> None:
    """Every active run's prompts, at each person's moment."""
    for launch in launches:
        for run in await active_runs(session=session, launch=launch, now=now):
            await prompts.plan_prompts(
                session=session, launch=launch, run=run, people=people.get(launch.team_id, {}), now=now
            )


async def mark_missed_runs(*, session: AsyncSession, now: datetime) -> int:
    """Runs whose local day ended before any scheduler prompted them are recorded as missed."""
    missed = list(
        (
            await session.scalars(
                select(StandupRun).where(
                    StandupRun.status == RunStatus.SCHEDULED, StandupRun.expires_at < now
                )
            )
        ).all()
    )
    for run in missed:
        log.info(
            "standup run %s of launch %s (%s) was missed while no scheduler ran; skipping it",
            run.id,
            run.launch_id,
            run.local_date,
        )
        run.status = RunStatus.MISSED
        run.skip_reason = "missed while no scheduler ran; the day was over"
    return len(missed)


async def drop_future_runs(*, session: AsyncSession, launch: Launch, now: datetime) -> int:
    """Forget planned runs that have not started (the schedule changed); their jobs then skip."""
    result = await session.execute(
        update(StandupRun)
        .where(
            StandupRun.launch_id == launch.id,
            StandupRun.status == RunStatus.SCHEDULED,
            StandupRun.scheduled_for > now,
        )
        .values(status=RunStatus.SKIPPED, skip_reason="the standup schedule changed")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def open_run(*, session: AsyncSession, launch_id: int) -> StandupRun | None:
    """The launch's standup that is collecting answers, if any."""
    return await session.scalar(
        select(StandupRun)
        .where(StandupRun.launch_id == launch_id, StandupRun.status == RunStatus.OPEN)
        .order_by(StandupRun.scheduled_for.desc())
        .limit(1)
    )


async def start_manual_run(*, session: AsyncSession, launch: Launch, now: datetime, by: str) -> StandupRun:
    """`/launch standup`: a run now, outside the schedule."""
    if launch.status not in LIVE_STATUSES:
        raise UserError(
            f"*{escape_mrkdwn(launch.name)}* is {launch.status}; standups only run for live launches."
        )
    running = await open_run(session=session, launch_id=launch.id)
    if running is not None:
        raise UserError(
            f"A standup for *{escape_mrkdwn(launch.name)}* is already collecting answers; "
            "its summary is posted at the cut-off."
        )
    starting = await session.scalar(
        select(StandupRun.id).where(
            StandupRun.launch_id == launch.id,
            StandupRun.status == RunStatus.SCHEDULED,
            StandupRun.trigger == RunTrigger.MANUAL,
        )
    )
    if starting is not None:
        raise UserError(f"A standup for *{escape_mrkdwn(launch.name)}* is starting right now.")
    if not await functions_of(session=session, launch_id=launch.id):
        raise UserError(
            f"*{escape_mrkdwn(launch.name)}* has no functions yet, so there is nothing to ask about."
        )
    zone = calendar.zone_of(launch.timezone)
    day = calendar.local_date(now, zone)
    run = StandupRun(
        team_id=launch.team_id,
        launch_id=launch.id,
        scheduled_for=prompts.whole_second(now),
        local_date=day,
        expires_at=calendar.end_of_local_day(day, zone),
        trigger=RunTrigger.MANUAL,
        status=RunStatus.SCHEDULED,
        requested_by=by,
    )
    session.add(run)
    await session.flush()
    await prompts.plan_prompts(session=session, launch=launch, run=run, people={}, now=now)
    return run


def _why_not_today(launch: Launch, run: StandupRun) -> str | None:
    if launch.status not in LIVE_STATUSES:
        return f"launch is {launch.status}"
    if run.trigger == RunTrigger.MANUAL:
        return None
    if not launch.standups_enabled:
        return "standups are turned off for this launch"
    schedule = schedule_of(launch)
    reason = calendar.skip_reason(schedule, run.local_date)
    if reason:
        return reason
    if calendar.occurrence_on(schedule, run.local_date).scheduled_for != run.scheduled_for:
        return "the standup schedule changed"
    return None


async def begin_batch(*, session: AsyncSession, run_id: int, due: datetime, now: datetime) -> Batch | str:
    """Open the run (at its first prompt) and take the prompts due at `due`; a string says why not.

    The reminder of these prompts and the run's cut-off are queued from the moment they go out, so
    prompts caught up late still leave people the configured time to answer.
    """
    run = await session.get(StandupRun, run_id, with_for_update=True)
    if run is None:
        return "the run no longer exists"
    launch = await session.get(Launch, run.launch_id)
    if launch is None:
        return "the launch no longer exists"
    if run.status in (RunStatus.SKIPPED, RunStatus.MISSED, RunStatus.CLOSED):
        return f"the run is {run.status}"
    if run.status == RunStatus.SCHEDULED:
        reason = _why_not_today(launch, run)
        if reason:
            run.status, run.skip_reason = RunStatus.SKIPPED, reason[:200]
            return reason
        run.status = RunStatus.OPEN
        run.prompted_at = now
    recipients = set(standup_recipients(await functions_of(session=session, launch_id=launch.id), launch))
    rows = (
        await session.scalars(
            select(StandupPrompt).where(
                StandupPrompt.run_id == run.id,
                StandupPrompt.due_at == due,
                StandupPrompt.message_ts.is_(None),
                StandupPrompt.error.is_(None),
                StandupPrompt.skip_reason.is_(None),
            )
        )
    ).all()
    users: list[str] = []
    for prompt in rows:
        if prompt.user_id not in recipients:
            prompt.skip_reason = "no longer answers for a function of this launch"
            continue
        prompt.claimed_at = prompt.claimed_at or now
        users.append(prompt.user_id)
    if users:
        started = max(now, due)
        remind_at = started + timedelta(minutes=launch.reminder_after_minutes)
        expiries = [p.expires_at for p in rows if p.expires_at is not None]
        await enqueue(
            session=session,
            team_id=run.team_id,
            kind=REMINDER_KIND,
            key=prompts.batch_key(run.id, due),
            run_at=remind_at,
            expires_at=max([remind_at + REMINDER_GRACE, *expiries]),
            payload={"run_id": run.id, "due": prompts.whole_second(due).isoformat()},
        )
        await prompts.schedule_cutoff(session=session, launch=launch, run=run, start=started)
    return Batch(launch=launch, run=run, due=due, users=sorted(users))
