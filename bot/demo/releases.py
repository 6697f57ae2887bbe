"""Demo chapter: a release is composed, approved, posted in English and French, and the customer
who asked for it hears."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core.uow import unit_of_work
from bot.demo.stage import Stage
from bot.emulator.state import TEAM_ID, Call
from bot.feedback import capture as feedback_service
from bot.feedback import themes as theme_service
from bot.feedback.schema import FeedbackIn
from bot.releases.views.ids import WHEN_AT, ReleaseId
from models import Feedback, Job, JobStatus, Release, Theme, ThemeStatus
from models.base import utcnow

OWNER = "U0PRIYA"
APPROVER = "U0BEN"
TIMEZONE = "Europe/Paris"
NOTES = (
    "## What's new\n"
    "- Export **every report** at once, as *CSV* or *XLSX*\n"
    "- Exports run in the background; you get a DM when they're ready\n\n"
    "[Read the guide](https://docs.example.com/bulk-export)"
)
FRENCH = {
    "title": "Export en masse",
    "summary": "Exportez tous vos rapports d'un coup.",
    "notes": (
        "## Nouveautés\n"
        "- Exportez **tous les rapports** d'un coup, en *CSV* ou *XLSX*\n"
        "- Les exports tournent en arrière-plan ; un message vous prévient quand ils sont prêts"
    ),
}


def _text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label or value}, "value": value}


def _modal_values(at: datetime, theme: tuple[int, str] | None) -> dict[str, Any]:
    """What @priya types into the release modal."""
    local = at.astimezone(ZoneInfo(TIMEZONE))
    values: dict[str, Any] = {
        ReleaseId.TITLE_BLOCK: {ReleaseId.TITLE: _text("Bulk export")},
        ReleaseId.VERSION_BLOCK: {ReleaseId.VERSION: _text("2.4")},
        ReleaseId.SUMMARY_BLOCK: {ReleaseId.SUMMARY: _text("Export all your reports in one go.")},
        ReleaseId.NOTES_BLOCK: {ReleaseId.NOTES: _text(NOTES)},
        ReleaseId.LAUNCH_BLOCK: {ReleaseId.LAUNCH: {"type": "external_select", "selected_option": None}},
        ReleaseId.THEMES_BLOCK: {
            ReleaseId.THEMES: {
                "type": "multi_external_select",
                "selected_options": [_option(str(theme[0]), theme[1])] if theme else [],
            }
        },
        ReleaseId.CHANNELS_BLOCK: {
            ReleaseId.CHANNELS: {
                "type": "multi_conversations_select",
                "selected_conversations": ["C0RELEASES"],
            }
        },
        ReleaseId.DEFAULT_LOCALE_BLOCK: {
            ReleaseId.DEFAULT_LOCALE: {
                "type": "static_select",
                "selected_option": _option("en", "English (en)"),
            }
        },
        ReleaseId.WHEN_BLOCK: {
            ReleaseId.WHEN: {"type": "radio_buttons", "selected_option": _option(WHEN_AT)}
        },
        ReleaseId.DATE_BLOCK: {
            ReleaseId.DATE: {"type": "datepicker", "selected_date": local.date().isoformat()}
        },
        ReleaseId.TIME_BLOCK: {
            ReleaseId.TIME: {"type": "timepicker", "selected_time": local.strftime("%H:%M")}
        },
        ReleaseId.TIMEZONE_BLOCK: {
            ReleaseId.TIMEZONE: {"type": "static_select", "selected_option": _option(TIMEZONE)}
        },
        ReleaseId.APPROVER_BLOCK: {ReleaseId.APPROVER: {"type": "users_select", "selected_user": APPROVER}},
        f"{ReleaseId.VARIANT_CHANNELS}:fr": {
            ReleaseId.VARIANT_VALUE: {
                "type": "multi_conversations_select",
                "selected_conversations": ["C0RELEASESFR"],
            }
        },
    }
    for prefix, key in (
        (ReleaseId.VARIANT_TITLE, "title"),
        (ReleaseId.VARIANT_SUMMARY, "summary"),
        (ReleaseId.VARIANT_NOTES, "notes"),
    ):
        values[f"{prefix}:fr"] = {ReleaseId.VARIANT_VALUE: _text(FRENCH[key])}
    return values


async def _requested_theme(stage: Stage) -> tuple[int, str]:
    """A theme customers asked for: one an earlier chapter logged, else Acme's request, logged now."""
    async with unit_of_work(stage.runtime.session_factory) as session:
        found = (
            await session.execute(
                select(Theme.id, Theme.title)
                .join(Feedback, Feedback.theme_id == Theme.id)
                .where(Theme.team_id == TEAM_ID, Theme.status != ThemeStatus.SHIPPED)
                .order_by(Theme.id)
                .limit(1)
            )
        ).first()
        if found is not None:
            return int(found[0]), str(found[1])
    stage.step("Earlier, in #support, @emma logged what Acme asked for as feedback (theme *Bulk export*)")
    ts = f"{int(time.time())}.000200"
    stage.emulator.messages["C0SUPPORT"].append(
        {
            "type": "message",
            "user": "U0EMMA",
            "ts": ts,
            "text": "Acme asks: can we export all reports at once?",
        }
    )
    async with unit_of_work(stage.runtime.session_factory) as session:
        theme = await theme_service.find_or_create_theme(
            session=session, team_id=TEAM_ID, title="Bulk export", created_by="U0EMMA"
        )
        await feedback_service.capture(
            session=session,
            team_id=TEAM_ID,
            data=FeedbackIn(
                text="Acme asks: can we export all reports at once?",
                source="shortcut",
                channel="C0SUPPORT",
                message_ts=ts,
                author="U0EMMA",
                reporter="U0EMMA",
                customer="Acme",
                theme_id=theme.id,
            ),
        )
        return theme.id, theme.title


async def _after(stage: Stage, method: str, request: Awaitable[object]) -> Call:
    """Send `request`, then the first `method` call Switchboard makes because of it."""
    before = len(stage.emulator.calls_to(method))
    await request
    return (await stage.emulator.wait_for(method, before + 1))[before]


async def _answered(stage: Stage, count_before: int) -> None:
    """Listeners ack first and answer through response_url when done."""
    await stage.emulator.wait_for("response_url", count_before + 1)


def _button(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise LookupError(action_id)


async def run(stage: Stage) -> None:
    stage.chapter("Release announcements: compose, approve, post in every language, close the loop")
    theme = await _requested_theme(stage)
    stage.show_new()

    stage.step("@priya types `/release new` in #general and fills in the modal")
    opened = await _after(
        stage, "views.open", stage.slack.command("/release", "new", user=OWNER, channel="C0GENERAL")
    )
    stage.show_new()

    at = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(TIMEZONE)).replace(hour=9, minute=0, second=0)
    stage.step(
        "@priya writes it in English and French: #releases reads English, #releases-fr French; "
        f"post tomorrow 09:00 {TIMEZONE}; approver @ben; it ships the *{theme[1]}* theme"
    )
    metadata = json.loads(opened["view"]["private_metadata"])
    metadata["locales"] = ["fr"]
    shown = len(stage.emulator.calls_to("chat.postEphemeral"))
    await stage.slack.view_submission(
        ReleaseId.MODAL, _modal_values(at, theme), user=OWNER, private_metadata=json.dumps(metadata)
    )
    previews = (await stage.emulator.wait_for("chat.postEphemeral", shown + 3))[-3:]
    stage.say("  Previews, only visible to @priya, exactly as each channel will see it:")
    stage.show_new()

    stage.step("@priya clicks *Send for approval*")
    answered = len(stage.emulator.calls_to("response_url"))
    await stage.slack.block_action(
        ReleaseId.SUBMIT, _button(previews[-1]["blocks"], ReleaseId.SUBMIT), user=OWNER, channel="C0GENERAL"
    )
    await _answered(stage, answered)
    await stage.run_scheduler()
    stage.show_new()

    stage.step("@ben clicks *Approve* in his DM")
    request = [c for c in stage.emulator.calls_to("chat.postMessage") if c.get("channel") == APPROVER][-1]
    answered = len(stage.emulator.calls_to("response_url"))
    await stage.slack.block_action(
        ReleaseId.APPROVE, _button(request["blocks"], ReleaseId.APPROVE), user=APPROVER, channel="D0BEN"
    )
    await _answered(stage, answered)
    await stage.run_scheduler()
    stage.show_new()

    stage.step("09:00 in Paris: the scheduler posts it in each channel's language")
    async with unit_of_work(stage.runtime.session_factory) as session:
        now = utcnow()
        await session.execute(update(Release).where(Release.team_id == TEAM_ID).values(scheduled_at=now))
        await session.execute(
            update(Job)
            .where(Job.kind == "release.deliver", Job.status == JobStatus.PENDING)
            .values(run_at=now)
        )
    for _ in range(3):
        await stage.run_scheduler()
    stage.show_new()

    stage.step("@priya spots a typo after posting and fixes it (*Edit* in `/release status`)")
    status = (
        await stage.slack.command("/release", "status Bulk export", user=OWNER, channel="C0GENERAL")
    ).json()
    edit = await _after(
        stage,
        "views.open",
        stage.slack.block_action(ReleaseId.EDIT, _button(status["blocks"], ReleaseId.EDIT), user=OWNER),
    )
    values = _modal_values(at, theme)
    values[ReleaseId.SUMMARY_BLOCK][ReleaseId.SUMMARY] = _text("Export all your reports in one click.")
    await stage.slack.view_submission(
        ReleaseId.MODAL, values, user=OWNER, private_metadata=edit["view"]["private_metadata"]
    )
    await stage.run_scheduler()
    stage.show_new()

    stage.step("@ben sees what changed in his DM and approves it; every posted message follows")
    request = [c for c in stage.emulator.calls_to("chat.postMessage") if c.get("channel") == APPROVER][-1]
    answered = len(stage.emulator.calls_to("response_url"))
    await stage.slack.block_action(
        ReleaseId.APPROVE, _button(request["blocks"], ReleaseId.APPROVE), user=APPROVER, channel="D0BEN"
    )
    await _answered(stage, answered)
    await stage.run_scheduler()
    stage.show_new()

    stage.step("@priya checks `/release status Bulk export`")
    stage.show_new(
        await stage.slack.command("/release", "status Bulk export", user=OWNER, channel="C0GENERAL")
    )
