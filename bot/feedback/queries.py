"""Feedback items read back: one with its area and theme, filtered pages, full-text search, CSV batches."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound
from bot.feedback.schema import FeedbackFilters, KeysetPosition
from models import Area, Feedback, FeedbackReporter, Theme
from models.feedback import SEARCH_CONFIG, search_vector


@dataclass(frozen=True)
class FeedbackRow:
    """An item with what a listing shows next to it."""

    feedback: Feedback
    area_slug: str | None
    theme_title: str | None


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def get_feedback_row(*, session: AsyncSession, team_id: str, feedback_id: int) -> FeedbackRow:
    """The item with its area slug and theme title, or NotFound."""
    row = (
        await session.execute(
            select(Feedback, Area.slug, Theme.title)
            .outerjoin(Area, Area.id == Feedback.area_id)
            .outerjoin(Theme, Theme.id == Feedback.theme_id)
            .where(Feedback.team_id == team_id, Feedback.id == feedback_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No feedback with id {feedback_id}.")
    return FeedbackRow(feedback=row[0], area_slug=row[1], theme_title=row[2])


def _like_terms(query: str) -> list[str]:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [f"%{term}%" for term in escaped.split() if term][:10]


# Up to this many estimated matches, a search collects them all from the GIN index; above, it
# looks in recent time windows expected to hold `SEARCH_WINDOW_MATCHES` (see `_search_page`).
RARE_MATCHES = 5_000
SEARCH_WINDOW_MATCHES = 250
# Above this share of matching items, walking the newest items is the fastest way to a page.
WALK_DENSITY = 0.02
PHRASE_OVERESTIMATE = 10
_PG_MATCH_SQL = f"to_tsvector('{SEARCH_CONFIG}', text) @@ websearch_to_tsquery('{SEARCH_CONFIG}', :q)"


def text_match(session: AsyncSession, query: str) -> ColumnElement[bool]:
    """Full-text match: websearch syntax on PostgreSQL (GIN index), every word via LIKE on SQLite."""
    if is_postgres(session):
        tsquery = func.websearch_to_tsquery(SEARCH_CONFIG, query)
        return search_vector(Feedback.text).op("@@")(tsquery)
    terms = _like_terms(re.sub(r'["()]|\bOR\b|(?<!\w)-', " ", query))
    if not terms:
        return Feedback.id.is_(None)
    return and_(*(Feedback.text.ilike(term, escape="\\") for term in terms))


def _listing() -> Select[Feedback, str | None, str | None]:
    return (
        select(Feedback, Area.slug, Theme.title)
        .outerjoin(Area, Area.id == Feedback.area_id)
        .outerjoin(Theme, Theme.id == Feedback.theme_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    )


async def conditions_for(
    *, session: AsyncSession, team_id: str, filters: FeedbackFilters
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of `filters`; an unknown area slug is NotFound."""
    conditions: list[ColumnElement[bool]] = [Feedback.team_id == team_id]
    if filters.area is not None:
        area_id = await session.scalar(
            select(Area.id).where(Area.team_id == team_id, Area.slug == filters.area)
        )
        if area_id is None:
            raise NotFound(f"No area with slug `{filters.area}`.")
        conditions.append(Feedback.area_id == area_id)
    if filters.kind is not None:
        conditions.append(Feedback.kind == filters.kind)
    if filters.importance is not None:
        conditions.append(Feedback.importance == filters.importance)
    if filters.customer is not None:
        conditions.append(Feedback.customer == filters.customer)
    if filters.status is not None:
        conditions.append(Feedback.status == filters.status)
    if filters.theme_id is not None:
        conditions.append(Feedback.theme_id == filters.theme_id)
    if filters.since is not None:
        conditions.append(Feedback.created_at >= filters.since)
    if filters.q is not None:
        conditions.append(text_match(session, filters.q))
    return conditions


def _before(after: KeysetPosition | None) -> list[ColumnElement[bool]]:
    if after is None:
        return []
    return [tuple_(Feedback.created_at, Feedback.id) < tuple_(after.created_at, after.id)]


async def list_feedback(
    *,
    session: AsyncSession,
    team_id: str,
    filters: FeedbackFilters,
    after: KeysetPosition | None = None,
    limit: int = 50,
) -> list[FeedbackRow]:
    """A page of items, newest first, after the keyset position `after`."""
    conditions = await conditions_for(session=session, team_id=team_id, filters=filters)
    if filters.q is not None and is_postgres(session):
        return await _search_page(
            session=session, team_id=team_id, q=filters.q, conditions=conditions, after=after, limit=limit
        )
    rows = await session.execute(_listing().where(*conditions, *_before(after)).limit(limit))
    return [FeedbackRow(feedback=f, area_slug=slug, theme_title=title) for f, slug, title in rows]


async def _estimate(session: AsyncSession, sql: str, params: dict[str, Any]) -> int:
    """PostgreSQL's row estimate for `SELECT 1 FROM feedback WHERE <sql>` (index statistics, no scan)."""
    plan = await session.scalar(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM feedback WHERE " + sql), params)
    document = json.loads(plan) if isinstance(plan, str) else plan
    return max(int(document[0]["Plan"]["Plan Rows"]), 1)


async def estimated_matches(*, session: AsyncSession, q: str) -> int:
    """How many items PostgreSQL expects to match `q`, from the GIN index statistics."""
    return await _estimate(session, _PG_MATCH_SQL, {"q": q})


async def _matching_page(
    *, session: AsyncSession, conditions: list[ColumnElement[bool]], after: KeysetPosition | None, limit: int
) -> list[FeedbackRow]:
    """The page among the rows matching `conditions`, which are collected first (materialized).

    Collecting first lets PostgreSQL read the GIN index instead of walking the newest items and
    computing `to_tsvector` on each, which its planner prices far below its real cost.
    """
    matches = (
        select(Feedback.id, Feedback.created_at)
        .where(*conditions, *_before(after))
        .cte("search_matches")
        .prefix_with("MATERIALIZED")
    )
    page = (
        select(matches.c.id)
        .order_by(matches.c.created_at.desc(), matches.c.id.desc())
        .limit(limit)
        .scalar_subquery()
    )
    rows = await session.execute(_listing().where(Feedback.id.in_(page)))
    return [FeedbackRow(feedback=f, area_slug=slug, theme_title=title) for f, slug, title in rows]


async def _search_page(
    *,
    session: AsyncSession,
    team_id: str,
    q: str,
    conditions: list[ColumnElement[bool]],
    after: KeysetPosition | None,
    limit: int,
) -> list[FeedbackRow]:
    """A full-text page on PostgreSQL in bounded time, for rare words, common words and phrases.

    Few matches: collect them all from the GIN index. Dense matches: walk the newest items. In
    between (and for phrases, whose estimates are unreliable and which are checked against the
    text row by row): look in a recent time window sized to hold a few pages of matches (GIN and
    the created_at index together), widening it until the page is full.
    """
    expected = await estimated_matches(session=session, q=q)
    if expected <= RARE_MATCHES:
        return await _matching_page(session=session, conditions=conditions, after=after, limit=limit)
    team_rows = await _estimate(session, "team_id = :team", {"team": team_id})
    if '"' not in q and expected / team_rows >= WALK_DENSITY:
        # Matches are dense: walking the newest items finds a page within a few hundred rows.
        walked = await session.execute(_listing().where(*conditions, *_before(after)).limit(limit))
        return [FeedbackRow(feedback=f, area_slug=slug, theme_title=title) for f, slug, title in walked]
    oldest, newest = (
        await session.execute(
            select(func.min(Feedback.created_at), func.max(Feedback.created_at)).where(
                Feedback.team_id == team_id
            )
        )
    ).one()
    if oldest is None or newest is None:
        return []
    upper = after.created_at if after is not None else newest
    span = max((newest - oldest).total_seconds(), 1.0)
    # Seconds of feedback holding about `SEARCH_WINDOW_MATCHES` matches, were they spread evenly.
    if '"' in q:
        # The estimate for a phrase is that of its words anywhere; adjacent ones are far fewer.
        expected = max(expected // PHRASE_OVERESTIMATE, 1)
    seconds = span * SEARCH_WINDOW_MATCHES / expected
    while True:
        lower = upper - timedelta(seconds=seconds)
        window = [*conditions, Feedback.created_at >= lower] if lower > oldest else conditions
        rows = await _matching_page(session=session, conditions=window, after=after, limit=limit)
        if len(rows) >= limit or lower <= oldest:
            return rows
        seconds *= 4


EXPORT_COLUMNS = (
    Feedback.id,
    Feedback.created_at,
    Feedback.kind,
    Feedback.importance,
    Feedback.status,
    Feedback.customer,
    Feedback.segment,
    Area.slug.label("area"),
    Feedback.theme_id,
    Theme.title.label("theme"),
    Feedback.tags,
    Feedback.source,
    Feedback.channel,
    Feedback.message_ts,
    Feedback.permalink,
    Feedback.author,
    select(func.aggregate_strings(FeedbackReporter.user_id, " "))
    .where(FeedbackReporter.feedback_id == Feedback.id)
    .correlate(Feedback)
    .scalar_subquery()
    .label("reporters"),
    Feedback.text,
)


async def export_batch(
    *,
    session: AsyncSession,
    team_id: str,
    filters: FeedbackFilters,
    after: KeysetPosition | None,
    limit: int,
) -> list[Any]:
    """One batch of an export as plain rows (no ORM objects: an export reads 100,000s of them)."""
    conditions = await conditions_for(session=session, team_id=team_id, filters=filters)
    rows = await session.execute(
        select(*EXPORT_COLUMNS)
        .outerjoin(Area, Area.id == Feedback.area_id)
        .outerjoin(Theme, Theme.id == Feedback.theme_id)
        .where(*conditions, *_before(after))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(limit)
    )
    return list(rows.all())


def position_of(item: Feedback) -> KeysetPosition:
    return KeysetPosition(created_at=item.created_at, id=item.id)


async def owned_area_feedback(
    *, session: AsyncSession, team_id: str, user_id: str, limit: int = 5
) -> list[FeedbackRow]:
    """Recent items in the areas `user_id` owns."""
    area_ids = select(Area.id).where(Area.team_id == team_id, Area.owner == user_id)
    rows = await session.execute(
        select(Feedback, Area.slug, Theme.title)
        .join(Area, Area.id == Feedback.area_id)
        .outerjoin(Theme, Theme.id == Feedback.theme_id)
        .where(Feedback.team_id == team_id, Feedback.area_id.in_(area_ids))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(limit)
    )
    return [FeedbackRow(feedback=f, area_slug=slug, theme_title=title) for f, slug, title in rows]
