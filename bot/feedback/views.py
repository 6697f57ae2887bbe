"""Block Kit for feedback capture, themes, ship notices, critical alerts, the digest and App Home."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import channel_mention, escape_mrkdwn, truncate, user_mention
from bot.feedback.digest import DigestData
from bot.feedback.similarity import ThemeSuggestion
from bot.feedback.themes import ThemeCounts
from bot.slack.blocks import context, plain, section, slack_date, text_input
from models.feedback import FeedbackKind, Importance, ThemeStatus

# A plain_text_input holds at most 3,000 characters; longer messages are shown, not edited.
EDITABLE_TEXT_LIMIT = 3000
PREVIEW_LIMIT = 600
OPTION_VALUE_LIMIT = 150
NEW_THEME_PREFIX = "new:"


class FeedbackId(StrEnum):
    SHORTCUT = "log_feedback"
    MODAL = "feedback_modal"
    TEXT_BLOCK = "feedback_text"
    TEXT = "text"
    SUGGEST_BLOCK = "feedback_suggested"
    SUGGEST = "suggested_theme"
    KIND_BLOCK = "feedback_kind"
    KIND = "kind"
    IMPORTANCE_BLOCK = "feedback_importance"
    IMPORTANCE = "importance"
    CUSTOMER_BLOCK = "feedback_customer"
    CUSTOMER = "customer"
    SEGMENT_BLOCK = "feedback_segment"
    SEGMENT = "segment"
    AREA_BLOCK = "feedback_area"
    AREA = "feedback_area_select"
    TAGS_BLOCK = "feedback_tags"
    TAGS = "tags"
    THEME_BLOCK = "feedback_theme"
    THEME = "feedback_theme_select"
    ADD_DETAILS = "feedback_add_details"
    LINK_THEME = "feedback_link_theme"
    NEW_THEME = "feedback_new_theme"
    THEME_MODAL = "feedback_theme_modal"
    THEME_TITLE_BLOCK = "theme_title"
    THEME_TITLE = "title"
    THEME_DESCRIPTION_BLOCK = "theme_description"
    THEME_DESCRIPTION = "description"
    THEME_AREA_BLOCK = "theme_area"


USAGE = (
    "*/feedback [text]* logs customer feedback: it opens a form prefilled with your text.\n"
    "To log a message someone wrote, use *Log as feedback* from the message's ⋯ menu, "
    "or react to it with the feedback emoji."
)

KIND_LABELS: dict[str, str] = {
    FeedbackKind.BUG: "Bug",
    FeedbackKind.REQUEST: "Feature request",
    FeedbackKind.PRAISE: "Praise",
    FeedbackKind.QUESTION: "Question",
    FeedbackKind.OTHER: "Other",
}
IMPORTANCE_LABELS: dict[str, str] = {
    Importance.LOW: "Low",
    Importance.MEDIUM: "Medium",
    Importance.HIGH: "High",
    Importance.CRITICAL: "Critical — alerts the area owner",
}
STATUS_LABELS: dict[str, str] = {
    ThemeStatus.OPEN: "open",
    ThemeStatus.PLANNED: "planned",
    ThemeStatus.IN_PROGRESS: "in progress",
    ThemeStatus.SHIPPED: "shipped",
    ThemeStatus.DECLINED: "declined",
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


class ThemeModalMetadata(BaseModel):
    feedback_id: int | None = None
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


def quote(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """User text as a safe mrkdwn block quote, cut to `limit` characters."""
    if not text.strip():
        return "> _(no text)_"
    body = escape_mrkdwn(truncate(text.strip(), limit))
    return "\n".join("> " + line for line in body.splitlines()[:12])


def suggestion_text(suggestion: ThemeSuggestion) -> str:
    customers = suggestion.counts.customers
    noun = "customer" if customers == 1 else "customers"
    return f"Looks like *{escape_mrkdwn(suggestion.title)}* ({customers} {noun}) — link it?"


def _option(value: str, label: str) -> Option:
    return Option(value=value[:OPTION_VALUE_LIMIT], text=plain(label))


def kind_options() -> list[Option]:
    return [_option(str(kind), label) for kind, label in KIND_LABELS.items()]


def importance_options() -> list[Option]:
    return [_option(str(level), label) for level, label in IMPORTANCE_LABELS.items()]


def area_option(slug: str, name: str) -> Option:
    return _option(slug, f"{name} ({slug})")


def theme_option(theme_id: int, title: str, counts: ThemeCounts | None = None) -> Option:
    label = title if counts is None else f"{title} · {counts.items} items, {counts.customers} customers"
    return _option(str(theme_id), label)


def new_theme_option(title: str) -> Option:
    return _option(
        NEW_THEME_PREFIX + title[: OPTION_VALUE_LIMIT - len(NEW_THEME_PREFIX)], f"➕ New theme: {title}"
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
                            text=plain(f"{s.title} ({s.counts.customers} customers)"),
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


def theme_modal(*, metadata: ThemeModalMetadata, title: str = "") -> View:
    """A new theme; submitted from a capture confirmation it also links that item."""
    return View(
        type="modal",
        callback_id=FeedbackId.THEME_MODAL,
        title=plain("New theme"),
        submit=plain("Create"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(exclude_none=True),
        blocks=[
            InputBlock(
                block_id=FeedbackId.THEME_TITLE_BLOCK,
                label=plain("Title"),
                element=text_input(FeedbackId.THEME_TITLE, initial=title or None, max_length=200),
            ),
            InputBlock(
                block_id=FeedbackId.THEME_DESCRIPTION_BLOCK,
                label=plain("What do customers need?"),
                optional=True,
                element=text_input(FeedbackId.THEME_DESCRIPTION, multiline=True, max_length=3000),
            ),
            InputBlock(
                block_id=FeedbackId.THEME_AREA_BLOCK,
                label=plain("Product area"),
                optional=True,
                element=ExternalDataSelectElement(
                    action_id=FeedbackId.AREA,
                    placeholder=plain("Search the ownership directory"),
                    min_query_length=0,
                ),
            ),
        ],
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
        blocks.append(context(f"Theme: *{escape_mrkdwn(theme_title)}*"))
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


def linked_confirmation(*, feedback_id: int, theme_title: str) -> list[Block]:
    return [
        section(f":link: Feedback #{feedback_id} is linked to *{escape_mrkdwn(theme_title)}*."),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Add details"), action_id=FeedbackId.ADD_DETAILS, value=str(feedback_id)
                )
            ]
        ),
    ]


def critical_alert(
    *,
    text: str,
    area_name: str | None,
    author: str | None,
    reporter: str | None,
    customer: str | None,
    permalink: str | None,
    for_owner: bool,
) -> tuple[str, list[Block]]:
    where = f" in *{escape_mrkdwn(area_name)}*" if area_name else ""
    intro = "you own" if for_owner and area_name else ""
    headline = f":rotating_light: Critical feedback{where}{' (an area ' + intro + ')' if intro else ''}"
    facts = []
    if author:
        facts.append(f"from {user_mention(author)}")
    if reporter and reporter != author:
        facts.append(f"logged by {user_mention(reporter)}")
    if customer:
        facts.append(f"customer *{escape_mrkdwn(customer)}*")
    if permalink:
        facts.append(f"<{permalink}|open the message>")
    blocks: list[Block] = [section(f"{headline}\n{quote(text, 1200)}")]
    if facts:
        blocks.append(context(" · ".join(facts)))
    fallback = f"Critical feedback{' in ' + area_name if area_name else ''}: {truncate(text, 150)}"
    return escape_mrkdwn(fallback), blocks


def _release_line(release_title: str | None, release_link: str | None) -> str:
    if release_link:
        return f"\nRelease notes: <{release_link}|{escape_mrkdwn(release_title or 'read what changed')}>"
    if release_title:
        return f"\nRelease: *{escape_mrkdwn(release_title)}*"
    return ""


def shipped_thread_reply(
    *, theme_title: str, release_title: str | None, release_link: str | None
) -> tuple[str, list[Block]]:
    text = (
        f":rocket: *{escape_mrkdwn(theme_title)}* has shipped — this feedback helped make it happen."
        + _release_line(release_title, release_link)
    )
    return f"{escape_mrkdwn(theme_title)} has shipped", [section(text)]


def shipped_dm(
    *,
    theme_title: str,
    release_title: str | None,
    release_link: str | None,
    items: Sequence[tuple[str, str | None]],
) -> tuple[str, list[Block]]:
    """One DM per person: the theme, the release, and the feedback of theirs it answers."""
    text = f":tada: Good news: *{escape_mrkdwn(theme_title)}* has shipped." + _release_line(
        release_title, release_link
    )
    blocks: list[Block] = [section(text)]
    if items:
        lines = ["Feedback you gave or logged:"]
        for item_text, permalink in items[:5]:
            link = f" <{permalink}|(message)>" if permalink else ""
            lines.append(quote(item_text, 200) + link)
        if len(items) > 5:
            lines.append(f"_…and {len(items) - 5} more._")
        blocks.append(section("\n".join(lines)))
    blocks.append(context("You hear about this because you gave or logged this feedback."))
    return f"{escape_mrkdwn(theme_title)} has shipped", blocks


def _delta(now: int, before: int) -> str:
    if now == before:
        return "±0"
    return f"+{now - before}" if now > before else f"−{before - now}"


def digest(data: DigestData) -> tuple[str, list[Block]]:
    """The weekly feedback digest for FEEDBACK_CHANNEL."""
    title = f"Feedback digest · {data.start_label} – {data.end_label}"
    blocks: list[Block] = [HeaderBlock(text=plain(title))]
    blocks.append(
        section(
            f"*{data.total}* new item{'s' if data.total != 1 else ''} "
            f"({_delta(data.total, data.previous_total)} vs the week before: {data.previous_total})"
        )
    )
    if data.by_area:
        lines = [
            f"• {escape_mrkdwn(name)}: *{now}* ({_delta(now, before)})"
            for name, now, before in data.by_area[:15]
        ]
        blocks.append(section("*By area*\n" + "\n".join(lines)))
    if data.by_kind:
        kinds = " · ".join(f"{KIND_LABELS.get(k, k)}: *{n}*" for k, n in data.by_kind)
        blocks.append(section("*By kind*\n" + kinds))
    if data.top_themes:
        lines = [
            f"{i}. *{escape_mrkdwn(t.title)}* — {t.new_customers} new customer"
            f"{'s' if t.new_customers != 1 else ''}, {t.items} new item{'s' if t.items != 1 else ''}"
            for i, t in enumerate(data.top_themes[:5], 1)
        ]
        blocks.append(section("*Top themes by new customers*\n" + "\n".join(lines)))
    if data.critical:
        lines = []
        for text, area, permalink in data.critical[:10]:
            where = f" ({escape_mrkdwn(area)})" if area else ""
            link = f" <{permalink}|open>" if permalink else ""
            lines.append(f"• {escape_mrkdwn(truncate(text.strip(), 150))}{where}{link}")
        blocks.append(section(":rotating_light: *Critical*\n" + "\n".join(lines)))
    if data.shipped:
        blocks.append(
            section(":rocket: *Shipped this week:* " + ", ".join(escape_mrkdwn(t) for t in data.shipped[:10]))
        )
    if data.total == 0 and not data.shipped:
        blocks.append(context("A quiet week: no new feedback."))
    return f"{title}: {data.total} new items", blocks


def home_recent_feedback(rows: Sequence[tuple[int, str, str | None, str, str | None]]) -> list[Block]:
    """App Home: recent feedback in areas I own — (id, text, area name, kind, permalink)."""
    blocks: list[Block] = [section("*Recent feedback in areas I own*")]
    if not rows:
        return [*blocks, context("No feedback yet in the areas you own.")]
    for feedback_id, text, area, kind, permalink in rows:
        link = f" · <{permalink}|message>" if permalink else ""
        label = KIND_LABELS.get(kind, kind)
        blocks.append(section(quote(text, 200)))
        blocks.append(context(f"#{feedback_id} · {escape_mrkdwn(area or '')} · {label}{link}"))
    return blocks


def home_followed_themes(rows: Sequence[tuple[str, str, ThemeCounts, datetime | None]]) -> list[Block]:
    """App Home: themes I follow — (title, status, counts, last change)."""
    blocks: list[Block] = [section("*Themes I follow*")]
    if not rows:
        return [*blocks, context("You follow no themes yet; link feedback to a theme to follow it.")]
    lines = []
    for title, status, counts, updated in rows:
        label = STATUS_LABELS.get(status, status)
        when = slack_date(updated, fallback="")
        lines.append(
            f"• *{escape_mrkdwn(title)}* — {label}, {counts.items} items, {counts.customers} customers"
            + (f" · {when}" if when else "")
        )
    blocks.append(section("\n".join(lines)))
    return blocks
