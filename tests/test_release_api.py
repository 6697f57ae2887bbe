"""`/api/v1/releases`: CRUD, approve / schedule / cancel, and clear answers to bad input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from models import Launch
from models.base import utcnow
from tests.helpers import rendered
from tests.test_releases import APPROVER, OWNER, TEAM, channel_posts, dms_to

BODY: dict[str, Any] = {
    "title": "Audit log",
    "version": "3.1",
    "summary": "Every admin action, searchable.",
    "notes": "- Filter by *actor*\n- Export to CSV",
    "channels": ["C0GENERAL"],
    "owner": OWNER,
}


async def test_crud_and_lifecycle_through_the_api(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    emulator.add_channel("C0RELEASESFR", "releases-fr", members=[BOT_USER_ID])
    async with unit_of_work(runtime.session_factory) as session:
        launch = Launch(team_id=TEAM, slug="q4", name="Q4 launch", target_date=date(2026, 12, 1), owner=OWNER)
        session.add(launch)
        await session.flush()
        launch_id = launch.id
    created = await api.post(
        "/api/v1/releases",
        json={
            **BODY,
            "launch_id": launch_id,
            "channel_locales": {"C0RELEASESFR": "fr"},
            "variants": {"fr": {"title": "Journal d'audit", "summary": "", "notes": None}},
            "scheduled_at": (utcnow() + timedelta(days=1)).isoformat(),
            "timezone": "Europe/Paris",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/releases/{body['id']}"
    assert body["status"] == "draft" and body["launch_id"] == launch_id
    assert {p["channel"]: p["locale"] for p in body["posts"]} == {"C0GENERAL": "en", "C0RELEASESFR": "fr"}
    assert body["variants"] == {"fr": {"title": "Journal d'audit", "summary": None, "notes": None}}
    assert [e["kind"] for e in body["events"]] == ["created"] and body["events"][0]["actor"] == "api:env"

    listed = (await api.get("/api/v1/releases")).json()
    assert [r["id"] for r in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    assert listed["items"][0]["posts_by_state"] == {"pending": 2}

    # Approving a release that has a time schedules it; its post is upcoming work.
    approved = (await api.post(f"/api/v1/releases/{body['id']}/approve")).json()
    assert approved["status"] == "scheduled" and approved["approved_by"] == "api:env"
    jobs = (await api.get("/api/v1/jobs")).json()["items"]
    assert [j["payload"]["release_id"] for j in jobs if j["kind"] == "release.deliver"] == [body["id"]]

    # Rescheduling to now replaces the earlier time; the post goes out in each language.
    now = await api.post(f"/api/v1/releases/{body['id']}/schedule", json={"at": "now"})
    assert now.status_code == 200
    await run_jobs()
    (general,) = channel_posts(emulator, "C0GENERAL", body["id"])
    (french,) = channel_posts(emulator, "C0RELEASESFR", body["id"])
    assert "Audit log" in rendered(general["blocks"]) and "Q4 launch" in rendered(general["blocks"])
    assert "Journal d'audit" in rendered(french["blocks"]) and "Fait partie de" in rendered(french["blocks"])
    # Blank French fields fell back to the English text.
    assert "Every admin action" in rendered(french["blocks"])
    detail = (await api.get(f"/api/v1/releases/{body['id']}")).json()
    assert detail["status"] == "posted" and all(p["ts"] and p["state"] == "posted" for p in detail["posts"])
    assert [e["kind"] for e in detail["events"]] == [
        "created",
        "approved",
        "scheduled",
        "scheduled",
        "posting",
        "posted",
    ]

    # Posted releases stay: no delete, no reschedule.
    assert (await api.delete(f"/api/v1/releases/{body['id']}")).status_code == 409
    again = await api.post(f"/api/v1/releases/{body['id']}/schedule", json={"at": "now"})
    assert again.status_code == 409


async def test_an_approver_gets_the_request_in_slack(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    created = (await api.post("/api/v1/releases", json={**BODY, "approver": APPROVER})).json()
    assert created["status"] == "pending_approval"
    await run_jobs()
    (request,) = dms_to(emulator, APPROVER)
    assert "Audit log" in rendered(request["blocks"])
    # A release waiting for its approver can't be scheduled yet.
    blocked = await api.post(f"/api/v1/releases/{created['id']}/schedule", json={"at": "now"})
    assert blocked.status_code == 409 and "<@U0BOB>" in blocked.json()["message"]


async def test_bad_input_is_a_clear_error_and_changes_nothing(api: httpx.AsyncClient) -> None:
    created = (await api.post("/api/v1/releases", json=BODY)).json()
    release_id = created["id"]
    await api.post(f"/api/v1/releases/{release_id}/approve")

    naive = await api.post(f"/api/v1/releases/{release_id}/schedule", json={"at": "2026-12-01T09:00:00"})
    assert naive.status_code == 422 and "UTC offset" in naive.json()["message"]
    garbage = await api.post(f"/api/v1/releases/{release_id}/schedule", json={"at": "tomorrow-ish"})
    assert garbage.status_code == 422 and "ISO 8601" in garbage.json()["message"]
    assert (await api.post(f"/api/v1/releases/{release_id}/schedule", json={})).status_code == 422
    naive_create = await api.post("/api/v1/releases", json={**BODY, "scheduled_at": "2026-12-01 09:00"})
    assert naive_create.status_code == 422 and "UTC offset" in naive_create.json()["message"]

    no_audience = await api.post("/api/v1/releases", json={**BODY, "channels": []})
    assert no_audience.status_code == 422 and "channel" in no_audience.json()["message"]
    bad_channel = await api.post("/api/v1/releases", json={**BODY, "channels": ["#general"]})
    assert bad_channel.status_code == 422
    bad_locale = await api.post("/api/v1/releases", json={**BODY, "variants": {"French!": {"title": "x"}}})
    assert bad_locale.status_code == 422
    unknown_theme = await api.post("/api/v1/releases", json={**BODY, "theme_ids": [999]})
    assert unknown_theme.status_code == 422 and "999" in unknown_theme.json()["message"]
    unknown_launch = await api.post("/api/v1/releases", json={**BODY, "launch_id": 999})
    assert unknown_launch.status_code == 422
    bad_zone = await api.post("/api/v1/releases", json={**BODY, "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "IANA" in bad_zone.json()["message"]
    null_title = await api.patch(f"/api/v1/releases/{release_id}", json={"title": None})
    assert null_title.status_code == 422

    assert (await api.get("/api/v1/releases/424242")).status_code == 404
    assert (await api.post("/api/v1/releases/424242/approve")).status_code == 404
    assert (await api.get("/api/v1/releases/not-a-number")).status_code == 422
    # Nothing above created or changed a release.
    listed = (await api.get("/api/v1/releases")).json()["items"]
    assert [r["id"] for r in listed] == [release_id] and listed[0]["status"] == "approved"


async def test_unauthenticated_requests_are_refused(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/v1/releases")).status_code == 401
    assert (await http.post("/api/v1/releases", json=BODY)).status_code == 401


async def test_pages_filters_delete_and_edits_before_posting(api: httpx.AsyncClient, run_jobs: Any) -> None:
    ids = [
        (await api.post("/api/v1/releases", json={**BODY, "title": f"R{i}"})).json()["id"] for i in range(5)
    ]
    first = (await api.get("/api/v1/releases", params={"limit": 2})).json()
    second = (await api.get("/api/v1/releases", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    third = (await api.get("/api/v1/releases", params={"limit": 2, "cursor": second["next_cursor"]})).json()
    assert [r["id"] for r in first["items"] + second["items"] + third["items"]] == ids[::-1]
    assert third["next_cursor"] is None
    assert (await api.get("/api/v1/releases", params={"cursor": "nonsense"})).status_code == 422

    await api.post(f"/api/v1/releases/{ids[0]}/cancel")
    cancelled = (await api.get("/api/v1/releases", params={"status": "cancelled"})).json()["items"]
    assert [r["id"] for r in cancelled] == [ids[0]]
    assert (await api.patch(f"/api/v1/releases/{ids[0]}", json={"title": "x"})).status_code == 409

    # An admin's change to an approved release keeps its approval and its time (an admin-API token
    # acts as an admin); the owner's change from Slack goes back for approval.
    await api.post(f"/api/v1/releases/{ids[1]}/approve")
    await api.post(
        f"/api/v1/releases/{ids[1]}/schedule", json={"at": (utcnow() + timedelta(hours=1)).isoformat()}
    )
    changed = (await api.patch(f"/api/v1/releases/{ids[1]}", json={"summary": "New words"})).json()
    assert (changed["status"], changed["approved_by"], changed["revision"]) == ("scheduled", "api:env", 2)
    assert changed["summary"] == "New words"
    jobs = [j for j in (await api.get("/api/v1/jobs")).json()["items"] if j["kind"] == "release.deliver"]
    assert len(jobs) == 1

    # Moving only the time keeps the approval.
    await api.post(f"/api/v1/releases/{ids[2]}/approve")
    later = (utcnow() + timedelta(hours=5)).replace(microsecond=0)
    moved = (await api.patch(f"/api/v1/releases/{ids[2]}", json={"scheduled_at": later.isoformat()})).json()
    assert moved["status"] == "scheduled" and moved["approved_by"] == "api:env"
    jobs = [j for j in (await api.get("/api/v1/jobs")).json()["items"] if j["kind"] == "release.deliver"]
    # One delivery each for the two approved releases; the moved one at its new time.
    assert len(jobs) == 2 and jobs[-1]["run_at"].startswith(later.isoformat()[:19])

    assert (await api.delete(f"/api/v1/releases/{ids[3]}")).status_code == 204
    assert (await api.get(f"/api/v1/releases/{ids[3]}")).status_code == 404
