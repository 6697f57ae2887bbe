"""`/releases`: compose, approve, schedule, cancel and edit release announcements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.auth import TokenDep
from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import Page, PageDep, position_value
from bot.api.params import ItemId
from bot.api.schemas import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from bot.core.permissions import Actor
from bot.core.runtime import Runtime
from bot.releases import approval as release_approval
from bot.releases import compose as release_compose
from bot.releases import releases as release_service
from bot.releases import review as release_review
from bot.releases.schema import ReleaseIn, ReleasePatch, ScheduleIn
from models import Release, ReleaseStatus

router = APIRouter(prefix="/releases", tags=["releases"], responses=ERROR_RESPONSES)


class VariantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    title: str | None
    summary: str | None
    notes: str | None


class PostOut(BaseModel):
    """The release in one channel."""

    model_config = ConfigDict(from_attributes=True)

    channel: str
    locale: str
    state: str = Field(description="pending, posting, posted, failed or cancelled.")
    ts: str | None = Field(description="The Slack message's timestamp once posted.")
    permalink: str | None
    error: str | None = Field(
        description="Why it failed (channel_not_found, not_in_channel, is_archived, …)."
    )
    attempts: int
    revision: int = Field(description="The release revision this message shows.")
    posted_at: datetime | None
    edited_at: datetime | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    actor: str | None = Field(description="Slack user id, `api:<token name>` or `scheduler`.")
    at: datetime
    detail: dict[str, Any]


class ReleaseSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    version: str | None
    status: str = Field(
        description=(
            "draft, pending_approval, approved, scheduled, posting, posted, partially_posted, failed "
            "or cancelled. posted: every channel has it; partially_posted / failed: posting ended with "
            "some / every channel failed (see posts[].error)."
        )
    )
    owner: str | None
    approver: str | None
    scheduled_at: datetime | None
    posted_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime
    posts_by_state: dict[str, int] = Field(default_factory=dict)


class ReleaseOut(ReleaseSummaryOut):
    summary: str
    notes: str = Field(description="Markdown.")
    default_locale: str
    launch_id: int | None
    theme_ids: list[int]
    approved_by: str | None
    approved_at: datetime | None
    post_when_approved: bool
    timezone: str
    cancelled_at: datetime | None
    variants: dict[str, VariantOut]
    posts: list[PostOut]
    events: list[EventOut]


async def _out(session: AsyncSession, release: Release) -> ReleaseOut:
    await session.flush()
    await session.refresh(release)
    posts = await release_service.posts_of(session=session, release_id=release.id)
    counts = await release_service.post_counts(session=session, release_ids=[release.id])
    variants = await release_service.variants_of(session=session, release_id=release.id)
    return ReleaseOut.model_validate(
        {
            **ReleaseSummaryOut.model_validate(release).model_dump(),
            "posts_by_state": dict(counts[release.id]),
            "summary": release.summary,
            "notes": release.notes,
            "default_locale": release.default_locale,
            "launch_id": release.launch_id,
            "theme_ids": await release_service.theme_ids_of(session=session, release_id=release.id),
            "approved_by": release.approved_by,
            "approved_at": release.approved_at,
            "post_when_approved": release.post_when_approved,
            "timezone": release.timezone,
            "cancelled_at": release.cancelled_at,
            "variants": {k: VariantOut.model_validate(v) for k, v in variants.items()},
            "posts": [PostOut.model_validate(p) for p in posts],
            "events": [
                EventOut.model_validate(e)
                for e in await release_service.events_of(session=session, release_id=release.id)
            ],
        }
    )


def _actor(token: str) -> str:
    return f"api:{token}"


def _wake_after_commit(session: AsyncSession, runtime: Runtime) -> None:
    after_commit(session, runtime.wake_scheduler)


@router.get("", response_model=Page[ReleaseSummaryOut], summary="List releases, newest first")
async def list_releases(
    session: SessionDep,
    team_id: TeamDep,
    page: PageDep,
    status: Annotated[ReleaseStatus | None, Query(description="Only releases in this status.")] = None,
) -> Page[ReleaseSummaryOut]:
    before = position_value(page, "before", int)
    rows = await release_service.list_releases(
        session=session, team_id=team_id, status=status, before_id=before, limit=page.limit + 1
    )
    shown = rows[: page.limit]
    counts = await release_service.post_counts(session=session, release_ids=[r.id for r in shown])
    items = [
        ReleaseSummaryOut.model_validate(
            {**ReleaseSummaryOut.model_validate(r).model_dump(), "posts_by_state": dict(counts[r.id])}
        )
        for r in shown
    ]
    next_cursor = page.next_cursor(rows, lambda release: {"before": release.id})
    return Page[ReleaseSummaryOut](items=items, next_cursor=next_cursor)


@router.post("", response_model=ReleaseOut, status_code=201, summary="Compose a release")
async def create_release(
    body: ReleaseIn,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    token: TokenDep,
    response: Response,
) -> ReleaseOut:
    """A new release. With an `approver` it goes straight to them (a DM with Approve / Request
    changes); without one it stays a draft until `POST /releases/{id}/approve`."""
    release = await release_compose.create_release(
        session=session,
        team_id=team_id,
        data=body,
        by=_actor(token),
        default_timezone=runtime.settings.switchboard_timezone,
    )
    if release.approver:
        await release_approval.submit_for_approval(
            session=session, team_id=team_id, release_id=release.id, by=_actor(token)
        )
    _wake_after_commit(session, runtime)
    response.headers["Location"] = f"/api/v1{router.prefix}/{release.id}"
    return await _out(session, release)


@router.get("/{release_id}", response_model=ReleaseOut, responses=NOT_FOUND, summary="One release")
async def get_release(release_id: ItemId, session: SessionDep, team_id: TeamDep) -> ReleaseOut:
    """With its translations, every channel's post (state, ts, link, error) and its history."""
    release = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
    return await _out(session, release)


@router.patch(
    "/{release_id}",
    response_model=ReleaseOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Change a release",
)
async def update_release(
    release_id: ItemId,
    body: ReleasePatch,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    token: TokenDep,
) -> ReleaseOut:
    """Before posting, a change sends the release back for approval. After posting, the text can
    still change: every posted message is updated (`chat.update`) and the edit recorded."""
    result = await release_compose.update_release(
        session=session, team_id=team_id, release_id=release_id, patch=body, by=_actor(token)
    )
    _wake_after_commit(session, runtime)
    return await _out(session, result.release)


@router.delete(
    "/{release_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT}, summary="Remove a release"
)
async def delete_release(release_id: ItemId, session: SessionDep, team_id: TeamDep) -> Response:
    """Only a release that never reached a channel can be removed."""
    await release_compose.delete_release(session=session, team_id=team_id, release_id=release_id)
    return Response(status_code=204)


@router.post(
    "/{release_id}/approve", response_model=ReleaseOut, responses={**NOT_FOUND, **CONFLICT}, summary="Approve"
)
async def approve_release(
    release_id: ItemId, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep, token: TokenDep
) -> ReleaseOut:
    """Approve a draft or pending release (one with a time, or "now", is scheduled at once), or a
    change to a posted release that waits for approval (its messages are then updated)."""
    answer = await release_review.approve(
        session=session,
        team_id=team_id,
        release_id=release_id,
        actor=Actor.api(),
        by=_actor(token),
        as_approver=False,
    )
    _wake_after_commit(session, runtime)
    return await _out(session, answer.release)


@router.post(
    "/{release_id}/schedule",
    response_model=ReleaseOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Schedule",
)
async def schedule_release(
    release_id: ItemId,
    body: ScheduleIn,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    token: TokenDep,
) -> ReleaseOut:
    """Post an approved release at `at` (ISO 8601 with offset) or `"now"`; rescheduling replaces
    the earlier time. Its posting job then shows in `GET /jobs`."""
    release = await release_approval.schedule_release(
        session=session, team_id=team_id, release_id=release_id, at=body.at, by=_actor(token)
    )
    _wake_after_commit(session, runtime)
    return await _out(session, release)


@router.post(
    "/{release_id}/cancel", response_model=ReleaseOut, responses={**NOT_FOUND, **CONFLICT}, summary="Cancel"
)
async def cancel_release(
    release_id: ItemId, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep, token: TokenDep
) -> ReleaseOut:
    """Call a release off before it starts posting."""
    release = await release_approval.cancel_release(
        session=session, team_id=team_id, release_id=release_id, by=_actor(token)
    )
    _wake_after_commit(session, runtime)
    return await _out(session, release)
