"""Standup DMs and what comes back: what a prompt shows, where it went, the answers it collects and
the alert a new blocker raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.launches import calendar
from bot.launches._common import dialect_insert
from bot.launches.functions import StatusChange, answerer_of, functions_of, set_function_status
from bot.launches.readiness import launch_status_after
from bot.launches.standups import open_run
from bot.scheduler.jobs import enqueue
from models import Area
from models.base import utcnow
from models.launch import (
    FunctionStatus,
    Launch,
    LaunchFunction,
    RunStatus,
    StandupPrompt,
    StandupResponse,
    StandupRun,
)

BLOCKED_KIND = "launch.blocked_alert"
SUMMARY_UPDATE_KIND = "launch.standup_summary_update"
# An answer this long after a standup's cut-off still updates its posted summary.
LATE_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class PromptData:
    launch: Launch
    run: StandupRun | None
    user_id: str
    functions: list[LaunchFunction]
    responses: dict[int, StandupResponse]
    days_to_launch: int


@dataclass(frozen=True)
class AnswerOutcome:
    change: StatusChange
    run: StandupRun | None
    launch: Launch
    alerted: bool
    summary_updated: bool = False  # an answer after the cut-off: the posted summary is redone


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
            functions=[f for f in functions if answerer_of(f, launch) == user_id],
            responses=responses,
            days_to_launch=days,
        )
        for user_id in user_ids
    }


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

    Counts as this standup's answer while a run is open, unless `count_as_answer` is False (a note
    alone, or a change from the API): then only an answer already given takes the new note. A
    Blocked that is new alerts the launch owner (and the area owner) through the job queue, keyed
    by the change so it goes out once.
    """
    launch = await session.get(Launch, function.launch_id)
    assert launch is not None
    change = await set_function_status(session=session, function=function, status=status, by=by, note=note)
    run = await answered_run(session=session, launch=launch, run_id=run_id, now=utcnow())
    touched: Any = None
    if run is not None and count_as_answer:
        excluded = dialect_insert(session)(StandupResponse).excluded
        statement = dialect_insert(session)(StandupResponse).values(
            team_id=function.team_id,
            run_id=run.id,
            function_id=function.id,
            user_id=by,
            status=function.status,
            note=function.note,
            responded_at=utcnow(),
        )
        touched = await session.execute(
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
    elif run is not None:
        touched = await session.execute(
            update(StandupResponse)
            .where(StandupResponse.run_id == run.id, StandupResponse.function_id == function.id)
            .values(note=function.note)
            .execution_options(synchronize_session=False)
        )
    summary_updated = False
    rows_changed = int(getattr(touched, "rowcount", 0) or 0)
    if run is not None and run.status == RunStatus.CLOSED and rows_changed:
        summary_updated = await enqueue(
            session=session,
            team_id=function.team_id,
            kind=SUMMARY_UPDATE_KIND,
            key=f"{run.id}:{function.id}:{function.version}",
            payload={"run_id": run.id},
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
    return AnswerOutcome(
        change=change, run=run, launch=launch, alerted=alerted, summary_updated=summary_updated
    )


async def answered_run(
    *, session: AsyncSession, launch: Launch, run_id: int | None, now: datetime
) -> StandupRun | None:
    """The run an answer counts for: the one its DM belongs to while open, else the launch's open
    run, else (an answer after the cut-off) the run just closed, when its summary is recent."""
    given = await session.get(StandupRun, run_id) if run_id else None
    if given is not None and given.launch_id != launch.id:
        given = None
    if given is not None and given.status == RunStatus.OPEN:
        return given
    running = await open_run(session=session, launch_id=launch.id)
    if running is not None:
        return running
    if given is None:
        given = await session.scalar(
            select(StandupRun)
            .where(StandupRun.launch_id == launch.id, StandupRun.status == RunStatus.CLOSED)
            .order_by(StandupRun.closed_at.desc(), StandupRun.id.desc())
            .limit(1)
        )
    if given is None or given.status != RunStatus.CLOSED or given.closed_at is None:
        return None
    return given if given.closed_at >= now - LATE_WINDOW else None


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
