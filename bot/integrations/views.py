"""What the area owner and a draft's owner are told when tracked work moves (pure Block Kit)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.text import escape_mrkdwn, user_mention
from bot.slack.blocks import context, plain, section, slack_date
from models.feedback import ThemeStatus

_SAFE_URL = re.compile(r"https?://[^\s<>|]{1,1000}")


class TrackerId(StrEnum):
    """Block Kit ids of the tracker DMs (the buttons' value is the theme id)."""

    DECLINE_BLOCK = "tracker_decline"
    DECLINE_THEME = "tracker_decline_theme"
    KEEP_OPEN = "tracker_keep_theme_open"


@dataclass(frozen=True)
class TrackedTheme:
    """A theme as its area owner hears about it."""

    id: int
    title: str
    area_name: str | None
    items: int
    customers: int
    # (key, url) of each tracker issue it is tracked in.
    links: Sequence[tuple[str, str]]


def tracker_link(key: str, url: str) -> str:
    """`<url|key>`, or the key alone when the URL could break the markup."""
    label = escape_mrkdwn(key)
    return f"<{url}|{label}>" if _SAFE_URL.fullmatch(url) else label


def _demand(theme: TrackedTheme) -> str:
    items = f"{theme.items} request{'s' if theme.items != 1 else ''}"
    customers = f"{theme.customers} customer{'s' if theme.customers != 1 else ''}"
    area = f" in *{escape_mrkdwn(theme.area_name)}*" if theme.area_name else ""
    return f"{items} from {customers}{area}"


def theme_done(theme: TrackedTheme, *, shipped: bool, for_owner: bool) -> tuple[str, list[Block]]:
    """Every issue the theme is tracked in was closed as completed."""
    title = escape_mrkdwn(theme.title)
    if shipped:
        head = f":rocket: *{title}* is done and has shipped: every requester is being told."
        text = f"{theme.title} is done and has shipped"
    else:
        head = f":white_check_mark: *{title}* is done and ships with the next release."
        text = f"{theme.title} is done and ships with the next release"
    blocks: list[Block] = [section(f"{head}\n{tracked_in(theme.links)} · {_demand(theme)}")]
    if not shipped:
        blocks.append(
            context(
                "Requesters are told when a release announcement that lists it is posted, "
                "or a GitHub release names its issue."
            )
        )
    if for_owner:
        blocks.append(context("You hear about this because you own the theme's area."))
    return escape_mrkdwn(text), blocks


def decline_question(theme: TrackedTheme, *, key: str, url: str, for_owner: bool) -> tuple[str, list[Block]]:
    """An issue the theme is tracked in was closed as not planned: decline the theme, or keep it?"""
    title = escape_mrkdwn(theme.title)
    blocks: list[Block] = [
        section(
            f":grey_question: {tracker_link(key, url)} was closed as not planned. "
            f"*{title}* has {_demand(theme)}: decline the theme, or keep it open?"
        ),
        ActionsBlock(
            block_id=TrackerId.DECLINE_BLOCK,
            elements=[
                ButtonElement(
                    text=plain("Decline theme"),
                    action_id=TrackerId.DECLINE_THEME,
                    value=str(theme.id),
                    style="danger",
                ),
                ButtonElement(text=plain("Keep open"), action_id=TrackerId.KEEP_OPEN, value=str(theme.id)),
            ],
        ),
    ]
    if for_owner:
        blocks.append(context("You hear about this because you own the theme's area."))
    text = f"{key} was closed as not planned: decline {theme.title}?"
    return escape_mrkdwn(text), blocks


def tracked_in(links: Sequence[tuple[str, str]]) -> str:
    """`Tracked in <url|key>, <url|key>`, or "" for a theme tracked nowhere."""
    return ("Tracked in " + ", ".join(tracker_link(key, url) for key, url in links)) if links else ""


def not_planned_answered(
    theme: TrackedTheme,
    *,
    status: str,
    kept_open: bool,
    by: str | None,
    at: datetime,
    not_planned: Sequence[str],
) -> tuple[str, list[Block]]:
    """The Decline / Keep open question, answered: what the theme is now, who decided and when."""
    title = escape_mrkdwn(theme.title)
    who, when = user_mention(by) if by else "someone", slack_date(at)
    if status == ThemeStatus.DECLINED:
        head = f":no_entry_sign: *{title}* was declined by {who} on {when}."
        text = f"{theme.title} was declined"
    elif status == ThemeStatus.SHIPPED:
        head = f":rocket: *{title}* has shipped already ({when}); there is nothing to decline."
        text = f"{theme.title} has shipped already"
    else:
        head = f":white_check_mark: *{title}* stays open: {who} chose to keep it on {when}."
        text = f"{theme.title} stays open"
    closed = ", ".join(escape_mrkdwn(key) for key in not_planned)
    lines = [head]
    if closed:
        lines.append(f"{closed} {'was' if len(not_planned) == 1 else 'were'} closed as not planned.")
    if theme.links:
        lines.append(f"{tracked_in(theme.links)} · {_demand(theme)}")
    blocks: list[Block] = [section("\n".join(lines))]
    if kept_open and status != ThemeStatus.DECLINED:
        blocks.append(context("Link another issue with `/feedback link` when the work is planned again."))
    return escape_mrkdwn(text), blocks


def draft_ready(
    release_id: int, tag: str, controls: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """The owner of a draft made from a GitHub release, when no approver is configured."""
    head = section(
        f":memo: GitHub release *{escape_mrkdwn(tag)}* was published; its announcement is a draft "
        f"(release #{release_id}). No approver is configured (RELEASE_DRAFT_APPROVER): review it, "
        "pick one and send it for approval."
    )
    return f"Release {escape_mrkdwn(tag)}: the announcement draft is ready", [head.to_dict(), *controls]
