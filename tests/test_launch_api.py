"""Admin API `/api/v1/launches` (+ functions, standups, go/no-go)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.emulator.server import SlackEmulator

# Target dates and days-to-launch are counted from this clock. It is a Saturday, so that the
# weekday standup schedule plans no run of its own next to the ones the tests start by hand.
NOW = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
TARGET = (NOW.date() + timedelta(days=30)).isoformat()
pytestmark = pytest.mark.time_machine(NOW, tick=True)


def launch_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Checkout v2",
        "target_date": TARGET,
        "owner": "U0ALICE",
        "functions": [
            {"name": "Engineering", "owner": "U0BOB"},
            {"name": "QA", "owner": "U0CAROL"},
            {"name": "Docs"},
        ],
        "timezone": "Europe/Berlin",
        "holiday_country": "de",
    }
    body.update(overrides)
    return body


async def test_create_launch_makes_channel_and_invites_owners(
    api: httpx.AsyncClient, emulator: SlackEmulator
) -> None:
    response = await api.post("/api/v1/launches", json=launch_body())
    assert response.status_code == 201, response.text
    launch = response.json()
    assert response.headers["Location"] == f"/api/v1/launches/{launch['id']}"
    assert (launch["slug"], launch["status"], launch["holiday_country"]) == ("checkout-v2", "planning", "DE")
    assert [(f["name"], f["owner"]) for f in launch["functions"]] == [
        ("Engineering", "U0BOB"),
        ("QA", "U0CAROL"),
        ("Docs", None),
    ]
    assert launch["readiness"] == {
        "score": 0,
        "previous_score": None,
        "delta": None,
        "direction": "new",
        "days_to_launch": 30,
    }
    (created,) = emulator.calls_to("conversations.create")
    assert (
        created["name"] == "launch-checkout-v2"
        and launch["channel"] == emulator.responses[-2]["channel"]["id"]
    )
    assert set(emulator.channels[launch["channel"]]["members"]) >= {"U0ALICE", "U0BOB", "U0CAROL"}


async def test_template_functions_when_none_given(api: httpx.AsyncClient) -> None:
    body = launch_body(functions=None, template="internal", channel="C0GENERAL")
    launch = (await api.post("/api/v1/launches", json=body)).json()
    assert [f["name"] for f in launch["functions"]] == ["Engineering", "QA", "Docs", "Support"]
    assert launch["channel"] == "C0GENERAL"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target_date": "2020-01-01"}, "in the past"),
        ({"owner": "U0NOBODY"}, "Unknown Slack user `U0NOBODY`"),
        ({"functions": [{"name": "QA", "owner": "U0GHOST"}]}, "Unknown Slack user `U0GHOST`"),
        ({"owner": "bob"}, "owner"),
        ({"timezone": "Mars/Olympus"}, "Unknown timezone"),
        ({"holiday_country": "XX"}, "ISO country code"),
        ({"standup_time": "9am"}, "HH:MM"),
        ({"functions": [{"name": "QA"}, {"name": "qa"}]}, "listed twice"),
        ({"reminder_after_minutes": 300, "cutoff_after_minutes": 200}, "less than cutoff"),
        ({"channel": "C0NOWHERE"}, "does not know channel"),
    ],
)
async def test_invalid_launch_is_422_with_clear_message(
    api: httpx.AsyncClient, overrides: dict[str, Any], message: str
) -> None:
    response = await api.post("/api/v1/launches", json=launch_body(**overrides))
    assert response.status_code == 422, response.text
    assert message in response.json()["message"]
    assert (await api.get("/api/v1/launches")).json()["items"] == []


async def test_deactivated_user_is_refused(api: httpx.AsyncClient, emulator: SlackEmulator) -> None:
    emulator.add_user("U0GONE", "gone", deleted=True)
    response = await api.post("/api/v1/launches", json=launch_body(owner="U0GONE"))
    assert response.status_code == 422 and "deactivated" in response.json()["message"]


async def test_duplicate_slug_is_422_and_keeps_the_first(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL"))).status_code == 201
    again = await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL", name="Checkout V2!"))
    assert again.status_code == 422 and "slug `checkout-v2` already exists" in again.json()["message"]
    assert len((await api.get("/api/v1/launches")).json()["items"]) == 1


async def test_unauthenticated_is_401(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/v1/launches")).status_code == 401


async def test_list_paginates_filters_and_looks_up(api: httpx.AsyncClient) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        await api.post("/api/v1/launches", json=launch_body(name=name, channel="C0GENERAL"))
    first = (await api.get("/api/v1/launches", params={"limit": 2})).json()
    assert [x["name"] for x in first["items"]] == ["Alpha", "Beta"] and first["next_cursor"]
    rest = (await api.get("/api/v1/launches", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [x["name"] for x in rest["items"]] == ["Gamma"] and rest["next_cursor"] is None
    await api.patch(f"/api/v1/launches/{rest['items'][0]['id']}", json={"status": "cancelled"})
    live = (await api.get("/api/v1/launches", params={"status": ["planning"]})).json()
    assert [x["name"] for x in live["items"]] == ["Alpha", "Beta"]
    found = (await api.get("/api/v1/launches", params={"q": "gama"})).json()
    assert [x["name"] for x in found["items"]] == ["Gamma"]


async def test_get_patch_delete_and_unknown_ids(api: httpx.AsyncClient) -> None:
    launch = (await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL"))).json()
    url = f"/api/v1/launches/{launch['id']}"
    changed = await api.patch(
        url, json={"standup_time": "10:15", "gonogo_days_before": None, "name": "Checkout"}
    )
    assert changed.status_code == 200
    assert (changed.json()["standup_time"], changed.json()["gonogo_days_before"], changed.json()["name"]) == (
        "10:15",
        None,
        "Checkout",
    )
    bad = await api.patch(url, json={"target_date": "2001-02-03"})
    assert bad.status_code == 422 and (await api.get(url)).json()["target_date"] == TARGET
    assert (await api.patch(url, json={"name": None})).status_code == 422
    assert (await api.get("/api/v1/launches/9999")).status_code == 404
    assert (await api.delete(url)).status_code == 204
    assert (await api.get(url)).status_code == 404


async def test_functions_crud_and_blocked_status_alerts(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    launch = (await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL"))).json()
    base = f"/api/v1/launches/{launch['id']}/functions"
    added = await api.post(base, json={"name": "Legal", "owner": "U0DAVE"})
    assert added.status_code == 201 and added.json()["position"] == 3
    assert (await api.post(base, json={"name": "legal"})).status_code == 422
    assert (await api.post(base, json={"name": "Security", "owner": "U0NOPE"})).status_code == 422
    legal = added.json()["id"]
    blocked = await api.patch(f"{base}/{legal}", json={"status": "blocked", "note": "contract unsigned"})
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    await run_jobs()
    alert = [c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == "U0ALICE"]
    assert (
        len(alert) == 1
        and "*Legal* is *blocked*" in alert[0]["text"]
        and "contract unsigned" in alert[0]["text"]
    )
    detail = (await api.get(f"/api/v1/launches/{launch['id']}")).json()
    assert detail["status"] == "at_risk"
    listed = (await api.get(base)).json()["items"]
    assert [f["name"] for f in listed] == ["Engineering", "QA", "Docs", "Legal"]
    assert (await api.patch(f"{base}/{legal}", json={"status": "sideways"})).status_code == 422
    assert (await api.delete(f"{base}/{legal}")).status_code == 204
    assert (await api.delete(f"{base}/{legal}")).status_code == 404


async def test_standups_endpoint_runs_one_and_lists_runs(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    launch = (await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL"))).json()
    url = f"/api/v1/launches/{launch['id']}/standups"
    started = await api.post(url)
    assert started.status_code == 202 and started.json()["trigger"] == "manual"
    starting = await api.post(url)
    assert starting.status_code == 422 and "starting right now" in starting.json()["message"]
    await run_jobs()
    assert len([c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == "U0BOB"]) == 1
    (run,) = (await api.get(url)).json()["items"]
    assert (run["status"], run["responses"], run["id"]) == ("open", 0, started.json()["id"])
    refused = await api.post(url)
    assert refused.status_code == 422 and "already collecting answers" in refused.json()["message"]
    assert (await api.get("/api/v1/launches/9999/standups")).status_code == 404


async def test_gonogo_endpoint_opens_and_lists_votes(api: httpx.AsyncClient, run_jobs: Any) -> None:
    launch = (await api.post("/api/v1/launches", json=launch_body(channel="C0GENERAL"))).json()
    url = f"/api/v1/launches/{launch['id']}/gonogo"
    opened = await api.post(url)
    assert opened.status_code == 202 and opened.json()["voters"] == ["U0BOB", "U0CAROL"]
    assert (await api.post(url)).status_code == 422
    await run_jobs()
    (decision,) = (await api.get(url)).json()["items"]
    assert decision["message_ts"] and decision["channel"] == "C0GENERAL" and decision["status"] == "open"
