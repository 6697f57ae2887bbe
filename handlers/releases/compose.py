"""The *New release* shortcut, the compose modal (new and Edit), a draft's previews and Discard."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.permissions import may_edit_release, may_submit_or_discard_release, require
from bot.core.uow import slack_unit_of_work
from bot.releases import approval as release_approval
from bot.releases import compose as release_compose
from bot.releases import releases as release_service
from bot.releases.schema import ReleaseIn, ReleasePatch
from bot.releases.views.compose import (
    ComposeForm,
    ComposeMetadata,
    compose_modal,
    option_list,
    preview,
    preview_controls,
    saved_notice,
)
from bot.releases.views.ids import WHEN_AT, WHEN_NOW, ReleaseId
from bot.slack.workspace import actor_of, workspace_of
from handlers.common import origin_channel, state_values, tell_privately
from handlers.releases._common import _open_compose, _release_id, _wake
from handlers.releases.form import (
    FIELD_BLOCKS,
    FieldError,
    content_fields,
    error_block,
    form_from_state,
    input_fields,
)
from models import Launch, LaunchStatus, Release, ReleaseStatus, Theme, ThemeStatus

OPTIONS_LIMIT = 50


async def new_release_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    await _open_compose(client, context, trigger_id=body["trigger_id"], user=body["user"]["id"], channel=None)


# ---- the modal ------------------------------------------------------------------------------


async def submit_compose(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    metadata = ComposeMetadata.model_validate_json(view.get("private_metadata") or "{}")
    user = body["user"]["id"]
    team_id = workspace_of(context)
    form = form_from_state(state_values(view), metadata)
    locked = review = False
    if metadata.release_id is not None:
        actor = await actor_of(context, user)
        async with slack_unit_of_work(context) as session:
            current = await release_service.get_release(
                session=session, team_id=team_id, release_id=metadata.release_id
            )
            # Asked again on submission: the release may have moved on since the modal opened.
            verdict = may_edit_release(actor, current)
            if not verdict.allowed:
                await ack(response_action="errors", errors={ReleaseId.TITLE_BLOCK: verdict.refusal})
                return
            review = verdict.review
            # Decided by what is stored, not by the modal: once posting started only text changes.
            locked = current.status in release_service.ON_AIR
    try:
        if metadata.release_id is None:
            data: ReleaseIn | ReleasePatch = ReleaseIn.model_validate(input_fields(form, owner=user))
        elif locked:
            data = ReleasePatch.model_validate(content_fields(form))
        else:
            fields = input_fields(form, owner=user)
            fields.pop("owner")
            data = ReleasePatch.model_validate(fields)
    except FieldError as exc:
        await ack(response_action="errors", errors={exc.block: str(exc)})
        return
    except ValidationError as exc:
        block, message = error_block(dict(exc.errors()[0]))
        await ack(response_action="errors", errors={block: message})
        return
    try:
        async with slack_unit_of_work(context) as session:
            if isinstance(data, ReleaseIn):
                release = await release_compose.create_release(
                    session=session,
                    team_id=team_id,
                    data=data,
                    by=user,
                    default_timezone=context["settings"].switchboard_timezone,
                )
                edit = None
            else:
                assert metadata.release_id is not None
                edit = await release_compose.update_release(
                    session=session,
                    team_id=team_id,
                    release_id=metadata.release_id,
                    patch=data,
                    by=user,
                    review=review,
                )
                release = edit.release
            messages = await _previews(session, release) if release.status == ReleaseStatus.DRAFT else []
    except UserError as exc:
        block = FIELD_BLOCKS.get(str(exc).split(":", 1)[0], ReleaseId.TITLE_BLOCK)
        await ack(response_action="errors", errors={block: str(exc)})
        return
    await ack()
    _wake(context)
    if edit is not None and release.status != ReleaseStatus.DRAFT:
        notice = saved_notice(
            release,
            approval_reset=edit.approval_reset,
            updates_posts=edit.updates_posts,
            awaiting_approval=edit.awaiting_approval,
        )
        messages = [(notice, [])]
    for text, blocks in messages:
        await tell_privately(client, user_id=user, channel=metadata.channel_id, text=text, blocks=blocks)


async def _previews(session: AsyncSession, release: Release) -> list[tuple[str, list[dict[str, Any]]]]:
    """One ephemeral per language, exactly as it will post, then what happens next."""
    posts = await release_service.posts_of(session=session, release_id=release.id)
    copies = await release_service.release_copies(session=session, release=release)
    messages = [
        preview(copy, [p.channel for p in posts if p.locale == locale]) for locale, copy in copies.items()
    ]
    messages.append(preview_controls(release, posts))
    return messages


async def add_language(
    ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
) -> None:
    """ "Add a language…": the modal grows fields for it, keeping what was typed."""
    await ack()
    view = body["view"]
    metadata = ComposeMetadata.model_validate_json(view.get("private_metadata") or "{}")
    locale = str((action.get("selected_option") or {}).get("value") or "")
    if not locale or locale in metadata.locales:
        return
    metadata.locales.append(locale)
    form = form_from_state(state_values(view), metadata)
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=compose_modal(form, metadata))


async def launch_options(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    query = str(body.get("value") or "").strip()
    async with slack_unit_of_work(context) as session:
        statement = (
            select(Launch.id, Launch.name)
            .where(Launch.team_id == workspace_of(context), Launch.status != LaunchStatus.CANCELLED)
            .order_by(Launch.target_date.desc())
            .limit(OPTIONS_LIMIT)
        )
        if query:
            statement = statement.where(Launch.name.ilike(f"%{_like(query)}%", escape="\\"))
        rows = [(int(i), str(n)) for i, n in (await session.execute(statement)).all()]
    await ack(options=option_list(rows))


async def theme_options(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    query = str(body.get("value") or "").strip()
    async with slack_unit_of_work(context) as session:
        statement = (
            select(Theme.id, Theme.title)
            .where(
                Theme.team_id == workspace_of(context),
                Theme.status != ThemeStatus.DECLINED,
                Theme.merged_into_id.is_(None),
            )
            .order_by(Theme.updated_at.desc())
            .limit(OPTIONS_LIMIT)
        )
        if query:
            statement = statement.where(Theme.title.ilike(f"%{_like(query)}%", escape="\\"))
        rows = [(int(i), str(t)) for i, t in (await session.execute(statement)).all()]
    await ack(options=option_list(rows))


def _like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


# ---- buttons ---------------------------------------------------------------------------------


async def edit_release(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, _ = _release_id(action)
    actor = await actor_of(context, body["user"]["id"])
    async with slack_unit_of_work(context) as session:
        release = await release_service.get_release(
            session=session, team_id=workspace_of(context), release_id=release_id
        )
        require(may_edit_release(actor, release))
        form, locales = await _form_of(session, release)
    metadata = ComposeMetadata(
        release_id=release.id,
        channel_id=origin_channel(body),
        locales=locales,
        locked=release.status in release_service.ON_AIR,
    )
    await client.views_open(trigger_id=body["trigger_id"], view=compose_modal(form, metadata))


async def _form_of(session: AsyncSession, release: Release) -> tuple[ComposeForm, list[str]]:
    variants = await release_service.variants_of(session=session, release_id=release.id)
    posts = await release_service.posts_of(session=session, release_id=release.id)
    theme_ids = await release_service.theme_ids_of(session=session, release_id=release.id)
    titles = await release_service.theme_titles(session=session, team_id=release.team_id, theme_ids=theme_ids)
    launch = await release_service.launch_name(
        session=session, team_id=release.team_id, launch_id=release.launch_id
    )
    locales = sorted(({p.locale for p in posts} | set(variants)) - {release.default_locale})
    local = (
        release.scheduled_at.astimezone(zoneinfo.ZoneInfo(release.timezone)) if release.scheduled_at else None
    )
    form = ComposeForm(
        title=release.title,
        version=release.version or "",
        summary=release.summary,
        notes=release.notes,
        default_locale=release.default_locale,
        launch=(release.launch_id, launch) if release.launch_id and launch else None,
        themes=[(t, titles[t]) for t in theme_ids if t in titles],
        channels=[p.channel for p in posts if p.locale == release.default_locale],
        variants={
            loc: {"title": v.title or "", "summary": v.summary or "", "notes": v.notes or ""}
            for loc, v in variants.items()
        },
        variant_channels={loc: [p.channel for p in posts if p.locale == loc] for loc in locales},
        when=WHEN_AT if local else WHEN_NOW,
        date=local.date().isoformat() if local else None,
        time=local.strftime("%H:%M") if local else None,
        timezone=release.timezone,
        approver=release.approver,
    )
    return form, locales


async def discard_release(
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
        require(may_submit_or_discard_release(actor, release))
        await release_approval.cancel_release(
            session=session, team_id=team_id, release_id=release_id, by=user
        )
    _wake(context)
    await respond(
        text=f":wastebasket: Release #{release_id} discarded; nothing was posted.", replace_original=True
    )


def register(app: AsyncApp) -> None:
    app.shortcut("new_release")(new_release_shortcut)
    app.view(ReleaseId.MODAL)(submit_compose)
    app.action(ReleaseId.ADD_LOCALE)(add_language)
    app.options(ReleaseId.LAUNCH)(launch_options)
    app.options(ReleaseId.THEMES)(theme_options)
    app.action(ReleaseId.EDIT)(edit_release)
    app.action(ReleaseId.DISCARD)(discard_release)
