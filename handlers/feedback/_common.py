"""What the feedback listeners share: the team and the settings of a request."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.core.settings import Settings


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
