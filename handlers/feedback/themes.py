"""Themes from Slack: "Link it" on a suggestion, the new-theme modal, and the App Home section of
followed themes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deliveries import claim_delivery
from bot.core.errors import UserError
from bot.core.text import escape_mrkdwn
from bot.core.uow import slack_unit_of_work
from bot.feedback import themes as theme_service
from bot.feedback.schema import ThemeIn, ThemePatch
from bot.feedback.views.capture import linked_confirmation
from bot.feedback.views.common import FeedbackId
from bot.feedback.views.digest import home_followed_themes
from bot.feedback.views.themes import ThemeModalMetadata, theme_modal, theme_saved
from bot.integrations import service as link_service
from bot.integrations.links import parse_tracker_urls
from bot.integrations.store import links_of
from bot.slack.blocks import as_dicts
from bot.slack.workspace import workspace_of
from handlers.common import input_text, origin_channel, selected_value, state_values, tell_privately
from handlers.feedback._common import theme_links
from handlers.home import home_section

_LINK_ACTION = re.compile(f"^{FeedbackId.LINK_THEME}(:|$)")


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
            team_id=workspace_of(context),
            feedback_id=int(feedback_id),
            theme_id=int(theme_id),
            by=body["user"]["id"],
        )
        blocks = linked_confirmation(
            feedback_id=item.id, theme_title=theme.title, links=await theme_links(session, theme.id)
        )
    await respond(
        text=f"Linked to {escape_mrkdwn(theme.title)}", blocks=as_dicts(blocks), replace_original=True
    )


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
    """The theme modal: a new theme (linking the item it came from), or an edit of one. "Tracked in"
    replaces the theme's links; a bad URL is an error on that field and nothing is saved."""
    metadata = ThemeModalMetadata.model_validate_json(view.get("private_metadata") or "{}")
    values = state_values(view)
    user_id = body["user"]["id"]
    team_id = workspace_of(context)
    links_text = input_text(values, FeedbackId.THEME_LINKS_BLOCK, FeedbackId.THEME_LINKS)
    try:
        parse_tracker_urls(links_text)
    except ValueError as exc:
        await ack(response_action="errors", errors={FeedbackId.THEME_LINKS_BLOCK: str(exc)})
        return
    fields = {
        "title": input_text(values, FeedbackId.THEME_TITLE_BLOCK, FeedbackId.THEME_TITLE),
        "description": input_text(values, FeedbackId.THEME_DESCRIPTION_BLOCK, FeedbackId.THEME_DESCRIPTION),
        "area": selected_value(values, FeedbackId.THEME_AREA_BLOCK, FeedbackId.AREA),
    }
    try:
        async with slack_unit_of_work(context) as session:
            if not await claim_delivery(session=session, key=f"theme-view:{view['id']}", team_id=team_id):
                await ack()
                return
            if metadata.theme_id is not None:
                theme = await theme_service.update_theme(
                    session=session,
                    team_id=team_id,
                    theme_id=metadata.theme_id,
                    patch=ThemePatch.model_validate(fields),
                    by=user_id,
                )
            else:
                theme = await theme_service.create_theme(
                    session=session, team_id=team_id, data=ThemeIn.model_validate(fields), created_by=user_id
                )
            if metadata.theme_id is not None or links_text.strip():
                links, _removed = await link_service.set_links(
                    session=session, team_id=team_id, theme_id=theme.id, urls=links_text, by=user_id
                )
            else:
                links = []
            shown = [(link.key, link.url) for link in links]
            if metadata.feedback_id is not None:
                item, theme = await theme_service.link_feedback(
                    session=session,
                    team_id=team_id,
                    feedback_id=metadata.feedback_id,
                    theme_id=theme.id,
                    by=user_id,
                )
                blocks = linked_confirmation(feedback_id=item.id, theme_title=theme.title, links=shown)
            else:
                blocks = theme_saved(
                    theme_id=theme.id,
                    title=theme.title,
                    status=theme.status,
                    links=shown,
                    created=metadata.theme_id is None,
                )
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
        text="Theme saved" if metadata.theme_id is not None else "Theme created",
        blocks=as_dicts(blocks),
    )


@home_section("feedback.themes", title="Themes I follow", order=45)
async def followed_themes_section(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
    followed = await theme_service.followed_themes(session=session, team_id=team_id, user_id=user_id)
    links = await links_of(session=session, theme_ids=[t.id for t, _ in followed])
    return home_followed_themes(
        [
            (t.title, t.status, counts, t.updated_at, [(link.key, link.url) for link in links[t.id]])
            for t, counts in followed
        ]
    )


def register(app: AsyncApp) -> None:
    app.view(FeedbackId.THEME_MODAL)(submit_theme)
    app.action(_LINK_ACTION)(link_suggested_theme)
    app.action(FeedbackId.NEW_THEME)(open_theme_modal)
