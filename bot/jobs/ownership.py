"""Ownership jobs: announcements of new owners."""

from __future__ import annotations

from typing import Any

from bot.scheduler.registry import JobContext, SkipJob, job_handler
from bot.services.ownership import ANNOUNCE_KIND
from bot.services.posting import post_once
from bot.text import escape_mrkdwn, user_mention


def announcement_text(payload: dict[str, Any]) -> str:
    name = escape_mrkdwn(str(payload["name"]))
    actor = f" (changed by {user_mention(payload['by'])})" if payload.get("by") else ""
    if not payload.get("previous_owner"):
        return f":new: *{name}* is now owned by {user_mention(payload['owner'])}{actor}."
    return (
        f":arrows_counterclockwise: *{name}* moved from {user_mention(payload['previous_owner'])} "
        f"to {user_mention(payload['owner'])}{actor}."
    )


@job_handler(ANNOUNCE_KIND)
async def announce(ctx: JobContext) -> dict[str, Any]:
    channel = ctx.settings.ownership_channel
    if not channel:
        raise SkipJob("OWNERSHIP_CHANNEL is not set")
    client = await ctx.client()
    return await post_once(
        client,
        channel=channel,
        key=f"job:{ctx.job.id}",
        text=announcement_text(ctx.job.payload),
        maybe_posted=ctx.job.attempts > 1,
    )
