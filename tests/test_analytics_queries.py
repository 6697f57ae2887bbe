"""The `/stats` figures straight from the queries, on seeded rows with fixed dates (both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text

from bot.analytics import launch_queries, queries
from bot.analytics.window import Window, default_window, monday_of, resolve_window
from bot.core.db import SessionFactory, create_engine, create_session_factory
from bot.core.errors import UserError
from bot.core.uow import unit_of_work
from models import Area, Feedback, Theme
from models.launch import Launch, LaunchFunction, RunStatus, StandupPrompt, StandupResponse, StandupRun

TEAM = "T0SWITCH"
OTHER = "T0OTHER"
NOW = datetime(2025, 11, 30, 12, 0, tzinfo=UTC)
# Eight weeks ending on Sunday 30 Nov 2025: Mondays 6 Oct … 24 Nov.
SINCE, UNTIL = date(2025, 10, 6), date(2025, 11, 30)
WINDOW = {"team_id": TEAM, "since": SINCE, "until": UNTIL, "now": NOW}
NO_KINDS = {"bug": 0, "request": 0, "praise": 0, "question": 0, "other": 0}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


async def add(factory: SessionFactory, *rows: Any) -> None:
    async with unit_of_work(factory) as session:
        session.add_all(rows)


async def area(factory: SessionFactory, slug: str, team: str = TEAM) -> int:
    row = Area(team_id=team, slug=slug, name=slug.title(), owner="U0ALICE")
    await add(factory, row)
    return row.id


def item(created: datetime, *, team: str = TEAM, **values: Any) -> Feedback:
    return Feedback(team_id=team, text="feedback", created_at=created, updated_at=created, **values)


def kinds(**counts: int) -> dict[str, int]:
    return NO_KINDS | counts


async def test_feedback_per_week_counts_every_week_and_only_this_workspace_inside_the_window(
    factory: SessionFactory,
) -> None:
    checkout, billing = await area(factory, "checkout"), await area(factory, "billing")
    elsewhere = await area(factory, "checkout", team=OTHER)
    await add(
        factory,
        item(at(2025, 10, 5, 23, 59, 59), kind="bug", area_id=checkout),  # the Sunday before: out
        item(at(2025, 10, 6), kind="bug", importance="critical", area_id=checkout),  # first instant: in
        item(at(2025, 10, 12, 23, 59, 59), kind="request", area_id=billing),  # Sunday: still week 1
        item(at(2025, 10, 13), kind="praise"),  # Monday: week 2, no area
        item(at(2025, 11, 10, 9), kind="request", area_id=checkout),
        item(at(2025, 11, 12, 15), kind="request", area_id=checkout),
        item(at(2025, 11, 14, 18), kind="bug", importance="high", area_id=billing),
        # 01:00 on Monday in UTC+2 is still Sunday in UTC: the week is the UTC one.
        item(datetime(2025, 11, 17, 1, 0, tzinfo=timezone(timedelta(hours=2))), kind="other"),
        item(at(2025, 11, 30, 23, 59, 59), kind="question", importance="critical", area_id=checkout),
        item(at(2025, 12, 1), kind="bug", importance="critical", area_id=checkout),  # the day after: out
        item(at(2025, 11, 10, 9), team=OTHER, kind="bug", importance="critical", area_id=elsewhere),
    )
    async with unit_of_work(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Far from UTC, so a week computed in the connection's TimeZone would land elsewhere.
            await session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
        stats = await queries.feedback_stats(session=session, **WINDOW)
    weeks = [(w.week.isoformat(), w.total, w.by_kind, w.by_area) for w in stats.by_week]
    assert weeks == [
        ("2025-10-06", 2, kinds(bug=1, request=1), {"billing": 1, "checkout": 1}),
        ("2025-10-13", 1, kinds(praise=1), {"unassigned": 1}),
        ("2025-10-20", 0, NO_KINDS, {}),
        ("2025-10-27", 0, NO_KINDS, {}),
        ("2025-11-03", 0, NO_KINDS, {}),
        ("2025-11-10", 4, kinds(bug=1, request=2, other=1), {"checkout": 2, "billing": 1, "unassigned": 1}),
        ("2025-11-17", 0, NO_KINDS, {}),
        ("2025-11-24", 1, kinds(question=1), {"checkout": 1}),
    ]
    assert (stats.total, stats.critical) == (8, 2)


async def test_a_window_starting_midweek_still_names_its_first_week_by_its_monday(
    factory: SessionFactory,
) -> None:
    await add(factory, item(at(2025, 11, 12), kind="bug"), item(at(2025, 11, 11, 23), kind="bug"))
    async with unit_of_work(factory) as session:
        stats = await queries.feedback_stats(
            session=session, team_id=TEAM, since=date(2025, 11, 12), until=date(2025, 11, 18), now=NOW
        )
    assert [(w.week, w.total) for w in stats.by_week] == [(date(2025, 11, 10), 1), (date(2025, 11, 17), 0)]


async def test_top_themes_rank_by_distinct_customers_and_count_new_ones_in_the_window(
    factory: SessionFactory,
) -> None:
    sso = Theme(team_id=TEAM, title="SSO", status="planned")
    export = Theme(team_id=TEAM, title="Bulk export")
    dark = Theme(team_id=TEAM, title="Dark mode")
    empty = Theme(team_id=TEAM, title="No items yet")
    theirs = Theme(team_id=OTHER, title="Their theme")
    await add(factory, sso, export, dark, empty, theirs)
    merged = Theme(team_id=TEAM, title="Single sign-on", merged_into_id=sso.id)
    await add(factory, merged)
    before, inside = at(2025, 3, 1), at(2025, 11, 3)
    await add(
        factory,
        *(item(before, theme_id=sso.id, customer=c) for c in ("Initech", "Umbrella", "Hooli")),
        item(before, theme_id=export.id, customer="Acme"),
        item(inside, theme_id=export.id, customer="acme"),  # the same customer, differently spelt
        item(inside, theme_id=export.id, customer="Globex"),  # first asked in the window
        item(inside, theme_id=export.id),
        item(at(2025, 12, 1), theme_id=export.id, customer="Soylent"),  # first asked after it
        item(inside, theme_id=dark.id),
        item(inside, theme_id=merged.id, customer="Stark"),
        *(item(inside, team=OTHER, theme_id=theirs.id, customer=f"C{n}") for n in range(5)),
    )
    async with unit_of_work(factory) as session:
        top = await queries.theme_stats(session=session, **WINDOW)
        first_two = await queries.theme_stats(session=session, **WINDOW, limit=2)
    assert [(t.title, t.status, t.items, t.customers, t.new_customers) for t in top] == [
        ("Bulk export", "open", 5, 3, 1),  # as many customers as SSO, more items
        ("SSO", "planned", 3, 3, 0),
        ("Dark mode", "open", 1, 0, 0),
    ]
    assert [t.id for t in first_two] == [export.id, sso.id]


async def seed_launches(factory: SessionFactory) -> dict[str, int]:
    """Launches of every kind the section must show or leave out, with their standups."""
    live = Launch(
        team_id=TEAM, slug="checkout-v2", name="Checkout v2", target_date=date(2025, 12, 10), owner="U0ALICE"
    )
    shipped = Launch(
        team_id=TEAM,
        slug="billing",
        name="Billing",
        target_date=date(2025, 11, 20),
        owner="U0ALICE",
        status="launched",
    )
    old = Launch(
        team_id=TEAM, slug="old", name="Old", target_date=date(2025, 6, 1), owner="U0ALICE", status="launched"
    )
    cancelled = Launch(
        team_id=TEAM,
        slug="dropped",
        name="Dropped",
        target_date=date(2026, 1, 9),
        owner="U0ALICE",
        status="cancelled",
    )
    theirs = Launch(team_id=OTHER, slug="theirs", name="Theirs", target_date=date(2025, 12, 1), owner="U0ZED")
    await add(factory, live, shipped, old, cancelled, theirs)
    functions = {
        name: LaunchFunction(team_id=TEAM, launch_id=live.id, name=name, owner=owner)
        for name, owner in (("Engineering", "U0BOB"), ("QA", "U0CAROL"), ("Docs", "U0DAVE"))
    }
    their_function = LaunchFunction(team_id=OTHER, launch_id=theirs.id, name="QA", owner="U0ZED")
    await add(factory, *functions.values(), their_function)

    def run(launch: Launch, day: date, hour: int, status: str, score: int | None) -> StandupRun:
        start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        return StandupRun(
            team_id=launch.team_id,
            launch_id=launch.id,
            scheduled_for=start,
            local_date=day,
            expires_at=start + timedelta(hours=12),
            status=status,
            score=score,
        )

    runs = {
        "before": run(live, date(2025, 10, 3), 9, RunStatus.CLOSED, 10),
        "monday": run(live, date(2025, 11, 24), 9, RunStatus.CLOSED, 35),
        "manual": run(live, date(2025, 11, 25), 8, RunStatus.CLOSED, 50),
        "tuesday": run(live, date(2025, 11, 25), 9, RunStatus.CLOSED, 60),
        "open": run(live, date(2025, 11, 26), 9, RunStatus.OPEN, None),
        "skipped": run(live, date(2025, 11, 27), 9, RunStatus.SKIPPED, None),
        "after": run(live, date(2025, 12, 1), 9, RunStatus.CLOSED, 90),
        "dropped": run(cancelled, date(2025, 11, 3), 9, RunStatus.CLOSED, 20),
        "theirs": run(theirs, date(2025, 11, 24), 9, RunStatus.CLOSED, 99),
    }
    await add(factory, *runs.values())

    def prompt(key: str, user: str, sent: datetime | None, team: str = TEAM) -> StandupPrompt:
        return StandupPrompt(team_id=team, run_id=runs[key].id, user_id=user, sent_at=sent)

    def answer(key: str, function: LaunchFunction, user: str, when: datetime) -> StandupResponse:
        return StandupResponse(
            team_id=function.team_id,
            run_id=runs[key].id,
            function_id=function.id,
            user_id=user,
            status="on_track",
            responded_at=when,
        )

    monday, tuesday = at(2025, 11, 24, 9), at(2025, 11, 25, 9)
    await add(
        factory,
        prompt("before", "U0BOB", at(2025, 10, 3, 9)),
        answer("before", functions["Engineering"], "U0BOB", at(2025, 10, 3, 9, 5)),
        prompt("monday", "U0BOB", monday),
        prompt("monday", "U0CAROL", monday),
        prompt("monday", "U0DAVE", monday),  # never answers
        answer("monday", functions["Engineering"], "U0BOB", monday + timedelta(minutes=30)),
        answer("monday", functions["QA"], "U0CAROL", monday + timedelta(minutes=120)),
        prompt("tuesday", "U0BOB", tuesday),
        prompt("tuesday", "U0CAROL", None),  # the DM could not be delivered: not asked
        prompt("tuesday", "U0DAVE", tuesday),
        answer("tuesday", functions["Engineering"], "U0BOB", tuesday + timedelta(minutes=10)),
        answer("tuesday", functions["Docs"], "U0DAVE", tuesday + timedelta(minutes=60)),
        # The launch owner answering for QA does not make Carol's DM (undelivered) answered.
        answer("tuesday", functions["QA"], "U0ALICE", tuesday + timedelta(minutes=5)),
        prompt("open", "U0BOB", at(2025, 11, 26, 9)),
        prompt("after", "U0BOB", at(2025, 12, 1, 9)),
        prompt("theirs", "U0ZED", monday, team=OTHER),
        answer("theirs", their_function, "U0ZED", monday + timedelta(minutes=1)),
    )
    return {"live": live.id, "shipped": shipped.id, "cancelled": cancelled.id}


async def test_launches_show_readiness_history_and_response_rates_of_the_window(
    factory: SessionFactory,
) -> None:
    ids = await seed_launches(factory)
    async with unit_of_work(factory) as session:
        launches, standups = await launch_queries.launch_stats(session=session, **WINDOW)
    shown = [
        (launch.id, [(p.date.isoformat(), p.score) for p in launch.readiness_history], launch.prompts)
        for launch in launches
    ]
    assert shown == [
        (ids["shipped"], [], 0),
        (ids["live"], [("2025-11-24", 35), ("2025-11-25", 60)], 6),
        (ids["cancelled"], [("2025-11-03", 20)], 0),
    ]
    live = launches[1]
    assert (live.name, live.status, live.answered, live.response_rate) == (
        "Checkout v2",
        "planning",
        4,
        0.667,
    )
    assert launches[0].response_rate is None
    assert standups.model_dump() == {
        "runs": 3,
        "prompts": 6,
        "answered": 4,
        "response_rate": 0.667,
        "median_minutes_to_answer": 45.0,
    }


async def test_an_empty_workspace_answers_every_section_with_zeros(factory: SessionFactory) -> None:
    async with unit_of_work(factory) as session:
        report = await queries.stats_report(session=session, **WINDOW)
    assert [w.total for w in report.feedback.by_week] == [0] * 8
    assert (report.feedback.total, report.feedback.critical, report.themes, report.launches) == (0, 0, [], [])
    assert report.standups.model_dump() == {
        "runs": 0,
        "prompts": 0,
        "answered": 0,
        "response_rate": None,
        "median_minutes_to_answer": None,
    }
    assert report.ownership.coverage.owned_percent == 100.0
    assert (report.generated_at, report.since, report.until) == (NOW, SINCE, UNTIL)


def test_default_window_is_eight_weeks_ending_today() -> None:
    window = default_window(today=date(2025, 11, 27))
    assert (window.since, window.until) == (date(2025, 10, 6), date(2025, 11, 27))
    assert len(list(window.weeks())) == 8
    assert monday_of(date(2025, 11, 30)) == date(2025, 11, 24)


def test_window_bounds_are_whole_utc_days() -> None:
    window = Window(since=date(2025, 11, 3), until=date(2025, 11, 3))
    assert (window.start, window.end) == (at(2025, 11, 3), at(2025, 11, 4))


def test_an_exact_window_runs_between_its_instants_and_touches_their_weeks() -> None:
    # A digest's week: Wednesday 10:30 in New York to the next Wednesday 10:30.
    opens, closes = datetime(2025, 11, 5, 15, 30, tzinfo=UTC), datetime(2025, 11, 12, 15, 30, tzinfo=UTC)
    window = Window.between(opens, closes)
    assert (window.since, window.until, window.start, window.end) == (
        date(2025, 11, 5),
        date(2025, 11, 12),
        opens,
        closes,
    )
    assert list(window.weeks()) == [date(2025, 11, 3), date(2025, 11, 10)]
    # Ending at midnight, its last day is the one before.
    assert Window.between(opens, at(2025, 11, 12)).until == date(2025, 11, 11)


async def test_an_exact_window_leaves_out_what_came_after_it(factory: SessionFactory) -> None:
    export = Theme(team_id=TEAM, title="Bulk export")
    await add(factory, export)
    await add(
        factory,
        item(at(2025, 11, 3), theme_id=export.id, customer="Acme"),
        item(at(2025, 11, 5, 12), theme_id=export.id, customer="Globex"),
        item(at(2025, 11, 5, 18), theme_id=export.id, customer="Hooli"),  # after the window
    )
    window = Window.between(at(2025, 11, 4), at(2025, 11, 5, 15))
    async with unit_of_work(factory) as session:
        feedback = await queries.feedback_stats(session=session, team_id=TEAM, now=NOW, window=window)
        (theme,) = await queries.theme_stats(session=session, team_id=TEAM, now=NOW, window=window)
    assert [(w.week, w.total) for w in feedback.by_week] == [(date(2025, 11, 3), 1)]
    assert (theme.items, theme.customers, theme.new_customers) == (2, 2, 1)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (date(2025, 12, 1), date(2025, 11, 30), "is after until"),
        (date(2025, 12, 1), None, "is after until"),
        (date(2023, 1, 1), date(2025, 11, 30), "at most 731 days"),
    ],
)
def test_inverted_or_overlong_windows_are_refused_with_what_to_send(
    since: date | None, until: date | None, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        resolve_window(since=since, until=until, today=date(2025, 11, 30))


def test_a_two_year_window_is_allowed() -> None:
    window = resolve_window(since=date(2023, 11, 30), until=date(2025, 11, 30), today=date(2025, 11, 30))
    assert len(list(window.weeks())) == 105


def test_one_bound_given_fills_in_the_other() -> None:
    today = date(2025, 11, 30)
    assert resolve_window(since=date(2025, 11, 1), until=None, today=today) == Window(
        date(2025, 11, 1), today
    )
    assert resolve_window(since=None, until=date(2025, 6, 15), today=today) == Window(
        date(2025, 4, 21), date(2025, 6, 15)
    )
