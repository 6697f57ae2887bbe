"""The people standups ask, as Slack describes them: timezone, name and status, cached.

Planning needs a timezone per person and sending needs a current status, for every function owner
of every live launch. Asking Slack each time would spend its rate limits (`users.info` is about
100 calls a minute), so answers are kept in `standup_people` and trusted for a while; many people
at once are read from `users.list`, a page of up to 200 per call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import SessionFactory
from bot.core.pacing import SlackPacer
from bot.core.uow import unit_of_work
from bot.launches._common import dialect_insert
from models.launch import StandupPerson

log = logging.getLogger(__name__)

# How old an answer may be: a timezone to plan by, a status to decide whether to ask at all.
TIMEZONE_TTL = timedelta(hours=12)
STATUS_TTL = timedelta(minutes=15)
# Past this many people to look up, one `users.list` page beats that many `users.info` calls.
BULK_THRESHOLD = 20
DIRECTORY_PAGE = 200
DIRECTORY_PAGES = 10
LOOKUP_CONCURRENCY = 8
# One pass looks up at most this many people one by one; the rest wait for the next pass, so
# that an outage of `users.list` cannot hold a planner for minutes.
LOOKUPS_PER_PASS = 100
# Slack answers meaning the person is not there to ask; they are remembered as unknown.
GONE = {"user_not_found", "users_not_found", "account_inactive"}


def profile_values(user: dict[str, Any]) -> dict[str, Any]:
    """The columns of `standup_people` from a Slack user object."""
    profile = user.get("profile") or {}
    expiration = int(profile.get("status_expiration") or 0)
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    return {
        "timezone": (user.get("tz") or None) if not user.get("deleted") else None,
        "name": str(name)[:200] if name else None,
        "status_emoji": str(profile.get("status_emoji") or "")[:100],
        "status_text": str(profile.get("status_text") or "")[:200],
        "status_expires_at": datetime.fromtimestamp(expiration, UTC) if expiration else None,
    }


async def people_of(
    *, session: AsyncSession, team_id: str, user_ids: Iterable[str]
) -> dict[str, StandupPerson]:
    """The cached people among `user_ids` (someone never looked up is absent)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(StandupPerson).where(StandupPerson.team_id == team_id, StandupPerson.user_id.in_(wanted))
    )
    return {row.user_id: row for row in rows}


def stale_ids(
    people: dict[str, StandupPerson], user_ids: Iterable[str], *, now: datetime, max_age: timedelta
) -> list[str]:
    """Who among `user_ids` Slack should be asked about again."""
    return sorted(u for u in set(user_ids) if u not in people or people[u].refreshed_at < now - max_age)


async def _from_directory(client: AsyncWebClient, wanted: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    for _ in range(DIRECTORY_PAGES):
        page = await client.users_list(limit=DIRECTORY_PAGE, cursor=cursor)
        for member in page.get("members") or []:
            if member.get("id") in wanted:
                found[str(member["id"])] = member
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or len(found) == len(wanted):
            break
    return found


async def fetch_people(
    client: AsyncWebClient, pacer: SlackPacer, user_ids: list[str]
) -> dict[str, dict[str, Any] | None]:
    """Slack's user objects for `user_ids`; None for someone Slack does not know. People Slack could
    not be asked about (an outage) are left out, so they are tried again later."""
    found: dict[str, dict[str, Any] | None] = {}
    if len(user_ids) > BULK_THRESHOLD:
        try:
            found.update(await _from_directory(client, set(user_ids)))
        except SlackApiError as exc:
            log.info("users.list failed (%s); looking people up one by one", exc.response.get("error"))
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one(user_id: str) -> None:
        async with gate:
            await pacer.wait("users.info")
            try:
                answer = await client.users_info(user=user_id)
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error in GONE:
                    found[user_id] = None
                else:
                    log.info("users.info for %s failed: %s", user_id, error)
                return
            found[user_id] = dict(answer.get("user") or {})

    remaining = [u for u in user_ids if u not in found]
    await asyncio.gather(*(one(u) for u in remaining[:LOOKUPS_PER_PASS]))
    return found


async def store_people(
    *, session: AsyncSession, team_id: str, found: dict[str, dict[str, Any] | None], now: datetime
) -> None:
    """Remember what Slack said; someone Slack does not know is kept with nothing known."""
    for user_id, user in found.items():
        values = profile_values(user) if user is not None else profile_values({})
        insert = dialect_insert(session)(StandupPerson)
        await session.execute(
            insert.values(team_id=team_id, user_id=user_id, refreshed_at=now, **values).on_conflict_do_update(
                index_elements=[StandupPerson.team_id, StandupPerson.user_id],
                set_={**values, "refreshed_at": now},
            )
        )


async def refresh_people(
    *,
    client: AsyncWebClient,
    pacer: SlackPacer,
    session_factory: SessionFactory,
    team_id: str,
    user_ids: Iterable[str],
    now: datetime,
    max_age: timedelta,
) -> dict[str, StandupPerson]:
    """The people among `user_ids`, asking Slack about those whose cached answer is older than
    `max_age`. No transaction stays open while Slack is asked."""
    wanted = sorted(set(user_ids))
    async with unit_of_work(session_factory) as session:
        stale = stale_ids(
            await people_of(session=session, team_id=team_id, user_ids=wanted),
            wanted,
            now=now,
            max_age=max_age,
        )
    if stale:
        found = await fetch_people(client, pacer, stale)
        async with unit_of_work(session_factory) as session:
            await store_people(session=session, team_id=team_id, found=found, now=now)
    async with unit_of_work(session_factory) as session:
        return await people_of(session=session, team_id=team_id, user_ids=wanted)
