"""The New launch modal, from `/launch new` or the shortcut: details, then owners guessed from the
ownership directory, then the launch, its channel and the invitations."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.posting import post_once
from bot.core.text import channel_mention, escape_mrkdwn
from bot.core.uow import slack_unit_of_work
from bot.launches import calendar
from bot.launches import launches as launch_service
from bot.launches.functions import DEFAULT_TEMPLATE, functions_of, guess_owners, template_functions
from bot.launches.schema import MAX_FUNCTIONS, FunctionIn, LaunchIn, launch_slug
from bot.launches.slack import create_launch_channel, invite_to_channel, join_channel
from bot.launches.views.matrix import LaunchId, launch_created_text, launch_intro_blocks
from bot.launches.views.modals import (
    WORKING,
    LaunchDraft,
    create_modal,
    message_modal,
    owner_block_id,
    owners_modal,
)
from bot.slack.blocks import as_dicts
from bot.slack.workspace import workspace_of
from handlers.common import input_state, input_text, selected_value, state_values

log = logging.getLogger(__name__)

# Slack's limit on a view's private_metadata.
METADATA_LIMIT = 3000


async def open_create_modal(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    *,
    trigger_id: str,
    user_id: str,
    origin_channel: str | None,
) -> None:
    timezone = context["settings"].switchboard_timezone
    try:
        profile = await client.users_info(user=user_id)
        timezone = (profile.get("user") or {}).get("tz") or timezone
    except SlackApiError as exc:
        log.info(
            "users.info for %s failed (%s); using the default timezone", user_id, exc.response.get("error")
        )
    await client.views_open(
        trigger_id=trigger_id,
        view=create_modal(owner=user_id, timezone=timezone, origin_channel=origin_channel),
    )


async def new_launch_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    await open_create_modal(
        client, context, trigger_id=body["trigger_id"], user_id=body["user"]["id"], origin_channel=None
    )


def _function_names(text: str | None, template: str) -> list[str]:
    names: dict[str, str] = {}
    for line in (text or "").splitlines():
        name = line.strip().lstrip("-•*").strip()
        if name:
            names.setdefault(name.lower(), name)
    return list(names.values()) or list(template_functions(template))


def _draft_from(view: dict[str, Any]) -> tuple[LaunchDraft | None, dict[str, str]]:
    """Step one's values, or errors keyed by block id."""
    values = state_values(view)
    errors: dict[str, str] = {}
    name = input_text(values, LaunchId.NAME_BLOCK, LaunchId.NAME).strip()
    if not name:
        errors[LaunchId.NAME_BLOCK] = "Give the launch a name."
    raw_date = input_state(values, LaunchId.TARGET_BLOCK, LaunchId.TARGET).get("selected_date")
    target: date | None = None
    try:
        target = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        target = None
    if target is None:
        errors[LaunchId.TARGET_BLOCK] = "Pick the target date."
    timezone = (input_text(values, LaunchId.TIMEZONE_BLOCK, LaunchId.TIMEZONE) or "UTC").strip()
    try:
        calendar.zone_of(timezone)
    except calendar.CalendarError as exc:
        errors[LaunchId.TIMEZONE_BLOCK] = str(exc)
    country = input_text(values, LaunchId.COUNTRY_BLOCK, LaunchId.COUNTRY).strip() or None
    try:
        country, _ = calendar.check_country(country)
    except calendar.CalendarError as exc:
        errors[LaunchId.COUNTRY_BLOCK] = str(exc)
    if target is not None and LaunchId.TIMEZONE_BLOCK not in errors:
        try:
            launch_service.check_target_date(target, timezone=timezone)
        except UserError as exc:
            errors[LaunchId.TARGET_BLOCK] = str(exc)
    days = [
        int(o["value"])
        for o in input_state(values, LaunchId.DAYS_BLOCK, LaunchId.DAYS).get("selected_options") or []
    ]
    if not days:
        errors[LaunchId.DAYS_BLOCK] = "Pick at least one standup day."
    template = selected_value(values, LaunchId.TEMPLATE_BLOCK, LaunchId.TEMPLATE) or DEFAULT_TEMPLATE
    functions = _function_names(input_text(values, LaunchId.FUNCTIONS_BLOCK, LaunchId.FUNCTIONS), template)
    if len(functions) > MAX_FUNCTIONS or any(len(f) > 100 for f in functions):
        errors[LaunchId.FUNCTIONS_BLOCK] = f"Up to {MAX_FUNCTIONS} functions of at most 100 characters each."
    if errors or target is None:
        return None, errors
    draft = LaunchDraft(
        name=name,
        target_date=target,
        channel=input_state(values, LaunchId.CHANNEL_BLOCK, LaunchId.CHANNEL).get("selected_conversation"),
        owner=input_state(values, LaunchId.OWNER_BLOCK, LaunchId.OWNER).get("selected_user") or "",
        template=template,
        functions=functions,
        weekdays=sorted(set(days)),
        time=input_state(values, LaunchId.TIME_BLOCK, LaunchId.TIME).get("selected_time") or "09:00",
        timezone=timezone,
        country=country,
        origin_channel=view.get("private_metadata") or None,
    )
    if len(draft.model_dump_json()) > METADATA_LIMIT:
        return None, {LaunchId.FUNCTIONS_BLOCK: "Too much text for one form: shorten the function names."}
    return draft, {}


async def submit_details(
    ack: AsyncAck, view: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Step one done: check it, then show step two with owners guessed from the directory."""
    draft, errors = _draft_from(view)
    if draft is None:
        await ack(response_action="errors", errors=errors)
        return
    team_id = workspace_of(context)
    async with slack_unit_of_work(context) as session:
        if await launch_service.slug_taken(session=session, team_id=team_id, slug=launch_slug(draft.name)):
            await ack(
                response_action="errors",
                errors={LaunchId.NAME_BLOCK: "A launch with this name already exists; pick another name."},
            )
            return
        guesses = await guess_owners(
            session=session, cache=context["area_cache"], team_id=team_id, names=draft.functions
        )
    await ack(response_action="update", view=owners_modal(draft, guesses))


async def submit_owners(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Step two done: create the launch, its channel and the invitations, then say what happened."""
    draft = LaunchDraft.model_validate_json(view.get("private_metadata") or "{}")
    values = state_values(view)
    owners = [
        input_state(values, owner_block_id(i), LaunchId.FUNCTION_OWNER).get("selected_user")
        for i in range(len(draft.functions))
    ]
    try:
        data = LaunchIn(
            name=draft.name,
            target_date=draft.target_date,
            owner=draft.owner,
            channel=draft.channel,
            functions=[FunctionIn(name=n, owner=o) for n, o in zip(draft.functions, owners, strict=True)],
            standup_weekdays=draft.weekdays,
            standup_time=draft.time,
            timezone=draft.timezone,
            holiday_country=draft.country,
        )
    except ValidationError as exc:
        await ack(response_action="errors", errors={owner_block_id(0): str(exc.errors()[0]["msg"])})
        return
    await ack(response_action="update", view=message_modal("New launch", WORKING))
    user_id, team_id, view_id = body["user"]["id"], workspace_of(context), view["id"]
    try:
        text = await create_from_slack(client, context, team_id=team_id, user_id=user_id, data=data)
    except UserError as exc:
        text = f":warning: The launch was not created: {exc}"
    try:
        await client.views_update(view_id=view_id, view=message_modal("New launch", text))
    except SlackApiError:
        # The person closed the modal already; tell them in a DM instead.
        await client.chat_postMessage(channel=user_id, text=text)
    context["runtime"].wake_scheduler()


async def create_from_slack(
    client: AsyncWebClient, context: AsyncBoltContext, *, team_id: str, user_id: str, data: LaunchIn
) -> str:
    """Create the launch, then its channel (or join the chosen one), invite everyone, post the matrix."""
    async with slack_unit_of_work(context) as session:
        launch = await launch_service.create_launch(
            session=session,
            cache=context["area_cache"],
            team_id=team_id,
            data=data,
            default_timezone=context["settings"].switchboard_timezone,
            created_by=user_id,
        )
        launch_id = launch.id
        people = [launch.owner, user_id] + [
            f.owner for f in await functions_of(session=session, launch_id=launch_id) if f.owner
        ]
    problems: list[str] = []
    channel = data.channel
    if channel is None:
        try:
            channel, _name = await create_launch_channel(client, slug=launch.slug)
        except UserError as exc:
            problems.append(str(exc))
    else:
        await join_channel(client, channel=channel)
    if channel is not None:
        problems += [
            f"could not invite {p}" for p in await invite_to_channel(client, channel=channel, user_ids=people)
        ]
    async with slack_unit_of_work(context) as session:
        launch = await launch_service.get_launch(session=session, team_id=team_id, launch_id=launch_id)
        launch.channel = channel
        board = await launch_service.matrix(session=session, launch=launch)
        confirmation = launch_created_text(launch, board.functions, problems)
    if channel is not None:
        try:
            await post_once(
                client,
                channel=channel,
                key=f"launch-intro:{launch_id}",
                text=f"This channel tracks the launch of {escape_mrkdwn(launch.name)}",
                blocks=as_dicts(launch_intro_blocks(board, user_id)),
            )
        except SlackApiError as exc:
            confirmation += (
                f"\n:warning: Could not post in {channel_mention(channel)}: {exc.response.get('error')}."
            )
    return confirmation


def register(app: AsyncApp) -> None:
    app.shortcut(LaunchId.NEW_SHORTCUT)(new_launch_shortcut)
    app.view(LaunchId.CREATE_MODAL)(submit_details)
    app.view(LaunchId.OWNERS_MODAL)(submit_owners)
