"""Approval from Slack: Send for approval, and the approver's Approve / Request changes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.permissions import may_approve_release, may_submit_or_discard_release, require
from bot.core.uow import slack_unit_of_work
from bot.releases import approval as release_approval
from bot.releases import releases as release_service
from bot.releases import review as release_review
from bot.releases.views.approval import approval_answered, changes_modal
from bot.releases.views.ids import ReleaseId
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import input_text, state_values
from handlers.releases._common import _release_id, _wake
from models import ReleaseStatus

log = logging.getLogger(__name__)


async def send_for_approval(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, _ = _release_id(action)
    user = body["user"]["id"]
    actor = await actor_of(context, user)
    async with slack_unit_of_work(context) as session:
        team_id = workspace_of(context)
        current = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
        require(may_submit_or_discard_release(actor, current))
        release = await release_approval.submit_for_approval(
            session=session, team_id=team_id, release_id=release_id, by=user
        )
        approver = release.approver
    _wake(context)
    await respond(
        text=f":outbox_tray: Release #{release_id} is with <@{approver}> for approval; "
        "you'll hear back here.",
        replace_original=True,
    )


async def approve(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, revision, proposal = _approval_target(str(action.get("value") or ""))
    user = body["user"]["id"]
    actor = await actor_of(context, user)
    async with slack_unit_of_work(context) as session:
        answer = await release_review.approve(
            session=session,
            team_id=workspace_of(context),
            release_id=release_id,
            actor=actor,
            by=user,
            as_approver=True,
            revision=revision,
            proposal=proposal,
        )
        text = approval_answered(answer.release, approved=True, by=user, revised=answer.revised)
    _wake(context)
    await respond(text=text, replace_original=True)


async def open_request_changes(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, revision, _ = _approval_target(str(action.get("value") or ""))
    actor = await actor_of(context, body["user"]["id"])
    async with slack_unit_of_work(context) as session:
        release = await release_service.get_release(
            session=session, team_id=workspace_of(context), release_id=release_id
        )
        held = await release_review.held_change(session=session, release=release)
        if held is None and release.status != ReleaseStatus.PENDING_APPROVAL:
            raise UserError(f"Release #{release.id} is {release.status}; it is not waiting for approval.")
        require(may_approve_release(actor, release))
    container = body.get("container") or {}
    view = changes_modal(release, revision or release.revision)
    view.private_metadata = ":".join(
        [
            str(release.id),
            str(revision or ""),
            str(container.get("channel_id") or ""),
            str(container.get("message_ts") or ""),
        ]
    )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def submit_request_changes(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    release_id, revision, channel, ts = (
        str(view.get("private_metadata") or "").split(":") + ["", "", "", ""]
    )[:4]
    reason = input_text(state_values(view), ReleaseId.REASON_BLOCK, ReleaseId.REASON).strip()
    if not reason:
        await ack(response_action="errors", errors={ReleaseId.REASON_BLOCK: "Say what should change."})
        return
    user = body["user"]["id"]
    try:
        actor = await actor_of(context, user)
        async with slack_unit_of_work(context) as session:
            answer = await release_review.send_back(
                session=session,
                team_id=workspace_of(context),
                release_id=int(release_id),
                actor=actor,
                by=user,
                reason=reason,
            )
            text = approval_answered(answer.release, approved=False, by=user, revised=answer.revised)
    except UserError as exc:
        await ack(response_action="errors", errors={ReleaseId.REASON_BLOCK: str(exc)})
        return
    await ack()
    _wake(context)
    if channel and ts:
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=[])
        except SlackApiError as exc:
            log.info(
                "could not update the approval request %s/%s: %s", channel, ts, exc.response.get("error")
            )


def _approval_target(value: str) -> tuple[int, int | None, int | None]:
    """An approval button's `release:revision[:proposal]` (a proposal: a change to a posted release)."""
    head, _, rest = value.partition(":")
    revision, _, proposal = rest.partition(":")
    if not head.isdigit():
        raise UserError("That button no longer points at a release.")
    return (
        int(head),
        int(revision) if revision.isdigit() else None,
        int(proposal) if proposal.isdigit() else None,
    )


def register(app: AsyncApp) -> None:
    app.view(ReleaseId.CHANGES_MODAL)(submit_request_changes)
    app.action(ReleaseId.SUBMIT)(send_for_approval)
    app.action(ReleaseId.APPROVE)(approve)
    app.action(ReleaseId.REQUEST_CHANGES)(open_request_changes)
