"""Who may do what to a release from Slack: every action against its owner, its approver, a Slack
admin, an admin named in SWITCHBOARD_ADMINS and another member. A refusal names who may, and
leaves the database and Slack as they were. An owner's change to a posted release waits for the
approver, who sees what changed, before any posted message is updated."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.releases.views.ids import ReleaseId
from models import Job, Release, ReleaseEvent, ReleasePost
from models.base import utcnow
from tests.helpers import rendered
from tests.test_release_posting import approve_as, post_now
from tests.test_releases import (
    APPROVER,
    EN_CHANNELS,
    OWNER,
    add_audience,
    button_value,
    channel_posts,
    dms_to,
    metadata,
    modal_state,
)

SLACK_ADMIN = "U0ADMIN"
LISTED_ADMIN = "U0ERIN"
MEMBER = "U0DAVE"
ROLES = {"owner": OWNER, "approver": APPROVER, "slack_admin": SLACK_ADMIN, "listed_admin": LISTED_ADMIN}
ROLES["member"] = MEMBER

OWNER_OR_ADMIN = {"owner", "slack_admin", "listed_admin"}
APPROVER_ONLY = {"approver"}
OWNER_APPROVER_OR_ADMIN = {"owner", "approver", "slack_admin", "listed_admin"}
# What Slack receives when something happens; a refusal adds none of these.
OUTBOUND = ("chat.postMessage", "chat.update", "views.open", "chat.delete")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_admins": LISTED_ADMIN}


@pytest.fixture(autouse=True)
def people(emulator: SlackEmulator) -> None:
    emulator.add_user(SLACK_ADMIN, "admin", is_admin=True)
    emulator.add_user(LISTED_ADMIN, "erin")
    add_audience(emulator)


async def new_release(api: httpx.AsyncClient, **body: Any) -> int:
    """A draft of OWNER's with APPROVER named (the API sends a release with an approver at once)."""
    body = {"title": "Audit log", "owner": OWNER, "channels": EN_CHANNELS, **body}
    created = await api.post("/api/v1/releases", json=body)
    assert created.status_code == 201, created.text
    release_id = int(created.json()["id"])
    named = await api.patch(f"/api/v1/releases/{release_id}", json={"approver": APPROVER})
    assert named.json()["status"] == "draft", named.text
    return release_id


async def pending_release(api: httpx.AsyncClient) -> int:
    created = await api.post(
        "/api/v1/releases",
        json={"title": "Audit log", "owner": OWNER, "approver": APPROVER, "channels": EN_CHANNELS},
    )
    assert created.json()["status"] == "pending_approval", created.text
    return int(created.json()["id"])


async def scheduled_release(api: httpx.AsyncClient, runtime: Runtime) -> int:
    at = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    created = await api.post(
        "/api/v1/releases",
        json={
            "title": "Audit log",
            "owner": OWNER,
            "approver": APPROVER,
            "channels": EN_CHANNELS,
            "scheduled_at": at.isoformat(),
        },
    )
    release_id = int(created.json()["id"])
    await approve_as(runtime, release_id, APPROVER)
    shown = await api.get(f"/api/v1/releases/{release_id}")
    assert shown.json()["status"] == "scheduled", shown.text
    return release_id


async def posted_release(api: httpx.AsyncClient, run_jobs: Any, runtime: Runtime) -> int:
    release = await post_now(api, runtime, approver=APPROVER, channels=EN_CHANNELS, notes="- Search by actor")
    # Post, then report and notify: nothing is left queued.
    await run_jobs()
    await run_jobs()
    return int(release["id"])


async def snapshot(runtime: Runtime) -> tuple[Any, ...]:
    """Every row a release action could touch."""
    async with unit_of_work(runtime.session_factory) as session:
        releases = [
            (r.id, r.status, r.title, r.revision, r.scheduled_at, r.approved_by, r.cancelled_at)
            for r in await session.scalars(select(Release).order_by(Release.id))
        ]
        posts = [
            (p.channel, p.state, p.revision)
            for p in await session.scalars(select(ReleasePost).order_by(ReleasePost.id))
        ]
        events = await session.scalar(select(func.count()).select_from(ReleaseEvent))
        jobs = [(j.kind, j.status) for j in await session.scalars(select(Job).order_by(Job.id))]
        return releases, posts, events, jobs


def outbound(emulator: SlackEmulator) -> dict[str, int]:
    return {method: len(emulator.calls_to(method)) for method in OUTBOUND}


async def refused_ephemerally(emulator: SlackEmulator, answered: int) -> str:
    (*_, answer) = await emulator.wait_for("response_url", answered + 1)
    assert answer["response_type"] == "ephemeral" and answer.get("replace_original") is False
    text = str(answer["text"])
    assert text.startswith(":warning: Only ")
    return text


async def click(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    action: str,
    value: str,
    role: str,
    allowed: bool,
) -> str:
    """Click `action` as `role`; when refused, check nothing changed and return the refusal."""
    before, calls = await snapshot(runtime), outbound(emulator)
    answered = len(emulator.calls_to("response_url"))
    await slack.block_action(action, value, user=ROLES[role])
    if allowed:
        if action in {ReleaseId.EDIT, ReleaseId.REQUEST_CHANGES}:
            await emulator.wait_for("views.open", calls["views.open"] + 1)
        else:
            await emulator.wait_for("response_url", answered + 1)
        return ""
    text = await refused_ephemerally(emulator, answered)
    assert await snapshot(runtime) == before and outbound(emulator) == calls
    return text


async def status_of(runtime: Runtime, release_id: int) -> str:
    async with unit_of_work(runtime.session_factory) as session:
        release = await session.get(Release, release_id)
        assert release is not None
        return str(release.status)


# ---- drafts: edit, send for approval, discard --------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [ReleaseId.EDIT, ReleaseId.SUBMIT, ReleaseId.DISCARD])
async def test_a_draft_is_edited_sent_or_discarded_by_its_owner_and_admins_only(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    action: str,
    role: str,
) -> None:
    release_id = await new_release(api)
    allowed = role in OWNER_OR_ADMIN
    refusal = await click(slack, emulator, runtime, action, str(release_id), role, allowed)
    if not allowed:
        assert f"<@{OWNER}>" in refusal and "a workspace admin" in refusal and f"<@{APPROVER}>" not in refusal
        return
    expected = {ReleaseId.EDIT: "draft", ReleaseId.SUBMIT: "pending_approval", ReleaseId.DISCARD: "cancelled"}
    assert await status_of(runtime, release_id) == expected[action]


@pytest.mark.parametrize("role", ROLES)
async def test_a_draft_edit_is_checked_again_when_the_modal_is_submitted(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await new_release(api)
    before, calls = await snapshot(runtime), outbound(emulator)
    response = await slack.view_submission(
        ReleaseId.MODAL,
        modal_state(title="Rewritten", when="now", channels=EN_CHANNELS),
        user=ROLES[role],
        private_metadata=metadata(release_id=release_id),
    )
    if role in OWNER_OR_ADMIN:
        assert response.status_code == 200 and not response.content
        async with unit_of_work(runtime.session_factory) as session:
            assert (await session.get(Release, release_id)).title == "Rewritten"  # type: ignore[union-attr]
        return
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"][ReleaseId.TITLE_BLOCK].startswith(f"Only <@{OWNER}>")
    assert await snapshot(runtime) == before and outbound(emulator) == calls


# ---- approval ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [ReleaseId.APPROVE, ReleaseId.REQUEST_CHANGES])
async def test_only_the_named_approver_approves_or_sends_back(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    action: str,
    role: str,
) -> None:
    release_id = await pending_release(api)
    allowed = role in APPROVER_ONLY
    refusal = await click(slack, emulator, runtime, action, f"{release_id}:1", role, allowed)
    if not allowed:
        assert refusal == f":warning: Only <@{APPROVER}> can approve release #{release_id}."
        return
    if action == ReleaseId.APPROVE:
        assert await status_of(runtime, release_id) == "approved"
        return
    (opened, *_) = emulator.calls_to("views.open")
    assert opened["view"]["callback_id"] == ReleaseId.CHANGES_MODAL


@pytest.mark.parametrize("role", ["owner", "slack_admin", "member"])
async def test_sending_back_is_checked_again_when_the_reason_is_submitted(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await pending_release(api)
    before, calls = await snapshot(runtime), outbound(emulator)
    state = {ReleaseId.REASON_BLOCK: {ReleaseId.REASON: {"type": "plain_text_input", "value": "Shorter"}}}
    response = await slack.view_submission(
        ReleaseId.CHANGES_MODAL, state, user=ROLES[role], private_metadata=f"{release_id}:1::"
    )
    assert response.json()["errors"][ReleaseId.REASON_BLOCK] == f"Only <@{APPROVER}> can approve release #1."
    assert await snapshot(runtime) == before and outbound(emulator) == calls


# ---- cancel and reschedule ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_the_cancel_button_works_for_owner_approver_and_admins(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await scheduled_release(api, runtime)
    allowed = role in OWNER_APPROVER_OR_ADMIN
    refusal = await click(slack, emulator, runtime, ReleaseId.CANCEL, str(release_id), role, allowed)
    if allowed:
        assert await status_of(runtime, release_id) == "cancelled"
    else:
        assert f"<@{OWNER}>, <@{APPROVER}> and a workspace admin" in refusal


@pytest.mark.parametrize("role", ROLES)
async def test_release_cancel_works_for_owner_approver_and_admins(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await scheduled_release(api, runtime)
    before, calls = await snapshot(runtime), outbound(emulator)
    answer = (await slack.command("/release", f"cancel {release_id}", user=ROLES[role])).json()
    if role in OWNER_APPROVER_OR_ADMIN:
        assert "is cancelled" in answer["text"]
        assert await status_of(runtime, release_id) == "cancelled"
        return
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        f":warning: Only <@{OWNER}>, <@{APPROVER}> and a workspace admin can cancel or reschedule "
        f"release #{release_id}."
    )
    assert await snapshot(runtime) == before and outbound(emulator) == calls


@pytest.mark.parametrize("role", ROLES)
async def test_a_scheduled_release_is_rescheduled_by_owner_approver_and_admins(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await scheduled_release(api, runtime)
    later = (utcnow() + timedelta(hours=6)).replace(second=0, microsecond=0)
    before, calls = await snapshot(runtime), outbound(emulator)
    response = await slack.view_submission(
        ReleaseId.MODAL,
        modal_state(title="Audit log", version="", summary="", notes="", at=later, timezone="UTC"),
        user=ROLES[role],
        private_metadata=metadata(release_id=release_id),
    )
    if role in OWNER_APPROVER_OR_ADMIN:
        assert response.status_code == 200 and not response.content
        async with unit_of_work(runtime.session_factory) as session:
            release = await session.get(Release, release_id)
            assert release is not None and release.status == "scheduled" and release.scheduled_at == later
        return
    assert response.json()["errors"][ReleaseId.TITLE_BLOCK].startswith(f"Only <@{OWNER}>, <@{APPROVER}>")
    assert await snapshot(runtime) == before and outbound(emulator) == calls


# ---- edits once approved or posted ---------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(OWNER_APPROVER_OR_ADMIN))
async def test_a_scheduled_release_keeps_its_approval_only_when_the_approver_or_an_admin_changes_it(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    role: str,
) -> None:
    release_id = await scheduled_release(api, runtime)
    await run_jobs()
    async with unit_of_work(runtime.session_factory) as session:
        scheduled = await session.get(Release, release_id)
        assert scheduled is not None and scheduled.scheduled_at is not None
        at = scheduled.scheduled_at
    asked = len(dms_to(emulator, APPROVER))
    response = await slack.view_submission(
        ReleaseId.MODAL,
        modal_state(title="Audit log, searchable", version="", summary="", notes="", at=at, timezone="UTC"),
        user=ROLES[role],
        private_metadata=metadata(release_id=release_id),
    )
    assert response.status_code == 200 and not response.content
    async with unit_of_work(runtime.session_factory) as session:
        release = await session.get(Release, release_id)
        assert release is not None and release.title == "Audit log, searchable"
        if role == "owner":
            # The owner's change goes back to the approver, who is asked again and sees the change.
            assert (release.status, release.approved_by) == ("pending_approval", None)
        else:
            assert (release.status, release.approved_by) == ("scheduled", APPROVER)
    await run_jobs()
    asked_again = dms_to(emulator, APPROVER)[asked:]
    if role == "owner":
        (request,) = asked_again
        assert "Audit log, searchable" in rendered(request["blocks"])
    else:
        assert asked_again == []


@pytest.mark.parametrize("role", ROLES)
async def test_a_posted_release_is_edited_by_owner_approver_and_admins(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    role: str,
) -> None:
    release_id = await posted_release(api, run_jobs, runtime)
    before, calls = await snapshot(runtime), outbound(emulator)
    state = modal_state(
        title="Audit log, searchable", version="3.1", summary="Every admin action, searchable."
    )
    response = await slack.view_submission(
        ReleaseId.MODAL,
        state,
        user=ROLES[role],
        private_metadata=json.dumps(
            {"release_id": release_id, "channel_id": "C0GENERAL", "locales": [], "locked": True}
        ),
    )
    if role not in OWNER_APPROVER_OR_ADMIN:
        assert response.json()["errors"][ReleaseId.TITLE_BLOCK] == (
            f"Only <@{OWNER}>, <@{APPROVER}> and a workspace admin can edit release #{release_id}."
        )
        await run_jobs()
        assert await snapshot(runtime) == before and outbound(emulator) == calls
        return
    assert response.status_code == 200 and not response.content
    await run_jobs()
    updated = {
        c
        for c in EN_CHANNELS
        if "Audit log, searchable" in rendered(channel_posts(emulator, c, release_id)[0]["blocks"])
    }
    # The approver's and admins' changes go straight out; the owner's wait for the approver.
    assert updated == (set() if role == "owner" else set(EN_CHANNELS))


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_status_shows_edit_and_cancel_only_to_who_may_use_them(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, role: str
) -> None:
    release_id = await scheduled_release(api, runtime)
    answer = (await slack.command("/release", f"status {release_id}", user=ROLES[role])).json()
    actions = [e["action_id"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ([ReleaseId.EDIT, ReleaseId.CANCEL] if role == "owner" else [])
    assert answer["text"] == f"Release #{release_id} is scheduled"


async def test_an_owners_change_to_a_posted_release_waits_for_the_approver_who_sees_the_diff(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    release_id = await posted_release(api, run_jobs, runtime)
    originals = {c: channel_posts(emulator, c, release_id)[0] for c in EN_CHANNELS}
    state = modal_state(
        title="Audit log <!channel>",
        version="3.1",
        summary="Every admin action, searchable.",
        notes="- Export",
    )
    response = await slack.view_submission(
        ReleaseId.MODAL, state, user=OWNER, private_metadata=metadata(release_id=release_id)
    )
    assert response.status_code == 200 and not response.content
    (notice,) = await emulator.wait_for("chat.postEphemeral")
    assert f"went to <@{APPROVER}> for approval" in notice["text"]
    await run_jobs()

    # Nothing in the channels changed; the release is still what was posted.
    assert not emulator.calls_to("chat.update")
    async with unit_of_work(runtime.session_factory) as session:
        release = await session.get(Release, release_id)
        assert release is not None and release.title == "Audit log" and release.revision == 1
    status = (await slack.command("/release", f"status {release_id}", user=OWNER)).json()
    assert "waits for" in rendered(status["blocks"])

    # The approver sees what changed, old and new, escaped.
    (request,) = dms_to(emulator, APPROVER)
    assert request["text"] == f"Please approve the changes to release #{release_id}: Audit log"
    shown = rendered(request["blocks"])
    assert (
        "*What changed*" in shown
        and "*Title*\n*Before:*\n> Audit log\n*After:*\n> Audit log &lt;!channel&gt;" in shown
    )
    assert "*Notes*" in shown and "> - Search by actor" in shown and "> - Export" in shown
    assert "<!channel>" not in json.dumps(request["blocks"])

    # Someone else can't approve it for them.
    answered = len(emulator.calls_to("response_url"))
    value = button_value(request["blocks"], ReleaseId.APPROVE)
    await slack.block_action(ReleaseId.APPROVE, value, user=SLACK_ADMIN, channel="D0BOB")
    await refused_ephemerally(emulator, answered)
    await run_jobs()
    assert not emulator.calls_to("chat.update")

    await slack.block_action(ReleaseId.APPROVE, value, user=APPROVER, channel="D0BOB")
    (*_, approved) = await emulator.wait_for("response_url", answered + 2)
    assert "approved the changes" in approved["text"]
    await run_jobs()
    updates = emulator.calls_to("chat.update")
    assert sorted((u["channel"], u["ts"]) for u in updates) == sorted(
        (c, m["ts"]) for c, m in originals.items()
    )
    for channel in EN_CHANNELS:
        (message,) = channel_posts(emulator, channel, release_id)
        assert "Audit log @\u2060channel" in rendered(message["blocks"]) and "Export" in rendered(
            message["blocks"]
        )
    # The owner hears it went out; nothing is sent twice.
    assert any("approved your changes" in m["text"] for m in dms_to(emulator, OWNER))
    await run_jobs()
    assert len(emulator.calls_to("chat.update")) == len(EN_CHANNELS)


async def test_sending_back_an_owners_change_leaves_the_posted_messages_alone(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    release_id = await posted_release(api, run_jobs, runtime)
    state = modal_state(title="Audit log v2", version="3.1", summary="Every admin action, searchable.")
    await slack.view_submission(
        ReleaseId.MODAL, state, user=OWNER, private_metadata=metadata(release_id=release_id)
    )
    await run_jobs()
    reason = {
        ReleaseId.REASON_BLOCK: {ReleaseId.REASON: {"type": "plain_text_input", "value": "Keep the title"}}
    }
    response = await slack.view_submission(
        ReleaseId.CHANGES_MODAL, reason, user=APPROVER, private_metadata=f"{release_id}:1::"
    )
    assert response.status_code == 200 and not response.content
    await run_jobs()
    assert not emulator.calls_to("chat.update")
    assert any("did not approve your changes" in m["text"] for m in dms_to(emulator, OWNER))
    status = (await slack.command("/release", f"status {release_id}", user=OWNER)).json()
    assert "waits for" not in rendered(status["blocks"])
