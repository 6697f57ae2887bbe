"""Owners' Slack accounts: active, deactivated or gone, and who may take over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.ownership.announcements import announce_owner_gone
from models import Area, OwnerStatus

SLACK_USER_GONE = {"user_not_found", "users_not_found", "account_inactive"}


@dataclass(frozen=True)
class Accounts:
    """Workspace members by state, from one sweep of `users.list`."""

    active: frozenset[str]
    deactivated: frozenset[str]


async def sync_owner_accounts(
    *, session: AsyncSession, settings: Settings, team_id: str, accounts: Accounts
) -> tuple[int, int]:
    """Flag areas of deactivated owners (announcing each once), and un-flag those whose owner was
    reactivated.

    Returns (flagged, restored). A restored owner is asked to confirm again when next due.
    """
    flagged = restored = 0
    if accounts.deactivated:
        gone = (
            await session.scalars(
                select(Area)
                .where(
                    Area.team_id == team_id,
                    Area.owner.in_(sorted(accounts.deactivated)),
                    Area.owner_status.in_([OwnerStatus.ACTIVE, OwnerStatus.UNCONFIRMED]),
                )
                .with_for_update()
            )
        ).all()
        for area in gone:
            area.owner_status = OwnerStatus.DEACTIVATED
            area.confirm_requested_at = None
            await announce_owner_gone(
                session=session,
                settings=settings,
                area=area,
                owner=str(area.owner),
                status=OwnerStatus.DEACTIVATED,
            )
        flagged = len(gone)
        await session.flush()
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
