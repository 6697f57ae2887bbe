"""Response shapes of `GET /api/v1/stats`, one model per section."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WeekOut(BaseModel):
    week: dt.date = Field(description="Monday of the ISO week.")
    total: int
    by_kind: dict[str, int] = Field(description="Every feedback kind, zeros included.")
    by_area: dict[str, int] = Field(
        description='Area slug (or "unassigned") → items; areas without items that week are left out.'
    )


class FeedbackStatsOut(BaseModel):
    by_week: list[WeekOut] = Field(description="Every week the window touches, oldest first, empty ones too.")
    total: int = Field(description="Items logged in the window.")
    critical: int = Field(description="Items of critical importance logged in the window.")


class ThemeStatOut(BaseModel):
    id: int
    title: str
    status: str
    items: int = Field(description="Linked feedback items, all time.")
    customers: int = Field(description="Distinct customers (case-insensitive) of the linked items, all time.")
    new_customers: int = Field(
        description="Customers whose first item on this theme was logged in the window."
    )


class ReadinessPointOut(BaseModel):
    date: dt.date = Field(description="Local date of the standup.")
    score: int = Field(ge=0, le=100)


class LaunchStatOut(BaseModel):
    id: int
    slug: str
    name: str
    status: str
    target_date: dt.date
    readiness_history: list[ReadinessPointOut] = Field(
        description="Score of each closed standup in the window (the last one of a day), oldest first."
    )
    prompts: int = Field(description="Standup DMs delivered in the window.")
    answered: int = Field(description="Of those, how many were answered for at least one function.")
    response_rate: float | None = Field(ge=0, le=1, description="answered / prompts; null without prompts.")


class StandupStatsOut(BaseModel):
    runs: int = Field(description="Standups that prompted someone in the window.")
    prompts: int
    answered: int
    response_rate: float | None = Field(ge=0, le=1, description="answered / prompts; null without prompts.")
    median_minutes_to_answer: float | None = Field(
        description="From the DM to the person's first recorded answer; null without answers."
    )


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
    overdue_since: dt.datetime | None


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


EXAMPLE: dict[str, Any] = {
    "team_id": "T0SWITCH",
    "since": "2025-10-06",
    "until": "2025-11-30",
    "generated_at": "2025-11-30T09:15:00Z",
    "feedback": {
        "by_week": [
            {
                "week": "2025-11-24",
                "total": 12,
                "by_kind": {"bug": 5, "request": 6, "praise": 1, "question": 0, "other": 0},
                "by_area": {"checkout": 7, "billing": 3, "unassigned": 2},
            }
        ],
        "total": 12,
        "critical": 1,
    },
    "themes": [
        {
            "id": 7,
            "title": "Bulk export",
            "status": "planned",
            "items": 31,
            "customers": 14,
            "new_customers": 3,
        }
    ],
    "launches": [
        {
            "id": 3,
            "slug": "checkout-v2",
            "name": "Checkout v2",
            "status": "at_risk",
            "target_date": "2025-12-05",
            "readiness_history": [{"date": "2025-11-27", "score": 55}, {"date": "2025-11-28", "score": 62}],
            "prompts": 6,
            "answered": 5,
            "response_rate": 0.833,
        }
    ],
    "standups": {
        "runs": 2,
        "prompts": 6,
        "answered": 5,
        "response_rate": 0.833,
        "median_minutes_to_answer": 42.0,
    },
    "ownership": {
        "coverage": {
            "areas": 5,
            "with_owner": 4,
            "without_owner": 1,
            "owned_percent": 80.0,
            "by_kind": {"product_area": {"areas": 5, "with_owner": 4, "without_owner": 1}},
        },
        "staleness": {
            "confirmation_overdue": 1,
            "awaiting_answer": 0,
            "owner_deactivated": 0,
            "owner_missing": 0,
            "owner_unconfirmed": 0,
            "owner_disowned": 0,
            "areas": [
                {
                    "slug": "search",
                    "name": "Search",
                    "owner": "U0ALICE",
                    "reason": "confirmation_overdue",
                    "overdue_since": "2025-09-01T00:00:00Z",
                }
            ],
        },
    },
}


class StatsOut(BaseModel):
    """Workspace statistics over a window of whole UTC days."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    team_id: str
    since: dt.date = Field(description="First day of the window (UTC), included.")
    until: dt.date = Field(description="Last day of the window (UTC), included.")
    generated_at: dt.datetime
    feedback: FeedbackStatsOut
    themes: list[ThemeStatOut] = Field(description="Top 10 themes by distinct customers.")
    launches: list[LaunchStatOut] = Field(
        description="Live launches, and others with a standup or their target date in the window."
    )
    standups: StandupStatsOut
    ownership: OwnershipStatsOut
