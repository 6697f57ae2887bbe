"""What the feedback listeners share: the team and the settings of a request, a theme's links."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.integrations.store import links_of


def team_id_of(body: dict[str, Any], context: AsyncBoltContext) -> str:
    return str(
        context.team_id
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or body.get("team_id")
        or ""
    )


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
