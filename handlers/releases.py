"""`/release`, the *New release* shortcut, the compose modal, previews and approvals."""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.text import plural
from bot.core.uow import slack_unit_of_work
from bot.releases import compose as release_service
from bot.releases.schema import ReleaseIn, ReleasePatch
from bot.releases.views import (
    WHEN_AT,
    WHEN_NOW,
    ComposeForm,
    ComposeMetadata,
    ReleaseId,
    approval_answered,
    changes_modal,
    compose_modal,
    option_list,
    preview,
    preview_controls,
    release_list,
    release_status,
    saved_notice,
    usage,
)
from handlers.common import (
    ack_ephemeral,
    input_state,
    input_text,
    origin_channel,
    selected_value,
    split_command,
    state_values,
    tell_privately,
)
from models import Launch, LaunchStatus, Release, ReleaseStatus, Theme, ThemeStatus
from models.base import utcnow

log = logging.getLogger(__name__)

OPTIONS_LIMIT = 50


def _team_id(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or body.get("team_id") or body["user"].get("team_id"))


def _wake(context: AsyncBoltContext) -> None:
    context["runtime"].wake_scheduler()


# ---- /release ---------------------------------------------------------------------------------


async def release_command(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    sub, rest = split_command(command.get("text"))
    team_id, user = command["team_id"], command["user_id"]
    if sub == "new":
        await ack()
        await _open_compose(
            client, context, trigger_id=command["trigger_id"], user=user, channel=command["channel_id"]
        )
        return
    try:
        if sub == "list":
            async with slack_unit_of_work(context) as session:
                releases = await release_service.list_releases(session=session, team_id=team_id, limit=15)
                counts = await release_service.post_counts(
                    session=session, release_ids=[r.id for r in releases]
                )
            await ack_ephemeral(ack, "Recent releases", release_list(releases, counts))
            return
        if sub in {"status", "cancel"} and rest:
            async with slack_unit_of_work(context) as session:
                release = await release_service.find_release(session=session, team_id=team_id, reference=rest)
                if sub == "cancel":
                    release = await release_service.cancel_release(
                        session=session, team_id=team_id, release_id=release.id, by=user
                    )
                text, blocks = await _status(session, release)
            if sub == "cancel":
                _wake(context)
                text = f"Release #{release.id} is cancelled; nothing will be posted."
            await ack_ephemeral(ack, text, blocks)
            return
    except UserError as exc:
        await ack_ephemeral(ack, f":warning: {exc}")
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


async def _status(session: AsyncSession, release: Release) -> tuple[str, list[dict[str, Any]]]:
    posts = await release_service.posts_of(session=session, release_id=release.id)
    events = await release_service.events_of(session=session, release_id=release.id)
    return release_status(release, posts, events)


async def new_release_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    await _open_compose(client, context, trigger_id=body["trigger_id"], user=body["user"]["id"], channel=None)


async def _user_timezone(client: AsyncWebClient, user: str, default: str) -> str:
    try:
        answer = await client.users_info(user=user)
    except SlackApiError:
        return default
    zone = str((answer.get("user") or {}).get("tz") or default)
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return default
    return zone


async def _open_compose(
    client: AsyncWebClient, context: AsyncBoltContext, *, trigger_id: str, user: str, channel: str | None
) -> None:
    zone = await _user_timezone(client, user, context["settings"].switchboard_timezone)
    form = ComposeForm(timezone=zone)
    await client.views_open(
        trigger_id=trigger_id, view=compose_modal(form, ComposeMetadata(channel_id=channel))
    )


# ---- the modal ------------------------------------------------------------------------------


def _form_from_state(values: dict[str, Any], metadata: ComposeMetadata) -> ComposeForm:
    """What the person has entered so far."""
    launch = input_state(values, ReleaseId.LAUNCH_BLOCK, ReleaseId.LAUNCH).get("selected_option")
    themes = input_state(values, ReleaseId.THEMES_BLOCK, ReleaseId.THEMES).get("selected_options") or []
    default = selected_value(values, ReleaseId.DEFAULT_LOCALE_BLOCK, ReleaseId.DEFAULT_LOCALE) or "en"
    when = selected_value(values, ReleaseId.WHEN_BLOCK, ReleaseId.WHEN)
    zone = selected_value(values, ReleaseId.TIMEZONE_BLOCK, ReleaseId.TIMEZONE)
    form = ComposeForm(
        title=input_text(values, ReleaseId.TITLE_BLOCK, ReleaseId.TITLE),
        version=input_text(values, ReleaseId.VERSION_BLOCK, ReleaseId.VERSION),
        summary=input_text(values, ReleaseId.SUMMARY_BLOCK, ReleaseId.SUMMARY),
        notes=input_text(values, ReleaseId.NOTES_BLOCK, ReleaseId.NOTES),
        default_locale=str(default),
        launch=(int(launch["value"]), str(launch["text"]["text"])) if launch else None,
        themes=[(int(o["value"]), str(o["text"]["text"])) for o in themes],
        channels=list(
            input_state(values, ReleaseId.CHANNELS_BLOCK, ReleaseId.CHANNELS).get("selected_conversations")
            or []
        ),
        when=str(when or WHEN_NOW),
        date=input_state(values, ReleaseId.DATE_BLOCK, ReleaseId.DATE).get("selected_date"),
        time=input_state(values, ReleaseId.TIME_BLOCK, ReleaseId.TIME).get("selected_time"),
        timezone=str(zone or "UTC"),
        approver=input_state(values, ReleaseId.APPROVER_BLOCK, ReleaseId.APPROVER).get("selected_user"),
    )
    for locale in metadata.locales:
        fields = {
            name: input_text(values, f"{prefix}:{locale}", ReleaseId.VARIANT_VALUE)
            for name, prefix in (
                ("title", ReleaseId.VARIANT_TITLE),
                ("summary", ReleaseId.VARIANT_SUMMARY),
                ("notes", ReleaseId.VARIANT_NOTES),
            )
        }
        form.variants[locale] = {k: v for k, v in fields.items() if v}
        form.variant_channels[locale] = list(
            input_state(values, f"{ReleaseId.VARIANT_CHANNELS}:{locale}", ReleaseId.VARIANT_VALUE).get(
                "selected_conversations"
            )
            or []
        )
    return form


def _scheduled_at(form: ComposeForm) -> datetime | str:
    if form.when != WHEN_AT:
        return "now"
    if not form.date or not form.time:
        raise _FieldError(
            ReleaseId.DATE_BLOCK, "Pick a date and a time, or choose “As soon as it is approved”."
        )
    local = datetime.combine(date.fromisoformat(form.date), time.fromisoformat(form.time))
    moment = local.replace(tzinfo=zoneinfo.ZoneInfo(form.timezone))
    if moment <= utcnow():
        raise _FieldError(ReleaseId.TIME_BLOCK, "That time has already passed; pick a later one.")
    return moment


class _FieldError(Exception):
    def __init__(self, block: str, message: str) -> None:
        super().__init__(message)
        self.block = block


_FIELD_BLOCKS = {
    "title": ReleaseId.TITLE_BLOCK,
    "version": ReleaseId.VERSION_BLOCK,
    "summary": ReleaseId.SUMMARY_BLOCK,
    "notes": ReleaseId.NOTES_BLOCK,
    "channels": ReleaseId.CHANNELS_BLOCK,
    "channel_locales": ReleaseId.CHANNELS_BLOCK,
    "default_locale": ReleaseId.DEFAULT_LOCALE_BLOCK,
    "approver": ReleaseId.APPROVER_BLOCK,
    "timezone": ReleaseId.TIMEZONE_BLOCK,
    "launch_id": ReleaseId.LAUNCH_BLOCK,
    "theme_ids": ReleaseId.THEMES_BLOCK,
}
_VARIANT_BLOCKS = {
    "title": ReleaseId.VARIANT_TITLE,
    "summary": ReleaseId.VARIANT_SUMMARY,
    "notes": ReleaseId.VARIANT_NOTES,
}


CONTENT_KEYS = (
    "title",
    "version",
    "summary",
    "notes",
    "default_locale",
    "launch_id",
    "theme_ids",
    "variants",
)


def _content_fields(form: ComposeForm) -> dict[str, Any]:
    return {
        "title": form.title,
        "version": form.version or None,
        "summary": form.summary,
        "notes": form.notes,
        "default_locale": form.default_locale,
        "launch_id": form.launch[0] if form.launch else None,
        "theme_ids": [t for t, _ in form.themes],
        "variants": {loc: v for loc, v in form.variants.items() if loc != form.default_locale},
    }


def _input_fields(form: ComposeForm, owner: str) -> dict[str, Any]:
    mapping: dict[str, str] = {}
    for locale, channels in form.variant_channels.items():
        for channel in channels:
            if channel in mapping and mapping[channel] != locale:
                raise _FieldError(
                    f"{ReleaseId.VARIANT_CHANNELS}:{locale}",
                    f"<#{channel}> is already listed under `{mapping[channel]}`; "
                    "a channel reads one language.",
                )
            mapping[channel] = locale
    return {
        **_content_fields(form),
        "channels": form.channels,
        "channel_locales": {c: loc for c, loc in mapping.items() if loc != form.default_locale},
        "owner": owner,
        "approver": form.approver,
        "scheduled_at": _scheduled_at(form),
        "timezone": form.timezone,
    }


def _error_block(error: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in error.get("loc", ())]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if loc and loc[0] == "variants" and len(loc) >= 3 and loc[2] in _VARIANT_BLOCKS:
        return f"{_VARIANT_BLOCKS[loc[2]]}:{loc[1]}", message
    if loc and loc[0] in _FIELD_BLOCKS:
        return _FIELD_BLOCKS[loc[0]], message
    if message.startswith("channels:"):
        return ReleaseId.CHANNELS_BLOCK, message.removeprefix("channels:").strip()
    return ReleaseId.TITLE_BLOCK, message


async def submit_compose(
    ack: AsyncAck,
    view: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    metadata = ComposeMetadata.model_validate_json(view.get("private_metadata") or "{}")
    user = body["user"]["id"]
    team_id = _team_id(body)
    form = _form_from_state(state_values(view), metadata)
    locked = False
    if metadata.release_id is not None:
        async with slack_unit_of_work(context) as session:
            current = await release_service.get_release(
                session=session, team_id=team_id, release_id=metadata.release_id
            )
            # Decided by what is stored, not by the modal: once posting started only text changes.
            locked = current.status in release_service.ON_AIR
    try:
        if metadata.release_id is None:
            data: ReleaseIn | ReleasePatch = ReleaseIn.model_validate(_input_fields(form, owner=user))
        elif locked:
            data = ReleasePatch.model_validate(_content_fields(form))
        else:
            fields = _input_fields(form, owner=user)
            fields.pop("owner")
            data = ReleasePatch.model_validate(fields)
    except _FieldError as exc:
        await ack(response_action="errors", errors={exc.block: str(exc)})
        return
    except ValidationError as exc:
        block, message = _error_block(dict(exc.errors()[0]))
        await ack(response_action="errors", errors={block: message})
        return
    try:
        async with slack_unit_of_work(context) as session:
            if isinstance(data, ReleaseIn):
                release = await release_service.create_release(
                    session=session,
                    team_id=team_id,
                    data=data,
                    by=user,
                    default_timezone=context["settings"].switchboard_timezone,
                )
                edit = None
            else:
                assert metadata.release_id is not None
                edit = await release_service.update_release(
                    session=session, team_id=team_id, release_id=metadata.release_id, patch=data, by=user
                )
                release = edit.release
            messages = await _previews(session, release) if release.status == ReleaseStatus.DRAFT else []
    except UserError as exc:
        block = _FIELD_BLOCKS.get(str(exc).split(":", 1)[0], ReleaseId.TITLE_BLOCK)
        await ack(response_action="errors", errors={block: str(exc)})
        return
    await ack()
    _wake(context)
    if edit is not None and release.status != ReleaseStatus.DRAFT:
        notice = saved_notice(release, approval_reset=edit.approval_reset, updates_posts=edit.updates_posts)
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
    form = _form_from_state(state_values(view), metadata)
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=compose_modal(form, metadata))


async def launch_options(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    query = str(body.get("value") or "").strip()
    async with slack_unit_of_work(context) as session:
        statement = (
            select(Launch.id, Launch.name)
            .where(Launch.team_id == _team_id(body), Launch.status != LaunchStatus.CANCELLED)
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
                Theme.team_id == _team_id(body),
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


def _release_id(action: dict[str, Any]) -> tuple[int, int | None]:
    head, _, revision = str(action.get("value") or "").partition(":")
    if not head.isdigit():
        raise UserError("That button no longer points at a release.")
    return int(head), int(revision) if revision.isdigit() else None


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
    async with slack_unit_of_work(context) as session:
        release = await release_service.submit_for_approval(
            session=session, team_id=_team_id(body), release_id=release_id, by=user
        )
        approver = release.approver
    _wake(context)
    await respond(
        text=f":outbox_tray: Release #{release_id} is with <@{approver}> for approval; "
        "you'll hear back here.",
        replace_original=True,
    )


async def edit_release(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, _ = _release_id(action)
    async with slack_unit_of_work(context) as session:
        release = await release_service.get_release(
            session=session, team_id=_team_id(body), release_id=release_id
        )
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
    async with slack_unit_of_work(context) as session:
        await release_service.cancel_release(
            session=session, team_id=_team_id(body), release_id=release_id, by=body["user"]["id"]
        )
    _wake(context)
    await respond(
        text=f":wastebasket: Release #{release_id} discarded; nothing was posted.", replace_original=True
    )


async def cancel_from_status(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, _ = _release_id(action)
    async with slack_unit_of_work(context) as session:
        release = await release_service.cancel_release(
            session=session, team_id=_team_id(body), release_id=release_id, by=body["user"]["id"]
        )
        text, blocks = await _status(session, release)
    _wake(context)
    await respond(text=text, blocks=blocks, replace_original=True)


async def approve(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, revision = _release_id(action)
    user = body["user"]["id"]
    async with slack_unit_of_work(context) as session:
        release = await release_service.approve_release(
            session=session,
            team_id=_team_id(body),
            release_id=release_id,
            by=user,
            as_approver=True,
            revision=revision,
        )
        text = approval_answered(release, approved=True, by=user)
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
    release_id, revision = _release_id(action)
    async with slack_unit_of_work(context) as session:
        release = await release_service.get_release(
            session=session, team_id=_team_id(body), release_id=release_id
        )
        if release.status != ReleaseStatus.PENDING_APPROVAL:
            raise UserError(f"Release #{release.id} is {release.status}; it is not waiting for approval.")
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
        async with slack_unit_of_work(context) as session:
            release = await release_service.request_changes(
                session=session, team_id=_team_id(body), release_id=int(release_id), by=user, reason=reason
            )
            text = approval_answered(release, approved=False, by=user)
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


async def retry_failed(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    release_id, _ = _release_id(action)
    async with slack_unit_of_work(context) as session:
        count = await release_service.retry_failed_posts(
            session=session, team_id=_team_id(body), release_id=release_id, by=body["user"]["id"]
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
    app.shortcut("new_release")(new_release_shortcut)
    app.view(ReleaseId.MODAL)(submit_compose)
    app.view(ReleaseId.CHANGES_MODAL)(submit_request_changes)
    app.action(ReleaseId.ADD_LOCALE)(add_language)
    app.options(ReleaseId.LAUNCH)(launch_options)
    app.options(ReleaseId.THEMES)(theme_options)
    app.action(ReleaseId.SUBMIT)(send_for_approval)
    app.action(ReleaseId.EDIT)(edit_release)
    app.action(ReleaseId.DISCARD)(discard_release)
    app.action(ReleaseId.CANCEL)(cancel_from_status)
    app.action(ReleaseId.APPROVE)(approve)
    app.action(ReleaseId.REQUEST_CHANGES)(open_request_changes)
    app.action(ReleaseId.RETRY)(retry_failed)
