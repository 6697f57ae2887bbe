"""The rollups the triggers keep agree with the feedback items after every kind of change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bot.analytics import queries
from bot.analytics.window import Window, monday_of
from bot.core.db import SessionFactory, create_engine, create_session_factory
from bot.core.uow import unit_of_work
from models import Area, Feedback, Theme, ThemeCount, ThemeCustomer

TEAM = "T0SWITCH"
OTHER = "T0OTHER"
START = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


def item(day: int, *, team: str = TEAM, **values: Any) -> Feedback:
    created = START + timedelta(days=day)
    return Feedback(team_id=team, text="feedback", created_at=created, updated_at=created, **values)


async def themes(factory: SessionFactory, *titles: str, team: str = TEAM) -> list[int]:
    rows = [Theme(team_id=team, title=title) for title in titles]
    async with unit_of_work(factory) as session:
        session.add_all(rows)
    return [row.id for row in rows]


async def rollup(factory: SessionFactory) -> tuple[dict[Any, Any], dict[Any, Any]]:
    async with unit_of_work(factory) as session:
        counts = {
            (team, theme): (items, customers)
            for team, theme, items, customers in await session.execute(
                select(ThemeCount.team_id, ThemeCount.theme_id, ThemeCount.items, ThemeCount.customers)
            )
            if items
        }
        pairs = {
            (team, theme, key): (items, first_at)
            for team, theme, key, items, first_at in await session.execute(
                select(
                    ThemeCustomer.team_id,
                    ThemeCustomer.theme_id,
                    ThemeCustomer.customer_key,
                    ThemeCustomer.items,
                    ThemeCustomer.first_at,
                )
            )
        }
    return counts, pairs


async def from_items(factory: SessionFactory) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The same figures recounted from the items (the test data's customers are ASCII)."""
    async with unit_of_work(factory) as session:
        rows = list(
            await session.execute(
                select(Feedback.team_id, Feedback.theme_id, Feedback.customer, Feedback.created_at).where(
                    Feedback.theme_id.is_not(None)
                )
            )
        )
    items: dict[Any, int] = defaultdict(int)
    customers: dict[Any, set[str]] = defaultdict(set)
    pairs: dict[Any, tuple[int, datetime]] = {}
    for team, theme, customer, created in rows:
        items[team, theme] += 1
        if customer is None:
            continue
        customers[team, theme].add(customer.lower())
        count, first = pairs.get((team, theme, customer.lower()), (0, created))
        pairs[team, theme, customer.lower()] = (count + 1, min(first, created))
    return {key: (n, len(customers[key])) for key, n in items.items()}, pairs


async def assert_rollup_matches_items(factory: SessionFactory) -> None:
    assert await rollup(factory) == await from_items(factory)


async def test_theme_rollup_follows_capture_edits_links_merges_and_deletes(factory: SessionFactory) -> None:
    export, sso, dark = await themes(factory, "Bulk export", "SSO", "Dark mode")
    (theirs,) = await themes(factory, "Their theme", team=OTHER)
    first_acme = item(0, theme_id=export, customer="Acme")
    globex = item(3, theme_id=export, customer="Globex")
    loose = item(4, customer="Initech")
    async with unit_of_work(factory) as session:
        session.add_all(
            [
                first_acme,
                item(1, theme_id=export, customer="ACME"),  # one customer, spelt two ways
                item(2, theme_id=export),
                globex,
                loose,
                item(5, theme_id=sso, customer="acme"),
                item(6, team=OTHER, theme_id=theirs, customer="Acme"),
            ]
        )
    await assert_rollup_matches_items(factory)

    async with unit_of_work(factory) as session:
        (await session.get(Feedback, globex.id)).customer = "Hooli"  # type: ignore[union-attr]
        (await session.get(Feedback, loose.id)).theme_id = sso  # type: ignore[union-attr]
    await assert_rollup_matches_items(factory)

    # The earliest item of a pair goes: the pair's first item is the next one.
    async with unit_of_work(factory) as session:
        await session.execute(delete(Feedback).where(Feedback.id == first_acme.id))
    await assert_rollup_matches_items(factory)

    # A merge moves every item in one statement; an unlink takes one out.
    async with unit_of_work(factory) as session:
        await session.execute(update(Feedback).where(Feedback.theme_id == export).values(theme_id=sso))
        (await session.get(Feedback, loose.id)).theme_id = None  # type: ignore[union-attr]
        session.add(item(7, theme_id=dark, customer="Umbrella"))
    await assert_rollup_matches_items(factory)

    # A deleted theme's items are unlinked by the foreign key, not by the code.
    async with unit_of_work(factory) as session:
        await session.execute(delete(Theme).where(Theme.id == sso))
    await assert_rollup_matches_items(factory)
    counts, _ = await rollup(factory)
    assert set(counts) == {(TEAM, dark), (OTHER, theirs)}


async def test_theme_figures_from_the_rollup_equal_those_counted_from_the_items(
    factory: SessionFactory,
) -> None:
    export, sso = await themes(factory, "Bulk export", "SSO")
    async with unit_of_work(factory) as session:
        session.add_all(
            [
                item(0, theme_id=export, customer="Acme"),
                item(20, theme_id=export, customer="acme"),
                item(21, theme_id=export, customer="Globex"),
                item(22, theme_id=export),
                item(23, theme_id=sso, customer="Hooli"),
                item(40, theme_id=sso, customer="Initech"),
            ]
        )
    window = Window(since=(START + timedelta(days=14)).date(), until=(START + timedelta(days=30)).date())
    ever_after = Window.between(window.start, datetime(2100, 1, 1, tzinfo=UTC))
    async with unit_of_work(factory) as session:
        kept = await queries.theme_stats(session=session, team_id=TEAM, now=START, window=window)
        counted = await queries.theme_stats(session=session, team_id=TEAM, now=START, window=ever_after)

    def figures(top: list[Any]) -> list[tuple[str, int, int, int]]:
        return [(t.title, t.items, t.customers, t.new_customers) for t in top]

    # (items, customers, new in the window): Initech first asked after the window ends.
    assert figures(kept) == [("Bulk export", 4, 2, 1), ("SSO", 2, 2, 1)]
    assert figures(counted) == [("Bulk export", 4, 2, 1), ("SSO", 2, 2, 2)]


async def weeks_from_items(factory: SessionFactory, window: Window) -> list[tuple[Any, ...]]:
    """(week, total, by kind, by area, critical) recounted from the items, as `feedback_stats` gives it."""
    async with unit_of_work(factory) as session:
        slugs = dict((await session.execute(select(Area.id, Area.slug))).tuples().all())
        rows = list(
            await session.execute(
                select(Feedback.created_at, Feedback.kind, Feedback.area_id, Feedback.importance).where(
                    Feedback.team_id == TEAM,
                    Feedback.created_at >= window.start,
                    Feedback.created_at < window.end,
                )
            )
        )
    weeks: dict[Any, list[Any]] = {w: [defaultdict(int), defaultdict(int)] for w in window.weeks()}
    critical = 0
    for created, kind, area_id, importance in rows:
        by_kind, by_area = weeks[monday_of(created.date())]
        by_kind[kind] += 1
        by_area[slugs.get(area_id, "unassigned")] += 1
        critical += importance == "critical"
    return [
        (w, sum(k.values()), {n: c for n, c in k.items() if c}, dict(a), critical)
        for w, (k, a) in weeks.items()
    ]


async def weeks_from_stats(factory: SessionFactory, window: Window) -> list[tuple[Any, ...]]:
    async with unit_of_work(factory) as session:
        stats = await queries.feedback_stats(session=session, team_id=TEAM, now=START, window=window)
    return [
        (w.week, w.total, {n: c for n, c in w.by_kind.items() if c}, w.by_area, stats.critical)
        for w in stats.by_week
    ]


async def test_weekly_rollup_follows_capture_edits_moves_and_deletes(factory: SessionFactory) -> None:
    async with unit_of_work(factory) as session:
        checkout, billing = (
            Area(team_id=TEAM, slug="checkout", name="Checkout", owner="U0A"),
            Area(team_id=TEAM, slug="billing", name="Billing", owner="U0B"),
        )
        session.add_all([checkout, billing])
    # 1 Oct 2025 is a Wednesday: the first and last weeks are partial, the middle ones whole.
    windows = [
        Window(since=START.date(), until=(START + timedelta(days=30)).date()),
        Window(since=monday_of(START.date()), until=(START + timedelta(days=32)).date()),
    ]
    bug = item(1, kind="bug", area_id=checkout.id, importance="critical")
    moved = item(9, kind="request", area_id=billing.id)
    async with unit_of_work(factory) as session:
        session.add_all(
            [
                bug,
                moved,
                item(2, kind="bug", area_id=checkout.id),
                item(10, kind="praise"),
                item(16, kind="request", area_id=billing.id, importance="critical"),
                item(25, kind="question", area_id=checkout.id),
                item(12, team=OTHER, kind="bug"),
            ]
        )

    async def assert_weeks_match_items() -> None:
        for window in windows:
            assert await weeks_from_stats(factory, window) == await weeks_from_items(factory, window)

    await assert_weeks_match_items()
    async with unit_of_work(factory) as session:
        row = await session.get(Feedback, moved.id)
        assert row is not None
        row.kind, row.area_id, row.importance = "bug", checkout.id, "critical"
        row.created_at = START + timedelta(days=17)
    await assert_weeks_match_items()
    # A deleted area's items become unassigned through the foreign key, not through the code.
    async with unit_of_work(factory) as session:
        await session.execute(delete(Area).where(Area.id == checkout.id))
        await session.execute(delete(Feedback).where(Feedback.id == bug.id))
    await assert_weeks_match_items()
