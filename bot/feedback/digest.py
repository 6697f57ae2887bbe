"""The weekly feedback digest: when it is due and what it says."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics.queries import area_names, feedback_stats, theme_stats
from bot.analytics.schema import ThemeStatOut, WeekOut
from bot.analytics.window import Window, default_window
from bot.integrations.store import links_of
from models import Area, Feedback, Theme
from models.feedback import Importance


@dataclass(frozen=True)
class DigestThemeLine:
    title: str
    new_customers: int
    items: int
    # (key, url) of each tracker issue the theme is tracked in.
    links: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class DigestData:
    start_label: str
    end_label: str
    total: int
    previous_total: int
    by_area: Sequence[tuple[str, int, int]]  # (area name, this week, last week)
    by_kind: Sequence[tuple[str, int]]
    top_themes: Sequence[DigestThemeLine]
    critical: Sequence[tuple[str, str | None, str | None]]  # (text, area name, permalink)
    shipped: Sequence[str]
    # For the charts: feedback per week by area over the weeks up to the period's end, the area
    # names by slug, and the themes with the most customers (new ones: first asked this period).
    recent_weeks: Sequence[WeekOut] = ()
    area_names: Mapping[str, str] = field(default_factory=dict)
    themes_by_customers: Sequence[ThemeStatOut] = ()


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_KIND = "feedback.digest"
NO_AREA = "No area"
# A digest missed while no scheduler ran is still worth posting this long after it was due.
DIGEST_GRACE = timedelta(days=2)
CHART_WEEKS = 8
CHART_THEMES = 8


def next_digest_at(now: datetime, *, timezone: str, day: str, at: str) -> datetime:
    """The first digest moment strictly after `now`, in UTC (wall-clock time in `timezone`)."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in at.split(":"))
    local_now = now.astimezone(zone)
    days_ahead = (WEEKDAYS.index(day) - local_now.weekday()) % 7
    for extra in (0, 7):
        date = local_now.date() + timedelta(days=days_ahead + extra)
        moment = datetime.combine(date, time(hour, minute), tzinfo=zone)
        if moment > local_now:
            return moment.astimezone(UTC)
    raise AssertionError("unreachable: a weekday recurs within 14 days")


def week_before(end: datetime, *, timezone: str) -> datetime:
    """The same wall-clock time a week before `end` (right across daylight-saving changes)."""
    zone = ZoneInfo(timezone)
    local = end.astimezone(zone)
    return datetime.combine(
        local.date() - timedelta(days=7), local.timetz().replace(tzinfo=None), tzinfo=zone
    ).astimezone(UTC)


# A loose index scan: one index probe per workspace instead of reading every item's team_id, since
# the planner asks on every scheduler tick.
_TEAMS_WITH_FEEDBACK = text(
    """
    WITH RECURSIVE teams(team_id) AS (
        SELECT MIN(team_id) FROM feedback
        UNION ALL
        SELECT (SELECT MIN(f.team_id) FROM feedback f WHERE f.team_id > teams.team_id)
        FROM teams WHERE teams.team_id IS NOT NULL
    )
    SELECT team_id FROM teams WHERE team_id IS NOT NULL
    """
)


async def teams_with_feedback(*, session: AsyncSession) -> list[str]:
    """Workspaces that have logged any feedback."""
    return [str(team) for team in (await session.scalars(_TEAMS_WITH_FEEDBACK)).all()]


async def _count_by_area(
    *, session: AsyncSession, team_id: str, start: datetime, end: datetime
) -> dict[str, int]:
    rows = await session.execute(
        select(Area.name, func.count(Feedback.id))
        .outerjoin(Area, Area.id == Feedback.area_id)
        .where(Feedback.team_id == team_id, Feedback.created_at >= start, Feedback.created_at < end)
        .group_by(Area.name)
    )
    return {str(name or NO_AREA): int(count) for name, count in rows}


async def _top_themes(
    *, session: AsyncSession, team_id: str, start: datetime, end: datetime
) -> list[DigestThemeLine]:
    """Themes ranked by customers heard from this week who had not asked for them before."""
    in_week = await session.execute(
        select(Feedback.theme_id, func.lower(Feedback.customer)).where(
            Feedback.team_id == team_id,
            Feedback.theme_id.is_not(None),
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )
    )
    items: dict[int, int] = defaultdict(int)
    customers: dict[int, set[str]] = defaultdict(set)
    for theme_id, customer in in_week:
        items[theme_id] += 1
        if customer:
            customers[theme_id].add(customer)
    if not items:
        return []
    earlier = await session.execute(
        select(Feedback.theme_id, func.lower(Feedback.customer)).where(
            Feedback.theme_id.in_(list(items)), Feedback.created_at < start, Feedback.customer.is_not(None)
        )
    )
    for theme_id, customer in earlier:
        customers[theme_id].discard(customer)
    titles = dict(
        (await session.execute(select(Theme.id, Theme.title).where(Theme.id.in_(list(items))))).all()
    )
    ranked = sorted(items, key=lambda t: (-len(customers[t]), -items[t], t))[:5]
    links = await links_of(session=session, theme_ids=ranked)
    return [
        DigestThemeLine(
            title=titles.get(t, f"Theme {t}"),
            new_customers=len(customers[t]),
            items=items[t],
            links=[(link.key, link.url) for link in links[t]],
        )
        for t in ranked
    ]


async def _chart_figures(
    *, session: AsyncSession, team_id: str, start: datetime, end: datetime
) -> tuple[list[WeekOut], dict[str, str], list[ThemeStatOut]]:
    """The figures the digest's charts draw, none of them counting what was logged after `end`."""
    last_day = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    weeks = default_window(today=last_day, weeks=CHART_WEEKS)
    recent = await feedback_stats(
        session=session,
        team_id=team_id,
        now=end,
        window=Window(since=weeks.since, until=weeks.until, closes=end),
    )
    themes = await theme_stats(
        session=session, team_id=team_id, now=end, window=Window.between(start, end), limit=CHART_THEMES
    )
    return recent.by_week, await area_names(session=session, team_id=team_id), themes


async def build_digest(
    *, session: AsyncSession, team_id: str, start: datetime, end: datetime, timezone: str
) -> DigestData:
    """Everything the digest for [start, end) says, with movement against the week before."""
    previous_start = week_before(start, timezone=timezone)
    this_week = await _count_by_area(session=session, team_id=team_id, start=start, end=end)
    last_week = await _count_by_area(session=session, team_id=team_id, start=previous_start, end=start)
    by_area = sorted(
        ((name, this_week.get(name, 0), last_week.get(name, 0)) for name in set(this_week) | set(last_week)),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    by_kind = (
        await session.execute(
            select(Feedback.kind, func.count(Feedback.id))
            .where(Feedback.team_id == team_id, Feedback.created_at >= start, Feedback.created_at < end)
            .group_by(Feedback.kind)
            .order_by(func.count(Feedback.id).desc(), Feedback.kind)
        )
    ).all()
    critical = (
        await session.execute(
            select(Feedback.text, Area.name, Feedback.permalink)
            .outerjoin(Area, Area.id == Feedback.area_id)
            .where(
                Feedback.team_id == team_id,
                Feedback.importance == Importance.CRITICAL,
                Feedback.created_at >= start,
                Feedback.created_at < end,
            )
            .order_by(Feedback.created_at.desc())
            .limit(10)
        )
    ).all()
    shipped = (
        await session.scalars(
            select(Theme.title).where(
                Theme.team_id == team_id, Theme.shipped_at >= start, Theme.shipped_at < end
            )
        )
    ).all()
    zone = ZoneInfo(timezone)
    recent, names, themes = await _chart_figures(session=session, team_id=team_id, start=start, end=end)
    return DigestData(
        start_label=f"{start.astimezone(zone):%a %d %b}",
        end_label=f"{(end - timedelta(seconds=1)).astimezone(zone):%a %d %b %Y}",
        total=sum(this_week.values()),
        previous_total=sum(last_week.values()),
        by_area=by_area,
        by_kind=[(str(kind), int(n)) for kind, n in by_kind],
        top_themes=await _top_themes(session=session, team_id=team_id, start=start, end=end),
        critical=[(str(text), area, link) for text, area, link in critical],
        shipped=list(shipped),
        recent_weeks=recent,
        area_names=names,
        themes_by_customers=themes,
    )
