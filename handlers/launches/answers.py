"""Standup answers: the status buttons and the note modal, from a standup DM or the App Home, and
the App Home's launch sections they appear in."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.analytics.launch_queries import readiness_histories
from bot.core.errors import UserError
from bot.core.permissions import may_answer_function, require
from bot.core.uow import session_factory_of, slack_unit_of_work
from bot.launches import answers
from bot.launches import launches as launch_service
from bot.launches.functions import get_function, pending_signoff
from bot.launches.views.charts import readiness_sparklines
from bot.launches.views.matrix import LaunchId
from bot.launches.views.modals import NoteMetadata, note_modal
from bot.launches.views.standup import (
    my_launches_section,
    parse_answer_value,
    pending_signoffs_section,
    prompt_blocks,
    prompt_text,
)
from bot.slack.blocks import as_dicts
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import input_text, state_values
from handlers.home import home_section, publish_home
from models.launch import Launch, LaunchFunction, StandupRun


async def _answerable(
    session: AsyncSession, context: AsyncBoltContext, *, team_id: str, function_id: int, user_id: str
) -> tuple[LaunchFunction, Launch]:
    """The function and its launch, when the policy lets `user_id` answer for it; else `Refused`."""
    function = await get_function(session=session, team_id=team_id, function_id=function_id)
    launch = await session.get(Launch, function.launch_id)
    assert launch is not None
    require(may_answer_function(await actor_of(context, user_id), launch, function))
    return function, launch


async def answer_status(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """A status button in a standup DM or the App Home: update the matrix, then the message."""
    await ack()
    await _answer_status(action, body, respond, context)


async def _answer_status(
    action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    status = action["action_id"].split(":", 1)[1]
    run_id, function_id = parse_answer_value(action["value"])
    user_id, team_id = body["user"]["id"], workspace_of(context)
    async with slack_unit_of_work(context) as session:
        function, launch = await _answerable(
            session, context, team_id=team_id, function_id=function_id, user_id=user_id
        )
        outcome = await answers.record_answer(
            session=session, function=function, status=status, by=user_id, run_id=run_id
        )
        shown_run = await session.get(StandupRun, run_id) if run_id else None
        data = await answers.prompt_data(session=session, launch=launch, run=shown_run, user_id=user_id)
    if outcome.alerted or outcome.summary_updated:
        context["runtime"].wake_scheduler()
    container = body.get("container") or {}
    if container.get("type") == "message":
        reminder = _is_reminder(body)
        await respond(
            replace_original=True,
            text=prompt_text(data, reminder=reminder),
            blocks=as_dicts(prompt_blocks(data, reminder=reminder)),
        )
    else:
        await refresh_home(context, user_id=user_id, team_id=team_id)


def _is_reminder(body: dict[str, Any]) -> bool:
    """Whether the clicked message is a reminder, so its edit keeps saying so."""
    return ":bell:" in str((body.get("message") or {}).get("blocks") or "")


async def refresh_home(context: AsyncBoltContext, *, user_id: str, team_id: str) -> None:
    """Re-render the App Home after a change made from it."""
    await publish_home(
        context.client, session_factory=session_factory_of(context), team_id=team_id, user_id=user_id
    )


@home_section("launches", title="My launches", order=10)
async def my_launches(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    launches = await launch_service.launches_involving(session=session, team_id=team_id, user_id=user_id)
    boards = [await launch_service.matrix(session=session, launch=launch) for launch in launches]
    histories = await readiness_histories(
        session=session, team_id=team_id, launch_ids=[launch.id for launch in launches]
    )
    sparklines = readiness_sparklines([(launch, histories.get(launch.id, [])) for launch in launches])
    return [*my_launches_section(boards, user_id), *sparklines]


@home_section("signoffs", title="My pending sign-offs", order=20)
async def my_pending_signoffs(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    owned = await launch_service.functions_owned_by(session=session, team_id=team_id, user_id=user_id)
    return pending_signoffs_section([(f, launch) for f, launch in owned if pending_signoff(f)])


async def open_note(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    run_id, function_id = parse_answer_value(action["value"])
    user_id = body["user"]["id"]
    async with slack_unit_of_work(context) as session:
        function, launch = await _answerable(
            session, context, team_id=workspace_of(context), function_id=function_id, user_id=user_id
        )
    container = body.get("container") or {}
    metadata = NoteMetadata(
        run_id=run_id,
        function_id=function_id,
        channel=container.get("channel_id") if container.get("type") == "message" else None,
        ts=container.get("message_ts") if container.get("type") == "message" else None,
    )
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=note_modal(
            function_name=function.name, launch_name=launch.name, note=function.note, metadata=metadata
        ),
    )


async def submit_note(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    metadata = NoteMetadata.model_validate_json(view.get("private_metadata") or "{}")
    note = input_text(state_values(view), LaunchId.NOTE_BLOCK, LaunchId.NOTE_INPUT).strip()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    try:
        async with slack_unit_of_work(context) as session:
            function, launch = await _answerable(
                session, context, team_id=team_id, function_id=metadata.function_id, user_id=user_id
            )
            outcome = await answers.record_answer(
                session=session,
                function=function,
                status=function.status,
                note=note,
                by=user_id,
                run_id=metadata.run_id,
                # A note is context for an answer, not one: the owner is still reminded.
                count_as_answer=False,
            )
            run = await session.get(StandupRun, metadata.run_id) if metadata.run_id else None
            data = await answers.prompt_data(session=session, launch=launch, run=run, user_id=user_id)
    except UserError as exc:
        await ack(response_action="errors", errors={LaunchId.NOTE_BLOCK: str(exc)})
        return
    await ack()
    if outcome.summary_updated:
        context["runtime"].wake_scheduler()
    if metadata.channel and metadata.ts:
        await client.chat_update(
            channel=metadata.channel,
            ts=metadata.ts,
            text=prompt_text(data),
            blocks=as_dicts(prompt_blocks(data)),
        )
    else:
        await refresh_home(context, user_id=user_id, team_id=team_id)


def register(app: AsyncApp) -> None:
    app.action(re.compile(f"^{LaunchId.STATUS}:"))(answer_status)
    app.action(LaunchId.NOTE)(open_note)
    app.view(LaunchId.NOTE_MODAL)(submit_note)
