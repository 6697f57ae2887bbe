"""`/jobs`: upcoming scheduled work, soonest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from bot.api.deps import SessionDep, TeamDep
from bot.api.pagination import Page, PageDep, position_time, position_value
from bot.api.schemas import ERROR_RESPONSES
from bot.scheduler.jobs import upcoming


class JobOut(BaseModel):
    """A piece of scheduled work."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    run_at: datetime = Field(description="When it is due.")
    expires_at: datetime | None = Field(description="Past this, it is skipped as no longer meaningful.")
    attempts: int
    max_attempts: int
    lease_expires_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: datetime


router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[JobOut], summary="Upcoming scheduled work")
async def list_jobs(session: SessionDep, team_id: TeamDep, page: PageDep) -> Page[JobOut]:
    """Pending and running jobs of the workspace, soonest first."""
    after: tuple[datetime, int] | None = None
    run_at = position_time(page, "run_at")
    if run_at is not None:
        after = (run_at, position_value(page, "id", int))
    rows = await upcoming(session=session, team_id=team_id, after=after, limit=page.limit + 1)
    next_cursor = page.next_cursor(rows, lambda job: {"run_at": job.run_at.isoformat(), "id": job.id})
    return Page[JobOut](items=[JobOut.model_validate(j) for j in rows[: page.limit]], next_cursor=next_cursor)
