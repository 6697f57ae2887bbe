"""What the feedback listeners share: the team and the settings of a request."""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext

from bot.core.settings import Settings


def settings_of(context: AsyncBoltContext) -> Settings:
    settings: Settings = context["settings"]
    return settings
