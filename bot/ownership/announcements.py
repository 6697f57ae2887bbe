"""What is told in OWNERSHIP_CHANNEL: new owners, bulk-import summaries, areas needing an owner, and
the weekly list of areas nobody reliably owns."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.scheduler.jobs import enqueue
from models import Area, OwnerStatus
from models.base import utcnow

ANNOUNCE_KIND = "ownership.announce"
IMPORT_SUMMARY_KIND = "ownership.import_summary"
NEEDS_OWNER_KIND = "ownership.needs_owner"
STALE_REPORT_KIND = "ownership.stale_report"

# Owner states the weekly report lists, in this order.
STALE_STATUSES = (
    OwnerStatus.DEACTIVATED,
    OwnerStatus.MISSING,
    OwnerStatus.UNCONFIRMED,
    OwnerStatus.DISOWNED,
)


async def announce_owner_change(
    *,
    session: AsyncSession,
    settings: Settings,
    area: Area,
    previous_owner: str | None,
    by: str | None,
) -> bool:
    """Queue an announcement of a new owner, in the same transaction as the change itself."""
    if not settings.ownership_channel or area.owner == previous_owner:
        return False
    return await enqueue(
        session=session,
        team_id=area.team_id,
        kind=ANNOUNCE_KIND,
        key=f"{area.team_id}:{area.slug}:{previous_owner}->{area.owner}:{utcnow().isoformat()}",
        payload={
            "area_id": area.id,
            "name": area.name,
            "owner": area.owner,
            "previous_owner": previous_owner,
            "by": by,
        },
    )


async def announce_owner_gone(
    *, session: AsyncSession, settings: Settings, area: Area, owner: str, status: str
) -> bool:
    """Queue "X needs an owner" for an owner whose account is deactivated or gone: once per owner."""
    if not settings.ownership_channel:
        return False
    return await enqueue(
        session=session,
        team_id=area.team_id,
        kind=NEEDS_OWNER_KIND,
        key=f"{area.team_id}:{area.id}:{owner}:gone",
        payload={"area_id": area.id, "name": area.name, "slug": area.slug, "owner": owner, "reason": status},
    )


async def announce_bulk_import(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    areas: list[Area],
    source: str,
    by: str | None,
) -> bool:
    """Queue one summary of a bulk import's new owners instead of a message per area."""
    if not settings.ownership_channel or not areas:
        return False
    owners: dict[str, int] = {}
    for area in areas:
        if area.owner:
            owners[area.owner] = owners.get(area.owner, 0) + 1
    return await enqueue(
        session=session,
        team_id=team_id,
        kind=IMPORT_SUMMARY_KIND,
        key=f"{team_id}:{source}:{len(areas)}:{utcnow().isoformat()}",
        payload={"count": len(areas), "source": source, "owners": owners, "by": by},
    )


# ---- the weekly stale report --------------------------------------------------------------


@dataclass
class StaleListing:
    by_status: dict[str, list[Area]] = field(default_factory=dict)
    unowned: list[Area] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.unowned) + sum(len(areas) for areas in self.by_status.values())


async def stale_listing(*, session: AsyncSession, team_id: str) -> StaleListing:
    """Areas with no owner, or whose owner is deactivated, missing, unconfirmed or disowned."""
    rows = (
        await session.scalars(
            select(Area)
            .where(
                Area.team_id == team_id,
                or_(Area.owner.is_(None), Area.owner_status.in_(list(STALE_STATUSES))),
            )
            .order_by(Area.name, Area.slug)
        )
    ).all()
    listing = StaleListing(by_status={status: [] for status in STALE_STATUSES})
    for area in rows:
        if area.owner is None:
            listing.unowned.append(area)
        else:
            listing.by_status[area.owner_status].append(area)
    return listing


async def teams_with_areas(*, session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Area.team_id).distinct().order_by(Area.team_id))).all())
