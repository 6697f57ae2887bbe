"""Go/no-go votes: the Go and No-go buttons, and the modal asking why."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.permissions import may_vote, require
from bot.core.uow import slack_unit_of_work
from bot.launches import gonogo as launch_gonogo
from bot.launches import launches as launch_service
from bot.launches.views.gonogo import vote_blocks, vote_text
from bot.launches.views.matrix import LaunchId
from bot.launches.views.modals import VoteMetadata, vote_modal
from bot.slack.blocks import as_dicts
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import input_text, state_values
from models.launch import Launch, Vote


async def open_vote_modal(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Go / No-go clicked: function owners get the reason modal, anyone else an explanation."""
    await ack()
    vote = Vote(action["action_id"].split(":", 1)[1])
    decision_id = int(action["value"])
    user_id = body["user"]["id"]
    async with slack_unit_of_work(context) as session:
        decision = await launch_gonogo.get_decision(
            session=session, team_id=workspace_of(context), decision_id=decision_id
        )
        launch = await session.get(Launch, decision.launch_id)
        assert launch is not None
        require(may_vote(await actor_of(context, user_id), launch, decision.voters))
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
    user_id, team_id = body["user"]["id"], workspace_of(context)
    try:
        async with slack_unit_of_work(context) as session:
            decision = await launch_gonogo.get_decision(
                session=session, team_id=team_id, decision_id=metadata.decision_id
            )
            launch = await session.get(Launch, decision.launch_id)
            assert launch is not None
            require(may_vote(await actor_of(context, user_id), launch, decision.voters))
            outcome = await launch_gonogo.record_vote(
                session=session,
                team_id=team_id,
                decision_id=metadata.decision_id,
                voter=user_id,
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
            channel=channel, ts=ts, text=vote_text(tally, board), blocks=as_dicts(vote_blocks(tally, board))
        )
    if outcome.decided_now:
        context["runtime"].wake_scheduler()


def register(app: AsyncApp) -> None:
    app.action(re.compile(f"^{LaunchId.VOTE}:"))(open_vote_modal)
    app.view(LaunchId.VOTE_MODAL)(submit_vote)
