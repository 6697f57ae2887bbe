"""The launch and standup figures of `GET /api/v1/stats`: readiness over each shown launch's
standups, and how many of the people asked answered, and how fast."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics.schema import LaunchStatOut, ReadinessPointOut, StandupStatsOut
from bot.analytics.window import Window
from bot.launches.launches import LIVE_STATUSES
from models.launch import Launch, RunStatus, StandupPrompt, StandupResponse, StandupRun


def rate(part: int, whole: int) -> float | None:
    """A fraction 0–1 to three places; None when there is nothing to divide."""
    return round(part / whole, 3) if whole else None


async def _launches_shown(*, session: AsyncSession, team_id: str, window: Window) -> list[Launch]:
    """Live launches, and any other with a standup or its target date in the window."""
    with_runs = select(StandupRun.launch_id).where(
        StandupRun.team_id == team_id, StandupRun.local_date.between(window.since, window.until)
    )
    query = (
        select(Launch)
        .where(
            Launch.team_id == team_id,
            or_(
                Launch.status.in_(LIVE_STATUSES),
                Launch.target_date.between(window.since, window.until),
                Launch.id.in_(with_runs),
            ),
        )
        .order_by(Launch.target_date, Launch.id)
    )
    return list((await session.scalars(query)).all())


async def _readiness_history(
    *,
    session: AsyncSession,
    team_id: str,
    since: date | None,
    until: date | None,
    launch_ids: list[int] | None = None,
) -> dict[int, list[ReadinessPointOut]]:
    """Closed standups' scores per launch; a day with a manual and a scheduled run keeps the later."""
    conditions = [
        StandupRun.team_id == team_id,
        StandupRun.status == RunStatus.CLOSED,
        StandupRun.score.is_not(None),
    ]
    if until is not None:
        conditions.append(StandupRun.local_date <= until)
    if since is not None:
        conditions.append(StandupRun.local_date >= since)
    if launch_ids is not None:
        conditions.append(StandupRun.launch_id.in_(launch_ids))
    rows = await session.execute(
        select(StandupRun.launch_id, StandupRun.local_date, StandupRun.score)
        .where(*conditions)
        .order_by(StandupRun.launch_id, StandupRun.scheduled_for, StandupRun.id)
    )
    by_day: dict[int, dict[date, int]] = defaultdict(dict)
    for launch_id, day, score in rows:
        by_day[launch_id][day] = int(score or 0)
    return {
        launch_id: [ReadinessPointOut(date=d, score=s) for d, s in sorted(days.items())]
        for launch_id, days in by_day.items()
    }


async def readiness_histories(
    *, session: AsyncSession, team_id: str, launch_ids: list[int], until: date | None = None
) -> dict[int, list[ReadinessPointOut]]:
    """Each launch's readiness at every closed standup (up to `until`), oldest first; none: absent."""
    if not launch_ids:
        return {}
    return await _readiness_history(
        session=session, team_id=team_id, since=None, until=until, launch_ids=launch_ids
    )


async def _prompt_answers(
    *, session: AsyncSession, team_id: str, window: Window
) -> list[tuple[int, int, datetime, datetime | None]]:
    """(launch, run, DM sent at, first answer at) for each standup DM delivered in the window.

    A DM counts as answered when its recipient recorded a status for any function in that run;
    notes alone are not answers and are not stored as responses.
    """
    rows = await session.execute(
        select(
            StandupRun.launch_id,
            StandupPrompt.run_id,
            StandupPrompt.sent_at,
            func.min(StandupResponse.responded_at),
        )
        .select_from(StandupPrompt)
        .join(StandupRun, StandupRun.id == StandupPrompt.run_id)
        .outerjoin(
            StandupResponse,
            and_(
                StandupResponse.run_id == StandupPrompt.run_id,
                StandupResponse.user_id == StandupPrompt.user_id,
            ),
        )
        .where(
            StandupPrompt.team_id == team_id,
            StandupPrompt.sent_at.is_not(None),
            StandupRun.local_date.between(window.since, window.until),
        )
        .group_by(StandupPrompt.id, StandupRun.launch_id, StandupPrompt.run_id, StandupPrompt.sent_at)
    )
    # The SQL keeps only delivered DMs; the filter here tells the type checker so.
    return [(launch, run, sent, answered) for launch, run, sent, answered in rows if sent is not None]


async def launch_stats(
    *, session: AsyncSession, team_id: str, since: date, until: date, now: datetime
) -> tuple[list[LaunchStatOut], StandupStatsOut]:
    """Per launch: readiness history and standup response rate; and the standups of all launches."""
    window = Window(since=since, until=until)
    launches = await _launches_shown(session=session, team_id=team_id, window=window)
    history = await _readiness_history(
        session=session, team_id=team_id, since=window.since, until=window.until
    )
    prompts = await _prompt_answers(session=session, team_id=team_id, window=window)
    asked: dict[int, int] = defaultdict(int)
    answered: dict[int, int] = defaultdict(int)
    minutes: list[float] = []
    for launch_id, _run_id, sent_at, answered_at in prompts:
        asked[launch_id] += 1
        if answered_at is not None:
            answered[launch_id] += 1
            # An answer given from App Home before the DM went out took no time at all.
            minutes.append(max(0.0, (answered_at - sent_at).total_seconds() / 60))
    shown = [
        LaunchStatOut(
            id=launch.id,
            slug=launch.slug,
            name=launch.name,
            status=launch.status,
            target_date=launch.target_date,
            readiness_history=history.get(launch.id, []),
            prompts=asked[launch.id],
            answered=answered[launch.id],
            response_rate=rate(answered[launch.id], asked[launch.id]),
        )
        for launch in launches
    ]
    total_asked, total_answered = sum(asked.values()), sum(answered.values())
    overall = StandupStatsOut(
        runs=len({run_id for _, run_id, _, _ in prompts}),
        prompts=total_asked,
        answered=total_answered,
        response_rate=rate(total_answered, total_asked),
        median_minutes_to_answer=round(statistics.median(minutes), 1) if minutes else None,
    )
    return shown, overall
