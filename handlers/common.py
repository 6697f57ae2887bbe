"""What the features' listeners share: reading slash-command text and submitted modals, and
answering only the person who acted."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?"})

StateValues = dict[str, dict[str, Any]]


def split_command(text: str | None) -> tuple[str, str]:
    """`/launch Status checkout v2` → `("status", "checkout v2")`; `("", "")` for no text."""
    words = (text or "").strip().split(maxsplit=1)
    sub = words[0].lower() if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    return sub, rest


async def ack_ephemeral(ack: AsyncAck, text: str, blocks: list[Any] | None = None) -> None:
    """Answer a slash command so only the person who typed it sees the answer."""
    await ack(text=text, blocks=blocks, response_type="ephemeral")


def state_values(view: dict[str, Any]) -> StateValues:
    """A submitted view's input values, keyed by block id then action id."""
    values: StateValues = (view.get("state") or {}).get("values") or {}
    return values


def input_state(values: StateValues, block: str, action: str) -> dict[str, Any]:
    """One input's state in a submitted view; empty when Slack left it out."""
    return dict((values.get(block) or {}).get(action) or {})


def input_text(values: StateValues, block: str, action: str) -> str:
    """What was typed into a text input; empty when nothing was."""
    return str(input_state(values, block, action).get("value") or "")


def selected_value(values: StateValues, block: str, action: str) -> str | None:
    """The value of the option picked in a single select, if any."""
    option = input_state(values, block, action).get("selected_option") or {}
    return option.get("value") or None


def origin_channel(body: dict[str, Any]) -> str | None:
    """The channel a shortcut or button was used in, if it was used in one."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    found: str | None = channel.get("id") or container.get("channel_id")
    return found


async def tell_privately(
    client: AsyncWebClient, *, user_id: str, channel: str | None, text: str, blocks: list[dict[str, Any]]
) -> None:
    """Only `user_id` sees it: ephemerally where they are, else in their DM with the bot."""
    if channel and not channel.startswith("D"):
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks or None)
            return
        except SlackApiError as exc:
            log.info(
                "ephemeral to %s in %s failed (%s); sending a DM", user_id, channel, exc.response.get("error")
            )
    await client.chat_postMessage(channel=user_id, text=text, blocks=blocks or None)
