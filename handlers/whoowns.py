"""`/whoowns`: find who owns a product area, feature, service or process."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict
from bot.core.permissions import may_claim_area, require
from bot.core.uow import slack_unit_of_work
from bot.ownership import areas as area_service
from bot.ownership import confirmation as ownership_service
from bot.ownership.announcements import announce_owner_change
from bot.ownership.cache import CachedDirectory, search_directory
from bot.ownership.index import MatchKind, SearchResult
from bot.ownership.schema import AreaIn
from bot.ownership.views.whoowns import (
    Choices,
    Named,
    WhoOwnsId,
    ambiguous,
    area_added,
    area_answer,
    area_modal,
    choice_blocks,
    choice_json,
    claimed_reply,
    did_you_mean,
    not_found,
    pick_button_json,
    usage,
)
from bot.slack.blocks import as_dicts, section
from bot.slack.blocks import context as context_block
from bot.slack.limits import query_too_long
from bot.slack.workspace import actor_of, workspace_of
from models import Area

HELP_WORDS = {"", "help", "-h", "--help", "?"}
# The memo (see `CachedDirectory.memo`) holding an area's shareable card as Slack's JSON.
CARD_MEMO = "whoowns_card"
PICK_MEMO = "whoowns_pick"


class AddAreaMetadata(BaseModel):
    """Carried through the "Add it" modal in `private_metadata`."""

    channel_id: str | None = None
    query: str = ""


async def answer(
    *,
    session: AsyncSession,
    context: AsyncBoltContext,
    team_id: str,
    query: str,
    shareable: bool = True,
) -> tuple[str, list[Block]]:
    """The fallback text and blocks answering "who owns `query`"."""
    directory = await context["area_cache"].directory(session=session, team_id=team_id)
    return render_answer(directory, query, shareable=shareable)


def render_answer(
    directory: CachedDirectory, query: str, *, shareable: bool = True
) -> tuple[str, list[Block]]:
    result, found = search_directory(directory=directory, query=query)
    return _answer_blocks(result, found, query, shareable=shareable)


def _choices(result: SearchResult, found: Sequence[Named], query: str) -> Choices:
    """Every answer but a confident one: a question to pick from."""
    if result.kind == MatchKind.AMBIGUOUS and len(found) >= 2:
        return ambiguous(query, found)
    if result.kind == MatchKind.AMBIGUOUS and found:
        return did_you_mean(query, found[0])
    return not_found(query, found)


def _answer_blocks(
    result: SearchResult, found: list[Area], query: str, *, shareable: bool
) -> tuple[str, list[Block]]:
    if result.kind == MatchKind.CONFIDENT and found:
        return area_answer(found[0], shareable=shareable)
    choices = _choices(result, found, query)
    return choices.text, choice_blocks(query, choices)


def card_json(area: Area) -> tuple[str, tuple[dict[str, Any], ...]]:
    """An area's shareable answer as the fallback text and Slack's JSON."""
    text, blocks = area_answer(area)
    return text, tuple(as_dicts(blocks))


def command_answer(directory: CachedDirectory, query: str) -> tuple[str, Sequence[dict[str, Any]]]:
    """`render_answer` as Slack's JSON. Serialising Block Kit validates every object, which costs
    more than the search: a confident answer's card is serialised once per version of the area."""
    result = directory.index.search(query)
    if result.kind == MatchKind.CONFIDENT:
        best = next((m.area_id for m in result.matches if m.area_id in directory.rows), None)
        if best is not None:
            return directory.memo(best, CARD_MEMO, card_json)
    # A question needs only each match's name and slug: no copy of its area is made.
    matches = {m.slug: m for m in result.matches if m.area_id in directory.rows}
    choices = _choices(result, list(matches.values()), query)
    return choices.text, choice_json(
        query, choices, lambda match: directory.memo(matches[match.slug].area_id, PICK_MEMO, pick_button_json)
    )


async def whoowns_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
    query = (command.get("text") or "").strip()
    if query.lower() in HELP_WORDS:
        await ack(text="Usage: /whoowns <what>", blocks=usage(), response_type="ephemeral")
        return
    too_long = query_too_long(query)
    if too_long is not None:
        await ack(text=too_long.message(), response_type="ephemeral")
        return
    team_id = workspace_of(context)
    # Answered inside Slack's three-second ack: while the cached directory is fresh, no session.
    directory = context["area_cache"].fresh(team_id)
    if directory is None:
        async with slack_unit_of_work(context) as session:
            directory = await context["area_cache"].directory(session=session, team_id=team_id)
    # Every card and button ready before it is asked for, however the queries spread over the
    # directory.
    directory.prepare(CARD_MEMO, card_json)
    directory.prepare(PICK_MEMO, pick_button_json)
    text, blocks = command_answer(directory, query)
    await ack(text=text, blocks=blocks, response_type="ephemeral")


async def share_answer(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    async with slack_unit_of_work(context) as session:
        area = await area_service.get_by_slug(
            session=session, team_id=workspace_of(context), slug=action["value"]
        )
        text, blocks = area_answer(area, shareable=False)
    blocks.append(context_block(f"Shared by <@{body['user']['id']}> via /whoowns"))
    await respond(text=text, blocks=blocks, response_type="in_channel", replace_original=False)
    await respond(delete_original=True)


async def pick_match(
    ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    async with slack_unit_of_work(context) as session:
        area = await area_service.get_by_slug(
            session=session, team_id=workspace_of(context), slug=action["value"]
        )
        text, blocks = area_answer(area)
    await respond(text=text, blocks=blocks, replace_original=True)


async def claim_area(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """ "Claim it" on an area nobody answers for: the clicker becomes its owner, if the policy agrees."""
    await ack()
    user_id, team_id = body["user"]["id"], workspace_of(context)
    actor = await actor_of(context, user_id)
    async with slack_unit_of_work(context) as session:
        area = await area_service.get_by_slug(session=session, team_id=team_id, slug=action["value"])
        require(may_claim_area(actor, area))
        change = await ownership_service.claim(
            session=session,
            settings=context["settings"],
            team_id=team_id,
            area_id=area.id,
            expected_owner=area.owner,
            new_owner=user_id,
        )
        text = claimed_reply(change.area, by=user_id)
    context["runtime"].wake_scheduler()
    await respond(text=text, blocks=as_dicts([section(text)]), replace_original=True)


async def open_add_modal(
    ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
) -> None:
    await ack()
    metadata = AddAreaMetadata(
        channel_id=(body.get("channel") or {}).get("id"), query=action.get("value", "")
    )
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=area_modal(name=metadata.query, private_metadata=metadata.model_dump_json()),
    )


def _modal_values(view: dict[str, Any]) -> dict[str, Any]:
    values = view["state"]["values"]

    def pick(block: str, action: str, key: str) -> Any:
        return (values.get(block, {}).get(action) or {}).get(key)

    aliases = pick(WhoOwnsId.ALIASES_BLOCK, WhoOwnsId.ALIASES, "value") or ""
    kind = (pick(WhoOwnsId.KIND_BLOCK, WhoOwnsId.KIND, "selected_option") or {}).get("value")
    return {
        **({"kind": kind} if kind else {}),
        "name": pick(WhoOwnsId.NAME_BLOCK, WhoOwnsId.NAME, "value") or "",
        "owner": pick(WhoOwnsId.OWNER_BLOCK, WhoOwnsId.OWNER, "selected_user"),
        "team": pick(WhoOwnsId.TEAM_BLOCK, WhoOwnsId.TEAM, "value"),
        "backups": pick(WhoOwnsId.BACKUPS_BLOCK, WhoOwnsId.BACKUPS, "selected_users") or [],
        "channel": pick(WhoOwnsId.CHANNEL_BLOCK, WhoOwnsId.CHANNEL, "selected_channel"),
        "description": pick(WhoOwnsId.DESCRIPTION_BLOCK, WhoOwnsId.DESCRIPTION, "value") or "",
        "aliases": [a.strip() for a in re.split(r"[,\n]", aliases) if a.strip()],
    }


_FIELD_BLOCKS = {
    "name": WhoOwnsId.NAME_BLOCK,
    "kind": WhoOwnsId.KIND_BLOCK,
    "owner": WhoOwnsId.OWNER_BLOCK,
    "team": WhoOwnsId.TEAM_BLOCK,
    "backups": WhoOwnsId.BACKUPS_BLOCK,
    "channel": WhoOwnsId.CHANNEL_BLOCK,
    "description": WhoOwnsId.DESCRIPTION_BLOCK,
    "aliases": WhoOwnsId.ALIASES_BLOCK,
}


async def submit_area(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    try:
        data = AreaIn.model_validate(_modal_values(view))
    except ValidationError as exc:
        first = exc.errors()[0]
        block = _FIELD_BLOCKS.get(str(first["loc"][0]), WhoOwnsId.NAME_BLOCK)
        await ack(response_action="errors", errors={block: str(first["msg"])})
        return
    user_id = body["user"]["id"]
    team_id = workspace_of(context)
    try:
        async with slack_unit_of_work(context) as session:
            area = await area_service.create_area(session=session, team_id=team_id, data=data)
            await announce_owner_change(
                session=session,
                settings=context["settings"],
                area=area,
                previous_owner=None,
                by=user_id,
            )
            confirmation = area_added(area)
    except Conflict as exc:
        await ack(response_action="errors", errors={WhoOwnsId.NAME_BLOCK: str(exc)})
        return
    await ack()
    context["runtime"].wake_scheduler()
    metadata = AddAreaMetadata.model_validate_json(view.get("private_metadata") or "{}")
    channel = metadata.channel_id or user_id
    if channel.startswith("D") or channel == user_id:
        await client.chat_postMessage(channel=user_id, text=confirmation)
    else:
        await client.chat_postEphemeral(channel=channel, user=user_id, text=confirmation)


def register(app: AsyncApp) -> None:
    app.command("/whoowns")(whoowns_command)
    app.action(WhoOwnsId.SHARE)(share_answer)
    app.action(re.compile(f"^{WhoOwnsId.PICK}(:|$)"))(pick_match)
    app.action(WhoOwnsId.ADD)(open_add_modal)
    app.action(WhoOwnsId.CLAIM)(claim_area)
    app.view(WhoOwnsId.AREA_MODAL)(submit_area)
