"""Block Kit for capturing feedback: the feedback modal, its options, confirmations and suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import channel_mention, escape_mrkdwn, plural, strip_broadcasts, user_mention
from bot.feedback.similarity import ThemeSuggestion
from bot.feedback.themes import ThemeCounts
from bot.feedback.views.common import KIND_LABELS, FeedbackId, quote
from bot.integrations.views import tracked_in
from bot.slack.blocks import context, plain, section, text_input
from models.feedback import FeedbackKind, Importance

# A plain_text_input holds at most 3,000 characters; longer messages are shown, not edited.
EDITABLE_TEXT_LIMIT = 3000
OPTION_VALUE_LIMIT = 150
NEW_THEME_PREFIX = "new:"


USAGE = (
    "*/feedback [text]* logs customer feedback: it opens a form prefilled with your text.\n"
    "To log a message someone wrote, use *Log as feedback* from the message's ⋯ menu, "
    "or react to it with the feedback emoji.\n"
    "*/feedback link <theme> <url>* tracks a theme in a GitHub, Linear or Jira issue "
    "(`/feedback link` explains)."
)

IMPORTANCE_LABELS: dict[str, str] = {
    Importance.LOW: "Low",
    Importance.MEDIUM: "Medium",
    Importance.HIGH: "High",
    Importance.CRITICAL: "Critical — alerts the area owner",
}


class FeedbackModalMetadata(BaseModel):
    """Carried through the feedback modal in `private_metadata` (Slack allows 3,000 characters)."""

    source: str = "command"
    channel: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    author: str | None = None
    permalink: str | None = None
    feedback_id: int | None = None
    draft_id: str | None = None
    origin_channel: str | None = None


@dataclass(frozen=True)
class ModalPrefill:
    """What the modal starts with: the message, or the stored item being detailed."""

    text: str = ""
    kind: str | None = None
    importance: str | None = None
    customer: str | None = None
    segment: str | None = None
    tags: Sequence[str] = ()
    area: tuple[str, str] | None = None  # (slug, name)
    theme: tuple[int, str] | None = None  # (id, title)
    reporters: Sequence[str] = ()


def suggestion_text(suggestion: ThemeSuggestion) -> str:
    customers = plural(suggestion.counts.customers, "customer")
    return f"Looks like *{escape_mrkdwn(suggestion.title)}* ({customers}) — link it?"


def _option(value: str, label: str) -> Option:
    return Option(value=value[:OPTION_VALUE_LIMIT], text=plain(escape_mrkdwn(label)))


def kind_options() -> list[Option]:
    return [_option(str(kind), label) for kind, label in KIND_LABELS.items()]


def importance_options() -> list[Option]:
    return [_option(str(level), label) for level, label in IMPORTANCE_LABELS.items()]


def area_option(slug: str, name: str) -> Option:
    return _option(slug, f"{name} ({slug})")


def theme_option(theme_id: int, title: str, counts: ThemeCounts | None = None) -> Option:
    if counts is None:
        return _option(str(theme_id), title)
    label = f"{title} · {plural(counts.items, 'item')}, {plural(counts.customers, 'customer')}"
    return _option(str(theme_id), label)


def new_theme_option(title: str) -> Option:
    return _option(
        NEW_THEME_PREFIX + strip_broadcasts(title)[: OPTION_VALUE_LIMIT - len(NEW_THEME_PREFIX)],
        f"➕ New theme: {title}",
    )


def feedback_modal(
    *,
    metadata: FeedbackModalMetadata,
    prefill: ModalPrefill,
    suggestions: Sequence[ThemeSuggestion] = (),
) -> View:
    """The one form every capture path opens, prefilled with what is known."""
    blocks: list[Block] = []
    origin: list[str] = []
    if metadata.author:
        origin.append(f"From {user_mention(metadata.author)}")
    if metadata.channel:
        origin.append(f"in {channel_mention(metadata.channel)}")
    if metadata.permalink:
        origin.append(f"<{metadata.permalink}|view message>")
    if origin:
        blocks.append(context(" ".join(origin)))
    if prefill.reporters:
        names = ", ".join(user_mention(r) for r in prefill.reporters[:10])
        blocks.append(
            context(f"Already logged by {names}. Saving adds you as a reporter and updates the details.")
        )
    if len(prefill.text) <= EDITABLE_TEXT_LIMIT:
        blocks.append(
            InputBlock(
                block_id=FeedbackId.TEXT_BLOCK,
                label=plain("Feedback"),
                element=text_input(
                    FeedbackId.TEXT,
                    initial=prefill.text or None,
                    multiline=True,
                    max_length=EDITABLE_TEXT_LIMIT,
                ),
            )
        )
    else:
        blocks.append(section(quote(prefill.text, 1500)))
        blocks.append(context(f"The whole message ({len(prefill.text):,} characters) is stored."))
    if suggestions and prefill.theme is None:
        blocks.append(
            InputBlock(
                block_id=FeedbackId.SUGGEST_BLOCK,
                label=plain("Similar themes"),
                optional=True,
                element=RadioButtonsElement(
                    action_id=FeedbackId.SUGGEST,
                    options=[
                        Option(
                            value=str(s.theme_id),
                            text=plain(
                                f"{escape_mrkdwn(s.title)} ({plural(s.counts.customers, 'customer')})"
                            ),
                            description=plain("Looks like this — link it?"),
                        )
                        for s in suggestions
                    ],
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=FeedbackId.KIND_BLOCK,
            label=plain("Kind"),
            element=StaticSelectElement(
                action_id=FeedbackId.KIND,
                options=kind_options(),
                initial_option=_option(
                    prefill.kind or FeedbackKind.REQUEST,
                    KIND_LABELS[FeedbackKind(prefill.kind or FeedbackKind.REQUEST)],
                ),
            ),
        ),
        InputBlock(
            block_id=FeedbackId.IMPORTANCE_BLOCK,
            label=plain("Importance"),
            element=StaticSelectElement(
                action_id=FeedbackId.IMPORTANCE,
                options=importance_options(),
                initial_option=_option(
                    prefill.importance or Importance.MEDIUM,
                    IMPORTANCE_LABELS[Importance(prefill.importance or Importance.MEDIUM)],
                ),
            ),
        ),
        InputBlock(
            block_id=FeedbackId.CUSTOMER_BLOCK,
            label=plain("Customer / account"),
            optional=True,
            element=text_input(FeedbackId.CUSTOMER, initial=prefill.customer, max_length=200),
        ),
        InputBlock(
            block_id=FeedbackId.SEGMENT_BLOCK,
            label=plain("Segment"),
            optional=True,
            element=text_input(FeedbackId.SEGMENT, initial=prefill.segment, max_length=100),
        ),
        InputBlock(
            block_id=FeedbackId.AREA_BLOCK,
            label=plain("Product area"),
            optional=True,
            element=ExternalDataSelectElement(
                action_id=FeedbackId.AREA,
                placeholder=plain("Search the ownership directory"),
                min_query_length=0,
                initial_option=area_option(*prefill.area) if prefill.area else None,
            ),
        ),
        InputBlock(
            block_id=FeedbackId.TAGS_BLOCK,
            label=plain("Tags (comma-separated)"),
            optional=True,
            element=text_input(FeedbackId.TAGS, initial=", ".join(prefill.tags) or None, max_length=1000),
        ),
        InputBlock(
            block_id=FeedbackId.THEME_BLOCK,
            label=plain("Theme"),
            optional=True,
            hint=plain("Type to find a theme, or to start a new one"),
            element=ExternalDataSelectElement(
                action_id=FeedbackId.THEME,
                placeholder=plain("Search themes"),
                min_query_length=0,
                initial_option=theme_option(*prefill.theme) if prefill.theme else None,
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=FeedbackId.MODAL,
        title=plain("Log feedback"),
        submit=plain("Save"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(exclude_none=True),
        blocks=blocks,
    )


def capture_confirmation(
    *,
    feedback_id: int,
    text: str,
    created: bool,
    reporter_added: bool,
    reporters: Sequence[str],
    user_id: str,
    theme_title: str | None,
    suggestions: Sequence[ThemeSuggestion] = (),
    text_unavailable: bool = False,
    theme_links: Sequence[tuple[str, str]] = (),
) -> list[Block]:
    """What the person who logged an item sees (ephemeral, or a DM)."""
    others = [r for r in reporters if r != user_id]
    if created:
        headline = ":memo: Logged as feedback."
    elif reporter_added:
        names = ", ".join(user_mention(r) for r in others[:5]) or "someone"
        headline = f":memo: Already logged by {names} — you've been added as a reporter."
    else:
        headline = ":memo: You had already logged this one; nothing changed."
    blocks: list[Block] = [section(f"{headline}\n{quote(text, 300)}")]
    if text_unavailable:
        blocks.append(
            context(
                "I couldn't read the message (invite Switchboard to the channel), so only its link is "
                "stored — use *Add details* to paste the text."
            )
        )
    if theme_title:
        tracked = f" · {tracked_in(theme_links)}" if theme_links else ""
        blocks.append(context(f"Theme: *{escape_mrkdwn(theme_title)}*{tracked}"))
    for suggestion in suggestions if not theme_title else ():
        blocks.append(
            section(
                suggestion_text(suggestion),
                accessory=ButtonElement(
                    text=plain("Link it"),
                    action_id=f"{FeedbackId.LINK_THEME}:{suggestion.theme_id}",
                    value=f"{feedback_id}:{suggestion.theme_id}",
                ),
            )
        )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Add details"),
                    action_id=FeedbackId.ADD_DETAILS,
                    value=str(feedback_id),
                    style="primary",
                ),
                ButtonElement(
                    text=plain("New theme"), action_id=FeedbackId.NEW_THEME, value=str(feedback_id)
                ),
            ]
        )
    )
    return blocks


def linked_confirmation(
    *, feedback_id: int, theme_title: str, links: Sequence[tuple[str, str]] = ()
) -> list[Block]:
    tracked = f"\n{tracked_in(links)}" if links else ""
    return [
        section(f":link: Feedback #{feedback_id} is linked to *{escape_mrkdwn(theme_title)}*.{tracked}"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Add details"), action_id=FeedbackId.ADD_DETAILS, value=str(feedback_id)
                )
            ]
        ),
    ]
