"""Validated shapes of a launch and its functions, shared by the admin API and the Slack modal."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from bot.core.schema_base import StrictInput
from bot.launches import calendar
from bot.ownership.schema import ChannelId, Slug, UserId, slugify
from models.launch import FunctionStatus, LaunchStatus

FunctionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LaunchName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Weekday = Annotated[int, Field(ge=1, le=7)]
MAX_FUNCTIONS = 40


def launch_slug(name: str) -> str:
    return slugify(name)[:60].strip("-") or "launch"


class FunctionIn(StrictInput):
    """One sign-off row; the owner defaults to the owner of the matching ownership area."""

    name: FunctionName
    owner: UserId | None = None
    status: FunctionStatus = FunctionStatus.NOT_STARTED
    note: str = Field(default="", max_length=2000)


class FunctionPatch(StrictInput):
    name: FunctionName | None = None
    owner: UserId | None = None
    status: FunctionStatus | None = None
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _not_cleared(self) -> FunctionPatch:
        for field in ("name", "status", "note"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null; leave it out to keep the current value")
        return self


class ScheduleFields(StrictInput):
    """Standup schedule and go/no-go settings; all optional so a patch can carry any subset."""

    standup_weekdays: list[Weekday] | None = Field(
        default=None, description="ISO weekdays, 1 = Monday … 7 = Sunday.", min_length=1
    )
    standup_time: str | None = Field(default=None, description="Local time HH:MM in `timezone`.")
    timezone: str | None = Field(default=None, description="IANA timezone, e.g. Europe/Berlin.")
    holiday_country: str | None = Field(
        default=None, description="ISO country whose public holidays skip standups, e.g. DE."
    )
    holiday_subdivision: str | None = Field(default=None, description="State or region, e.g. BY.")
    standups_enabled: bool | None = None
    reminder_after_minutes: int | None = Field(default=None, ge=5, le=24 * 60)
    cutoff_after_minutes: int | None = Field(default=None, ge=10, le=24 * 60)
    gonogo_days_before: int | None = Field(
        default=None,
        ge=0,
        le=90,
        description="Open a go/no-go vote this many days before target; null: never.",
    )

    @field_validator("standup_weekdays")
    @classmethod
    def _unique_days(cls, days: list[int] | None) -> list[int] | None:
        return sorted(set(days)) if days is not None else None

    @field_validator("standup_time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return f"{calendar.parse_time_of_day(value):%H:%M}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        calendar.zone_of(value)
        return value

    @model_validator(mode="after")
    def _holidays_and_delays(self) -> ScheduleFields:
        if self.holiday_country is not None or self.holiday_subdivision is not None:
            country, sub = calendar.check_country(self.holiday_country, self.holiday_subdivision)
            self.holiday_country, self.holiday_subdivision = country, sub
        if (
            self.reminder_after_minutes is not None
            and self.cutoff_after_minutes is not None
            and self.reminder_after_minutes >= self.cutoff_after_minutes
        ):
            raise ValueError("reminder_after_minutes must be less than cutoff_after_minutes")
        return self


class LaunchIn(ScheduleFields):
    """A whole launch as created. Without `functions`, the template's functions are used."""

    name: LaunchName
    slug: Slug | None = None
    target_date: date
    owner: UserId
    channel: ChannelId | None = Field(
        default=None, description="Launch channel; when absent, #launch-<slug> is created."
    )
    template: str | None = Field(
        default=None, description="Function template: standard, feature or internal."
    )
    functions: list[FunctionIn] | None = Field(default=None, max_length=MAX_FUNCTIONS)
    status: LaunchStatus = LaunchStatus.PLANNING
    standup_weekdays: list[Weekday] | None = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1)
    standup_time: str | None = "09:00"
    timezone: str | None = None
    standups_enabled: bool | None = True
    reminder_after_minutes: int | None = Field(default=120, ge=5, le=24 * 60)
    cutoff_after_minutes: int | None = Field(default=240, ge=10, le=24 * 60)
    gonogo_days_before: int | None = Field(default=2, ge=0, le=90)

    @field_validator("functions")
    @classmethod
    def _unique_functions(cls, functions: list[FunctionIn] | None) -> list[FunctionIn] | None:
        if functions is None:
            return None
        seen: set[str] = set()
        for function in functions:
            key = function.name.lower()
            if key in seen:
                raise ValueError(f"function `{function.name}` is listed twice")
            seen.add(key)
        return functions

    def resolved_slug(self) -> str:
        return self.slug or launch_slug(self.name)


class LaunchPatch(ScheduleFields):
    """A partial update; fields left out stay as they are."""

    name: LaunchName | None = None
    target_date: date | None = None
    owner: UserId | None = None
    channel: ChannelId | None = None
    status: LaunchStatus | None = None

    @model_validator(mode="after")
    def _not_cleared(self) -> LaunchPatch:
        for field in (
            "name",
            "target_date",
            "owner",
            "status",
            "standup_weekdays",
            "standup_time",
            "timezone",
            "standups_enabled",
            "reminder_after_minutes",
            "cutoff_after_minutes",
        ):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null; leave it out to keep the current value")
        return self
