"""What every feedback view shares: the Block Kit ids, the kind labels, quoting user text."""

from __future__ import annotations

from enum import StrEnum

from bot.core.text import escape_mrkdwn, truncate
from models.feedback import FeedbackKind, ThemeStatus

PREVIEW_LIMIT = 600


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
    THEME_LINKS_BLOCK = "theme_links"
    THEME_LINKS = "links"
    EDIT_THEME = "feedback_edit_theme"


KIND_LABELS: dict[str, str] = {
    FeedbackKind.BUG: "Bug",
    FeedbackKind.REQUEST: "Feature request",
    FeedbackKind.PRAISE: "Praise",
    FeedbackKind.QUESTION: "Question",
    FeedbackKind.OTHER: "Other",
}

STATUS_LABELS: dict[str, str] = {
    ThemeStatus.OPEN: "open",
    ThemeStatus.PLANNED: "planned",
    ThemeStatus.IN_PROGRESS: "in progress",
    ThemeStatus.DONE: "done, ships with the next release",
    ThemeStatus.SHIPPED: "shipped",
    ThemeStatus.DECLINED: "declined",
}


def quote(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """User text as a safe mrkdwn block quote, cut to `limit` characters."""
    if not text.strip():
        return "> _(no text)_"
    body = escape_mrkdwn(truncate(text.strip(), limit))
    return "\n".join("> " + line for line in body.splitlines()[:12])
