"""Socket Mode: with SLACK_APP_TOKEN set the web process connects out to Slack, answers over the
socket, and closes the connection on shutdown."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.core.settings import Settings, SettingsError
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.emulator.state import TEAM_ID
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.web import create_app

APP_TOKEN = "xapp-1-A0SWITCH-1-socket-secret"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Socket Mode needs no signing secret: nothing arrives over HTTP from Slack.
    return {"slack_app_token": APP_TOKEN, "slack_signing_secret": None}


@pytest.fixture
async def billing(runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session,
            team_id=TEAM_ID,
            data=AreaIn(name="Billing", owner="U0BOB", team="Payments", aliases=["invoices"]),
        )


def slash_command(command: str, text: str) -> dict[str, Any]:
    """A slash command as Socket Mode carries it: the same fields as the HTTP form, as JSON."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "switchboard-demo",
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "A0SWITCH",
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0SWITCH/1/abc",
        "trigger_id": "1.socket.trigger",
    }


async def test_lifespan_opens_a_socket_with_the_app_token(app: Any, emulator: SlackEmulator) -> None:
    await emulator.wait_for("socket.connected")
    (opened,) = emulator.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert len(emulator.sockets) == 1


async def test_slash_command_over_the_socket_is_answered_in_the_ack(
    app: Any, emulator: SlackEmulator, billing: None
) -> None:
    await emulator.wait_for("socket.connected")

    envelope_id = await emulator.send_envelope("slash_commands", slash_command("/whoowns", "invoices"))
    ack = await emulator.socket_ack(envelope_id)

    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    assert "<@U0BOB>" in str(payload["blocks"]) and "Payments" in str(payload["blocks"])
    # The answer travelled in the acknowledgement, not through the Web API or response_url.
    assert not emulator.calls_to("chat.postMessage") and not emulator.calls_to("response_url")


async def test_help_over_the_socket_answers_usage(app: Any, emulator: SlackEmulator) -> None:
    await emulator.wait_for("socket.connected")

    envelope_id = await emulator.send_envelope("slash_commands", slash_command("/whoowns", "help"))
    ack = await emulator.socket_ack(envelope_id)

    assert "/whoowns" in ack["payload"]["text"]


async def test_event_over_the_socket_is_acked_then_answered_in_thread(
    app: Any, emulator: SlackEmulator, billing: None
) -> None:
    await emulator.wait_for("socket.connected")
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@U0SWITCHBOT> who owns billing?",
        "ts": "1700000200.000100",
        "channel": "C0GENERAL",
        "team": TEAM_ID,
    }
    body = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0SWITCH",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0SOCKET01",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0SWITCHBOT", "is_bot": True}],
    }

    envelope_id = await emulator.send_envelope("events_api", body, accepts_response_payload=False)

    assert (await emulator.socket_ack(envelope_id))["envelope_id"] == envelope_id
    (answer,) = await emulator.wait_for("chat.postMessage")
    assert answer["thread_ts"] == "1700000200.000100" and "<@U0BOB>" in str(answer["blocks"])

    # Slack redelivers over the socket too; the second delivery is acked and does nothing.
    again = await emulator.send_envelope("events_api", body, accepts_response_payload=False, retry_attempt=1)
    await emulator.socket_ack(again)
    await asyncio.sleep(0.2)
    assert len(emulator.calls_to("chat.postMessage")) == 1


async def test_shutdown_closes_the_socket_and_does_not_reconnect(
    settings: Settings, emulator: SlackEmulator
) -> None:
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        await emulator.wait_for("socket.connected")
        assert len(emulator.sockets) == 1

    await emulator.wait_for("socket.closed")
    assert emulator.sockets == [] and emulator.socket_disconnects == 1
    await asyncio.sleep(0.3)
    assert len(emulator.calls_to("apps.connections.open")) == 1


async def test_refused_app_token_fails_start_with_one_clear_line(
    settings: Settings, emulator: SlackEmulator
) -> None:
    emulator.fail("apps.connections.open", error="invalid_auth")
    application = create_app(settings, manage_schema=False, scheduler=False)

    with pytest.raises(SettingsError, match=r"^SLACK_APP_TOKEN: .*invalid_auth"):
        async with application.router.lifespan_context(application):
            pass


async def test_http_events_are_refused_without_a_signing_secret(app: Any, http: Any) -> None:
    response = await http.post(
        "/slack/events",
        content='{"type": "event_callback", "event": {"type": "app_mention"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 404
    assert "SLACK_SIGNING_SECRET" in response.json()["message"]
