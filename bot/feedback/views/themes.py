"""Block Kit for themes: the new-theme modal and the notices sent when a theme ships."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from slack_sdk.models.blocks import Block, ButtonElement, ExternalDataSelectElement, InputBlock
from slack_sdk.models.views import View

from bot.core.text import escape_mrkdwn
from bot.feedback.views.capture import area_option
from bot.feedback.views.common import STATUS_LABELS, FeedbackId, quote
from bot.integrations.views import tracked_in
from bot.slack.blocks import context, plain, section, text_input


class ThemeModalMetadata(BaseModel):
    feedback_id: int | None = None
    origin_channel: str | None = None
    # Set when the modal edits an existing theme.
    theme_id: int | None = None


@dataclass(frozen=True)
class ThemePrefill:
    """An existing theme's values, for the modal that edits it."""

    title: str
    description: str = ""
    area: tuple[str, str] | None = None  # (slug, name)
    links: Sequence[str] = ()


def theme_modal(
    *, metadata: ThemeModalMetadata, title: str = "", prefill: ThemePrefill | None = None
) -> View:
    """A new theme (submitted from a capture confirmation it also links that item), or an edit of one.

    "Tracked in" holds the theme's tracker issue URLs; saving replaces its links with those.
    """
    editing = prefill is not None
    area = prefill.area if prefill else None
    return View(
        type="modal",
        callback_id=FeedbackId.THEME_MODAL,
        title=plain("Edit theme" if editing else "New theme"),
        submit=plain("Save" if editing else "Create"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(exclude_none=True),
        blocks=[
            InputBlock(
                block_id=FeedbackId.THEME_TITLE_BLOCK,
                label=plain("Title"),
                element=text_input(
                    FeedbackId.THEME_TITLE,
                    initial=(prefill.title if prefill else title) or None,
                    max_length=200,
                ),
            ),
            InputBlock(
                block_id=FeedbackId.THEME_DESCRIPTION_BLOCK,
                label=plain("What do customers need?"),
                optional=True,
                element=text_input(
                    FeedbackId.THEME_DESCRIPTION,
                    initial=(prefill.description if prefill else "") or None,
                    multiline=True,
                    max_length=3000,
                ),
            ),
            InputBlock(
                block_id=FeedbackId.THEME_AREA_BLOCK,
                label=plain("Product area"),
                optional=True,
                element=ExternalDataSelectElement(
                    action_id=FeedbackId.AREA,
                    placeholder=plain("Search the ownership directory"),
                    min_query_length=0,
                    initial_option=area_option(*area) if area else None,
                ),
            ),
            InputBlock(
                block_id=FeedbackId.THEME_LINKS_BLOCK,
                label=plain("Tracked in"),
                optional=True,
                hint=plain("GitHub, Linear or Jira issue URLs, one per line or comma separated"),
                element=text_input(
                    FeedbackId.THEME_LINKS,
                    initial="\n".join(prefill.links) if prefill and prefill.links else None,
                    multiline=True,
                    max_length=3000,
                ),
            ),
        ],
    )


LINK_USAGE = (
    "*/feedback link <theme> <url>* tracks a theme in a GitHub, Linear or Jira issue: name the theme "
    "by its id (`12` or `#12`) or its title, then paste the issue's URL.\n"
    "Example: `/feedback link Bulk export https://github.com/acme/app/issues/123`\n"
    "The theme moves with the issue: planned, in progress, done. To change or remove its links, "
    "use *Edit theme* on the answer."
)


def theme_line(*, title: str, status: str, links: Sequence[tuple[str, str]]) -> str:
    """`*Title* — planned · Tracked in <url|key>`: a theme wherever Slack shows one."""
    line = f"*{escape_mrkdwn(title)}* — {STATUS_LABELS.get(status, status)}"
    return line + (f" · {tracked_in(links)}" if links else "")


def theme_linked(
    *, theme_id: int, title: str, status: str, links: Sequence[tuple[str, str]], key: str, created: bool
) -> tuple[str, list[Block]]:
    """The answer to `/feedback link`: the issue it is tracked in now (or was already)."""
    if created:
        head = f":link: *{escape_mrkdwn(title)}* is now tracked in {escape_mrkdwn(key)}."
        text = f"{title} is now tracked in {key}"
    else:
        head = (
            f":link: *{escape_mrkdwn(title)}* was already tracked in {escape_mrkdwn(key)}; nothing changed."
        )
        text = f"{title} was already tracked in {key}"
    blocks: list[Block] = [
        section(head),
        section(
            theme_line(title=title, status=status, links=links),
            accessory=ButtonElement(
                text=plain("Edit theme"), action_id=FeedbackId.EDIT_THEME, value=str(theme_id)
            ),
        ),
    ]
    return escape_mrkdwn(text), blocks


def theme_saved(
    *, theme_id: int, title: str, status: str, links: Sequence[tuple[str, str]], created: bool
) -> list[Block]:
    """What the person who saved the theme modal sees."""
    verb = "Created" if created else "Saved"
    return [
        section(
            f":bulb: {verb} theme {theme_line(title=title, status=status, links=links)}",
            accessory=ButtonElement(
                text=plain("Edit theme"), action_id=FeedbackId.EDIT_THEME, value=str(theme_id)
            ),
        )
    ]


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


@dataclass(frozen=True)
class UnsentNotice:
    """A ship notice that did not arrive: a DM to `user`, or a reply in the thread of `permalink`
    in `channel`, and why (in words, and Slack's error)."""

    reason: str
    error: str
    user: str | None = None
    channel: str | None = None
    permalink: str | None = None


# Notices listed one per line; the rest are counted.
UNSENT_LINES = 30


def _unsent_line(notice: UnsentNotice) -> str:
    if notice.user:
        where = f"<@{notice.user}> (a DM)"
    else:
        message = f"<{notice.permalink}|this feedback>" if notice.permalink else "a feedback message"
        where = f"The thread of {message} in <#{notice.channel}>"
    return f"• {where}: {escape_mrkdwn(notice.reason)} (`{escape_mrkdwn(notice.error)}`)"


def undelivered_ship_notices(
    *, theme_title: str, total: int, unsent: Sequence[UnsentNotice]
) -> tuple[str, list[Block]]:
    """To whoever answers for a shipped theme: which requesters were not told, and why."""
    count = len(unsent)
    head = (
        f":warning: *{escape_mrkdwn(theme_title)}* shipped, but {count} of its {total} ship notices "
        f"did not arrive, so {'this requester has' if count == 1 else 'these requesters have'} "
        "not heard:"
    )
    lines = [_unsent_line(notice) for notice in unsent[:UNSENT_LINES]]
    if count > UNSENT_LINES:
        lines.append(f"…and {count - UNSENT_LINES} more.")
    footer = "Switchboard will not try again: please let them know another way."
    blocks: list[Block] = [section(head)]
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    blocks.append(context(footer))
    return "\n".join([head, *lines, footer]), blocks
