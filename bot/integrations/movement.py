"""Tracker events move themes: planned, in progress, done, shipped with the release; never backwards
from shipped or declined. Slack is told through queued jobs, each keyed so that it happens once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.feedback.history import FINAL_STATUSES, move_theme
from bot.feedback.themes import ship_theme
from bot.integrations.drafts import draft_announcement, release_title
from bot.integrations.events import EventKind, TrackerEvent
from bot.integrations.store import links_naming, links_of
from bot.scheduler.jobs import enqueue
from models import Theme, ThemeLink
from models.base import utcnow
from models.feedback import ThemeStatus
from models.integration import LinkState, Provider

OWNER_NOTICE_KIND = "integrations.owner_notice"

_LINK_STATES = {
    EventKind.OPENED: LinkState.OPEN,
    EventKind.REOPENED: LinkState.OPEN,
    EventKind.IN_PROGRESS: LinkState.IN_PROGRESS,
    EventKind.COMPLETED: LinkState.CLOSED_COMPLETED,
    EventKind.NOT_PLANNED: LinkState.CLOSED_NOT_PLANNED,
}
_WORDS = {
    EventKind.OPENED: "opened",
    EventKind.REOPENED: "reopened",
    EventKind.IN_PROGRESS: "in progress",
    EventKind.COMPLETED: "closed as completed",
    EventKind.NOT_PLANNED: "closed as not planned",
}
_OPEN = frozenset({LinkState.OPEN, LinkState.IN_PROGRESS})


def done_notice_key(theme_id: int) -> str:
    return f"theme:{theme_id}:done"


def decline_notice_key(theme_id: int, link_id: int) -> str:
    return f"theme:{theme_id}:not_planned:{link_id}"


async def apply_events(
    *, session: AsyncSession, events: Iterable[TrackerEvent], settings: Settings
) -> dict[str, int]:
    """Apply one delivery's events in order, in every workspace; a tally of what changed."""
    tally: Counter[str] = Counter()
    for event in events:
        if event.kind is EventKind.RELEASE_PUBLISHED:
            await _release_published(session, event, settings, tally)
        else:
            await _issue_event(session, event, settings, tally)
    return dict(tally)


def _update_link(link: ThemeLink, event: TrackerEvent) -> bool:
    """Record the issue's new state on the link; False when the event does not change it."""
    state = _LINK_STATES[event.kind]
    # A GitHub assignment or pull request is not a state: it does not reopen a closed issue.
    if state is LinkState.IN_PROGRESS and event.provider is Provider.GITHUB and link.state not in _OPEN:
        return False
    changed = link.state != state
    if event.kind is EventKind.COMPLETED and event.pull_request and event.pull_request != link.key:
        changed = changed or link.closed_by != event.pull_request
        link.closed_by = event.pull_request
    if changed:
        link.state = state
        link.updated_at = utcnow()
    return changed


async def _issue_event(
    session: AsyncSession, event: TrackerEvent, settings: Settings, tally: Counter[str]
) -> None:
    links = await links_naming(session=session, provider=event.provider, keys=event.keys)
    moved: dict[int, ThemeLink] = {}
    for link in links:
        if _update_link(link, event):
            tally["links"] += 1
        moved.setdefault(link.theme_id, link)
    await session.flush()
    for theme_id, link in moved.items():
        theme = await session.get(Theme, theme_id)
        if theme is not None and theme.status not in FINAL_STATUSES:
            await _settle_theme(session, theme=theme, link=link, event=event, settings=settings, tally=tally)


async def _settle_theme(
    session: AsyncSession,
    *,
    theme: Theme,
    link: ThemeLink,
    event: TrackerEvent,
    settings: Settings,
    tally: Counter[str],
) -> None:
    """Move `theme` as its links now say, after `event` changed `link`."""
    states = [other.state for other in (await links_of(session=session, theme_ids=[theme.id]))[theme.id]]
    actor, reason = str(event.provider), f"{link.key} {_WORDS[event.kind]}"
    if states and all(state == LinkState.CLOSED_COMPLETED for state in states):
        if theme.status != ThemeStatus.DONE and move_theme(
            session, theme=theme, to=ThemeStatus.DONE, actor=actor, reason=reason
        ):
            tally["done"] += 1
            await _done(session, theme=theme, actor=actor, settings=settings, tally=tally)
        return
    if event.kind is EventKind.NOT_PLANNED:
        tally["decline_questions"] += await enqueue(
            session=session,
            team_id=theme.team_id,
            kind=OWNER_NOTICE_KIND,
            key=decline_notice_key(theme.id, link.id),
            payload={"theme_id": theme.id, "notice": "not_planned", "link_id": link.id},
        )
    target = _target(theme.status, kind=event.kind, any_started=LinkState.IN_PROGRESS in states)
    if target is not None and move_theme(session, theme=theme, to=target, actor=actor, reason=reason):
        tally[str(target)] += 1


def _target(status: str, *, kind: EventKind, any_started: bool) -> ThemeStatus | None:
    """Where a theme that is not (or no longer) done goes after `kind`; None: it stays."""
    if status == ThemeStatus.DONE:
        # An issue reopened, or moved back from done: the theme is not done any more.
        return ThemeStatus.IN_PROGRESS if any_started else ThemeStatus.PLANNED
    if kind is EventKind.IN_PROGRESS and status in (ThemeStatus.OPEN, ThemeStatus.PLANNED):
        return ThemeStatus.IN_PROGRESS
    if kind in (EventKind.OPENED, EventKind.REOPENED) and status == ThemeStatus.OPEN:
        return ThemeStatus.PLANNED
    return None


async def _done(
    session: AsyncSession, *, theme: Theme, actor: str, settings: Settings, tally: Counter[str]
) -> None:
    """Tell the area owner once; with SHIP_ON_ISSUE_CLOSE, ship it now (requesters told once)."""
    notice = "done"
    if settings.ship_on_issue_close:
        await ship_theme(session=session, team_id=theme.team_id, theme_id=theme.id, by=actor)
        tally["shipped"] += 1
        notice = "shipped"
    await enqueue(
        session=session,
        team_id=theme.team_id,
        kind=OWNER_NOTICE_KIND,
        key=done_notice_key(theme.id),
        payload={"theme_id": theme.id, "notice": notice},
    )


async def _release_published(
    session: AsyncSession, event: TrackerEvent, settings: Settings, tally: Counter[str]
) -> None:
    """Ship what the release's notes name; each workspace tracking the repository gets a draft."""
    release = event.release
    if event.provider is not Provider.GITHUB or release is None or not release.repository:
        return
    title = release_title(release)
    shipped: dict[str, list[int]] = {}
    for link in await links_naming(
        session=session, provider=event.provider, keys=event.keys, or_closed_by=True
    ):
        theme = await session.get(Theme, link.theme_id)
        # A theme named twice (its issue and the pull request that closed it) is shipped by then.
        if theme is None or theme.status not in (ThemeStatus.DONE, ThemeStatus.IN_PROGRESS):
            continue
        result = await ship_theme(
            session=session,
            team_id=theme.team_id,
            theme_id=theme.id,
            release_title=title,
            release_link=release.url,
            by="github",
        )
        shipped.setdefault(theme.team_id, []).append(result.theme_id)
        tally["shipped"] += 1
    teams = await session.scalars(
        select(ThemeLink.team_id)
        .where(
            ThemeLink.provider == Provider.GITHUB,
            ThemeLink.key.startswith(f"{release.repository}#", autoescape=True),
        )
        .distinct()
    )
    for team_id in sorted({*teams.all(), *shipped}):
        made = await draft_announcement(
            session=session,
            team_id=team_id,
            release=release,
            theme_ids=shipped.get(team_id, []),
            settings=settings,
        )
        tally["drafts"] += made
