"""Installation tokens are encrypted at rest with SWITCHBOARD_SECRET_KEY: what the database holds is
not the token, rows stored before encryption still work (and get encrypted), keys rotate, and a
wrong key is one clear error line instead of a crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.cli.app import app as cli
from bot.core import migrate
from bot.core.db import create_engine, create_session_factory
from bot.core.runtime import Runtime
from bot.core.secrets import PREFIX, TokenCipher, UndecryptableSecret, parse_secret_keys
from bot.core.settings import Settings, SettingsError, get_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.slack.oauth import BOT_SCOPES, DatabaseInstallationStore, seal, unseal
from bot.web import create_app
from models import Installation
from tests.test_oauth import CLIENT_ID, CLIENT_SECRET, SECRET_KEY, T2_TOKEN, finish_install, start_install

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

OTHER_KEY = Fernet.generate_key().decode()
# Commas separate keys, so a passphrase has none.
PASSPHRASE = "correct horse battery staple and then some more"


def cipher(value: str) -> TokenCipher:
    return TokenCipher(parse_secret_keys(value))


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


@asynccontextmanager
async def running(settings: Settings, key: str | None) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app over the same database, started with another SWITCHBOARD_SECRET_KEY."""
    keyed = settings.model_copy(update={"switchboard_secret_key": SecretStr(key) if key else None})
    application = create_app(keyed, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            yield client, application.state.runtime


async def install_t2(http: httpx.AsyncClient, emulator: SlackEmulator) -> None:
    state, _ = await start_install(http)
    emulator.grant_install(
        "code-t2", team_id="T2", team_name="Second", bot_token=T2_TOKEN, scopes=tuple(BOT_SCOPES)
    )
    assert (await finish_install(http, code="code-t2", state=state)).status_code == 200


async def stored_row(runtime: Runtime) -> tuple[str, str]:
    """The installation as the database holds it (bot_token, data), read without the model."""
    async with runtime.engine.connect() as connection:
        row = (await connection.execute(text("SELECT bot_token, data FROM installations"))).one()
    return str(row[0]), str(row[1])


async def answered_with_token(http: httpx.AsyncClient, emulator: SlackEmulator) -> set[str | None]:
    """The tokens Switchboard used to answer a command from T2."""
    emulator.reset_calls()
    response = await SlackSender(http, emulator, team_id="T2").command("/whoowns", "help")
    assert response.status_code == 200
    return {call.token for call in emulator.calls if call.method != "response_url"}


# ---- the cipher --------------------------------------------------------------------------------


def test_encrypted_value_is_marked_and_is_not_the_token() -> None:
    sealed = cipher(SECRET_KEY).encrypt(T2_TOKEN)
    assert sealed.startswith(PREFIX) and T2_TOKEN not in sealed
    assert cipher(SECRET_KEY).decrypt(sealed) == T2_TOKEN


def test_value_stored_before_encryption_is_read_as_it_is() -> None:
    assert cipher(SECRET_KEY).decrypt(T2_TOKEN) == T2_TOKEN
    assert not cipher(SECRET_KEY).is_current(T2_TOKEN)


def test_a_long_passphrase_derives_the_same_key_on_every_replica() -> None:
    sealed = cipher(PASSPHRASE).encrypt(T2_TOKEN)
    assert TokenCipher(parse_secret_keys(PASSPHRASE)).decrypt(sealed) == T2_TOKEN
    with pytest.raises(UndecryptableSecret):
        cipher(PASSPHRASE + "!").decrypt(sealed)


def test_rotation_first_key_encrypts_every_key_decrypts() -> None:
    old = cipher(SECRET_KEY).encrypt(T2_TOKEN)
    rotating = cipher(f"{OTHER_KEY}, {SECRET_KEY}")

    assert rotating.decrypt(old) == T2_TOKEN and not rotating.is_current(old)
    moved = rotating.reencrypt(old)
    assert rotating.is_current(moved) and cipher(OTHER_KEY).decrypt(moved) == T2_TOKEN
    with pytest.raises(UndecryptableSecret, match="^SWITCHBOARD_SECRET_KEY: none of its keys"):
        cipher(SECRET_KEY).decrypt(moved)


def test_every_secret_field_of_an_installation_is_sealed_and_nothing_else() -> None:
    data = {
        "team_id": "T2",
        "team_name": "Second",
        "bot_token": T2_TOKEN,
        "bot_refresh_token": "xoxe-1-refresh",
        "user_token": "xoxp-user",
        "user_refresh_token": "xoxe-1-user-refresh",
        "incoming_webhook_url": "https://hooks.slack.com/services/T2/B1/secret",
        "bot_scopes": "chat:write",
    }
    sealed = seal(data, cipher(SECRET_KEY))
    for field in (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
        "incoming_webhook_url",
    ):
        assert sealed[field].startswith(PREFIX) and data[field] not in str(sealed)
    assert sealed["team_name"] == "Second" and sealed["bot_scopes"] == "chat:write"
    assert unseal(sealed, cipher(SECRET_KEY)) == data


# ---- OAuth mode, end to end ----------------------------------------------------------------------


async def test_install_stores_the_token_encrypted_and_uses_it_decrypted(
    http: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await install_t2(http, emulator)

    bot_token, data = await stored_row(runtime)
    assert bot_token.startswith(PREFIX) and T2_TOKEN not in bot_token + data
    assert await answered_with_token(http, emulator) == {T2_TOKEN}
    assert (await runtime.client_for_team("T2")).token == T2_TOKEN


async def test_refresh_and_user_tokens_are_encrypted_too(runtime: Runtime) -> None:
    store = DatabaseInstallationStore(runtime.session_factory, cipher(SECRET_KEY))
    installation = SlackInstallation(
        team_id="T3",
        user_id="U0ALICE",
        bot_token="xoxb-t3-bot",
        bot_refresh_token="xoxe-1-t3-bot-refresh",
        user_token="xoxp-t3-user",
        user_refresh_token="xoxe-1-t3-user-refresh",
        incoming_webhook_url="https://hooks.slack.com/services/T3/B1/webhook-secret",
    )
    await store.async_save(installation)

    _, data = await stored_row(runtime)
    for secret in ("xoxb-t3-bot", "xoxe-1-t3", "xoxp-t3-user", "webhook-secret"):
        assert secret not in data
    found = await store.async_find_installation(enterprise_id=None, team_id="T3")
    assert found is not None
    assert (found.user_token, found.bot_refresh_token) == ("xoxp-t3-user", "xoxe-1-t3-bot-refresh")
    assert found.incoming_webhook_url == installation.incoming_webhook_url


async def test_row_stored_before_encryption_still_works_and_is_encrypted_at_the_next_start(
    settings: Settings, emulator: SlackEmulator
) -> None:
    async with running(settings, SECRET_KEY) as (http, runtime):
        await install_t2(http, emulator)
        # What an older Switchboard wrote: the same row, its tokens in plain text.
        async with unit_of_work(runtime.session_factory) as session:
            row = await session.scalar(select(Installation))
            assert row is not None
            row.data = unseal(row.data, cipher(SECRET_KEY))
            row.bot_token = T2_TOKEN
        assert (await stored_row(runtime))[0] == T2_TOKEN
        assert await answered_with_token(http, emulator) == {T2_TOKEN}

    async with running(settings, SECRET_KEY) as (http, runtime):
        bot_token, data = await stored_row(runtime)
        assert bot_token.startswith(PREFIX) and T2_TOKEN not in bot_token + data
        assert await answered_with_token(http, emulator) == {T2_TOKEN}


async def test_rotated_key_reads_old_rows_and_moves_them_to_the_new_key_at_start(
    settings: Settings, emulator: SlackEmulator
) -> None:
    async with running(settings, SECRET_KEY) as (http, _):
        await install_t2(http, emulator)

    async with running(settings, f"{OTHER_KEY},{SECRET_KEY}") as (http, runtime):
        assert await answered_with_token(http, emulator) == {T2_TOKEN}
        bot_token, _ = await stored_row(runtime)
        assert cipher(OTHER_KEY).decrypt(bot_token) == T2_TOKEN

    async with running(settings, OTHER_KEY) as (http, runtime):
        assert await answered_with_token(http, emulator) == {T2_TOKEN}


async def test_wrong_key_is_one_clear_error_line_and_the_app_keeps_serving(
    settings: Settings, emulator: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(settings, SECRET_KEY) as (http, runtime):
        await install_t2(http, emulator)
        before = await stored_row(runtime)

    caplog.set_level(logging.INFO)
    async with running(settings, OTHER_KEY) as (http, runtime):
        (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert error.getMessage().startswith("SWITCHBOARD_SECRET_KEY: ") and "T2" in error.getMessage()
        assert error.exc_info is None
        assert await stored_row(runtime) == before  # left as it was, for the right key to read

        assert await answered_with_token(http, emulator) == set()  # no token, no call with one
        (told,) = emulator.calls_to("response_url")
        assert "install" in told["text"]
        with pytest.raises(LookupError, match="SWITCHBOARD_SECRET_KEY"):
            await runtime.client_for_team("T2")
        assert (await http.get("/healthz")).status_code == 200
    assert "Traceback" not in caplog.text


async def test_oauth_mode_refuses_to_start_without_a_key(settings: Settings) -> None:
    keyless = settings.model_copy(update={"switchboard_secret_key": None})
    application = create_app(keyless, manage_schema=False, scheduler=False)
    with pytest.raises(SettingsError, match=r"^SWITCHBOARD_SECRET_KEY is required in OAuth mode"):
        async with application.router.lifespan_context(application):
            pass


# ---- the command line --------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str]) -> Any:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, env=env)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def migrated_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite database at the latest revision, as `switchboard migrate` leaves it."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SWITCHBOARD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    return url


async def _rows(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT team_id, bot_token FROM installations"))).all()
        return [(str(r[0]), str(r[1])) for r in rows]
    finally:
        await engine.dispose()


async def _add_plaintext_row(url: str, team_id: str, token: str) -> None:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            session.add(
                Installation(team_id=team_id, bot_token=token, data={"team_id": team_id, "bot_token": token})
            )
    finally:
        await engine.dispose()


def test_cli_reencrypt_encrypts_plaintext_rows_then_refuses_a_wrong_key(migrated_sqlite: str) -> None:
    url = migrated_sqlite
    asyncio.run(_add_plaintext_row(url, "T7", "xoxb-t7-plain"))

    done = run_cli(["secrets", "reencrypt"], {"DATABASE_URL": url, "SWITCHBOARD_SECRET_KEY": SECRET_KEY})
    assert done.exit_code == 0, done.output
    assert "re-encrypted 1 installation; 0 already current" in done.stdout
    ((team, token),) = asyncio.run(_rows(url))
    assert team == "T7" and cipher(SECRET_KEY).decrypt(token) == "xoxb-t7-plain"

    again = run_cli(["secrets", "reencrypt"], {"DATABASE_URL": url, "SWITCHBOARD_SECRET_KEY": SECRET_KEY})
    assert "re-encrypted 0 installations; 1 already current" in again.stdout

    wrong = run_cli(["secrets", "reencrypt"], {"DATABASE_URL": url, "SWITCHBOARD_SECRET_KEY": OTHER_KEY})
    assert wrong.exit_code == 2
    (line,) = wrong.stderr.strip().splitlines()
    assert line.startswith("switchboard: SWITCHBOARD_SECRET_KEY: ") and "T7" in line
    assert asyncio.run(_rows(url))[0][1] == token


def test_cli_reencrypt_without_a_key_says_which_variable(migrated_sqlite: str) -> None:
    result = run_cli(["secrets", "reencrypt"], {"DATABASE_URL": migrated_sqlite})
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "switchboard: SWITCHBOARD_SECRET_KEY is not set: there is no key to encrypt with"
    )


def test_cli_generate_key_prints_a_usable_fernet_key() -> None:
    result = run_cli(["secrets", "generate-key"], {})
    key = result.stdout.strip()
    assert result.exit_code == 0 and cipher(key).decrypt(cipher(key).encrypt("x")) == "x"


def test_cli_run_in_oauth_mode_without_a_key_exits_with_one_line(migrated_sqlite: str) -> None:
    env = {
        "DATABASE_URL": migrated_sqlite,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    }
    result = run_cli(["run"], env)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("switchboard: SWITCHBOARD_SECRET_KEY is required in OAuth mode")
