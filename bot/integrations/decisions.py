"""The area owner's answer when an issue a theme is tracked in was closed as not planned: decline the
theme, or keep it open. Each answer is recorded in the theme's history; answering twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deliveries import claim_delivery
from bot.core.errors import NotFound
from bot.feedback.history import move_theme, record_theme_event
from bot.feedback.themes import theme_counts
from bot.integrations.store import links_of
from bot.integrations.views import TrackedTheme
from models import Area, Theme, ThemeEvent, ThemeEventKind
from models.base import utcnow
from models.feedback import ThemeStatus
from models.integration import LinkState


class Answer(StrEnum):
    DECLINE = "decline"
    KEEP_OPEN = "keep_open"


@dataclass(frozen=True)
class Decision:
    """Where the theme stands after an answer: `changed` is False when nothing was left to do."""

    theme: TrackedTheme
    status: str
    kept_open: bool
    changed: bool
    by: str | None
    at: datetime
    # Keys of the linked issues closed as not planned.
    not_planned: list[str]


async def tracked_theme(*, session: AsyncSession, theme: Theme) -> tuple[TrackedTheme, Area | None]:
    """The theme as its area owner hears about it, and its area."""
    area = await session.get(Area, theme.area_id) if theme.area_id is not None else None
    counts = (await theme_counts(session=session, theme_ids=[theme.id]))[theme.id]
    links = (await links_of(session=session, theme_ids=[theme.id]))[theme.id]
    tracked = TrackedTheme(
        id=theme.id,
        title=theme.title,
        area_name=area.name if area else None,
        items=counts.items,
        customers=counts.customers,
        links=[(link.key, link.url) for link in links],
    )
    return tracked, area


async def theme_to_decide(*, session: AsyncSession, team_id: str, theme_id: int) -> tuple[Theme, Area | None]:
    """The theme a Decline / Keep open button names (locked for the answer), and its area."""
    theme = await session.scalar(
        select(Theme).where(Theme.team_id == team_id, Theme.id == theme_id).with_for_update()
    )
    if theme is None:
        raise NotFound("That theme no longer exists; there is nothing to decide.")
    area = await session.get(Area, theme.area_id) if theme.area_id is not None else None
    return theme, area


async def _last_event(session: AsyncSession, theme: Theme) -> ThemeEvent | None:
    return await session.scalar(
        select(ThemeEvent)
        .where(ThemeEvent.theme_id == theme.id)
        .order_by(ThemeEvent.at.desc(), ThemeEvent.id.desc())
        .limit(1)
    )


async def _last_move_to(session: AsyncSession, theme: Theme, status: str) -> ThemeEvent | None:
    return await session.scalar(
        select(ThemeEvent)
        .where(
            ThemeEvent.theme_id == theme.id,
            ThemeEvent.kind == ThemeEventKind.STATUS,
            ThemeEvent.to_status == status,
        )
        .order_by(ThemeEvent.at.desc(), ThemeEvent.id.desc())
        .limit(1)
    )


async def answer_not_planned(*, session: AsyncSession, theme: Theme, answer: Answer, by: str) -> Decision:
    """Decline the theme, or record that it stays open; a shipped or declined theme stays as it is."""
    links = (await links_of(session=session, theme_ids=[theme.id]))[theme.id]
    not_planned = [link.key for link in links if link.state == LinkState.CLOSED_NOT_PLANNED]
    cause = f"{', '.join(not_planned) or 'a tracker issue'} closed as not planned"
    changed, kept_open = False, answer is Answer.KEEP_OPEN
    event = await _last_event(session, theme)
    final = theme.status in (ThemeStatus.SHIPPED, ThemeStatus.DECLINED)
    needed = not final and (
        answer is Answer.DECLINE or event is None or event.kind != ThemeEventKind.KEPT_OPEN
    )
    # Two clicks at once both read the theme before either wrote: one answer per history state.
    if needed and not await claim_delivery(
        session=session, key=f"theme-answer:{theme.id}:{event.id if event else 0}", team_id=theme.team_id
    ):
        await session.refresh(theme)
        event, needed = await _last_event(session, theme), False
    if theme.status in (ThemeStatus.SHIPPED, ThemeStatus.DECLINED):
        kept_open, event = False, await _last_move_to(session, theme, theme.status)
    elif needed and answer is Answer.DECLINE:
        changed = move_theme(
            session, theme=theme, to=ThemeStatus.DECLINED, actor=by, reason=f"declined: {cause}"
        )
        event = None
    elif needed:
        changed = True
        event = record_theme_event(
            session, theme=theme, kind=ThemeEventKind.KEPT_OPEN, actor=by, reason=f"kept open: {cause}"
        )
        theme.updated_at = utcnow()
    await session.flush()
    if event is None:
        event = await _last_move_to(session, theme, theme.status)
    tracked, _area = await tracked_theme(session=session, theme=theme)
    return Decision(
        theme=tracked,
        status=theme.status,
        kept_open=kept_open,
        changed=changed,
        by=event.actor if event else None,
        at=event.at if event else utcnow(),
        not_planned=not_planned,
    )
