"""What is told in OWNERSHIP_CHANNEL: new owners, bulk-import summaries, areas needing an owner, and
the weekly list of areas nobody reliably owns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.scheduler.jobs import enqueue
from models import Area, Job, JobStatus, OwnerStatus
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


# Owner changes made within one window are announced together, when the window ends.
ANNOUNCE_WINDOW = timedelta(minutes=2)
# A window's job keeps this many changes to list (the summary shows fewer); the rest are counted.
STORED_CHANGES = 50


def announce_window(now: datetime) -> datetime:
    """The start of the announcement window `now` falls in."""
    step = int(ANNOUNCE_WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)


async def announce_owner_change(
    *,
    session: AsyncSession,
    settings: Settings,
    area: Area,
    previous_owner: str | None,
    by: str | None,
) -> bool:
    """Add a new owner to this window's announcement, in the same transaction as the change itself."""
    if area.owner == previous_owner:
        return False
    changes = [owner_change(area=area, previous_owner=previous_owner, by=by)]
    return bool(
        await announce_owner_changes(
            session=session, settings=settings, team_id=area.team_id, changes=changes
        )
    )


def owner_change(*, area: Area, previous_owner: str | None, by: str | None) -> dict[str, Any]:
    """One change as the announcement lists it."""
    return {
        "area_id": area.id,
        "name": area.name,
        "owner": area.owner,
        "previous_owner": previous_owner,
        "by": by,
    }


async def announce_owner_changes(
    *, session: AsyncSession, settings: Settings, team_id: str, changes: list[dict[str, Any]]
) -> int:
    """Add changes to the team's pending announcement for this window; how many were added."""
    if not settings.ownership_channel or not changes:
        return 0
    window = announce_window(utcnow())
    while True:
        if await _append_to_window(session=session, team_id=team_id, window=window, changes=changes):
            return len(changes)
        # The window's job was taken by the scheduler before this change was committed: the
        # change goes out with the next window rather than being lost.
        window += ANNOUNCE_WINDOW


async def _append_to_window(
    *, session: AsyncSession, team_id: str, window: datetime, changes: list[dict[str, Any]]
) -> bool:
    """Add `changes` to the window's job unless it already left the queue.

    The row lock (PostgreSQL) or the write lock the insert took (SQLite) keeps two changes made
    at the same moment from each overwriting the other's list.
    """
    key = f"{team_id}:{window.isoformat()}"
    await enqueue(
        session=session,
        team_id=team_id,
        kind=ANNOUNCE_KIND,
        key=key,
        run_at=window + ANNOUNCE_WINDOW,
        payload={"changes": [], "total": 0},
    )
    job = (
        await session.execute(
            select(Job.id, Job.status, Job.payload)
            .where(Job.kind == ANNOUNCE_KIND, Job.dedupe_key == key)
            .with_for_update()
        )
    ).one()
    if job.status != JobStatus.PENDING:
        return False
    payload = dict(job.payload or {})
    listed = list(payload.get("changes") or [])
    payload["changes"] = (listed + changes)[:STORED_CHANGES]
    payload["total"] = int(payload.get("total") or 0) + len(changes)
    await session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )
    return True


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
