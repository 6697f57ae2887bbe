"""A published GitHub release ships the done themes its notes name (requesters told once) and drafts
its announcement, owned by RELEASE_DRAFT_OWNER and sent for approval to RELEASE_DRAFT_APPROVER."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.core.runtime import Runtime, build_runtime
from bot.core.settings import Settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.integrations import jobs as integration_jobs
from bot.integrations.intake import TRACKER_EVENTS_KIND
from bot.releases.views.ids import ReleaseId
from bot.scheduler import jobs
from bot.scheduler.registry import JobContext
from bot.scheduler.runner import JobRunner
from models import Job, Release
from models.base import utcnow
from tests.integrations_payloads import RELEASE_NOTES, github_issue, github_pull, github_release, jira_version
from tests.integrations_webhooks import (
    ISSUE_URLS,
    SECRETS,
    Trackers,
    dms,
    run_all,
    said,
    status_of,
    tracked_theme,
)
from tests.test_feedback_helpers import count_rows

OWNER, APPROVER = "U0ERIN", "U0FRANK"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {**SECRETS, "release_draft_owner": OWNER, "release_draft_approver": APPROVER}


@pytest.fixture(autouse=True)
def release_people(emulator: SlackEmulator) -> None:
    emulator.add_user(OWNER, "erin")
    emulator.add_user(APPROVER, "frank")


@pytest.fixture
def trackers(http: httpx.AsyncClient) -> Trackers:
    return Trackers(http)


@pytest.fixture
def deliver(trackers: Trackers, run_jobs: Any) -> Any:
    async def send(event: str, payload: dict[str, Any], **kwargs: Any) -> None:
        response = await trackers.github(event, payload, **kwargs)
        assert response.status_code == 202, response.text
        await run_all(run_jobs)

    return send


@pytest.fixture
async def other_runtime(settings: Settings, runtime: Runtime) -> AsyncIterator[Runtime]:
    """A second scheduler process: its own engine and pool over the same database."""
    second = build_runtime(runtime.settings)
    yield second
    await second.close()


async def releases(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = (await api.get("/api/v1/releases")).json()["items"]
    return [(await api.get(f"/api/v1/releases/{r['id']}")).json() for r in listed]


def thread_replies(emulator: SlackEmulator) -> list[Any]:
    return [c for c in emulator.calls_to("chat.postMessage", channel="C0GENERAL") if c.get("thread_ts")]


def assert_each_requester_told_once(emulator: SlackEmulator) -> None:
    for requester in ("U0BOB", "U0DAVE"):
        [told] = dms(emulator, requester)
        assert "*Bulk export* has shipped" in said(told)
    assert len(thread_replies(emulator)) == 2


async def test_a_published_release_ships_the_done_theme_and_drafts_its_announcement_for_approval(
    api: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    deliver: Any,
    run_jobs: Any,
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    await deliver("issues", github_issue("closed", state_reason="completed"))
    assert await status_of(api, theme.theme_id) == "done"

    await deliver("release", github_release())

    shipped = (await api.get(f"/api/v1/themes/{theme.theme_id}")).json()
    assert shipped["status"] == "shipped"
    assert (shipped["release_title"], shipped["release_link"]) == (
        "Exports v2.4.0",
        "https://github.com/acme/app/releases/tag/v2.4.0",
    )
    assert_each_requester_told_once(emulator)
    assert "https://github.com/acme/app/releases/tag/v2.4.0" in said(thread_replies(emulator)[0])

    [draft] = await releases(api)
    assert (draft["title"], draft["version"], draft["notes"]) == ("Exports v2.4.0", "v2.4.0", RELEASE_NOTES)
    assert (draft["status"], draft["owner"], draft["approver"]) == ("pending_approval", OWNER, APPROVER)
    assert draft["theme_ids"] == [theme.theme_id]
    assert [p["channel"] for p in draft["posts"]] == ["C0FEEDBACK"]
    assert [(e["kind"], e["actor"]) for e in draft["events"]] == [
        ("created", "github"),
        ("submitted", "github"),
    ]
    [ask] = dms(emulator, APPROVER)
    assert ask["text"] == f"Please approve release #{draft['id']}: Exports v2.4.0"
    assert "What's Changed" in said(ask)
    [actions] = [b for b in ask["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [ReleaseId.APPROVE, ReleaseId.REQUEST_CHANGES]

    # Approved and posted through the usual flow: the announcement lists the theme, nobody hears twice.
    # The admin API may not approve a release that names its approver: the approver clicks Approve.
    refused = await api.post(f"/api/v1/releases/{draft['id']}/approve")
    assert refused.status_code == 409 and f"<@{APPROVER}>" in refused.json()["message"]
    approve = actions["elements"][0]
    message = {"type": "message", "ts": "1700000000.000100", "text": ask["text"], "blocks": ask["blocks"]}
    await slack.block_action(approve["action_id"], approve["value"], user=APPROVER, message=message)
    await emulator.wait_for("response_url")
    assert (await api.get(f"/api/v1/releases/{draft['id']}")).json()["status"] == "approved"
    assert (await api.post(f"/api/v1/releases/{draft['id']}/schedule", json={"at": "now"})).status_code == 200
    await run_all(run_jobs)
    [posted] = [
        c for c in emulator.calls_to("chat.postMessage", channel="C0FEEDBACK") if "v2.4.0" in c["text"]
    ]
    assert "Bulk export" in said(posted)
    assert (await api.get(f"/api/v1/releases/{draft['id']}")).json()["status"] == "posted"
    assert_each_requester_told_once(emulator)
    assert (await api.get(f"/api/v1/themes/{theme.theme_id}")).json()["release_id"] == draft["id"]


async def test_notes_that_name_the_pull_request_that_closed_the_issue_ship_the_theme(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    await deliver("pull_request", github_pull("closed", body="Fixes #123", merged=True))

    await deliver("release", github_release(body="* Add CSV export by @octocat in #45"))

    assert await status_of(api, theme.theme_id) == "shipped"
    assert_each_requester_told_once(emulator)


async def test_an_in_progress_theme_named_ships_a_planned_one_does_not(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    started = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    planned = await api.post("/api/v1/themes", json={"title": "Audit log"})
    planned_id = planned.json()["id"]
    await api.post(
        f"/api/v1/themes/{planned_id}/links", json={"url": "https://github.com/acme/app/issues/77"}
    )
    await deliver("issues", github_issue("assigned"))

    await deliver("release", github_release())

    assert (await status_of(api, started.theme_id), await status_of(api, planned_id)) == (
        "shipped",
        "planned",
    )
    [draft] = await releases(api)
    assert draft["theme_ids"] == [started.theme_id]


async def test_without_an_approver_the_draft_waits_for_its_owner_who_is_told(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"release_draft_approver": None})
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("release", github_release())

    [draft] = await releases(api)
    assert (draft["status"], draft["approver"]) == ("draft", None)
    [told] = dms(emulator, OWNER)
    assert told["text"] == "Release v2.4.0: the announcement draft is ready"
    assert "RELEASE_DRAFT_APPROVER" in said(told)
    [actions] = [b for b in told["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        ReleaseId.SUBMIT,
        ReleaseId.EDIT,
        ReleaseId.DISCARD,
    ]
    assert {e["value"] for e in actions["elements"]} == {str(draft["id"])}


async def test_without_a_draft_owner_no_draft_is_made_and_a_log_line_says_why(
    api: httpx.AsyncClient,
    emulator: SlackEmulator,
    runtime: Runtime,
    deliver: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"release_draft_owner": None})
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    await deliver("issues", github_issue("closed", state_reason="completed"))

    with caplog.at_level(logging.INFO, logger="bot.integrations.drafts"):
        await deliver("release", github_release())

    assert await releases(api) == []
    assert "RELEASE_DRAFT_OWNER is not set" in caplog.text
    assert await status_of(api, theme.theme_id) == "shipped"


async def test_the_draft_goes_where_the_last_announcement_went(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    earlier = await api.post(
        "/api/v1/releases",
        json={"title": "Audit log", "channels": ["C0GENERAL"], "channel_locales": {"C0OWNERS": "fr"}},
    )
    assert earlier.status_code == 201, earlier.text
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("release", github_release())

    draft = next(r for r in await releases(api) if r["version"] == "v2.4.0")
    assert {p["channel"]: p["locale"] for p in draft["posts"]} == {"C0GENERAL": "en", "C0OWNERS": "fr"}


async def test_releases_nobody_tracks_work_in_and_jira_versions_are_ignored(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, trackers: Trackers
) -> None:
    untracked = await trackers.github("release", github_release())
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["jira"])
    version = await trackers.jira(jira_version())
    assert [r.json()["status"] for r in (untracked, version)] == ["ignored", "ignored"]
    assert await count_rows(runtime, Release) == 0


async def test_two_schedulers_and_a_crash_mid_job_still_ship_once_and_draft_once(
    api: httpx.AsyncClient,
    emulator: SlackEmulator,
    runtime: Runtime,
    other_runtime: Runtime,
    trackers: Trackers,
    run_jobs: Any,
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    closed = await trackers.github("issues", github_issue("closed", state_reason="completed"))
    assert closed.status_code == 202
    await run_all(run_jobs)
    published = await trackers.github("release", github_release(), delivery="release-delivery-1")
    assert published.status_code == 202

    # A scheduler claims the delivery, applies it, and dies before it can mark the job done.
    async with unit_of_work(runtime.session_factory) as session:
        [claimed] = await jobs.claim_due(session=session, owner="doomed", kinds=[TRACKER_EVENTS_KIND])
    await integration_jobs.apply_delivery(JobContext(runtime=runtime, job=claimed, now=utcnow()))
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.lease_owner == "doomed")
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    # The same release again (GitHub's redelivery, and a second event for the same tag).
    again = await trackers.github("release", github_release(), delivery="release-delivery-1")
    other = await trackers.github("release", github_release(), delivery="release-delivery-2")
    assert (again.json()["status"], other.status_code) == ("duplicate", 202)

    first, second = JobRunner(runtime), JobRunner(other_runtime)
    for _ in range(6):
        await asyncio.gather(first.tick(), second.tick())

    assert await status_of(api, theme.theme_id) == "shipped"
    assert_each_requester_told_once(emulator)
    assert len(await releases(api)) == 1
    assert len(dms(emulator, APPROVER)) == 1
    assert len(dms(emulator, "U0CAROL")) == 1
