"""Standup calendars: local wall-clock occurrences across DST, weekday and public-holiday skips.

Pure functions of their arguments (no clock reads), so every rule is testable with fixed dates.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WEEKDAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


class CalendarError(ValueError):
    """A timezone, time of day or holiday country that cannot be used; the message says why."""


@dataclass(frozen=True)
class Occurrence:
    local_date: date
    scheduled_for: datetime  # aware UTC
    expires_at: datetime  # aware UTC: the end of `local_date` in the schedule's timezone


@dataclass(frozen=True)
class Schedule:
    weekdays: frozenset[int]  # ISO: 1 = Monday … 7 = Sunday
    at: time
    timezone: str
    holiday_country: str | None = None
    holiday_subdivision: str | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zone_of(self.timezone)


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"Unknown timezone `{name}`; use an IANA name such as Europe/Berlin.") from exc


def parse_time_of_day(text: str) -> time:
    """ "09:00" → time(9, 0)."""
    match = _HHMM.match(text.strip())
    if not match:
        raise CalendarError(f"`{text}` is not a time of day; use HH:MM, for example 09:30.")
    return time(int(match.group(1)), int(match.group(2)))


def supported_countries() -> dict[str, list[str]]:
    """Country codes the `holidays` package knows, with their subdivisions."""
    return dict(holidays.list_supported_countries())


def check_country(country: str | None, subdivision: str | None = None) -> tuple[str | None, str | None]:
    """Normalised (country, subdivision), or CalendarError naming what is unknown."""
    if not country:
        return None, None
    code = country.strip().upper()
    known = supported_countries()
    if code not in known:
        raise CalendarError(
            f"No public-holiday calendar for `{country}`; use an ISO country code such as DE, US or FR."
        )
    if subdivision:
        sub = subdivision.strip().upper()
        if sub not in {s.upper() for s in known[code]}:
            raise CalendarError(f"`{subdivision}` is not a subdivision of {code}.")
        return code, sub
    return code, None


@lru_cache(maxsize=256)
def _holidays_for(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def holiday_name(day: date, country: str | None, subdivision: str | None = None) -> str | None:
    """The public holiday on `day` in `country`, if any."""
    if not country:
        return None
    calendar = _holidays_for(country, subdivision, day.year)
    name = calendar.get(day)
    return str(name) if name else None


def skip_reason(schedule: Schedule, day: date) -> str | None:
    """Why no standup happens on `day` (a local date), or None when it does."""
    if day.isoweekday() not in schedule.weekdays:
        return f"{WEEKDAY_NAMES[day.isoweekday()]} is not a standup day"
    holiday = holiday_name(day, schedule.holiday_country, schedule.holiday_subdivision)
    if holiday:
        return f"public holiday in {schedule.holiday_country}: {holiday}"
    return None


def local_moment(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """`at` on `day` in `zone` as aware UTC.

    A wall-clock time that happens twice (autumn) means its first occurrence; one skipped by a
    spring-forward switch (02:30 in Berlin on the last Sunday of March) maps, per PEP 495, with
    the offset before the gap, which lands just after it (03:30) — when people would expect it.
    """
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def end_of_local_day(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return local_moment(day + timedelta(days=1), time(0, 0), zone)


def local_date(moment: datetime, zone: zoneinfo.ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def person_prompt_at(
    day: date, at: time, person_zone: zoneinfo.ZoneInfo, launch_zone: zoneinfo.ZoneInfo
) -> datetime:
    """When a person is asked for the standup of the launch's `day`: `at` on `day` in their own
    timezone, but never before `day` has begun where the launch is (someone far east of the launch
    would otherwise be asked on the launch's previous day)."""
    return max(local_moment(day, at, person_zone), local_moment(day, time(0, 0), launch_zone))


def person_expires_at(
    day: date, prompt_at: datetime, person_zone: zoneinfo.ZoneInfo, launch_zone: zoneinfo.ZoneInfo
) -> datetime:
    """Past this moment asking a person is no longer meaningful: the end of `day` for them (or, when
    they are asked after their own day ended, the end of the launch's)."""
    end = end_of_local_day(day, person_zone)
    return end if end > prompt_at else max(end_of_local_day(day, launch_zone), prompt_at + timedelta(hours=1))


def occurrence_on(schedule: Schedule, day: date) -> Occurrence:
    zone = schedule.zone
    return Occurrence(
        local_date=day,
        scheduled_for=local_moment(day, schedule.at, zone),
        expires_at=end_of_local_day(day, zone),
    )


def occurrences_between(schedule: Schedule, start: datetime, end: datetime) -> list[Occurrence]:
    """Standups with `start <= scheduled_for <= end`, weekends and holidays skipped."""
    zone = schedule.zone
    day = local_date(start, zone) - timedelta(days=1)
    last = local_date(end, zone) + timedelta(days=1)
    found: list[Occurrence] = []
    while day <= last:
        if skip_reason(schedule, day) is None:
            occurrence = occurrence_on(schedule, day)
            if start <= occurrence.scheduled_for <= end:
                found.append(occurrence)
        day += timedelta(days=1)
    return found


def next_occurrence(schedule: Schedule, after: datetime, *, horizon_days: int = 400) -> Occurrence | None:
    """The first standup strictly after `after`, within `horizon_days`."""
    found = occurrences_between(schedule, after + timedelta(microseconds=1), after + timedelta(days=1))
    if found:
        return found[0]
    zone = schedule.zone
    day = local_date(after, zone)
    for _ in range(horizon_days):
        day += timedelta(days=1)
        if skip_reason(schedule, day) is None:
            occurrence = occurrence_on(schedule, day)
            if occurrence.scheduled_for > after:
                return occurrence
    return None


def days_until(target: date, now: datetime, zone: zoneinfo.ZoneInfo) -> int:
    """Whole days from today (in `zone`) to `target`; negative once it has passed."""
    return (target - local_date(now, zone)).days


def describe_schedule(schedule: Schedule) -> str:
    """ "Mon–Fri at 09:00 Europe/Berlin, skipping DE holidays"."""
    days = sorted(schedule.weekdays)
    if days == [1, 2, 3, 4, 5]:
        day_text = "Mon–Fri"
    elif days == list(range(1, 8)):
        day_text = "every day"
    else:
        day_text = ", ".join(WEEKDAY_NAMES[d] for d in days) or "no days"
    text = f"{day_text} at {schedule.at:%H:%M} {schedule.timezone}"
    if schedule.holiday_country:
        region = schedule.holiday_country + (
            f"-{schedule.holiday_subdivision}" if schedule.holiday_subdivision else ""
        )
        text += f", skipping {region} public holidays"
    return text
