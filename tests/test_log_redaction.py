"""No token or secret in any log record, at any level: OAuth installs, Socket Mode, signed HTTP
requests and the access log are run with every logger at DEBUG and their output searched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send
from uvicorn.logging import AccessFormatter

from bot.core.logs import REDACTED, install_log_redaction, secret_values
from bot.core.settings import Settings, load_settings
from bot.emulator.driver import SIGNING_SECRET, SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, TEAM_ID
from bot.slack.oauth import BOT_SCOPES
from bot.web import create_app
from tests.test_oauth import CLIENT_ID, CLIENT_SECRET, SECRET_KEY, finish_install, start_install

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

ADMIN_TOKEN = "test-admin-token"
APP_TOKEN = "xapp-1-A0SWITCH-1-socket-secret-for-logs"
INSTALLED_TOKEN = "xoxb-22-installed-workspace-token"
OAUTH_CODE = "oauth-code-once-4711"
EVERY_SECRET = [
    BOT_TOKEN,
    SIGNING_SECRET,
    CLIENT_SECRET,
    ADMIN_TOKEN,
    APP_TOKEN,
    INSTALLED_TOKEN,
    SECRET_KEY,
]
LINE = logging.Formatter("%(levelname)s %(name)s %(message)s")


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record as a handler would write it, tracebacks and stacks included."""
    return "\n".join(LINE.format(record) for record in caplog.records)


def assert_nothing_secret(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    output = logged(caplog)
    for secret in secrets:
        assert secret not in output, f"{secret!r} was logged"
        assert secret not in caplog.text, f"{secret!r} was logged"


def assert_debug_was_captured(caplog: pytest.LogCaptureFixture, *loggers: str) -> None:
    """The search above means something only if the libraries' DEBUG lines were really captured."""
    for prefix in loggers:
        assert any(r.name.startswith(prefix) and r.levelno == logging.DEBUG for r in caplog.records), (
            f"no DEBUG record from {prefix}"
        )


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            yield client


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_oauth_install_at_debug_logs_no_token_code_or_client_secret(
    settings: Settings, emulator: SlackEmulator, everything_at_debug: pytest.LogCaptureFixture
) -> None:
    emulator.register_oauth_app(CLIENT_ID, CLIENT_SECRET)
    oauth = settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": SecretStr(CLIENT_SECRET),
            "switchboard_secret_key": SecretStr(SECRET_KEY),
        }
    )
    async with serving(oauth) as http:
        state, _ = await start_install(http)
        emulator.grant_install(
            OAUTH_CODE, team_id="T22", team_name="Logs", bot_token=INSTALLED_TOKEN, scopes=tuple(BOT_SCOPES)
        )
        finished = await finish_install(http, code=OAUTH_CODE, state=state)
        assert finished.status_code == 200, finished.text
        answered = await SlackSender(http, emulator, team_id="T22").command("/whoowns", "help")
        assert answered.status_code == 200
        await http.get(f"/slack/oauth_redirect?code={OAUTH_CODE}&state=replayed")

    assert_debug_was_captured(everything_at_debug, "slack_sdk", "slack_bolt")
    assert_nothing_secret(everything_at_debug, *EVERY_SECRET, OAUTH_CODE)
    assert REDACTED in logged(everything_at_debug)


async def test_socket_mode_start_at_debug_logs_no_app_or_bot_token(
    settings: Settings, emulator: SlackEmulator, everything_at_debug: pytest.LogCaptureFixture
) -> None:
    socket = settings.model_copy(
        update={"slack_app_token": SecretStr(APP_TOKEN), "slack_signing_secret": None}
    )
    async with serving(socket):
        await emulator.wait_for("socket.connected")
        command = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "channel_id": "C0GENERAL",
            "user_id": "U0ALICE",
            "command": "/whoowns",
            "text": "help",
            "response_url": "https://hooks.slack.com/commands/T0SWITCH/1/abc",
            "trigger_id": "1.socket.trigger",
        }
        await emulator.socket_ack(await emulator.send_envelope("slash_commands", command))

    assert_debug_was_captured(everything_at_debug, "slack_sdk", "slack_bolt")
    # The Socket Mode client logs through Bolt's logger: every frame it receives, in full.
    assert "Received message (type: TEXT" in logged(everything_at_debug)
    assert_nothing_secret(everything_at_debug, *EVERY_SECRET, "legacy-verification-token")


async def test_signed_http_requests_at_debug_log_no_secret(
    settings: Settings, emulator: SlackEmulator, everything_at_debug: pytest.LogCaptureFixture
) -> None:
    async with serving(settings) as http:
        slack = SlackSender(http, emulator)
        assert (await slack.command("/whoowns", "billing")).status_code == 200
        mention = {"type": "app_mention", "user": "U0ALICE", "text": "<@U0SWITCHBOT> who owns x?"}
        assert (
            await slack.event({**mention, "ts": "1700000400.000100", "channel": "C0GENERAL"})
        ).status_code == 200
        await emulator.wait_for("chat.postMessage")
        listed = await http.get("/api/v1/areas", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert listed.status_code == 200
        refused = await http.get("/api/v1/areas", headers={"Authorization": f"Bearer {BOT_TOKEN}"})
        assert refused.status_code == 401

    assert_debug_was_captured(everything_at_debug, "slack_sdk", "slack_bolt")
    assert_nothing_secret(everything_at_debug, *EVERY_SECRET)


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_access_log_line_with_a_token_in_the_query_string_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_redaction()
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    config = uvicorn.Config(_ok, host="127.0.0.1", port=0, log_config=None, lifespan="off", access_log=True)
    server = uvicorn.Server(config)
    serving_task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/slack/install?token={BOT_TOKEN}&team=T1")
            await client.get(f"http://127.0.0.1:{port}/slack/oauth_redirect?code={OAUTH_CODE}&state=s1")
    finally:
        server.should_exit = True
        await serving_task

    (install, redirect) = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert "/slack/install?token=[redacted]&team=T1" in install.getMessage()
    assert "/slack/oauth_redirect?code=[redacted]&state=s1" in redirect.getMessage()
    # uvicorn's own access formatter still gets its five arguments.
    assert "?token=[redacted]" in AccessFormatter("%(request_line)s %(status_code)s").format(install)
    assert BOT_TOKEN not in caplog.text and OAUTH_CODE not in caplog.text


# ---- the redactor itself ------------------------------------------------------------------------

TOKENS = [
    "xoxb-1234-5678-abcdEFGH",
    "xoxp-1234-5678-90-abcdef",
    "xoxa-2-1234-abcdef",
    "xoxe.xoxb-1-MS0yLTIyNjk",
    "xoxe-1-My0xLTIyNjk4",
    "xoxr-1234-refresh",
    "xapp-1-A0SWITCH-1-abcdef",
]


@pytest.mark.parametrize("token", TOKENS)
def test_every_kind_of_slack_token_is_redacted_wherever_it_sits(
    token: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("tests.redaction")

    log.debug(f"inline {token} in an f-string")
    log.debug("as an argument: %s", token)
    log.debug("in a dict: %r", {"headers": {"Authorization": f"Bearer {token}"}, "body": {"t": token}})
    log.debug("in a mapping: %(value)s", {"value": [token]})
    try:
        raise RuntimeError(f"Slack said no to {token}")
    except RuntimeError:
        log.exception("with a traceback")
    log.debug(f"with a stack, from {token}", stack_info=True)
    log.debug("%s", type("Request", (), {"__repr__": lambda self: token, "__str__": lambda self: token})())

    assert len(caplog.records) == 7
    assert token not in logged(caplog) and token not in caplog.text
    # What kind of token it was stays readable: `xoxb-[redacted]`.
    assert f"{token[:4]}{token[4]}{REDACTED}" in caplog.records[1].getMessage()


def test_configured_secrets_are_redacted_even_without_a_token_shape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings(
        slack_signing_secret="plain-signing-secret-42",
        slack_client_id="1.2",
        slack_client_secret="plain-client-secret-42",
        admin_api_tokens="first-admin-token-42,second-admin-token-42",
        database_url="postgresql://sb:db-password-42@db/sb",
        _env_file=None,
    )
    install_log_redaction(settings)
    caplog.set_level(logging.DEBUG)

    logging.getLogger("tests.redaction").warning(
        "secrets %s %s %s %s and the url postgresql://sb:db-password-42@db/sb",
        "plain-signing-secret-42",
        "plain-client-secret-42",
        b"first-admin-token-42",
        ["second-admin-token-42"],
    )

    for value in ("signing-secret-42", "client-secret-42", "admin-token-42", "db-password-42"):
        assert value not in caplog.text
    assert set(secret_values(settings)) >= {
        "plain-signing-secret-42",
        "second-admin-token-42",
        "db-password-42",
    }


def test_numbers_keep_their_format_and_short_values_are_not_treated_as_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_redaction(load_settings(slack_signing_secret="s", _env_file=None))
    caplog.set_level(logging.DEBUG)

    logging.getLogger("tests.redaction").info("%d posts in %.1f s to %s", 3, 1.25, "channels")

    assert caplog.records[-1].getMessage() == "3 posts in 1.2 s to channels"


def test_an_unprintable_argument_never_breaks_the_log_call() -> None:
    install_log_redaction()

    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no")

        __repr__ = __str__

    argument = Unprintable()
    record = logging.getLogger("tests.redaction").makeRecord(
        "tests.redaction", logging.INFO, __file__, 1, "value: %s", (argument,), None
    )

    assert record.msg == "value: %s" and record.args == (argument,)
