"""`/launch`: the subcommands, each answered ephemerally (`new` opens the creation modal)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.analytics.launch_queries import readiness_histories
from bot.analytics.slack import attach_charts, has_charts
from bot.core.errors import UserError
from bot.core.permissions import may_run_launch, require
from bot.core.text import channel_mention, escape_mrkdwn, plural
from bot.core.uow import slack_unit_of_work
from bot.launches import calendar, standups
from bot.launches import gonogo as launch_gonogo
from bot.launches import launches as launch_service
from bot.launches.functions import functions_of, standup_recipients
from bot.launches.views.charts import readiness_trend
from bot.launches.views.gonogo import readiness_gap
from bot.launches.views.matrix import LaunchId, launch_list_blocks, matrix_blocks, matrix_text, usage
from bot.slack.blocks import as_dicts
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import HELP_WORDS, ack_ephemeral, split_command
from handlers.launches.away import away_answer
from handlers.launches.create import open_create_modal
from models.base import utcnow

SUBCOMMANDS = ("new", "list", "status", "standup", "gonogo", "away", "back")


async def launch_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    sub, rest = split_command(command.get("text"))
    if sub in HELP_WORDS or sub not in SUBCOMMANDS:
        lead = "" if sub in HELP_WORDS else f"I don't know `/launch {escape_mrkdwn(sub)}`.\n"
        await ack_ephemeral(
            ack, lead + "Usage: /launch new|list|status|standup|gonogo|away|back", as_dicts(usage())
        )
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
    if sub in ("away", "back"):
        text, blocks = await away_answer(sub, rest, command=command, context=context), None
    else:
        text, blocks = await _answer(sub, rest, command=command, context=context)
    if blocks and has_charts(blocks):
        # Drawing and uploading a chart can outlast Slack's 3 s: acknowledge, then answer.
        await ack()
        attached, _ = await attach_charts(client, blocks, team_id=workspace_of(context))
        await respond(text=text, blocks=as_dicts(attached), response_type="ephemeral")
    else:
        await ack_ephemeral(ack, text, as_dicts(blocks) if blocks else None)
    context["runtime"].wake_scheduler()


async def _answer(
    sub: str, query: str, *, command: dict[str, Any], context: AsyncBoltContext
) -> tuple[str, list[Block] | None]:
    team_id, user_id = workspace_of(context), command["user_id"]
    now = utcnow()
    # Asked before the session opens: it may call users.info.
    actor = await actor_of(context, user_id) if sub in ("standup", "gonogo") else None
    async with slack_unit_of_work(context) as session:
        if sub == "list":
            rows = []
            for launch in await launch_service.launches_by_target(session=session, team_id=team_id):
                board = await launch_service.matrix(session=session, launch=launch, now=now)
                rows.append((launch, board.score, board.days_to_launch))
            return plural(len(rows), "live launch", "live launches"), launch_list_blocks(rows)
        if not query:
            raise UserError(f"Say which launch, for example `/launch {sub} checkout-v2`.")
        launch = await launch_service.resolve_launch(session=session, team_id=team_id, query=query)
        if sub == "status":
            board = await launch_service.matrix(session=session, launch=launch, now=now)
            today = calendar.local_date(now, calendar.zone_of(launch.timezone))
            history = await readiness_histories(
                session=session, team_id=team_id, launch_ids=[launch.id], until=today
            )
            trend_chart = readiness_trend(launch=launch, history=history.get(launch.id, []), today=today)
            return matrix_text(board), matrix_blocks(board, trend_chart=trend_chart)
        assert actor is not None
        require(may_run_launch(actor, launch))
        if sub == "standup":
            run = await standups.start_manual_run(session=session, launch=launch, now=now, by=user_id)
            owners = standup_recipients(await functions_of(session=session, launch_id=launch.id), launch)
            return (
                f":clipboard: Started a readiness standup for *{escape_mrkdwn(launch.name)}*: a DM goes to "
                f"{plural(len(owners), 'function owner')} now; the summary goes to "
                f"{channel_mention(launch.channel)} "
                f"after {launch.cutoff_after_minutes} minutes (run {run.id}).",
                None,
            )
        decision = await launch_gonogo.open_vote(session=session, launch=launch, by=user_id)
        gap = readiness_gap(await launch_service.matrix(session=session, launch=launch, now=now))
        return (
            f":vertical_traffic_light: Opened a go/no-go vote for *{escape_mrkdwn(launch.name)}* in "
            f"{channel_mention(launch.channel)}: voters: {plural(len(decision.voters), 'function owner')}."
            + (f"\n:warning: {gap}." if gap else ""),
            None,
        )


def register(app: AsyncApp) -> None:
    app.command(LaunchId.COMMAND)(launch_command)
