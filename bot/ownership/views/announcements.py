"""What OWNERSHIP_CHANNEL reads when owners change: one change as one line, a window's many as a list."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.core.text import escape_mrkdwn, user_mention
from bot.slack.blocks import context, section

# Changes listed one per line in a summary; the rest are counted.
SUMMARY_LINES = 20


def owner_change_text(change: dict[str, Any]) -> str:
    """One change, as a message of its own."""
    name = escape_mrkdwn(str(change["name"]))
    actor = f" (changed by {user_mention(change['by'])})" if change.get("by") else ""
    if not change.get("previous_owner"):
        return f":new: *{name}* is now owned by {user_mention(change['owner'])}{actor}."
    return (
        f":arrows_counterclockwise: *{name}* moved from {user_mention(change['previous_owner'])} "
        f"to {user_mention(change['owner'])}{actor}."
    )


def owner_change_line(change: dict[str, Any]) -> str:
    """One change, as a line of a summary."""
    name = escape_mrkdwn(str(change["name"]))
    actor = f" (by {user_mention(change['by'])})" if change.get("by") else ""
    return (
        f"• *{name}*: {user_mention(change.get('previous_owner'))} → {user_mention(change['owner'])}{actor}"
    )


def owner_changes_summary(changes: list[dict[str, Any]], total: int) -> tuple[str, list[Block]]:
    """A window's changes: the first SUMMARY_LINES one per line, and how many more there were."""
    heading = f":arrows_counterclockwise: *{total} ownership changes*"
    lines = "\n".join(owner_change_line(change) for change in changes[:SUMMARY_LINES])
    more = total - min(len(changes), SUMMARY_LINES)
    blocks: list[Block] = [section(heading), section(lines)]
    text = f"{heading}\n{lines}"
    if more > 0:
        blocks.append(context(f"…and {more} more"))
        text += f"\n…and {more} more"
    return text, blocks
