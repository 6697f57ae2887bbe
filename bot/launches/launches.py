"""Launches: create, find, change and score them (the sign-off matrix with its readiness)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rapidfuzz import fuzz, utils
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.text import escape_mrkdwn
from bot.launches import calendar
from bot.launches.functions import functions_of, guess_owners, template_functions
from bot.launches.readiness import Trend, readiness_score, trend
from bot.launches.schema import FunctionIn, LaunchIn, LaunchPatch
from bot.ownership.cache import AreaIndexCache
from models.base import utcnow
from models.launch import (
    Launch,
    LaunchFunction,
    LaunchStatus,
    RunStatus,
    StandupRun,
)

LIVE_STATUSES = (LaunchStatus.PLANNING, LaunchStatus.AT_RISK, LaunchStatus.READY)
# Fuzzy launch lookup: a high score with a margin, or a fair one far ahead of the rest, answers;
# anything above PLAUSIBLE is offered as a suggestion.
CONFIDENT = 85.0
PLAUSIBLE = 60.0
MARGIN = 8.0


@dataclass(frozen=True)
class LaunchLookup:
    launch: Launch | None
    suggestions: list[Launch]


@dataclass(frozen=True)
class Matrix:
    launch: Launch
    functions: list[LaunchFunction]
    score: int
    trend: Trend
    days_to_launch: int


async def slug_taken(*, session: AsyncSession, team_id: str, slug: str) -> bool:
    found = await session.scalar(select(Launch.id).where(Launch.team_id == team_id, Launch.slug == slug))
    return found is not None


def check_target_date(target: date, *, timezone: str, now: datetime | None = None) -> None:
    """A launch's target date must not be before today in the launch's timezone."""
    today = calendar.local_date(now or utcnow(), calendar.zone_of(timezone))
    if target < today:
        raise UserError(
            f"target_date {target.isoformat()} is in the past (today is {today.isoformat()} in "
            f"{timezone}); pick today or a later date."
        )


async def create_launch(
    *,
    session: AsyncSession,
    cache: AreaIndexCache,
    team_id: str,
    data: LaunchIn,
    default_timezone: str,
    created_by: str | None,
    now: datetime | None = None,
) -> Launch:
    """Add a launch with its functions; owners not given default to the matching area's owner."""
    timezone = data.timezone or default_timezone
    check_target_date(data.target_date, timezone=timezone, now=now)
    slug = data.resolved_slug()
    if await slug_taken(session=session, team_id=team_id, slug=slug):
        raise UserError(f"A launch with slug `{slug}` already exists; pick another name or slug.")
    functions = (
        data.functions
        if data.functions is not None
        else [FunctionIn(name=name) for name in template_functions(data.template)]
    )
    guesses = await guess_owners(
        session=session, cache=cache, team_id=team_id, names=[f.name for f in functions]
    )
    launch = Launch(
        team_id=team_id,
        slug=slug,
        name=data.name,
        target_date=data.target_date,
        channel=data.channel,
        owner=data.owner,
        status=data.status,
        standup_weekdays=data.standup_weekdays or [1, 2, 3, 4, 5],
        standup_time=data.standup_time or "09:00",
        timezone=timezone,
        holiday_country=data.holiday_country,
        holiday_subdivision=data.holiday_subdivision,
        standups_enabled=True if data.standups_enabled is None else data.standups_enabled,
        reminder_after_minutes=data.reminder_after_minutes or 120,
        cutoff_after_minutes=data.cutoff_after_minutes or 240,
        gonogo_days_before=data.gonogo_days_before,
        created_by=created_by,
    )
    session.add(launch)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise UserError(f"A launch with slug `{slug}` already exists; pick another name or slug.") from exc
    for position, item in enumerate(functions):
        guess = guesses[item.name]
        session.add(
            LaunchFunction(
                team_id=team_id,
                launch_id=launch.id,
                name=item.name,
                position=position,
                owner=item.owner or guess.owner,
                area_slug=guess.area_slug,
                status=item.status,
                note=item.note,
                updated_by=created_by,
            )
        )
    await session.flush()
    return launch


async def get_launch(*, session: AsyncSession, team_id: str, launch_id: int) -> Launch:
    launch = await session.scalar(select(Launch).where(Launch.team_id == team_id, Launch.id == launch_id))
    if launch is None:
        raise NotFound(f"No launch with id {launch_id}.")
    return launch


async def list_launches(
    *,
    session: AsyncSession,
    team_id: str,
    statuses: tuple[str, ...] | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Launch]:
    """Launches by id, optionally only those in `statuses`."""
    query = select(Launch).where(Launch.team_id == team_id).order_by(Launch.id).limit(limit)
    if statuses:
        query = query.where(Launch.status.in_(statuses))
    if after_id is not None:
        query = query.where(Launch.id > after_id)
    return list((await session.scalars(query)).all())


async def launches_by_target(*, session: AsyncSession, team_id: str, live_only: bool = True) -> list[Launch]:
    query = select(Launch).where(Launch.team_id == team_id).order_by(Launch.target_date, Launch.name)
    if live_only:
        query = query.where(Launch.status.in_(LIVE_STATUSES))
    return list((await session.scalars(query.limit(200))).all())


async def find_launch(*, session: AsyncSession, team_id: str, query: str) -> LaunchLookup:
    """A launch by slug, name or a close spelling of either; suggestions when unsure."""
    text = utils.default_process(query)
    if not text:
        return LaunchLookup(None, [])
    launches = list(
        (await session.scalars(select(Launch).where(Launch.team_id == team_id).order_by(Launch.id))).all()
    )
    for launch in launches:
        if query.strip().lower() in (launch.slug, launch.name.lower()):
            return LaunchLookup(launch, [])
    scored = sorted(
        (
            (
                max(
                    fuzz.WRatio(text, utils.default_process(launch.name)),
                    fuzz.WRatio(text, utils.default_process(launch.slug.replace("-", " "))),
                ),
                index,
            )
            for index, launch in enumerate(launches)
        ),
        reverse=True,
    )
    if not scored:
        return LaunchLookup(None, [])
    best, runner_up = scored[0][0], (scored[1][0] if len(scored) > 1 else 0.0)
    if (best >= CONFIDENT and best - runner_up >= MARGIN) or (
        best >= PLAUSIBLE + 10 and best - runner_up >= 25
    ):
        return LaunchLookup(launches[scored[0][1]], [])
    return LaunchLookup(None, [launches[i] for score, i in scored[:3] if score >= PLAUSIBLE])


async def resolve_launch(*, session: AsyncSession, team_id: str, query: str) -> Launch:
    """The launch `query` names, or a UserError listing what it might have meant."""
    if not query.strip():
        raise UserError("Say which launch, for example `/launch status checkout-v2`.")
    found = await find_launch(session=session, team_id=team_id, query=query)
    if found.launch is not None:
        return found.launch
    if found.suggestions:
        names = ", ".join(f"*{s.name}* (`{s.slug}`)" for s in found.suggestions)
        raise UserError(
            f"Several launches could match `{escape_mrkdwn(query.strip())}`: {names}. Use the slug."
        )
    raise NotFound(f"No launch matches `{escape_mrkdwn(query.strip())}`. `/launch list` shows them all.")


async def last_score(
    *, session: AsyncSession, launch_id: int, before_run_id: int | None = None
) -> int | None:
    """The score of the most recent closed standup (before `before_run_id`, when given)."""
    query = (
        select(StandupRun.score)
        .where(
            StandupRun.launch_id == launch_id,
            StandupRun.status == RunStatus.CLOSED,
            StandupRun.score.is_not(None),
        )
        .order_by(StandupRun.closed_at.desc(), StandupRun.id.desc())
        .limit(1)
    )
    if before_run_id is not None:
        query = query.where(StandupRun.id < before_run_id)
    return await session.scalar(query)


async def matrix(*, session: AsyncSession, launch: Launch, now: datetime | None = None) -> Matrix:
    """The sign-off matrix with its score, the trend since the last standup and days to launch."""
    functions = await functions_of(session=session, launch_id=launch.id)
    score = readiness_score(f.status for f in functions)
    previous = await last_score(session=session, launch_id=launch.id)
    days = calendar.days_until(launch.target_date, now or utcnow(), calendar.zone_of(launch.timezone))
    return Matrix(
        launch=launch, functions=functions, score=score, trend=trend(score, previous), days_to_launch=days
    )


async def update_launch(
    *, session: AsyncSession, launch: Launch, patch: LaunchPatch, now: datetime | None = None
) -> bool:
    """Apply the fields set in `patch`; True when the standup schedule changed."""
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if "target_date" in changes and patch.target_date is not None:
        check_target_date(patch.target_date, timezone=patch.timezone or launch.timezone, now=now)
    schedule_fields = {
        "standup_weekdays",
        "standup_time",
        "timezone",
        "holiday_country",
        "holiday_subdivision",
        "standups_enabled",
    }
    reminder = changes.get("reminder_after_minutes", launch.reminder_after_minutes)
    cutoff = changes.get("cutoff_after_minutes", launch.cutoff_after_minutes)
    if reminder >= cutoff:
        raise UserError("reminder_after_minutes must be less than cutoff_after_minutes.")
    schedule_changed = any(
        key in schedule_fields and getattr(launch, key) != value for key, value in changes.items()
    )
    for key, value in changes.items():
        if key == "target_date":
            value = patch.target_date
        setattr(launch, key, value)
    launch.updated_at = utcnow()
    await session.flush()
    return schedule_changed


async def delete_launch(*, session: AsyncSession, launch: Launch) -> None:
    await session.delete(launch)
    await session.flush()


async def functions_owned_by(
    *, session: AsyncSession, team_id: str, user_id: str, live_only: bool = True
) -> list[tuple[LaunchFunction, Launch]]:
    """Every function `user_id` signs off, with its launch, soonest target first."""
    query = (
        select(LaunchFunction, Launch)
        .join(Launch, Launch.id == LaunchFunction.launch_id)
        .where(LaunchFunction.team_id == team_id, LaunchFunction.owner == user_id)
        .order_by(Launch.target_date, Launch.id, LaunchFunction.position)
    )
    if live_only:
        query = query.where(Launch.status.in_(LIVE_STATUSES))
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def launches_involving(*, session: AsyncSession, team_id: str, user_id: str) -> list[Launch]:
    """Live launches `user_id` owns or signs off a function of."""
    owned_functions = select(LaunchFunction.launch_id).where(
        LaunchFunction.team_id == team_id, LaunchFunction.owner == user_id
    )
    query = (
        select(Launch)
        .where(
            Launch.team_id == team_id,
            Launch.status.in_(LIVE_STATUSES),
            (Launch.owner == user_id) | Launch.id.in_(owned_functions),
        )
        .order_by(Launch.target_date, Launch.id)
    )
    return list((await session.scalars(query)).all())
