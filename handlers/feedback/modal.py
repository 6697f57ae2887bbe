"""The feedback modal: saving it, and the options of its area and theme select menus."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deliveries import claim_delivery
from bot.core.errors import UserError
from bot.core.uow import slack_unit_of_work
from bot.feedback import capture as feedback_service
from bot.feedback import themes as theme_service
from bot.feedback.schema import FeedbackIn, FeedbackPatch
from bot.feedback.views.capture import (
    NEW_THEME_PREFIX,
    FeedbackModalMetadata,
    area_option,
    capture_confirmation,
    new_theme_option,
    theme_option,
)
from bot.feedback.views.common import FeedbackId
from bot.ownership import areas as area_service
from bot.slack.blocks import as_dicts
from bot.slack.workspace import workspace_of
from handlers.common import StateValues, input_state, input_text, selected_value, state_values, tell_privately
from handlers.feedback._common import settings_of, theme_links
from models import Area, Theme

# Slack shows at most 100 options in a select menu.
MAX_OPTIONS = 100


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
    team_id = workspace_of(context)
    settings = settings_of(context)
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
                theme_links=await theme_links(session, theme.id if theme else None),
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
    team_id = workspace_of(context)
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
    team_id = workspace_of(context)
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


def register(app: AsyncApp) -> None:
    app.view(FeedbackId.MODAL)(submit_feedback)
    app.options(FeedbackId.AREA)(area_options)
    app.options(FeedbackId.THEME)(theme_options)
