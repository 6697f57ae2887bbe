"""Reading and moving theme links: model-level helpers the theme service uses too."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ThemeLink
from models.integration import Provider

# Keys looked up per query: release notes may name many issues.
_BATCH = 500


async def links_of(*, session: AsyncSession, theme_ids: Sequence[int]) -> dict[int, list[ThemeLink]]:
    """Each theme's links, oldest first."""
    found: dict[int, list[ThemeLink]] = {theme_id: [] for theme_id in theme_ids}
    if not theme_ids:
        return found
    rows = await session.scalars(
        select(ThemeLink).where(ThemeLink.theme_id.in_(list(theme_ids))).order_by(ThemeLink.id)
    )
    for link in rows.all():
        found[link.theme_id].append(link)
    return found


async def move_links(*, session: AsyncSession, source_id: int, target_id: int) -> None:
    """A merged theme's links go with its items; an issue both themes track stays linked once."""
    links = await links_of(session=session, theme_ids=[source_id, target_id])
    kept = {(link.provider, link.key) for link in links[target_id]}
    for link in links[source_id]:
        if (link.provider, link.key) in kept:
            await session.delete(link)
        else:
            link.theme_id = target_id
    await session.flush()


async def links_naming(
    *, session: AsyncSession, provider: Provider, keys: Sequence[str], or_closed_by: bool = False
) -> list[ThemeLink]:
    """Every workspace's links to these issues (or, with `or_closed_by`, closed by these pull requests)."""
    found: dict[int, ThemeLink] = {}
    for start in range(0, len(keys), _BATCH):
        chunk = list(keys[start : start + _BATCH])
        named: ColumnElement[bool] = ThemeLink.key.in_(chunk)
        if or_closed_by:
            named = or_(named, ThemeLink.closed_by.in_(chunk))
        rows = await session.scalars(select(ThemeLink).where(ThemeLink.provider == provider, named))
        found.update({link.id: link for link in rows.all()})
    return [found[link_id] for link_id in sorted(found)]
