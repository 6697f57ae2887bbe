"""Ownership changes and staleness: announcements, re-confirmation by owners, who may answer.

Owners are asked "Still yours?" every `confirm_every_days`, reminded once after `REMIND_AFTER`,
and flagged `unconfirmed` when the reminder goes unanswered as long again. Owners whose Slack
account is deactivated or gone are flagged without being asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound
from bot.core.settings import Settings
from bot.core.text import escape_mrkdwn, user_mention
from bot.ownership.areas import OwnerChange, mark_confirmed, update_area
from bot.ownership.schema import AreaPatch
from bot.scheduler.jobs import enqueue
from models import Area, OwnerStatus
from models.base import UTCDateTime, utcnow

ANNOUNCE_KIND = "ownership.announce"
IMPORT_SUMMARY_KIND = "ownership.import_summary"
CONFIRM_KIND = "ownership.confirm"
REMIND_KIND = "ownership.remind"
UNANSWERED_KIND = "ownership.unanswered"
NEW_OWNER_KIND = "ownership.new_owner"
NEEDS_OWNER_KIND = "ownership.needs_owner"
STALE_REPORT_KIND = "ownership.stale_report"

# How long an owner has to answer before the one reminder, and again before being flagged.
REMIND_AFTER = timedelta(days=3)
# Owners nobody should ask again: their account is gone, or they said the area is not theirs.
NOT_ASKED = (OwnerStatus.DEACTIVATED, OwnerStatus.MISSING, OwnerStatus.DISOWNED)
# Owner states the weekly report lists, in this order.
STALE_STATUSES = (
    OwnerStatus.DEACTIVATED,
    OwnerStatus.MISSING,
    OwnerStatus.UNCONFIRMED,
    OwnerStatus.DISOWNED,
)
SLACK_USER_GONE = {"user_not_found", "users_not_found", "account_inactive"}


async def announce_owner_change(
    *,
    session: AsyncSession,
    settings: Settings,
    area: Area,
    previous_owner: str | None,
    by: str | None,
) -> bool:
    """Queue an announcement of a new owner, in the same transaction as the change itself."""
    if not settings.ownership_channel or area.owner == previous_owner:
        return False
    return await enqueue(
        session=session,
        team_id=area.team_id,
        kind=ANNOUNCE_KIND,
        key=f"{area.team_id}:{area.slug}:{previous_owner}->{area.owner}:{utcnow().isoformat()}",
        payload={
            "area_id": area.id,
            "name": area.name,
            "owner": area.owner,
            "previous_owner": previous_owner,
            "by": by,
        },
    )


async def announce_bulk_import(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    areas: list[Area],
    source: str,
    by: str | None,
) -> bool:
    """Queue one summary of a bulk import's new owners instead of a message per area."""
    if not settings.ownership_channel or not areas:
        return False
    owners: dict[str, int] = {}
    for area in areas:
        if area.owner:
            owners[area.owner] = owners.get(area.owner, 0) + 1
    return await enqueue(
        session=session,
        team_id=team_id,
        kind=IMPORT_SUMMARY_KIND,
        key=f"{team_id}:{source}:{len(areas)}:{utcnow().isoformat()}",
        payload={"count": len(areas), "source": source, "owners": owners, "by": by},
    )


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


def confirm_key(area: Area, period: datetime) -> str:
    return f"{area.team_id}:{area.id}:{period:%Y%m%dT%H%M%S}"


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


async def enqueue_confirmation(*, session: AsyncSession, area: Area, now: datetime) -> bool:
    """Queue the "Still yours?" DM for this area's current period; once per period, however often."""
    period = confirmation_period(area, now)
    if period is None or area.owner is None:
        return False
    return await enqueue(
        session=session,
        team_id=area.team_id,
        kind=CONFIRM_KIND,
        key=confirm_key(area, period),
        run_at=now,
        # Past the period's end the next period's question supersedes this one.
        expires_at=period + timedelta(days=area.confirm_every_days),
        payload={"area_id": area.id, "owner": area.owner, "period": period.isoformat()},
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
    *, session: AsyncSession, team_id: str, area_id: int, owner: str, now: datetime, key: str
) -> bool:
    """The owner was DM'd: remember when, and queue the one reminder."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area is None:
        return False
    area.confirm_requested_at = now
    await enqueue(
        session=session,
        team_id=team_id,
        kind=REMIND_KIND,
        key=key,
        run_at=now + REMIND_AFTER,
        payload={"area_id": area_id, "owner": owner, "requested_at": now.isoformat()},
    )
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
    *, session: AsyncSession, team_id: str, area_id: int, owner: str, status: OwnerStatus
) -> bool:
    """Set the owner's status on the area, if `owner` still owns it."""
    area = await lock_area_owned_by(session=session, team_id=team_id, area_id=area_id, owner=owner)
    if area is None or area.owner_status == status:
        return False
    area.owner_status = status
    return True


@dataclass(frozen=True)
class Accounts:
    """Workspace members by state, from one sweep of `users.list`."""

    active: frozenset[str]
    deactivated: frozenset[str]


async def sync_owner_accounts(*, session: AsyncSession, team_id: str, accounts: Accounts) -> tuple[int, int]:
    """Flag areas of deactivated owners, and un-flag those whose owner was reactivated.

    Returns (flagged, restored). A restored owner is asked to confirm again when next due.
    """
    flagged = restored = 0
    if accounts.deactivated:
        result = await session.execute(
            update(Area)
            .where(
                Area.team_id == team_id,
                Area.owner.in_(sorted(accounts.deactivated)),
                Area.owner_status.in_([OwnerStatus.ACTIVE, OwnerStatus.UNCONFIRMED]),
            )
            .values(owner_status=OwnerStatus.DEACTIVATED, confirm_requested_at=None)
            .execution_options(synchronize_session=False)
        )
        flagged = int(getattr(result, "rowcount", 0) or 0)
    back = await session.scalars(
        select(Area.owner)
        .distinct()
        .where(Area.team_id == team_id, Area.owner_status == OwnerStatus.DEACTIVATED)
    )
    returned = sorted(owner for owner in back.all() if owner in accounts.active)
    if returned:
        result = await session.execute(
            update(Area)
            .where(
                Area.team_id == team_id,
                Area.owner.in_(returned),
                Area.owner_status == OwnerStatus.DEACTIVATED,
            )
            .values(owner_status=OwnerStatus.ACTIVE)
            .execution_options(synchronize_session=False)
        )
        restored = int(getattr(result, "rowcount", 0) or 0)
    return flagged, restored


# ---- Slack accounts -----------------------------------------------------------------------


async def account_status(client: AsyncWebClient, user_id: str) -> OwnerStatus:
    """ACTIVE, DEACTIVATED (`deleted: true`) or MISSING (Slack does not know the user)."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") in SLACK_USER_GONE:
            return OwnerStatus.MISSING
        raise
    user: dict[str, Any] = response.get("user") or {}
    return OwnerStatus.DEACTIVATED if user.get("deleted") else OwnerStatus.ACTIVE


async def is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError:
        return False
    user: dict[str, Any] = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def new_owner_problem(client: AsyncWebClient, user_id: str) -> str | None:
    """Why `user_id` cannot take over an area (deactivated, a bot, unknown), or None."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") in SLACK_USER_GONE:
            return "Slack doesn't know that person. Pick someone in this workspace."
        raise
    user: dict[str, Any] = response.get("user") or {}
    if user.get("deleted"):
        return "That account is deactivated. Pick someone who is still here."
    if user.get("is_bot") or user_id == "USLACKBOT":
        return "A bot can't own an area. Pick a person."
    return None


async def may_answer_for(client: AsyncWebClient, area: Area, user_id: str) -> bool:
    """Only the current owner, or a Slack workspace admin, answers for an area."""
    return area.owner == user_id or await is_workspace_admin(client, user_id)


async def workspace_accounts(client: AsyncWebClient, page_size: int = 500) -> Accounts:
    """Every member of the workspace, active or deactivated, one `users.list` page at a time."""
    active: set[str] = set()
    deactivated: set[str] = set()
    cursor: str | None = None
    while True:
        page = await client.users_list(limit=page_size, cursor=cursor)
        members: list[dict[str, Any]] = page.get("members") or []
        for member in members:
            (deactivated if member.get("deleted") else active).add(str(member["id"]))
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return Accounts(active=frozenset(active), deactivated=frozenset(deactivated))


# ---- the weekly stale report --------------------------------------------------------------


@dataclass
class StaleListing:
    by_status: dict[str, list[Area]] = field(default_factory=dict)
    unowned: list[Area] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.unowned) + sum(len(areas) for areas in self.by_status.values())


async def stale_listing(*, session: AsyncSession, team_id: str) -> StaleListing:
    """Areas with no owner, or whose owner is deactivated, missing, unconfirmed or disowned."""
    rows = (
        await session.scalars(
            select(Area)
            .where(
                Area.team_id == team_id,
                or_(Area.owner.is_(None), Area.owner_status.in_(list(STALE_STATUSES))),
            )
            .order_by(Area.name, Area.slug)
        )
    ).all()
    listing = StaleListing(by_status={status: [] for status in STALE_STATUSES})
    for area in rows:
        if area.owner is None:
            listing.unowned.append(area)
        else:
            listing.by_status[area.owner_status].append(area)
    return listing


async def teams_with_areas(*, session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Area.team_id).distinct().order_by(Area.team_id))).all())
