"""Block Kit for keeping ownership fresh: "Still yours?", hand-over, and the weekly stale report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    InputBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import and_list, escape_mrkdwn, plural, plural_noun, user_mention
from bot.slack.blocks import context, plain, section, slack_date
from models import Area, OwnerStatus


class OwnershipId(StrEnum):
    CONFIRM = "ownership_confirm"
    CONFIRM_ALL = "ownership_confirm_all"
    # Followed by ":<area id>": one per area in a "Still yours?" DM, answered or not.
    ANSWERED_BLOCK = "ownership_answered"
    HAND_OVER = "ownership_hand_over"
    NOT_ME = "ownership_not_me"
    ACTIONS_BLOCK = "ownership_answer"
    HAND_OVER_MODAL = "ownership_hand_over_modal"
    NEW_OWNER_BLOCK = "ownership_new_owner"
    NEW_OWNER = "new_owner"


class HandOverMetadata(BaseModel):
    """Carried through the hand-over modal in `private_metadata`."""

    area_id: int
    # Who owned the area when the modal opened: a submission after it changed hands is refused.
    owner: str | None
    response_url: str | None = None
    from_home: bool = False
    # The areas of the "Still yours?" DM it was opened from, to show their answers once done.
    dm_area_ids: list[int] = []


STATUS_NOTES: dict[str, str] = {
    OwnerStatus.DEACTIVATED: "owner's Slack account is deactivated",
    OwnerStatus.MISSING: "owner is not in this Slack workspace",
    OwnerStatus.UNCONFIRMED: "owner did not confirm",
    OwnerStatus.DISOWNED: "owner says it isn't theirs",
}
REPORT_HEADINGS: dict[str, str] = {
    OwnerStatus.DEACTIVATED: ":no_entry: Owner deactivated",
    OwnerStatus.MISSING: ":grey_question: Owner not found in Slack",
    OwnerStatus.UNCONFIRMED: ":hourglass: Owner did not answer",
    OwnerStatus.DISOWNED: ":raising_hand: Owner says it isn't theirs",
}
REPORT_LINES_PER_GROUP = 15
# Areas listed in one "Still yours?" DM (two blocks each, within Slack's 50 per message); the rest
# are asked at the next check.
AREAS_PER_QUESTION = 20


def _area_facts(area: Area) -> str:
    return (
        f"`{area.slug}` · {area.kind.replace('_', ' ')} · last confirmed {slack_date(area.last_confirmed_at)}"
    )


def answer_buttons(area: Area) -> ActionsBlock:
    value = str(area.id)
    return ActionsBlock(
        block_id=f"{OwnershipId.ACTIONS_BLOCK}:{area.id}",
        elements=[
            ButtonElement(text=plain("Yes"), action_id=OwnershipId.CONFIRM, value=value, style="primary"),
            ButtonElement(text=plain("Hand over to…"), action_id=OwnershipId.HAND_OVER, value=value),
            ButtonElement(
                text=plain("Not me"),
                action_id=OwnershipId.NOT_ME,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Not yours?",
                    text=f"Switchboard will flag *{escape_mrkdwn(area.name[:200])}* as needing a new owner.",
                    confirm="Not mine",
                    deny="Cancel",
                ),
            ),
        ],
    )


def confirm_request_text(areas: list[Area], *, reminder: bool = False) -> str:
    prefix = "Reminder: " if reminder else ""
    return (
        f"{prefix}Still yours? {and_list([escape_mrkdwn(a.name) for a in areas], limit=AREAS_PER_QUESTION)}"
    )


def _intro(reminder: bool) -> str:
    return (
        ":wave: Reminder: I haven't heard back yet."
        if reminder
        else ":wave: Time for a quick ownership check."
    )


def confirm_request(areas: list[Area], *, reminder: bool = False) -> list[Block]:
    """The DM asking an owner to re-confirm their due areas: one answer per area, or "Yes to all"."""
    if len(areas) == 1:
        (area,) = areas
        return [
            section(f"{_intro(reminder)}\nStill yours? *{escape_mrkdwn(area.name)}*"),
            context(_area_facts(area)),
            answer_buttons(area),
        ]
    return check_progress(areas, owner=None, reminder=reminder)


def check_progress(areas: list[Area], *, owner: str | None, reminder: bool = False) -> list[Block]:
    """A "Still yours?" DM over several areas as it stands: unanswered areas keep their buttons,
    answered ones say how (`owner`: who was asked; None when nothing is answered yet)."""
    blocks: list[Block] = [
        section(f"{_intro(reminder)}\nStill yours? These {len(areas)} areas are due for a check:")
    ]
    open_ids = []
    for area in areas:
        outcome = None if owner is None else answered_line(area, owner=owner)
        if outcome is None:
            open_ids.append(area.id)
            blocks.append(section(f"*{escape_mrkdwn(area.name)}*\n{_area_facts(area)}"))
            blocks.append(answer_buttons(area))
        else:
            blocks.append(context(outcome))
            blocks[-1].block_id = f"{OwnershipId.ANSWERED_BLOCK}:{area.id}"
    if len(open_ids) > 1:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=plain("Yes to all"),
                        action_id=OwnershipId.CONFIRM_ALL,
                        value=",".join(str(i) for i in open_ids),
                        style="primary",
                    )
                ]
            )
        )
    return blocks


def answered_line(area: Area, *, owner: str) -> str | None:
    """How `owner`'s question about `area` was answered, or None while it is open."""
    name = escape_mrkdwn(area.name)
    if area.owner != owner:
        return f":handshake: *{name}* is now owned by {user_mention(area.owner)}."
    if area.owner_status == OwnerStatus.DISOWNED:
        return f":raising_hand: *{name}* is flagged as needing an owner."
    if area.owner_status == OwnerStatus.ACTIVE and area.confirm_requested_at is None:
        return f":white_check_mark: *{name}* confirmed {slack_date(area.last_confirmed_at)}."
    return None


def confirmed_all_reply(confirmed: list[Area], *, already: list[Area], refused: list[Area]) -> str:
    """The answer to "Yes to all": what it confirmed, what was confirmed before, what it could not."""

    def names(areas: list[Area]) -> str:
        return and_list([f"*{escape_mrkdwn(a.name)}*" for a in areas], limit=AREAS_PER_QUESTION)

    parts = []
    if confirmed:
        parts.append(f":white_check_mark: You confirmed {names(confirmed)}. Thanks!")
    if already:
        parts.append(f"{names(already)} {'was' if len(already) == 1 else 'were'} already confirmed.")
    if refused:
        parts.append(f"You can't answer for {names(refused)}: only its owner, its backups and admins can.")
    if not confirmed and not refused:
        parts.append("Nothing more to do.")
    return " ".join(parts)


def confirmed_reply(area: Area, *, by: str, changed: bool) -> str:
    name = escape_mrkdwn(area.name)
    if not changed:
        return (
            f":white_check_mark: *{name}* is confirmed as owned by {user_mention(area.owner)} "
            f"(last confirmed {slack_date(area.last_confirmed_at)}). Nothing more to do."
        )
    done = (
        f"You confirmed *{name}* is still yours."
        if by == area.owner
        else f"{user_mention(by)} confirmed {user_mention(area.owner)} still owns *{name}*."
    )
    return f":white_check_mark: {done} Thanks! Next check in {plural(area.confirm_every_days, 'day')}."


def disowned_reply(area: Area, *, channel: str | None) -> str:
    where = f" and asked in <#{channel}> who owns it now" if channel else ""
    return (
        f":raising_hand: Noted: *{escape_mrkdwn(area.name)}* is not yours. "
        f"I flagged it as needing an owner{where}."
    )


def handed_over_reply(area: Area, *, new_owner: str) -> str:
    return f":handshake: *{escape_mrkdwn(area.name)}* is now owned by {user_mention(new_owner)}. Thanks!"


def needs_owner_text(
    *, name: str, slug: str, owner: str, by: str | None, reason: str = OwnerStatus.DISOWNED
) -> str:
    if reason == OwnerStatus.DEACTIVATED:
        why = f"{user_mention(owner)}'s Slack account is deactivated"
    elif reason == OwnerStatus.MISSING:
        why = f"{user_mention(owner)} is no longer in this Slack workspace"
    else:
        actor = f" ({user_mention(by)} answered for them)" if by and by != owner else ""
        why = f"{user_mention(owner)} says it isn't theirs{actor}"
    return (
        f":sos: *{escape_mrkdwn(name)}* needs an owner: {why}. "
        f"Know who owns it? Claim it from `/whoowns {slug}`, or update `{slug}` in the directory."
    )


def new_owner_text(*, name: str, previous_owner: str | None, by: str | None, every_days: int) -> str:
    source = f" from {user_mention(previous_owner)}" if previous_owner else ""
    actor = f" by {user_mention(by)}" if by and by != previous_owner else ""
    return (
        f":wave: You now own *{escape_mrkdwn(name)}*, handed over{source}{actor}. "
        f"People asking `/whoowns` will be pointed to you; I'll check in every {plural(every_days, 'day')}."
    )


def hand_over_modal(area: Area, *, private_metadata: str) -> View:
    return View(
        type="modal",
        callback_id=OwnershipId.HAND_OVER_MODAL,
        title=plain("Hand over ownership"),
        submit=plain("Hand over"),
        close=plain("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            section(f"Who should own *{escape_mrkdwn(area.name)}* from now on?"),
            InputBlock(
                block_id=OwnershipId.NEW_OWNER_BLOCK,
                label=plain("New owner"),
                element=UserSelectElement(action_id=OwnershipId.NEW_OWNER),
            ),
            context("They get a DM, and the change is announced in the ownership channel."),
        ],
    )


def _report_line(area: Area) -> str:
    owner = f" · owner {user_mention(area.owner)}" if area.owner else ""
    confirmed = slack_date(area.last_confirmed_at)
    return f"• *{escape_mrkdwn(area.name)}* (`{area.slug}`){owner} · last confirmed {confirmed}"


def _group(heading: str, areas: list[Area]) -> Block:
    lines = [_report_line(area) for area in areas[:REPORT_LINES_PER_GROUP]]
    if len(areas) > REPORT_LINES_PER_GROUP:
        lines.append(f"…and {len(areas) - REPORT_LINES_PER_GROUP} more.")
    return section(f"*{heading}* ({len(areas)})\n" + "\n".join(lines))


def stale_report(
    *, by_status: dict[str, list[Area]], unowned: list[Area], week: str
) -> tuple[str, list[Block]]:
    """The weekly list for admins of areas nobody reliably owns."""
    total = len(unowned) + sum(len(areas) for areas in by_status.values())
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Ownership check, week {week}")),
        section(f"*{total}* {plural_noun(total, 'area needs', 'areas need')} an admin's attention."),
    ]
    for status, heading in REPORT_HEADINGS.items():
        if by_status.get(status):
            blocks.append(_group(heading, by_status[status]))
    if unowned:
        blocks.append(_group(":ghost: No owner", unowned))
    blocks.append(
        context("Fix an owner with `/whoowns <area>` or the admin API; owners confirm from their DMs.")
    )
    return (
        f"Ownership check, week {week}: {total} {plural_noun(total, 'area needs', 'areas need')} attention",
        blocks,
    )


def owned_areas_section(items: list[tuple[Area, bool]], *, limit: int = 20) -> list[Block]:
    """App Home: "Areas I own", each with its staleness and a Confirm button when one is due.

    `items` pairs each area with whether its owner has a confirmation due.
    """
    blocks: list[Block] = [section("*Areas I own*")]
    if not items:
        blocks.append(context("You don't own any area in the directory. Look one up with `/whoowns`."))
        return blocks
    for area, due in items[:limit]:
        note = STATUS_NOTES.get(area.owner_status)
        flag = f" :warning: _{note}_" if note else (" :hourglass: _confirmation due_" if due else "")
        text = f"*{escape_mrkdwn(area.name)}*{flag}\n{_area_facts(area)}"
        if due or note:
            button = ButtonElement(text=plain("Confirm"), action_id=OwnershipId.CONFIRM, value=str(area.id))
            blocks.append(section(text, accessory=button))
        else:
            blocks.append(section(text))
    if len(items) > limit:
        blocks.append(context(f"…and {len(items) - limit} more."))
    return blocks
