"""Bearer tokens on /api/v1: ADMIN_API_TOKENS and hashed tokens from `switchboard tokens create`."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli.app import app as cli
from bot.core import api_tokens
from bot.core.runtime import Runtime
from bot.core.settings import get_settings, load_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN
from bot.web import create_app
from models import ApiToken
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"admin_api_tokens": "test-admin-token, second-admin-token"}


async def make_token(runtime: Runtime, name: str) -> str:
    async with unit_of_work(runtime.session_factory) as session:
        _token, plain = await api_tokens.create_token(session=session, name=name)
    return plain


async def stored_token(runtime: Runtime, name: str) -> ApiToken | None:
    async with unit_of_work(runtime.session_factory) as session:
        return await session.scalar(select(ApiToken).where(ApiToken.name == name))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer test-admin-token-but-longer"},
        {"Authorization": "Basic dGVzdC1hZG1pbi10b2tlbjo="},
        {"Authorization": "test-admin-token"},
        {"X-Api-Key": "test-admin-token"},
    ],
)
async def test_request_without_a_valid_token_is_401(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.get("/api/v1/areas", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized" and "token" in response.json()["message"]


async def test_401_happens_before_the_body_is_looked_at(http: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await http.post("/api/v1/areas", json={"name": "Billing"})
    assert response.status_code == 401
    invalid = await http.post("/api/v1/areas", json={"colour": "blue"})
    assert invalid.status_code == 401


@pytest.mark.parametrize("token", ["test-admin-token", "second-admin-token"])
async def test_every_env_token_works(http: httpx.AsyncClient, token: str) -> None:
    response = await http.get("/api/v1/areas", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_stored_token_works_records_use_and_is_kept_only_as_a_hash(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    plain = await make_token(runtime, "backstage-sync")
    assert plain.startswith("sb_") and len(plain) > 40
    before = await stored_token(runtime, "backstage-sync")
    assert before is not None and before.last_used_at is None
    assert before.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in repr(vars(before))

    response = await http.get("/api/v1/areas", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    after = await stored_token(runtime, "backstage-sync")
    assert after is not None and after.last_used_at is not None


async def test_last_use_is_recorded_at_most_once_a_minute(http: httpx.AsyncClient, runtime: Runtime) -> None:
    plain = await make_token(runtime, "dashboard")
    headers = {"Authorization": f"Bearer {plain}"}
    await http.get("/api/v1/areas", headers=headers)
    first = await stored_token(runtime, "dashboard")
    await http.get("/api/v1/areas", headers=headers)
    second = await stored_token(runtime, "dashboard")
    assert first is not None and second is not None and first.last_used_at == second.last_used_at
    async with unit_of_work(runtime.session_factory) as session:
        stale = api_tokens.utcnow() - api_tokens.LAST_USED_RESOLUTION * 2
        await session.execute(update(ApiToken).values(last_used_at=stale))
    await http.get("/api/v1/areas", headers=headers)
    third = await stored_token(runtime, "dashboard")
    assert third is not None and third.last_used_at is not None and third.last_used_at > stale


async def test_revoked_token_is_refused(http: httpx.AsyncClient, runtime: Runtime) -> None:
    plain = await make_token(runtime, "temporary")
    headers = {"Authorization": f"Bearer {plain}"}
    assert (await http.get("/api/v1/areas", headers=headers)).status_code == 200
    async with unit_of_work(runtime.session_factory) as session:
        await api_tokens.revoke_token(session=session, name="temporary")
    assert (await http.get("/api/v1/areas", headers=headers)).status_code == 401


async def test_every_api_route_requires_a_token(app: Any, http: httpx.AsyncClient) -> None:
    operations = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in item
    ]
    assert len(operations) >= 5
    for method, path in operations:
        response = await http.request(method, re.sub(r"\{[^}]+\}", "x", path), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert app.openapi()["paths"][path][method.lower()]["security"] == [{"HTTPBearer": []}]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
async def test_health_metrics_and_docs_need_no_token(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 200


# ---- the CLI, end to end: migrate a fresh database, make a token, use it -------------------------


@pytest.fixture(params=BACKENDS)
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        return
    url = await _create_pg_database()
    yield url
    await _drop_pg_database(url)


async def invoke(args: list[str], database_url: str) -> Any:
    """Run the CLI as a user would (its own event loop, so off this one)."""
    get_settings.cache_clear()
    env = {"DATABASE_URL": database_url, "ADMIN_API_TOKENS": ""}
    try:
        return await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)
    finally:
        get_settings.cache_clear()


async def test_cli_created_token_works_and_only_its_hash_is_stored(
    fresh_database: str, emulator: SlackEmulator
) -> None:
    migrated = await invoke(["migrate"], fresh_database)
    assert migrated.exit_code == 0, migrated.output
    created = await invoke(["tokens", "create", "ci-bot"], fresh_database)
    assert created.exit_code == 0, created.output
    plain = created.stdout.strip()
    assert plain.startswith("sb_") and "\n" not in plain
    assert "shown only this once" in created.stderr

    again = await invoke(["tokens", "create", "ci-bot"], fresh_database)
    assert again.exit_code == 2 and "already exists" in again.stderr
    listed = await invoke(["tokens", "list"], fresh_database)
    assert listed.exit_code == 0 and "ci-bot" in listed.stdout and plain not in listed.stdout

    settings = load_settings(
        database_url=fresh_database,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emulator.url,
        switchboard_scheduler="off",
        _env_file=None,
    )
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            ok = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {plain}"})
            assert ok.status_code == 200, ok.text
            runtime: Runtime = application.state.runtime
            async with unit_of_work(runtime.session_factory) as session:
                rows = (await session.scalars(select(ApiToken))).all()
            assert [(r.name, r.token_hash) for r in rows] == [
                ("ci-bot", hashlib.sha256(plain.encode()).hexdigest())
            ]
            revoked = await invoke(["tokens", "revoke", "ci-bot"], fresh_database)
            assert revoked.exit_code == 0, revoked.output
            refused = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {plain}"})
            assert refused.status_code == 401


@pytest.mark.parametrize("name", ["", "   ", "bad/name", "x" * 101])
async def test_cli_refuses_a_bad_token_name(fresh_database: str, name: str) -> None:
    await invoke(["migrate"], fresh_database)
    result = await invoke(["tokens", "create", name], fresh_database)
    assert result.exit_code == 2 and "Token names" in result.stderr
