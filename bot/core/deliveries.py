"""Remembering Slack deliveries so that a retry or a double click never repeats a side effect."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import SlackDelivery
from models.base import utcnow


async def claim_delivery(*, session: AsyncSession, key: str, team_id: str) -> bool:
    """Record `key`; False when some process (this one or another) recorded it before."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SlackDelivery)
        .values(key=key[:255], team_id=team_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=[SlackDelivery.key])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def forget_old_deliveries(*, session: AsyncSession, older_than: timedelta) -> int:
    """Drop keys past Slack's retry horizon."""
    result = await session.execute(
        delete(SlackDelivery).where(SlackDelivery.received_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
