"""Ownership directory: areas and who owns them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound
from bot.ownership.cache import AreaIndexCache
from bot.ownership.index import SearchResult
from bot.ownership.schema import AreaIn, AreaPatch
from models import Area, DirectoryVersion, OwnerStatus
from models.base import utcnow

log = logging.getLogger(__name__)


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
    # An upsert: two first writes of a workspace racing must both succeed, not collide on insert.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(DirectoryVersion)
        .values(team_id=team_id, version=1)
        .on_conflict_do_update(
            index_elements=[DirectoryVersion.team_id], set_={"version": DirectoryVersion.version + 1}
        )
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
