"""`/launch`, the New launch shortcut, standup answers and go/no-go votes."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.posting import post_once
from bot.core.text import channel_mention, escape_mrkdwn
from bot.core.uow import session_factory_of, slack_unit_of_work
from bot.launches import calendar, standups
from bot.launches import gonogo as launch_gonogo
from bot.launches import launches as launch_service
from bot.launches.schema import MAX_FUNCTIONS, FunctionIn, LaunchIn, launch_slug
from bot.launches.slack import create_launch_channel, invite_to_channel, join_channel
from bot.launches.views.gonogo import vote_blocks, vote_text
from bot.launches.views.matrix import (
    LaunchId,
    launch_created_text,
    launch_intro_blocks,
    launch_list_blocks,
    matrix_blocks,
    matrix_text,
    usage,
)
from bot.launches.views.modals import (
    WORKING,
    LaunchDraft,
    NoteMetadata,
    VoteMetadata,
    create_modal,
    message_modal,
    note_modal,
    owner_block_id,
    owners_modal,
    vote_modal,
)
from bot.launches.views.standup import (
    my_launches_section,
    parse_answer_value,
    pending_signoffs_section,
    prompt_blocks,
    prompt_text,
)
from bot.slack.blocks import as_dicts
from handlers.common import (
    HELP_WORDS,
    ack_ephemeral,
    input_state,
    input_text,
    selected_value,
    split_command,
    state_values,
)
from handlers.home import home_section, publish_home
from models.base import utcnow
from models.launch import Launch, StandupRun, Vote

log = logging.getLogger(__name__)

SUBCOMMANDS = ("new", "list", "status", "standup", "gonogo")
# Slack's limit on a view's private_metadata.
METADATA_LIMIT = 3000


def _team_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("team_id") or (body.get("team") or {}).get("id") or "")


async def launch_command(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    sub, rest = split_command(command.get("text"))
    if sub in HELP_WORDS or sub not in SUBCOMMANDS:
        lead = "" if sub in HELP_WORDS else f"I don't know `/launch {escape_mrkdwn(sub)}`.\n"
        await ack_ephemeral(ack, lead + "Usage: /launch new|list|status|standup|gonogo", as_dicts(usage()))
        return
    if sub == "new":
        await ack()
        await open_create_modal(
            client,
            context,
            trigger_id=command["trigger_id"],
            user_id=command["user_id"],
            origin_channel=command.get("channel_id"),
        )
        return
    try:
        text, blocks = await _answer(sub, rest, command=command, context=context)
    except UserError as exc:
        await ack_ephemeral(ack, f":warning: {exc}")
        return
    await ack_ephemeral(ack, text, blocks)
    context["runtime"].wake_scheduler()


async def _answer(
    sub: str, query: str, *, command: dict[str, Any], context: AsyncBoltContext
) -> tuple[str, list[Any] | None]:
    team_id, user_id = command["team_id"], command["user_id"]
    now = utcnow()
    async with slack_unit_of_work(context) as session:
        if sub == "list":
            rows = []
            for launch in await launch_service.launches_by_target(session=session, team_id=team_id):
                board = await launch_service.matrix(session=session, launch=launch, now=now)
                rows.append((launch, board.score, board.days_to_launch))
            return f"{len(rows)} live launch(es)", as_dicts(launch_list_blocks(rows))
        if not query:
            raise UserError(f"Say which launch, for example `/launch {sub} checkout-v2`.")
        launch = await launch_service.resolve_launch(session=session, team_id=team_id, query=query)
        if sub == "status":
            board = await launch_service.matrix(session=session, launch=launch, now=now)
            return matrix_text(board), as_dicts(matrix_blocks(board))
        if sub == "standup":
            run = await standups.start_manual_run(session=session, launch=launch, now=now, by=user_id)
            owners = {
                f.owner for f in await launch_service.functions_of(session=session, launch_id=launch.id)
            }
            owners.discard(None)
            return (
                f":clipboard: Started a readiness standup for *{escape_mrkdwn(launch.name)}*: {len(owners)} "
                f"function owner(s) get a DM now; the summary goes to {channel_mention(launch.channel)} "
                f"after {launch.cutoff_after_minutes} minutes (run {run.id}).",
                None,
            )
        decision = await launch_gonogo.open_vote(session=session, launch=launch, by=user_id)
        return (
            f":vertical_traffic_light: Opened a go/no-go vote for *{escape_mrkdwn(launch.name)}* in "
            f"{channel_mention(launch.channel)}: {len(decision.voters)} function owner(s) vote.",
            None,
        )


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
    return list(names.values()) or list(launch_service.template_functions(template))


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
    template = (
        selected_value(values, LaunchId.TEMPLATE_BLOCK, LaunchId.TEMPLATE) or launch_service.DEFAULT_TEMPLATE
    )
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
    team_id = _team_of(body)
    async with slack_unit_of_work(context) as session:
        if await launch_service.slug_taken(session=session, team_id=team_id, slug=launch_slug(draft.name)):
            await ack(
                response_action="errors",
                errors={LaunchId.NAME_BLOCK: "A launch with this name already exists; pick another name."},
            )
            return
        guesses = await launch_service.guess_owners(
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
    user_id, team_id, view_id = body["user"]["id"], _team_of(body), view["id"]
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
            f.owner
            for f in await launch_service.functions_of(session=session, launch_id=launch_id)
            if f.owner
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


async def _answerable(
    session: AsyncSession, *, team_id: str, function_id: int, user_id: str
) -> tuple[Any, Launch]:
    """The function and its launch, when `user_id` may answer for the function; else a UserError."""
    function = await launch_service.get_function(session=session, team_id=team_id, function_id=function_id)
    launch = await session.get(Launch, function.launch_id)
    assert launch is not None
    _check_may_answer(function, launch, user_id)
    return function, launch


def _check_may_answer(function: Any, launch: Launch, user_id: str) -> None:
    if not standups.may_answer(function=function, launch=launch, user_id=user_id):
        owner = f"<@{function.owner}>" if function.owner else "nobody yet"
        raise UserError(
            f"Only the owner of *{escape_mrkdwn(function.name)}* ({owner}) or the launch owner "
            f"<@{launch.owner}> can update it."
        )


async def answer_status(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """A status button in a standup DM or the App Home: update the matrix, then the message."""
    await ack()
    try:
        await _answer_status(action, body, respond, context)
    except UserError as exc:
        await _explain(body, respond, context, str(exc))


async def _explain(body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext, text: str) -> None:
    """Say what went wrong where the person clicked: ephemerally under a message, else by DM."""
    if (body.get("container") or {}).get("type") == "message" and body.get("response_url"):
        await respond(text=f":warning: {text}", response_type="ephemeral", replace_original=False)
    else:
        await context.client.chat_postMessage(channel=body["user"]["id"], text=f":warning: {text}")


async def _answer_status(
    action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    status = action["action_id"].split(":", 1)[1]
    run_id, function_id = parse_answer_value(action["value"])
    user_id, team_id = body["user"]["id"], _team_of(body)
    async with slack_unit_of_work(context) as session:
        function, launch = await _answerable(
            session, team_id=team_id, function_id=function_id, user_id=user_id
        )
        outcome = await standups.record_answer(
            session=session, function=function, status=status, by=user_id, run_id=run_id
        )
        shown_run = await session.get(StandupRun, run_id) if run_id else None
        data = await standups.prompt_data(session=session, launch=launch, run=shown_run, user_id=user_id)
    if outcome.alerted:
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
    return my_launches_section(boards, user_id)


@home_section("signoffs", title="My pending sign-offs", order=20)
async def my_pending_signoffs(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    owned = await launch_service.functions_owned_by(session=session, team_id=team_id, user_id=user_id)
    return pending_signoffs_section([(f, launch) for f, launch in owned if launch_service.pending_signoff(f)])


async def open_note(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    try:
        await _open_note(action, body, client, context)
    except UserError as exc:
        await _explain(body, respond, context, str(exc))


async def _open_note(
    action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    run_id, function_id = parse_answer_value(action["value"])
    user_id = body["user"]["id"]
    async with slack_unit_of_work(context) as session:
        function, launch = await _answerable(
            session, team_id=_team_of(body), function_id=function_id, user_id=user_id
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
    user_id, team_id = body["user"]["id"], _team_of(body)
    try:
        async with slack_unit_of_work(context) as session:
            function, launch = await _answerable(
                session, team_id=team_id, function_id=metadata.function_id, user_id=user_id
            )
            await standups.record_answer(
                session=session,
                function=function,
                status=function.status,
                note=note,
                by=user_id,
                run_id=metadata.run_id,
            )
            run = await session.get(StandupRun, metadata.run_id) if metadata.run_id else None
            data = await standups.prompt_data(session=session, launch=launch, run=run, user_id=user_id)
    except UserError as exc:
        await ack(response_action="errors", errors={LaunchId.NOTE_BLOCK: str(exc)})
        return
    await ack()
    if metadata.channel and metadata.ts:
        await client.chat_update(
            channel=metadata.channel,
            ts=metadata.ts,
            text=prompt_text(data),
            blocks=as_dicts(prompt_blocks(data)),
        )
    else:
        await refresh_home(context, user_id=user_id, team_id=team_id)


async def open_vote_modal(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Go / No-go clicked: function owners get the reason modal, anyone else an explanation."""
    await ack()
    try:
        await _open_vote_modal(action, body, client, context)
    except UserError as exc:
        await _explain(body, respond, context, str(exc))


async def _open_vote_modal(
    action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    vote = Vote(action["action_id"].split(":", 1)[1])
    decision_id = int(action["value"])
    user_id = body["user"]["id"]
    async with slack_unit_of_work(context) as session:
        decision = await launch_gonogo.get_decision(
            session=session, team_id=_team_of(body), decision_id=decision_id
        )
        launch = await session.get(Launch, decision.launch_id)
        assert launch is not None
        launch_gonogo.check_voter(decision, launch, user_id)
        launch_gonogo.check_open(decision, launch)
    metadata = VoteMetadata(decision_id=decision_id, vote=vote)
    await client.views_open(
        trigger_id=body["trigger_id"], view=vote_modal(launch_name=launch.name, metadata=metadata)
    )


async def submit_vote(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    metadata = VoteMetadata.model_validate_json(view.get("private_metadata") or "{}")
    reason = input_text(state_values(view), LaunchId.REASON_BLOCK, LaunchId.REASON).strip()
    if not reason:
        await ack(response_action="errors", errors={LaunchId.REASON_BLOCK: "Say why, in a few words."})
        return
    try:
        async with slack_unit_of_work(context) as session:
            outcome = await launch_gonogo.record_vote(
                session=session,
                team_id=_team_of(body),
                decision_id=metadata.decision_id,
                voter=body["user"]["id"],
                vote=metadata.vote,
                reason=reason,
            )
            tally = await launch_gonogo.tally(session=session, decision=outcome.decision)
            board = await launch_service.matrix(session=session, launch=tally.launch)
            channel, ts = outcome.decision.channel, outcome.decision.message_ts
    except UserError as exc:
        await ack(response_action="errors", errors={LaunchId.REASON_BLOCK: str(exc)})
        return
    await ack()
    if channel and ts:
        await client.chat_update(
            channel=channel, ts=ts, text=vote_text(tally), blocks=as_dicts(vote_blocks(tally, board))
        )
    if outcome.decided_now:
        context["runtime"].wake_scheduler()


def register(app: AsyncApp) -> None:
    app.command(LaunchId.COMMAND)(launch_command)
    app.shortcut(LaunchId.NEW_SHORTCUT)(new_launch_shortcut)
    app.view(LaunchId.CREATE_MODAL)(submit_details)
    app.view(LaunchId.OWNERS_MODAL)(submit_owners)
    app.action(re.compile(f"^{LaunchId.STATUS}:"))(answer_status)
    app.action(LaunchId.NOTE)(open_note)
    app.view(LaunchId.NOTE_MODAL)(submit_note)
    app.action(re.compile(f"^{LaunchId.VOTE}:"))(open_vote_modal)
    app.view(LaunchId.VOTE_MODAL)(submit_vote)
