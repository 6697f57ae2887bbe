"""Ownership changes, announced in OWNERSHIP_CHANNEL through the job queue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler.jobs import enqueue
from bot.settings import Settings
from models import Area
from models.base import utcnow

ANNOUNCE_KIND = "ownership.announce"


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
