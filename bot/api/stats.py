"""`/stats`: how the workspace is doing, one section per feature."""

from __future__ import annotations

from fastapi import APIRouter

from bot.api.deps import SessionDep, TeamDep
from bot.api.schemas import (
    ERROR_RESPONSES,
    CoverageOut,
    KindCoverageOut,
    OwnershipStatsOut,
    StaleAreaOut,
    StalenessOut,
    StatsOut,
)
from bot.services.ownership_stats import OwnershipHealth, ownership_health
from models.base import utcnow

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
