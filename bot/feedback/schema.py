"""Validated shapes of feedback and themes, shared by the admin API and the Slack modals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    HttpUrl,
    StringConstraints,
    UrlConstraints,
    field_validator,
    model_validator,
)

from bot.core.schema_base import DbId, StrictInput, refuse_null
from bot.ownership.schema import CHANNEL_RE, SLUG_RE, USER_RE
from models.feedback import FeedbackKind, FeedbackSource, FeedbackStatus, Importance, ThemeStatus

# Slack's own ceiling for a message's text; stored whole.
MAX_FEEDBACK_TEXT = 40_000
MAX_TAGS = 20
# The width of the link columns; Slack's own permalinks are about 80 characters.
MAX_LINK = 1000

UserId = Annotated[str, StringConstraints(pattern=USER_RE)]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CGD][A-Z0-9]{2,31}$")]
MessageTs = Annotated[str, StringConstraints(pattern=r"^\d{1,12}\.\d{1,8}$")]
AreaSlug = Annotated[str, StringConstraints(pattern=SLUG_RE)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Link = Annotated[HttpUrl, UrlConstraints(max_length=MAX_LINK)]
ThemeTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

__all__ = ["CHANNEL_RE"]


class FeedbackDetails(StrictInput):
    """What a person can say about an item: everything but where it came from."""

    kind: FeedbackKind | None = None
    importance: Importance | None = None
    customer: str | None = Field(default=None, max_length=200)
    segment: str | None = Field(default=None, max_length=100)
    area: AreaSlug | None = Field(default=None, description="Slug of the product area.")
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    theme_id: DbId | None = None
    status: FeedbackStatus | None = None

    @field_validator("kind", "importance", "status")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return refuse_null(value)

    @field_validator("customer", "segment")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        seen: dict[str, str] = {}
        for value in values:
            seen.setdefault(value.lower(), value)
        return list(seen.values())


class FeedbackIn(FeedbackDetails):
    """A new item. A Slack message is identified by channel + message_ts."""

    text: str = Field(min_length=1, max_length=MAX_FEEDBACK_TEXT)
    source: FeedbackSource = FeedbackSource.API
    channel: ChannelId | None = None
    message_ts: MessageTs | None = None
    thread_ts: MessageTs | None = None
    permalink: Link | None = None
    author: UserId | None = Field(default=None, description="Who said it (Slack user id).")
    reporter: UserId | None = Field(default=None, description="Who logged it (Slack user id).")

    @model_validator(mode="after")
    def _message_pair(self) -> FeedbackIn:
        if bool(self.channel) != bool(self.message_ts):
            raise ValueError("channel and message_ts identify a Slack message: give both or neither")
        return self


class FeedbackPatch(FeedbackDetails):
    """Fields to change on an item; only the ones given change."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_FEEDBACK_TEXT)

    @field_validator("text")
    @classmethod
    def _text_not_null(cls, value: object) -> object:
        return refuse_null(value)


class FeedbackFilters(BaseModel):
    """List filters of `/feedback` and `/feedback.csv`."""

    area: AreaSlug | None = None
    kind: FeedbackKind | None = None
    importance: Importance | None = None
    customer: str | None = Field(default=None, max_length=200)
    status: FeedbackStatus | None = None
    theme_id: DbId | None = None
    since: AwareDatetime | None = None
    q: str | None = Field(default=None, min_length=1, max_length=200)


class ThemeIn(StrictInput):
    title: ThemeTitle
    description: str = Field(default="", max_length=3000)
    area: AreaSlug | None = None
    status: ThemeStatus = ThemeStatus.OPEN


class ThemePatch(StrictInput):
    title: ThemeTitle | None = None
    description: str | None = Field(default=None, max_length=3000)
    area: AreaSlug | None = None
    status: ThemeStatus | None = None

    @field_validator("title", "description", "status")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return refuse_null(value)


class LinkIn(StrictInput):
    # Longer than any link can be stored, so that the link parser names the real limit.
    url: str = Field(max_length=10_000, description="URL of a GitHub, Linear or Jira issue.")


class ShipIn(StrictInput):
    release_link: Link | None = Field(default=None, description="Link to the release notes.")
    release_title: str | None = Field(default=None, max_length=300)
    release_id: DbId | None = None
    by: UserId | None = Field(default=None, description="Slack user id of who shipped it.")


class KeysetPosition(BaseModel):
    created_at: datetime
    id: int
