"""Response shapes of the admin API (inputs reuse the services' validated models)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from bot.services.area_index import MatchKind


class ErrorOut(BaseModel):
    error: str = Field(
        description="Machine-readable code: unauthorized, not_found, conflict, invalid_request…"
    )
    message: str = Field(description="What went wrong and what to do about it.")
    details: list[dict[str, Any]] | None = Field(default=None, description="Per-field problems, for 422.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid bearer token"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such item"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Clashes with stored data"}
}
# What any admin-API operation can answer besides its own results, and what any write can add.
ANY_OPERATION = {
    "401": "Missing or invalid bearer token",
    "404": "No such item, or a workspace Switchboard does not serve",
    "422": "Invalid request",
    "503": "The database (or Slack, asked which workspace this is) is unreachable; retry later",
}
ANY_WRITE = {"409": "Clashes with stored data"}


def document_errors(openapi: dict[str, Any], *, prefix: str) -> None:
    """List on every operation under `prefix` each error status it can answer, with ErrorOut's shape.

    Some are decided before a route runs (the token, the workspace, the database), so they hold
    for every route alike; routes keep their own, more specific descriptions where they give one.
    """
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}
    for path, item in openapi["paths"].items():
        if not path.startswith(prefix):
            continue
        for method, operation in item.items():
            statuses = ANY_OPERATION | (ANY_WRITE if method in {"post", "put", "patch", "delete"} else {})
            for status, description in statuses.items():
                operation["responses"].setdefault(status, {"description": description, "content": content})


class LinkOut(BaseModel):
    title: str = ""
    url: str


class AreaOut(BaseModel):
    """An ownership area as stored."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    kind: str
    aliases: list[str]
    description: str
    owner: str | None = Field(description="Slack user id of the owner.")
    team: str | None
    backups: list[str]
    channel: str | None
    links: list[LinkOut]
    tags: list[str]
    source: str
    confirm_every_days: int
    last_confirmed_at: datetime | None
    owner_status: str = Field(description="active, unconfirmed, deactivated, missing or disowned.")
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confirmation_due_at(self) -> datetime | None:
        """When the owner is next asked "Still yours?"; null without an owner."""
        if self.owner is None:
            return None
        if self.last_confirmed_at is None:
            return self.created_at
        return self.last_confirmed_at + timedelta(days=self.confirm_every_days)


class AreaMatchOut(AreaOut):
    score: float = Field(description="Fuzzy match score, 0–100.")


class AreaSearchOut(BaseModel):
    """`GET /areas?q=`: matches best first, with how sure the lookup is."""

    match: MatchKind = Field(description="confident: one clear answer; ambiguous: pick one; none: no match.")
    items: list[AreaMatchOut]
    next_cursor: None = None


class JobOut(BaseModel):
    """A piece of scheduled work."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    run_at: datetime = Field(description="When it is due.")
    expires_at: datetime | None = Field(description="Past this, it is skipped as no longer meaningful.")
    attempts: int
    max_attempts: int
    lease_expires_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: datetime


class KindCoverageOut(BaseModel):
    areas: int
    with_owner: int
    without_owner: int


class CoverageOut(BaseModel):
    areas: int
    with_owner: int
    without_owner: int
    owned_percent: float = Field(description="Share of areas with an owner, 0–100 (100 when there are none).")
    by_kind: dict[str, KindCoverageOut]


class StaleAreaOut(BaseModel):
    slug: str
    name: str
    owner: str | None
    reason: str = Field(
        description="owner_deactivated, owner_missing, owner_unconfirmed, owner_disowned "
        "or confirmation_overdue."
    )
    overdue_since: datetime | None


class StalenessOut(BaseModel):
    confirmation_overdue: int = Field(description="Owned areas past their confirm_every_days.")
    awaiting_answer: int = Field(description='Owners asked "Still yours?" who have not answered yet.')
    owner_deactivated: int
    owner_missing: int
    owner_unconfirmed: int
    owner_disowned: int
    areas: list[StaleAreaOut] = Field(description="Areas needing attention, most pressing first (≤ 100).")


class OwnershipStatsOut(BaseModel):
    coverage: CoverageOut
    staleness: StalenessOut


class StatsOut(BaseModel):
    """Workspace statistics, one key per feature (feedback, themes, readiness, standups join here)."""

    team_id: str
    generated_at: datetime
    ownership: OwnershipStatsOut
