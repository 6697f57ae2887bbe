"""`/areas`: the ownership directory, addressed by slug; `PUT /areas:import` takes a directory file
(Switchboard YAML, Backstage, CODEOWNERS) as the body."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import BAD_CURSOR, Page, PageDep, position_value
from bot.api.params import CleanText
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, NOT_FOUND, ErrorOut
from bot.core.errors import NotFound, UserError
from bot.core.runtime import Runtime
from bot.ownership import areas as area_service
from bot.ownership import importers
from bot.ownership.announcements import announce_owner_change
from bot.ownership.importers import ImportFormat
from bot.ownership.index import MatchKind
from bot.ownership.schema import SLUG_RE, AreaIn, AreaPatch
from bot.ownership.sync import email_lookup_for, import_directory
from models import Area


class LinkOut(BaseModel):
    title: str = ""
    url: str


class AreaOut(BaseModel):
    """An ownership area as stored."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    kind: str
    aliases: list[str]
    description: str
    owner: str | None = Field(description="Slack user id of the owner.")
    team: str | None
    backups: list[str]
    channel: str | None
    links: list[LinkOut]
    tags: list[str]
    source: str
    confirm_every_days: int
    last_confirmed_at: datetime | None
    owner_status: str = Field(description="active, unconfirmed, deactivated, missing or disowned.")
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confirmation_due_at(self) -> datetime | None:
        """When the owner is next asked "Still yours?"; null without an owner."""
        if self.owner is None:
            return None
        if self.last_confirmed_at is None:
            return self.created_at
        return self.last_confirmed_at + timedelta(days=self.confirm_every_days)


class AreaMatchOut(AreaOut):
    score: float = Field(description="Fuzzy match score, 0–100.")


class AreaSearchOut(BaseModel):
    """`GET /areas?q=`: matches best first, with how sure the lookup is."""

    match: MatchKind = Field(description="confident: one clear answer; ambiguous: pick one; none: no match.")
    items: list[AreaMatchOut]
    next_cursor: None = None


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
    next_cursor = page.next_cursor(rows, lambda area: {"after": area.slug})
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


# `PUT /areas:import` sits beside the prefixed routes: its path has no slash after `/areas`.
import_router = APIRouter(tags=["areas"], responses=ERROR_RESPONSES)

ACCEPTED_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)
# Far above any real directory (10,000 areas export to about 3 MB), low enough to refuse abuse early.
MAX_BODY_BYTES = 10 * 1024 * 1024


class UnmappedOwnerOut(BaseModel):
    handle: str = Field(description="The owner as the file names it.")
    reason: str
    areas: list[str] = Field(description="Slugs of the areas imported without this owner.")
    lines: list[int]


class ImportSummary(BaseModel):
    format: ImportFormat
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    announced: int = Field(description="Owner changes queued for announcement in OWNERSHIP_CHANNEL.")
    unannounced_new_areas: int = Field(
        description="New owned areas not announced one by one: the import created more than 25."
    )
    created_slugs: list[str]
    updated_slugs: list[str]
    unmapped_owners: list[UnmappedOwnerOut] = Field(
        description="Owners matched to no Slack user; their areas were imported without them."
    )


_BODY_SCHEMA = {"schema": {"type": "string"}}


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "message": message})


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY_BYTES (stops reading there)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@import_router.put(
    "/areas:import",
    response_model=ImportSummary,
    summary="Import areas from a directory file",
    description=(
        "Upserts areas by slug from Switchboard YAML (the format `switchboard owners export` writes), "
        "a Backstage catalog-info.yaml or a CODEOWNERS file, in one transaction: a file with any "
        "problem imports nothing and the 422 message names the line. Owners that match no Slack "
        "user (handles through the OWNERS_HANDLE_MAP file; emails are looked up in Slack) are listed in "
        "`unmapped_owners` and their areas imported without them. Re-importing a file changes nothing."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": _BODY_SCHEMA, "text/plain": _BODY_SCHEMA},
        }
    },
    responses={
        **CONFLICT,
        413: {"model": ErrorOut, "description": "Body larger than 10 MB"},
        415: {"model": ErrorOut, "description": "Body is not YAML or plain text"},
    },
)
async def import_areas(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    format: Annotated[
        ImportFormat | None,
        Query(description="File format; by default told from the content."),
    ] = None,
    dry_run: Annotated[bool, Query(description="Report what would change; write nothing.")] = False,
) -> Any:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        return _error(
            415,
            "unsupported_media_type",
            "Send the file as the body with Content-Type: application/yaml (or text/plain).",
        )
    body = await _read_body(request)
    if body is None:
        return _error(413, "payload_too_large", f"The file is over {MAX_BODY_BYTES // 1024 // 1024} MB.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("The body is not UTF-8 text.") from exc
    # Off the event loop: a 10,000-area file takes seconds to parse, and Slack's acks share this loop.
    directory = await asyncio.to_thread(importers.parse, text, format=format)
    result = await import_directory(
        session=session,
        settings=runtime.settings,
        team_id=team_id,
        directory=directory,
        handle_map=await asyncio.to_thread(runtime.settings.handle_map),
        lookup_email=await email_lookup_for(runtime, team_id),
        dry_run=dry_run,
    )
    if result.created or result.updated:

        def refresh() -> None:
            runtime.area_cache.invalidate(team_id)
            runtime.wake_scheduler()

        after_commit(session, refresh)
    return result.summary()
