"""Themes: CRUD, merging, and shipping — every thread and requester told exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.posting import METADATA_EVENT
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback import jobs as feedback_jobs
from bot.feedback import themes as theme_service
from bot.scheduler import jobs
from bot.scheduler.registry import JobContext
from models import Job, ThemeNotification
from models.base import utcnow
from tests.helpers import rendered
from tests.test_feedback_helpers import TEAM, feedback_rows, react


async def make_theme(api: Any, title: str, **extra: Any) -> int:
    response = await api.post("/api/v1/themes", json={"title": title, **extra})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def link(api: Any, feedback_id: int, theme_id: int) -> None:
    response = await api.patch(f"/api/v1/feedback/{feedback_id}", json={"theme_id": theme_id})
    assert response.status_code == 200, response.text


async def log_by_reaction(
    slack: SlackSender, emulator: SlackEmulator, *, reactor: str, channel: str, ts: str, confirmations: int
) -> None:
    await react(slack, user=reactor, channel=channel, ts=ts)
    await emulator.wait_for("chat.postEphemeral", confirmations)


def posts_with_key(emulator: SlackEmulator, channel: str, key: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == METADATA_EVENT
        and m["metadata"]["event_payload"]["key"] == key
    ]


@pytest.fixture
async def requests_for_export(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: Any
) -> dict[str, Any]:
    """Three messages about bulk export, two sharing a thread, logged by several people."""
    first = emulator.add_message("C0GENERAL", "U0BOB", "Acme needs bulk export")
    reply = emulator.add_message("C0GENERAL", "U0CAROL", "Globex too!", thread_ts=first["ts"])
    other = emulator.add_message("C0GENERAL", "U0DAVE", "Initech asks for CSV export of all reports")
    await log_by_reaction(
        slack, emulator, reactor="U0ALICE", channel="C0GENERAL", ts=first["ts"], confirmations=1
    )
    await log_by_reaction(
        slack, emulator, reactor="U0ALICE", channel="C0GENERAL", ts=reply["ts"], confirmations=2
    )
    await log_by_reaction(
        slack, emulator, reactor="U0CAROL", channel="C0GENERAL", ts=other["ts"], confirmations=3
    )
    await log_by_reaction(
        slack, emulator, reactor="U0ALICE", channel="C0GENERAL", ts=other["ts"], confirmations=4
    )
    theme_id = await make_theme(api, "Bulk export")
    for item in await feedback_rows(runtime):
        await link(api, item.id, theme_id)
    return {"theme_id": theme_id, "first": first, "reply": reply, "other": other}


async def test_shipping_replies_in_each_thread_and_dms_each_person_once(
    emulator: SlackEmulator, run_jobs: Any, api: Any, requests_for_export: dict[str, Any]
) -> None:
    theme_id = requests_for_export["theme_id"]
    await run_jobs()  # the capture markers
    emulator.reset_calls()

    shipped = await api.post(
        f"/api/v1/themes/{theme_id}/ship",
        json={"release_link": "https://example.com/releases/42", "release_title": "Release 42"},
    )
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert body["newly_shipped"] is True and body["theme"]["status"] == "shipped"
    # Two threads (the reply shares the first message's thread); four people (authors + reporters).
    assert (body["threads"], body["people"], body["enqueued"]) == (2, 4, 6)
    await run_jobs()

    replies = [c for c in emulator.calls_to("chat.postMessage") if c.get("thread_ts")]
    assert sorted(c["thread_ts"] for c in replies) == sorted(
        [requests_for_export["first"]["ts"], requests_for_export["other"]["ts"]]
    )
    assert all(c["channel"] == "C0GENERAL" for c in replies)
    assert "*Bulk export* has shipped" in rendered(replies[0]["blocks"])
    assert "https://example.com/releases/42" in rendered(replies[0]["blocks"])
    dms = sorted(c["channel"] for c in emulator.calls_to("chat.postMessage") if not c.get("thread_ts"))
    assert dms == ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]
    alice = next(c for c in emulator.calls_to("chat.postMessage") if c["channel"] == "U0ALICE")
    assert "Acme needs bulk export" in rendered(alice["blocks"]) and "Globex too!" in rendered(
        alice["blocks"]
    )

    status = (await api.post(f"/api/v1/themes/{theme_id}/ship")).json()
    assert (status["newly_shipped"], status["enqueued"]) == (False, 0)
    assert status["notifications"] == {"pending": 0, "sent": 6, "skipped": 0, "failed": 0}
    await run_jobs()
    assert len(emulator.calls_to("chat.postMessage")) == 6
    items = (await api.get("/api/v1/feedback", params={"theme_id": theme_id})).json()["items"]
    assert {i["status"] for i in items} == {"shipped"}


async def test_crash_between_two_dms_then_a_retried_ship_tells_each_person_once(
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    api: Any,
    requests_for_export: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theme_id = requests_for_export["theme_id"]
    await run_jobs()
    assert (await api.post(f"/api/v1/themes/{theme_id}/ship")).status_code == 200

    # A scheduler claims the notices, DMs Alice, and dies before it can record that or go on.
    async with unit_of_work(runtime.session_factory) as session:
        claimed = await jobs.claim_due(
            session=session, owner="doomed", kinds=[theme_service.SHIP_NOTICE_KIND]
        )
    assert len(claimed) == 6
    alice_job = next(j for j in claimed if j.payload.get("user") == "U0ALICE")

    async def killed(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("process killed")

    monkeypatch.setattr(feedback_jobs, "_record_notice", killed)
    with pytest.raises(RuntimeError):
        await feedback_jobs.send_ship_notice(JobContext(runtime=runtime, job=alice_job, now=utcnow()))
    monkeypatch.undo()
    assert len(posts_with_key(emulator, "D0ALICE", theme_service.dm_key(theme_id, "U0ALICE"))) == 1

    # Someone ships again meanwhile: nothing new is enqueued.
    again = (await api.post(f"/api/v1/themes/{theme_id}/ship")).json()
    assert again["enqueued"] == 0 and again["notifications"]["pending"] == 6

    # The dead process's lease runs out; another scheduler takes the work over.
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.lease_owner == "doomed")
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    await run_jobs()

    for user in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"):
        channel = "D" + user[1:]
        assert len(posts_with_key(emulator, channel, theme_service.dm_key(theme_id, user))) == 1, user
    for message in (requests_for_export["first"], requests_for_export["other"]):
        key = theme_service.thread_key(theme_id, "C0GENERAL", message["ts"])
        assert len(posts_with_key(emulator, "C0GENERAL", key)) == 1
    final = (await api.post(f"/api/v1/themes/{theme_id}/ship")).json()
    assert final["notifications"] == {"pending": 0, "sent": 6, "skipped": 0, "failed": 0}


async def test_a_failed_dm_is_retried_and_a_deactivated_person_is_reported_not_told(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, api: Any, requests_for_export: dict[str, Any]
) -> None:
    theme_id = requests_for_export["theme_id"]
    await run_jobs()
    emulator.users["U0DAVE"]["deleted"] = True
    emulator.fail("chat.postMessage", error="fatal_error", when=lambda a: a.get("channel") == "U0BOB")
    await api.post(f"/api/v1/themes/{theme_id}/ship")
    await run_jobs()
    assert posts_with_key(emulator, "D0BOB", theme_service.dm_key(theme_id, "U0BOB")) == []

    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.status == "pending", Job.kind == theme_service.SHIP_NOTICE_KIND)
            .values(run_at=utcnow())
        )
    await run_jobs()
    assert len(posts_with_key(emulator, "D0BOB", theme_service.dm_key(theme_id, "U0BOB"))) == 1
    status = (await api.post(f"/api/v1/themes/{theme_id}/ship")).json()
    assert status["notifications"] == {"pending": 0, "sent": 5, "skipped": 0, "failed": 1}
    # The theme has no area owner and was shipped through the API: the feedback channel hears.
    await run_jobs()
    (report,) = emulator.calls_to("chat.postMessage", channel="C0FEEDBACK")
    assert "<@U0DAVE> (a DM): their Slack account is deactivated (`user_disabled`)" in report["text"]
    assert "1 of its 6 ship notices did not arrive" in rendered(report["blocks"])


async def test_ship_theme_service_records_the_release_and_tells_people_linked_later(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, api: Any, requests_for_export: dict[str, Any]
) -> None:
    theme_id = requests_for_export["theme_id"]
    async with unit_of_work(runtime.session_factory) as session:
        result = await theme_service.ship_theme(
            session=session,
            team_id=TEAM,
            theme_id=theme_id,
            release_id=7,
            release_title="Spring release",
            release_link="https://example.com/spring",
            by="U0ALICE",
        )
    assert (result.newly_shipped, result.enqueued) == (True, 6)
    theme = (await api.get(f"/api/v1/themes/{theme_id}")).json()
    assert (theme["release_id"], theme["release_title"], theme["release_link"]) == (
        7,
        "Spring release",
        "https://example.com/spring",
    )
    await run_jobs()
    sent = len(emulator.calls_to("chat.postMessage"))

    late = await api.post(
        "/api/v1/feedback",
        json={
            "text": "Hooli wants bulk export",
            "theme_id": theme_id,
            "author": "U0DAVE",
            "reporter": "U0BOB",
        },
    )
    assert late.status_code == 201
    async with unit_of_work(runtime.session_factory) as session:
        again = await theme_service.ship_theme(session=session, team_id=TEAM, theme_id=theme_id)
    # Dave and Bob were told already; nobody new to tell.
    assert (again.newly_shipped, again.enqueued) == (False, 0)
    await run_jobs()
    assert len(emulator.calls_to("chat.postMessage")) == sent


async def test_merge_moves_items_followers_and_counts_and_refuses_loops(api: Any, runtime: Runtime) -> None:
    source = await make_theme(api, "CSV export", description="Export to CSV")
    target = await make_theme(api, "Bulk export")
    for text, customer, theme in (
        ("Acme: CSV", "Acme", source),
        ("Globex: CSV", "Globex", source),
        ("ACME: bulk", "ACME", target),
    ):
        created = await api.post(
            "/api/v1/feedback", json={"text": text, "customer": customer, "theme_id": theme}
        )
        assert created.status_code == 201

    merged = await api.post(f"/api/v1/themes/{source}/merge", json={"into": target})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["id"], body["items"], body["customers"], body["description"]) == (
        target,
        3,
        2,
        "Export to CSV",
    )
    gone = (await api.get(f"/api/v1/themes/{source}")).json()
    assert (gone["merged_into_id"], gone["items"]) == (target, 0)
    listed = [t["id"] for t in (await api.get("/api/v1/themes")).json()["items"]]
    assert listed == [target]
    assert len((await api.get("/api/v1/themes", params={"include_merged": "true"})).json()["items"]) == 2

    # Linking to the merged theme lands in the theme it became.
    late = await api.post("/api/v1/feedback", json={"text": "More CSV", "theme_id": source})
    assert late.json()["theme_id"] == target

    assert (await api.post(f"/api/v1/themes/{source}/merge", json={"into": target})).status_code == 409
    assert (await api.post(f"/api/v1/themes/{target}/merge", json={"into": source})).status_code == 422
    assert (await api.post(f"/api/v1/themes/{target}/merge", json={"into": target})).status_code == 422
    assert (await api.post(f"/api/v1/themes/{target}/merge", json={"into": 999})).status_code == 404
    assert (await api.post(f"/api/v1/themes/{target}/merge", json={})).status_code == 422


async def test_theme_crud_and_clear_errors(api: Any, http: Any) -> None:
    assert (await http.get("/api/v1/themes", headers={"Authorization": "Bearer wrong"})).status_code == 401
    created = await api.post("/api/v1/themes", json={"title": "  Dark mode ", "description": "Night UI"})
    assert created.status_code == 201
    theme = created.json()
    assert (theme["title"], theme["status"], theme["items"], theme["customers"]) == (
        "Dark mode",
        "open",
        0,
        0,
    )
    assert created.headers["Location"] == f"/api/v1/themes/{theme['id']}"

    for bad in (
        {"title": ""},
        {"title": "x", "status": "shipped"},
        {"title": "x", "area": "no-such-area"},
        {},
    ):
        response = await api.post("/api/v1/themes", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["message"]

    patched = await api.patch(f"/api/v1/themes/{theme['id']}", json={"status": "planned"})
    assert patched.json()["status"] == "planned"
    refused = await api.patch(f"/api/v1/themes/{theme['id']}", json={"status": "shipped"})
    assert refused.status_code == 422 and "/ship" in refused.json()["message"]
    assert (await api.get("/api/v1/themes/424242")).status_code == 404
    assert (await api.post("/api/v1/themes/424242/ship")).status_code == 404
    assert (
        await api.post(f"/api/v1/themes/{theme['id']}/ship", json={"release_link": "not a url"})
    ).status_code == 422

    item = await api.post("/api/v1/feedback", json={"text": "Dark please", "theme_id": theme["id"]})
    assert (await api.delete(f"/api/v1/themes/{theme['id']}")).status_code == 204
    assert (await api.get(f"/api/v1/feedback/{item.json()['id']}")).json()["theme_id"] is None
    assert (await api.get(f"/api/v1/themes/{theme['id']}")).status_code == 404


async def test_themes_list_pages_and_filters(api: Any) -> None:
    ids = [await make_theme(api, f"Theme {n}") for n in range(5)]
    await api.patch(f"/api/v1/themes/{ids[1]}", json={"status": "declined"})
    first = (await api.get("/api/v1/themes", params={"limit": 2})).json()
    second = (await api.get("/api/v1/themes", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    third = (await api.get("/api/v1/themes", params={"limit": 2, "cursor": second["next_cursor"]})).json()
    assert [t["id"] for t in first["items"] + second["items"] + third["items"]] == ids
    assert third["next_cursor"] is None
    declined = (await api.get("/api/v1/themes", params={"status": "declined"})).json()["items"]
    assert [t["id"] for t in declined] == [ids[1]]
    assert [t["id"] for t in (await api.get("/api/v1/themes", params={"q": "theme 3"})).json()["items"]] == [
        ids[3]
    ]
    assert (await api.get("/api/v1/themes", params={"cursor": "garbage"})).status_code == 422


async def test_notifications_are_rows_per_recipient(
    runtime: Runtime, api: Any, requests_for_export: dict[str, Any]
) -> None:
    theme_id = requests_for_export["theme_id"]
    await api.post(f"/api/v1/themes/{theme_id}/ship")
    await api.post(f"/api/v1/themes/{theme_id}/ship")
    async with unit_of_work(runtime.session_factory) as session:
        targets = sorted(
            (
                await session.scalars(
                    select(ThemeNotification.target).where(ThemeNotification.theme_id == theme_id)
                )
            ).all()
        )
    first, other = requests_for_export["first"]["ts"], requests_for_export["other"]["ts"]
    assert targets == sorted(
        [
            "dm:U0ALICE",
            "dm:U0BOB",
            "dm:U0CAROL",
            "dm:U0DAVE",
            f"thread:C0GENERAL:{first}",
            f"thread:C0GENERAL:{other}",
        ]
    )
