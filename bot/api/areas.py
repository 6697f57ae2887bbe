"""`/areas`: the ownership directory, addressed by slug."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import BAD_CURSOR, Page, PageDep, encode_cursor, position_value
from bot.api.params import CleanText
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, NOT_FOUND, AreaMatchOut, AreaOut, AreaSearchOut
from bot.errors import NotFound, UserError
from bot.runtime import Runtime
from bot.services import areas as area_service
from bot.services.area_schema import SLUG_RE, AreaIn, AreaPatch
from bot.services.ownership import announce_owner_change
from models import Area

router = APIRouter(prefix="/areas", tags=["areas"], responses=ERROR_RESPONSES)

# A fuzzy lookup ranks a shortlist; more than this many candidates would be noise.
MAX_SEARCH_RESULTS = 20
_SLUG = re.compile(SLUG_RE)


def _checked_slug(slug: str) -> str:
    """A slug that cannot exist is answered without a query (and never reaches the database)."""
    if not _SLUG.match(slug):
        raise NotFound(f"No area with slug `{slug[:80]}`; slugs are lowercase letters, digits and dashes.")
    return slug


def _after_write(session: AsyncSession, runtime: Runtime, team_id: str) -> None:
    def refresh() -> None:
        runtime.area_cache.invalidate(team_id)
        runtime.wake_scheduler()

    after_commit(session, refresh)


async def _announce(
    *, session: AsyncSession, runtime: Runtime, area: Area, previous_owner: str | None
) -> None:
    # The announcement names the new owner; clearing an owner leaves nobody to announce.
    if area.owner is not None:
        await announce_owner_change(
            session=session, settings=runtime.settings, area=area, previous_owner=previous_owner, by=None
        )


@router.get(
    "",
    response_model=Page[AreaOut] | AreaSearchOut,
    summary="List areas, or look one up with ?q=",
)
async def list_areas(
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Fuzzy lookup over names, aliases, slugs and descriptions.",
        ),
        CleanText,
    ] = None,
) -> Page[AreaOut] | AreaSearchOut:
    """Areas by slug, a page at a time; with `q`, the best matches with their scores instead."""
    if q is not None:
        result, found = await area_service.search_areas(
            session=session,
            cache=runtime.area_cache,
            team_id=team_id,
            query=q,
            limit=min(page.limit, MAX_SEARCH_RESULTS),
        )
        scores = {m.area_id: m.score for m in result.matches}
        items = [
            AreaMatchOut.model_validate({**AreaOut.model_validate(a).model_dump(), "score": scores[a.id]})
            for a in found
        ]
        return AreaSearchOut(match=result.kind, items=items)
    after = position_value(page, "after", str)
    if after is not None and not _SLUG.match(after):
        raise UserError(BAD_CURSOR)
    rows = await area_service.list_areas(session=session, team_id=team_id, after=after, limit=page.limit + 1)
    next_cursor = encode_cursor({"after": rows[page.limit - 1].slug}) if len(rows) > page.limit else None
    return Page[AreaOut](
        items=[AreaOut.model_validate(a) for a in rows[: page.limit]], next_cursor=next_cursor
    )


@router.get("/{slug}", response_model=AreaOut, responses=NOT_FOUND, summary="One area")
async def get_area(slug: str, session: SessionDep, team_id: TeamDep) -> AreaOut:
    area = await area_service.get_by_slug(session=session, team_id=team_id, slug=_checked_slug(slug))
    return AreaOut.model_validate(area)


@router.post("", response_model=AreaOut, status_code=201, responses=CONFLICT, summary="Add an area")
async def create_area(
    body: AreaIn,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    request: Request,
    response: Response,
) -> AreaOut:
    """Add an area; the slug defaults to one made from the name. A taken slug is a 409."""
    area = await area_service.create_area(session=session, team_id=team_id, data=body)
    await _announce(session=session, runtime=runtime, area=area, previous_owner=None)
    _after_write(session, runtime, team_id)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{area.slug}"
    return AreaOut.model_validate(area)


@router.patch("/{slug}", response_model=AreaOut, responses=NOT_FOUND, summary="Change an area")
async def update_area(
    slug: str, body: AreaPatch, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> AreaOut:
    """Change the fields given; a new owner is announced in OWNERSHIP_CHANNEL."""
    change = await area_service.update_area(
        session=session, team_id=team_id, slug=_checked_slug(slug), patch=body
    )
    if change.area.owner != change.previous_owner:
        await _announce(
            session=session, runtime=runtime, area=change.area, previous_owner=change.previous_owner
        )
    _after_write(session, runtime, team_id)
    return AreaOut.model_validate(change.area)


@router.delete("/{slug}", status_code=204, responses=NOT_FOUND, summary="Remove an area")
async def delete_area(slug: str, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep) -> Response:
    await area_service.delete_area(session=session, team_id=team_id, slug=_checked_slug(slug))
    _after_write(session, runtime, team_id)
    return Response(status_code=204)
