"""Feedback items: capture from any path (one row per Slack message), edit, reporters, drafts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.feedback.schema import FeedbackDetails, FeedbackIn, FeedbackPatch
from bot.scheduler.jobs import enqueue
from models import Area, Feedback, FeedbackDraft, FeedbackReporter, Theme
from models.base import utcnow
from models.feedback import FeedbackStatus, Importance

MARK_KIND = "feedback.mark"
CRITICAL_KIND = "feedback.critical_alert"
# A draft outlives any open modal (Slack closes a view after a day at most).
DRAFT_LIFETIME = timedelta(days=1)


@dataclass
class CaptureResult:
    feedback: Feedback
    created: bool
    # False when this person had logged the item already (a retry, a double click).
    reporter_added: bool
    reporters: list[str] = field(default_factory=list)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def get_feedback(*, session: AsyncSession, team_id: str, feedback_id: int) -> Feedback:
    """The item with this id, or NotFound."""
    item = await session.scalar(
        select(Feedback).where(Feedback.team_id == team_id, Feedback.id == feedback_id)
    )
    if item is None:
        raise NotFound(f"No feedback with id {feedback_id}.")
    return item


async def find_by_message(
    *, session: AsyncSession, team_id: str, channel: str, message_ts: str
) -> Feedback | None:
    return await session.scalar(
        select(Feedback).where(
            Feedback.team_id == team_id, Feedback.channel == channel, Feedback.message_ts == message_ts
        )
    )


async def area_id_for(*, session: AsyncSession, team_id: str, slug: str | None) -> int | None:
    """The id of the area with `slug`; an unknown slug is a clear error."""
    if slug is None:
        return None
    area_id = await session.scalar(select(Area.id).where(Area.team_id == team_id, Area.slug == slug))
    if area_id is None:
        raise UserError(f"No area with slug `{slug}`; pick one from the ownership directory.")
    return area_id


async def _check_theme(*, session: AsyncSession, team_id: str, theme_id: int | None) -> int | None:
    """Items link to the theme a merged theme now lives in."""
    if theme_id is None:
        return None
    theme = await session.scalar(select(Theme).where(Theme.team_id == team_id, Theme.id == theme_id))
    seen: set[int] = set()
    while theme is not None and theme.merged_into_id is not None and theme.id not in seen:
        seen.add(theme.id)
        theme = await session.get(Theme, theme.merged_into_id)
    if theme is None:
        raise UserError(f"No theme with id {theme_id}.")
    return theme.id


async def reporters_of(*, session: AsyncSession, feedback_id: int) -> list[str]:
    """Everyone who logged the item, first reporter first."""
    rows = await session.scalars(
        select(FeedbackReporter.user_id)
        .where(FeedbackReporter.feedback_id == feedback_id)
        .order_by(FeedbackReporter.created_at, FeedbackReporter.id)
    )
    return list(rows.all())


async def reporters_by_item(*, session: AsyncSession, feedback_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in feedback_ids}
    if not feedback_ids:
        return found
    rows = await session.execute(
        select(FeedbackReporter.feedback_id, FeedbackReporter.user_id)
        .where(FeedbackReporter.feedback_id.in_(list(feedback_ids)))
        .order_by(FeedbackReporter.created_at, FeedbackReporter.id)
    )
    for feedback_id, user_id in rows:
        found[feedback_id].append(user_id)
    return found


async def add_reporter(
    *, session: AsyncSession, team_id: str, feedback_id: int, user_id: str, source: str
) -> bool:
    """Record `user_id` as a reporter of the item; False when they already were."""
    statement = (
        _insert(session)(FeedbackReporter)
        .values(team_id=team_id, feedback_id=feedback_id, user_id=user_id, source=source, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[FeedbackReporter.feedback_id, FeedbackReporter.user_id])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def _insert_item(*, session: AsyncSession, team_id: str, values: dict[str, Any]) -> int | None:
    """Insert a new item; None when a concurrent request stored the same message first.

    ON CONFLICT DO NOTHING makes the loser of a race wait for the winner's commit and then see its
    row, without aborting the transaction the way a caught IntegrityError would.
    """
    now = utcnow()
    statement = (
        _insert(session)(Feedback)
        .values(team_id=team_id, created_at=now, updated_at=now, **values)
        .on_conflict_do_nothing(index_elements=[Feedback.team_id, Feedback.channel, Feedback.message_ts])
        .returning(Feedback.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _apply_details(
    *, session: AsyncSession, team_id: str, item: Feedback, details: FeedbackDetails
) -> None:
    changes = details.model_dump(exclude_unset=True, mode="json")
    if "area" in changes:
        item.area_id = await area_id_for(session=session, team_id=team_id, slug=changes.pop("area"))
    if "theme_id" in changes:
        item.theme_id = await _check_theme(session=session, team_id=team_id, theme_id=changes.pop("theme_id"))
        if item.theme_id is not None and item.status == FeedbackStatus.NEW and "status" not in changes:
            item.status = FeedbackStatus.TRIAGED
    if "tags" in changes:
        changes["tags"] = changes["tags"] or []
    for key, value in changes.items():
        setattr(item, key, value)


async def capture(
    *,
    session: AsyncSession,
    team_id: str,
    data: FeedbackIn,
    alert_channel: str | None = None,
    mark_with: str | None = None,
) -> CaptureResult:
    """Log an item; the same Slack message logged again only adds its reporter.

    `alert_channel` also receives critical items; `mark_with` is the reaction put on the original
    message so its channel sees it was captured (both are enqueued jobs, so Slack trouble never
    loses the item).
    """
    details = FeedbackDetails.model_validate(
        data.model_dump(include=set(FeedbackDetails.model_fields), exclude_unset=True)
    )
    existing = None
    if data.channel and data.message_ts:
        existing = await find_by_message(
            session=session, team_id=team_id, channel=data.channel, message_ts=data.message_ts
        )
    created = False
    if existing is None:
        values: dict[str, Any] = {
            "text": data.text,
            "source": data.source,
            "channel": data.channel,
            "message_ts": data.message_ts,
            "thread_ts": data.thread_ts or data.message_ts,
            "permalink": str(data.permalink) if data.permalink else None,
            "author": data.author,
            "reporter": data.reporter,
            "status": FeedbackStatus.NEW,
            "tags": [],
            "kind": "other",
            "importance": Importance.MEDIUM,
        }
        new_id = await _insert_item(session=session, team_id=team_id, values=values)
        created = new_id is not None
        if new_id is None:
            assert data.channel and data.message_ts
            existing = await find_by_message(
                session=session, team_id=team_id, channel=data.channel, message_ts=data.message_ts
            )
        else:
            existing = await session.get(Feedback, new_id)
    if existing is None:  # pragma: no cover - the row we conflicted with was deleted meanwhile
        raise UserError("That message's feedback was deleted while you logged it; please try again.")
    item = existing
    await _apply_details(session=session, team_id=team_id, item=item, details=details)
    if not item.permalink and data.permalink:
        item.permalink = str(data.permalink)
    if not item.author and data.author:
        item.author = data.author
    await session.flush()
    reporter_added = True
    if data.reporter:
        reporter_added = await add_reporter(
            session=session, team_id=team_id, feedback_id=item.id, user_id=data.reporter, source=data.source
        )
    if created and mark_with and item.channel and item.message_ts:
        await enqueue(
            session=session,
            team_id=team_id,
            kind=MARK_KIND,
            key=f"feedback:{item.id}:mark",
            payload={"feedback_id": item.id, "emoji": mark_with},
        )
    await route_critical(session=session, item=item, alert_channel=alert_channel)
    return CaptureResult(
        feedback=item,
        created=created,
        reporter_added=reporter_added,
        reporters=await reporters_of(session=session, feedback_id=item.id),
    )


async def route_critical(*, session: AsyncSession, item: Feedback, alert_channel: str | None) -> int:
    """Alert the area owner (and the feedback channel) about a critical item, once per recipient."""
    if item.importance != Importance.CRITICAL:
        return 0
    targets: list[str] = []
    if item.area_id is not None:
        owner = await session.scalar(select(Area.owner).where(Area.id == item.area_id))
        if owner:
            targets.append(owner)
    if alert_channel:
        targets.append(alert_channel)
    added = 0
    for target in targets:
        added += await enqueue(
            session=session,
            team_id=item.team_id,
            kind=CRITICAL_KIND,
            key=f"feedback:{item.id}:critical:{target}",
            payload={"feedback_id": item.id, "target": target},
        )
    return added


async def update_feedback(
    *,
    session: AsyncSession,
    team_id: str,
    feedback_id: int,
    patch: FeedbackPatch,
    alert_channel: str | None = None,
) -> Feedback:
    """Apply the fields given; becoming critical alerts the owner."""
    item = await get_feedback(session=session, team_id=team_id, feedback_id=feedback_id)
    await _apply_details(session=session, team_id=team_id, item=item, details=patch)
    if patch.text is not None:
        item.text = patch.text
    item.updated_at = utcnow()
    await session.flush()
    await route_critical(session=session, item=item, alert_channel=alert_channel)
    return item


async def delete_feedback(*, session: AsyncSession, team_id: str, feedback_id: int) -> None:
    item = await get_feedback(session=session, team_id=team_id, feedback_id=feedback_id)
    await session.delete(item)
    await session.flush()


async def save_draft(*, session: AsyncSession, team_id: str, user_id: str, text: str) -> str:
    """Keep a long message's text while its modal is open; returns the draft id."""
    await session.execute(delete(FeedbackDraft).where(FeedbackDraft.created_at < utcnow() - DRAFT_LIFETIME))
    draft = FeedbackDraft(id=secrets.token_hex(16), team_id=team_id, user_id=user_id, text=text)
    session.add(draft)
    await session.flush()
    return draft.id


async def take_draft(*, session: AsyncSession, team_id: str, draft_id: str) -> str | None:
    """The draft's text; the draft is kept so a retried submission finds it too."""
    return await session.scalar(
        select(FeedbackDraft.text).where(FeedbackDraft.team_id == team_id, FeedbackDraft.id == draft_id)
    )


async def area_for_channel(*, session: AsyncSession, team_id: str, channel: str | None) -> Area | None:
    """The area whose home channel this is, to preselect it in the modal."""
    if not channel:
        return None
    return await session.scalar(
        select(Area).where(Area.team_id == team_id, Area.channel == channel).order_by(Area.id).limit(1)
    )
