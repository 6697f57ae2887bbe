"""The compose modal's values: read into a `ComposeForm`, turned into a release's fields, and each
validation error pointed at the field it is about."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time
from typing import Any

from bot.releases.views.compose import ComposeForm, ComposeMetadata
from bot.releases.views.ids import WHEN_AT, WHEN_NOW, ReleaseId
from handlers.common import input_state, input_text, selected_value
from models.base import utcnow


def form_from_state(values: dict[str, Any], metadata: ComposeMetadata) -> ComposeForm:
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
        raise FieldError(
            ReleaseId.DATE_BLOCK, "Pick a date and a time, or choose “As soon as it is approved”."
        )
    local = datetime.combine(date.fromisoformat(form.date), time.fromisoformat(form.time))
    moment = local.replace(tzinfo=zoneinfo.ZoneInfo(form.timezone))
    if moment <= utcnow():
        raise FieldError(ReleaseId.TIME_BLOCK, "That time has already passed; pick a later one.")
    return moment


class FieldError(Exception):
    def __init__(self, block: str, message: str) -> None:
        super().__init__(message)
        self.block = block


FIELD_BLOCKS = {
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


def content_fields(form: ComposeForm) -> dict[str, Any]:
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


def input_fields(form: ComposeForm, owner: str) -> dict[str, Any]:
    mapping: dict[str, str] = {}
    for locale, channels in form.variant_channels.items():
        for channel in channels:
            if channel in mapping and mapping[channel] != locale:
                raise FieldError(
                    f"{ReleaseId.VARIANT_CHANNELS}:{locale}",
                    f"<#{channel}> is already listed under `{mapping[channel]}`; "
                    "a channel reads one language.",
                )
            mapping[channel] = locale
    return {
        **content_fields(form),
        "channels": form.channels,
        "channel_locales": {c: loc for c, loc in mapping.items() if loc != form.default_locale},
        "owner": owner,
        "approver": form.approver,
        "scheduled_at": _scheduled_at(form),
        "timezone": form.timezone,
    }


def error_block(error: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in error.get("loc", ())]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if loc and loc[0] == "variants" and len(loc) >= 3 and loc[2] in _VARIANT_BLOCKS:
        return f"{_VARIANT_BLOCKS[loc[2]]}:{loc[1]}", message
    if loc and loc[0] in FIELD_BLOCKS:
        return FIELD_BLOCKS[loc[0]], message
    if message.startswith("channels:"):
        return ReleaseId.CHANNELS_BLOCK, message.removeprefix("channels:").strip()
    return ReleaseId.TITLE_BLOCK, message
