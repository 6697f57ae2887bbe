"""Block Kit for "who owns X" answers and the area modal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ChannelSelectElement,
    DividerBlock,
    InputBlock,
    Option,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import and_list, channel_mention, escape_mrkdwn, strip_broadcasts, user_mention
from bot.slack.blocks import context, plain, section, section_json, slack_date, text_input
from models import Area, AreaKind, OwnerStatus


class WhoOwnsId(StrEnum):
    SHARE = "whoowns_share"
    PICK = "whoowns_pick"
    ADD = "whoowns_add"
    CLAIM = "whoowns_claim"
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
    KIND_BLOCK = "area_kind"
    KIND = "kind"
    DESCRIPTION_BLOCK = "area_description"
    DESCRIPTION = "description"
    ALIASES_BLOCK = "area_aliases"
    ALIASES = "aliases"


USAGE = (
    "*/whoowns <what>* finds who owns a product area, feature, service or process.\n"
    "Examples: `/whoowns billing`, `/whoowns bulk export`, `/whoowns release process`.\n"
    "You can also mention me: `@Switchboard who owns billing?`"
)


# Owners who no longer answer for their area: it is shown as having no owner, with a Claim button.
GONE_STATUSES = (OwnerStatus.DISOWNED, OwnerStatus.DEACTIVATED, OwnerStatus.MISSING)


def has_no_owner(area: Area) -> bool:
    """Nobody answers for the area: no owner, or one who handed it back or left Slack."""
    return area.owner is None or area.owner_status in GONE_STATUSES


def _status_note(area: Area) -> str:
    if area.owner_status == OwnerStatus.UNCONFIRMED:
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
    blocks.append(context(_facts(area)))
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
    if has_no_owner(area):
        return no_owner_text(area)
    return f"{escape_mrkdwn(area.name)} is owned by {user_mention(area.owner)}"


def area_answer(area: Area, *, shareable: bool = True) -> tuple[str, list[Block]]:
    """The fallback text and blocks answering for one area: its card, or who could claim it."""
    if has_no_owner(area):
        return no_owner_text(area), no_owner_card(area, shareable=shareable)
    return area_card_text(area), area_card(area, shareable=shareable)


def _why_no_owner(area: Area) -> str:
    if area.owner is None:
        return ""
    if area.owner_status == OwnerStatus.DISOWNED:
        # The row's last change is the hand-back: an area nobody owns is not edited in between.
        return f" ({user_mention(area.owner)} handed it back on {slack_date(area.updated_at)})"
    if area.owner_status == OwnerStatus.DEACTIVATED:
        return f" ({user_mention(area.owner)}'s Slack account is deactivated)"
    return f" ({user_mention(area.owner)} is no longer in this Slack workspace)"


def no_owner_text(area: Area) -> str:
    backups = [user_mention(b) for b in dict.fromkeys(area.backups or ()) if b != area.owner]
    who = f"backups: {', '.join(backups)}" if backups else "no backups"
    return f"*{escape_mrkdwn(area.name)}* has no owner right now{_why_no_owner(area)}; {who}."


def no_owner_card(area: Area, *, shareable: bool = True) -> list[Block]:
    """An area nobody answers for: why, its backups, and a button to claim it."""
    buttons = [
        ButtonElement(text=plain("Claim it"), action_id=WhoOwnsId.CLAIM, value=area.slug, style="primary")
    ]
    if shareable:
        buttons.append(
            ButtonElement(text=plain("Share in channel"), action_id=WhoOwnsId.SHARE, value=area.slug)
        )
    return [
        section(no_owner_text(area)),
        context(_facts(area)),
        ActionsBlock(elements=buttons),
    ]


def _facts(area: Area) -> str:
    return (
        f"`{area.slug}` · {area.kind.replace('_', ' ')} · last confirmed {slack_date(area.last_confirmed_at)}"
    )


def claimed_reply(area: Area, *, by: str) -> str:
    return (
        f":raised_hands: {user_mention(by)} claimed *{escape_mrkdwn(area.name)}* and owns it now. "
        "People asking `/whoowns` will be pointed to them."
    )


class Named(Protocol):
    """What a question needs of an area it offers: an `Area`, or a search match."""

    @property
    def name(self) -> str: ...

    @property
    def slug(self) -> str: ...


def _pick_button(area: Named) -> ButtonElement:
    return ButtonElement(
        text=plain(escape_mrkdwn(area.name)), action_id=f"{WhoOwnsId.PICK}:{area.slug}", value=area.slug
    )


def _add_button(query: str, label: str) -> ButtonElement:
    return ButtonElement(
        text=plain(label),
        action_id=WhoOwnsId.ADD,
        # Handed back to prefill the new area's name: no broadcast in it either.
        value=strip_broadcasts(query)[:2000],
        style="primary",
    )


def _names(areas: Sequence[Named]) -> str:
    return and_list([f"*{escape_mrkdwn(a.name)}*" for a in areas], limit=3)


def ambiguous_text(query: str, areas: Sequence[Named]) -> str:
    return f"Several areas match *{escape_mrkdwn(query)}*: {_names(areas[:3])}. Which one did you mean?"


def did_you_mean_text(query: str, area: Named) -> str:
    return (
        f"Did you mean *{escape_mrkdwn(area.name)}*? If not, add *{escape_mrkdwn(query)}* to the directory."
    )


def not_found_text(query: str, closest: Sequence[Named]) -> str:
    text = f"I couldn't find an owner for *{escape_mrkdwn(query)}*."
    if closest:
        text += f" Closest names: {_names(closest[:3])}."
    return text + " Know who owns it? Add it."


@dataclass(frozen=True)
class Choices:
    """An answer that is a question: its text, the areas offered as buttons, and the label of the
    button adding the query as a new area (None: no such button)."""

    text: str
    picks: Sequence[Named]
    add_label: str | None = None


def ambiguous(query: str, areas: Sequence[Named]) -> Choices:
    """Top matches (two or three) to pick from."""
    return Choices(ambiguous_text(query, areas), areas[:3])


def did_you_mean(query: str, area: Named) -> Choices:
    """One weak match: offer it, and adding the query as a new area."""
    label = f'Add "{strip_broadcasts(escape_mrkdwn(query))[:60]}"'
    return Choices(did_you_mean_text(query, area), [area], label)


def not_found(query: str, closest: Sequence[Named]) -> Choices:
    """Nothing close: the closest names (up to three), and an "Add it" button."""
    return Choices(not_found_text(query, closest), closest[:3], "Add it")


def choice_blocks(query: str, choices: Choices) -> list[Block]:
    buttons = [_pick_button(area) for area in choices.picks]
    if choices.add_label is not None:
        buttons.append(_add_button(query, choices.add_label))
    return [section(choices.text), ActionsBlock(elements=buttons)]


def pick_button_json(area: Named) -> dict[str, Any]:
    """An area's button in a question, as Slack's JSON."""
    return _pick_button(area).to_dict()


_ACTIONS_JSON = ActionsBlock(elements=[]).to_dict()


def choice_json(
    query: str, choices: Choices, pick_json: Callable[[Named], dict[str, Any]] = pick_button_json
) -> list[dict[str, Any]]:
    """`choice_blocks` as Slack's JSON, with each area's button from `pick_json` (serialised once
    per version of the area by the caller; serialising Block Kit validates every object)."""
    buttons = [pick_json(area) for area in choices.picks]
    if choices.add_label is not None:
        buttons.append(_add_button(query, choices.add_label).to_dict())
    return [section_json(choices.text), {**_ACTIONS_JSON, "elements": buttons}]


def usage() -> list[Block]:
    return [section(USAGE)]


def kind_label(kind: str) -> str:
    """`product_area` → `Product area`."""
    return kind.replace("_", " ").capitalize()


def kind_select(initial: str = AreaKind.PRODUCT_AREA) -> StaticSelectElement:
    """Every kind of area the directory knows, as a single choice."""
    options = [Option(value=kind.value, label=kind_label(kind.value)) for kind in AreaKind]
    chosen = next((o for o in options if o.value == initial), options[0])
    return StaticSelectElement(action_id=WhoOwnsId.KIND, options=options, initial_option=chosen)


def area_modal(*, name: str = "", private_metadata: str = "") -> View:
    """Modal to add an area to the directory."""
    blocks: list[Block] = [
        InputBlock(
            block_id=WhoOwnsId.NAME_BLOCK,
            label=plain("Name"),
            element=text_input(WhoOwnsId.NAME, initial=name, max_length=200),
        ),
        InputBlock(
            block_id=WhoOwnsId.KIND_BLOCK,
            label=plain("Kind"),
            element=kind_select(),
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
