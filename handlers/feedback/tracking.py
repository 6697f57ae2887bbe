"""Where themes are tracked, from Slack: `/feedback link <theme> <url>`, "Edit theme", and the area
owner's answer (Decline theme / Keep open) when a tracked issue is closed as not planned."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.permissions import Refused, may_move_theme
from bot.core.uow import slack_unit_of_work
from bot.feedback import themes as theme_service
from bot.feedback.views.common import FeedbackId
from bot.feedback.views.themes import LINK_USAGE, ThemeModalMetadata, ThemePrefill, theme_linked, theme_modal
from bot.integrations import service as link_service
from bot.integrations.decisions import Answer, answer_not_planned, theme_to_decide
from bot.integrations.views import TrackerId, not_planned_answered
from bot.slack.blocks import as_dicts
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import HELP_WORDS, ack_ephemeral, origin_channel
from models import Area

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is from an old message; open the theme again."
# What a pasted link looks like at the end of `/feedback link …`: Slack's <url> markup, a scheme,
# or a host and path ("github.com/acme/app/issues/1").
_LOOKS_LIKE_URL = re.compile(r"<?https?://\S+|[\w-]+(\.[\w-]+)+/\S*", re.IGNORECASE)


def is_link_command(rest: str) -> bool:
    """Whether `/feedback link …` is the sub-command, not feedback that starts with "link".

    "link previews are broken" is feedback; `link`, `link help` and `link <theme> <url>` are not.
    """
    words = rest.split()
    return not words or rest.lower() in HELP_WORDS or bool(_LOOKS_LIKE_URL.fullmatch(words[-1]))


async def link_command(ack: AsyncAck, rest: str, command: dict[str, Any], context: AsyncBoltContext) -> None:
    """`/feedback link <theme> <url>`: track the theme in that issue; `/feedback link` alone explains."""
    ref, _, url = rest.rpartition(" ")
    if rest.lower() in HELP_WORDS or not ref.strip():
        lead = "" if rest.lower() in HELP_WORDS else ":warning: Name the theme, then paste the issue's URL.\n"
        await ack_ephemeral(ack, lead + LINK_USAGE)
        return
    team_id, user_id = workspace_of(context), str(command["user_id"])
    async with slack_unit_of_work(context) as session:
        theme = await theme_service.find_theme(session=session, team_id=team_id, ref=ref)
        link, created = await link_service.add_link(
            session=session, team_id=team_id, theme_id=theme.id, url=url, by=user_id
        )
        links = await link_service.theme_links(session=session, team_id=team_id, theme_id=link.theme_id)
        text, blocks = theme_linked(
            theme_id=theme.id,
            title=theme.title,
            status=theme.status,
            links=[(each.key, each.url) for each in links],
            key=link.key,
            created=created,
        )
    await ack_ephemeral(ack, text, as_dicts(blocks))


async def open_edit_theme(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Edit theme": the theme modal with its title, description, area and "Tracked in" filled in."""
    await ack()
    team_id = workspace_of(context)
    try:
        theme_id = int(action.get("value") or "")
    except ValueError:
        raise UserError(STALE_BUTTON) from None
    async with slack_unit_of_work(context) as session:
        theme = await theme_service.get_theme(session=session, team_id=team_id, theme_id=theme_id)
        area = await session.get(Area, theme.area_id) if theme.area_id is not None else None
        links = await link_service.theme_links(session=session, team_id=team_id, theme_id=theme.id)
        prefill = ThemePrefill(
            title=theme.title,
            description=theme.description,
            area=(area.slug, area.name) if area else None,
            links=[link.url for link in links],
        )
    metadata = ThemeModalMetadata(theme_id=theme_id, origin_channel=origin_channel(body))
    await client.views_open(
        trigger_id=body["trigger_id"], view=theme_modal(metadata=metadata, prefill=prefill).to_dict()
    )


async def answer_question(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """ "Decline theme" / "Keep open": only the area owner or an admin; the question becomes the answer."""
    await ack()
    answer = Answer.DECLINE if action.get("action_id") == TrackerId.DECLINE_THEME else Answer.KEEP_OPEN
    user_id, team_id = body["user"]["id"], workspace_of(context)
    try:
        theme_id = int(action.get("value") or "")
    except ValueError:
        raise UserError(STALE_BUTTON) from None
    # Asking Slack whether they are an admin happens before the transaction that locks the theme.
    actor = await actor_of(context, user_id)
    async with slack_unit_of_work(context) as session:
        theme, area = await theme_to_decide(session=session, team_id=team_id, theme_id=theme_id)
        verdict = may_move_theme(actor, theme.title, area, doing="decline or keep open")
        if not verdict.allowed:
            raise Refused(f"{verdict.refusal} Nothing was changed.")
        decision = await answer_not_planned(session=session, theme=theme, answer=answer, by=user_id)
    text, blocks = not_planned_answered(
        decision.theme,
        status=decision.status,
        kept_open=decision.kept_open,
        by=decision.by,
        at=decision.at,
        not_planned=decision.not_planned,
    )
    await _replace_question(body, client, respond, text=text, blocks=as_dicts(blocks))


async def _replace_question(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, *, text: str, blocks: list[Any]
) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if channel and ts:
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            log.info("could not update the question in %s: %s", channel, exc.response.get("error"))
    await respond(text=text, blocks=blocks, replace_original=True)


def register(app: AsyncApp) -> None:
    app.action(TrackerId.DECLINE_THEME)(answer_question)
    app.action(TrackerId.KEEP_OPEN)(answer_question)
    app.action(FeedbackId.EDIT_THEME)(open_edit_theme)
