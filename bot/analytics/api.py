"""`/stats`: how the workspace is doing over a window of days, one section per feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from bot.analytics.queries import stats_report
from bot.analytics.schema import StatsOut
from bot.analytics.window import MAX_WINDOW_DAYS, IsoDay, resolve_window
from bot.api.deps import SessionDep, TeamDep
from bot.api.schemas import ERROR_RESPONSES
from models.base import utcnow

router = APIRouter(prefix="/stats", tags=["stats"], responses=ERROR_RESPONSES)


def current_time() -> datetime:
    """The time the answer is computed at: the only clock the statistics read."""
    return utcnow()


NowDep = Annotated[datetime, Depends(current_time)]


@router.get("", response_model=StatsOut, summary="Workspace statistics")
async def get_stats(
    session: SessionDep,
    team_id: TeamDep,
    now: NowDep,
    since: Annotated[
        IsoDay | None,
        Query(
            description="First day (UTC, YYYY-MM-DD), included; by default the Monday seven weeks "
            "before `until`'s week, so that eight weeks are covered.",
            examples=["2025-10-06"],
        ),
    ] = None,
    until: Annotated[
        IsoDay | None,
        Query(
            description=f"Last day (UTC, YYYY-MM-DD), included; by default today. "
            f"At most {MAX_WINDOW_DAYS} days after `since`.",
            examples=["2025-11-30"],
        ),
    ] = None,
) -> StatsOut:
    """Feedback volume, top themes, launch readiness, standup answers and ownership health."""
    window = resolve_window(since=since, until=until, today=now.astimezone(UTC).date())
    return await stats_report(
        session=session, team_id=team_id, since=window.since, until=window.until, now=now
    )
