"""Customer voice in Slack: the "Log as feedback" shortcut, `/feedback`, the feedback reaction,
the feedback and theme modals, and the buttons on capture confirmations."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deliveries import claim_delivery
from bot.core.errors import UserError
from bot.core.settings import Settings
from bot.core.uow import slack_unit_of_work
from bot.feedback import capture as feedback_service
from bot.feedback import themes as theme_service
from bot.feedback.schema import FeedbackIn, FeedbackPatch, ThemeIn
from bot.feedback.similarity import ThemeSuggestion, suggest_themes
from bot.feedback.views import (
    EDITABLE_TEXT_LIMIT,
    NEW_THEME_PREFIX,
    USAGE,
    FeedbackId,
    FeedbackModalMetadata,
    ModalPrefill,
    ThemeModalMetadata,
    area_option,
    capture_confirmation,
    feedback_modal,
    home_followed_themes,
    home_recent_feedback,
    linked_confirmation,
    new_theme_option,
    theme_modal,
    theme_option,
)
from bot.ownership import areas as area_service
from bot.slack.blocks import as_dicts, section
from handlers.common import (
    HELP_WORDS,
    StateValues,
    ack_ephemeral,
    input_state,
    input_text,
    origin_channel,
    selected_value,
    state_values,
    tell_privately,
)
from handlers.home import home_section
from models import Area, Feedback, Theme
from models.feedback import FeedbackSource

log = logging.getLogger(__name__)

# Slack shows at most 100 options in a select menu.
MAX_OPTIONS = 100
_LINK_ACTION = re.compile(f"^{FeedbackId.LINK_THEME}(:|$)")


def _team_id(body: dict[str, Any], context: AsyncBoltContext) -> str:
    return str(
        context.team_id
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or body.get("team_id")
        or ""
    )


def _settings(context: AsyncBoltContext) -> Settings:
    settings: Settings = context["settings"]
    return settings


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
    team_id = _team_id(body, context)
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
    """`/feedback [text]`: the same modal, prefilled with the text; `help` answers with usage."""
    text = (command.get("text") or "").strip()
    if text and text.lower() in HELP_WORDS:
        await ack_ephemeral(ack, USAGE)
        return
    await ack()
    metadata = FeedbackModalMetadata(source=FeedbackSource.COMMAND, origin_channel=command.get("channel_id"))
    async with slack_unit_of_work(context) as session:
        view = await _modal_for(
            session=session,
            team_id=str(command.get("team_id") or context.team_id),
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
    settings = _settings(context)
    item = event["item"]
    channel, ts, user_id = str(item["channel"]), str(item["ts"]), str(event["user"])
    team_id = str(context.team_id or event.get("team") or "")
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
            suggestions=suggestions,
            text_unavailable=message is None and result.created,
        )
    context["runtime"].wake_scheduler()
    await tell_privately(
        client, user_id=user_id, channel=channel, text="Logged as feedback", blocks=as_dicts(blocks)
    )


_FIELD_BLOCKS = {
    "text": FeedbackId.TEXT_BLOCK,
    "kind": FeedbackId.KIND_BLOCK,
    "importance": FeedbackId.IMPORTANCE_BLOCK,
    "customer": FeedbackId.CUSTOMER_BLOCK,
    "segment": FeedbackId.SEGMENT_BLOCK,
    "area": FeedbackId.AREA_BLOCK,
    "tags": FeedbackId.TAGS_BLOCK,
    "theme_id": FeedbackId.THEME_BLOCK,
}


def _details_from(values: StateValues) -> dict[str, Any]:
    tags = input_text(values, FeedbackId.TAGS_BLOCK, FeedbackId.TAGS)
    return {
        "kind": selected_value(values, FeedbackId.KIND_BLOCK, FeedbackId.KIND),
        "importance": selected_value(values, FeedbackId.IMPORTANCE_BLOCK, FeedbackId.IMPORTANCE),
        "customer": input_state(values, FeedbackId.CUSTOMER_BLOCK, FeedbackId.CUSTOMER).get("value"),
        "segment": input_state(values, FeedbackId.SEGMENT_BLOCK, FeedbackId.SEGMENT).get("value"),
        "area": selected_value(values, FeedbackId.AREA_BLOCK, FeedbackId.AREA),
        "tags": [t.strip() for t in re.split(r"[,\n]", tags) if t.strip()],
    }


async def _theme_choice(
    *, session: AsyncSession, team_id: str, user_id: str, values: StateValues
) -> int | None:
    """The theme picked (or typed as new) in the select, else the suggestion ticked."""
    chosen = selected_value(values, FeedbackId.THEME_BLOCK, FeedbackId.THEME)
    if chosen and chosen.startswith(NEW_THEME_PREFIX):
        title = chosen.removeprefix(NEW_THEME_PREFIX).strip()
        if not title:
            raise UserError("Type a title to start a new theme.")
        theme = await theme_service.find_or_create_theme(
            session=session, team_id=team_id, title=title[:200], created_by=user_id
        )
        return theme.id
    if chosen and chosen.isdigit():
        return int(chosen)
    suggested = selected_value(values, FeedbackId.SUGGEST_BLOCK, FeedbackId.SUGGEST)
    return int(suggested) if suggested and suggested.isdigit() else None


async def _text_of(
    *, session: AsyncSession, team_id: str, metadata: FeedbackModalMetadata, values: StateValues
) -> str | None:
    if FeedbackId.TEXT_BLOCK in values:
        return input_text(values, FeedbackId.TEXT_BLOCK, FeedbackId.TEXT)
    if metadata.draft_id:
        return await feedback_service.take_draft(session=session, team_id=team_id, draft_id=metadata.draft_id)
    return None


async def submit_feedback(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Save the modal: a new item, or more reporters and details on the stored one."""
    metadata = FeedbackModalMetadata.model_validate_json(view.get("private_metadata") or "{}")
    values = state_values(view)
    user_id = body["user"]["id"]
    team_id = _team_id(body, context)
    settings = _settings(context)
    try:
        async with slack_unit_of_work(context) as session:
            # A double click submits the same view twice; only the first one counts.
            if not await claim_delivery(session=session, key=f"feedback-view:{view['id']}", team_id=team_id):
                await ack()
                return
            text = await _text_of(session=session, team_id=team_id, metadata=metadata, values=values)
            details = _details_from(values)
            details["theme_id"] = await _theme_choice(
                session=session, team_id=team_id, user_id=user_id, values=values
            )
            if metadata.feedback_id is not None:
                patch = FeedbackPatch.model_validate({**details, **({"text": text} if text else {})})
                item = await feedback_service.update_feedback(
                    session=session,
                    team_id=team_id,
                    feedback_id=metadata.feedback_id,
                    patch=patch,
                    alert_channel=settings.feedback_channel,
                )
                added = await feedback_service.add_reporter(
                    session=session,
                    team_id=team_id,
                    feedback_id=item.id,
                    user_id=user_id,
                    source=metadata.source,
                )
                created = False
                reporters = await feedback_service.reporters_of(session=session, feedback_id=item.id)
            else:
                data = FeedbackIn.model_validate(
                    {
                        **details,
                        "text": text or "",
                        "source": metadata.source,
                        "channel": metadata.channel,
                        "message_ts": metadata.message_ts,
                        "thread_ts": metadata.thread_ts,
                        "permalink": metadata.permalink,
                        "author": metadata.author,
                        "reporter": user_id,
                    }
                )
                result = await feedback_service.capture(
                    session=session,
                    team_id=team_id,
                    data=data,
                    alert_channel=settings.feedback_channel,
                    mark_with=settings.feedback_emoji,
                )
                item, created, added, reporters = (
                    result.feedback,
                    result.created,
                    result.reporter_added,
                    result.reporters,
                )
            if item.theme_id is not None:
                await theme_service.follow(
                    session=session, team_id=team_id, theme_id=item.theme_id, user_id=user_id
                )
            theme = await session.get(Theme, item.theme_id) if item.theme_id is not None else None
            blocks = capture_confirmation(
                feedback_id=item.id,
                text=item.text,
                created=created,
                reporter_added=added,
                reporters=reporters,
                user_id=user_id,
                theme_title=theme.title if theme else None,
            )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "text"
        block = _FIELD_BLOCKS.get(field, FeedbackId.TEXT_BLOCK)
        if block not in values:
            block = FeedbackId.KIND_BLOCK
        message = str(first["msg"]).removeprefix("Value error, ")
        await ack(response_action="errors", errors={block: message})
        return
    except UserError as exc:
        block = FeedbackId.AREA_BLOCK if "area" in str(exc) else FeedbackId.THEME_BLOCK
        await ack(response_action="errors", errors={block: str(exc)})
        return
    await ack()
    context["runtime"].wake_scheduler()
    await tell_privately(
        client,
        user_id=user_id,
        channel=metadata.origin_channel,
        text="Feedback saved",
        blocks=as_dicts(blocks),
    )


async def area_options(
    ack: AsyncAck, payload: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Areas from the ownership directory for the area select, best matches first."""
    query = str(payload.get("value") or "").strip()
    team_id = _team_id(body, context)
    async with slack_unit_of_work(context) as session:
        if query:
            _, found = await area_service.search_areas(
                session=session, cache=context["area_cache"], team_id=team_id, query=query, limit=20
            )
        else:
            found = list(
                (
                    await session.scalars(
                        select(Area).where(Area.team_id == team_id).order_by(Area.name).limit(MAX_OPTIONS)
                    )
                ).all()
            )
        options = [area_option(a.slug, a.name).to_dict() for a in found]
    await ack(options=options)


async def theme_options(
    ack: AsyncAck, payload: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Open themes matching what was typed, and "New theme: …" for a title not taken yet."""
    query = str(payload.get("value") or "").strip()
    team_id = _team_id(body, context)
    async with slack_unit_of_work(context) as session:
        found = await theme_service.list_themes(
            session=session, team_id=team_id, q=query or None, limit=MAX_OPTIONS
        )
        found = [(t, c) for t, c in found if t.status in theme_service.OPEN_STATUSES]
        found.sort(key=lambda pair: (-pair[1].customers, -pair[1].items, pair[0].title.lower()))
    options = [theme_option(t.id, t.title, c).to_dict() for t, c in found[: MAX_OPTIONS - 1]]
    if query and not any(t.title.lower() == query.lower() for t, _ in found):
        options.insert(0, new_theme_option(query[:200]).to_dict())
    await ack(options=options)


async def add_details(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Add details" on a confirmation: the modal for the stored item."""
    await ack()
    team_id = _team_id(body, context)
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


async def link_suggested_theme(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """ "Link it" on a suggestion: the item joins the theme, the confirmation says so."""
    await ack()
    feedback_id, _, theme_id = str(action["value"]).partition(":")
    async with slack_unit_of_work(context) as session:
        item, theme = await theme_service.link_feedback(
            session=session,
            team_id=_team_id(body, context),
            feedback_id=int(feedback_id),
            theme_id=int(theme_id),
            by=body["user"]["id"],
        )
        blocks = linked_confirmation(feedback_id=item.id, theme_title=theme.title)
    await respond(text=f"Linked to {theme.title}", blocks=as_dicts(blocks), replace_original=True)


async def open_theme_modal(
    ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
) -> None:
    """ "New theme" on a confirmation: a theme modal that links the item when saved."""
    await ack()
    metadata = ThemeModalMetadata(
        feedback_id=int(action["value"]) if str(action.get("value", "")).isdigit() else None,
        origin_channel=origin_channel(body),
    )
    await client.views_open(trigger_id=body["trigger_id"], view=theme_modal(metadata=metadata).to_dict())


_THEME_FIELD_BLOCKS = {
    "title": FeedbackId.THEME_TITLE_BLOCK,
    "description": FeedbackId.THEME_DESCRIPTION_BLOCK,
    "area": FeedbackId.THEME_AREA_BLOCK,
}


async def submit_theme(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    metadata = ThemeModalMetadata.model_validate_json(view.get("private_metadata") or "{}")
    values = state_values(view)
    user_id = body["user"]["id"]
    team_id = _team_id(body, context)
    try:
        data = ThemeIn.model_validate(
            {
                "title": input_text(values, FeedbackId.THEME_TITLE_BLOCK, FeedbackId.THEME_TITLE),
                "description": input_text(
                    values, FeedbackId.THEME_DESCRIPTION_BLOCK, FeedbackId.THEME_DESCRIPTION
                ),
                "area": selected_value(values, FeedbackId.THEME_AREA_BLOCK, FeedbackId.AREA),
            }
        )
        async with slack_unit_of_work(context) as session:
            if not await claim_delivery(session=session, key=f"theme-view:{view['id']}", team_id=team_id):
                await ack()
                return
            theme = await theme_service.create_theme(
                session=session, team_id=team_id, data=data, created_by=user_id
            )
            text = f":bulb: Created theme *{theme.title}*."
            if metadata.feedback_id is not None:
                item, theme = await theme_service.link_feedback(
                    session=session,
                    team_id=team_id,
                    feedback_id=metadata.feedback_id,
                    theme_id=theme.id,
                    by=user_id,
                )
                blocks = linked_confirmation(feedback_id=item.id, theme_title=theme.title)
            else:
                blocks = [section(text)]
    except ValidationError as exc:
        first = exc.errors()[0]
        block = _THEME_FIELD_BLOCKS.get(
            str(first["loc"][0]) if first["loc"] else "title", FeedbackId.THEME_TITLE_BLOCK
        )
        await ack(response_action="errors", errors={block: str(first["msg"]).removeprefix("Value error, ")})
        return
    except UserError as exc:
        await ack(response_action="errors", errors={FeedbackId.THEME_AREA_BLOCK: str(exc)})
        return
    await ack()
    await tell_privately(
        client,
        user_id=user_id,
        channel=metadata.origin_channel,
        text="Theme created",
        blocks=as_dicts(blocks),
    )


@home_section("feedback.recent", title="Recent feedback in areas I own", order=40)
async def recent_feedback_section(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    rows = await feedback_service.owned_area_feedback(session=session, team_id=team_id, user_id=user_id)
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


@home_section("feedback.themes", title="Themes I follow", order=45)
async def followed_themes_section(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    followed = await theme_service.followed_themes(session=session, team_id=team_id, user_id=user_id)
    return home_followed_themes([(t.title, t.status, counts, t.updated_at) for t, counts in followed])


def register(app: AsyncApp) -> None:
    app.shortcut(FeedbackId.SHORTCUT)(log_message_shortcut)
    app.command("/feedback")(feedback_command)
    app.event("reaction_added", matchers=[is_feedback_reaction])(on_feedback_reaction)
    app.view(FeedbackId.MODAL)(submit_feedback)
    app.view(FeedbackId.THEME_MODAL)(submit_theme)
    app.options(FeedbackId.AREA)(area_options)
    app.options(FeedbackId.THEME)(theme_options)
    app.action(FeedbackId.ADD_DETAILS)(add_details)
    app.action(_LINK_ACTION)(link_suggested_theme)
    app.action(FeedbackId.NEW_THEME)(open_theme_modal)
