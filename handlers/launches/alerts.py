"""The buttons on a Blocked alert: "Open launch status" answers with the sign-off matrix, only for
the person who clicked; "Message <owner>" is a link Slack opens itself, so it is only acknowledged."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.core.errors import UserError
from bot.core.uow import slack_unit_of_work
from bot.launches import launches as launch_service
from bot.launches.views.matrix import LaunchId, matrix_blocks, matrix_text
from bot.slack.blocks import as_dicts
from bot.slack.workspace import workspace_of


async def open_launch_status(
    ack: AsyncAck,
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Like `/launch status`: anyone in the launch's workspace may look, nothing is written."""
    await ack()
    value = str(action.get("value") or "")
    if not value.isdigit():
        raise UserError("That launch no longer exists.")
    async with slack_unit_of_work(context) as session:
        launch = await launch_service.get_launch(
            session=session, team_id=workspace_of(context), launch_id=int(value)
        )
        board = await launch_service.matrix(session=session, launch=launch)
    await respond(
        text=matrix_text(board),
        blocks=as_dicts(matrix_blocks(board)),
        response_type="ephemeral",
        replace_original=False,
    )


async def message_owner(ack: AsyncAck) -> None:
    # A link button still sends an action; Slack shows an error unless it is acknowledged.
    await ack()


def register(app: AsyncApp) -> None:
    app.action(LaunchId.OPEN_STATUS)(open_launch_status)
    app.action(LaunchId.MESSAGE_OWNER)(message_owner)
