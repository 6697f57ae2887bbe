"""Themes: product needs that feedback items link to; merging them and shipping them.

`ship_theme` is the entry point other features (release announcements) use to close the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound, UserError
from bot.core.text import escape_mrkdwn
from bot.feedback.capture import area_id_for, reporters_by_item
from bot.feedback.history import move_theme
from bot.feedback.schema import ThemeIn, ThemePatch
from bot.integrations.store import move_links
from bot.scheduler.jobs import enqueue
from models import Feedback, Theme, ThemeFollower, ThemeNotification
from models.base import utcnow
from models.feedback import FeedbackStatus, NotificationStatus, ThemeStatus

SHIP_NOTICE_KIND = "themes.ship_notice"
OPEN_STATUSES = (ThemeStatus.OPEN, ThemeStatus.PLANNED, ThemeStatus.IN_PROGRESS)


@dataclass(frozen=True)
class ThemeCounts:
    items: int = 0
    customers: int = 0


@dataclass(frozen=True)
class ShipResult:
    """What `ship_theme` did.

    `newly_shipped` is False when the theme was shipped before; `enqueued` counts notifications
    added by this call (0 on a repeated call unless items were linked since).
    """

    theme_id: int
    newly_shipped: bool
    enqueued: int
    threads: int
    people: int


def _dialect_insert(session: AsyncSession) -> Any:
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def get_theme(*, session: AsyncSession, team_id: str, theme_id: int) -> Theme:
    """The theme with this id, or NotFound."""
    theme = await session.scalar(select(Theme).where(Theme.team_id == team_id, Theme.id == theme_id))
    if theme is None:
        raise NotFound(f"No theme with id {theme_id}.")
    return theme


async def find_theme(*, session: AsyncSession, team_id: str, ref: str) -> Theme:
    """The theme `ref` names: its id (`12`, `#12`), its title (any case), or one title containing it.

    A merged theme is found as the theme it became. NotFound, or UserError listing the candidates
    when the words fit several themes; their messages are Slack mrkdwn.
    """
    ref = ref.strip()
    number = ref.removeprefix("#")
    if number.isdigit() and len(number) < 10:
        return await resolve_merged(
            session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=int(number))
        )
    listed = [theme for theme, _ in await list_themes(session=session, team_id=team_id, q=ref, limit=20)]
    exact = [theme for theme in listed if theme.title.lower() == ref.lower()]
    found = exact or listed
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"No theme is called “{escape_mrkdwn(ref)}”. Name a theme by its id or its title.")
    names = ", ".join(f"#{theme.id} {escape_mrkdwn(theme.title)}" for theme in found[:5])
    raise UserError(f"“{escape_mrkdwn(ref)}” fits several themes ({names}); name one by its id.")


async def resolve_merged(*, session: AsyncSession, theme: Theme) -> Theme:
    """The theme `theme` was (transitively) merged into, or itself."""
    seen = {theme.id}
    while theme.merged_into_id is not None:
        target = await session.get(Theme, theme.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        theme = target
    return theme


async def theme_counts(*, session: AsyncSession, theme_ids: Sequence[int]) -> dict[int, ThemeCounts]:
    """Linked items and distinct customers (case-insensitive) per theme."""
    found = {i: ThemeCounts() for i in theme_ids}
    if not theme_ids:
        return found
    rows = await session.execute(
        select(
            Feedback.theme_id,
            func.count(Feedback.id),
            func.count(func.distinct(func.lower(Feedback.customer))),
        )
        .where(Feedback.theme_id.in_(list(theme_ids)))
        .group_by(Feedback.theme_id)
    )
    for theme_id, items, customers in rows:
        if theme_id is not None:
            found[theme_id] = ThemeCounts(items=items, customers=customers)
    return found


async def follow(*, session: AsyncSession, team_id: str, theme_id: int, user_id: str) -> bool:
    """Add a follower; False when they already followed."""
    statement = (
        _dialect_insert(session)(ThemeFollower)
        .values(team_id=team_id, theme_id=theme_id, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[ThemeFollower.theme_id, ThemeFollower.user_id])
    )
    return bool(getattr(await session.execute(statement), "rowcount", 0))


async def unfollow(*, session: AsyncSession, team_id: str, theme_id: int, user_id: str) -> None:
    follower = await session.scalar(
        select(ThemeFollower).where(
            ThemeFollower.team_id == team_id,
            ThemeFollower.theme_id == theme_id,
            ThemeFollower.user_id == user_id,
        )
    )
    if follower is not None:
        await session.delete(follower)
        await session.flush()


async def followed_themes(
    *, session: AsyncSession, team_id: str, user_id: str, limit: int = 10
) -> list[tuple[Theme, ThemeCounts]]:
    """Themes `user_id` follows, most recently changed first."""
    themes = list(
        (
            await session.scalars(
                select(Theme)
                .join(ThemeFollower, ThemeFollower.theme_id == Theme.id)
                .where(
                    ThemeFollower.team_id == team_id,
                    ThemeFollower.user_id == user_id,
                    Theme.merged_into_id.is_(None),
                )
                .order_by(Theme.updated_at.desc(), Theme.id.desc())
                .limit(limit)
            )
        ).all()
    )
    counts = await theme_counts(session=session, theme_ids=[t.id for t in themes])
    return [(t, counts[t.id]) for t in themes]


async def create_theme(
    *, session: AsyncSession, team_id: str, data: ThemeIn, created_by: str | None = None
) -> Theme:
    """Add a theme; its creator follows it. Ship it with `ship_theme`, not by status."""
    if data.status == ThemeStatus.SHIPPED:
        raise UserError("Create the theme first, then ship it (shipping tells every requester).")
    theme = Theme(
        team_id=team_id,
        title=data.title,
        description=data.description,
        area_id=await area_id_for(session=session, team_id=team_id, slug=data.area),
        status=data.status,
        created_by=created_by,
    )
    session.add(theme)
    await session.flush()
    if created_by:
        await follow(session=session, team_id=team_id, theme_id=theme.id, user_id=created_by)
    return theme


async def find_or_create_theme(
    *, session: AsyncSession, team_id: str, title: str, created_by: str | None = None
) -> Theme:
    """The open theme titled `title` (any case), else a new one: a double click makes one theme."""
    existing = await session.scalar(
        select(Theme)
        .where(
            Theme.team_id == team_id,
            func.lower(Theme.title) == title.strip().lower(),
            Theme.merged_into_id.is_(None),
        )
        .order_by(Theme.id)
        .limit(1)
    )
    if existing is not None:
        return existing
    return await create_theme(
        session=session, team_id=team_id, data=ThemeIn(title=title), created_by=created_by
    )


async def list_themes(
    *,
    session: AsyncSession,
    team_id: str,
    status: ThemeStatus | None = None,
    area: str | None = None,
    q: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
    include_merged: bool = False,
) -> list[tuple[Theme, ThemeCounts]]:
    """Themes by id with their counts; merged themes are hidden unless asked for."""
    query = select(Theme).where(Theme.team_id == team_id).order_by(Theme.id).limit(limit)
    if not include_merged:
        query = query.where(Theme.merged_into_id.is_(None))
    if status is not None:
        query = query.where(Theme.status == status)
    if area is not None:
        area_id = await area_id_for(session=session, team_id=team_id, slug=area)
        query = query.where(Theme.area_id == area_id)
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Theme.title).like(f"%{escaped}%", escape="\\"))
    if after_id is not None:
        query = query.where(Theme.id > after_id)
    themes = list((await session.scalars(query)).all())
    counts = await theme_counts(session=session, theme_ids=[t.id for t in themes])
    return [(t, counts[t.id]) for t in themes]


async def update_theme(
    *, session: AsyncSession, team_id: str, theme_id: int, patch: ThemePatch, by: str | None = None
) -> Theme:
    """Change the fields given. Shipping goes through `ship_theme` so that requesters hear of it."""
    theme = await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if changes.get("status") == ThemeStatus.SHIPPED and theme.status != ThemeStatus.SHIPPED:
        raise UserError("Ship a theme with POST /themes/{id}/ship (it tells every requester), not by status.")
    if status := changes.pop("status", None):
        move_theme(session, theme=theme, to=ThemeStatus(status), actor=by, reason="changed by hand")
    if "area" in changes:
        theme.area_id = await area_id_for(session=session, team_id=team_id, slug=changes.pop("area"))
    for key, value in changes.items():
        if value is not None:
            setattr(theme, key, value)
    theme.updated_at = utcnow()
    await session.flush()
    return theme


async def delete_theme(*, session: AsyncSession, team_id: str, theme_id: int) -> None:
    """Remove a theme; its items stay, unlinked."""
    theme = await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    await session.execute(
        update(Feedback).where(Feedback.theme_id == theme.id).values(theme_id=None, updated_at=utcnow())
    )
    await session.execute(update(Theme).where(Theme.merged_into_id == theme.id).values(merged_into_id=None))
    try:
        async with session.begin_nested():
            await session.delete(theme)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"Theme {theme_id} is referenced elsewhere (e.g. a release); merge or decline it instead."
        ) from exc


async def link_feedback(
    *, session: AsyncSession, team_id: str, feedback_id: int, theme_id: int, by: str | None = None
) -> tuple[Feedback, Theme]:
    """Link an item to a theme (or the theme it was merged into); whoever links it follows it."""
    item = await session.scalar(
        select(Feedback).where(Feedback.team_id == team_id, Feedback.id == feedback_id)
    )
    if item is None:
        raise NotFound(f"No feedback with id {feedback_id}.")
    theme = await resolve_merged(
        session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    )
    item.theme_id = theme.id
    if item.status == FeedbackStatus.NEW:
        item.status = FeedbackStatus.TRIAGED
    item.updated_at = utcnow()
    theme.updated_at = utcnow()
    await session.flush()
    if by:
        await follow(session=session, team_id=team_id, theme_id=theme.id, user_id=by)
    return item, theme


async def merge_themes(*, session: AsyncSession, team_id: str, source_id: int, into_id: int) -> Theme:
    """Move every item and follower of `source_id` to `into_id`; the source is kept, marked merged."""
    if source_id == into_id:
        raise UserError("A theme cannot be merged into itself; pick another theme as `into`.")
    source = await get_theme(session=session, team_id=team_id, theme_id=source_id)
    if source.merged_into_id is not None:
        raise Conflict(f"Theme {source_id} was already merged into theme {source.merged_into_id}.")
    target = await resolve_merged(
        session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=into_id)
    )
    if target.id == source.id:
        raise UserError(f"Theme {into_id} was merged into theme {source_id}; merging back would loop.")
    now = utcnow()
    await session.execute(
        update(Feedback).where(Feedback.theme_id == source.id).values(theme_id=target.id, updated_at=now)
    )
    await session.execute(
        update(Theme).where(Theme.merged_into_id == source.id).values(merged_into_id=target.id)
    )
    followers = await session.scalars(
        select(ThemeFollower.user_id).where(ThemeFollower.theme_id == source.id)
    )
    for user_id in followers.all():
        await follow(session=session, team_id=team_id, theme_id=target.id, user_id=user_id)
    await move_links(session=session, source_id=source.id, target_id=target.id)
    if source.description and not target.description:
        target.description = source.description
    source.merged_into_id = target.id
    source.updated_at = now
    target.updated_at = now
    await session.flush()
    return target


def dm_key(theme_id: int, user_id: str) -> str:
    return f"theme:{theme_id}:dm:{user_id}"


def thread_key(theme_id: int, channel: str, thread_ts: str) -> str:
    return f"theme:{theme_id}:thread:{channel}:{thread_ts}"


async def ship_theme(
    *,
    session: AsyncSession,
    team_id: str,
    theme_id: int,
    release_id: int | None = None,
    release_title: str | None = None,
    release_link: str | None = None,
    by: str | None = None,
) -> ShipResult:
    """Mark the theme shipped and enqueue the notifications, each exactly once.

    Every linked item's Slack thread gets a reply and every author and reporter one DM. Each
    recipient has a `ThemeNotification` row (unique per theme and target) and a job keyed
    `theme:{id}:thread:{channel}:{ts}` or `theme:{id}:dm:{user}`, delivered with `post_once`; so
    calling this again, retrying it, or a crash between two messages leaves everyone told once.
    Items linked after a first ship are told on the next call. A merged theme ships the theme it
    was merged into. Nothing reaches Slack inside this call; the caller commits, then wakes the
    scheduler.
    """
    theme = await resolve_merged(
        session=session, theme=await get_theme(session=session, team_id=team_id, theme_id=theme_id)
    )
    newly_shipped = theme.status != ThemeStatus.SHIPPED
    now = utcnow()
    move_theme(session, theme=theme, to=ThemeStatus.SHIPPED, actor=by, reason=release_title or "shipped")
    theme.shipped_at = theme.shipped_at or now
    theme.shipped_by = by or theme.shipped_by
    if release_id is not None:
        theme.release_id = release_id
    if release_title is not None:
        theme.release_title = release_title[:300]
    if release_link is not None:
        theme.release_link = release_link[:1000]
    theme.updated_at = now
    items = list((await session.scalars(select(Feedback).where(Feedback.theme_id == theme.id))).all())
    reporters = await reporters_by_item(session=session, feedback_ids=[i.id for i in items])
    threads: dict[str, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}
    for item in items:
        thread_ts = item.thread_ts or item.message_ts
        if item.channel and thread_ts:
            target = f"thread:{item.channel}:{thread_ts}"
            threads.setdefault(
                target,
                {
                    "key": thread_key(theme.id, item.channel, thread_ts),
                    "channel": item.channel,
                    "thread_ts": thread_ts,
                    "feedback_id": item.id,
                },
            )
        for user_id in [item.author, *reporters[item.id]]:
            if user_id:
                people.setdefault(
                    f"dm:{user_id}",
                    {"key": dm_key(theme.id, user_id), "user": user_id, "feedback_id": item.id},
                )
        if item.status != FeedbackStatus.SHIPPED:
            item.status = FeedbackStatus.SHIPPED
            item.updated_at = now
    await session.flush()
    enqueued = 0
    for target, notice in {**threads, **people}.items():
        await session.execute(
            _dialect_insert(session)(ThemeNotification)
            .values(
                team_id=team_id,
                theme_id=theme.id,
                target=target,
                feedback_id=notice["feedback_id"],
                status=NotificationStatus.PENDING,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=[ThemeNotification.theme_id, ThemeNotification.target])
        )
        enqueued += await enqueue(
            session=session,
            team_id=team_id,
            kind=SHIP_NOTICE_KIND,
            key=notice["key"],
            payload={"theme_id": theme.id, "target": target, **notice},
            max_attempts=8,
        )
    return ShipResult(
        theme_id=theme.id,
        newly_shipped=newly_shipped,
        enqueued=enqueued,
        threads=len(threads),
        people=len(people),
    )


async def notification_counts(*, session: AsyncSession, theme_id: int) -> dict[str, int]:
    """How many ship notifications are pending, sent or skipped."""
    rows = await session.execute(
        select(ThemeNotification.status, func.count())
        .where(ThemeNotification.theme_id == theme_id)
        .group_by(ThemeNotification.status)
    )
    counts = {status.value: 0 for status in NotificationStatus}
    counts.update({str(status): int(n) for status, n in rows})
    return counts
