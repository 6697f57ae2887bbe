"""`@Switchboard …` in a channel or thread."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.uow import slack_unit_of_work
from bot.ownership.views.whoowns import USAGE
from bot.slack.blocks import as_dicts
from bot.slack.limits import query_too_long
from bot.slack.workspace import workspace_of
from handlers.whoowns import answer

_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")
_WHO_OWNS = re.compile(r"\bwho\s*(?:owns|is\s+the\s+owner\s+of|is\s+responsible\s+for)\s+(.+)", re.I)


def ownership_question(text: str) -> str | None:
    """`<@U1> who owns billing?` → `billing`; None when it is not such a question."""
    cleaned = _MENTION.sub(" ", text).strip()
    match = _WHO_OWNS.search(cleaned)
    if not match:
        return None
    return match.group(1).strip().rstrip("?!. ").strip() or None


async def on_mention(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    thread_ts = event.get("thread_ts") or event["ts"]
    query = ownership_question(event.get("text", ""))
    if query is None:
        await client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, text=USAGE)
        return
    too_long = query_too_long(query)
    if too_long is not None:
        await client.chat_postEphemeral(
            channel=event["channel"], user=event.get("user", ""), thread_ts=thread_ts, text=too_long.message()
        )
        return
    team_id = workspace_of(context)
    async with slack_unit_of_work(context) as session:
        text, blocks = await answer(
            session=session, context=context, team_id=team_id, query=query, shareable=False
        )
    await client.chat_postMessage(
        channel=event["channel"], thread_ts=thread_ts, text=text, blocks=as_dicts(blocks)
    )


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
