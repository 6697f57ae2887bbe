"""Ownership directory: areas and who owns them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, NotFound
from bot.services.area_index import AreaIndex, IndexedArea, SearchResult
from bot.services.area_schema import AreaIn, AreaPatch
from models import Area, DirectoryVersion, OwnerStatus
from models.base import utcnow

# How long a replica trusts its cached index before asking whether another replica wrote.
INDEX_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class OwnerChange:
    area: Area
    previous_owner: str | None


async def get_by_slug(*, session: AsyncSession, team_id: str, slug: str) -> Area:
    """The area with this slug, or NotFound."""
    area = await session.scalar(select(Area).where(Area.team_id == team_id, Area.slug == slug))
    if area is None:
        raise NotFound(f"No area with slug `{slug}`.")
    return area


async def find_by_slug(*, session: AsyncSession, team_id: str, slug: str) -> Area | None:
    return await session.scalar(select(Area).where(Area.team_id == team_id, Area.slug == slug))


async def list_areas(
    *, session: AsyncSession, team_id: str, after: str | None = None, limit: int = 100
) -> list[Area]:
    """Areas ordered by slug, starting after the `after` slug (keyset pagination)."""
    query = select(Area).where(Area.team_id == team_id).order_by(Area.slug).limit(limit)
    if after:
        query = query.where(Area.slug > after)
    return list((await session.scalars(query)).all())


async def list_owned_by(*, session: AsyncSession, team_id: str, user_id: str) -> list[Area]:
    query = select(Area).where(Area.team_id == team_id, Area.owner == user_id).order_by(Area.name)
    return list((await session.scalars(query)).all())


async def create_area(*, session: AsyncSession, team_id: str, data: AreaIn) -> Area:
    """Add an area; a taken slug is a Conflict."""
    slug = data.resolved_slug()
    if await find_by_slug(session=session, team_id=team_id, slug=slug):
        raise Conflict(f"An area with slug `{slug}` already exists; pick another name or slug.")
    area = Area(team_id=team_id, slug=slug, last_confirmed_at=utcnow() if data.owner else None)
    _apply(area, data.model_dump(exclude={"slug"}, mode="json"))
    session.add(area)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"An area with slug `{slug}` already exists.") from exc
    await bump_directory_version(session=session, team_id=team_id)
    return area


async def update_area(*, session: AsyncSession, team_id: str, slug: str, patch: AreaPatch) -> OwnerChange:
    """Apply the fields set in `patch`; a new owner counts as a fresh confirmation."""
    area = await get_by_slug(session=session, team_id=team_id, slug=slug)
    previous_owner = area.owner
    changes = patch.model_dump(exclude_unset=True, mode="json")
    _apply(area, changes)
    if "owner" in changes and area.owner != previous_owner:
        mark_confirmed(area)
    await session.flush()
    await bump_directory_version(session=session, team_id=team_id)
    return OwnerChange(area=area, previous_owner=previous_owner)


async def delete_area(*, session: AsyncSession, team_id: str, slug: str) -> None:
    area = await get_by_slug(session=session, team_id=team_id, slug=slug)
    await session.delete(area)
    await session.flush()
    await bump_directory_version(session=session, team_id=team_id)


def mark_confirmed(area: Area, at: datetime | None = None) -> None:
    area.last_confirmed_at = at or utcnow()
    area.confirm_requested_at = None
    area.owner_status = OwnerStatus.ACTIVE


def _apply(area: Area, values: dict[str, object]) -> None:
    for key, value in values.items():
        if key == "links" and isinstance(value, list):
            value = [{"title": link.get("title", ""), "url": str(link["url"])} for link in value]
        if value is None and key in {"aliases", "backups", "links", "tags"}:
            value = []
        setattr(area, key, value)


async def bump_directory_version(*, session: AsyncSession, team_id: str) -> None:
    """Tell every replica's index cache that this workspace's directory changed."""
    result = await session.execute(
        update(DirectoryVersion)
        .where(DirectoryVersion.team_id == team_id)
        .values(version=DirectoryVersion.version + 1)
    )
    if getattr(result, "rowcount", 0) == 0:
        session.add(DirectoryVersion(team_id=team_id, version=1))
        await session.flush()


class AreaIndexCache:
    """One fuzzy index per workspace, rebuilt when the directory version changes."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, float, AreaIndex]] = {}

    def invalidate(self, team_id: str) -> None:
        self._entries.pop(team_id, None)

    async def get(self, *, session: AsyncSession, team_id: str) -> AreaIndex:
        now = time.monotonic()
        cached = self._entries.get(team_id)
        if cached and now - cached[1] < INDEX_RECHECK_SECONDS:
            return cached[2]
        version = (
            await session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.team_id == team_id))
            or 0
        )
        if cached and cached[0] == version:
            self._entries[team_id] = (version, now, cached[2])
            return cached[2]
        index = await _build_index(session=session, team_id=team_id)
        self._entries[team_id] = (version, now, index)
        return index


async def _build_index(*, session: AsyncSession, team_id: str) -> AreaIndex:
    rows = await session.execute(
        select(Area.id, Area.slug, Area.name, Area.aliases, Area.description).where(Area.team_id == team_id)
    )
    return AreaIndex.build(
        [
            IndexedArea(
                id=row.id,
                slug=row.slug,
                name=row.name,
                keys=(row.name, row.slug, *(row.aliases or [])),
                description=row.description or "",
            )
            for row in rows
        ]
    )


async def search_areas(
    *, session: AsyncSession, cache: AreaIndexCache, team_id: str, query: str, limit: int = 3
) -> tuple[SearchResult, list[Area]]:
    """Fuzzy lookup; returns the classification and the matched areas in rank order."""
    index = await cache.get(session=session, team_id=team_id)
    result = index.search(query, limit=limit)
    if not result.matches:
        return result, []
    ids = [m.area_id for m in result.matches]
    found = {a.id: a for a in (await session.scalars(select(Area).where(Area.id.in_(ids)))).all()}
    return result, [found[i] for i in ids if i in found]
