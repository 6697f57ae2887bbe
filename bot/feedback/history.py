"""A theme's history: every move between statuses and every tracker link, with who, what and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Theme, ThemeEvent, ThemeEventKind
from models.base import utcnow
from models.feedback import ThemeStatus

# Once a theme has shipped or been declined, nothing a tracker says moves it again.
FINAL_STATUSES = frozenset({ThemeStatus.SHIPPED, ThemeStatus.DECLINED})
REASON_MAX = 300


def record_theme_event(
    session: AsyncSession,
    *,
    theme: Theme,
    kind: ThemeEventKind,
    actor: str | None,
    reason: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
) -> ThemeEvent:
    """Write down one change of `theme` (flushed with the caller's transaction)."""
    event = ThemeEvent(
        team_id=theme.team_id,
        theme_id=theme.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor[:120] if actor else None,
        reason=reason[:REASON_MAX],
        at=utcnow(),
    )
    session.add(event)
    return event


def move_theme(
    session: AsyncSession, *, theme: Theme, to: ThemeStatus, actor: str | None, reason: str = ""
) -> bool:
    """Set the theme's status and record the move; False when it had that status already."""
    if theme.status == to:
        return False
    record_theme_event(
        session,
        theme=theme,
        kind=ThemeEventKind.STATUS,
        actor=actor,
        reason=reason,
        from_status=theme.status,
        to_status=to,
    )
    theme.status = to
    theme.updated_at = utcnow()
    return True


async def theme_history(*, session: AsyncSession, theme_id: int, limit: int = 200) -> list[ThemeEvent]:
    """The theme's changes, oldest first."""
    rows = await session.scalars(
        select(ThemeEvent)
        .where(ThemeEvent.theme_id == theme_id)
        .order_by(ThemeEvent.at, ThemeEvent.id)
        .limit(limit)
    )
    return list(rows.all())
