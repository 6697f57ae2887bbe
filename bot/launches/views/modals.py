"""Modals of launches: creation (details, then function owners), a status note, a go/no-go vote."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    Option,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import escape_mrkdwn
from bot.launches.calendar import WEEKDAY_NAMES
from bot.launches.functions import DEFAULT_TEMPLATE, TEMPLATE_LABELS, TEMPLATES, OwnerGuess
from bot.launches.views.matrix import LaunchId
from bot.slack.blocks import context, plain, section, text_input
from models.launch import Vote

WORKING = ":hourglass_flowing_sand: Creating the launch, its channel and inviting the owners…"


class LaunchDraft(BaseModel):
    """Step one of the creation modal, carried to step two in `private_metadata`."""

    name: str
    target_date: date
    channel: str | None = None
    owner: str
    template: str = DEFAULT_TEMPLATE
    functions: list[str]
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    time: str = "09:00"
    timezone: str = "UTC"
    country: str | None = None
    origin_channel: str | None = None


class NoteMetadata(BaseModel):
    run_id: int | None = None
    function_id: int
    channel: str | None = None
    ts: str | None = None


class VoteMetadata(BaseModel):
    decision_id: int
    vote: Vote
    channel: str | None = None


def _day_option(day: int) -> Option:
    return Option(value=str(day), label=WEEKDAY_NAMES[day])


def create_modal(
    *, owner: str, timezone: str, template: str = DEFAULT_TEMPLATE, origin_channel: str | None = None
) -> View:
    """Step one: name, date, channel, owner, functions and the standup schedule."""
    template_options = [Option(value=key, label=TEMPLATE_LABELS[key]) for key in TEMPLATES]
    blocks: list[Block] = [
        InputBlock(
            block_id=LaunchId.NAME_BLOCK,
            label=plain("Launch name"),
            element=text_input(LaunchId.NAME, max_length=200),
        ),
        InputBlock(
            block_id=LaunchId.TARGET_BLOCK,
            label=plain("Target date"),
            element=DatePickerElement(action_id=LaunchId.TARGET),
        ),
        InputBlock(
            block_id=LaunchId.OWNER_BLOCK,
            label=plain("Launch owner"),
            element=UserSelectElement(action_id=LaunchId.OWNER, initial_user=owner),
        ),
        InputBlock(
            block_id=LaunchId.CHANNEL_BLOCK,
            label=plain("Launch channel"),
            optional=True,
            hint=plain("Leave empty to create #launch-<name>; the owners are invited either way."),
            element=ConversationSelectElement(
                action_id=LaunchId.CHANNEL,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id=LaunchId.TEMPLATE_BLOCK,
            label=plain("Template"),
            optional=True,
            hint=plain("Used when the function list below is left empty."),
            element=StaticSelectElement(
                action_id=LaunchId.TEMPLATE,
                options=template_options,
                initial_option=next(o for o in template_options if o.value == template),
            ),
        ),
        InputBlock(
            block_id=LaunchId.FUNCTIONS_BLOCK,
            label=plain("Functions that sign off (one per line)"),
            optional=True,
            hint=plain("Owners default to the owners of the matching areas; you can change them next."),
            element=text_input(
                LaunchId.FUNCTIONS, initial="\n".join(TEMPLATES[template]), multiline=True, max_length=2000
            ),
        ),
        section(
            "*Readiness standups* — each function owner gets a DM at this time in their own timezone "
            "(in the launch's timezone below when Slack does not know theirs)."
        ),
        InputBlock(
            block_id=LaunchId.DAYS_BLOCK,
            label=plain("Days"),
            element=CheckboxesElement(
                action_id=LaunchId.DAYS,
                options=[_day_option(d) for d in range(1, 8)],
                initial_options=[_day_option(d) for d in range(1, 6)],
            ),
        ),
        InputBlock(
            block_id=LaunchId.TIME_BLOCK,
            label=plain("Time"),
            element=TimePickerElement(action_id=LaunchId.TIME, initial_time="09:00"),
        ),
        InputBlock(
            block_id=LaunchId.TIMEZONE_BLOCK,
            label=plain("Timezone"),
            hint=plain("An IANA name such as Europe/Berlin or America/New_York."),
            element=text_input(LaunchId.TIMEZONE, initial=timezone, max_length=64),
        ),
        InputBlock(
            block_id=LaunchId.COUNTRY_BLOCK,
            label=plain("Skip public holidays of (country code)"),
            optional=True,
            hint=plain("For example DE, US or FR. Leave empty to skip weekends only."),
            element=text_input(LaunchId.COUNTRY, max_length=8),
        ),
    ]
    return View(
        type="modal",
        callback_id=LaunchId.CREATE_MODAL,
        title=plain("New launch"),
        submit=plain("Next"),
        close=plain("Cancel"),
        private_metadata=origin_channel or "",
        blocks=blocks,
    )


def owner_block_id(index: int) -> str:
    return f"{LaunchId.FUNCTION_OWNER_BLOCK}:{index}"


def owners_modal(draft: LaunchDraft, guesses: dict[str, OwnerGuess]) -> View:
    """Step two: one owner per function, prefilled from the ownership directory."""
    blocks: list[Block] = [
        section(
            f"Who signs off each function of *{escape_mrkdwn(draft.name)}*? "
            "They get the readiness standup DMs and vote on go/no-go."
        )
    ]
    for index, name in enumerate(draft.functions):
        guess = guesses.get(name) or OwnerGuess(None, None)
        hint = f"Owner of `{guess.area_slug}` in the ownership directory." if guess.area_slug else None
        blocks.append(
            InputBlock(
                block_id=owner_block_id(index),
                label=plain(escape_mrkdwn(name)),
                optional=True,
                hint=plain(hint) if hint else None,
                element=UserSelectElement(action_id=LaunchId.FUNCTION_OWNER, initial_user=guess.owner)
                if guess.owner
                else UserSelectElement(action_id=LaunchId.FUNCTION_OWNER),
            )
        )
    blocks.append(context("A function without an owner is answered by the launch owner."))
    return View(
        type="modal",
        callback_id=LaunchId.OWNERS_MODAL,
        title=plain("Function owners"),
        submit=plain("Create launch"),
        close=plain("Cancel"),
        private_metadata=draft.model_dump_json(),
        blocks=blocks,
    )


def message_modal(title: str, text: str) -> View:
    """A modal that only says something (working…, done, or what went wrong)."""
    return View(type="modal", title=plain(title), close=plain("Close"), blocks=[section(text)])


def note_modal(*, function_name: str, launch_name: str, note: str, metadata: NoteMetadata) -> View:
    return View(
        type="modal",
        callback_id=LaunchId.NOTE_MODAL,
        title=plain("Add a note"),
        submit=plain("Save"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(),
        blocks=[
            section(f"*{escape_mrkdwn(function_name)}* for *{escape_mrkdwn(launch_name)}*"),
            InputBlock(
                block_id=LaunchId.NOTE_BLOCK,
                label=plain("Note"),
                hint=plain("Shown in the sign-off matrix and the standup summary."),
                element=text_input(LaunchId.NOTE_INPUT, initial=note, multiline=True, max_length=2000),
            ),
        ],
    )


def vote_modal(*, launch_name: str, metadata: VoteMetadata) -> View:
    label = "Go" if metadata.vote == Vote.GO else "No-go"
    return View(
        type="modal",
        callback_id=LaunchId.VOTE_MODAL,
        title=plain(f"Vote {label}"),
        submit=plain(f"Vote {label}"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(),
        blocks=[
            section(
                f"Your *{label}* for *{escape_mrkdwn(launch_name)}*. "
                "Everyone in the launch channel sees the reason."
            ),
            InputBlock(
                block_id=LaunchId.REASON_BLOCK,
                label=plain("Reason"),
                element=text_input(LaunchId.REASON, multiline=True, max_length=1000),
            ),
        ],
    )
