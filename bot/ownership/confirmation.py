""" "Still yours?": when owners are due, asking them and their one reminder, their answers (Yes /
Hand over to… / Not me), and the flags on areas whose owner did not answer.

Owners are asked "Still yours?" every `confirm_every_days`, reminded once after `REMIND_AFTER`,
and flagged `unconfirmed` when the reminder goes unanswered as long again. Owners whose Slack
account is deactivated or gone are flagged without being asked (see `accounts`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound
from bot.core.settings import Settings
from bot.core.text import escape_mrkdwn, user_mention
from bot.ownership.announcements import NEEDS_OWNER_KIND, announce_owner_change, announce_owner_gone
from bot.ownership.areas import OwnerChange, mark_confirmed, update_area
from bot.ownership.schema import AreaPatch
from bot.scheduler.jobs import enqueue
from models import Area, OwnerStatus
from models.base import UTCDateTime

CONFIRM_KIND = "ownership.confirm"
REMIND_KIND = "ownership.remind"
UNANSWERED_KIND = "ownership.unanswered"
NEW_OWNER_KIND = "ownership.new_owner"

# A check's question not sent by then (the scheduler was down) gives way to the next check's.
QUESTION_LIFETIME = timedelta(days=1)
# How long an owner has to answer before the one reminder, and again before being flagged.
REMIND_AFTER = timedelta(days=3)
# Owners nobody should ask again: their account is gone, or they said the area is not theirs.
NOT_ASKED = (OwnerStatus.DEACTIVATED, OwnerStatus.MISSING, OwnerStatus.DISOWNED)


# ---- when an owner is due -----------------------------------------------------------------


def confirmation_period(area: Area, now: datetime) -> datetime | None:
    """Start of the confirmation period `now` falls in, or None while the owner is not due.

    Periods start `confirm_every_days` after the last confirmation and repeat every as many days,
    so an owner who never answers is asked again once per period. An area never confirmed is
    due from its creation.
    """
    every = timedelta(days=max(area.confirm_every_days, 1))
    first = area.last_confirmed_at + every if area.last_confirmed_at else area.created_at
    if first is None or now < first:
        return None
    return first + every * ((now - first) // every)


def confirmation_due(area: Area, now: datetime) -> bool:
    """The owner has a question to answer (asked or not yet)."""
    return area.owner is not None and confirmation_period(area, now) is not None


def needs_asking(area: Area, now: datetime) -> bool:
    """Due, and not yet asked in the current period."""
    if area.owner is None or area.owner_status in NOT_ASKED:
        return False
    period = confirmation_period(area, now)
    return period is not None and (area.confirm_requested_at is None or area.confirm_requested_at < period)


def _confirmed_before(session: AsyncSession, now: datetime) -> ColumnElement[bool]:
    """SQL: last confirmation at least `confirm_every_days` before `now` (per row)."""
    moment = bindparam("confirm_now", now, type_=UTCDateTime())
    if session.get_bind().dialect.name == "postgresql":
        return Area.last_confirmed_at <= moment - func.make_interval(0, 0, 0, Area.confirm_every_days)
    return func.julianday(Area.last_confirmed_at) + Area.confirm_every_days <= func.julianday(moment)


async def areas_to_ask(*, session: AsyncSession, now: datetime) -> list[Area]:
    """Areas in every workspace whose owner should be asked "Still yours?" now."""
    query = select(Area).where(
        Area.owner.is_not(None),
        Area.owner_status.not_in(list(NOT_ASKED)),
        or_(Area.last_confirmed_at.is_(None), _confirmed_before(session, now)),
    )
    return [area for area in (await session.scalars(query)).all() if needs_asking(area, now)]


def question_key(*, team_id: str, owner: str, now: datetime) -> str:
    """One "Still yours?" DM per owner per day's check, however often the planner runs."""
    return f"{team_id}:{owner}:{now:%Y%m%d}"


async def enqueue_confirmation(
    *, session: AsyncSession, team_id: str, owner: str, areas: list[Area], now: datetime
) -> bool:
    """Queue one "Still yours?" DM asking `owner` about all their due `areas`; once per check."""
    if not areas:
        return False
    return await enqueue(
        session=session,
        team_id=team_id,
        kind=CONFIRM_KIND,
        key=question_key(team_id=team_id, owner=owner, now=now),
        run_at=now,
        # Areas due later than this are asked at the next check.
        expires_at=now + QUESTION_LIFETIME,
        payload={"owner": owner, "area_ids": [area.id for area in areas]},
    )


# ---- reading and locking one area ---------------------------------------------------------


async def find_area(*, session: AsyncSession, team_id: str, area_id: int) -> Area | None:
    return await session.scalar(
        select(Area)
        .where(Area.team_id == team_id, Area.id == area_id)
        .execution_options(populate_existing=True)
    )


async def get_area(*, session: AsyncSession, team_id: str, area_id: int) -> Area:
    area = await find_area(session=session, team_id=team_id, area_id=area_id)
    if area is None:
        raise NotFound("That area is no longer in the ownership directory.")
    return area


async def lock_area_owned_by(
    *, session: AsyncSession, team_id: str, area_id: int, owner: str | None
) -> Area | None:
    """The area, write-locked until the transaction ends, if `owner` still owns it; else None.

    A no-op update takes the lock (a row lock on PostgreSQL, the write lock on SQLite) so that
    two clicks or two job attempts decide one after the other on fresh data.
    """
    result = await session.execute(
        update(Area)
        .where(Area.team_id == team_id, Area.id == area_id, Area.owner.is_not_distinct_from(owner))
        .values(owner=Area.owner, updated_at=Area.updated_at)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return await find_area(session=session, team_id=team_id, area_id=area_id)


# ---- answers ------------------------------------------------------------------------------


def already_confirmed(area: Area, now: datetime) -> bool:
    return (
        area.owner_status == OwnerStatus.ACTIVE
        and area.confirm_requested_at is None
        and area.last_confirmed_at is not None
        and confirmation_period(area, now) is None
    )


async def confirm_ownership(
    *, session: AsyncSession, team_id: str, area_id: int, owner: str, now: datetime
) -> tuple[Area, bool]:
    """ "Yes, still mine": the area and whether anything changed (False for a repeated click)."""
    area = await _locked(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if already_confirmed(area, now):
        return area, False
    mark_confirmed(area, now)
    return area, True


async def disown(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    area_id: int,
    owner: str,
    by: str,
    now: datetime,
) -> tuple[Area, bool]:
    """ "Not me": flag the area as needing an owner and say so in OWNERSHIP_CHANNEL, once."""
    area = await _locked(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area.owner_status == OwnerStatus.DISOWNED:
        return area, False
    area.owner_status = OwnerStatus.DISOWNED
    area.confirm_requested_at = None
    if settings.ownership_channel:
        await enqueue(
            session=session,
            team_id=team_id,
            kind=NEEDS_OWNER_KIND,
            key=f"{team_id}:{area.id}:{owner}:disowned:{now.isoformat()}",
            payload={"area_id": area.id, "name": area.name, "slug": area.slug, "owner": owner, "by": by},
        )
    return area, True


async def hand_over(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    area_id: int,
    expected_owner: str | None,
    new_owner: str,
    by: str,
    now: datetime,
) -> OwnerChange | None:
    """Give the area to `new_owner`, announce it and DM them; None when it already happened."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=expected_owner)
    if area is None:
        current = await get_area(session=session, team_id=team_id, area_id=area_id)
        if current.owner == new_owner:
            return None
        raise Conflict(
            f"*{escape_mrkdwn(current.name)}* changed hands meanwhile and is now owned by "
            f"{user_mention(current.owner)}. Nothing was changed."
        )
    if new_owner == expected_owner:
        raise Conflict(
            f"{user_mention(new_owner)} already owns *{escape_mrkdwn(area.name)}*. Pick someone else."
        )
    change = await update_area(
        session=session, team_id=team_id, slug=area.slug, patch=AreaPatch(owner=new_owner)
    )
    await announce_owner_change(
        session=session, settings=settings, area=change.area, previous_owner=change.previous_owner, by=by
    )
    await enqueue(
        session=session,
        team_id=team_id,
        kind=NEW_OWNER_KIND,
        key=f"{team_id}:{area.id}:{expected_owner}->{new_owner}:{now.isoformat()}",
        payload={
            "area_id": area.id,
            "name": area.name,
            "slug": area.slug,
            "owner": new_owner,
            "previous_owner": expected_owner,
            "by": by,
            "confirm_every_days": area.confirm_every_days,
        },
    )
    return change


# Owners who no longer answer for their area, so that someone else may claim it.
GONE = (OwnerStatus.DISOWNED, OwnerStatus.DEACTIVATED, OwnerStatus.MISSING)


async def claim(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    area_id: int,
    expected_owner: str | None,
    new_owner: str,
) -> OwnerChange:
    """ "Claim it": `new_owner` takes an area nobody answers for, and the change is announced."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=expected_owner)
    if area is None or (area.owner is not None and area.owner_status not in GONE):
        current = area or await get_area(session=session, team_id=team_id, area_id=area_id)
        if current.owner == new_owner and current.owner_status not in GONE:
            return OwnerChange(area=current, previous_owner=new_owner)
        raise Conflict(
            f"*{escape_mrkdwn(current.name)}* is owned by {user_mention(current.owner)} now, "
            "so there is nothing to claim."
        )
    change = await update_area(
        session=session, team_id=team_id, slug=area.slug, patch=AreaPatch(owner=new_owner)
    )
    # Taking back an area one handed back changes no owner, but it is confirmed all the same.
    mark_confirmed(change.area)
    await announce_owner_change(
        session=session,
        settings=settings,
        area=change.area,
        previous_owner=change.previous_owner,
        by=new_owner,
    )
    return change


async def _locked(*, session: AsyncSession, team_id: str, area_id: int, owner: str) -> Area:
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area is not None:
        return area
    current = await get_area(session=session, team_id=team_id, area_id=area_id)
    raise Conflict(
        f"*{escape_mrkdwn(current.name)}* is now owned by {user_mention(current.owner)}, "
        "so this question no longer applies."
    )


# ---- the asking side (job handlers) -------------------------------------------------------


async def record_request(
    *, session: AsyncSession, team_id: str, area_id: int, owner: str, now: datetime
) -> bool:
    """The owner was DM'd about the area: remember when (its reminder is queued by the caller)."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area is None:
        return False
    area.confirm_requested_at = now
    return True


def still_unanswered(area: Area | None, owner: str, requested_at: datetime) -> bool:
    """The question asked at `requested_at` is still open (not answered, not superseded)."""
    return (
        area is not None
        and area.owner == owner
        and area.owner_status not in NOT_ASKED
        and area.confirm_requested_at is not None
        and abs((area.confirm_requested_at - requested_at).total_seconds()) < 1
    )


async def flag_owner(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    area_id: int,
    owner: str,
    status: OwnerStatus,
) -> bool:
    """Set the owner's status on the area, if `owner` still owns it; a gone owner is announced once."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area is None or area.owner_status == status:
        return False
    area.owner_status = status
    if status in (OwnerStatus.DEACTIVATED, OwnerStatus.MISSING):
        await announce_owner_gone(session=session, settings=settings, area=area, owner=owner, status=status)
    return True
