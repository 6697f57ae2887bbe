"""Settings fail at start with one line naming the variable, and secrets never show."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli.app import app as cli
from bot.core.settings import Settings, SettingsError, get_settings, load_settings
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.web import create_app

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "DATABASE_URL",
    "SWITCHBOARD_TIMEZONE",
    "SWITCHBOARD_SCHEDULER",
    "ADMIN_API_TOKENS",
)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Switchboard variables and no `.env` file, whatever the machine running the tests has."""
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_cli(args: list[str], env: dict[str, str]) -> Any:
    get_settings.cache_clear()
    return CliRunner().invoke(cli, args, env=env)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"slack_bot_token": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"slack_signing_secret": "s"}, "SLACK_BOT_TOKEN"),
        ({}, "SLACK_SIGNING_SECRET"),
        (
            {"slack_signing_secret": "s", "slack_client_id": "1.2", "slack_client_secret": "c"},
            "SWITCHBOARD_SECRET_KEY",
        ),
    ],
)
def test_require_slack_names_the_missing_variable(
    clean_environment: None, values: dict[str, Any], variable: str
) -> None:
    settings = load_settings(**values)
    with pytest.raises(SettingsError) as caught:
        settings.require_slack()
    assert str(caught.value).startswith(variable) and "\n" not in str(caught.value)


def test_socket_mode_needs_no_signing_secret_and_oauth_needs_no_bot_token(clean_environment: None) -> None:
    load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1").require_slack()
    load_settings(
        slack_signing_secret="s",
        slack_client_id="1.2",
        slack_client_secret="c",
        switchboard_secret_key="k" * 32,
    ).require_slack()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
    ],
)
def test_run_without_slack_credentials_exits_2_with_one_line(
    clean_environment: None, env: dict[str, str], variable: str
) -> None:
    result = run_cli(["run"], env)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith(f"switchboard: {variable} is required")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "mysql://root@localhost/switchboard", "postgresql:// or sqlite://"),
        ("DATABASE_URL", "not a url", "postgresql:// or sqlite://"),
        ("SWITCHBOARD_TIMEZONE", "Mars/Olympus_Mons", "unknown timezone"),
        ("SWITCHBOARD_SCHEDULER", "sometimes", "'on' or 'off'"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "xapp-"),
        ("SWITCHBOARD_TICK_SECONDS", "-5", "greater than 0"),
        ("SWITCHBOARD_JOB_LEASE_SECONDS", "1", "greater than or equal to 3"),
        ("SWITCHBOARD_JOB_LEASE_SECONDS", "3600", "less than or equal to 300"),
        ("DATABASE_CONNECT_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "soon", "valid number"),
        ("SLACK_CLIENT_ID", "123.456", "SLACK_CLIENT_SECRET is required"),
        ("SWITCHBOARD_SECRET_KEY", "short-secret", "neither a Fernet key nor a passphrase"),
        ("SWITCHBOARD_SECRET_KEY", "k" * 32 + ",short-secret", "key 2 is neither"),
    ],
)
def test_malformed_variable_fails_with_one_line_naming_it(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message and says in message
    if variable != "SLACK_CLIENT_ID":
        assert message.startswith(f"{variable}: ")
    if "secret" in value:
        assert value not in message

    env = {variable: value, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    if variable == "SLACK_BOT_TOKEN":
        env[variable] = value
    result = run_cli(["run"], env)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("switchboard: ") and says in line


SECRETS = {
    "slack_bot_token": "xoxb-very-secret-bot-token",
    "slack_signing_secret": "very-secret-signing-secret",
    "slack_app_token": "xapp-very-secret-app-token",
    "slack_client_secret": "very-secret-client-secret",
    "admin_api_tokens": "very-secret-admin-token,another-secret-admin-token",
    "switchboard_secret_key": "very-secret-passphrase-of-at-least-32-characters",
}


def test_secrets_never_appear_in_repr_str_or_dump(clean_environment: None) -> None:
    settings = load_settings(
        slack_client_id="1.2", database_url="postgresql://switchboard:db-password-secret@db/sb", **SECRETS
    )
    shown = f"{settings!r} {settings} {settings.model_dump_json()} {settings.model_dump()}"
    for secret in SECRETS.values():
        for part in secret.split(","):
            assert part not in shown
    assert "db-password-secret" not in f"{settings!r} {settings}"
    assert "postgresql+asyncpg://switchboard:***@db/sb" in repr(settings)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == SECRETS["slack_bot_token"]


async def test_secrets_never_reach_the_logs(
    caplog: pytest.LogCaptureFixture, emulator: SlackEmulator, database_url: str
) -> None:
    from bot.emulator.driver import SIGNING_SECRET
    from bot.emulator.state import BOT_TOKEN

    settings: Settings = load_settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emulator.url,
        admin_api_tokens="admin-token-that-must-not-leak",
        switchboard_scheduler="off",
        _env_file=None,
    )
    caplog.set_level(logging.DEBUG)
    emulator.fail("chat.postMessage", error="channel_not_found")
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
            slack = SlackSender(client, emulator)
            await slack.event(
                {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": "<@U0SWITCHBOT> hi",
                    "ts": "1700000000.000100",
                    "channel": "C0GENERAL",
                    "event_ts": "1700000000.000100",
                }
            )
            await emulator.wait_for("chat.postEphemeral")
            await client.get("/api/v1/areas", headers={"Authorization": "Bearer wrong-guess"})
            await client.get(
                "/api/v1/areas", headers={"Authorization": "Bearer admin-token-that-must-not-leak"}
            )
            await slack.command("/whoowns", "billing", secret="wrong-secret")
    logged = caplog.text + " ".join(repr(r.args) for r in caplog.records)
    assert "channel_not_found" in logged  # the failure itself was logged...
    for secret in (BOT_TOKEN, SIGNING_SECRET, "admin-token-that-must-not-leak"):
        assert secret not in logged  # ...without the credentials involved
