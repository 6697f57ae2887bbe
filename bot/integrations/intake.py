"""A verified delivery's events, recorded once and queued for the scheduler; nothing here calls Slack."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.integrations.events import EventKind, TrackerEvent, TrackerRelease
from bot.integrations.store import links_naming
from bot.scheduler.jobs import enqueue
from models import ThemeLink, WebhookDelivery
from models.base import utcnow
from models.integration import Provider

TRACKER_EVENTS_KIND = "integrations.tracker_events"
# A delivery names issues, not a workspace; its events may move themes in several.
NO_WORKSPACE = ""


class Outcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def event_payload(event: TrackerEvent) -> dict[str, Any]:
    """`event` as JSON for the job's payload."""
    release = event.release
    return {
        "kind": event.kind,
        "keys": list(event.keys),
        "pull_request": event.pull_request,
        "release": None
        if release is None
        else {
            "tag": release.tag,
            "name": release.name,
            "body": release.body,
            "url": release.url,
            "repository": release.repository,
        },
    }


def event_from_payload(*, provider: Provider, delivery_id: str, data: dict[str, Any]) -> TrackerEvent:
    release = data.get("release")
    return TrackerEvent(
        provider=provider,
        delivery_id=delivery_id,
        kind=EventKind(data["kind"]),
        keys=tuple(data.get("keys") or ()),
        release=TrackerRelease(**release) if release else None,
        pull_request=data.get("pull_request"),
    )


async def _matters(session: AsyncSession, event: TrackerEvent) -> bool:
    """Whether any workspace tracks a theme in what the event names (or, for a release, its repository)."""
    if event.kind is not EventKind.RELEASE_PUBLISHED:
        return bool(await links_naming(session=session, provider=event.provider, keys=event.keys))
    release = event.release
    if event.provider is not Provider.GITHUB or release is None or not release.repository:
        # Only GitHub releases carry notes that name issues, and make an announcement.
        return False
    tracked = await session.scalar(
        select(ThemeLink.id)
        .where(
            ThemeLink.provider == Provider.GITHUB,
            ThemeLink.key.startswith(f"{release.repository}#", autoescape=True),
        )
        .limit(1)
    )
    if tracked is not None:
        return True
    return bool(
        await links_naming(session=session, provider=event.provider, keys=event.keys, or_closed_by=True)
    )


async def record_delivery(
    *, session: AsyncSession, provider: Provider, delivery_id: str, events: list[TrackerEvent]
) -> Outcome:
    """Record the delivery and queue its events as one job, once per delivery id across replicas.

    Events about issues no theme is tracked in are dropped here, so that a busy repository does
    not fill the job table. The unique (provider, delivery_id) constraint decides a race between
    two replicas receiving the same redelivery.
    """
    relevant = [event for event in events if await _matters(session, event)]
    if not relevant:
        return Outcome.IGNORED
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    recorded = await session.execute(
        insert(WebhookDelivery)
        .values(team_id=NO_WORKSPACE, provider=provider, delivery_id=delivery_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=[WebhookDelivery.provider, WebhookDelivery.delivery_id])
    )
    if not getattr(recorded, "rowcount", 0):
        return Outcome.DUPLICATE
    await enqueue(
        session=session,
        team_id=NO_WORKSPACE,
        kind=TRACKER_EVENTS_KIND,
        key=f"{provider}:{delivery_id}",
        payload={
            "provider": provider,
            "delivery_id": delivery_id,
            "events": [event_payload(event) for event in relevant],
        },
        max_attempts=8,
    )
    return Outcome.QUEUED
