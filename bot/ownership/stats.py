"""Ownership directory health: how much of it has an owner, and how much of that is stale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Area, OwnerStatus
from models.base import utcnow

# Owner states an admin has to act on, in the order they are reported.
FLAGGED_STATUSES = (
    OwnerStatus.DEACTIVATED,
    OwnerStatus.MISSING,
    OwnerStatus.UNCONFIRMED,
    OwnerStatus.DISOWNED,
)


@dataclass
class KindCoverage:
    areas: int = 0
    with_owner: int = 0

    @property
    def without_owner(self) -> int:
        return self.areas - self.with_owner


@dataclass(frozen=True)
class StaleArea:
    slug: str
    name: str
    owner: str | None
    reason: str
    since: datetime | None


@dataclass
class OwnershipHealth:
    by_kind: dict[str, KindCoverage] = field(default_factory=dict)
    confirmation_overdue: int = 0
    awaiting_answer: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    stale: list[StaleArea] = field(default_factory=list)

    @property
    def areas(self) -> int:
        return sum(k.areas for k in self.by_kind.values())

    @property
    def with_owner(self) -> int:
        return sum(k.with_owner for k in self.by_kind.values())


def confirmation_due(area_confirmed: datetime | None, created: datetime, every_days: int) -> datetime:
    """When an owner is due to re-confirm; never confirmed counts from the area's creation."""
    return (area_confirmed or created) + timedelta(days=every_days)


async def ownership_health(
    *, session: AsyncSession, team_id: str, now: datetime | None = None, stale_limit: int = 100
) -> OwnershipHealth:
    """Coverage by kind and staleness of the workspace's directory."""
    now = now or utcnow()
    rows = await session.execute(
        select(
            Area.slug,
            Area.name,
            Area.kind,
            Area.owner,
            Area.owner_status,
            Area.last_confirmed_at,
            Area.confirm_every_days,
            Area.confirm_requested_at,
            Area.created_at,
        ).where(Area.team_id == team_id)
    )
    health = OwnershipHealth(flagged={str(s): 0 for s in FLAGGED_STATUSES})
    stale: list[StaleArea] = []
    for row in rows:
        coverage = health.by_kind.setdefault(row.kind, KindCoverage())
        coverage.areas += 1
        if row.owner is None:
            continue
        coverage.with_owner += 1
        if row.confirm_requested_at is not None:
            health.awaiting_answer += 1
        due = confirmation_due(row.last_confirmed_at, row.created_at, row.confirm_every_days)
        overdue = due < now
        health.confirmation_overdue += overdue
        # One entry per area, under its most pressing reason: a gone owner outranks a late answer.
        if row.owner_status in health.flagged:
            health.flagged[row.owner_status] += 1
            stale.append(StaleArea(row.slug, row.name, row.owner, f"owner_{row.owner_status}", None))
        elif overdue:
            stale.append(StaleArea(row.slug, row.name, row.owner, "confirmation_overdue", due))
    stale.sort(key=lambda s: (s.since is not None, s.since or now, s.slug))
    health.stale = stale[:stale_limit]
    return health
