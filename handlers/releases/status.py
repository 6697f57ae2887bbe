"""`/release` (new, list, status, cancel) and the status message's Cancel and Retry buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.permissions import Actor, may_cancel_release, may_retry_release, require
from bot.core.text import plural
from bot.core.uow import slack_unit_of_work
from bot.releases import approval as release_approval
from bot.releases import releases as release_service
from bot.releases import review as release_review
from bot.releases.views.ids import ReleaseId
from bot.releases.views.status import release_list, release_status, usage
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import ack_ephemeral, split_command
from handlers.releases._common import _open_compose, _release_id, _wake
from models import Release

# ---- /release ---------------------------------------------------------------------------------


async def release_command(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    sub, rest = split_command(command.get("text"))
    team_id, user = workspace_of(context), command["user_id"]
    if sub == "new":
        await ack()
        await _open_compose(
            client, context, trigger_id=command["trigger_id"], user=user, channel=command["channel_id"]
        )
        return
    if sub == "list":
        async with slack_unit_of_work(context) as session:
            releases = await release_service.list_releases(session=session, team_id=team_id, limit=15)
            counts = await release_service.post_counts(session=session, release_ids=[r.id for r in releases])
        await ack_ephemeral(ack, "Recent releases", release_list(releases, counts))
        return
    if sub in {"status", "cancel"} and rest:
        actor = await actor_of(context, user)
        async with slack_unit_of_work(context) as session:
            release = await release_service.find_release(session=session, team_id=team_id, reference=rest)
            if sub == "cancel":
                require(may_cancel_release(actor, release))
                release = await release_approval.cancel_release(
                    session=session, team_id=team_id, release_id=release.id, by=user
                )
            text, blocks = await _status(session, release, actor)
        if sub == "cancel":
            _wake(context)
            text = f"Release #{release.id} is cancelled; nothing will be posted."
        await ack_ephemeral(ack, text, blocks)
        return
    hint = (
        f"`/release {sub}` needs a release: its number, version or title.\n\n"
        if sub in {"status", "cancel"}
        else ""
    )
    await ack_ephemeral(ack, hint + "Usage: /release new|list|status|cancel", _with_hint(hint))


def _with_hint(hint: str) -> list[dict[str, Any]]:
    blocks = usage()
    if hint:
        blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": hint.strip()}})
    return blocks


async def _status(session: AsyncSession, release: Release, actor: Actor) -> tuple[str, list[dict[str, Any]]]:
    posts = await release_service.posts_of(session=session, release_id=release.id)
    events = await release_service.events_of(session=session, release_id=release.id)
    held = await release_review.held_change(session=session, release=release)
    return release_status(release, posts, events, actor=actor, held=held)


async def cancel_from_status(
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
        release = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
        require(may_cancel_release(actor, release))
        release = await release_approval.cancel_release(
            session=session, team_id=team_id, release_id=release_id, by=user
        )
        text, blocks = await _status(session, release, actor)
    _wake(context)
    await respond(text=text, blocks=blocks, replace_original=True)


async def retry_failed(
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
        release = await release_service.get_release(session=session, team_id=team_id, release_id=release_id)
        require(may_retry_release(actor, release))
        count = await release_approval.retry_failed_posts(
            session=session, team_id=team_id, release_id=release_id, by=user
        )
    _wake(context)
    text = (
        f":repeat: Trying {plural(count, 'channel')} of release #{release_id} again; you'll get a new report."
        if count
        else f"Release #{release_id} has no failed channels."
    )
    await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    app.command("/release")(release_command)
    app.action(ReleaseId.CANCEL)(cancel_from_status)
    app.action(ReleaseId.RETRY)(retry_failed)
