"""What a standup run comes to: whom to remind before the cut-off, the summary at the cut-off, and
the figures of past runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.launches import calendar
from bot.launches.away import AWAY, away_periods
from bot.launches.functions import answerer_of, functions_of
from bot.launches.launches import LIVE_STATUSES, last_score
from bot.launches.readiness import launch_status_after, readiness_score
from models.launch import (
    FunctionStatus,
    Launch,
    LaunchFunction,
    RunStatus,
    StandupPrompt,
    StandupResponse,
    StandupRun,
)


@dataclass(frozen=True)
class LateAnswer:
    """An answer given after the cut-off, which the posted summary then shows."""

    function: str
    status: str
    user_id: str
    at: datetime


@dataclass(frozen=True)
class Summary:
    launch: Launch
    run: StandupRun
    functions: list[LaunchFunction]
    score: int
    previous_score: int | None
    blockers: list[LaunchFunction]
    silent: list[str]  # people asked who did not answer for at least one of their functions
    unowned: list[LaunchFunction]
    away: dict[str, date | None]  # people not asked because they are away, and until when
    days_to_launch: int
    late: list[LateAnswer] = field(default_factory=list)


@dataclass
class Reminder:
    user_id: str
    channel: str | None
    unanswered: list[str] = field(default_factory=list)


async def reminders_due(
    *, session: AsyncSession, run_id: int, due: datetime | None
) -> tuple[StandupRun, Launch, list[Reminder]] | str:
    """People asked at `due` (None: at any moment) in an open run who have not answered for every
    function they answer for."""
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
            select(StandupPrompt).where(
                StandupPrompt.run_id == run.id,
                StandupPrompt.message_ts.is_not(None),
                *([StandupPrompt.due_at == due] if due is not None else []),
            )
        )
    }
    waiting: dict[str, Reminder] = {}
    for function in functions:
        prompt = prompts.get(answerer_of(function, launch))
        if prompt is None or function.id in answered:
            continue
        reminder = waiting.setdefault(
            prompt.user_id, Reminder(user_id=prompt.user_id, channel=prompt.channel)
        )
        reminder.unanswered.append(function.name)
    return run, launch, list(waiting.values())


async def close_run(
    *, session: AsyncSession, run_id: int, now: datetime, rescore: bool = False
) -> Summary | str:
    """Score the run and mark it closed; a run already closed returns its summary again (scored
    anew with `rescore`, for answers that came after the cut-off)."""
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
    elif rescore:
        run.score = readiness_score(f.status for f in functions)
    answered = set(
        (
            await session.scalars(select(StandupResponse.function_id).where(StandupResponse.run_id == run.id))
        ).all()
    )
    away = await away_of_run(session=session, launch=launch, run=run, functions=functions)
    silent: dict[str, None] = {}
    for function in functions:
        answerer = answerer_of(function, launch)
        if function.id not in answered and answerer not in away:
            silent[answerer] = None
    return Summary(
        launch=launch,
        run=run,
        functions=functions,
        score=run.score if run.score is not None else 0,
        previous_score=run.previous_score,
        blockers=[f for f in functions if f.status == FunctionStatus.BLOCKED],
        silent=list(silent),
        unowned=[f for f in functions if not f.owner],
        away=away,
        days_to_launch=calendar.days_until(launch.target_date, now, calendar.zone_of(launch.timezone)),
        late=await late_answers(session=session, run=run, functions=functions),
    )


async def late_answers(
    *, session: AsyncSession, run: StandupRun, functions: list[LaunchFunction]
) -> list[LateAnswer]:
    """The run's answers given after its cut-off, oldest first."""
    if run.closed_at is None:
        return []
    names = {f.id: f.name for f in functions}
    rows = await session.scalars(
        select(StandupResponse)
        .where(StandupResponse.run_id == run.id, StandupResponse.responded_at > run.closed_at)
        .order_by(StandupResponse.responded_at, StandupResponse.id)
    )
    return [
        LateAnswer(function=names[r.function_id], status=r.status, user_id=r.user_id, at=r.responded_at)
        for r in rows
        if r.function_id in names
    ]


async def away_of_run(
    *, session: AsyncSession, launch: Launch, run: StandupRun, functions: list[LaunchFunction]
) -> dict[str, date | None]:
    """Who the run left alone for being away, and who has said since that they are away that day."""
    skipped = await session.scalars(
        select(StandupPrompt).where(StandupPrompt.run_id == run.id, StandupPrompt.skip_reason == AWAY)
    )
    found: dict[str, date | None] = {p.user_id: p.away_until for p in skipped}
    answerers = sorted({answerer_of(f, launch) for f in functions})
    periods = await away_periods(
        session=session, team_id=run.team_id, launch_id=launch.id, user_ids=answerers, on=run.local_date
    )
    for user_id, until in periods.items():
        found.setdefault(user_id, until)
    return found


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
