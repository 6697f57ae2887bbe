"""Validated shapes of an ownership area, shared by the admin API, Slack modals and importers."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.core.schema_base import StrictInput
from models.area import AreaKind

SLUG_RE = r"^[a-z0-9][a-z0-9-]{0,79}$"
USER_RE = r"^[UW][A-Z0-9]{2,31}$"
CHANNEL_RE = r"^[CG][A-Z0-9]{2,31}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_RE)]
UserId = Annotated[str, StringConstraints(pattern=USER_RE)]
ChannelId = Annotated[str, StringConstraints(pattern=CHANNEL_RE)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def slugify(text: str) -> str:
    """`Bulk Export (v2)` → `bulk-export-v2`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].strip("-") or "area"


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=200)
    url: HttpUrl


class AreaFields(StrictInput):
    """Everything but the slug; all optional so a patch can carry any subset."""

    name: Name | None = None
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = None
    kind: AreaKind | None = None
    description: str | None = Field(default=None, max_length=3000)
    owner: UserId | None = None
    team: str | None = Field(default=None, max_length=200)
    backups: list[UserId] | None = None
    channel: ChannelId | None = None
    links: list[Link] | None = None
    tags: list[str] | None = None
    confirm_every_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("aliases", "tags")
    @classmethod
    def _dedupe(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        seen: dict[str, str] = {}
        for value in values:
            seen.setdefault(value.strip().lower(), value.strip())
        return [v for v in seen.values() if v]


class AreaIn(AreaFields):
    """A whole area, as created or imported."""

    slug: Slug | None = None
    name: Name
    description: str = Field(default="", max_length=3000)
    kind: AreaKind = AreaKind.PRODUCT_AREA
    confirm_every_days: int = Field(default=90, ge=1, le=3650)

    def resolved_slug(self) -> str:
        return self.slug or slugify(self.name)


class AreaPatch(AreaFields):
    """A partial update; fields left out stay as they are."""

    @model_validator(mode="after")
    def _required_not_cleared(self) -> AreaPatch:
        for field in ("name", "kind", "confirm_every_days", "description"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null; leave it out to keep the current value")
        return self
