"""Posting messages exactly once, even when a process dies between Slack's answer and our commit.

Each post carries message metadata with a delivery key. A retried job first looks for a message
with its key in the channel (or thread) before posting again.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

METADATA_EVENT = "switchboard_post"


def delivery_metadata(key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


async def _dm_channel(client: AsyncWebClient, channel: str) -> str:
    if channel.startswith(("U", "W")):
        opened = await client.conversations_open(users=channel)
        return str(opened["channel"]["id"])
    return channel


async def find_posted(
    client: AsyncWebClient, *, channel: str, key: str, thread_ts: str | None = None
) -> dict[str, str] | None:
    """The message an earlier attempt posted with `key`, if any."""
    channel_id = await _dm_channel(client, channel)
    if thread_ts:
        page = await client.conversations_replies(
            channel=channel_id, ts=thread_ts, include_all_metadata=True, limit=200
        )
    else:
        page = await client.conversations_history(channel=channel_id, include_all_metadata=True, limit=200)
    messages: list[dict[str, Any]] = page.get("messages", [])
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == METADATA_EVENT and (
            (metadata.get("event_payload") or {}).get("key") == key
        ):
            return {"channel": channel_id, "ts": str(message["ts"])}
    return None


async def post_once(
    client: AsyncWebClient,
    *,
    channel: str,
    key: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    maybe_posted: bool = False,
    **extra: Any,
) -> dict[str, str]:
    """Post to `channel` unless a message with `key` is already there.

    `maybe_posted` says an earlier attempt may have reached Slack (a retried job); only then is
    the channel searched, so first attempts cost one call.
    """
    if maybe_posted:
        found = await find_posted(client, channel=channel, key=key, thread_ts=thread_ts)
        if found:
            return {**found, "recovered": "true"}
    response = await client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        metadata=delivery_metadata(key),
        unfurl_links=False,
        **extra,
    )
    return {"channel": str(response["channel"]), "ts": str(response["ts"])}
