"""The date window a statistics answer covers, and the Monday-based weeks inside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator

from bot.core.errors import UserError

DEFAULT_WEEKS = 8
# About two years: long enough for a year-on-year look, short enough to answer quickly.
MAX_WINDOW_DAYS = 731
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def monday_of(day: date) -> date:
    """The Monday of the ISO week `day` falls in."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Window:
    """Whole UTC days from `since` to `until`, both included.

    `opens` and `closes` narrow it to exact instants (a digest's week, a period that ended at
    `closes`): the window is then [opens, closes), still touching the weeks from `since` to `until`.
    """

    since: date
    until: date
    opens: datetime | None = None
    closes: datetime | None = None

    @classmethod
    def between(cls, opens: datetime, closes: datetime) -> Window:
        """Exactly from `opens` (included) to `closes` (excluded)."""
        last_day = (closes - timedelta(microseconds=1)).astimezone(UTC).date()
        return cls(since=opens.astimezone(UTC).date(), until=last_day, opens=opens, closes=closes)

    @property
    def start(self) -> datetime:
        return self.opens or datetime.combine(self.since, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the window (exclusive bound)."""
        return self.closes or datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)

    def weeks(self) -> Iterator[date]:
        """The Monday of every week the window touches, oldest first."""
        week = monday_of(self.since)
        while week <= self.until:
            yield week
            week += timedelta(weeks=1)


def default_window(*, today: date, weeks: int = DEFAULT_WEEKS) -> Window:
    """The last `weeks` weeks ending today, the current (partial) week included."""
    return Window(since=monday_of(today) - timedelta(weeks=weeks - 1), until=today)


def _iso_day(value: object) -> object:
    """Text must spell a real day as YYYY-MM-DD (no timestamps, no week dates)."""
    if not isinstance(value, str):
        return value
    try:
        if not ISO_DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an ISO date such as 2025-01-06 (YYYY-MM-DD); got {value!r}") from None


# A query parameter holding one day; documented as `format: date`.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def resolve_window(*, since: date | None, until: date | None, today: date) -> Window:
    """The window asked for; a missing bound defaults to today or to eight weeks before `until`."""
    end = until if until is not None else today
    start = since if since is not None else default_window(today=end).since
    if start > end:
        raise UserError(
            f"since ({start.isoformat()}) is after until ({end.isoformat()}); "
            "give a window whose start is on or before its end."
        )
    if (end - start).days > MAX_WINDOW_DAYS:
        raise UserError(
            f"until ({end.isoformat()}) is {(end - start).days} days after since ({start.isoformat()}); "
            f"ask for at most {MAX_WINDOW_DAYS} days between them (about two years)."
        )
    return Window(since=start, until=end)
