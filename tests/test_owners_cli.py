"""`switchboard owners import|export` run as a user would: settings from the environment, a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.core.settings import get_settings
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, TEAM_ID
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database

FIXTURES = Path(__file__).parent / "fixtures"
CLEARED = (
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "ADMIN_API_TOKENS",
    "FEEDBACK_CHANNEL",
)


class Cli:
    """Runs the CLI in a worker thread, so the Slack emulator on this loop can answer it."""

    def __init__(self, env: dict[str, str | None], backend: str) -> None:
        self.env = env
        self.backend = backend

    async def __call__(self, *args: str) -> Result:
        def invoke() -> Result:
            get_settings.cache_clear()
            try:
                return CliRunner().invoke(cli.app, list(args), env=self.env, catch_exceptions=False)
            finally:
                get_settings.cache_clear()

        return await asyncio.to_thread(invoke)


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """An empty database with no schema at all: the CLI (or `migrate`) has to create it."""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'cli.db'}"
        return
    url = await _create_pg_database()
    yield "postgresql", url
    await _drop_pg_database(url)


@pytest.fixture
def base_env(
    database: tuple[str, str], emulator: SlackEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str | None]:
    # No stray .env from the working directory may leak into these runs.
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(CLEARED)
    env.update(
        DATABASE_URL=database[1],
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=emulator.url,
        OWNERSHIP_CHANNEL="C0OWNERS",
    )
    return env


@pytest.fixture
async def switchboard(base_env: dict[str, str | None], database: tuple[str, str]) -> Cli:
    run = Cli(base_env, database[0])
    if database[0] == "postgresql":
        # On PostgreSQL the CLI refuses an unmigrated schema, as `run` does.
        migrated = await run("migrate")
        assert migrated.exit_code == 0, migrated.output
    return run


def fixture_path(name: str) -> str:
    return str(FIXTURES / name)


async def test_import_export_round_trip_through_the_cli(switchboard: Cli, tmp_path: Path) -> None:
    imported = await switchboard("owners", "import", fixture_path("directory.yaml"))
    assert imported.exit_code == 0, imported.output
    # No --team: the bot token's workspace, from auth.test.
    assert imported.stdout.splitlines() == [
        f"imported yaml into {TEAM_ID}: 3 created, 0 updated, 0 unchanged",
        "queued 3 owner-change announcements for the ownership channel",
    ]

    exported = await switchboard("owners", "export", str(tmp_path / "out.yaml"))
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == f"exported 3 areas of {TEAM_ID} to {tmp_path / 'out.yaml'}\n"
    text = (tmp_path / "out.yaml").read_text()
    assert "slug: billing" in text and "owner: U0BOB" in text

    again = await switchboard("owners", "import", str(tmp_path / "out.yaml"))
    assert again.stdout == f"imported yaml into {TEAM_ID}: 0 created, 0 updated, 3 unchanged\n"
    to_stdout = await switchboard("owners", "export", "-")
    assert to_stdout.stdout == text
    assert to_stdout.stderr == f"exported 3 areas of {TEAM_ID}\n"


async def test_codeowners_import_prints_unmapped_owners(
    switchboard: Cli, emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = await switchboard(
        "owners",
        "import",
        fixture_path("CODEOWNERS"),
        "--map",
        fixture_path("handles.yaml"),
        "--team",
        TEAM_ID,
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"imported codeowners into {TEAM_ID}: 4 created, 0 updated, 0 unchanged",
        "queued 3 owner-change announcements for the ownership channel",
        "unmapped owner @acme/web (not in the handle map) on line 4, 6; "
        "imported without them: apps-billing, apps-search",
    ]
    assert emulator.calls_to("users.lookupByEmail", email="carol@example.com")
    exported = await switchboard("owners", "export", "-", "--team", TEAM_ID)
    billing = exported.stdout.split("- slug: apps-billing")[1].split("- slug:")[0]
    assert "owner: U0ALICE" in billing and "- U0CAROL" in billing


async def test_malformed_file_fails_in_one_line_and_imports_nothing(switchboard: Cli) -> None:
    await switchboard("owners", "import", fixture_path("directory.yaml"))
    before = (await switchboard("owners", "export", "-")).stdout

    result = await switchboard("owners", "import", fixture_path("malformed.yaml"))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"switchboard: {fixture_path('malformed.yaml')}: "
        "line 6: invalid YAML: mapping values are not allowed in this context\n"
    )
    assert (await switchboard("owners", "export", "-")).stdout == before


async def test_dry_run_lists_changes_and_writes_nothing(switchboard: Cli) -> None:
    result = await switchboard("owners", "import", fixture_path("directory.yaml"), "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"dry run, nothing written (yaml into {TEAM_ID}): would create 3, update 0, leave 0 unchanged",
        "  would create: billing, bulk-export, release-process",
    ]
    exported = await switchboard("owners", "export", "-")
    assert exported.stdout.endswith("areas: []\n")


async def test_workspace_comes_from_the_database_without_a_bot_token(
    base_env: dict[str, str | None], database: tuple[str, str]
) -> None:
    switchboard = Cli(base_env | {"SLACK_BOT_TOKEN": None}, database[0])
    if database[0] == "postgresql":
        assert (await switchboard("migrate")).exit_code == 0

    unknown = await switchboard("owners", "import", fixture_path("directory.yaml"))
    assert unknown.exit_code == 2
    assert unknown.stderr.count("\n") == 1
    assert "cannot tell which workspace to use" in unknown.stderr and "--team" in unknown.stderr

    first = await switchboard("owners", "import", fixture_path("directory.yaml"), "--team", "T0ACME")
    assert first.exit_code == 0, first.output
    # Emails cannot be looked up without a bot token: they are reported, not dropped.
    codeowners = await switchboard("owners", "import", fixture_path("CODEOWNERS"))
    assert codeowners.exit_code == 0, codeowners.output
    assert (
        codeowners.stdout.splitlines()[0]
        == "imported codeowners into T0ACME: 4 created, 0 updated, 0 unchanged"
    )
    assert "unmapped owner carol@example.com (email not looked up: no Slack bot token configured)" in (
        codeowners.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["owners", "import", "missing.yaml"],
            "switchboard: cannot read missing.yaml: No such file or directory\n",
        ),
        (
            ["owners", "import", str(FIXTURES / "directory.yaml"), "--team", "acme"],
            "switchboard: --team 'acme' is not a workspace id such as T012AB3CD\n",
        ),
        (
            ["owners", "import", str(FIXTURES / "CODEOWNERS"), "--map", str(FIXTURES / "directory.yaml")],
            f"switchboard: {FIXTURES / 'directory.yaml'}: "
            "line 2: `areas` must map to a Slack user id such as U012AB3CD\n",
        ),
        (
            ["owners", "import", str(FIXTURES / "handles.yaml")],
            f"switchboard: {FIXTURES / 'handles.yaml'}: cannot tell the file's format",
        ),
    ],
)
async def test_bad_invocations_fail_in_one_line_with_exit_code_2(
    switchboard: Cli, args: list[str], message: str
) -> None:
    result = await switchboard(*args)

    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


async def test_postgresql_schema_must_be_migrated_first(
    base_env: dict[str, str | None], database: tuple[str, str]
) -> None:
    if database[0] != "postgresql":
        pytest.skip("SQLite applies migrations itself")
    switchboard = Cli(base_env, database[0])

    refused = await switchboard("owners", "import", fixture_path("directory.yaml"))

    assert refused.exit_code == 2
    assert refused.stderr == (
        "switchboard: DATABASE_URL: the database schema is outdated; run `switchboard migrate` first\n"
    )
