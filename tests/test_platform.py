"""Slack's side of the contract (signatures, retries, unknown events, Web API failures) and the
operational endpoints (/healthz, /readyz, /metrics, /docs)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.core.runtime import Runtime
from bot.core.settings import Settings, load_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET, SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN
from bot.web import create_app
from models import SlackDelivery
from tests.helpers import after_announce_window


def mention(text: str = "<@U0SWITCHBOT> who owns billing?", channel: str = "C0GENERAL") -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }


async def settle(seconds: float = 0.3) -> None:
    """Bolt runs event listeners after acking; give a would-be second side effect time to show."""
    await asyncio.sleep(seconds)


async def deliveries(runtime: Runtime) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        return int(await session.scalar(select(func.count()).select_from(SlackDelivery)) or 0)


# ---- signatures -------------------------------------------------------------------------------


async def test_bad_signature_is_401_and_does_nothing(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    response = await slack.event(mention(), secret="not-the-signing-secret")
    assert response.status_code == 401
    command = await slack.command("/whoowns", "billing", secret="not-the-signing-secret")
    assert command.status_code == 401
    await settle()
    assert emulator.calls_to("chat.postMessage") == [] and emulator.calls_to("chat.postEphemeral") == []
    assert await deliveries(runtime) == 0


@pytest.mark.parametrize("age_seconds", [6 * 60, -6 * 60])
async def test_stale_or_future_timestamp_is_401(
    slack: SlackSender, emulator: SlackEmulator, age_seconds: int
) -> None:
    response = await slack.event(mention(), timestamp=int(time.time()) - age_seconds)
    assert response.status_code == 401
    await settle()
    assert emulator.calls_to("chat.postMessage") == []


async def test_missing_signature_headers_are_401(http: httpx.AsyncClient, emulator: SlackEmulator) -> None:
    response = await http.post("/slack/events", json={"type": "event_callback", "event": mention()})
    assert response.status_code == 401


async def test_fresh_signed_mention_is_answered_in_thread(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    event = mention()
    response = await slack.event(event)
    assert response.status_code == 200
    posts = await emulator.wait_for("chat.postMessage")
    assert posts[0]["channel"] == "C0GENERAL" and posts[0]["thread_ts"] == event["ts"]


# ---- Slack retries ----------------------------------------------------------------------------


async def test_retried_event_has_one_side_effect(slack: SlackSender, emulator: SlackEmulator) -> None:
    event = mention()
    first = await slack.event(event, event_id="Ev0RETRY0001")
    await emulator.wait_for("chat.postMessage")
    retry = await slack.event(event, event_id="Ev0RETRY0001", retry_num=1)
    again = await slack.event(event, event_id="Ev0RETRY0001", retry_num=2)
    assert first.status_code == retry.status_code == again.status_code == 200
    await settle()
    assert len(emulator.calls_to("chat.postMessage")) == 1


async def test_concurrent_deliveries_of_one_event_have_one_side_effect(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    event = mention()
    responses = await asyncio.gather(
        slack.event(event, event_id="Ev0RACE00001"),
        slack.event(event, event_id="Ev0RACE00001", retry_num=1),
        slack.event(event, event_id="Ev0RACE00001", retry_num=2),
    )
    assert [r.status_code for r in responses] == [200, 200, 200]
    await emulator.wait_for("chat.postMessage")
    await settle()
    assert len(emulator.calls_to("chat.postMessage")) == 1


async def test_different_events_each_get_answered(slack: SlackSender, emulator: SlackEmulator) -> None:
    await slack.event(mention(), event_id="Ev0DISTINCT1")
    await slack.event(mention(), event_id="Ev0DISTINCT2")
    await emulator.wait_for("chat.postMessage", 2)


# ---- events nobody handles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "message",
            "user": "U0BOB",
            "text": "hello",
            "ts": "1700000000.000200",
            "channel": "C0GENERAL",
        },
        {"type": "message", "subtype": "bot_message", "text": "beep", "ts": "1700000000.000300"},
        {"type": "channel_created", "channel": {"id": "C0NEW", "name": "new", "created": 1700000000}},
        {"type": "team_join", "user": {"id": "U0NEW", "name": "newbie"}},
        {"type": "reaction_removed", "user": "U0BOB", "reaction": "memo", "item": {"type": "message"}},
        {"type": "member_joined_channel", "user": "U0BOB", "channel": "C0GENERAL"},
        {"type": "tokens_revoked", "tokens": {"bot": ["U0SWITCHBOT"]}},
        {"type": "some_future_event_type"},
    ],
)
async def test_events_no_feature_handles_are_acknowledged(
    slack: SlackSender, emulator: SlackEmulator, event: dict[str, Any]
) -> None:
    response = await slack.event(event)
    assert response.status_code == 200
    await settle(0.1)
    assert emulator.calls_to("chat.postMessage") == []


async def test_url_verification_challenge_is_echoed(slack: SlackSender) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    response = await slack.post(body, "application/json")
    assert response.status_code == 200 and challenge in response.text


# ---- Slack Web API failures ------------------------------------------------------------------


async def test_rate_limited_post_is_retried_after_retry_after_and_delivered(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.fail("chat.postMessage", retry_after=1)
    started = time.monotonic()
    await slack.event(mention())
    calls = await emulator.wait_for("chat.postMessage", 2, timeout=10)
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.95
    assert time.monotonic() - started < 5
    await settle()
    assert len(emulator.messages["C0GENERAL"]) == 1
    assert emulator.messages["C0GENERAL"][0]["thread_ts"] == calls[1]["thread_ts"]


async def test_server_error_once_is_retried_and_delivered(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.fail("chat.postMessage", status=503)
    await slack.event(mention())
    await emulator.wait_for("chat.postMessage", 2, timeout=10)
    await settle()
    assert len(emulator.calls_to("chat.postMessage")) == 2
    assert len(emulator.messages["C0GENERAL"]) == 1


async def test_channel_not_found_tells_the_user_and_the_app_keeps_working(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    emulator.fail("chat.postMessage", error="channel_not_found")
    response = await slack.event(mention())
    assert response.status_code == 200
    told = await emulator.wait_for("chat.postEphemeral")
    assert told[0]["user"] == "U0ALICE" and "Something went wrong" in told[0]["text"]
    assert emulator.messages["C0GENERAL"] == []

    later = await slack.event(mention())
    assert later.status_code == 200
    await emulator.wait_for("chat.postMessage", 2)
    command = await slack.command("/whoowns", "help")
    assert command.status_code == 200 and "whoowns" in command.text


async def test_unknown_channel_from_slack_is_survived(slack: SlackSender, emulator: SlackEmulator) -> None:
    response = await slack.event(mention(channel="C0VANISHED"))
    assert response.status_code == 200
    await emulator.wait_for("chat.postEphemeral")
    assert (await slack.command("/whoowns", "help")).status_code == 200


# ---- health, readiness, metrics, docs ----------------------------------------------------------


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_the_database_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"


@pytest.fixture(
    params=[
        "sqlite+aiosqlite:///{tmp}/missing/dir/switchboard.db",
        "postgresql+asyncpg://postgres@127.0.0.1:1/switchboard",
    ],
    ids=["sqlite-missing-dir", "postgresql-unreachable"],
)
async def unreachable_app(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: SlackEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    settings: Settings = load_settings(
        database_url=request.param.format(tmp=tmp_path),
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emulator.url,
        admin_api_tokens="test-admin-token",
        switchboard_scheduler="off",
        _env_file=None,
    )
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        # As a real server does: an unhandled error becomes the app's 500 answer, not a test crash.
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            yield client


async def test_readyz_is_503_when_the_database_is_unreachable(unreachable_app: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await unreachable_app.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "message": "database unreachable"}
    assert time.monotonic() - started < 10
    assert (await unreachable_app.get("/healthz")).status_code == 200


async def test_api_answers_503_json_when_the_database_is_unreachable(
    unreachable_app: httpx.AsyncClient,
) -> None:
    response = await unreachable_app.get(
        "/api/v1/areas", headers={"Authorization": "Bearer test-admin-token"}
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "unavailable" and "database" in response.json()["message"]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of metric sample `name` with `labels` in an exposition, 0 when absent."""
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0


async def test_metrics_count_requests_slack_calls_and_scheduler_lag(
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    run_jobs: Any,
) -> None:
    before = (await http.get("/metrics")).text
    await api.get("/api/v1/areas")
    emulator.fail("chat.postMessage", retry_after=1)
    await slack.event(mention())
    await emulator.wait_for("chat.postMessage", 2, timeout=10)
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    await run_jobs(after_announce_window())
    await settle()

    response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = response.text
    requests = "switchboard_http_requests_total"
    labels = {"method": "GET", "route": "/api/v1/areas", "status": "200"}
    assert sample(after, requests, **labels) == sample(before, requests, **labels) + 1
    assert sample(after, "switchboard_http_request_seconds_count", route="/api/v1/areas") >= 1
    assert sample(after, "switchboard_http_request_seconds_count", route="/slack/events") >= 1
    calls = "switchboard_slack_api_calls_total"
    for outcome in ("rate_limited", "ok"):
        assert (
            sample(after, calls, method="chat.postMessage", outcome=outcome)
            >= sample(before, calls, method="chat.postMessage", outcome=outcome) + 1
        ), outcome
    lag = "switchboard_scheduler_lag_seconds_count"
    assert sample(after, lag, kind="ownership.announce") >= sample(before, lag, kind="ownership.announce") + 1
    assert "switchboard_scheduler_lag_seconds_bucket" in after


async def test_docs_and_openapi_are_served(http: httpx.AsyncClient) -> None:
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    schema = (await http.get("/openapi.json")).json()
    assert schema["info"]["title"] == "Switchboard admin API"
    assert "/api/v1/areas" in schema["paths"] and "/slack/events" not in schema["paths"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
