"""PNG charts of the statistics, drawn on the server for Slack image blocks, each with its alt text.

Each chart is built on its own `matplotlib.figure.Figure` and rendered by the Agg canvas, never
through pyplot, whose global figure registry is not thread-safe; so a chart can be drawn in a
worker thread (`render_in_thread`) while the event loop keeps serving Slack.

Colours: every chart is an opaque light card (white, near-black text). Slack shows an image as it
is on both its light and dark themes, and a card that carries its own background reads the same
on both, where a transparent one would lose its dark text on the dark theme. The series colours
are the Okabe–Ito palette, which stays distinct for colour-blind readers.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.analytics.schema import ReadinessPointOut, ThemeStatOut, WeekOut
from bot.core.text import plural

DPI = 200
# 1200×600 px at 200 dpi: Slack shows it about 600 px wide, so text stays sharp on HiDPI screens.
CHART_INCHES = (6.0, 3.0)
SPARKLINE_INCHES = (3.0, 0.75)
BACKGROUND, INK, MUTED, GRID = "#FFFFFF", "#1D1C1D", "#616061", "#E6E6E6"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
OTHER_COLOUR, TARGET_COLOUR = "#A8A8A8", "#D55E00"
MAX_AREAS = len(PALETTE)
# The key of the summed smaller areas: empty, so that no real area slug can be mistaken for it.
OTHER_AREAS = ""
TITLE_CHARS = 38
# Slack refuses an image block whose alt_text is longer than this.
ALT_TEXT_LIMIT = 2000
GO_NO_GO_LINE = 80


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt_text: str


def cache_key(kind: str, data: Any) -> str:
    """A stable hash of the chart kind and the exact data it draws."""
    payload = json.dumps([kind, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class ChartCache:
    """The most recently drawn charts by key, so that equal data is rendered once."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._charts: OrderedDict[str, Chart] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_draw(self, key: str, draw: Callable[[], Chart]) -> Chart:
        with self._lock:
            if key in self._charts:
                self._charts.move_to_end(key)
                return self._charts[key]
        # Drawn outside the lock: two threads racing on one key both draw, and the result is equal.
        chart = draw()
        with self._lock:
            self._charts[key] = chart
            while len(self._charts) > self.size:
                self._charts.popitem(last=False)
        return chart

    def clear(self) -> None:
        with self._lock:
            self._charts.clear()


CACHE = ChartCache()


async def render_in_thread(draw: Callable[..., Chart], /, **kwargs: Any) -> Chart:
    """Draw a chart in a worker thread: a render holds the CPU for up to a few hundred milliseconds."""
    return await asyncio.to_thread(functools.partial(draw, **kwargs))


def day_label(day: date, *, year: bool = False) -> str:
    return f"{day.day} {day:%b}" + (f" {day.year}" if year else "")


def _plain(text: str) -> str:
    """User text shown as is: a `$` would otherwise start matplotlib's math mode."""
    return text.replace("$", r"\$")


def _short(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _alt(text: str) -> str:
    return _short(text, ALT_TEXT_LIMIT)


def _figure(inches: tuple[float, float]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=inches, dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_facecolor(BACKGROUND)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID)
    axes.tick_params(colors=MUTED, labelsize=7, length=0)
    return figure, axes


def _title(axes: Axes, text: str) -> None:
    axes.set_title(_plain(text), loc="left", fontsize=9, color=INK, fontweight="bold", pad=8)


def _note(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=8, color=MUTED)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Without the "Software" entry the file names no library version: its bytes are what is drawn.
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return buffer.getvalue()


def _area_series(weeks: list[tuple[str, dict[str, int]]]) -> list[tuple[str, list[int]]]:
    """The largest areas over all weeks (at most MAX_AREAS), largest first, then the rest summed."""
    totals: dict[str, int] = {}
    for _, by_area in weeks:
        for slug, count in by_area.items():
            totals[slug] = totals.get(slug, 0) + count
    ranked = [s for s, n in sorted(totals.items(), key=lambda i: (-i[1], i[0])) if n > 0]
    kept = ranked[:MAX_AREAS]
    series = [(slug, [by_area.get(slug, 0) for _, by_area in weeks]) for slug in kept]
    rest = [s for s in ranked if s not in kept]
    if rest:
        series.append((OTHER_AREAS, [sum(b.get(s, 0) for s in rest) for _, b in weeks]))
    return series


def _area_name(slug: str, names: Mapping[str, str]) -> str:
    return {"unassigned": "Unassigned", OTHER_AREAS: "Other areas"}.get(slug) or names.get(slug, slug)


def _draw_feedback(data: dict[str, Any]) -> Chart:
    weeks: list[tuple[str, dict[str, int]]] = [(w, dict(a)) for w, a in data["weeks"]]
    names: dict[str, str] = data["names"]
    figure, axes = _figure(CHART_INCHES)
    _title(
        axes, f"Feedback per week by area ({_weeks(len(weeks))})" if weeks else "Feedback per week by area"
    )
    series = _area_series(weeks)
    mondays = [date.fromisoformat(w) for w, _ in weeks]
    positions = list(range(len(weeks)))
    bottoms = [0] * len(weeks)
    for n, (slug, counts) in enumerate(series):
        colour = OTHER_COLOUR if slug == OTHER_AREAS else PALETTE[n % len(PALETTE)]
        label = _plain(_short(_area_name(slug, names), 24))
        axes.bar(positions, counts, bottom=bottoms, width=0.7, color=colour, label=label, linewidth=0)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    for x, total in zip(positions, bottoms, strict=True):
        if total:
            axes.text(x, total, str(total), ha="center", va="bottom", fontsize=6.5, color=INK)
    axes.set_xticks(positions, [day_label(m) for m in mondays])
    axes.set_xlim(-0.5, max(len(weeks), 1) - 0.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_ylim(0, max([*bottoms, 1]) * 1.15)
    axes.grid(axis="y", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    if series:
        # Listed top-down like the stack reads, so the first entry is the top segment.
        handles, labels = axes.get_legend_handles_labels()
        figure.legend(
            handles[::-1], labels[::-1], loc="outside right upper", frameon=False, fontsize=7, labelcolor=INK
        )
    else:
        axes.set_yticks([])
        _note(axes, "No feedback in these weeks" if weeks else "No weeks to show")
    return Chart(png=_png(figure), alt_text=_feedback_alt(weeks, series, names))


def _feedback_alt(
    weeks: list[tuple[str, dict[str, int]]], series: list[tuple[str, list[int]]], names: Mapping[str, str]
) -> str:
    if not weeks:
        return "Feedback per week by area: no weeks to show."
    last = day_label(date.fromisoformat(weeks[-1][0]), year=True)
    head = f"Feedback per week by area, {_weeks(len(weeks))} to the week of {last}"
    totals = [sum(by_area.values()) for _, by_area in weeks]
    if not any(totals):
        return _alt(f"{head}: no feedback.")
    # The series come largest first, the summed rest (if any) last.
    (largest, largest_count), *rest = [(_area_name(slug, names), sum(counts)) for slug, counts in series]
    parts = ", ".join(f"{name} {count}" for name, count in rest)
    tail = f"; then {parts}" if parts else ""
    return _alt(
        f"{head}: {', '.join(map(str, totals))} ({sum(totals)} in all). "
        f"Largest area {largest} with {largest_count}{tail}."
    )


def feedback_by_area_chart(*, weeks: Sequence[WeekOut], names: Mapping[str, str] | None = None) -> Chart:
    """Stacked bars of feedback per week by area; `names` maps area slugs to display names."""
    data = {"weeks": [(w.week.isoformat(), dict(w.by_area)) for w in weeks], "names": dict(names or {})}
    return CACHE.get_or_draw(cache_key("feedback_by_area", data), lambda: _draw_feedback(data))


def _draw_themes(data: list[tuple[str, int, int]]) -> Chart:
    figure, axes = _figure(CHART_INCHES)
    _title(axes, "Top themes by distinct customers")
    rows = list(reversed(data))  # barh draws bottom-up; the largest theme goes on top
    positions = list(range(len(rows)))
    earlier = [customers - new for _, customers, new in rows]
    new = [n for _, _, n in rows]
    axes.barh(positions, earlier, height=0.65, color=PALETTE[0], label="Customers before", linewidth=0)
    axes.barh(positions, new, left=earlier, height=0.65, color=PALETTE[1], label="New in window", linewidth=0)
    for y, (_, customers, fresh) in zip(positions, rows, strict=True):
        label = f" {customers}" + (f" ({fresh} new)" if fresh else "")
        axes.text(customers, y, label, va="center", fontsize=6.5, color=INK)
    axes.set_yticks(positions, [_plain(_short(title)) for title, _, _ in rows])
    axes.tick_params(axis="y", labelsize=7, labelcolor=INK)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_xlim(0, max([c for _, c, _ in rows] + [1]) * 1.2)
    axes.grid(axis="x", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    if rows:
        figure.legend(loc="outside right upper", frameon=False, fontsize=7, labelcolor=INK)
    else:
        axes.set_xticks([])
        _note(axes, "No themes with feedback yet")
    if not rows:
        return Chart(
            png=_png(figure), alt_text="Top themes by distinct customers: no themes with feedback yet."
        )
    listed = "; ".join(f"{title} {customers} ({new} new in the window)" for title, customers, new in data)
    return Chart(png=_png(figure), alt_text=_alt(f"Top themes by distinct customers: {listed}."))


def top_themes_chart(*, themes: Sequence[ThemeStatOut]) -> Chart:
    """Horizontal bars of the themes' distinct customers, the window's new ones marked."""
    data = [(t.title, t.customers, t.new_customers) for t in themes]
    return CACHE.get_or_draw(cache_key("top_themes", data), lambda: _draw_themes(data))


def _target_phrase(target: date, today: date) -> str:
    days, on = (target - today).days, day_label(target, year=True)
    if days == 0:
        return f"Target date {on}, which is today"
    when = f"in {plural(days, 'day')}" if days > 0 else f"{plural(-days, 'day')} ago"
    return f"Target date {on}, {when} (today is {day_label(today, year=True)})"


def _weeks(count: int) -> str:
    return plural(count, "week")


def _standups(count: int) -> str:
    return plural(count, "standup")


def _mark_day(axes: Axes, day: date, label: str, *, colour: str, style: str, top: bool) -> None:
    x = mdates.date2num(day)
    axes.axvline(x, color=colour, linestyle=style, linewidth=1)
    left, right = axes.get_xlim()
    # A label near the right edge goes on the line's left, where it is not cut off.
    flip = x > left + 0.75 * (right - left)
    axes.text(
        x,
        98 if top else 3,
        f"{label} " if flip else f" {label}",
        color=colour,
        fontsize=6.5,
        ha="right" if flip else "left",
        va="top" if top else "bottom",
    )


def _draw_readiness(data: dict[str, Any]) -> Chart:
    name: str = data["name"]
    points = [(date.fromisoformat(d), s) for d, s in data["points"]]
    target, today = date.fromisoformat(data["target"]), date.fromisoformat(data["today"])
    figure, axes = _figure(CHART_INCHES)
    _title(axes, f"Readiness of {_short(name, 60)}")
    days = [d for d, _ in points] + [target, today]
    axes.set_xlim(
        mdates.date2num(min(days) - timedelta(days=1)), mdates.date2num(max(days) + timedelta(days=2))
    )
    axes.set_ylim(0, 100)
    axes.set_yticks([0, 25, 50, 75, 100])
    axes.grid(axis="y", color=GRID, linewidth=0.6)
    axes.axhline(GO_NO_GO_LINE, color=PALETTE[2], linestyle=(0, (1, 2)), linewidth=0.8)
    axes.text(
        0.005,
        GO_NO_GO_LINE + 1,
        "go/no-go 80",
        transform=axes.get_yaxis_transform(),
        fontsize=6,
        color=PALETTE[2],
        bbox={"facecolor": BACKGROUND, "edgecolor": "none", "pad": 0.5},
    )
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: day_label(mdates.num2date(x).date())))
    _mark_day(axes, target, f"Target {day_label(target)}", colour=TARGET_COLOUR, style="--", top=True)
    _mark_day(axes, today, "Today", colour=MUTED, style=":", top=False)
    if points:
        xs = [mdates.date2num(d) for d, _ in points]
        axes.plot(xs, [s for _, s in points], color=PALETTE[0], linewidth=1.5, marker="o", markersize=3)
        axes.annotate(
            str(points[-1][1]), (xs[-1], points[-1][1]), xytext=(4, 4), textcoords="offset points", fontsize=7
        )
    else:
        _note(axes, "No standup scores yet")
    when = _target_phrase(target, today)
    if not points:
        return Chart(png=_png(figure), alt_text=_alt(f"Readiness of {name}: no standup scores yet. {when}."))
    scores = ", ".join(str(s) for _, s in points)
    span = f"on {day_label(points[0][0], year=True)}"
    if len(points) > 1:
        span = f"from {day_label(points[0][0])} to {day_label(points[-1][0], year=True)}"
    count = _standups(len(points))
    return Chart(
        png=_png(figure),
        alt_text=_alt(
            f"Readiness of {name} over {count} {span}: {scores} out of 100; latest {points[-1][1]}. {when}."
        ),
    )


def readiness_chart(
    *, name: str, history: Sequence[ReadinessPointOut], target_date: date, today: date
) -> Chart:
    """A launch's readiness score at each standup, 0–100, with its target date and today marked."""
    data = {
        "name": name,
        "points": [(p.date.isoformat(), p.score) for p in history],
        "target": target_date.isoformat(),
        "today": today.isoformat(),
    }
    return CACHE.get_or_draw(cache_key("readiness", data), lambda: _draw_readiness(data))


def _draw_sparkline(scores: list[int]) -> Chart:
    figure = Figure(figsize=SPARKLINE_INCHES, dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.03, 0.12, 0.84, 0.76))
    axes.set_axis_off()
    axes.set_ylim(-4, 104)
    axes.set_xlim(-0.3, max(len(scores) - 1, 1) + 0.3)
    axes.axhline(GO_NO_GO_LINE, color=GRID, linewidth=0.8)
    if scores:
        axes.plot(range(len(scores)), scores, color=PALETTE[0], linewidth=1.4)
        axes.plot([len(scores) - 1], [scores[-1]], "o", color=PALETTE[0], markersize=3)
        figure.text(0.88, 0.5, str(scores[-1]), fontsize=9, color=INK, va="center", fontweight="bold")
        listed = ", ".join(map(str, scores))
        last = "the last standup" if len(scores) == 1 else f"the last {len(scores)} standups"
        alt = f"Readiness at {last}: {listed} out of 100; latest {scores[-1]}."
    else:
        figure.text(0.5, 0.5, "No standups yet", fontsize=7, color=MUTED, ha="center", va="center")
        alt = "Readiness: no standup scores yet."
    return Chart(png=_png(figure), alt_text=_alt(alt))


def readiness_sparkline(*, history: Sequence[ReadinessPointOut]) -> Chart:
    """A small line of readiness at each standup, for App Home (600×150 px)."""
    scores = [p.score for p in history]
    return CACHE.get_or_draw(cache_key("sparkline", scores), lambda: _draw_sparkline(scores))
