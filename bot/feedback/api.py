"""`/feedback`: customer feedback items, filtered, searched, paged and exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field

from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import Page, PageDep, position_time, position_value
from bot.api.params import CleanText, InUtc, ItemId
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from bot.core.runtime import Runtime
from bot.core.schema_base import MAX_ID
from bot.core.uow import unit_of_work
from bot.feedback import capture as feedback_service
from bot.feedback import queries as feedback_queries
from bot.feedback.schema import FeedbackFilters, FeedbackIn, FeedbackPatch, KeysetPosition
from bot.ownership.schema import SLUG_RE
from models.feedback import FeedbackKind, FeedbackStatus, Importance

router = APIRouter(tags=["feedback"], responses=ERROR_RESPONSES)

# Rows per database round trip while streaming a CSV export; memory stays flat at any size.
CSV_BATCH = 5000
FORMULA_STARTS = frozenset("=+-@\t\r")
CSV_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "importance",
    "status",
    "customer",
    "segment",
    "area",
    "theme_id",
    "theme",
    "tags",
    "source",
    "channel",
    "message_ts",
    "permalink",
    "author",
    "reporters",
    "text",
]


class FeedbackOut(BaseModel):
    """A feedback item as stored."""

    id: int
    text: str
    kind: FeedbackKind
    importance: Importance
    status: FeedbackStatus
    customer: str | None
    segment: str | None
    area: str | None = Field(description="Slug of the product area.")
    tags: list[str]
    theme_id: int | None
    theme: str | None = Field(description="Title of the linked theme.")
    source: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    permalink: str | None
    author: str | None = Field(description="Slack user id of who said it.")
    reporter: str | None = Field(description="Slack user id of who logged it first.")
    reporters: list[str] = Field(description="Everyone who logged it, first first.")
    created_at: datetime
    updated_at: datetime


def _out(row: feedback_queries.FeedbackRow, reporters: list[str]) -> FeedbackOut:
    item = row.feedback
    return FeedbackOut(
        id=item.id,
        text=item.text,
        kind=FeedbackKind(item.kind),
        importance=Importance(item.importance),
        status=FeedbackStatus(item.status),
        customer=item.customer,
        segment=item.segment,
        area=row.area_slug,
        tags=list(item.tags or []),
        theme_id=item.theme_id,
        theme=row.theme_title,
        source=item.source,
        channel=item.channel,
        message_ts=item.message_ts,
        thread_ts=item.thread_ts,
        permalink=item.permalink,
        author=item.author,
        reporter=item.reporter,
        reporters=reporters,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def feedback_filters(
    area: Annotated[str | None, Query(pattern=SLUG_RE, description="Area slug.")] = None,
    kind: FeedbackKind | None = None,
    importance: Importance | None = None,
    customer: Annotated[
        str | None, Query(max_length=200, description="Exact account name."), CleanText
    ] = None,
    status: FeedbackStatus | None = None,
    theme_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Only items logged at or after this ISO 8601 time (with offset)."),
        InUtc,
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description='Full-text search: words, "quoted phrases", -excluded, OR (PostgreSQL).',
        ),
        CleanText,
    ] = None,
) -> FeedbackFilters:
    return FeedbackFilters(
        area=area,
        kind=kind,
        importance=importance,
        customer=customer,
        status=status,
        theme_id=theme_id,
        since=since,
        q=q,
    )


FiltersDep = Annotated[FeedbackFilters, Depends(feedback_filters)]


def _position(page: PageDep) -> KeysetPosition | None:
    created_at = position_time(page, "created_at")
    if created_at is None:
        return None
    return KeysetPosition(created_at=created_at, id=position_value(page, "id", int))


async def _one(*, session: SessionDep, team_id: str, feedback_id: int) -> FeedbackOut:
    row = await feedback_queries.get_feedback_row(session=session, team_id=team_id, feedback_id=feedback_id)
    return _out(row, await feedback_service.reporters_of(session=session, feedback_id=feedback_id))


def _wake_after_commit(session: SessionDep, runtime: Runtime) -> None:
    after_commit(session, runtime.wake_scheduler)


@router.get("/feedback", response_model=Page[FeedbackOut], summary="List and search feedback")
async def list_feedback(
    session: SessionDep, team_id: TeamDep, page: PageDep, filters: FiltersDep
) -> Page[FeedbackOut]:
    """Newest first. Pages are stable: items logged meanwhile never shift or repeat a page."""
    rows = await feedback_queries.list_feedback(
        session=session, team_id=team_id, filters=filters, after=_position(page), limit=page.limit + 1
    )
    next_cursor = page.next_cursor(
        rows, lambda row: {"created_at": row.feedback.created_at.isoformat(), "id": row.feedback.id}
    )
    rows = rows[: page.limit]
    reporters = await feedback_service.reporters_by_item(
        session=session, feedback_ids=[r.feedback.id for r in rows]
    )
    return Page[FeedbackOut](items=[_out(r, reporters[r.feedback.id]) for r in rows], next_cursor=next_cursor)


def _csv_cell(text: str | None) -> str | None:
    """User text, defused: a cell starting like a formula runs as one in spreadsheet apps."""
    return "'" + text if text and text[0] in FORMULA_STARTS else text


def _csv_lines(rows: list[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    cell = _csv_cell
    writer.writerows(
        (
            row.id,
            row.created_at.isoformat(),
            row.kind,
            row.importance,
            row.status,
            cell(row.customer),
            cell(row.segment),
            row.area,
            row.theme_id,
            cell(row.theme),
            cell(";".join(row.tags or [])),
            row.source,
            row.channel,
            row.message_ts,
            row.permalink,
            row.author,
            row.reporters,
            cell(row.text),
        )
        for row in rows
    )
    return buffer.getvalue()


async def _csv_stream(
    runtime: Runtime, team_id: str, filters: FeedbackFilters, rows: list[Any]
) -> AsyncIterator[str]:
    """The export from its first batch on, each later batch in its own short transaction (keyset paging)."""
    header = io.StringIO()
    csv.writer(header).writerow(CSV_COLUMNS)
    yield header.getvalue()
    while rows:
        yield _csv_lines(rows)
        if len(rows) < CSV_BATCH:
            return
        after = KeysetPosition(created_at=rows[-1].created_at, id=rows[-1].id)
        async with unit_of_work(runtime.session_factory) as session:
            rows = await feedback_queries.export_batch(
                session=session, team_id=team_id, filters=filters, after=after, limit=CSV_BATCH
            )


@router.get(
    "/feedback.csv",
    summary="Export feedback as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, streamed"}},
)
async def export_feedback(
    session: SessionDep, runtime: RuntimeDep, team_id: TeamDep, filters: FiltersDep
) -> StreamingResponse:
    """Every item matching the filters (same as `/feedback`), streamed newest first."""
    # The first batch is read before the answer starts, so that an unknown area (404) or an
    # unreachable database (503) is told as such, never as a 200 that stops after the header.
    first = await feedback_queries.export_batch(
        session=session, team_id=team_id, filters=filters, after=None, limit=CSV_BATCH
    )
    return StreamingResponse(
        _csv_stream(runtime, team_id, filters, first),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


@router.get("/feedback/{feedback_id}", response_model=FeedbackOut, responses=NOT_FOUND, summary="One item")
async def get_feedback(feedback_id: ItemId, session: SessionDep, team_id: TeamDep) -> FeedbackOut:
    return await _one(session=session, team_id=team_id, feedback_id=feedback_id)


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=201,
    responses={200: {"model": FeedbackOut, "description": "The message was logged already"}},
    summary="Log feedback",
)
async def create_feedback(
    body: FeedbackIn, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep, response: Response
) -> FeedbackOut:
    """Log an item. The same Slack message (channel + message_ts) again adds the reporter (200)."""
    result = await feedback_service.capture(
        session=session,
        team_id=team_id,
        data=body,
        alert_channel=runtime.settings.feedback_channel,
        mark_with=runtime.settings.feedback_emoji if body.channel else None,
    )
    _wake_after_commit(session, runtime)
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/feedback/{result.feedback.id}"
    return await _one(session=session, team_id=team_id, feedback_id=result.feedback.id)


@router.patch(
    "/feedback/{feedback_id}", response_model=FeedbackOut, responses=NOT_FOUND, summary="Change an item"
)
async def update_feedback(
    feedback_id: ItemId, body: FeedbackPatch, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> FeedbackOut:
    """Change the fields given; making an item critical alerts its area owner."""
    await feedback_service.update_feedback(
        session=session,
        team_id=team_id,
        feedback_id=feedback_id,
        patch=body,
        alert_channel=runtime.settings.feedback_channel,
    )
    _wake_after_commit(session, runtime)
    return await _one(session=session, team_id=team_id, feedback_id=feedback_id)


@router.delete(
    "/feedback/{feedback_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT}, summary="Delete an item"
)
async def delete_feedback(feedback_id: ItemId, session: SessionDep, team_id: TeamDep) -> Response:
    await feedback_service.delete_feedback(session=session, team_id=team_id, feedback_id=feedback_id)
    return Response(status_code=204)
