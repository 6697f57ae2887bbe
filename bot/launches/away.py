"""Away: periods people set with `/launch away`, and Slack statuses that say they are away. Someone
away is neither asked nor reminded, and a summary lists them as away rather than as silent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.launches import calendar
from bot.launches._common import dialect_insert
from models.base import utcnow
from models.launch import Launch, StandupAway, StandupPerson, StandupPrompt, StandupRun

AWAY_EMOJI = frozenset({":palm_tree:", ":face_with_thermometer:", ":airplane:"})
AWAY_WORDS = re.compile(r"\b(ooo|out of (the )?office|vacation|holidays?)\b", re.IGNORECASE)
# A prompt row skipped because its person is away says exactly this.
AWAY = "away"
ALL_LAUNCHES = "all"
MAX_AWAY_DAYS = 366
USAGE = (
    "Usage: `/launch away <from> <to> [launch]`, dates as YYYY-MM-DD (or `today`, `tomorrow`), "
    "for example `/launch away 2027-03-15 2027-03-19` (every launch) or "
    "`/launch away today 2027-03-19 checkout-v2` (one launch). `/launch back` ends it."
)


class AwayUsage(UserError):
    """`/launch away` given something it cannot read; the message ends with the usage."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\n{USAGE}")


@dataclass(frozen=True)
class AwayRequest:
    starts_on: date
    ends_on: date
    launch_query: str


def parse_day(token: str, today: date) -> date:
    """ "2027-03-15", "today" or "tomorrow"; anything else (03/04 reads two ways) is refused."""
    word = token.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            pass
    raise AwayUsage(f"`{token}` is not a date I can read.")


def parse_away(text: str, today: date) -> AwayRequest:
    """`<from> <to> [launch]` → the period (checked) and the launch it is limited to, if any."""
    parts = text.split(maxsplit=2)
    if len(parts) < 2:
        raise AwayUsage("Say from when to when you are away.")
    starts_on, ends_on = parse_day(parts[0], today), parse_day(parts[1], today)
    if ends_on < starts_on:
        raise AwayUsage(f"{ends_on:%a %d %b %Y} is before {starts_on:%a %d %b %Y}.")
    if ends_on < today:
        raise AwayUsage(f"That period ended on {ends_on:%a %d %b %Y}; today is {today:%a %d %b %Y}.")
    if (ends_on - starts_on).days >= MAX_AWAY_DAYS:
        raise AwayUsage(f"Away is at most {MAX_AWAY_DAYS} days at a time.")
    return AwayRequest(starts_on, ends_on, parts[2].strip() if len(parts) > 2 else "")


def scope_of(launch: Launch | None) -> str:
    return ALL_LAUNCHES if launch is None else f"launch:{launch.id}"


async def set_away(
    *,
    session: AsyncSession,
    team_id: str,
    user_id: str,
    starts_on: date,
    ends_on: date,
    launch: Launch | None,
) -> None:
    """Record the period; one given again for the same launches replaces the earlier one."""
    values = {"starts_on": starts_on, "ends_on": ends_on, "created_at": utcnow()}
    insert = dialect_insert(session)(StandupAway)
    await session.execute(
        insert.values(
            team_id=team_id,
            user_id=user_id,
            scope=scope_of(launch),
            launch_id=launch.id if launch else None,
            **values,
        ).on_conflict_do_update(
            index_elements=[StandupAway.team_id, StandupAway.user_id, StandupAway.scope], set_=values
        )
    )


async def end_away(*, session: AsyncSession, team_id: str, user_id: str, today: date) -> int:
    """`/launch back`: forget every period of the person; returns how many were current or ahead."""
    current = await session.scalars(
        select(StandupAway.id).where(
            StandupAway.team_id == team_id, StandupAway.user_id == user_id, StandupAway.ends_on >= today
        )
    )
    count = len(current.all())
    await session.execute(
        delete(StandupAway).where(StandupAway.team_id == team_id, StandupAway.user_id == user_id)
    )
    return count


async def away_periods(
    *, session: AsyncSession, team_id: str, launch_id: int, user_ids: list[str], on: date
) -> dict[str, date]:
    """Who among `user_ids` said they are away on `on` (from every launch or this one), and until when."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(StandupAway).where(
            StandupAway.team_id == team_id,
            StandupAway.user_id.in_(user_ids),
            StandupAway.starts_on <= on,
            StandupAway.ends_on >= on,
            (StandupAway.launch_id.is_(None)) | (StandupAway.launch_id == launch_id),
        )
    )
    until: dict[str, date] = {}
    for row in rows:
        until[row.user_id] = max(until.get(row.user_id, row.ends_on), row.ends_on)
    return until


def status_says_away(person: StandupPerson | None, at: datetime) -> bool:
    """A Slack status of a palm tree, a thermometer or a plane, or words like OOO or vacation."""
    if person is None or (person.status_expires_at is not None and person.status_expires_at <= at):
        return False
    return person.status_emoji in AWAY_EMOJI or bool(AWAY_WORDS.search(person.status_text or ""))


def status_until(person: StandupPerson, launch: Launch) -> date | None:
    """The last day of an away status that expires (in the person's timezone), else None."""
    if person.status_expires_at is None:
        return None
    zone = calendar.zone_of(person.timezone or launch.timezone)
    # A status that clears at midnight covers the day before.
    return calendar.local_date(person.status_expires_at - timedelta(seconds=1), zone)


async def who_is_away(
    *,
    session: AsyncSession,
    launch: Launch,
    run: StandupRun,
    people: dict[str, StandupPerson],
    user_ids: list[str],
    now: datetime,
) -> dict[str, date | None]:
    """Who among `user_ids` is away for this run, and until when (None: their status does not say)."""
    periods = await away_periods(
        session=session, team_id=run.team_id, launch_id=launch.id, user_ids=user_ids, on=run.local_date
    )
    away: dict[str, date | None] = dict(periods)
    for user_id in user_ids:
        person = people.get(user_id)
        if user_id not in away and person is not None and status_says_away(person, now):
            away[user_id] = status_until(person, launch)
    return away


async def set_aside_away(
    *,
    session: AsyncSession,
    launch: Launch,
    run: StandupRun,
    people: dict[str, StandupPerson],
    user_ids: list[str],
    now: datetime,
) -> dict[str, date | None]:
    """Mark the prompts of people who are away as skipped (so nobody asks them again for this run)."""
    away = await who_is_away(
        session=session, launch=launch, run=run, people=people, user_ids=user_ids, now=now
    )
    if away:
        prompts = await session.scalars(
            select(StandupPrompt).where(StandupPrompt.run_id == run.id, StandupPrompt.user_id.in_(list(away)))
        )
        for prompt in prompts:
            if prompt.message_ts is None:
                prompt.skip_reason, prompt.away_until = AWAY, away[prompt.user_id]
    return away
