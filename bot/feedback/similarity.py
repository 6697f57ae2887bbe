"""Which open themes a new piece of feedback looks like (fuzzy matching with rapidfuzz)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.feedback.themes import OPEN_STATUSES, ThemeCounts, theme_counts
from models import Feedback, Theme

# Below this score (0–100) a suggestion is more noise than help.
MIN_SCORE = 62.0
# Text beyond this adds little to a match and costs time; feedback can be 40,000 characters.
MAX_COMPARED = 2000
ITEMS_PER_THEME = 20
MAX_THEMES = 500

_SLACK_MARKUP = re.compile(r"<[^>]*>|:[a-z0-9_+\-]+:")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does for from has have how i if in into is it its
    just me my need needs no not of on or our please so that the their them they this to too us
    want wants was we were what when where which who why will with would you your
    customer customers user users""".split()
)


@dataclass(frozen=True)
class ThemeSuggestion:
    theme_id: int
    title: str
    score: float
    counts: ThemeCounts


def normalize(text: str) -> str:
    """Lowercase words without Slack markup, stopwords or plural endings."""
    words = _WORD.findall(_SLACK_MARKUP.sub(" ", text[: MAX_COMPARED * 2]).lower())
    kept = [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words]
    return " ".join(w for w in kept if w not in STOPWORDS)[:MAX_COMPARED]


def similarity(query: str, title: str, description: str, items: list[str]) -> float:
    """How much `query` (already normalized) looks like a theme, 0–100.

    The title counts most; the description and the feedback already linked count a little less,
    so that a theme named tersely is still found through what its items say.
    """
    if not query:
        return 0.0
    scores = [fuzz.token_set_ratio(query, normalize(title))]
    if description:
        scores.append(0.85 * fuzz.token_set_ratio(query, normalize(description)))
    scores.extend(0.85 * fuzz.token_set_ratio(query, normalize(item)) for item in items)
    return max(scores)


async def suggest_themes(
    *,
    session: AsyncSession,
    team_id: str,
    text: str,
    limit: int = 3,
    exclude: int | None = None,
) -> list[ThemeSuggestion]:
    """The open themes most like `text`, best first."""
    query = normalize(text)
    if not query:
        return []
    themes = (
        await session.execute(
            select(Theme.id, Theme.title, Theme.description)
            .where(
                Theme.team_id == team_id,
                Theme.status.in_(OPEN_STATUSES),
                Theme.merged_into_id.is_(None),
            )
            .order_by(Theme.updated_at.desc())
            .limit(MAX_THEMES)
        )
    ).all()
    if not themes:
        return []
    ids = [t.id for t in themes if t.id != exclude]
    items: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(Feedback.theme_id, Feedback.text)
        .where(Feedback.team_id == team_id, Feedback.theme_id.in_(ids))
        .order_by(Feedback.created_at.desc())
        .limit(ITEMS_PER_THEME * 20)
    )
    for theme_id, item_text in rows:
        if theme_id is not None and len(items[theme_id]) < ITEMS_PER_THEME:
            items[theme_id].append(item_text[:MAX_COMPARED])
    scored = [
        (similarity(query, t.title, t.description or "", items.get(t.id, [])), t)
        for t in themes
        if t.id != exclude
    ]
    best = sorted((s for s in scored if s[0] >= MIN_SCORE), key=lambda s: (-s[0], s[1].id))[:limit]
    counts = await theme_counts(session=session, theme_ids=[t.id for _, t in best])
    return [
        ThemeSuggestion(theme_id=t.id, title=t.title, score=round(score, 1), counts=counts[t.id])
        for score, t in best
    ]
