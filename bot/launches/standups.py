"""Readiness standups: one run per launch per scheduled occurrence, prompts, answers, summaries."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn
from bot.launches import calendar
from bot.launches.launches import LIVE_STATUSES, StatusChange, functions_of, last_score, set_function_status
from bot.launches.readiness import launch_status_after, readiness_score
from bot.scheduler.jobs import enqueue
from models import Area
from models.base import utcnow
from models.launch import (
    FunctionStatus,
    Launch,
    LaunchFunction,
    RunStatus,
    RunTrigger,
    StandupPrompt,
    StandupResponse,
    StandupRun,
)

log = logging.getLogger(__name__)

PROMPT_KIND = "launch.standup_prompt"
REMINDER_KIND = "launch.standup_reminder"
CUTOFF_KIND = "launch.standup_cutoff"
BLOCKED_KIND = "launch.blocked_alert"
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


@dataclass(frozen=True)
class PromptData:
    launch: Launch
    run: StandupRun | None
    user_id: str
    functions: list[LaunchFunction]
    responses: dict[int, StandupResponse]
    days_to_launch: int


@dataclass(frozen=True)
class Summary:
    launch: Launch
    run: StandupRun
    functions: list[LaunchFunction]
    score: int
    previous_score: int | None
    blockers: list[LaunchFunction]
    silent: list[str]  # owners who did not answer for at least one of their functions
    unowned: list[LaunchFunction]
    days_to_launch: int


@dataclass(frozen=True)
class AnswerOutcome:
    change: StatusChange
    run: StandupRun | None
    launch: Launch
    alerted: bool


@dataclass
class Reminder:
    user_id: str
    channel: str | None
    unanswered: list[str] = field(default_factory=list)


def schedule_of(launch: Launch) -> calendar.Schedule:
    return calendar.Schedule(
        weekdays=frozenset(launch.standup_weekdays or []),
        at=calendar.parse_time_of_day(launch.standup_time),
        timezone=launch.timezone,
        holiday_country=launch.holiday_country,
        holiday_subdivision=launch.holiday_subdivision,
    )


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, for ON CONFLICT clauses (both backends spell them alike)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


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
            _insert(session)(StandupRun)
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
    if not any(f.owner for f in await functions_of(session=session, launch_id=launch.id)):
        raise UserError(
            f"No function of *{escape_mrkdwn(launch.name)}* has an owner yet, so there is nobody to ask."
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
    recipients = sorted({f.owner for f in functions if f.owner})
    for user_id in recipients:
        await session.execute(
            _insert(session)(StandupPrompt)
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


async def record_prompt(
    *,
    session: AsyncSession,
    run_id: int,
    user_id: str,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
    reminder: bool = False,
) -> None:
    """Remember where a prompt (or reminder) DM went, or why it could not be delivered."""
    prompt = await session.scalar(
        select(StandupPrompt).where(StandupPrompt.run_id == run_id, StandupPrompt.user_id == user_id)
    )
    if prompt is None:
        return
    if channel:
        prompt.channel = channel
    if reminder:
        prompt.reminder_ts = ts
        prompt.reminded_at = utcnow()
    else:
        prompt.message_ts = ts
        prompt.sent_at = utcnow() if ts else prompt.sent_at
    if error:
        prompt.error = error[:200]


async def prompt_data(
    *,
    session: AsyncSession,
    launch: Launch,
    run: StandupRun | None,
    user_id: str,
    now: datetime | None = None,
) -> PromptData:
    """What one owner's standup DM shows: their functions and this run's answers."""
    return (await prompt_data_for(session=session, launch=launch, run=run, user_ids=[user_id], now=now))[
        user_id
    ]


async def prompt_data_for(
    *,
    session: AsyncSession,
    launch: Launch,
    run: StandupRun | None,
    user_ids: list[str],
    now: datetime | None = None,
) -> dict[str, PromptData]:
    """The standup DM contents of several owners, read in two queries."""
    functions = await functions_of(session=session, launch_id=launch.id)
    responses: dict[int, StandupResponse] = {}
    if run is not None:
        rows = await session.scalars(select(StandupResponse).where(StandupResponse.run_id == run.id))
        responses = {r.function_id: r for r in rows}
    days = calendar.days_until(launch.target_date, now or utcnow(), calendar.zone_of(launch.timezone))
    return {
        user_id: PromptData(
            launch=launch,
            run=run,
            user_id=user_id,
            functions=[
                f for f in functions if f.owner == user_id or (f.owner is None and launch.owner == user_id)
            ],
            responses=responses,
            days_to_launch=days,
        )
        for user_id in user_ids
    }


async def reminders_due(
    *, session: AsyncSession, run_id: int
) -> tuple[StandupRun, Launch, list[Reminder]] | str:
    """Owners prompted in an open run who have not answered for every function they own."""
    run = await session.get(StandupRun, run_id)
    if run is None or run.status != RunStatus.OPEN:
        return "the run is no longer collecting answers"
    launch = await session.get(Launch, run.launch_id)
    if launch is None or launch.status not in LIVE_STATUSES:
        return "the launch is no longer live"
    answered = set(
        (
            await session.scalars(select(StandupResponse.function_id).where(StandupResponse.run_id == run.id))
        ).all()
    )
    functions = await functions_of(session=session, launch_id=launch.id)
    prompts = {
        p.user_id: p
        for p in await session.scalars(
            select(StandupPrompt).where(StandupPrompt.run_id == run.id, StandupPrompt.message_ts.is_not(None))
        )
    }
    waiting: dict[str, Reminder] = {}
    for function in functions:
        prompt = prompts.get(function.owner or "")
        if prompt is None or function.id in answered:
            continue
        reminder = waiting.setdefault(
            prompt.user_id, Reminder(user_id=prompt.user_id, channel=prompt.channel)
        )
        reminder.unanswered.append(function.name)
    return run, launch, list(waiting.values())


async def record_answer(
    *,
    session: AsyncSession,
    function: LaunchFunction,
    status: str,
    by: str,
    note: str | None = None,
    run_id: int | None = None,
    count_as_answer: bool = True,
) -> AnswerOutcome:
    """A function's new status (and note) from a DM button, App Home, the note modal or the API.

    Counts as this standup's answer while a run is open; a Blocked that is new alerts the launch
    owner (and the area owner) through the job queue, keyed by the change so it goes out once.
    """
    launch = await session.get(Launch, function.launch_id)
    assert launch is not None
    change = await set_function_status(session=session, function=function, status=status, by=by, note=note)
    run = await session.get(StandupRun, run_id) if run_id else None
    if run is None or run.status != RunStatus.OPEN or run.launch_id != launch.id:
        run = await open_run(session=session, launch_id=launch.id)
    if run is not None and count_as_answer:
        excluded = _insert(session)(StandupResponse).excluded
        statement = _insert(session)(StandupResponse).values(
            team_id=function.team_id,
            run_id=run.id,
            function_id=function.id,
            user_id=by,
            status=function.status,
            note=function.note,
            responded_at=utcnow(),
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[StandupResponse.run_id, StandupResponse.function_id],
                set_={
                    "status": excluded.status,
                    "note": excluded.note,
                    "user_id": excluded.user_id,
                    "responded_at": excluded.responded_at,
                },
                where=(StandupResponse.status != excluded.status) | (StandupResponse.note != excluded.note),
            )
        )
    alerted = False
    if change.changed:
        statuses = [f.status for f in await functions_of(session=session, launch_id=launch.id)]
        launch.status = launch_status_after(launch.status, statuses)
        if function.status == FunctionStatus.BLOCKED and change.previous != FunctionStatus.BLOCKED:
            alerted = await enqueue(
                session=session,
                team_id=function.team_id,
                kind=BLOCKED_KIND,
                key=f"{function.id}:{function.version}",
                payload={"function_id": function.id, "version": function.version, "by": by},
            )
    return AnswerOutcome(change=change, run=run, launch=launch, alerted=alerted)


def may_answer(*, function: LaunchFunction, launch: Launch, user_id: str) -> bool:
    """Function owners answer for their function; the launch owner may answer for any."""
    return user_id in (function.owner, launch.owner)


async def blocked_alert_recipients(
    *, session: AsyncSession, function: LaunchFunction, launch: Launch, by: str | None
) -> list[str]:
    """The launch owner, and the owner of the area the function maps to when that is someone else."""
    recipients = [launch.owner]
    if function.area_slug:
        area_owner = await session.scalar(
            select(Area.owner).where(Area.team_id == function.team_id, Area.slug == function.area_slug)
        )
        if area_owner and area_owner not in recipients:
            recipients.append(area_owner)
    # Whoever set the status knows already.
    return [r for r in recipients if r and r != by]


async def close_run(*, session: AsyncSession, run_id: int, now: datetime) -> Summary | str:
    """Score the run and mark it closed; a run already closed returns its summary again."""
    run = await session.get(StandupRun, run_id, with_for_update=True)
    if run is None:
        return "the run no longer exists"
    if run.status not in (RunStatus.OPEN, RunStatus.CLOSED):
        return f"the run is {run.status}"
    launch = await session.get(Launch, run.launch_id)
    if launch is None:
        return "the launch no longer exists"
    functions = await functions_of(session=session, launch_id=launch.id)
    if run.status == RunStatus.OPEN:
        run.score = readiness_score(f.status for f in functions)
        run.previous_score = await last_score(session=session, launch_id=launch.id, before_run_id=run.id)
        run.status = RunStatus.CLOSED
        run.closed_at = now
        launch.status = launch_status_after(launch.status, [f.status for f in functions])
    answered = set(
        (
            await session.scalars(select(StandupResponse.function_id).where(StandupResponse.run_id == run.id))
        ).all()
    )
    silent: dict[str, None] = {}
    for function in functions:
        if function.owner and function.id not in answered:
            silent[function.owner] = None
    return Summary(
        launch=launch,
        run=run,
        functions=functions,
        score=run.score if run.score is not None else 0,
        previous_score=run.previous_score,
        blockers=[f for f in functions if f.status == FunctionStatus.BLOCKED],
        silent=list(silent),
        unowned=[f for f in functions if not f.owner],
        days_to_launch=calendar.days_until(launch.target_date, now, calendar.zone_of(launch.timezone)),
    )


async def runs_of(
    *, session: AsyncSession, launch_id: int, after_id: int | None = None, limit: int = 50
) -> list[StandupRun]:
    query = (
        select(StandupRun)
        .where(StandupRun.launch_id == launch_id)
        .order_by(StandupRun.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(StandupRun.id < after_id)
    return list((await session.scalars(query)).all())


async def response_counts(*, session: AsyncSession, run_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    if run_ids:
        for run_id in (
            await session.scalars(select(StandupResponse.run_id).where(StandupResponse.run_id.in_(run_ids)))
        ).all():
            counts[run_id] += 1
    return counts
