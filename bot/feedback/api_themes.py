"""`/themes`: product needs that feedback links to; merge them, ship them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.auth import TokenDep
from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import Page, PageDep, position_value
from bot.api.params import CleanText, ItemId
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from bot.core.schema_base import CleanInput, DbId
from bot.feedback import themes as theme_service
from bot.feedback.history import theme_history
from bot.feedback.schema import LinkIn, ShipIn, ThemeIn, ThemePatch
from bot.integrations import service as link_service
from bot.ownership.schema import SLUG_RE
from models import Area, Theme, ThemeLink
from models.feedback import ThemeStatus
from models.integration import LinkState, Provider

router = APIRouter(prefix="/themes", tags=["themes"], responses=ERROR_RESPONSES)


class LinkOut(BaseModel):
    """A tracker issue (or pull request) the theme is tracked in."""

    id: int
    provider: Provider
    key: str = Field(description="`owner/repo#123` (GitHub), `ENG-123` (Linear), `PROJ-123` (Jira).")
    url: str
    state: LinkState = Field(description="The issue's state as its tracker last reported it.")
    created_by: str | None
    created_at: datetime


class ThemeEventOut(BaseModel):
    """One change in the theme's history."""

    kind: str = Field(description="status, linked, unlinked or kept_open.")
    from_status: ThemeStatus | None
    to_status: ThemeStatus | None
    actor: str | None = Field(description="A Slack user id, `api:<token>`, or the tracker that moved it.")
    reason: str
    at: datetime


class ThemeOut(BaseModel):
    """A theme with the counts derived from its linked feedback, and where its work is tracked."""

    id: int
    title: str
    description: str
    area: str | None = Field(description="Slug of the product area.")
    status: ThemeStatus
    items: int = Field(description="Linked feedback items.")
    customers: int = Field(description="Distinct customers among the linked items.")
    merged_into_id: int | None = Field(description="Set when this theme was merged into another.")
    created_by: str | None
    shipped_at: datetime | None
    release_id: int | None
    release_title: str | None
    release_link: str | None
    links: list[LinkOut] = Field(description="Tracker issues the theme is tracked in.")
    created_at: datetime
    updated_at: datetime


class MergeIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    into: DbId = Field(description="Id of the theme that receives this theme's items.")


class ShipOut(BaseModel):
    theme: ThemeOut
    newly_shipped: bool = Field(description="False when the theme had shipped before.")
    enqueued: int = Field(description="Notifications added by this call (thread replies + DMs).")
    threads: int = Field(description="Slack threads told in all.")
    people: int = Field(description="People told by DM in all.")
    notifications: dict[str, int] = Field(
        description="Notifications by status: pending, sent, skipped, failed (not delivered)."
    )


def _link_out(link: ThemeLink) -> LinkOut:
    return LinkOut(
        id=link.id,
        provider=Provider(link.provider),
        key=link.key,
        url=link.url,
        state=LinkState(link.state),
        created_by=link.created_by,
        created_at=link.created_at,
    )


def _actor(token: str) -> str:
    return f"api:{token}"


async def _out(session: AsyncSession, theme: Theme) -> ThemeOut:
    counts = (await theme_service.theme_counts(session=session, theme_ids=[theme.id]))[theme.id]
    links = (await link_service.links_of(session=session, theme_ids=[theme.id]))[theme.id]
    area = await session.get(Area, theme.area_id) if theme.area_id is not None else None
    return ThemeOut(
        id=theme.id,
        title=theme.title,
        description=theme.description,
        area=area.slug if area else None,
        status=ThemeStatus(theme.status),
        items=counts.items,
        customers=counts.customers,
        merged_into_id=theme.merged_into_id,
        created_by=theme.created_by,
        shipped_at=theme.shipped_at,
        release_id=theme.release_id,
        release_title=theme.release_title,
        release_link=theme.release_link,
        links=[_link_out(link) for link in links],
        created_at=theme.created_at,
        updated_at=theme.updated_at,
    )


@router.get("", response_model=Page[ThemeOut], summary="List themes")
async def list_themes(
    session: SessionDep,
    team_id: TeamDep,
    page: PageDep,
    status: ThemeStatus | None = None,
    area: Annotated[str | None, Query(pattern=SLUG_RE, description="Area slug.")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Words in the title."), CleanText
    ] = None,
    include_merged: Annotated[bool, Query(description="Also list themes merged into others.")] = False,
) -> Page[ThemeOut]:
    """Themes by id, with item and distinct-customer counts."""
    rows = await theme_service.list_themes(
        session=session,
        team_id=team_id,
        status=status,
        area=area,
        q=q,
        after_id=position_value(page, "after", int),
        limit=page.limit + 1,
        include_merged=include_merged,
    )
    next_cursor = page.next_cursor(rows, lambda row: {"after": row[0].id})
    return Page[ThemeOut](
        items=[await _out(session, t) for t, _ in rows[: page.limit]], next_cursor=next_cursor
    )


@router.post("", response_model=ThemeOut, status_code=201, summary="Add a theme")
async def create_theme(body: ThemeIn, session: SessionDep, team_id: TeamDep, response: Response) -> ThemeOut:
    theme = await theme_service.create_theme(session=session, team_id=team_id, data=body)
    response.headers["Location"] = f"/api/v1/themes/{theme.id}"
    return await _out(session, theme)


@router.get("/{theme_id}", response_model=ThemeOut, responses=NOT_FOUND, summary="One theme")
async def get_theme(theme_id: ItemId, session: SessionDep, team_id: TeamDep) -> ThemeOut:
    return await _out(
        session, await theme_service.get_theme(session=session, team_id=team_id, theme_id=theme_id)
    )


@router.patch("/{theme_id}", response_model=ThemeOut, responses=NOT_FOUND, summary="Change a theme")
async def update_theme(
    theme_id: ItemId, body: ThemePatch, session: SessionDep, team_id: TeamDep, token: TokenDep
) -> ThemeOut:
    """Change the fields given; ship with `POST /themes/{id}/ship` so requesters are told."""
    theme = await theme_service.update_theme(
        session=session, team_id=team_id, theme_id=theme_id, patch=body, by=_actor(token)
    )
    return await _out(session, theme)


@router.delete("/{theme_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT}, summary="Delete a theme")
async def delete_theme(theme_id: ItemId, session: SessionDep, team_id: TeamDep) -> Response:
    """Remove a theme; its items stay, unlinked. To keep them together, merge instead."""
    await theme_service.delete_theme(session=session, team_id=team_id, theme_id=theme_id)
    return Response(status_code=204)


@router.post(
    "/{theme_id}/merge",
    response_model=ThemeOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Merge a theme into another",
)
async def merge_theme(theme_id: ItemId, body: MergeIn, session: SessionDep, team_id: TeamDep) -> ThemeOut:
    """Every item and follower moves to `into`; this theme stays, marked as merged. Returns `into`."""
    target = await theme_service.merge_themes(
        session=session, team_id=team_id, source_id=theme_id, into_id=body.into
    )
    return await _out(session, target)


@router.post("/{theme_id}/ship", response_model=ShipOut, responses=NOT_FOUND, summary="Ship a theme")
async def ship_theme(
    theme_id: ItemId,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    body: Annotated[ShipIn | None, Body()] = None,
) -> ShipOut:
    """Mark it shipped; every linked thread gets a reply and every requester one DM — once,
    however often this is called."""
    ship = body or ShipIn()
    result = await theme_service.ship_theme(
        session=session,
        team_id=team_id,
        theme_id=theme_id,
        release_id=ship.release_id,
        release_title=ship.release_title,
        release_link=str(ship.release_link) if ship.release_link else None,
        by=ship.by,
    )
    after_commit(session, runtime.wake_scheduler)
    theme = await theme_service.get_theme(session=session, team_id=team_id, theme_id=result.theme_id)
    return ShipOut(
        theme=await _out(session, theme),
        newly_shipped=result.newly_shipped,
        enqueued=result.enqueued,
        threads=result.threads,
        people=result.people,
        notifications=await theme_service.notification_counts(session=session, theme_id=theme.id),
    )


@router.post(
    "/{theme_id}/links",
    response_model=LinkOut,
    status_code=201,
    responses=NOT_FOUND,
    summary="Track a theme in a tracker issue",
)
async def add_link(
    theme_id: int, body: LinkIn, session: SessionDep, team_id: TeamDep, token: TokenDep, response: Response
) -> LinkOut:
    """Link a GitHub, Linear or Jira issue by its URL; an open theme becomes planned. The same issue
    again answers 200 with the link it has."""
    link, created = await link_service.add_link(
        session=session, team_id=team_id, theme_id=theme_id, url=body.url, by=_actor(token)
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/themes/{link.theme_id}/links/{link.id}"
    return _link_out(link)


@router.delete(
    "/{theme_id}/links/{link_id}", status_code=204, responses=NOT_FOUND, summary="Remove a tracker link"
)
async def remove_link(
    theme_id: int, link_id: int, session: SessionDep, team_id: TeamDep, token: TokenDep
) -> Response:
    await link_service.remove_link(
        session=session, team_id=team_id, theme_id=theme_id, link_id=link_id, by=_actor(token)
    )
    return Response(status_code=204)


@router.get(
    "/{theme_id}/history",
    response_model=list[ThemeEventOut],
    responses=NOT_FOUND,
    summary="A theme's history",
)
async def get_history(theme_id: int, session: SessionDep, team_id: TeamDep) -> list[ThemeEventOut]:
    """Every move between statuses and every tracker link added or removed: who, what, when."""
    theme = await theme_service.get_theme(session=session, team_id=team_id, theme_id=theme_id)
    return [
        ThemeEventOut(
            kind=event.kind,
            from_status=ThemeStatus(event.from_status) if event.from_status else None,
            to_status=ThemeStatus(event.to_status) if event.to_status else None,
            actor=event.actor,
            reason=event.reason,
            at=event.at,
        )
        for event in await theme_history(session=session, theme_id=theme.id)
    ]
