"""`/launches`: launches, their sign-off functions, standup runs and go/no-go votes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.deps import RuntimeDep, SessionDep, TeamDep, after_commit
from bot.api.pagination import Page, PageDep, position_value
from bot.api.params import CleanText, ItemId
from bot.api.schemas import ERROR_RESPONSES, NOT_FOUND
from bot.core.errors import NotFound, UserError
from bot.core.runtime import Runtime
from bot.launches import answers, standups, summaries
from bot.launches import functions as launch_functions
from bot.launches import gonogo as launch_gonogo
from bot.launches import launches as launch_service
from bot.launches.launches import Matrix
from bot.launches.schema import FunctionIn, FunctionPatch, LaunchIn, LaunchPatch
from bot.launches.slack import check_users, create_launch_channel, invite_to_channel, join_channel
from models.base import utcnow
from models.launch import GoNoGoDecision, Launch, LaunchFunction, LaunchStatus

router = APIRouter(prefix="/launches", tags=["launches"], responses=ERROR_RESPONSES)


class FunctionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    owner: str | None = Field(description="Slack user id of the person who signs off.")
    area_slug: str | None = Field(description="Ownership area the function maps to.")
    status: str = Field(description="not_started, on_track, at_risk, blocked or done.")
    note: str
    updated_by: str | None
    updated_at: datetime


class ReadinessOut(BaseModel):
    score: int = Field(description="0–100.")
    previous_score: int | None = Field(description="Score at the last closed standup.")
    delta: int | None
    direction: str = Field(description="up, down, steady or new.")
    days_to_launch: int


class LaunchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    target_date: date
    channel: str | None
    owner: str
    status: str = Field(description="planning, at_risk, ready, launched or cancelled.")
    standup_weekdays: list[int]
    standup_time: str
    timezone: str
    holiday_country: str | None
    holiday_subdivision: str | None
    standups_enabled: bool
    reminder_after_minutes: int
    cutoff_after_minutes: int
    gonogo_days_before: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class LaunchDetailOut(LaunchOut):
    functions: list[FunctionOut]
    readiness: ReadinessOut


class StandupRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    scheduled_for: datetime = Field(description="The standup time in the launch's timezone.")
    local_date: date
    trigger: str = Field(description="schedule or manual.")
    status: str = Field(description="scheduled, open, closed, skipped or missed.")
    score: int | None
    previous_score: int | None
    responses: int = 0
    skip_reason: str | None
    prompted_at: datetime | None
    reminded_at: datetime | None
    cutoff_at: datetime | None = Field(
        default=None, description="When the summary is due: the cut-off after the last person's prompt."
    )
    closed_at: datetime | None
    summary_channel: str | None
    summary_ts: str | None


class VoteOut(BaseModel):
    voter: str
    vote: str
    reason: str
    voted_at: datetime


class DecisionOut(BaseModel):
    id: int
    round: int
    status: str = Field(description="open or decided.")
    result: str | None = Field(description="go or no_go once decided.")
    trigger: str
    voters: list[str]
    votes: list[VoteOut]
    channel: str | None
    message_ts: str | None
    created_at: datetime
    decided_at: datetime | None


def _detail(board: Matrix) -> LaunchDetailOut:
    base = LaunchOut.model_validate(board.launch).model_dump()
    return LaunchDetailOut(
        **base,
        functions=[FunctionOut.model_validate(f) for f in board.functions],
        readiness=ReadinessOut(
            score=board.score,
            previous_score=board.trend.previous,
            delta=board.trend.delta,
            direction=board.trend.direction,
            days_to_launch=board.days_to_launch,
        ),
    )


def _wake_after_commit(session: AsyncSession, runtime: Runtime) -> None:
    after_commit(session, runtime.wake_scheduler)


async def _client(runtime: Runtime, team_id: str) -> AsyncWebClient:
    return await runtime.client_for_team(team_id)


async def _check_channel(client: AsyncWebClient, channel: str) -> None:
    try:
        await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        raise UserError(
            f"channel: Slack does not know channel `{channel}` ({exc.response.get('error')})."
        ) from exc
    await join_channel(client, channel=channel)


async def _launch(session: AsyncSession, team_id: str, launch_id: int) -> Launch:
    return await launch_service.get_launch(session=session, team_id=team_id, launch_id=launch_id)


async def _function(session: AsyncSession, launch: Launch, function_id: int) -> LaunchFunction:
    function = await session.get(LaunchFunction, function_id)
    if function is None or function.launch_id != launch.id:
        raise NotFound(f"Launch {launch.id} has no function with id {function_id}.")
    return function


@router.get("", response_model=Page[LaunchOut], summary="List launches")
async def list_launches(
    session: SessionDep,
    team_id: TeamDep,
    page: PageDep,
    status: Annotated[
        list[LaunchStatus] | None, Query(description="Only launches in these statuses.")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Name or slug, fuzzy."), CleanText
    ] = None,
) -> Page[LaunchOut]:
    """Launches by id, a page at a time; with `q`, the launch it names (or close candidates)."""
    if q is not None:
        found = await launch_service.find_launch(session=session, team_id=team_id, query=q)
        items = [found.launch] if found.launch else found.suggestions
        return Page[LaunchOut](items=[LaunchOut.model_validate(x) for x in items])
    after = position_value(page, "after", int)
    rows = await launch_service.list_launches(
        session=session,
        team_id=team_id,
        statuses=tuple(status) if status else None,
        after_id=after,
        limit=page.limit + 1,
    )
    next_cursor = page.next_cursor(rows, lambda launch: {"after": launch.id})
    return Page[LaunchOut](
        items=[LaunchOut.model_validate(x) for x in rows[: page.limit]], next_cursor=next_cursor
    )


@router.post("", response_model=LaunchDetailOut, status_code=201, summary="Create a launch")
async def create_launch(
    body: LaunchIn,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
    response: Response,
) -> LaunchDetailOut:
    """Create a launch. Without `functions`, the template's; without `channel`, #launch-<slug> is
    created and every owner invited. Past target dates, unknown users and taken slugs are 422s."""
    client = await _client(runtime, team_id)
    await check_users(client, [body.owner, *[f.owner for f in body.functions or [] if f.owner]])
    if body.channel:
        await _check_channel(client, body.channel)
    launch = await launch_service.create_launch(
        session=session,
        cache=runtime.area_cache,
        team_id=team_id,
        data=body,
        default_timezone=runtime.settings.switchboard_timezone,
        created_by=None,
    )
    functions = await launch_functions.functions_of(session=session, launch_id=launch.id)
    if launch.channel is None:
        launch.channel, _ = await create_launch_channel(client, slug=launch.slug)
    await invite_to_channel(
        client, channel=launch.channel, user_ids=[launch.owner, *[f.owner or "" for f in functions]]
    )
    _wake_after_commit(session, runtime)
    response.headers["Location"] = f"/api/v1{router.prefix}/{launch.id}"
    return _detail(await launch_service.matrix(session=session, launch=launch))


@router.get("/{launch_id}", response_model=LaunchDetailOut, responses=NOT_FOUND, summary="One launch")
async def get_launch(launch_id: ItemId, session: SessionDep, team_id: TeamDep) -> LaunchDetailOut:
    """The launch with its sign-off matrix, readiness score, trend and days to launch."""
    launch = await _launch(session, team_id, launch_id)
    return _detail(await launch_service.matrix(session=session, launch=launch))


@router.patch("/{launch_id}", response_model=LaunchDetailOut, responses=NOT_FOUND, summary="Change a launch")
async def update_launch(
    launch_id: ItemId, body: LaunchPatch, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> LaunchDetailOut:
    """Change the fields given; a changed schedule drops standups planned but not started."""
    launch = await _launch(session, team_id, launch_id)
    client = await _client(runtime, team_id)
    if body.owner and body.owner != launch.owner:
        await check_users(client, [body.owner])
    if body.channel and body.channel != launch.channel:
        await _check_channel(client, body.channel)
    if await launch_service.update_launch(session=session, launch=launch, patch=body):
        await standups.drop_future_runs(session=session, launch=launch, now=utcnow())
    _wake_after_commit(session, runtime)
    return _detail(await launch_service.matrix(session=session, launch=launch))


@router.delete("/{launch_id}", status_code=204, responses=NOT_FOUND, summary="Remove a launch")
async def delete_launch(launch_id: ItemId, session: SessionDep, team_id: TeamDep) -> Response:
    """Remove the launch with its functions, standups and votes (its Slack channel stays)."""
    await launch_service.delete_launch(session=session, launch=await _launch(session, team_id, launch_id))
    return Response(status_code=204)


@router.get(
    "/{launch_id}/functions", response_model=Page[FunctionOut], responses=NOT_FOUND, summary="Sign-off matrix"
)
async def list_functions(launch_id: ItemId, session: SessionDep, team_id: TeamDep) -> Page[FunctionOut]:
    launch = await _launch(session, team_id, launch_id)
    functions = await launch_functions.functions_of(session=session, launch_id=launch.id)
    return Page[FunctionOut](items=[FunctionOut.model_validate(f) for f in functions])


@router.post(
    "/{launch_id}/functions",
    response_model=FunctionOut,
    status_code=201,
    responses=NOT_FOUND,
    summary="Add a function",
)
async def add_function(
    launch_id: ItemId, body: FunctionIn, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> FunctionOut:
    """Add a sign-off row; without an owner, the owner of the matching ownership area is used."""
    launch = await _launch(session, team_id, launch_id)
    if body.owner:
        await check_users(await _client(runtime, team_id), [body.owner])
    function = await launch_functions.add_function(
        session=session, cache=runtime.area_cache, launch=launch, data=body, by=None
    )
    return FunctionOut.model_validate(function)


@router.patch(
    "/{launch_id}/functions/{function_id}",
    response_model=FunctionOut,
    responses=NOT_FOUND,
    summary="Change a function",
)
async def update_function(
    launch_id: ItemId,
    function_id: ItemId,
    body: FunctionPatch,
    session: SessionDep,
    runtime: RuntimeDep,
    team_id: TeamDep,
) -> FunctionOut:
    """Rename, reassign, or set status and note; a new Blocked alerts the launch owner."""
    launch = await _launch(session, team_id, launch_id)
    function = await _function(session, launch, function_id)
    if body.owner and body.owner != function.owner:
        await check_users(await _client(runtime, team_id), [body.owner])
    if "name" in body.model_fields_set or "owner" in body.model_fields_set:
        await launch_functions.update_function(
            session=session,
            function=function,
            patch=FunctionPatch.model_validate(
                body.model_dump(include={"name", "owner"}, exclude_unset=True)
            ),
            by=None,
        )
    if body.status is not None or body.note is not None:
        outcome = await answers.record_answer(
            session=session,
            function=function,
            status=body.status or function.status,
            note=body.note,
            by=function.owner or launch.owner,
            count_as_answer=False,
        )
        if outcome.alerted:
            _wake_after_commit(session, runtime)
    return FunctionOut.model_validate(function)


@router.delete(
    "/{launch_id}/functions/{function_id}", status_code=204, responses=NOT_FOUND, summary="Remove a function"
)
async def delete_function(
    launch_id: ItemId, function_id: ItemId, session: SessionDep, team_id: TeamDep
) -> Response:
    launch = await _launch(session, team_id, launch_id)
    await launch_functions.delete_function(
        session=session, function=await _function(session, launch, function_id)
    )
    return Response(status_code=204)


@router.get(
    "/{launch_id}/standups", response_model=Page[StandupRunOut], responses=NOT_FOUND, summary="Standup runs"
)
async def list_standups(
    launch_id: ItemId, session: SessionDep, team_id: TeamDep, page: PageDep
) -> Page[StandupRunOut]:
    """Standup runs, newest first, with their score and how many answers they got."""
    launch = await _launch(session, team_id, launch_id)
    before = position_value(page, "before", int)
    runs = await summaries.runs_of(
        session=session, launch_id=launch.id, after_id=before, limit=page.limit + 1
    )
    counts = await summaries.response_counts(session=session, run_ids=[r.id for r in runs])
    next_cursor = page.next_cursor(runs, lambda run: {"before": run.id})
    items = [
        StandupRunOut.model_validate(
            {**StandupRunOut.model_validate(r).model_dump(), "responses": counts[r.id]}
        )
        for r in runs[: page.limit]
    ]
    return Page[StandupRunOut](items=items, next_cursor=next_cursor)


@router.post(
    "/{launch_id}/standups",
    response_model=StandupRunOut,
    status_code=202,
    responses=NOT_FOUND,
    summary="Run a standup now",
)
async def start_standup(
    launch_id: ItemId, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> StandupRunOut:
    """Prompt every function owner now; the summary follows after the launch's cut-off delay."""
    launch = await _launch(session, team_id, launch_id)
    run = await standups.start_manual_run(session=session, launch=launch, now=utcnow(), by="api")
    _wake_after_commit(session, runtime)
    return StandupRunOut.model_validate(run)


async def _decision_out(session: AsyncSession, decision: GoNoGoDecision) -> DecisionOut:
    votes = await launch_gonogo.votes_of(session=session, decision_id=decision.id)
    return DecisionOut(
        id=decision.id,
        round=decision.round,
        status=decision.status,
        result=decision.result,
        trigger=decision.trigger,
        voters=decision.voters,
        votes=[
            VoteOut(voter=v.voter, vote=v.vote, reason=v.reason, voted_at=v.voted_at) for v in votes.values()
        ],
        channel=decision.channel,
        message_ts=decision.message_ts,
        created_at=decision.created_at,
        decided_at=decision.decided_at,
    )


@router.get(
    "/{launch_id}/gonogo", response_model=Page[DecisionOut], responses=NOT_FOUND, summary="Go/no-go votes"
)
async def list_decisions(launch_id: ItemId, session: SessionDep, team_id: TeamDep) -> Page[DecisionOut]:
    launch = await _launch(session, team_id, launch_id)
    decisions = await launch_gonogo.decisions_of(session=session, launch_id=launch.id)
    return Page[DecisionOut](items=[await _decision_out(session, d) for d in decisions])


@router.post(
    "/{launch_id}/gonogo",
    response_model=DecisionOut,
    status_code=202,
    responses=NOT_FOUND,
    summary="Open a go/no-go vote",
)
async def open_decision(
    launch_id: ItemId, session: SessionDep, runtime: RuntimeDep, team_id: TeamDep
) -> DecisionOut:
    """Post a vote to the launch channel; every function owner votes Go or No-go with a reason."""
    launch = await _launch(session, team_id, launch_id)
    decision = await launch_gonogo.open_vote(session=session, launch=launch, by=None)
    _wake_after_commit(session, runtime)
    return await _decision_out(session, decision)
