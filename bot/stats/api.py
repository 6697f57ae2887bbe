"""`/stats`: how the workspace is doing, one section per feature."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.api.deps import SessionDep, TeamDep
from bot.api.schemas import ERROR_RESPONSES
from bot.ownership.stats import OwnershipHealth, ownership_health
from models.base import utcnow


class KindCoverageOut(BaseModel):
    areas: int
    with_owner: int
    without_owner: int


class CoverageOut(BaseModel):
    areas: int
    with_owner: int
    without_owner: int
    owned_percent: float = Field(description="Share of areas with an owner, 0–100 (100 when there are none).")
    by_kind: dict[str, KindCoverageOut]


class StaleAreaOut(BaseModel):
    slug: str
    name: str
    owner: str | None
    reason: str = Field(
        description="owner_deactivated, owner_missing, owner_unconfirmed, owner_disowned "
        "or confirmation_overdue."
    )
    overdue_since: datetime | None


class StalenessOut(BaseModel):
    confirmation_overdue: int = Field(description="Owned areas past their confirm_every_days.")
    awaiting_answer: int = Field(description='Owners asked "Still yours?" who have not answered yet.')
    owner_deactivated: int
    owner_missing: int
    owner_unconfirmed: int
    owner_disowned: int
    areas: list[StaleAreaOut] = Field(description="Areas needing attention, most pressing first (≤ 100).")


class OwnershipStatsOut(BaseModel):
    coverage: CoverageOut
    staleness: StalenessOut


class StatsOut(BaseModel):
    """Workspace statistics, one key per feature (feedback, themes, readiness, standups join here)."""

    team_id: str
    generated_at: datetime
    ownership: OwnershipStatsOut


router = APIRouter(prefix="/stats", tags=["stats"], responses=ERROR_RESPONSES)


def ownership_section(health: OwnershipHealth) -> OwnershipStatsOut:
    areas, owned = health.areas, health.with_owner
    return OwnershipStatsOut(
        coverage=CoverageOut(
            areas=areas,
            with_owner=owned,
            without_owner=areas - owned,
            owned_percent=round(100.0 * owned / areas, 1) if areas else 100.0,
            by_kind={
                kind: KindCoverageOut(areas=c.areas, with_owner=c.with_owner, without_owner=c.without_owner)
                for kind, c in sorted(health.by_kind.items())
            },
        ),
        staleness=StalenessOut(
            confirmation_overdue=health.confirmation_overdue,
            awaiting_answer=health.awaiting_answer,
            owner_deactivated=health.flagged.get("deactivated", 0),
            owner_missing=health.flagged.get("missing", 0),
            owner_unconfirmed=health.flagged.get("unconfirmed", 0),
            owner_disowned=health.flagged.get("disowned", 0),
            areas=[
                StaleAreaOut(slug=s.slug, name=s.name, owner=s.owner, reason=s.reason, overdue_since=s.since)
                for s in health.stale
            ],
        ),
    )


@router.get("", response_model=StatsOut, summary="Workspace statistics")
async def get_stats(session: SessionDep, team_id: TeamDep) -> StatsOut:
    """Ownership coverage and staleness (each feature adds its own section)."""
    now = utcnow()
    health = await ownership_health(session=session, team_id=team_id, now=now)
    return StatsOut(team_id=team_id, generated_at=now, ownership=ownership_section(health))
