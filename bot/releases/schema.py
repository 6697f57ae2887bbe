"""Validated input for releases, shared by the modal, the admin API and the demo."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from bot.core.schema_base import CleanInput, DbId, as_utc

LOCALE_RE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
CHANNEL_RE = r"^[CG][A-Z0-9]{2,31}$"
USER_RE = r"^[UW][A-Z0-9]{2,31}$"
TITLE_MAX = 200
VERSION_MAX = 64
SUMMARY_MAX = 3000
# Notes are split over several sections when rendered; a message holds at most 50 blocks.
NOTES_MAX = 12000
MAX_CHANNELS = 1000

NAIVE_TIME = (
    "must include a UTC offset, e.g. 2026-12-01T09:00:00+01:00 or 2026-12-01T08:00:00Z; "
    "a time without one is ambiguous"
)

Locale = Annotated[str, StringConstraints(pattern=LOCALE_RE, max_length=16)]
ChannelId = Annotated[str, StringConstraints(pattern=CHANNEL_RE)]
UserId = Annotated[str, StringConstraints(pattern=USER_RE)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, max_length=VERSION_MAX)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=SUMMARY_MAX)]
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX)]


def parse_when(value: object) -> datetime | Literal["now"]:
    """`"now"`, or an ISO 8601 time that carries its offset; naive times are refused."""
    if isinstance(value, str) and value.strip().lower() == "now":
        return "now"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f'not an ISO 8601 time or "now" ({exc})') from None
    if not isinstance(value, datetime):
        raise ValueError('must be an ISO 8601 time with offset, or "now"')
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NAIVE_TIME)
    as_utc(value)
    return value


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Europe/Paris") from None
    return value


class VariantIn(CleanInput):
    """The release in one more language; blank fields fall back to the default text."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    summary: Summary | None = None
    notes: Notes | None = None

    @field_validator("title", "summary", "notes", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def is_empty(self) -> bool:
        return not (self.title or self.summary or self.notes)


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class _ReleaseFields(CleanInput):
    @field_validator("version", mode="before", check_fields=False)
    @classmethod
    def _blank_version(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("scheduled_at", mode="before", check_fields=False)
    @classmethod
    def _aware_time(cls, value: object) -> object:
        return None if value is None else parse_when(value)

    @field_validator("channels", check_fields=False)
    @classmethod
    def _unique_channels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _dedupe(value)

    @field_validator("theme_ids", check_fields=False)
    @classmethod
    def _unique_themes(cls, value: list[int] | None) -> list[int] | None:
        return None if value is None else list(dict.fromkeys(value))


class ReleaseIn(_ReleaseFields):
    """A new release. `channels` is the audience; `channel_locales` says which of them read another
    language (channels named only there join the audience)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    version: Version | None = None
    summary: Summary = ""
    notes: Notes = Field(default="", description="Markdown; converted to Slack mrkdwn when posted.")
    default_locale: Locale = "en"
    launch_id: DbId | None = None
    theme_ids: list[DbId] = Field(default_factory=list, max_length=50)
    channels: list[ChannelId] = Field(default_factory=list, max_length=MAX_CHANNELS)
    channel_locales: dict[ChannelId, Locale] = Field(default_factory=dict)
    variants: dict[Locale, VariantIn] = Field(default_factory=dict)
    owner: UserId | None = None
    approver: UserId | None = None
    scheduled_at: datetime | Literal["now"] | None = Field(
        default=None,
        description='When to post once approved: an ISO 8601 time with offset, or "now" '
        "(as soon as it is approved).",
    )
    timezone: str | None = Field(default=None, description="IANA timezone used to show times.")

    @model_validator(mode="after")
    def _audience(self) -> ReleaseIn:
        self.channels = _dedupe([*self.channels, *self.channel_locales])
        if not self.channels:
            raise ValueError("channels: name at least one audience channel")
        self.variants = {k: v for k, v in self.variants.items() if not v.is_empty()}
        return self

    def audience(self) -> dict[str, str]:
        """Channel → locale, in the order given; unmapped channels read the default language."""
        return {c: self.channel_locales.get(c, self.default_locale) for c in self.channels}


class ReleasePatch(_ReleaseFields):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    version: Version | None = None
    summary: Summary | None = None
    notes: Notes | None = None
    default_locale: Locale | None = None
    launch_id: DbId | None = None
    theme_ids: list[DbId] | None = Field(default=None, max_length=50)
    channels: list[ChannelId] | None = Field(default=None, max_length=MAX_CHANNELS)
    channel_locales: dict[ChannelId, Locale] | None = None
    variants: dict[Locale, VariantIn] | None = None
    approver: UserId | None = None
    scheduled_at: datetime | Literal["now"] | None = None
    timezone: str | None = None

    @field_validator("title", "summary", "notes", "default_locale", "timezone")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means unchanged; an explicit null for a required field is a mistake worth naming.
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value


class ScheduleIn(CleanInput):
    """`{"at": "<ISO 8601 with offset>" | "now"}`."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | Literal["now"] = Field(
        description='ISO 8601 with a UTC offset (e.g. "2026-12-01T09:00:00+01:00"), or "now".'
    )

    @field_validator("at", mode="before")
    @classmethod
    def _aware(cls, value: object) -> object:
        return parse_when(value)


AUDIENCE_FIELDS = frozenset({"channels", "channel_locales"})
REFERENCE = re.compile(r"^#?(\d{1,9})$")
