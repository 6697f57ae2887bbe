"""`PUT /api/v1/areas:import`: a directory file (Switchboard YAML, Backstage, CODEOWNERS) as the body."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, ErrorOut
from bot.errors import UserError
from bot.services import importers
from bot.services.directory_sync import email_lookup_for, import_directory
from bot.services.importers import ImportFormat

router = APIRouter(tags=["areas"], responses=ERROR_RESPONSES)

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


@router.put(
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
