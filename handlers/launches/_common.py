"""Helpers the launch listeners share: whose workspace a payload is from, and where to say what
went wrong."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond


async def explain(body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext, text: str) -> None:
    """Say what went wrong where the person clicked: ephemerally under a message, else by DM."""
    if (body.get("container") or {}).get("type") == "message" and body.get("response_url"):
        await respond(text=f":warning: {text}", response_type="ephemeral", replace_original=False)
    else:
        await context.client.chat_postMessage(channel=body["user"]["id"], text=f":warning: {text}")
