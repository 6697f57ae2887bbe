"""Readiness standups: one run per launch per scheduled occurrence, planned, caught up or skipped,
then opened for answers (DMs and answers: `answers`; the cut-off summary: `summaries`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn
from bot.launches import calendar
from bot.launches._common import dialect_insert
from bot.launches.functions import functions_of, standup_recipients
from bot.launches.launches import LIVE_STATUSES
from bot.scheduler.jobs import enqueue
from models.base import utcnow
from models.launch import Launch, RunStatus, RunTrigger, StandupPrompt, StandupRun

log = logging.getLogger(__name__)

PROMPT_KIND = "launch.standup_prompt"
REMINDER_KIND = "launch.standup_reminder"
CUTOFF_KIND = "launch.standup_cutoff"
# Runs are planned this far ahead (so upcoming work is visible) and looked for this far back
# (so a run missed while no scheduler ran is either caught up today or skipped with a log line).
PLAN_AHEAD = timedelta(hours=24)
LOOK_BACK = timedelta(days=2)
# A summary that could not be posted at the cut-off is still worth posting within this time.
SUMMARY_GRACE = timedelta(hours=12)


@dataclass(frozen=True)
class RunStart:
    """What the prompt job needs: the launch, the run, and whom to prompt."""

    launch: Launch
    run: StandupRun
    recipients: list[str]
    pending: list[str]  # recipients whose DM was not recorded as sent yet


def schedule_of(launch: Launch) -> calendar.Schedule:
    return calendar.Schedule(
        weekdays=frozenset(launch.standup_weekdays or []),
        at=calendar.parse_time_of_day(launch.standup_time),
        timezone=launch.timezone,
        holiday_country=launch.holiday_country,
        holiday_subdivision=launch.holiday_subdivision,
    )


async def plan_runs(*, session: AsyncSession, launch: Launch, now: datetime) -> list[StandupRun]:
    """Create the runs of `launch` due between two days ago and a day ahead, each with its prompt job.

    The (launch, scheduled_for) unique constraint and the job key make this safe to run on every
    tick of every scheduler at once: each occurrence gets exactly one run and one prompt.
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
        if run is None:
            continue
        await enqueue(
            session=session,
            team_id=launch.team_id,
            kind=PROMPT_KIND,
            key=str(run.id),
            run_at=run.scheduled_for,
            expires_at=run.expires_at,
            payload={"run_id": run.id},
        )
        planned.append(run)
    return planned


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
        scheduled_for=now,
        local_date=day,
        expires_at=calendar.end_of_local_day(day, zone),
        trigger=RunTrigger.MANUAL,
        status=RunStatus.SCHEDULED,
        requested_by=by,
    )
    session.add(run)
    await session.flush()
    await enqueue(
        session=session,
        team_id=launch.team_id,
        kind=PROMPT_KIND,
        key=str(run.id),
        run_at=now,
        expires_at=run.expires_at,
        payload={"run_id": run.id},
    )
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


async def begin_run(*, session: AsyncSession, run_id: int, now: datetime) -> RunStart | str:
    """Open a run for answers and list whom to prompt; a string says why the run is skipped.

    Reminder and cut-off are queued from the moment prompting starts, so a run caught up late in
    the day still leaves people the configured time to answer.
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
        running = await open_run(session=session, launch_id=launch.id)
        reason = _why_not_today(launch, run) or (
            "another standup of this launch is still collecting answers" if running else None
        )
        if reason:
            run.status, run.skip_reason = RunStatus.SKIPPED, reason[:200]
            return reason
        run.status = RunStatus.OPEN
        run.prompted_at = now
        started = max(now, run.scheduled_for)
        await enqueue(
            session=session,
            team_id=run.team_id,
            kind=REMINDER_KIND,
            key=str(run.id),
            run_at=started + timedelta(minutes=launch.reminder_after_minutes),
            expires_at=max(
                run.expires_at, started + timedelta(minutes=launch.reminder_after_minutes, hours=2)
            ),
            payload={"run_id": run.id},
        )
        await enqueue(
            session=session,
            team_id=run.team_id,
            kind=CUTOFF_KIND,
            key=str(run.id),
            run_at=started + timedelta(minutes=launch.cutoff_after_minutes),
            expires_at=started + timedelta(minutes=launch.cutoff_after_minutes) + SUMMARY_GRACE,
            payload={"run_id": run.id},
        )
    functions = await functions_of(session=session, launch_id=launch.id)
    recipients = standup_recipients(functions, launch)
    for user_id in recipients:
        await session.execute(
            dialect_insert(session)(StandupPrompt)
            .values(team_id=run.team_id, run_id=run.id, user_id=user_id)
            .on_conflict_do_nothing(index_elements=[StandupPrompt.run_id, StandupPrompt.user_id])
        )
    sent = set(
        (
            await session.scalars(
                select(StandupPrompt.user_id).where(
                    StandupPrompt.run_id == run.id,
                    (StandupPrompt.message_ts.is_not(None)) | (StandupPrompt.error.is_not(None)),
                )
            )
        ).all()
    )
    return RunStart(
        launch=launch, run=run, recipients=recipients, pending=[u for u in recipients if u not in sent]
    )
