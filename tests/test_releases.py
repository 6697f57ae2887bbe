"""Release announcements end to end: compose in the modal, preview, approve, post on schedule in
two languages, report, edit after posting, cancel — through signed requests and the emulator."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from bot.releases.posting import delivery_key
from bot.releases.views.ids import ReleaseId
from models import Job, Release, ReleaseEvent, ReleasePost
from models.base import utcnow
from tests.helpers import rendered

TEAM = "T0SWITCH"
OWNER = "U0ALICE"
APPROVER = "U0BOB"
EN_CHANNELS = ["C0RELEASES", "C0PRODUCT"]
FR_CHANNELS = ["C0RELEASESFR"]


@pytest.fixture
def audience(emulator: SlackEmulator) -> list[str]:
    return add_audience(emulator)


def add_audience(emulator: SlackEmulator) -> list[str]:
    """#releases and #product read English, #releases-fr French."""
    members = [BOT_USER_ID, OWNER, APPROVER]
    emulator.add_channel("C0RELEASES", "releases", members=members)
    emulator.add_channel("C0PRODUCT", "product", members=members)
    emulator.add_channel("C0RELEASESFR", "releases-fr", members=members)
    return EN_CHANNELS + FR_CHANNELS


# ---- helpers shared by the release tests ----------------------------------------------------------


def option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def text_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def modal_state(
    *,
    title: str = "Bulk export",
    version: str = "2.4",
    summary: str = "Export any report as CSV or XLSX.",
    notes: str = "## What's new\n- **CSV** and *XLSX* exports\n- [Docs](https://docs.example.com/export)",
    channels: list[str] | None = None,
    fr: dict[str, str] | None = None,
    fr_channels: list[str] | None = None,
    when: str = "at",
    at: datetime | None = None,
    timezone: str = "Europe/Paris",
    approver: str | None = APPROVER,
    themes: list[tuple[int, str]] | None = None,
    launch: tuple[int, str] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """`view.state.values` of a filled-in release modal, shaped as Slack sends it."""
    local = (at or utcnow() + timedelta(hours=2)).astimezone(ZoneInfo(timezone))
    values: dict[str, dict[str, dict[str, Any]]] = {
        ReleaseId.TITLE_BLOCK: {ReleaseId.TITLE: text_value(title)},
        ReleaseId.VERSION_BLOCK: {ReleaseId.VERSION: text_value(version)},
        ReleaseId.SUMMARY_BLOCK: {ReleaseId.SUMMARY: text_value(summary)},
        ReleaseId.NOTES_BLOCK: {ReleaseId.NOTES: text_value(notes)},
        ReleaseId.LAUNCH_BLOCK: {
            ReleaseId.LAUNCH: {
                "type": "external_select",
                "selected_option": option(str(launch[0]), launch[1]) if launch else None,
            }
        },
        ReleaseId.THEMES_BLOCK: {
            ReleaseId.THEMES: {
                "type": "multi_external_select",
                "selected_options": [option(str(i), t) for i, t in themes or []],
            }
        },
        ReleaseId.CHANNELS_BLOCK: {
            ReleaseId.CHANNELS: {
                "type": "multi_conversations_select",
                "selected_conversations": EN_CHANNELS if channels is None else channels,
            }
        },
        ReleaseId.DEFAULT_LOCALE_BLOCK: {
            ReleaseId.DEFAULT_LOCALE: {
                "type": "static_select",
                "selected_option": option("en", "English (en)"),
            }
        },
        ReleaseId.WHEN_BLOCK: {ReleaseId.WHEN: {"type": "radio_buttons", "selected_option": option(when)}},
        ReleaseId.DATE_BLOCK: {
            ReleaseId.DATE: {"type": "datepicker", "selected_date": local.date().isoformat()}
        },
        ReleaseId.TIME_BLOCK: {
            ReleaseId.TIME: {"type": "timepicker", "selected_time": local.strftime("%H:%M")}
        },
        ReleaseId.TIMEZONE_BLOCK: {
            ReleaseId.TIMEZONE: {"type": "static_select", "selected_option": option(timezone)}
        },
        ReleaseId.APPROVER_BLOCK: {ReleaseId.APPROVER: {"type": "users_select", "selected_user": approver}},
    }
    if fr is not None or fr_channels is not None:
        fr = fr or {}
        for prefix, key in (
            (ReleaseId.VARIANT_TITLE, "title"),
            (ReleaseId.VARIANT_SUMMARY, "summary"),
            (ReleaseId.VARIANT_NOTES, "notes"),
        ):
            values[f"{prefix}:fr"] = {ReleaseId.VARIANT_VALUE: text_value(fr.get(key))}
        values[f"{ReleaseId.VARIANT_CHANNELS}:fr"] = {
            ReleaseId.VARIANT_VALUE: {
                "type": "multi_conversations_select",
                "selected_conversations": FR_CHANNELS if fr_channels is None else fr_channels,
            }
        }
    return values


FRENCH = {
    "title": "Export en masse",
    "summary": "Exportez n'importe quel rapport en CSV ou XLSX.",
    "notes": "## Nouveautés\n- Exports **CSV** et *XLSX*",
}


def metadata(
    *, locales: list[str] | None = None, release_id: int | None = None, channel: str = "C0GENERAL"
) -> str:
    return json.dumps({"release_id": release_id, "channel_id": channel, "locales": locales or []})


async def compose(slack: SlackSender, **state: Any) -> httpx.Response:
    """Submit the release modal as OWNER, in French and English unless told otherwise."""
    state.setdefault("fr", FRENCH)
    return await slack.view_submission(
        ReleaseId.MODAL, modal_state(**state), user=OWNER, private_metadata=metadata(locales=["fr"])
    )


async def release_row(runtime: Runtime, release_id: int = 1) -> Release:
    async with unit_of_work(runtime.session_factory) as session:
        release = await session.get(Release, release_id)
        assert release is not None
        return release


async def posts(runtime: Runtime, release_id: int = 1) -> dict[str, ReleasePost]:
    async with unit_of_work(runtime.session_factory) as session:
        rows = await session.scalars(select(ReleasePost).where(ReleasePost.release_id == release_id))
        return {p.channel: p for p in rows}


async def events(runtime: Runtime, release_id: int = 1) -> list[tuple[str, str | None]]:
    async with unit_of_work(runtime.session_factory) as session:
        rows = await session.scalars(
            select(ReleaseEvent).where(ReleaseEvent.release_id == release_id).order_by(ReleaseEvent.id)
        )
        return [(e.kind, e.actor) for e in rows]


async def arrive_at_scheduled_time(runtime: Runtime, release_id: int = 1) -> None:
    """Move the clock past the release's time: its time and its posting job fall due now."""
    now = utcnow() - timedelta(seconds=2)
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(update(Release).where(Release.id == release_id).values(scheduled_at=now))
        await session.execute(
            update(Job)
            .where(
                Job.kind == "release.deliver", Job.dedupe_key.like(f"{release_id}:%"), Job.status == "pending"
            )
            .values(run_at=now)
        )


def channel_posts(emulator: SlackEmulator, channel: str, release_id: int = 1) -> list[dict[str, Any]]:
    """Messages of this release in `channel`, found by their metadata (what Slack really holds)."""
    key = delivery_key(release_id, channel)
    return [
        m
        for m in emulator.messages.get(channel, [])
        if ((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key
    ]


def dms_to(emulator: SlackEmulator, user: str) -> list[Any]:
    return [c for c in emulator.calls_to("chat.postMessage") if c.get("channel") in {user, "D" + user[1:]}]


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:500]}")


async def approve_in_slack(
    slack: SlackSender, emulator: SlackEmulator, run_jobs: Any, *, user: str = APPROVER
) -> httpx.Response:
    """Run the queue so the approval DM goes out, then click its Approve button as `user`."""
    await run_jobs()
    (request,) = dms_to(emulator, APPROVER)
    value = button_value(request["blocks"], ReleaseId.APPROVE)
    answered = len(emulator.calls_to("response_url"))
    response = await slack.block_action(ReleaseId.APPROVE, value, user=user, channel="D" + APPROVER[1:])
    # The listener acks first and answers through response_url when done.
    await emulator.wait_for("response_url", answered + 1)
    return response


# ---- the main flow -----------------------------------------------------------------------------------


async def test_compose_preview_approve_then_post_on_schedule_in_two_languages(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    audience: list[str],
) -> None:
    # /release new opens the modal; "Add a language" grows French fields into it.
    assert (await slack.command("/release", "new", user=OWNER)).status_code == 200
    (opened,) = await emulator.wait_for("views.open")
    assert opened["view"]["callback_id"] == ReleaseId.MODAL
    view_id = emulator.responses[-1]["view"]["id"]
    await slack.block_action(
        ReleaseId.ADD_LOCALE,
        user=OWNER,
        action={
            "type": "static_select",
            "action_id": ReleaseId.ADD_LOCALE,
            "block_id": ReleaseId.ADD_LOCALE_BLOCK,
            "selected_option": option("fr", "French (fr)"),
            "action_ts": f"{time.time():.6f}",
        },
        view={
            "id": view_id,
            "hash": "h1",
            "private_metadata": opened["view"]["private_metadata"],
            "state": {"values": modal_state()},
        },
    )
    (grown,) = await emulator.wait_for("views.update")
    block_ids = [b.get("block_id") for b in grown["view"]["blocks"]]
    assert f"{ReleaseId.VARIANT_TITLE}:fr" in block_ids and f"{ReleaseId.VARIANT_CHANNELS}:fr" in block_ids
    # What was typed survives the update.
    assert "Bulk export" in json.dumps(grown["view"]["blocks"])

    # Submitting previews every language, ephemerally, exactly as it will post.
    at = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = await compose(slack, at=at)
    assert response.status_code == 200 and not response.content
    previews = await emulator.wait_for("chat.postEphemeral", 3)
    assert all(p["user"] == OWNER and p["channel"] == "C0GENERAL" for p in previews)
    en_preview, fr_preview, controls = previews
    assert "English" in rendered(en_preview["blocks"][:1]) and "<#C0RELEASES>" in rendered(
        en_preview["blocks"][:1]
    )
    assert "Export en masse" in rendered(fr_preview["blocks"]) and "<#C0RELEASESFR>" in rendered(
        fr_preview["blocks"]
    )
    assert "*CSV*" in rendered(en_preview["blocks"]) and "<https://docs.example.com/export|Docs>" in rendered(
        en_preview["blocks"]
    )
    release = await release_row(runtime)
    assert release.status == "draft" and release.scheduled_at == at and release.timezone == "Europe/Paris"
    assert {c: p.locale for c, p in (await posts(runtime)).items()} == {
        "C0RELEASES": "en",
        "C0PRODUCT": "en",
        "C0RELEASESFR": "fr",
    }

    # Nothing can post before approval.
    blocked = await api.post("/api/v1/releases/1/schedule", json={"at": "now"})
    assert blocked.status_code == 409 and "approval" in blocked.json()["message"]

    # Send for approval: the approver gets a DM with the message and Approve / Request changes.
    submit = button_value(controls["blocks"], ReleaseId.SUBMIT)
    await slack.block_action(ReleaseId.SUBMIT, submit, user=OWNER)
    (replaced,) = await emulator.wait_for("response_url")
    assert replaced["replace_original"] is True and "<@U0BOB>" in replaced["text"]
    assert (await release_row(runtime)).status == "pending_approval"

    # Only the approver may approve.
    await run_jobs()
    (request,) = dms_to(emulator, APPROVER)
    assert "Bulk export" in rendered(request["blocks"])
    await slack.block_action(
        ReleaseId.APPROVE, button_value(request["blocks"], ReleaseId.APPROVE), user="U0CAROL", channel="D0BOB"
    )
    await emulator.wait_for("response_url", 2)
    assert "Only <@U0BOB>" in emulator.calls_to("response_url")[-1]["text"]
    assert (await release_row(runtime)).status == "pending_approval"

    await slack.block_action(
        ReleaseId.APPROVE, button_value(request["blocks"], ReleaseId.APPROVE), user=APPROVER, channel="D0BOB"
    )
    await emulator.wait_for("response_url", 3)
    assert "approved" in emulator.calls_to("response_url")[-1]["text"]
    release = await release_row(runtime)
    assert release.status == "scheduled" and release.approved_by == APPROVER

    # The posting job is listed as upcoming work, due at the agreed time; nothing posts before it.
    jobs = (await api.get("/api/v1/jobs")).json()["items"]
    (deliver,) = [j for j in jobs if j["kind"] == "release.deliver"]
    assert datetime.fromisoformat(deliver["run_at"]) == at
    await run_jobs()
    assert all(not channel_posts(emulator, c) for c in audience)

    # At the time: one message per channel, each in its language, exactly as previewed.
    await arrive_at_scheduled_time(runtime)
    await run_jobs()
    for channel in audience:
        assert len(channel_posts(emulator, channel)) == 1, channel
    (english,) = channel_posts(emulator, "C0RELEASES")
    assert english["blocks"] == en_preview["blocks"][1:]
    (french,) = channel_posts(emulator, "C0RELEASESFR")
    assert french["blocks"] == fr_preview["blocks"][1:]
    assert "Export en masse" in rendered(french["blocks"]) and "Bulk export" not in rendered(french["blocks"])

    stored = await posts(runtime)
    assert all(p.state == "posted" and p.ts for p in stored.values())
    assert stored["C0RELEASES"].permalink and stored["C0RELEASES"].permalink.endswith(
        "/archives/C0RELEASES/p" + english["ts"].replace(".", "")
    )
    release = await release_row(runtime)
    assert release.status == "posted" and release.posted_at is not None

    # The owner hears where it went; the history says who did what.
    await run_jobs()
    report = dms_to(emulator, OWNER)[-1]
    assert "posted in 3 of 3 channels" in rendered(report["blocks"])
    assert [kind for kind, _ in await events(runtime)] == [
        "created",
        "submitted",
        "approved",
        "scheduled",
        "posting",
        "posted",
    ]
    assert dict(await events(runtime))["approved"] == APPROVER
    # The owner was told of the approval too.
    assert any("approved release" in c["text"] for c in dms_to(emulator, OWNER))

    # /release status lists every channel with a link.
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    text = rendered(status["blocks"])
    assert "posted" in text and "<#C0RELEASESFR>" in text and stored["C0RELEASES"].permalink in text
