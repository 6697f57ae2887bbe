"""Standup calendars with fixed dates: local wall-clock time across DST, weekday and holiday skips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.launches import calendar
from bot.launches.calendar import CalendarError, Schedule

WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def berlin(country: str | None = None) -> Schedule:
    return Schedule(weekdays=WEEKDAYS, at=time(9, 0), timezone="Europe/Berlin", holiday_country=country)


def local_times(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[date, str, datetime]]:
    zone = calendar.zone_of(schedule.timezone)
    return [
        (o.local_date, o.scheduled_for.astimezone(zone).strftime("%H:%M"), o.scheduled_for)
        for o in calendar.occurrences_between(schedule, start, end)
    ]


def test_nine_berlin_stays_nine_local_across_spring_forward() -> None:
    # Summer time starts on Sunday 2026-03-29: 09:00 moves from 08:00 UTC to 07:00 UTC.
    found = local_times(berlin(), datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert [(d, hhmm) for d, hhmm, _ in found] == [
        (date(2026, 3, 26), "09:00"),
        (date(2026, 3, 27), "09:00"),
        (date(2026, 3, 30), "09:00"),
        (date(2026, 3, 31), "09:00"),
    ]
    utc = {d: moment for d, _, moment in found}
    assert utc[date(2026, 3, 27)] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert utc[date(2026, 3, 30)] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_nine_berlin_stays_nine_local_across_fall_back() -> None:
    # Summer time ends on Sunday 2026-10-25: 09:00 moves from 07:00 UTC back to 08:00 UTC.
    found = local_times(berlin(), datetime(2026, 10, 22, tzinfo=UTC), datetime(2026, 10, 27, 12, tzinfo=UTC))
    utc = {d: moment for d, hhmm, moment in found if hhmm == "09:00"}
    assert len(utc) == len(found) == 4
    assert utc[date(2026, 10, 23)] == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)
    assert utc[date(2026, 10, 26)] == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_new_york_schedule_follows_its_own_dst_date() -> None:
    # The US switches on 2026-03-08, three weeks before Europe.
    schedule = Schedule(weekdays=WEEKDAYS, at=time(9, 30), timezone="America/New_York")
    before = calendar.occurrence_on(schedule, date(2026, 3, 6)).scheduled_for
    after = calendar.occurrence_on(schedule, date(2026, 3, 9)).scheduled_for
    assert (before.hour, before.minute) == (14, 30)
    assert (after.hour, after.minute) == (13, 30)


def test_time_skipped_by_spring_forward_lands_just_after_the_gap() -> None:
    schedule = Schedule(weekdays=frozenset(range(1, 8)), at=time(2, 30), timezone="Europe/Berlin")
    moment = calendar.occurrence_on(schedule, date(2026, 3, 29)).scheduled_for
    assert moment.astimezone(calendar.zone_of("Europe/Berlin")).strftime("%H:%M") == "03:30"


def test_ambiguous_autumn_time_means_its_first_occurrence() -> None:
    schedule = Schedule(weekdays=frozenset(range(1, 8)), at=time(2, 30), timezone="Europe/Berlin")
    moment = calendar.occurrence_on(schedule, date(2026, 10, 25)).scheduled_for
    assert moment == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, before the clocks go back


def test_weekends_are_skipped() -> None:
    found = local_times(berlin(), datetime(2026, 6, 5, tzinfo=UTC), datetime(2026, 6, 9, 12, tzinfo=UTC))
    assert [d for d, _, _ in found] == [date(2026, 6, 5), date(2026, 6, 8), date(2026, 6, 9)]
    assert calendar.skip_reason(berlin(), date(2026, 6, 6)) == "Sat is not a standup day"


def test_german_christmas_holidays_are_skipped() -> None:
    schedule = berlin("DE")
    found = local_times(schedule, datetime(2026, 12, 23, tzinfo=UTC), datetime(2026, 12, 29, 12, tzinfo=UTC))
    assert [d for d, _, _ in found] == [
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
    ]
    assert calendar.skip_reason(schedule, date(2026, 12, 25)) == "public holiday in DE: Christmas Day"
    # Without a holiday country the same Friday is a standup day.
    assert calendar.skip_reason(berlin(), date(2026, 12, 25)) is None


def test_regional_holiday_only_with_its_subdivision() -> None:
    # Epiphany (6 January) is a public holiday in Bavaria, not in Berlin.
    bavaria = Schedule(
        weekdays=WEEKDAYS,
        at=time(9),
        timezone="Europe/Berlin",
        holiday_country="DE",
        holiday_subdivision="BY",
    )
    assert calendar.skip_reason(bavaria, date(2026, 1, 6)) is not None
    assert calendar.skip_reason(berlin("DE"), date(2026, 1, 6)) is None


def test_next_occurrence_jumps_weekend_and_holiday() -> None:
    after = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # Thursday, after the 09:00 Berlin standup
    found = calendar.next_occurrence(berlin("DE"), after)
    assert found is not None and found.local_date == date(2026, 12, 28)


def test_run_expires_at_the_end_of_its_local_day() -> None:
    occurrence = calendar.occurrence_on(berlin(), date(2026, 7, 1))
    assert occurrence.expires_at == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # midnight CEST


def test_days_until_counts_in_the_launch_timezone() -> None:
    late_evening_utc = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # already 1 June in Berlin
    assert calendar.days_until(date(2026, 6, 10), late_evening_utc, calendar.zone_of("Europe/Berlin")) == 9
    assert calendar.days_until(date(2026, 6, 10), late_evening_utc, calendar.zone_of("UTC")) == 10


@pytest.mark.parametrize("text", ["9:00", "09:00", " 17:45 "])
def test_time_of_day_parses(text: str) -> None:
    assert calendar.parse_time_of_day(text).minute in (0, 45)


@pytest.mark.parametrize("text", ["25:00", "9am", "", "09:60"])
def test_bad_time_of_day_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(CalendarError, match="HH:MM"):
        calendar.parse_time_of_day(text)


def test_unknown_timezone_and_country_are_refused_clearly() -> None:
    with pytest.raises(CalendarError, match="Europe/Berlin"):
        calendar.zone_of("Mars/Olympus")
    with pytest.raises(CalendarError, match="ISO country code"):
        calendar.check_country("XX")
    assert calendar.check_country("de") == ("DE", None)


def test_schedule_is_described_for_people() -> None:
    assert (
        calendar.describe_schedule(berlin("DE"))
        == "Mon–Fri at 09:00 Europe/Berlin, skipping DE public holidays"
    )


def test_a_person_is_asked_at_the_standup_time_in_their_own_timezone() -> None:
    berlin, tokyo, los_angeles = (ZoneInfo(z) for z in ("Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"))
    day = date(2027, 3, 15)  # the US is on summer time since Sunday, Europe not yet
    assert calendar.person_prompt_at(day, time(9, 0), los_angeles, berlin) == datetime(
        2027, 3, 15, 16, 0, tzinfo=UTC
    )
    assert calendar.person_prompt_at(day, time(9, 0), berlin, berlin) == datetime(
        2027, 3, 15, 8, 0, tzinfo=UTC
    )
    assert calendar.person_prompt_at(day, time(9, 0), tokyo, berlin) == datetime(
        2027, 3, 15, 0, 0, tzinfo=UTC
    )


def test_nobody_is_asked_before_the_launchs_day_has_begun() -> None:
    tokyo, los_angeles = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles")
    day = date(2027, 3, 17)
    # 09:00 in Tokyo is Tuesday 17:00 in Los Angeles: wait for Wednesday 00:00 there (07:00 UTC).
    due = calendar.person_prompt_at(day, time(9, 0), tokyo, los_angeles)
    assert due == datetime(2027, 3, 17, 7, 0, tzinfo=UTC)
    # Still Taro's Wednesday, so asking him makes sense until it ends.
    assert calendar.person_expires_at(day, due, tokyo, los_angeles) == datetime(
        2027, 3, 17, 15, 0, tzinfo=UTC
    )
