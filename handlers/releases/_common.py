"""What the release listeners share: the workspace and release a request is about, waking the
scheduler, and opening the compose modal."""

from __future__ import annotations

import zoneinfo
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.releases.views.compose import ComposeForm, ComposeMetadata, compose_modal


def _wake(context: AsyncBoltContext) -> None:
    context["runtime"].wake_scheduler()


def _release_id(action: dict[str, Any]) -> tuple[int, int | None]:
    head, _, revision = str(action.get("value") or "").partition(":")
    if not head.isdigit():
        raise UserError("That button no longer points at a release.")
    return int(head), int(revision) if revision.isdigit() else None


async def _user_timezone(client: AsyncWebClient, user: str, default: str) -> str:
    try:
        answer = await client.users_info(user=user)
    except SlackApiError:
        return default
    zone = str((answer.get("user") or {}).get("tz") or default)
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return default
    return zone


async def _open_compose(
    client: AsyncWebClient, context: AsyncBoltContext, *, trigger_id: str, user: str, channel: str | None
) -> None:
    zone = await _user_timezone(client, user, context["settings"].switchboard_timezone)
    form = ComposeForm(timezone=zone)
    await client.views_open(
        trigger_id=trigger_id, view=compose_modal(form, ComposeMetadata(channel_id=channel))
    )
