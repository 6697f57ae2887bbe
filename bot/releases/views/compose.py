"""The compose modal (new release and edit), and the previews a draft shows its owner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConversationFilter,
    ConversationMultiSelectElement,
    DatePickerElement,
    DividerBlock,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import channel_mention, escape_mrkdwn, user_mention
from bot.releases.releases import ReleaseCopy
from bot.releases.views._common import LANGUAGES, language_name, release_facts
from bot.releases.views.ids import WHEN_AT, WHEN_NOW, ReleaseId
from bot.releases.views.message import release_message
from bot.slack.blocks import as_dicts, context, plain, section, text_input
from models import Release, ReleasePost

TIMEZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
]


# ---- previews -----------------------------------------------------------------------------------


def preview(copy: ReleaseCopy, channels: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The message as it will post in `channels`, under one line saying so."""
    text, blocks = release_message(copy)
    where = ", ".join(channel_mention(c) for c in channels[:20])
    if len(channels) > 20:
        where += f" and {len(channels) - 20} more"
    label = context(
        f":eyes: Preview in *{language_name(copy.locale)}* (`{copy.locale}`) — "
        f"will post to {where or '_no channel_'}"
    )
    return f"Preview ({copy.locale}): {text}", [label.to_dict(), *blocks]


def preview_controls(release: Release, posts: list[ReleasePost]) -> tuple[str, list[dict[str, Any]]]:
    """Under the previews: what happens next, and the buttons to do it."""
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    blocks: list[Block] = [
        section(f"*Release #{release.id} — {title}* is a draft.\n{release_facts(release, posts)}"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Send for approval"),
                    action_id=ReleaseId.SUBMIT,
                    value=str(release.id),
                    style="primary",
                ),
                ButtonElement(text=plain("Edit"), action_id=ReleaseId.EDIT, value=str(release.id)),
                ButtonElement(
                    text=plain("Discard"), action_id=ReleaseId.DISCARD, value=str(release.id), style="danger"
                ),
            ]
        ),
    ]
    return f"Release #{release.id} is a draft", as_dicts(blocks)


# ---- the compose modal ----------------------------------------------------------------------------


class ComposeMetadata(BaseModel):
    """Carried in the modal's `private_metadata`."""

    release_id: int | None = None
    channel_id: str | None = None
    locales: list[str] = Field(default_factory=list)
    # Already posted: only the text can change (every message follows).
    locked: bool = False


@dataclass
class ComposeForm:
    """Initial values of the modal (empty for a new release)."""

    title: str = ""
    version: str = ""
    summary: str = ""
    notes: str = ""
    default_locale: str = "en"
    launch: tuple[int, str] | None = None
    themes: list[tuple[int, str]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    variant_channels: dict[str, list[str]] = field(default_factory=dict)
    when: str = WHEN_NOW
    date: str | None = None
    time: str | None = None
    timezone: str = "UTC"
    approver: str | None = None


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=plain(escape_mrkdwn(label)))


def language_option(locale: str) -> Option:
    return _option(locale, f"{language_name(locale)} ({locale})")


def _variant_blocks(locale: str, form: ComposeForm, *, locked: bool) -> list[Block]:
    values = form.variants.get(locale, {})
    name = language_name(locale)
    channels = form.variant_channels.get(locale) or None
    blocks: list[Block] = [
        DividerBlock(),
        section(f"*{name}* (`{locale}`) — blank fields use the default text."),
    ]
    if not locked:
        blocks.append(
            InputBlock(
                block_id=f"{ReleaseId.VARIANT_CHANNELS}:{locale}",
                label=plain(f"Channels that read {name}"),
                optional=True,
                element=ConversationMultiSelectElement(
                    action_id=ReleaseId.VARIANT_VALUE,
                    initial_conversations=channels,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    return blocks + [
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_TITLE}:{locale}",
            label=plain(f"Title in {name}"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("title"), max_length=200),
        ),
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_SUMMARY}:{locale}",
            label=plain(f"Summary in {name}"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("summary"), multiline=True),
        ),
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_NOTES}:{locale}",
            label=plain(f"Notes in {name} (Markdown)"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("notes"), multiline=True),
        ),
    ]


def compose_modal(form: ComposeForm, metadata: ComposeMetadata) -> View:
    """The release modal; every language in `metadata.locales` gets its own fields. Once posted
    (`locked`), only the text is editable."""
    locked = metadata.locked
    blocks: list[Block] = [
        InputBlock(
            block_id=ReleaseId.TITLE_BLOCK,
            label=plain("Title"),
            element=text_input(ReleaseId.TITLE, initial=form.title, max_length=200),
        ),
        InputBlock(
            block_id=ReleaseId.VERSION_BLOCK,
            label=plain("Version"),
            optional=True,
            element=text_input(ReleaseId.VERSION, initial=form.version, max_length=64),
        ),
        InputBlock(
            block_id=ReleaseId.SUMMARY_BLOCK,
            label=plain("Summary"),
            optional=True,
            element=text_input(ReleaseId.SUMMARY, initial=form.summary, multiline=True),
        ),
        InputBlock(
            block_id=ReleaseId.NOTES_BLOCK,
            label=plain("Release notes (Markdown)"),
            optional=True,
            element=text_input(ReleaseId.NOTES, initial=form.notes, multiline=True),
        ),
        InputBlock(
            block_id=ReleaseId.LAUNCH_BLOCK,
            label=plain("Launch"),
            optional=True,
            element=ExternalDataSelectElement(
                action_id=ReleaseId.LAUNCH,
                placeholder=plain("Part of a launch?"),
                min_query_length=0,
                initial_option=_option(str(form.launch[0]), form.launch[1]) if form.launch else None,
            ),
        ),
        InputBlock(
            block_id=ReleaseId.THEMES_BLOCK,
            label=plain("Shipped themes (their requesters are told)"),
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id=ReleaseId.THEMES,
                placeholder=plain("Customer-voice themes this ships"),
                min_query_length=0,
                initial_options=[_option(str(i), t) for i, t in form.themes] or None,
            ),
        ),
    ]
    if locked:
        blocks.append(
            context(
                ":lock: Already posted: the channels, schedule and approver stay as they are. "
                "Saving updates every posted message."
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=ReleaseId.CHANNELS_BLOCK,
                label=plain("Audience channels"),
                element=ConversationMultiSelectElement(
                    action_id=ReleaseId.CHANNELS,
                    initial_conversations=form.channels or None,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ReleaseId.DEFAULT_LOCALE_BLOCK,
            label=plain("Default language"),
            element=StaticSelectElement(
                action_id=ReleaseId.DEFAULT_LOCALE,
                options=[language_option(loc) for loc in LANGUAGES],
                initial_option=language_option(form.default_locale),
            ),
        )
    )
    for locale in metadata.locales:
        if locale != form.default_locale:
            blocks.extend(_variant_blocks(locale, form, locked=locked))
    addable = [loc for loc in LANGUAGES if loc not in metadata.locales and loc != form.default_locale]
    if not locked:
        blocks.append(
            ActionsBlock(
                block_id=ReleaseId.ADD_LOCALE_BLOCK,
                elements=[
                    StaticSelectElement(
                        action_id=ReleaseId.ADD_LOCALE,
                        placeholder=plain("Add a language…"),
                        options=[language_option(loc) for loc in addable],
                    )
                ],
            )
        )
        blocks += _schedule_blocks(form)
    editing = metadata.release_id is not None
    return View(
        type="modal",
        callback_id=ReleaseId.MODAL,
        title=plain("Edit release" if editing else "New release"),
        submit=plain("Save" if editing else "Preview"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(),
        blocks=blocks,
    )


def _schedule_blocks(form: ComposeForm) -> list[Block]:
    when_options = [
        _option(WHEN_NOW, "As soon as it is approved"),
        _option(WHEN_AT, "At the date and time below"),
    ]
    zones = TIMEZONES if form.timezone in TIMEZONES else [form.timezone, *TIMEZONES]
    return [
        DividerBlock(),
        InputBlock(
            block_id=ReleaseId.WHEN_BLOCK,
            label=plain("When to post"),
            element=RadioButtonsElement(
                action_id=ReleaseId.WHEN,
                options=when_options,
                initial_option=when_options[0] if form.when == WHEN_NOW else when_options[1],
            ),
        ),
        InputBlock(
            block_id=ReleaseId.DATE_BLOCK,
            label=plain("Date"),
            optional=True,
            element=DatePickerElement(action_id=ReleaseId.DATE, initial_date=form.date),
        ),
        InputBlock(
            block_id=ReleaseId.TIME_BLOCK,
            label=plain("Time"),
            optional=True,
            element=TimePickerElement(action_id=ReleaseId.TIME, initial_time=form.time),
        ),
        InputBlock(
            block_id=ReleaseId.TIMEZONE_BLOCK,
            label=plain("Timezone"),
            element=StaticSelectElement(
                action_id=ReleaseId.TIMEZONE,
                options=[_option(z, z) for z in zones],
                initial_option=_option(form.timezone, form.timezone),
            ),
        ),
        InputBlock(
            block_id=ReleaseId.APPROVER_BLOCK,
            label=plain("Approver"),
            element=UserSelectElement(action_id=ReleaseId.APPROVER, initial_user=form.approver),
        ),
    ]


def option_list(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Options for an external select, as Slack wants them."""
    return [_option(str(value), label).to_dict() for value, label in items]


def saved_notice(
    release: Release, *, approval_reset: bool, updates_posts: bool, awaiting_approval: bool = False
) -> str:
    title = escape_mrkdwn(release.title)
    if awaiting_approval:
        return (
            f":pencil2: Your changes to release *#{release.id} {title}* went to "
            f"{user_mention(release.approver)} for approval; its posted messages are updated once "
            "they approve."
        )
    if updates_posts:
        return f":pencil2: Release *#{release.id} {title}* changed; every posted message is being updated."
    if approval_reset:
        return (
            f":pencil2: Release *#{release.id} {title}* changed, so it needs approval again; "
            f"{user_mention(release.approver)} has been asked."
        )
    return f":pencil2: Release *#{release.id} {title}* saved."
