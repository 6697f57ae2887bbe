"""Logging feedback from Slack: the "Log as feedback" shortcut, `/feedback`, the feedback reaction,
"Add details" on a confirmation, and the App Home section of recent feedback."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.core.uow import slack_unit_of_work
from bot.feedback import capture as feedback_service
from bot.feedback import queries as feedback_queries
from bot.feedback.schema import FeedbackIn
from bot.feedback.similarity import ThemeSuggestion, suggest_themes
from bot.feedback.views.capture import (
    EDITABLE_TEXT_LIMIT,
    USAGE,
    FeedbackModalMetadata,
    ModalPrefill,
    capture_confirmation,
    feedback_modal,
)
from bot.feedback.views.common import FeedbackId
from bot.feedback.views.digest import home_recent_feedback
from bot.slack.blocks import as_dicts
from bot.slack.workspace import workspace_of
from handlers.common import HELP_WORDS, ack_ephemeral, origin_channel, split_command, tell_privately
from handlers.feedback._common import settings_of, theme_links
from handlers.feedback.tracking import is_link_command, link_command
from handlers.home import home_section
from models import Area, Feedback, Theme
from models.feedback import FeedbackSource

log = logging.getLogger(__name__)


async def _permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    try:
        answer = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", channel, ts, exc.response.get("error"))
        return None
    return str(answer.get("permalink") or "") or None


async def _prefill_of(session: AsyncSession, item: Feedback) -> ModalPrefill:
    area = await session.get(Area, item.area_id) if item.area_id is not None else None
    theme = await session.get(Theme, item.theme_id) if item.theme_id is not None else None
    return ModalPrefill(
        text=item.text,
        kind=item.kind,
        importance=item.importance,
        customer=item.customer,
        segment=item.segment,
        tags=item.tags or [],
        area=(area.slug, area.name) if area else None,
        theme=(theme.id, theme.title) if theme else None,
        reporters=await feedback_service.reporters_of(session=session, feedback_id=item.id),
    )


async def _modal_for(
    *,
    session: AsyncSession,
    team_id: str,
    user_id: str,
    metadata: FeedbackModalMetadata,
    text: str,
    existing: Feedback | None,
) -> dict[str, Any]:
    """The feedback modal: the stored item's values when there is one, else the message's."""
    if existing is not None:
        prefill = await _prefill_of(session, existing)
        metadata.feedback_id = existing.id
    else:
        area = await feedback_service.area_for_channel(
            session=session, team_id=team_id, channel=metadata.channel
        )
        prefill = ModalPrefill(text=text, area=(area.slug, area.name) if area else None)
    if existing is None and len(text) > EDITABLE_TEXT_LIMIT:
        metadata.draft_id = await feedback_service.save_draft(
            session=session, team_id=team_id, user_id=user_id, text=text
        )
    suggestions: list[ThemeSuggestion] = []
    if prefill.theme is None and prefill.text:
        suggestions = await suggest_themes(session=session, team_id=team_id, text=prefill.text)
    return feedback_modal(metadata=metadata, prefill=prefill, suggestions=suggestions).to_dict()


async def log_message_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """ "Log as feedback" on a message: a modal prefilled with the message, its author and link."""
    await ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    ts = str(message.get("ts") or body.get("message_ts") or "")
    team_id = workspace_of(context)
    user_id = body["user"]["id"]
    metadata = FeedbackModalMetadata(
        source=FeedbackSource.SHORTCUT,
        channel=channel,
        message_ts=ts or None,
        thread_ts=message.get("thread_ts") or ts or None,
        author=message.get("user"),
        permalink=await _permalink(client, channel, ts) if channel and ts else None,
        origin_channel=channel,
    )
    async with slack_unit_of_work(context) as session:
        existing = None
        if channel and ts:
            existing = await feedback_service.find_by_message(
                session=session, team_id=team_id, channel=channel, message_ts=ts
            )
        view = await _modal_for(
            session=session,
            team_id=team_id,
            user_id=user_id,
            metadata=metadata,
            text=str(message.get("text") or ""),
            existing=existing,
        )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def feedback_command(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """`/feedback [text]`: the same modal, prefilled with the text; `help` answers with usage;
    `/feedback link <theme> <url>` tracks a theme in an issue."""
    text = (command.get("text") or "").strip()
    if text and text.lower() in HELP_WORDS:
        await ack_ephemeral(ack, USAGE)
        return
    sub, rest = split_command(text)
    if sub == "link" and is_link_command(rest):
        await link_command(ack, rest, command, context)
        return
    await ack()
    metadata = FeedbackModalMetadata(source=FeedbackSource.COMMAND, origin_channel=command.get("channel_id"))
    async with slack_unit_of_work(context) as session:
        view = await _modal_for(
            session=session,
            team_id=workspace_of(context),
            user_id=command["user_id"],
            metadata=metadata,
            text=text,
            existing=None,
        )
    await client.views_open(trigger_id=command["trigger_id"], view=view)


async def is_feedback_reaction(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    event = body.get("event") or {}
    settings: Settings | None = context.get("settings")
    return (
        settings is not None
        and event.get("reaction") == settings.feedback_emoji
        and (event.get("item") or {}).get("type") == "message"
        and event.get("user") != context.bot_user_id
    )


async def _fetch_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The reacted-to message: top-level from history, a thread reply from replies."""
    try:
        page = await client.conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        for message in page.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
        page = await client.conversations_replies(channel=channel, ts=ts, inclusive=True, limit=1)
        for message in page.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
    except SlackApiError as exc:
        log.info("cannot read %s/%s: %s", channel, ts, exc.response.get("error"))
    return None


async def on_feedback_reaction(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The feedback emoji logs the message at once (no modal); the reactor is the reporter."""
    settings = settings_of(context)
    item = event["item"]
    channel, ts, user_id = str(item["channel"]), str(item["ts"]), str(event["user"])
    team_id = workspace_of(context)
    message = await _fetch_message(client, channel, ts)
    text = str((message or {}).get("text") or "")
    data = FeedbackIn.model_validate(
        {
            "text": text or "(message text unavailable)",
            "source": FeedbackSource.REACTION,
            "channel": channel,
            "message_ts": ts,
            "thread_ts": (message or {}).get("thread_ts") or ts,
            "permalink": await _permalink(client, channel, ts),
            "author": (message or {}).get("user") or event.get("item_user"),
            "reporter": user_id,
        }
    )
    async with slack_unit_of_work(context) as session:
        result = await feedback_service.capture(
            session=session,
            team_id=team_id,
            data=data,
            alert_channel=settings.feedback_channel,
            mark_with=settings.feedback_emoji,
        )
        item_row = result.feedback
        theme = await session.get(Theme, item_row.theme_id) if item_row.theme_id is not None else None
        suggestions = (
            []
            if theme is not None
            else await suggest_themes(session=session, team_id=team_id, text=item_row.text)
        )
        blocks = capture_confirmation(
            feedback_id=item_row.id,
            text=item_row.text,
            created=result.created,
            reporter_added=result.reporter_added,
            reporters=result.reporters,
            user_id=user_id,
            theme_title=theme.title if theme else None,
            theme_links=await theme_links(session, theme.id if theme else None),
            suggestions=suggestions,
            text_unavailable=message is None and result.created,
        )
    context["runtime"].wake_scheduler()
    await tell_privately(
        client, user_id=user_id, channel=channel, text="Logged as feedback", blocks=as_dicts(blocks)
    )


async def add_details(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Add details" on a confirmation: the modal for the stored item."""
    await ack()
    team_id = workspace_of(context)
    async with slack_unit_of_work(context) as session:
        item = await feedback_service.get_feedback(
            session=session, team_id=team_id, feedback_id=int(action["value"])
        )
        metadata = FeedbackModalMetadata(
            source=item.source,
            channel=item.channel,
            message_ts=item.message_ts,
            thread_ts=item.thread_ts,
            author=item.author,
            permalink=item.permalink,
            origin_channel=origin_channel(body),
        )
        view = await _modal_for(
            session=session,
            team_id=team_id,
            user_id=body["user"]["id"],
            metadata=metadata,
            text=item.text,
            existing=item,
        )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


@home_section("feedback.recent", title="Recent feedback in areas I own", order=40)
async def recent_feedback_section(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    rows = await feedback_queries.owned_area_feedback(session=session, team_id=team_id, user_id=user_id)
    areas = {
        a.id: a.name
        for a in (
            await session.scalars(
                select(Area).where(Area.id.in_({r.feedback.area_id for r in rows if r.feedback.area_id}))
            )
        ).all()
    }
    return home_recent_feedback(
        [
            (
                r.feedback.id,
                r.feedback.text,
                areas.get(r.feedback.area_id or 0),
                r.feedback.kind,
                r.feedback.permalink,
            )
            for r in rows
        ]
    )


def register(app: AsyncApp) -> None:
    app.shortcut(FeedbackId.SHORTCUT)(log_message_shortcut)
    app.command("/feedback")(feedback_command)
    app.event("reaction_added", matchers=[is_feedback_reaction])(on_feedback_reaction)
    app.action(FeedbackId.ADD_DETAILS)(add_details)
