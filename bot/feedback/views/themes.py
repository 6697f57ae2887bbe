"""Block Kit for themes: the new-theme modal and the notices sent when a theme ships."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from slack_sdk.models.blocks import Block, ExternalDataSelectElement, InputBlock
from slack_sdk.models.views import View

from bot.core.text import escape_mrkdwn
from bot.feedback.views.common import FeedbackId, quote
from bot.slack.blocks import context, plain, section, text_input


class ThemeModalMetadata(BaseModel):
    feedback_id: int | None = None
    origin_channel: str | None = None


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
