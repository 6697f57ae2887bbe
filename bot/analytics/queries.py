"""The figures of `GET /api/v1/stats`, computed in SQL for one workspace over a window of days.

Every function takes the window as dates (whole UTC days, both ends included) and the time of the
answer as `now`; none reads the clock, so one request's sections agree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics.launch_queries import launch_stats
from bot.analytics.schema import (
    CoverageOut,
    FeedbackStatsOut,
    KindCoverageOut,
    OwnershipStatsOut,
    StaleAreaOut,
    StalenessOut,
    StatsOut,
    ThemeStatOut,
    WeekOut,
)
from bot.analytics.window import Window
from bot.ownership.stats import OwnershipHealth, ownership_health
from models import (
    Area,
    Feedback,
    FeedbackKind,
    FeedbackWeek,
    Importance,
    Theme,
    ThemeCount,
    ThemeCustomer,
)
from models.base import UTCDateTime

UNASSIGNED = "unassigned"
TOP_THEMES = 10
KINDS = tuple(str(kind) for kind in FeedbackKind)


def _window(since: date | None, until: date | None, window: Window | None) -> Window:
    if window is not None:
        return window
    if since is None or until is None:
        raise TypeError("give since and until, or a window")
    return Window(since=since, until=until)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


async def feedback_stats(
    *,
    session: AsyncSession,
    team_id: str,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    window: Window | None = None,
) -> FeedbackStatsOut:
    """Items per week, by kind and by area, and the critical ones, for every week of the window.

    The window is `since`–`until`, or `window` for exact bounds.
    """
    window = _window(since, until, window)
    mondays = list(window.weeks())
    ranges = [
        (n, max(window.start, _midnight(monday)), min(window.end, _midnight(monday + timedelta(weeks=1))))
        for n, monday in enumerate(mondays)
    ]
    whole = {n: mondays[n] for n, opens, closes in ranges if closes - opens == timedelta(weeks=1)}
    parts = [_weeks_kept(team_id=team_id, weeks=whole)] if whole else []
    if partial := [(n, opens, closes) for n, opens, closes in ranges if n not in whole]:
        parts.append(_weeks_counted(team_id=team_id, ranges=partial))
    # One row per week, kind and area id; then summed by kind and by area, so that a row comes
    # back per week and kind or area, not per combination, and areas join one row per group.
    grouped = union_all(*parts).cte("window_groups")
    no_text = cast(null(), String)
    by_kind = select(
        grouped.c.week, grouped.c.kind, no_text, func.sum(grouped.c["items"]), func.sum(grouped.c.critical)
    ).group_by(grouped.c.week, grouped.c.kind)
    by_area = (
        select(grouped.c.week, no_text, Area.slug, func.sum(grouped.c["items"]), literal_column("0"))
        .select_from(grouped)
        .outerjoin(Area, Area.id == grouped.c.area_key)
        .group_by(grouped.c.week, grouped.c.area_key, Area.slug)
    )
    rows = await session.execute(union_all(by_kind, by_area))
    kinds: dict[date, dict[str, int]] = {w: dict.fromkeys(KINDS, 0) for w in mondays}
    areas: dict[date, dict[str, int]] = {w: defaultdict(int) for w in mondays}
    critical_total = 0
    # PostgreSQL sums integers as numeric; the figures are whole numbers either way.
    for week, kind, slug, count, critical_count in rows:
        monday = mondays[week]
        if kind is None:
            areas[monday][slug or UNASSIGNED] += int(count)
        else:
            kinds[monday][kind] = kinds[monday].get(kind, 0) + int(count)
            critical_total += int(critical_count or 0)
    by_week = [
        WeekOut(week=w, total=sum(kinds[w].values()), by_kind=kinds[w], by_area=_ranked(areas[w]))
        for w in kinds
    ]
    return FeedbackStatsOut(by_week=by_week, total=sum(w.total for w in by_week), critical=critical_total)


def _weeks_kept(*, team_id: str, weeks: dict[int, date]) -> Select[Any]:
    """(week number, kind, area key, items, critical) of whole weeks, from the rollup the triggers keep."""
    # Numbered by a join on the Monday: a CASE over every week would be evaluated on every row.
    numbers = union_all(
        *(
            select(literal_column(str(n)).label("week"), literal(monday, Date()).label("monday"))
            for n, monday in weeks.items()
        )
    ).cte("whole_weeks")
    return (
        select(
            numbers.c.week,
            FeedbackWeek.kind,
            FeedbackWeek.area_key,
            FeedbackWeek.items,
            FeedbackWeek.critical,
        )
        .select_from(FeedbackWeek)
        .join(numbers, numbers.c.monday == FeedbackWeek.week)
        .where(
            FeedbackWeek.team_id == team_id,
            FeedbackWeek.week.between(min(weeks.values()), max(weeks.values())),
            FeedbackWeek.items > 0,
        )
    )


def _weeks_counted(*, team_id: str, ranges: list[tuple[int, datetime, datetime]]) -> Select[Any]:
    """The same rows for parts of weeks (a window's first and last), counted from the items.

    Each range is found on the (team, created_at) index, so the week is a constant per range,
    where computing it from every item's timestamp cost more than reading the items.
    """
    bounds = union_all(
        *(
            select(
                literal_column(str(n)).label("week"),
                literal(opens, UTCDateTime()).label("opens"),
                literal(closes, UTCDateTime()).label("closes"),
            )
            for n, opens, closes in ranges
        )
    ).cte("week_parts")
    area_key = func.coalesce(Feedback.area_id, literal_column("0"))
    return (
        select(
            bounds.c.week,
            Feedback.kind,
            area_key.label("area_key"),
            func.count().label("items"),
            func.sum(case((Feedback.importance == Importance.CRITICAL, 1), else_=0)).label("critical"),
        )
        .select_from(bounds)
        .join(
            Feedback,
            and_(
                Feedback.team_id == team_id,
                Feedback.created_at >= bounds.c.opens,
                Feedback.created_at < bounds.c.closes,
            ),
        )
        .group_by(bounds.c.week, Feedback.kind, area_key)
    )


async def theme_stats(
    *,
    session: AsyncSession,
    team_id: str,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    window: Window | None = None,
    limit: int = TOP_THEMES,
) -> list[ThemeStatOut]:
    """The themes with the most distinct customers, and how many of those first asked in the window.

    With an exact `window`, items logged after it ends are left out, so a past period's figures
    stay as they were.
    """
    window = _window(since, until, window)
    if window.closes is None:
        return await _top_themes_kept(session=session, team_id=team_id, window=window, limit=limit)
    counts = await _theme_counts_until(session=session, team_id=team_id, window=window)
    # The themes are read apart from the counts: joined in one statement, a misestimated theme
    # count can make the planner rerun the aggregation once per theme.
    themes = await session.execute(
        select(Theme.id, Theme.title, Theme.status).where(
            Theme.team_id == team_id, Theme.merged_into_id.is_(None)
        )
    )
    shown = [
        ThemeStatOut(id=id_, title=title, status=status, items=n, customers=c, new_customers=new)
        for id_, title, status in themes
        if id_ in counts
        for n, c, new in [counts[id_]]
    ]
    shown.sort(key=lambda t: (-t.customers, -t.items, t.id))
    return shown[:limit]


async def _top_themes_kept(
    *, session: AsyncSession, team_id: str, window: Window, limit: int
) -> list[ThemeStatOut]:
    """The top themes from the rollup the triggers keep: all-time figures, new customers in the window."""
    top = list(
        await session.execute(
            select(Theme.id, Theme.title, Theme.status, ThemeCount.items, ThemeCount.customers)
            .join(ThemeCount, ThemeCount.theme_id == Theme.id)
            .where(
                Theme.team_id == team_id,
                Theme.merged_into_id.is_(None),
                ThemeCount.team_id == team_id,
                ThemeCount.items > 0,
            )
            .order_by(ThemeCount.customers.desc(), ThemeCount.items.desc(), Theme.id)
            .limit(limit)
        )
    )
    first_asked = await session.execute(
        select(ThemeCustomer.theme_id, func.count())
        .where(
            ThemeCustomer.team_id == team_id,
            ThemeCustomer.theme_id.in_([row.id for row in top]),
            ThemeCustomer.first_at >= window.start,
            ThemeCustomer.first_at < window.end,
        )
        .group_by(ThemeCustomer.theme_id)
    )
    new = {theme_id: int(count) for theme_id, count in first_asked}
    return [
        ThemeStatOut(id=id_, title=title, status=status, items=n, customers=c, new_customers=new.get(id_, 0))
        for id_, title, status, n, c in top
    ]


async def _theme_counts_until(
    *, session: AsyncSession, team_id: str, window: Window
) -> dict[int, tuple[int, int, int]]:
    """(items, customers, new customers) by theme, counting only the items logged before the window closed.

    Read from the items themselves, as the rollup holds only the present figures.
    """
    customer = func.lower(Feedback.customer)
    # One pass over the linked items: a row per (theme, customer), items without a customer
    # grouped under NULL, each with its item count and the customer's first item on the theme.
    per_customer = (
        select(
            Feedback.theme_id,
            customer.label("customer"),
            func.count().label("items"),
            func.min(Feedback.created_at).label("first_at"),
        )
        .where(
            Feedback.team_id == team_id,
            Feedback.theme_id.is_not(None),
            Feedback.created_at < window.end,
        )
        .group_by(Feedback.theme_id, customer)
        .subquery()
    )
    first_at = per_customer.c.first_at
    is_new = and_(per_customer.c.customer.is_not(None), first_at >= window.start, first_at < window.end)
    totals = await session.execute(
        select(
            per_customer.c.theme_id,
            func.sum(per_customer.c["items"]),
            func.count(per_customer.c.customer),
            func.sum(case((is_new, 1), else_=0)),
        ).group_by(per_customer.c.theme_id)
    )
    # PostgreSQL sums integers as numeric; the figures are whole numbers either way.
    return {theme_id: (int(n), int(c), int(new)) for theme_id, n, c, new in totals}


async def area_names(*, session: AsyncSession, team_id: str) -> dict[str, str]:
    """The workspace's area names by slug, to label charts."""
    rows = await session.execute(select(Area.slug, Area.name).where(Area.team_id == team_id))
    return {str(slug): str(name) for slug, name in rows}


def ownership_section(health: OwnershipHealth) -> OwnershipStatsOut:
    """The directory's coverage by kind and what in it is stale."""
    areas, owned = health.areas, health.with_owner
    return OwnershipStatsOut(
        coverage=CoverageOut(
            areas=areas,
            with_owner=owned,
            without_owner=areas - owned,
            owned_percent=round(100.0 * owned / areas, 1) if areas else 100.0,
            by_kind={
                kind: KindCoverageOut(areas=c.areas, with_owner=c.with_owner, without_owner=c.without_owner)
                for kind, c in sorted(health.by_kind.items())
            },
        ),
        staleness=StalenessOut(
            confirmation_overdue=health.confirmation_overdue,
            awaiting_answer=health.awaiting_answer,
            owner_deactivated=health.flagged.get("deactivated", 0),
            owner_missing=health.flagged.get("missing", 0),
            owner_unconfirmed=health.flagged.get("unconfirmed", 0),
            owner_disowned=health.flagged.get("disowned", 0),
            areas=[
                StaleAreaOut(slug=s.slug, name=s.name, owner=s.owner, reason=s.reason, overdue_since=s.since)
                for s in health.stale
            ],
        ),
    )


async def stats_report(
    *, session: AsyncSession, team_id: str, since: date, until: date, now: datetime
) -> StatsOut:
    """Every section of the workspace's statistics for the window."""
    feedback = await feedback_stats(session=session, team_id=team_id, since=since, until=until, now=now)
    themes = await theme_stats(session=session, team_id=team_id, since=since, until=until, now=now)
    launches, standups = await launch_stats(
        session=session, team_id=team_id, since=since, until=until, now=now
    )
    health = await ownership_health(session=session, team_id=team_id, now=now)
    return StatsOut(
        team_id=team_id,
        since=since,
        until=until,
        generated_at=now,
        feedback=feedback,
        themes=themes,
        launches=launches,
        standups=standups,
        ownership=ownership_section(health),
    )
