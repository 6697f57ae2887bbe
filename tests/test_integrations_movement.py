"""Tracker events move themes: planned → in progress → done (area owner told once), not planned →
the owner is asked; never backwards from shipped or declined. Signed deliveries, real payloads."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.integrations import service as link_service
from bot.integrations.views import TrackerId
from models import Theme, ThemeLink
from tests.helpers import rendered
from tests.integrations_payloads import (
    STATE_CHANGED,
    github_issue,
    github_pull,
    jira_issue,
    linear_issue,
    resolution_item,
)
from tests.integrations_webhooks import (
    ISSUE_URLS,
    SECRETS,
    Trackers,
    dms,
    run_all,
    said,
    set_status,
    status_of,
    tracked_theme,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(SECRETS)


@pytest.fixture
def trackers(http: httpx.AsyncClient) -> Trackers:
    return Trackers(http)


@pytest.fixture
def deliver(trackers: Trackers, run_jobs: Any) -> Any:
    """Send one signed delivery, check it was queued, and run the scheduler until idle."""

    async def send(provider: str, *args: Any, **kwargs: Any) -> None:
        response = await getattr(trackers, provider)(*args, **kwargs)
        assert response.status_code == 202, response.text
        await run_all(run_jobs)

    return send


async def history(api: httpx.AsyncClient, theme_id: int) -> list[tuple[str | None, str | None, str]]:
    events = (await api.get(f"/api/v1/themes/{theme_id}/history")).json()
    return [(e["to_status"], e["actor"], e["reason"]) for e in events if e["kind"] == "status"]


async def test_github_issue_opened_plans_an_open_theme(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    await set_status(api, theme.theme_id, "open")

    await deliver("github", "issues", github_issue("opened"))

    assert await status_of(api, theme.theme_id) == "planned"
    assert (await history(api, theme.theme_id))[-1] == ("planned", "github", "acme/app#123 opened")


async def test_github_assigned_then_closed_completed_is_done_and_the_area_owner_is_told_once(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("github", "issues", github_issue("assigned"))
    assert await status_of(api, theme.theme_id) == "in_progress"
    await deliver("github", "issues", github_issue("closed", state_reason="completed"))
    # The same close again, as a second delivery (GitHub also reports the merge that closed it).
    await deliver("github", "issues", github_issue("closed", state_reason="completed"))

    assert await status_of(api, theme.theme_id) == "done"
    [told] = dms(emulator, "U0CAROL")
    assert told["text"] == "Bulk export is done and ships with the next release"
    blocks = rendered(told["blocks"])
    assert "*Bulk export* is done and ships with the next release" in blocks
    assert "Tracked in <https://github.com/acme/app/issues/123|acme/app#123>" in blocks
    assert "2 requests from 2 customers in *Bulk export*" in blocks
    for requester in ("U0BOB", "U0DAVE"):
        assert dms(emulator, requester) == [], "requesters hear when it ships, not when it is done"
    assert await history(api, theme.theme_id) == [
        ("planned", "api:env", "tracked in acme/app#123"),
        ("in_progress", "github", "acme/app#123 in progress"),
        ("done", "github", "acme/app#123 closed as completed"),
    ]
    [link] = (await api.get(f"/api/v1/themes/{theme.theme_id}")).json()["links"]
    assert link["state"] == "closed_completed"


async def test_a_pull_request_that_fixes_the_issue_starts_it_and_its_merge_finishes_it(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("github", "pull_request", github_pull("opened", body="Adds CSV export.\n\nFixes #123"))
    assert await status_of(api, theme.theme_id) == "in_progress"
    await deliver("github", "pull_request", github_pull("closed", body="Fixes #123", merged=True))

    assert await status_of(api, theme.theme_id) == "done"
    assert len(dms(emulator, "U0CAROL")) == 1
    async with unit_of_work(runtime.session_factory) as session:
        link = await session.scalar(select(ThemeLink))
        assert link is not None and (link.state, link.closed_by) == ("closed_completed", "acme/app#45")


async def test_a_pull_request_closed_without_merging_changes_nothing(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, trackers: Trackers
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    response = await trackers.github("pull_request", github_pull("closed", body="Fixes #123", merged=False))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert await status_of(api, theme.theme_id) == "planned"


async def test_a_theme_is_done_only_when_every_linked_issue_is_closed_as_completed(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    second = await api.post(
        f"/api/v1/themes/{theme.theme_id}/links", json={"url": "https://linear.app/acme/issue/ENG-123"}
    )
    assert second.status_code == 201

    await deliver("github", "issues", github_issue("closed", state_reason="completed"))
    assert await status_of(api, theme.theme_id) == "planned"
    await deliver("linear", linear_issue("update", "started", updated_from=STATE_CHANGED))
    assert await status_of(api, theme.theme_id) == "in_progress"
    assert dms(emulator, "U0CAROL") == []
    await deliver("linear", linear_issue("update", "completed", updated_from=STATE_CHANGED))

    assert await status_of(api, theme.theme_id) == "done"
    assert len(dms(emulator, "U0CAROL")) == 1


async def test_an_issue_reopened_takes_a_done_theme_back(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    await deliver("github", "issues", github_issue("closed", state_reason="completed"))
    await deliver("github", "issues", github_issue("reopened"))
    assert await status_of(api, theme.theme_id) == "planned"
    await deliver("github", "issues", github_issue("closed", state_reason="completed"))
    assert await status_of(api, theme.theme_id) == "done"
    assert len(dms(emulator, "U0CAROL")) == 1, "the owner is told once per theme"


async def test_closed_as_not_planned_asks_the_area_owner_once_whether_to_decline(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("github", "issues", github_issue("closed", state_reason="not_planned"))
    await deliver("github", "issues", github_issue("closed", state_reason="not_planned"))

    assert await status_of(api, theme.theme_id) == "planned", "only the owner declines"
    [asked] = dms(emulator, "U0CAROL")
    assert "acme/app#123 was closed as not planned" in asked["text"]
    text = said(asked)
    assert "<https://github.com/acme/app/issues/123|acme/app#123> was closed as not planned" in text
    assert "*Bulk export* has 2 requests from 2 customers" in text
    [actions] = [b for b in asked["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in actions["elements"]] == [
        (TrackerId.DECLINE_THEME, str(theme.theme_id), "Decline theme"),
        (TrackerId.KEEP_OPEN, str(theme.theme_id), "Keep open"),
    ]


@pytest.mark.parametrize("final", ["declined", "shipped"])
async def test_shipped_or_declined_themes_never_move_again(
    final: str, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any, run_jobs: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["jira"])
    if final == "shipped":
        assert (await api.post(f"/api/v1/themes/{theme.theme_id}/ship")).status_code == 200
    else:
        await set_status(api, theme.theme_id, "declined")
    await run_all(run_jobs)
    emulator.reset_calls()

    await deliver("jira", jira_issue(status="In Progress", previous="To Do"))
    await deliver("jira", jira_issue(status="Done", previous="In Progress", resolution="Done"))
    await deliver("jira", jira_issue(status="Done", previous="Done", resolution="Won't Do"))

    assert await status_of(api, theme.theme_id) == final
    assert emulator.calls_to("chat.postMessage") == []


async def test_linear_moves_a_theme_through_every_state(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["linear"])
    await set_status(api, theme.theme_id, "open")

    await deliver("linear", linear_issue("create", "unstarted"))
    assert await status_of(api, theme.theme_id) == "planned"
    await deliver("linear", linear_issue("update", "started", updated_from=STATE_CHANGED))
    assert await status_of(api, theme.theme_id) == "in_progress"
    await deliver("linear", linear_issue("update", "completed", updated_from=STATE_CHANGED))
    assert await status_of(api, theme.theme_id) == "done"
    assert "<https://linear.app/acme/issue/ENG-123|ENG-123>" in said(dms(emulator, "U0CAROL")[0])

    await deliver("linear", linear_issue("update", "canceled", updated_from=STATE_CHANGED))
    assert await status_of(api, theme.theme_id) == "planned"
    [_done, asked] = dms(emulator, "U0CAROL")
    assert "ENG-123 was closed as not planned" in asked["text"]


async def test_jira_status_categories_move_the_theme_and_wont_do_asks_to_decline(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["jira"])

    await deliver("jira", jira_issue(status="In Progress", previous="To Do"))
    assert await status_of(api, theme.theme_id) == "in_progress"
    await deliver(
        "jira",
        jira_issue(
            status="Done",
            previous="In Progress",
            resolution="Won't Do",
            extra_items=[resolution_item("Won't Do")],
        ),
    )
    assert await status_of(api, theme.theme_id) == "in_progress"
    [asked] = dms(emulator, "U0CAROL")
    assert "PROJ-123 was closed as not planned" in asked["text"]

    await deliver("jira", jira_issue(status="Done", previous="Done", resolution="Done"))
    assert await status_of(api, theme.theme_id) == "done"
    done = dms(emulator, "U0CAROL")[-1]
    assert "<https://acme.atlassian.net/browse/PROJ-123|PROJ-123>" in said(done)


async def test_with_ship_on_issue_close_the_theme_ships_at_once_and_requesters_hear_once(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"ship_on_issue_close": True})
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])

    await deliver("github", "issues", github_issue("closed", state_reason="completed"))
    await deliver("github", "pull_request", github_pull("closed", body="Closes #123", merged=True))

    assert await status_of(api, theme.theme_id) == "shipped"
    [owner] = dms(emulator, "U0CAROL")
    assert "*Bulk export* is done and has shipped" in said(owner)
    for requester in ("U0BOB", "U0DAVE"):
        [told] = dms(emulator, requester)
        assert "*Bulk export* has shipped" in said(told)
    replies = [c for c in emulator.calls_to("chat.postMessage", channel="C0GENERAL") if c.get("thread_ts")]
    assert sorted(c["thread_ts"] for c in replies) == sorted(m["ts"] for m in theme.messages)
    assert [s for s, _, _ in await history(api, theme.theme_id)] == ["planned", "done", "shipped"]


async def test_every_workspace_tracking_the_issue_moves_and_a_theme_without_an_owner_tells_the_channel(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, deliver: Any
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    async with unit_of_work(runtime.session_factory) as session:
        theirs = Theme(team_id="T0OTHER", title="Exports for everyone")
        session.add(theirs)
        await session.flush()
        await link_service.add_link(
            session=session, team_id="T0OTHER", theme_id=theirs.id, url=ISSUE_URLS["github"]
        )
        their_id = theirs.id

    await deliver("github", "issues", github_issue("closed", state_reason="completed"))

    assert await status_of(api, theme.theme_id) == "done"
    async with unit_of_work(runtime.session_factory) as session:
        stored = await session.get(Theme, their_id)
        assert stored is not None and stored.status == "done"
    [channel] = emulator.calls_to("chat.postMessage", channel="C0FEEDBACK")
    assert "*Exports for everyone* is done" in said(channel)
    assert "because you own" not in json.dumps(channel["blocks"])
    assert len(dms(emulator, "U0CAROL")) == 1
