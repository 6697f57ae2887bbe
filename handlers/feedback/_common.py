"""What the feedback listeners share: the team and the settings of a request, a theme's links."""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.integrations.store import links_of


def settings_of(context: AsyncBoltContext) -> Settings:
    settings: Settings = context["settings"]
    return settings


async def theme_links(session: AsyncSession, theme_id: int | None) -> list[tuple[str, str]]:
    """(key, url) of each issue the theme is tracked in; none for no theme."""
    if theme_id is None:
        return []
    return [
        (link.key, link.url) for link in (await links_of(session=session, theme_ids=[theme_id]))[theme_id]
    ]
