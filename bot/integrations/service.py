"""A theme's tracker links: add one from a pasted URL, remove one, list them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.feedback.history import FINAL_STATUSES, move_theme, record_theme_event
from bot.feedback.themes import get_theme, resolve_merged
from bot.integrations.links import parse_tracker_url, parse_tracker_urls
from bot.integrations.store import links_of
from models import Theme, ThemeEventKind, ThemeLink
from models.base import utcnow
from models.feedback import ThemeStatus
from models.integration import LinkState

__all__ = ["add_link", "links_of", "remove_link", "set_links", "theme_links"]


async def add_link(
    *, session: AsyncSession, team_id: str, theme_id: int, url: str, by: str | None = None
) -> tuple[ThemeLink, bool]:
    """Track the theme in the issue `url` names; the link and whether it is new.

    The same issue linked again returns the link it has. An open theme becomes planned: someone
    put the work in a tracker. A merged theme's link goes to the theme it became.
    """
    theme = await resolve_merged(
        session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    )
    try:
        parsed = parse_tracker_url(url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = await session.execute(
        insert(ThemeLink)
        .values(
            team_id=team_id,
            theme_id=theme.id,
            provider=parsed.provider,
            key=parsed.key,
            url=parsed.url,
            state=LinkState.OPEN,
            created_by=by[:120] if by else None,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[ThemeLink.team_id, ThemeLink.theme_id, ThemeLink.provider, ThemeLink.key]
        )
    )
    created = bool(getattr(added, "rowcount", 0))
    link = await session.scalar(
        select(ThemeLink).where(
            ThemeLink.theme_id == theme.id,
            ThemeLink.provider == parsed.provider,
            ThemeLink.key == parsed.key,
        )
    )
    assert link is not None
    if created:
        await _linked(session, theme=theme, link=link, by=by)
    return link, created


async def _linked(session: AsyncSession, *, theme: Theme, link: ThemeLink, by: str | None) -> None:
    record_theme_event(session, theme=theme, kind=ThemeEventKind.LINKED, actor=by, reason=link.key)
    if theme.status == ThemeStatus.OPEN:
        move_theme(session, theme=theme, to=ThemeStatus.PLANNED, actor=by, reason=f"tracked in {link.key}")
    elif theme.status not in FINAL_STATUSES:
        theme.updated_at = utcnow()
    await session.flush()


async def remove_link(
    *, session: AsyncSession, team_id: str, theme_id: int, link_id: int, by: str | None = None
) -> None:
    """Stop tracking the theme in that issue; its status stays as it is."""
    theme = await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    link = await session.scalar(
        select(ThemeLink).where(
            ThemeLink.team_id == team_id, ThemeLink.theme_id == theme.id, ThemeLink.id == link_id
        )
    )
    if link is None:
        raise NotFound(f"Theme {theme_id} has no tracker link with id {link_id}.")
    record_theme_event(session, theme=theme, kind=ThemeEventKind.UNLINKED, actor=by, reason=link.key)
    await session.delete(link)
    await session.flush()


async def theme_links(*, session: AsyncSession, team_id: str, theme_id: int) -> list[ThemeLink]:
    """The theme's links, oldest first; NotFound for another workspace's theme."""
    theme = await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    return (await links_of(session=session, theme_ids=[theme.id]))[theme.id]


async def set_links(
    *, session: AsyncSession, team_id: str, theme_id: int, urls: str, by: str | None = None
) -> tuple[list[ThemeLink], list[str]]:
    """Track the theme in exactly the issues `urls` names (one per line or comma separated).

    The links it has now and the keys of those removed. Every URL is checked before anything
    changes: one bad URL leaves the links as they were.
    """
    try:
        wanted = parse_tracker_urls(urls)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    theme = await resolve_merged(
        session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    )
    keys = {(each.provider, each.key) for each in wanted}
    removed = []
    for link in (await links_of(session=session, theme_ids=[theme.id]))[theme.id]:
        if (link.provider, link.key) not in keys:
            removed.append(link.key)
            await remove_link(session=session, team_id=team_id, theme_id=theme.id, link_id=link.id, by=by)
    for wanted_link in wanted:
        await add_link(session=session, team_id=team_id, theme_id=theme.id, url=wanted_link.url, by=by)
    return (await links_of(session=session, theme_ids=[theme.id]))[theme.id], removed
