"""Each person's standup prompt: due at the launch's standup time in their own timezone, one row
per person per run, and one job per moment prompts fall due (so the people of one timezone are
asked together, and a manual standup asks everyone at once).

A row's `due_at` may move (a timezone learnt or changed) until the job of its moment claims it;
from then on only that job sends it. Job keys name the run and the moment, so any number of
planners and schedulers queue each moment once, and a row is only ever in one job's hands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.launches import calendar
from bot.launches._common import dialect_insert
from bot.launches.functions import functions_of, standup_recipients
from bot.scheduler.jobs import enqueue
from models import Job, JobStatus
from models.launch import Launch, RunTrigger, StandupPerson, StandupPrompt, StandupRun

PROMPT_KIND = "launch.standup_prompt"
REMINDER_KIND = "launch.standup_reminder"
CUTOFF_KIND = "launch.standup_cutoff"
# A summary that could not be posted at the cut-off is still worth posting within this time.
SUMMARY_GRACE = timedelta(hours=12)
# A reminder caught up late is still sent this long after it was due.
REMINDER_GRACE = timedelta(hours=2)


@dataclass(frozen=True)
class PromptPlan:
    user_id: str
    due_at: datetime
    expires_at: datetime
    timezone: str


def whole_second(moment: datetime) -> datetime:
    """Moments name jobs to the second, so they are kept to the second."""
    return moment.astimezone(UTC).replace(microsecond=0)


def batch_key(run_id: int, due: datetime) -> str:
    return f"{run_id}:{whole_second(due):%Y%m%dT%H%M%SZ}"


def timezone_of(person: StandupPerson | None, launch: Launch) -> str:
    """The person's own timezone when Slack told us one that is usable, else the launch's."""
    if person is not None and person.timezone:
        try:
            calendar.zone_of(person.timezone)
            return person.timezone
        except calendar.CalendarError:
            pass
    return launch.timezone


def plan_for(run: StandupRun, launch: Launch, user_id: str, person: StandupPerson | None) -> PromptPlan:
    """When `user_id` is asked in `run`: a manual run asks everyone when it starts."""
    zone_name = timezone_of(person, launch)
    if run.trigger == RunTrigger.MANUAL:
        return PromptPlan(user_id, whole_second(run.scheduled_for), run.expires_at, zone_name)
    zone, launch_zone = calendar.zone_of(zone_name), calendar.zone_of(launch.timezone)
    at = calendar.parse_time_of_day(launch.standup_time)
    due = calendar.person_prompt_at(run.local_date, at, zone, launch_zone)
    expires = calendar.person_expires_at(run.local_date, due, zone, launch_zone)
    return PromptPlan(user_id, due, expires, zone_name)


def still_movable(prompt: StandupPrompt) -> bool:
    """Not yet in a job's hands, sent, undeliverable or skipped."""
    return (
        prompt.claimed_at is None
        and prompt.message_ts is None
        and prompt.error is None
        and prompt.skip_reason is None
    )


async def move_job(
    *, session: AsyncSession, kind: str, key: str, run_at: datetime, expires_at: datetime | None
) -> None:
    """Give pending work a new time (running or finished work is left alone)."""
    await session.execute(
        update(Job)
        .where(Job.kind == kind, Job.dedupe_key == key, Job.status == JobStatus.PENDING)
        .values(run_at=run_at, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def schedule_cutoff(*, session: AsyncSession, launch: Launch, run: StandupRun, start: datetime) -> None:
    """The summary waits the cut-off time after `start` (a prompt's moment); it only ever moves later."""
    cutoff = whole_second(start) + timedelta(minutes=launch.cutoff_after_minutes)
    if run.cutoff_at is not None and cutoff <= run.cutoff_at:
        return
    run.cutoff_at = cutoff
    added = await enqueue(
        session=session,
        team_id=run.team_id,
        kind=CUTOFF_KIND,
        key=str(run.id),
        run_at=cutoff,
        expires_at=cutoff + SUMMARY_GRACE,
        payload={"run_id": run.id},
    )
    if not added:
        await move_job(
            session=session,
            kind=CUTOFF_KIND,
            key=str(run.id),
            run_at=cutoff,
            expires_at=cutoff + SUMMARY_GRACE,
        )


def _due_now_or_planned(plan: PromptPlan, prompt: StandupPrompt | None, now: datetime) -> datetime:
    """The planned moment; one already past is caught up now (once: a row already due stays put)."""
    if plan.due_at >= now:
        return plan.due_at
    if prompt is not None and prompt.due_at is not None and prompt.due_at <= now:
        return prompt.due_at
    return whole_second(now)


async def plan_prompts(
    *,
    session: AsyncSession,
    launch: Launch,
    run: StandupRun,
    people: dict[str, StandupPerson],
    now: datetime,
) -> list[StandupPrompt]:
    """Give everyone `run` asks a prompt row at their moment, and queue a job for each moment."""
    # The run's row first, as a prompt job does, so the two never wait on each other crosswise.
    await session.execute(select(StandupRun.id).where(StandupRun.id == run.id).with_for_update())
    recipients = standup_recipients(await functions_of(session=session, launch_id=launch.id), launch)
    rows = {
        p.user_id: p
        for p in await session.scalars(select(StandupPrompt).where(StandupPrompt.run_id == run.id))
    }
    batches: dict[datetime, datetime] = {}
    for user_id in recipients:
        plan = plan_for(run, launch, user_id, people.get(user_id))
        if plan.expires_at <= now:
            continue
        prompt = rows.get(user_id)
        due = _due_now_or_planned(plan, prompt, now)
        if prompt is None:
            await session.execute(
                dialect_insert(session)(StandupPrompt)
                .values(
                    team_id=run.team_id,
                    run_id=run.id,
                    user_id=user_id,
                    due_at=due,
                    expires_at=plan.expires_at,
                    timezone=plan.timezone,
                )
                .on_conflict_do_nothing(index_elements=[StandupPrompt.run_id, StandupPrompt.user_id])
            )
            prompt = await session.scalar(
                select(StandupPrompt).where(StandupPrompt.run_id == run.id, StandupPrompt.user_id == user_id)
            )
            if prompt is None:
                continue
            rows[user_id] = prompt
        elif still_movable(prompt):
            if (prompt.due_at, prompt.expires_at, prompt.timezone) != (due, plan.expires_at, plan.timezone):
                prompt.due_at, prompt.expires_at, prompt.timezone = due, plan.expires_at, plan.timezone
        else:
            continue
        if prompt.due_at is not None and still_movable(prompt):
            batches[prompt.due_at] = max(batches.get(prompt.due_at, now), prompt.expires_at or now)
    for due, expires in sorted(batches.items()):
        await _queue_batch(session=session, run=run, due=due, expires_at=expires)
    planned = [r.expires_at for r in rows.values() if r.expires_at is not None]
    if planned and max(planned) > run.expires_at:
        run.expires_at = max(planned)
    if batches:
        await schedule_cutoff(session=session, launch=launch, run=run, start=max(batches))
    return list(rows.values())


async def _queue_batch(
    *, session: AsyncSession, run: StandupRun, due: datetime, expires_at: datetime
) -> None:
    key = batch_key(run.id, due)
    added = await enqueue(
        session=session,
        team_id=run.team_id,
        kind=PROMPT_KIND,
        key=key,
        run_at=due,
        expires_at=expires_at,
        payload={"run_id": run.id, "due": whole_second(due).isoformat()},
    )
    if not added:
        # Someone joined this moment whose day ends later: the job stays meaningful until then.
        await session.execute(
            update(Job)
            .where(
                Job.kind == PROMPT_KIND,
                Job.dedupe_key == key,
                Job.status == JobStatus.PENDING,
                (Job.expires_at.is_(None)) | (Job.expires_at < expires_at),
            )
            .values(expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
