"""After composing: edits (before posting they go back for approval; after, every message
follows), changes requested, cancelling, and closing the loop with the people who asked."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from bot.releases.views.ids import ReleaseId
from models import Feedback, FeedbackReporter, Theme, ThemeStatus
from models.base import utcnow
from tests.helpers import rendered
from tests.test_release_posting import post_now
from tests.test_releases import (
    APPROVER,
    FRENCH,
    OWNER,
    TEAM,
    add_audience,
    approve_in_slack,
    arrive_at_scheduled_time,
    button_value,
    channel_posts,
    compose,
    dms_to,
    events,
    metadata,
    modal_state,
    posts,
    release_row,
)


@pytest.fixture
def audience(emulator: SlackEmulator) -> list[str]:
    return add_audience(emulator)


async def test_editing_a_posted_release_updates_every_message_in_its_language(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any, audience: list[str]
) -> None:
    release = await post_now(
        api,
        title="Bulk export",
        notes="- CSV exports",
        channels=["C0RELEASES", "C0PRODUCT"],
        channel_locales={"C0RELEASESFR": "fr"},
        variants={"fr": {"title": "Export en masse"}},
    )
    await run_jobs()
    before = {c: channel_posts(emulator, c)[0] for c in audience}
    emulator.fail("chat.update", retry_after=1, times=1)

    edited = await api.patch(
        f"/api/v1/releases/{release['id']}", json={"notes": "- CSV and XLSX exports", "version": "2.4.1"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["revision"] == 2 and edited.json()["status"] == "posted"
    await run_jobs()

    updates = emulator.calls_to("chat.update")
    assert {(c["channel"], c["ts"]) for c in updates if "2.4.1" in json.dumps(c["blocks"])} == {
        (c, m["ts"]) for c, m in before.items()
    }
    for channel in audience:
        (message,) = channel_posts(emulator, channel)
        assert "XLSX" in rendered(message["blocks"]) and "2.4.1" in rendered(message["blocks"])
    (french,) = channel_posts(emulator, "C0RELEASESFR")
    assert "Export en masse" in rendered(french["blocks"])
    stored = await posts(runtime)
    assert all(p.revision == 2 and p.edited_at is not None and p.error is None for p in stored.values())
    assert ("edited", "api:env") in await events(runtime)
    # The audience can no longer change once posted.
    moved = await api.patch(f"/api/v1/releases/{release['id']}", json={"channels": ["C0PRODUCT"]})
    assert moved.status_code == 409 and "channels" in moved.json()["message"]


async def test_editing_in_the_modal_after_posting_updates_the_messages_once_approved(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, audience: list[str]
) -> None:
    await compose(slack, when="now")
    await approve_and_submit(slack, emulator, run_jobs)
    await approve_in_slack(slack, emulator, run_jobs)
    await run_jobs()
    assert (await release_row(runtime)).status == "posted"

    # "Edit" from /release status opens the modal filled in, French included.
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    await slack.block_action(ReleaseId.EDIT, button_value(status["blocks"], ReleaseId.EDIT), user=OWNER)
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    assert json.loads(view["private_metadata"])["locales"] == ["fr"]
    assert "Export en masse" in json.dumps(view["blocks"]) and "Bulk export" in json.dumps(view["blocks"])

    state = modal_state(title="Bulk export, now faster", fr=FRENCH, when="now")
    await slack.view_submission(
        ReleaseId.MODAL, state, user=OWNER, private_metadata=metadata(locales=["fr"], release_id=1)
    )
    await run_jobs()
    # The owner's change goes back to the approver first; the channels still read the old text.
    assert not emulator.calls_to("chat.update")
    request = dms_to(emulator, APPROVER)[-1]
    answered = len(emulator.calls_to("response_url"))
    await slack.block_action(
        ReleaseId.APPROVE, button_value(request["blocks"], ReleaseId.APPROVE), user=APPROVER, channel="D0BOB"
    )
    await emulator.wait_for("response_url", answered + 1)
    await run_jobs()
    for channel in ("C0RELEASES", "C0PRODUCT"):
        (message,) = channel_posts(emulator, channel)
        assert "now faster" in rendered(message["blocks"])
    (french,) = channel_posts(emulator, "C0RELEASESFR")
    assert "Export en masse" in rendered(french["blocks"])
    assert len(emulator.calls_to("chat.update")) == 3


async def approve_and_submit(slack: SlackSender, emulator: SlackEmulator, run_jobs: Any) -> None:
    """Click "Send for approval" under the previews."""
    controls = (await emulator.wait_for("chat.postEphemeral", 3))[-1]
    await slack.block_action(ReleaseId.SUBMIT, button_value(controls["blocks"], ReleaseId.SUBMIT), user=OWNER)
    await emulator.wait_for("response_url")


async def test_changes_requested_go_back_to_the_owner_and_edits_need_approval_again(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, audience: list[str]
) -> None:
    await compose(slack)
    await approve_and_submit(slack, emulator, run_jobs)
    await run_jobs()
    (request,) = dms_to(emulator, APPROVER)
    old_value = button_value(request["blocks"], ReleaseId.APPROVE)

    # The approver asks for changes, with a reason that tries to ping everyone.
    await slack.block_action(ReleaseId.REQUEST_CHANGES, old_value, user=APPROVER, channel="D0BOB")
    (modal,) = await emulator.wait_for("views.open")
    assert modal["view"]["callback_id"] == ReleaseId.CHANGES_MODAL
    reason = {
        ReleaseId.REASON_BLOCK: {
            ReleaseId.REASON: {"type": "plain_text_input", "value": "<!channel> fix the typo"}
        }
    }
    await slack.view_submission(
        ReleaseId.CHANGES_MODAL, reason, user=APPROVER, private_metadata=modal["view"]["private_metadata"]
    )
    assert (await release_row(runtime)).status == "draft"
    await run_jobs()
    notice = dms_to(emulator, OWNER)[-1]["text"]
    assert "asked for changes" in notice and "fix the typo" in notice and "<!channel>" not in notice
    assert ("changes_requested", APPROVER) in await events(runtime)

    # The owner edits and sends it again; the approver's old buttons no longer approve anything.
    await slack.view_submission(
        ReleaseId.MODAL,
        modal_state(title="Bulk export (typo fixed)", fr=FRENCH),
        user=OWNER,
        private_metadata=metadata(locales=["fr"], release_id=1),
    )
    controls = (await emulator.wait_for("chat.postEphemeral", 6))[-1]
    await slack.block_action(ReleaseId.SUBMIT, button_value(controls["blocks"], ReleaseId.SUBMIT), user=OWNER)
    await run_jobs()
    requests = dms_to(emulator, APPROVER)
    assert len(requests) == 2 and "typo fixed" in rendered(requests[-1]["blocks"])
    await slack.block_action(ReleaseId.APPROVE, old_value, user=APPROVER, channel="D0BOB")
    await emulator.wait_for("response_url", 3)
    assert "changed after this request" in emulator.calls_to("response_url")[-1]["text"]
    await approve_in_slack_latest(slack, emulator)
    release = await release_row(runtime)
    assert release.status == "scheduled" and release.revision == 2

    # An edit after approval withdraws it: the release waits for the approver again.
    await slack.view_submission(
        ReleaseId.MODAL,
        modal_state(title="Bulk export (final)", fr=FRENCH),
        user=OWNER,
        private_metadata=metadata(locales=["fr"], release_id=1),
    )
    release = await release_row(runtime)
    assert release.status == "pending_approval" and release.approved_by is None
    await arrive_at_scheduled_time(runtime)
    await run_jobs()
    assert all(not channel_posts(emulator, c) for c in audience)
    assert len(dms_to(emulator, APPROVER)) == 3


async def approve_in_slack_latest(slack: SlackSender, emulator: SlackEmulator) -> None:
    request = dms_to(emulator, APPROVER)[-1]
    # Counted before the click: the answer may reach the response_url before the click returns.
    answered = len(emulator.calls_to("response_url"))
    await slack.block_action(
        ReleaseId.APPROVE, button_value(request["blocks"], ReleaseId.APPROVE), user=APPROVER, channel="D0BOB"
    )
    await emulator.wait_for("response_url", answered + 1)


async def test_cancel_before_posting_withdraws_the_post_and_nothing_is_sent(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    audience: list[str],
) -> None:
    await compose(slack, at=utcnow() + timedelta(hours=1))
    await approve_and_submit(slack, emulator, run_jobs)
    await approve_in_slack(slack, emulator, run_jobs)
    assert (await release_row(runtime)).status == "scheduled"
    assert any(j["kind"] == "release.deliver" for j in (await api.get("/api/v1/jobs")).json()["items"])

    answer = (await slack.command("/release", "cancel Bulk export", user=OWNER)).json()
    assert "cancelled" in answer["text"]
    release = await release_row(runtime)
    assert release.status == "cancelled" and release.cancelled_at is not None
    assert not any(j["kind"] == "release.deliver" for j in (await api.get("/api/v1/jobs")).json()["items"])
    assert all(p.state == "cancelled" for p in (await posts(runtime)).values())

    await arrive_at_scheduled_time(runtime)
    await run_jobs()
    assert all(not channel_posts(emulator, c) for c in audience)
    assert ("cancelled", OWNER) in await events(runtime)
    # The approver hears about it; cancelling twice says why not.
    assert any("cancelled release" in c["text"] for c in dms_to(emulator, APPROVER))
    again = (await slack.command("/release", "cancel 1", user=OWNER)).json()
    assert again["text"].startswith(":warning:") and "cancelled" in again["text"]


async def test_a_posted_release_cannot_be_cancelled(
    slack: SlackSender, emulator: SlackEmulator, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    emulator.add_channel("C0RELEASES", "releases", members=[BOT_USER_ID])
    release = await post_now(api, channels=["C0RELEASES"])
    await run_jobs()
    answer = (await slack.command("/release", f"cancel #{release['id']}", user=OWNER)).json()
    assert "posted" in answer["text"] and "only a release that has not started posting" in answer["text"]
    assert (await api.post(f"/api/v1/releases/{release['id']}/cancel")).status_code == 409


async def test_posting_ships_linked_themes_and_tells_each_requester_once(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    emulator.add_channel("C0RELEASES", "releases", members=[BOT_USER_ID])
    async with unit_of_work(runtime.session_factory) as session:
        theme = Theme(team_id=TEAM, title="Bulk export", status=ThemeStatus.PLANNED)
        session.add(theme)
        await session.flush()
        item = Feedback(
            team_id=TEAM,
            text="We need to export all reports at once",
            customer="Acme",
            channel="C0FEEDBACK",
            message_ts="1700000100.000100",
            author="U0DAVE",
            reporter="U0CAROL",
            theme_id=theme.id,
        )
        session.add(item)
        await session.flush()
        session.add(FeedbackReporter(team_id=TEAM, feedback_id=item.id, user_id="U0CAROL", source="shortcut"))
        theme_id = theme.id

    release = await post_now(api, channels=["C0RELEASES"], theme_ids=[theme_id])
    for _ in range(3):
        await run_jobs()

    async with unit_of_work(runtime.session_factory) as session:
        shipped = await session.get(Theme, theme_id)
        assert shipped is not None
        assert shipped.status == ThemeStatus.SHIPPED and shipped.release_id == release["id"]
        assert shipped.release_link and "/archives/C0RELEASES/" in shipped.release_link
    (message,) = channel_posts(emulator, "C0RELEASES", release["id"])
    assert "Bulk export" in rendered(message["blocks"])
    # The requester and the reporter each get one DM; the feedback thread one reply.
    assert len(dms_to(emulator, "U0DAVE")) == 1 and len(dms_to(emulator, "U0CAROL")) == 1
    thread = emulator.calls_to("chat.postMessage", channel="C0FEEDBACK", thread_ts="1700000100.000100")
    assert len(thread) == 1
    # Another pass (a retry, a later edit) tells nobody twice.
    await api.patch(f"/api/v1/releases/{release['id']}", json={"summary": "Now with XLSX"})
    await run_jobs()
    assert len(dms_to(emulator, "U0DAVE")) == 1 and len(dms_to(emulator, "U0CAROL")) == 1


async def test_release_command_help_list_and_unknown(slack: SlackSender, api: httpx.AsyncClient) -> None:
    for text in ("", "help", "frobnicate"):
        body = (await slack.command("/release", text)).json()
        assert body["response_type"] == "ephemeral" and "/release new" in rendered(body["blocks"])
    body = (await slack.command("/release", "status")).json()
    assert "needs a release" in rendered(body["blocks"])
    assert "No releases yet" in rendered((await slack.command("/release", "list")).json()["blocks"])
    created = await api.post(
        "/api/v1/releases", json={"title": "SSO <!here>", "version": "1.0", "channels": ["C0GENERAL"]}
    )
    assert created.status_code == 201
    listed = rendered((await slack.command("/release", "list")).json()["blocks"])
    assert "#1" in listed and "SSO" in listed and "<!here>" not in listed and "draft" in listed
    missing = (await slack.command("/release", "status 99")).json()
    assert "No release #99" in missing["text"]


async def test_new_release_shortcut_opens_the_modal_in_the_users_timezone(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    await slack.global_shortcut("new_release", user=OWNER)
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == ReleaseId.MODAL
    zone = next(b for b in view["blocks"] if b.get("block_id") == ReleaseId.TIMEZONE_BLOCK)
    assert zone["element"]["initial_option"]["value"] == "Europe/Berlin"
    kinds = {b["element"]["type"] for b in view["blocks"] if b.get("type") == "input"}
    assert {"multi_conversations_select", "external_select", "multi_external_select", "users_select"} <= kinds


async def test_modal_asks_for_a_time_or_now_and_refuses_the_past(
    slack: SlackSender, runtime: Runtime
) -> None:
    state = modal_state(fr=FRENCH)
    state[ReleaseId.DATE_BLOCK][ReleaseId.DATE]["selected_date"] = None
    answer = await slack.view_submission(
        ReleaseId.MODAL, state, user=OWNER, private_metadata=metadata(locales=["fr"])
    )
    assert answer.json()["response_action"] == "errors" and ReleaseId.DATE_BLOCK in answer.json()["errors"]
    past = modal_state(fr=FRENCH, at=utcnow() - timedelta(days=1))
    answer = await slack.view_submission(
        ReleaseId.MODAL, past, user=OWNER, private_metadata=metadata(locales=["fr"])
    )
    assert "already passed" in answer.json()["errors"][ReleaseId.TIME_BLOCK]
    nobody = modal_state(fr=FRENCH, channels=[], fr_channels=[])
    answer = await slack.view_submission(
        ReleaseId.MODAL, nobody, user=OWNER, private_metadata=metadata(locales=["fr"])
    )
    assert ReleaseId.CHANNELS_BLOCK in answer.json()["errors"]
    async with unit_of_work(runtime.session_factory) as session:
        from sqlalchemy import func, select

        from models import Release

        assert await session.scalar(select(func.count()).select_from(Release)) == 0
