"""Block Kit for "who owns X" answers and the area modal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ChannelSelectElement,
    DividerBlock,
    InputBlock,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import channel_mention, escape_mrkdwn, strip_broadcasts, user_mention
from bot.slack.blocks import context, plain, section, slack_date, text_input
from models import Area, OwnerStatus


class WhoOwnsId(StrEnum):
    SHARE = "whoowns_share"
    PICK = "whoowns_pick"
    ADD = "whoowns_add"
    AREA_MODAL = "area_create"
    NAME_BLOCK = "area_name"
    NAME = "name"
    OWNER_BLOCK = "area_owner"
    OWNER = "owner"
    TEAM_BLOCK = "area_team"
    TEAM = "team"
    BACKUPS_BLOCK = "area_backups"
    BACKUPS = "backups"
    CHANNEL_BLOCK = "area_channel"
    CHANNEL = "channel"
    DESCRIPTION_BLOCK = "area_description"
    DESCRIPTION = "description"
    ALIASES_BLOCK = "area_aliases"
    ALIASES = "aliases"


USAGE = (
    "*/whoowns <what>* finds who owns a product area, feature, service or process.\n"
    "Examples: `/whoowns billing`, `/whoowns bulk export`, `/whoowns release process`.\n"
    "You can also mention me: `@Switchboard who owns billing?`"
)


def _status_note(area: Area) -> str:
    if area.owner_status == OwnerStatus.DEACTIVATED:
        return " :warning: _owner's account is deactivated_"
    if area.owner_status in (OwnerStatus.UNCONFIRMED, OwnerStatus.DISOWNED):
        return " :warning: _ownership unconfirmed_"
    return ""


def area_card(area: Area, *, shareable: bool = True) -> list[Block]:
    """Everything about one area: owner, team, backups, channel, links, last confirmed."""
    lines = [
        f"*{escape_mrkdwn(area.name)}* is owned by {user_mention(area.owner)}{_status_note(area)}",
    ]
    if area.team:
        lines.append(f"*Team:* {escape_mrkdwn(area.team)}")
    if area.backups:
        lines.append("*Backup:* " + ", ".join(user_mention(b) for b in area.backups))
    if area.channel:
        lines.append(f"*Channel:* {channel_mention(area.channel)}")
    if area.links:
        links = [f"<{link['url']}|{escape_mrkdwn(link.get('title') or link['url'])}>" for link in area.links]
        lines.append("*Links:* " + " · ".join(links))
    blocks: list[Block] = [section("\n".join(lines))]
    if area.description:
        blocks.append(context(escape_mrkdwn(area.description)))
    blocks.append(
        context(
            f"`{area.slug}` · {area.kind.replace('_', ' ')} · last confirmed "
            f"{slack_date(area.last_confirmed_at)}"
        )
    )
    if shareable:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(text=plain("Share in channel"), action_id=WhoOwnsId.SHARE, value=area.slug)
                ]
            )
        )
    return blocks


def area_card_text(area: Area) -> str:
    return f"{escape_mrkdwn(area.name)} is owned by {user_mention(area.owner)}"


def ambiguous_choices(query: str, areas: list[Area]) -> list[Block]:
    """Top matches as buttons to pick from."""
    buttons = [
        ButtonElement(
            text=plain(escape_mrkdwn(area.name)), action_id=f"{WhoOwnsId.PICK}:{area.slug}", value=area.slug
        )
        for area in areas[:3]
    ]
    return [
        section(f"Several areas match *{escape_mrkdwn(query)}*. Which one did you mean?"),
        ActionsBlock(elements=buttons),
    ]


def not_found(query: str, closest: list[Area]) -> list[Block]:
    """No confident match: the closest names and an "Add it" button."""
    text = f"I couldn't find an owner for *{escape_mrkdwn(query)}*."
    if closest:
        names = ", ".join(f"*{escape_mrkdwn(a.name)}* (`{a.slug}`)" for a in closest)
        text += f"\nClosest names: {names}."
    return [
        section(text),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Add it"),
                    action_id=WhoOwnsId.ADD,
                    # Handed back to prefill the new area's name: no broadcast in it either.
                    value=strip_broadcasts(query)[:2000],
                    style="primary",
                )
            ]
        ),
    ]


def usage() -> list[Block]:
    return [section(USAGE)]


def area_modal(*, name: str = "", private_metadata: str = "") -> View:
    """Modal to add an area to the directory."""
    blocks: list[Block] = [
        InputBlock(
            block_id=WhoOwnsId.NAME_BLOCK,
            label=plain("Name"),
            element=text_input(WhoOwnsId.NAME, initial=name, max_length=200),
        ),
        InputBlock(
            block_id=WhoOwnsId.OWNER_BLOCK,
            label=plain("Owner"),
            element=UserSelectElement(action_id=WhoOwnsId.OWNER),
        ),
        InputBlock(
            block_id=WhoOwnsId.TEAM_BLOCK,
            label=plain("Team"),
            optional=True,
            element=text_input(WhoOwnsId.TEAM, max_length=200),
        ),
        InputBlock(
            block_id=WhoOwnsId.BACKUPS_BLOCK,
            label=plain("Backups"),
            optional=True,
            element=UserMultiSelectElement(action_id=WhoOwnsId.BACKUPS, max_selected_items=5),
        ),
        InputBlock(
            block_id=WhoOwnsId.CHANNEL_BLOCK,
            label=plain("Channel"),
            optional=True,
            element=ChannelSelectElement(action_id=WhoOwnsId.CHANNEL),
        ),
        InputBlock(
            block_id=WhoOwnsId.ALIASES_BLOCK,
            label=plain("Other names (comma-separated)"),
            optional=True,
            element=text_input(WhoOwnsId.ALIASES, max_length=1000),
        ),
        DividerBlock(),
        InputBlock(
            block_id=WhoOwnsId.DESCRIPTION_BLOCK,
            label=plain("Description"),
            optional=True,
            element=text_input(WhoOwnsId.DESCRIPTION, multiline=True, max_length=3000),
        ),
    ]
    return View(
        type="modal",
        callback_id=WhoOwnsId.AREA_MODAL,
        title=plain("Add an owner"),
        submit=plain("Add"),
        close=plain("Cancel"),
        private_metadata=private_metadata,
        blocks=blocks,
    )


def area_added(area: Area) -> str:
    return (
        f"Added *{escape_mrkdwn(area.name)}* (`{area.slug}`) to the ownership directory, "
        f"owned by {user_mention(area.owner)}."
    )


def last_confirmed(moment: datetime | None) -> str:
    return slack_date(moment)
