"""Multi-workspace OAuth: install, redirect, stored installation, then requests with that token."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.slack.oauth import BOT_SCOPES
from models import Installation, OAuthState
from models.base import utcnow

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "oauth-client-secret"
T2_TOKEN = "xoxb-second-workspace-token"
# A Fernet key (URL-safe base64 of 32 bytes): OAuth mode stores tokens only encrypted.
SECRET_KEY = "c3dpdGNoYm9hcmQtdGVzdHMtc2VjcmV0LWtleS0zMmI="
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "switchboard_secret_key": SECRET_KEY,
    }


@pytest.fixture(autouse=True)
def slack_app_config(emulator: SlackEmulator) -> None:
    emulator.register_oauth_app(CLIENT_ID, CLIENT_SECRET)


async def start_install(http: httpx.AsyncClient) -> tuple[str, dict[str, list[str]]]:
    """Open /slack/install as a browser would; return the state cookie and the authorize URL's query."""
    response = await http.get("/slack/install")
    assert response.status_code in {200, 302}
    location = response.headers.get("location") or re.search(
        r'href="(https://slack\.com/oauth[^"]+)"', response.text
    )
    assert location, response.text
    url = location if isinstance(location, str) else html.unescape(location.group(1))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://slack.com/oauth/v2/authorize"
    cookie = response.headers["set-cookie"]
    match = re.match(rf"{STATE_COOKIE}=([^;]+);", cookie)
    assert match and "HttpOnly" in cookie
    return match.group(1), parse_qs(parts.query)


async def finish_install(
    http: httpx.AsyncClient, *, code: str, state: str, cookie_state: str | None = None
) -> httpx.Response:
    """Slack sends the browser back to the redirect URL with `code` and `state`."""
    cookie = f"{STATE_COOKIE}={cookie_state if cookie_state is not None else state}"
    return await http.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
    )


async def installations(runtime: Runtime) -> list[Installation]:
    async with runtime.session_factory() as session:
        return list((await session.scalars(select(Installation).order_by(Installation.team_id))).all())


async def install_second_workspace(http: httpx.AsyncClient, emulator: SlackEmulator) -> httpx.Response:
    state, _ = await start_install(http)
    emulator.grant_install(
        "code-t2", team_id="T2", team_name="Second Workspace", bot_token=T2_TOKEN, scopes=tuple(BOT_SCOPES)
    )
    return await finish_install(http, code="code-t2", state=state)


async def test_install_sends_the_admin_to_slack_with_client_id_scopes_and_state(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    state, query = await start_install(http)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == BOT_SCOPES
    assert query["state"] == [state]
    async with runtime.session_factory() as session:
        stored = await session.get(OAuthState, state)
    assert stored is not None and stored.expires_at > utcnow()


async def test_redirect_exchanges_the_code_and_stores_the_installation(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    response = await install_second_workspace(http, emulator)

    assert response.status_code == 200, response.text
    (exchange,) = emulator.calls_to("oauth.v2.access")
    assert exchange["code"] == "code-t2"
    assert exchange["client_id"] == CLIENT_ID and exchange["client_secret"] == CLIENT_SECRET
    (installed,) = await installations(runtime)
    assert installed.team_id == "T2" and installed.bot_token and installed.bot_token.startswith("fernet:")
    assert T2_TOKEN not in f"{installed.bot_token} {installed.data}"
    assert installed.bot_user_id == emulator.workspaces[T2_TOKEN].bot_user_id
    client = await runtime.client_for_team("T2")
    assert client.token == T2_TOKEN


async def test_installed_workspace_is_answered_with_its_own_token(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await install_second_workspace(http, emulator)
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session, team_id="T2", data=AreaIn(name="Billing", owner="U0BOB", team="Payments")
        )
    second = SlackSender(http, emulator, team_id="T2")

    response = await second.command("/whoowns", "billing")
    assert response.status_code == 200
    assert "<@U0BOB>" in str(response.json()["blocks"])

    await second.event(
        {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": "<@U0BOT0001> who owns billing?",
            "ts": "1700000100.000100",
            "channel": "C0GENERAL",
            "team": "T2",
        }
    )
    (answer,) = await emulator.wait_for("chat.postMessage")
    assert answer.token == T2_TOKEN
    assert answer["thread_ts"] == "1700000100.000100" and "<@U0BOB>" in str(answer["blocks"])
    assert {c.token for c in emulator.calls_to("auth.test")} == {T2_TOKEN}


async def test_workspace_that_never_installed_is_told_to_install(
    http: httpx.AsyncClient, emulator: SlackEmulator
) -> None:
    stranger = SlackSender(http, emulator, team_id="T9UNKNOWN")
    response = await stranger.command("/whoowns", "billing")
    assert response.status_code == 200
    (told,) = await emulator.wait_for("response_url")
    assert "install this app" in told["text"]
    assert not [c for c in emulator.calls if c.token]


async def test_forged_state_stores_nothing_and_never_exchanges_the_code(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await start_install(http)
    emulator.grant_install("code-t2", team_id="T2", team_name="Second", bot_token=T2_TOKEN)

    response = await finish_install(http, code="code-t2", state="forged-state")

    assert response.status_code >= 400
    assert "text/html" in response.headers["content-type"]
    assert not emulator.calls_to("oauth.v2.access")
    assert await installations(runtime) == []


async def test_state_from_another_browser_is_refused(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    state, _ = await start_install(http)
    emulator.grant_install("code-t2", team_id="T2", team_name="Second", bot_token=T2_TOKEN)

    response = await finish_install(http, code="code-t2", state=state, cookie_state="someone-else")

    assert response.status_code >= 400
    assert not emulator.calls_to("oauth.v2.access")
    assert await installations(runtime) == []


async def test_used_state_cannot_install_again(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    state, _ = await start_install(http)
    emulator.grant_install("code-t2", team_id="T2", team_name="Second", bot_token=T2_TOKEN)
    assert (await finish_install(http, code="code-t2", state=state)).status_code == 200
    emulator.grant_install("code-again", team_id="T3", team_name="Third", bot_token="xoxb-third")

    replay = await finish_install(http, code="code-again", state=state)

    assert replay.status_code >= 400
    assert len(emulator.calls_to("oauth.v2.access")) == 1
    assert [i.team_id for i in await installations(runtime)] == ["T2"]


async def test_expired_state_is_refused(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    state, _ = await start_install(http)
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(OAuthState)
            .where(OAuthState.state == state)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    emulator.grant_install("code-t2", team_id="T2", team_name="Second", bot_token=T2_TOKEN)

    response = await finish_install(http, code="code-t2", state=state)

    assert response.status_code >= 400
    assert await installations(runtime) == []


async def test_code_slack_rejects_stores_nothing(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    state, _ = await start_install(http)

    response = await finish_install(http, code="never-granted", state=state)

    assert response.status_code >= 400
    assert emulator.responses[-1] == {"method": "oauth.v2.access", "ok": False, "error": "invalid_code"}
    assert await installations(runtime) == []


async def test_reinstalling_a_workspace_replaces_its_token(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await install_second_workspace(http, emulator)
    state, _ = await start_install(http)
    emulator.grant_install("code-new", team_id="T2", team_name="Second", bot_token="xoxb-second-rotated")

    assert (await finish_install(http, code="code-new", state=state)).status_code == 200

    assert len(await installations(runtime)) == 1
    assert (await runtime.client_for_team("T2")).token == "xoxb-second-rotated"
