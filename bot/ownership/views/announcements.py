"""What OWNERSHIP_CHANNEL reads when owners change: one change as one line, a window's many as a list."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.core.text import and_list, escape_mrkdwn, user_mention
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


# What an undelivered ownership DM was for, by its job kind's last word.
UNREACHED_PURPOSE = {
    "confirm": "ask {owner} whether {areas} {are} still theirs",
    "remind": "remind {owner} to confirm whether {areas} {are} still theirs",
    "new_owner": "tell {owner} that they now own {areas}",
}


def owner_unreachable(
    *,
    purpose: str,
    owner: str,
    areas: list[tuple[str, str]],
    reason: str,
    error: str,
    flagged: str | None,
    by: str | None = None,
) -> tuple[str, list[Block]]:
    """To OWNERSHIP_CHANNEL (or the area's channel): an owner Switchboard could not reach by DM.

    `areas` holds (name, slug); `flagged` is the owner status the areas were given, if any.
    """
    names = and_list([f"*{escape_mrkdwn(name)}*" for name, _ in areas]) or "their areas"
    doing = UNREACHED_PURPOSE.get(purpose, UNREACHED_PURPOSE["confirm"]).format(
        owner=user_mention(owner), areas=names, are="is" if len(areas) == 1 else "are"
    )
    handed = f" (handed over by {user_mention(by)})" if by and purpose == "new_owner" else ""
    why = f"{escape_mrkdwn(reason)} (`{escape_mrkdwn(error)}`)"
    head = f":warning: Switchboard could not {doing}{handed}: {why}."
    slug = areas[0][1] if areas else ""
    lookup = f" from `/whoowns {escape_mrkdwn(slug)}`" if slug else ""
    if flagged:
        follow = (
            f"The {'area is' if len(areas) == 1 else 'areas are'} now marked as having a {flagged} owner "
            f"and listed in the weekly ownership report; someone who owns it can claim it{lookup}."
        )
    elif purpose == "new_owner":
        follow = "It will not be tried again: please let them know another way."
    else:
        follow = f"It will not be tried again: please check with them another way, or hand it over{lookup}."
    return f"{head}\n{follow}", [section(head), context(follow)]
