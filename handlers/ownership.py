""" "Still yours?" answers (Yes / Hand over to… / Not me) and the App Home's "Areas I own"."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, UserError
from bot.core.permissions import may_answer_for_area, require
from bot.core.text import escape_mrkdwn
from bot.core.uow import session_factory_of, slack_unit_of_work
from bot.ownership import accounts as account_service
from bot.ownership import confirmation as ownership_service
from bot.ownership.areas import list_owned_by
from bot.ownership.views.freshness import (
    HandOverMetadata,
    OwnershipId,
    check_progress,
    confirmed_all_reply,
    confirmed_reply,
    disowned_reply,
    hand_over_modal,
    handed_over_reply,
    owned_areas_section,
)
from bot.slack.blocks import as_dicts, section
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import input_state, state_values
from handlers.home import home_section, publish_home
from models import Area
from models.base import utcnow

STALE_BUTTON = "That button belongs to an old message. Open the Switchboard Home tab for your current areas."


def _area_id(action: dict[str, Any]) -> int:
    try:
        return int(action.get("value") or "")
    except ValueError:
        raise UserError(STALE_BUTTON) from None


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view"


_DM_BLOCKS = (f"{OwnershipId.ACTIONS_BLOCK}:", f"{OwnershipId.ANSWERED_BLOCK}:")


def _dm_area_ids(body: dict[str, Any]) -> list[int]:
    """The areas listed in the "Still yours?" DM a button was clicked in, in their order."""
    ids: list[int] = []
    for block in (body.get("message") or {}).get("blocks") or []:
        block_id = str(block.get("block_id") or "")
        prefix = next((p for p in _DM_BLOCKS if block_id.startswith(p)), None)
        if prefix is not None and block_id[len(prefix) :].isdigit():
            ids.append(int(block_id[len(prefix) :]))
    return ids


async def _dm_progress(
    context: AsyncBoltContext, team_id: str, area_ids: list[int], owner: str
) -> list[Block] | None:
    """A DM over several areas redrawn with each one's answer so far; None for a one-area DM."""
    if len(area_ids) < 2:
        return None
    async with slack_unit_of_work(context) as session:
        found = [
            await ownership_service.find_area(session=session, team_id=team_id, area_id=area_id)
            for area_id in area_ids
        ]
    return check_progress([area for area in found if area is not None], owner=owner)


async def _area_for_answer(context: AsyncBoltContext, team_id: str, area_id: int, user_id: str) -> Area:
    """The area, when the policy lets `user_id` answer for it; else `Refused`."""
    async with slack_unit_of_work(context) as session:
        area = await ownership_service.get_area(session=session, team_id=team_id, area_id=area_id)
    require(may_answer_for_area(await actor_of(context, user_id), area))
    return area


async def _show_outcome(
    text: str,
    *,
    user_id: str,
    team_id: str,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    from_home: bool,
    respond: AsyncRespond | None = None,
    response_url: str | None = None,
    dm_area_ids: list[int] | None = None,
) -> None:
    """Replace the question with the outcome where it was answered: the DM (a DM over several areas
    keeps the others' buttons), or the Home tab."""
    if from_home:
        await publish_home(
            client, session_factory=session_factory_of(context), team_id=team_id, user_id=user_id
        )
        return
    progress = await _dm_progress(context, team_id, dm_area_ids or [], user_id)
    blocks = as_dicts(progress if progress is not None else [section(text)])
    if respond is not None:
        await respond(text=text, blocks=blocks, replace_original=True)
    elif response_url:
        await AsyncWebhookClient(response_url).send(text=text, blocks=blocks, replace_original=True)


async def confirm(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    area = await _area_for_answer(context, team_id, _area_id(action), user_id)
    if area.owner is None:
        raise UserError(
            f"*{escape_mrkdwn(area.name)}* has no owner to confirm; hand it over to someone instead."
        )
    async with slack_unit_of_work(context) as session:
        area, changed = await ownership_service.confirm_ownership(
            session=session, team_id=team_id, area_id=area.id, owner=area.owner, now=utcnow()
        )
    await _show_outcome(
        confirmed_reply(area, by=user_id, changed=changed),
        user_id=user_id,
        team_id=team_id,
        client=client,
        context=context,
        from_home=_from_home(body),
        respond=respond,
        dm_area_ids=_dm_area_ids(body),
    )


async def confirm_all(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """ "Yes to all": confirm every listed area the clicker may answer for; a repeat changes nothing."""
    await ack()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    try:
        area_ids = [int(i) for i in (action.get("value") or "").split(",") if i]
    except ValueError:
        raise UserError(STALE_BUTTON) from None
    actor = await actor_of(context, user_id)
    confirmed: list[Area] = []
    already: list[Area] = []
    refused: list[Area] = []
    async with slack_unit_of_work(context) as session:
        for area_id in area_ids:
            area = await ownership_service.find_area(session=session, team_id=team_id, area_id=area_id)
            if area is None:
                continue
            if area.owner is None or not may_answer_for_area(actor, area).allowed:
                refused.append(area)
                continue
            area, changed = await ownership_service.confirm_ownership(
                session=session, team_id=team_id, area_id=area.id, owner=area.owner, now=utcnow()
            )
            (confirmed if changed else already).append(area)
    await _show_outcome(
        confirmed_all_reply(confirmed, already=already, refused=refused),
        user_id=user_id,
        team_id=team_id,
        client=client,
        context=context,
        from_home=False,
        respond=respond,
        dm_area_ids=_dm_area_ids(body) or area_ids,
    )


async def open_hand_over(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    area = await _area_for_answer(context, team_id, _area_id(action), user_id)
    metadata = HandOverMetadata(
        area_id=area.id,
        owner=area.owner,
        response_url=None if _from_home(body) else body.get("response_url"),
        from_home=_from_home(body),
        dm_area_ids=_dm_area_ids(body),
    )
    await client.views_open(
        trigger_id=body["trigger_id"], view=hand_over_modal(area, private_metadata=metadata.model_dump_json())
    )


async def submit_hand_over(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    user_id, team_id = body["user"]["id"], workspace_of(context)
    try:
        metadata = HandOverMetadata.model_validate_json(view.get("private_metadata") or "")
    except ValidationError:
        await ack(response_action="errors", errors={OwnershipId.NEW_OWNER_BLOCK: STALE_BUTTON})
        return
    values = state_values(view)
    new_owner = input_state(values, OwnershipId.NEW_OWNER_BLOCK, OwnershipId.NEW_OWNER).get("selected_user")

    async def refuse(message: str) -> None:
        await ack(response_action="errors", errors={OwnershipId.NEW_OWNER_BLOCK: message})

    if not new_owner:
        await refuse("Pick the person who should own it.")
        return
    if new_owner == metadata.owner:
        await refuse("They already own it. Pick someone else, or close this and answer Yes.")
        return
    problem = await account_service.new_owner_problem(client, new_owner)
    if problem:
        await refuse(problem)
        return
    try:
        async with slack_unit_of_work(context) as session:
            current = await ownership_service.get_area(
                session=session, team_id=team_id, area_id=metadata.area_id
            )
    except UserError as exc:
        await refuse(str(exc))
        return
    if current.owner == new_owner:
        # The same hand-over submitted twice: the first one did everything.
        await ack()
        return
    verdict = may_answer_for_area(await actor_of(context, user_id), current)
    if not verdict.allowed:
        await refuse(verdict.refusal)
        return
    try:
        async with slack_unit_of_work(context) as session:
            change = await ownership_service.hand_over(
                session=session,
                settings=context["settings"],
                team_id=team_id,
                area_id=current.id,
                expected_owner=metadata.owner,
                new_owner=new_owner,
                by=user_id,
                now=utcnow(),
            )
    except Conflict:
        await refuse(
            "This area changed hands since you opened this. Nothing was changed; close and look again."
        )
        return
    await ack()
    if change is None:
        return
    context["runtime"].wake_scheduler()
    await _show_outcome(
        handed_over_reply(change.area, new_owner=new_owner),
        user_id=user_id,
        team_id=team_id,
        client=client,
        context=context,
        from_home=metadata.from_home,
        response_url=metadata.response_url,
        dm_area_ids=metadata.dm_area_ids,
    )


async def not_me(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    area = await _area_for_answer(context, team_id, _area_id(action), user_id)
    if area.owner is None:
        raise UserError(f"*{escape_mrkdwn(area.name)}* has no owner to disown it.")
    settings = context["settings"]
    async with slack_unit_of_work(context) as session:
        area, changed = await ownership_service.disown(
            session=session,
            settings=settings,
            team_id=team_id,
            area_id=area.id,
            owner=area.owner,
            by=user_id,
            now=utcnow(),
        )
    if changed:
        context["runtime"].wake_scheduler()
    await _show_outcome(
        disowned_reply(area, channel=settings.ownership_channel),
        user_id=user_id,
        team_id=team_id,
        client=client,
        context=context,
        from_home=_from_home(body),
        respond=respond,
        dm_area_ids=_dm_area_ids(body),
    )


@home_section("ownership.areas", title="Areas I own", order=30)
async def areas_i_own(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    now = utcnow()
    areas = await list_owned_by(session=session, team_id=team_id, user_id=user_id)
    return owned_areas_section([(area, ownership_service.confirmation_due(area, now)) for area in areas])


def register(app: AsyncApp) -> None:
    app.action(OwnershipId.CONFIRM)(confirm)
    app.action(OwnershipId.CONFIRM_ALL)(confirm_all)
    app.action(OwnershipId.HAND_OVER)(open_hand_over)
    app.action(OwnershipId.NOT_ME)(not_me)
    app.view(OwnershipId.HAND_OVER_MODAL)(submit_hand_over)
