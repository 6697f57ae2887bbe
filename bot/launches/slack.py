"""What launches need from Slack itself: checking people exist, making and filling channels."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.launches.schema import launch_slug

log = logging.getLogger(__name__)

CHANNEL_NAME_LIMIT = 80
# conversations.invite takes at most this many users per call.
INVITE_BATCH = 100


def launch_channel_name(slug: str, attempt: int = 0) -> str:
    base = f"launch-{launch_slug(slug)}"[: CHANNEL_NAME_LIMIT - 4]
    return base if attempt == 0 else f"{base}-{attempt + 1}"


async def check_users(client: AsyncWebClient, user_ids: list[str]) -> None:
    """Every id names an active person in the workspace, or a UserError says which does not."""
    for user_id in dict.fromkeys(u for u in user_ids if u):
        try:
            answer = await client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in ("user_not_found", "users_not_found"):
                raise UserError(f"Unknown Slack user `{user_id}`: no such person in this workspace.") from exc
            raise
        user = answer.get("user") or {}
        if user.get("deleted"):
            raise UserError(f"Slack user `{user_id}` is deactivated; choose someone active.")
        if user.get("is_bot"):
            raise UserError(f"`{user_id}` is a bot; launch and function owners must be people.")


async def display_name(client: AsyncWebClient, user_id: str) -> str | None:
    """What Slack shows as a person's name, or None when Slack cannot say."""
    try:
        answer = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.info("users.info for %s failed: %s", user_id, exc.response.get("error"))
        return None
    user = answer.get("user") or {}
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    return str(name) if name else None


async def create_launch_channel(client: AsyncWebClient, *, slug: str, attempts: int = 5) -> tuple[str, str]:
    """Create #launch-<slug> (or #launch-<slug>-2, … when taken); returns (id, name)."""
    for attempt in range(attempts):
        name = launch_channel_name(slug, attempt)
        try:
            answer = await client.conversations_create(name=name)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                continue
            raise UserError(
                f"Slack refused to create #{name} ({exc.response.get('error')}); pick an existing channel."
            ) from exc
        channel = answer["channel"]
        return str(channel["id"]), str(channel["name"])
    raise UserError(f"#{launch_channel_name(slug)} and its variants are taken; pick an existing channel.")


async def invite_to_channel(client: AsyncWebClient, *, channel: str, user_ids: list[str]) -> list[str]:
    """Invite people to the launch channel; returns who could not be invited (with Slack's reason)."""
    problems: list[str] = []
    people = list(dict.fromkeys(u for u in user_ids if u))
    for start in range(0, len(people), INVITE_BATCH):
        batch = people[start : start + INVITE_BATCH]
        try:
            await client.conversations_invite(channel=channel, users=",".join(batch), force=True)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error != "already_in_channel":
                log.warning("could not invite %s to %s: %s", batch, channel, error)
                problems.append(f"{', '.join(batch)}: {error}")
    return problems


async def join_channel(client: AsyncWebClient, *, channel: str) -> None:
    """Make sure the bot can post in an existing public channel it was pointed at."""
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as exc:
        # Private channels cannot be joined; the bot must be invited there, which posting will tell.
        log.info("could not join %s: %s", channel, exc.response.get("error"))
