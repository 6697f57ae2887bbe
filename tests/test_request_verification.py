"""Requests to /slack/events whose signature does not verify are answered 401 before Bolt sees them
(no listener, no error handler, no outbound call); verified bodies Bolt cannot parse are 400."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import web
from slack_sdk.signature import Clock
from starlette.types import Receive, Scope, Send

from bot.core.runtime import Runtime
from bot.emulator.driver import SIGNING_SECRET, SlackSender, sign
from bot.emulator.server import SlackEmulator
from bot.emulator.state import TEAM_ID
from bot.slack.verification import MAX_BODY_BYTES, SlackRequestGuard

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Trap:
    """A local server named as `response_url` by abusive bodies: nothing may ever arrive here."""

    url: str
    hits: list[str]


@pytest.fixture
async def trap() -> AsyncIterator[Trap]:
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path_qs}")
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield Trap(url=f"http://127.0.0.1:{port}/hook", hits=hits)
    await runner.cleanup()


@pytest.fixture
def dispatched(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request Bolt was handed (its listeners and its error handler run only inside dispatch)."""
    assert runtime.bolt is not None
    seen: list[Any] = []
    original = runtime.bolt.async_dispatch

    async def spy(request: Any) -> Any:
        seen.append(request)
        return await original(request)

    monkeypatch.setattr(runtime.bolt, "async_dispatch", spy)
    return seen


def abusive_payload(trap: Trap) -> dict[str, Any]:
    """A button click naming a response_url, a channel and a user: what the error handler answered."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "switchboard-demo"},
        "user": {"id": "U0ALICE", "team_id": TEAM_ID},
        "channel": {"id": "C0GENERAL"},
        "container": {"type": "message", "channel_id": "C0GENERAL", "message_ts": "1700000000.000100"},
        "actions": [{"type": "button", "action_id": "no_such_action", "block_id": "b1", "value": "x"}],
        "response_url": trap.url,
        "trigger_id": "1.trigger",
    }


def body_for(content_type: str, payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)}) if content_type == FORM else json.dumps(payload)


def signed_bytes(body: bytes, timestamp: int) -> dict[str, str]:
    """What Slack would send for a body that is not text: the HMAC is over the raw bytes."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


Headers = list[tuple[str, str | bytes]]
# Each shape gets the body and the current time and returns the signature headers to send.
Shape = Callable[[str, int], Headers]
TS, SIG = "X-Slack-Request-Timestamp", "X-Slack-Signature"


def signed_at(offset: int, **kwargs: str) -> Shape:
    """Signed correctly, `offset` seconds away from now."""
    return lambda body, now: list(sign(body, timestamp=now + offset, **kwargs).items())


def with_timestamp(value: str) -> Shape:
    """A correct signature for now, sent with another timestamp header."""
    return lambda body, now: list({**sign(body, timestamp=now), TS: value}.items())


def with_signature(change: Callable[[str], str | bytes]) -> Shape:
    """The current timestamp, with the correct signature changed by `change`."""
    return lambda body, now: [(TS, str(now)), (SIG, change(sign(body, timestamp=now)[SIG]))]


ABUSIVE_HEADERS: dict[str, Shape] = {
    "no_headers": lambda body, now: [],
    "timestamp_only": lambda body, now: [(TS, str(now))],
    "signature_only": lambda body, now: [(SIG, sign(body, timestamp=now)[SIG])],
    "timestamp_abc": with_timestamp("abc"),
    "timestamp_1e99": with_timestamp("1e99"),
    "timestamp_minus_1": with_timestamp("-1"),
    "timestamp_huge": with_timestamp("9" * 400),
    "timestamp_empty": with_timestamp(""),
    "timestamp_fraction": lambda body, now: list({**sign(body, timestamp=now), TS: f"{now}.5"}.items()),
    "timestamp_hex": lambda body, now: list({**sign(body, timestamp=now), TS: hex(now)}.items()),
    "timestamp_nan": with_timestamp("nan"),
    "timestamp_zero": lambda body, now: list(sign(body, timestamp=0).items()),
    "stale_by_301s": signed_at(-301),
    "future_by_301s": signed_at(+301),
    "signed_for_another_timestamp": lambda body, now: [
        (TS, str(now)),
        (SIG, sign(body, timestamp=now - 1)[SIG]),
    ],
    "wrong_secret": signed_at(0, secret="not-the-signing-secret"),
    "signed_for_another_body": lambda body, now: list(sign(body + "&extra=1", timestamp=now).items()),
    "signature_empty": with_signature(lambda good: ""),
    "signature_v0_empty": with_signature(lambda good: "v0="),
    "signature_v1": with_signature(lambda good: good.replace("v0=", "v1=")),
    "signature_uppercase": with_signature(lambda good: "v0=" + good[3:].upper()),
    "signature_truncated": with_signature(lambda good: good[:-2]),
    "signature_garbage": with_signature(lambda good: "abc"),
    "signature_non_ascii": with_signature(lambda good: ("v0=" + "\xe9" * 64).encode("latin-1")),
    "two_signatures": lambda body, now: [
        (TS, str(now)),
        (SIG, "v0=" + "0" * 64),
        (SIG, sign(body, timestamp=now)[SIG]),
    ],
    "two_timestamps": lambda body, now: [
        (TS, str(now)),
        (TS, str(now - 400)),
        (SIG, sign(body, timestamp=now)[SIG]),
    ],
}


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing was logged as an error, and no traceback was written."""
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("content_type", [FORM, JSON])
@pytest.mark.parametrize("shape", list(ABUSIVE_HEADERS))
async def test_unverifiable_request_is_401_and_reaches_nothing(
    http: httpx.AsyncClient,
    emulator: SlackEmulator,
    trap: Trap,
    dispatched: list[Any],
    caplog: pytest.LogCaptureFixture,
    shape: str,
    content_type: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = body_for(content_type, abusive_payload(trap))
    headers = [("Content-Type", content_type), *ABUSIVE_HEADERS[shape](body, int(time.time()))]

    response = await http.post("/slack/events", content=body, headers=headers)
    await asyncio.sleep(0.05)  # a listener Bolt ran after acking would have called out by now

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert dispatched == []
    assert emulator.calls == []
    assert trap.hits == []
    assert_quiet(caplog)


async def test_timestamp_abc_no_longer_lets_the_error_handler_answer_the_body(
    http: httpx.AsyncClient, emulator: SlackEmulator, trap: Trap, dispatched: list[Any]
) -> None:
    body = body_for(FORM, abusive_payload(trap))
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"}

    response = await http.post("/slack/events", content=body, headers=headers)
    await asyncio.sleep(0.2)

    assert response.status_code == 401
    assert trap.hits == [] and emulator.calls_to("chat.postEphemeral") == [] and emulator.calls == []
    assert dispatched == []


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (content type, body): signed correctly, but nothing Bolt could parse into a request object.
MALFORMED_BODIES: dict[str, tuple[str | None, bytes]] = {
    "form_payload_not_json": (FORM, b"payload=not-json"),
    "form_payload_list": (FORM, b"payload=%5B%5D"),
    "form_payload_string": (FORM, b"payload=%22hello%22"),
    "form_payload_empty": (FORM, b"payload="),
    "form_payload_deeply_nested": (FORM, ("payload=" + _deep(100_000)).encode()),
    "form_without_payload_or_command": (FORM, b"foo=bar&team_id=T0SWITCH"),
    "form_payload_without_value": (FORM, b"payload&command=%2Fwhoowns"),
    "form_command_named_in_escapes": (FORM, b"comm%61nd=%2Fwhoowns&text=billing"),
    "form_command_only_inside_a_value": (FORM, b"text=a%26command%3D%2Fwhoowns"),
    "form_command_as_a_name_suffix": (FORM, b"subcommand=%2Fwhoowns"),
    "form_empty": (FORM, b""),
    "form_starting_with_brace": (FORM, b"{not json"),
    "form_bad_bytes": (FORM, b"payload=\xff\xfe\x00{}"),
    "json_list": (JSON, b'[{"type": "event_callback"}]'),
    "json_string": (JSON, b'"event_callback"'),
    "json_not_json": (JSON, b"payload=not-json"),
    "json_empty": (JSON, b""),
    "json_deeply_nested": (JSON, _deep(100_000).encode()),
    "json_bad_bytes": (JSON, b'{"type": "\xff\xfe"}'),
    "text_plain": ("text/plain", b'{"type": "url_verification", "challenge": "c"}'),
    "multipart": ("multipart/form-data; boundary=x", b"--x\r\n\r\npayload\r\n--x--"),
    "no_content_type": (None, b'{"type": "url_verification", "challenge": "c"}'),
}


@pytest.mark.parametrize("case", list(MALFORMED_BODIES))
async def test_verified_but_malformed_body_is_400_never_500(
    http: httpx.AsyncClient,
    emulator: SlackEmulator,
    dispatched: list[Any],
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type, body = MALFORMED_BODIES[case]
    headers = signed_bytes(body, int(time.time()))
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await http.post("/slack/events", content=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_body"
    assert dispatched == [] and emulator.calls == []
    assert_quiet(caplog)


@pytest.mark.parametrize("signed", [True, False])
async def test_body_over_one_megabyte_is_413_whether_signed_or_not(
    http: httpx.AsyncClient, dispatched: list[Any], signed: bool
) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "pad": "x" * (5 * 1024 * 1024)})})
    headers = {"Content-Type": FORM, **(sign(body) if signed else {})}

    response = await http.post("/slack/events", content=body, headers=headers)

    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    assert dispatched == []


async def test_declared_length_over_the_limit_is_413_before_the_body_is_read() -> None:
    reads: list[object] = []

    async def receive() -> Any:
        reads.append("read")
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    guard = SlackRequestGuard(_never_called, signing_secret=lambda scope: SIGNING_SECRET)
    scope = _scope([(b"content-length", str(MAX_BODY_BYTES + 1).encode())])
    await guard(scope, receive, send)

    assert sent[0]["status"] == 413 and reads == []


# ---- the guard's own clock ---------------------------------------------------------------------


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.instant = now

    def now(self) -> float:
        return self.instant


async def _never_called(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("the guard let an unverifiable request through")


def _scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/slack/events", "headers": headers}


async def _guarded_status(guard: SlackRequestGuard, body: str, headers: dict[str, str]) -> int:
    """The status of the guard's answer (or of the app behind it)."""
    messages = [{"type": "http.request", "body": body.encode(), "more_body": False}]
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await guard(_scope([(k.lower().encode(), v.encode()) for k, v in headers.items()]), receive, send)
    status: int = sent[0]["status"]
    return status


@pytest.mark.parametrize(
    ("signed_ago", "status"), [(0, 200), (300, 200), (-300, 200), (301, 401), (-301, 401)]
)
async def test_freshness_is_judged_by_the_injected_clock_to_the_second(signed_ago: int, status: int) -> None:
    now = 1_900_000_000
    reached: list[bytes] = []

    async def behind(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = SlackRequestGuard(behind, signing_secret=lambda scope: SIGNING_SECRET, clock=FixedClock(now))
    body = "command=%2Fwhoowns&text=billing"
    headers = {"Content-Type": FORM, **sign(body, timestamp=now - signed_ago)}

    answered = await _guarded_status(guard, body, headers)

    assert answered == status
    assert reached == ([body.encode()] if status == 200 else [])


# ---- verified requests still work --------------------------------------------------------------


async def test_signed_command_is_answered_normally(slack: SlackSender, dispatched: list[Any]) -> None:
    response = await slack.command("/whoowns", "help")
    assert response.status_code == 200 and "/whoowns" in response.text
    assert len(dispatched) == 1


async def test_signed_url_verification_echoes_the_challenge(
    slack: SlackSender, dispatched: list[Any]
) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    response = await slack.post(body, "application/json; charset=utf-8")
    assert response.status_code == 200 and response.json()["challenge"] == "c-123"


async def test_signed_event_is_acknowledged_and_answered(
    slack: SlackSender, emulator: SlackEmulator, dispatched: list[Any]
) -> None:
    response = await slack.event(
        {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": "<@U0SWITCHBOT> who owns nothing-here?",
            "ts": "1700000300.000100",
            "channel": "C0GENERAL",
        }
    )
    assert response.status_code == 200
    (answer,) = await emulator.wait_for("chat.postMessage")
    assert answer["thread_ts"] == "1700000300.000100"


async def test_signed_button_click_reaches_its_listener_with_the_same_bytes(
    slack: SlackSender, dispatched: list[Any]
) -> None:
    response = await slack.block_action("some_link_button", "v")
    assert response.status_code == 200
    (request,) = dispatched
    assert request.body["actions"][0]["action_id"] == "some_link_button"
