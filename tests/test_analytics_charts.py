"""Charts: Slack-sized PNGs on a light card, alt text that states the figures, empty data drawn."""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from bot.analytics import charts
from bot.analytics.charts import Chart, ChartCache, cache_key
from bot.analytics.schema import ReadinessPointOut, ThemeStatOut, WeekOut

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST_MONDAY = date(2025, 10, 6)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    charts.CACHE.clear()


def size_of(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR is always the first chunk)."""
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def week(n: int, **by_area: int) -> WeekOut:
    return WeekOut(
        week=FIRST_MONDAY + timedelta(weeks=n), total=sum(by_area.values()), by_kind={}, by_area=by_area
    )


def points(*scores: int, start: date = date(2025, 11, 3)) -> list[ReadinessPointOut]:
    return [ReadinessPointOut(date=start + timedelta(days=n), score=s) for n, s in enumerate(scores)]


def theme(title: str, customers: int, new: int) -> ThemeStatOut:
    return ThemeStatOut(
        id=1, title=title, status="open", items=customers, customers=customers, new_customers=new
    )


def test_feedback_chart_is_slack_sized_and_its_alt_text_gives_every_week_and_the_largest_area() -> None:
    weeks = [
        week(0, checkout=7, billing=5),
        week(1, checkout=4, unassigned=5),
        *(week(n) for n in range(2, 7)),
        week(7, checkout=20, billing=5),
    ]
    chart = charts.feedback_by_area_chart(weeks=weeks, names={"checkout": "Checkout", "billing": "Billing"})
    assert size_of(chart.png) == (1200, 600)
    assert chart.alt_text == (
        "Feedback per week by area, 8 weeks to the week of 24 Nov 2025: 12, 9, 0, 0, 0, 0, 0, 25 "
        "(46 in all). Largest area Checkout with 31; then Billing 10, Unassigned 5."
    )


def test_feedback_chart_keeps_six_areas_and_sums_the_rest_as_other() -> None:
    areas = {f"area-{n}": 10 - n for n in range(9)}
    chart = charts.feedback_by_area_chart(weeks=[week(0, **areas)])
    assert chart.alt_text.endswith(
        "Largest area area-0 with 10; then area-1 9, area-2 8, area-3 7, area-4 6, area-5 5, Other areas 9."
    )


@pytest.mark.parametrize(
    ("weeks", "alt_text"),
    [
        ([], "Feedback per week by area: no weeks to show."),
        (
            [week(n) for n in range(8)],
            "Feedback per week by area, 8 weeks to the week of 24 Nov 2025: no feedback.",
        ),
        (
            [week(0, checkout=3)],
            "Feedback per week by area, 1 week to the week of 6 Oct 2025: 3 (3 in all). "
            "Largest area checkout with 3.",
        ),
    ],
)
def test_feedback_chart_draws_empty_and_tiny_data(weeks: list[WeekOut], alt_text: str) -> None:
    chart = charts.feedback_by_area_chart(weeks=weeks)
    assert size_of(chart.png) == (1200, 600) and chart.alt_text == alt_text


def test_top_themes_chart_states_customers_and_new_ones_largest_first() -> None:
    chart = charts.top_themes_chart(
        themes=[theme("Bulk export", 14, 3), theme("Pricing in $ and €", 9, 0), theme("Dark mode", 2, 2)]
    )
    assert size_of(chart.png) == (1200, 600)
    assert chart.alt_text == (
        "Top themes by distinct customers: Bulk export 14 (3 new in the window); "
        "Pricing in $ and € 9 (0 new in the window); Dark mode 2 (2 new in the window)."
    )
    empty = charts.top_themes_chart(themes=[])
    assert size_of(empty.png) == (1200, 600)
    assert empty.alt_text == "Top themes by distinct customers: no themes with feedback yet."


def test_readiness_chart_states_each_score_the_target_date_and_today() -> None:
    chart = charts.readiness_chart(
        name="Checkout v2",
        history=points(20, 35, 50, 85),
        target_date=date(2025, 11, 20),
        today=date(2025, 11, 13),
    )
    assert size_of(chart.png) == (1200, 600)
    assert chart.alt_text == (
        "Readiness of Checkout v2 over 4 standups from 3 Nov to 6 Nov 2025: 20, 35, 50, 85 out of 100; "
        "latest 85. Target date 20 Nov 2025, in 7 days (today is 13 Nov 2025)."
    )


@pytest.mark.parametrize(
    ("history", "target", "alt_text"),
    [
        (
            [],
            date(2025, 11, 13),
            "Readiness of Checkout v2: no standup scores yet. Target date 13 Nov 2025, which is today.",
        ),
        (
            points(0),
            date(2025, 11, 1),
            "Readiness of Checkout v2 over 1 standup on 3 Nov 2025: 0 out of 100; latest 0. "
            "Target date 1 Nov 2025, 12 days ago (today is 13 Nov 2025).",
        ),
    ],
)
def test_readiness_chart_draws_no_points_or_one(
    history: list[ReadinessPointOut], target: date, alt_text: str
) -> None:
    chart = charts.readiness_chart(
        name="Checkout v2", history=history, target_date=target, today=date(2025, 11, 13)
    )
    assert size_of(chart.png) == (1200, 600) and chart.alt_text == alt_text


@pytest.mark.parametrize(
    ("scores", "alt_text"),
    [
        ((20, 35, 85), "Readiness at the last 3 standups: 20, 35, 85 out of 100; latest 85."),
        ((40,), "Readiness at the last standup: 40 out of 100; latest 40."),
        ((), "Readiness: no standup scores yet."),
        ((0, 0, 0), "Readiness at the last 3 standups: 0, 0, 0 out of 100; latest 0."),
    ],
)
def test_sparkline_is_small_and_states_the_scores(scores: tuple[int, ...], alt_text: str) -> None:
    chart = charts.readiness_sparkline(history=points(*scores))
    assert size_of(chart.png) == (600, 150) and chart.alt_text == alt_text


def test_alt_text_stays_within_slacks_limit() -> None:
    chart = charts.top_themes_chart(themes=[theme("x" * 300, 5, 1) for _ in range(10)])
    assert len(chart.alt_text) <= charts.ALT_TEXT_LIMIT and chart.alt_text.endswith("…")


def test_equal_data_is_drawn_once() -> None:
    first = charts.readiness_sparkline(history=points(10, 20))
    assert charts.readiness_sparkline(history=points(10, 20)) is first
    assert charts.readiness_sparkline(history=points(10, 21)) is not first


def test_cache_key_depends_on_kind_and_data_not_on_key_order() -> None:
    assert cache_key("feedback", {"a": 1, "b": 2}) == cache_key("feedback", {"b": 2, "a": 1})
    assert cache_key("feedback", {"a": 1}) != cache_key("themes", {"a": 1})
    assert cache_key("feedback", {"a": 1}) != cache_key("feedback", {"a": 2})


def test_cache_forgets_the_least_recently_used_chart() -> None:
    cache = ChartCache(size=2)
    drawn: list[str] = []

    def draw(name: str) -> Chart:
        drawn.append(name)
        return Chart(png=b"", alt_text=name)

    for name in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_draw(name, lambda name=name: draw(name))  # type: ignore[misc]
    assert drawn == ["a", "b", "c", "b"]


def test_charts_drawn_in_parallel_threads_equal_those_drawn_one_by_one() -> None:
    histories = [points(*range(n, n + 5)) for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda h: charts.readiness_sparkline(history=h).png, histories))
    charts.CACHE.clear()
    assert parallel == [charts.readiness_sparkline(history=h).png for h in histories]


async def test_a_chart_renders_off_the_event_loop() -> None:
    chart = await charts.render_in_thread(charts.top_themes_chart, themes=[theme("SSO", 3, 1)])
    assert size_of(chart.png) == (1200, 600) and chart.alt_text.startswith(
        "Top themes by distinct customers: SSO 3"
    )
