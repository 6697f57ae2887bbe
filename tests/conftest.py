"""Test harness: a database per test (SQLite always; PostgreSQL when SWITCHBOARD_TEST_POSTGRES_URL
is set, where an unreachable server fails the run), the Slack emulator, and the ASGI app.

Every test starts at a fixed wall-clock time that keeps ticking, so that the suite reads the same
on any day: `DEFAULT_CLOCK`, or the ISO 8601 instant in `SWITCHBOARD_TEST_CLOCK` to run the whole
suite on a chosen day (a Saturday, a DST change, New Year's Eve); `SWITCHBOARD_TEST_CLOCK=now`
leaves the real clock. A test whose outcome depends on the date sets its own clock (the
`time_machine` fixture or marker, or a `now=` argument).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.engine import make_url

import models
from bot.analytics import charts
from bot.analytics.slack import UPLOADED
from bot.core.db import create_engine
from bot.core.runtime import Runtime
from bot.core.settings import Settings, load_settings
from bot.emulator.driver import SIGNING_SECRET, SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, BOT_USER_ID, Call, EmulatorState
from bot.scheduler.runner import JobRunner
from bot.web import create_app
from tests.helpers import broadcasts_in
from tests.tcp_proxy import FaultyProxy

POSTGRES_ENV = "SWITCHBOARD_TEST_POSTGRES_URL"
CLOCK_ENV = "SWITCHBOARD_TEST_CLOCK"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])


def _admin_url() -> str:
    url = os.environ[POSTGRES_ENV]
    return url if "+asyncpg" in url else url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _create_pg_database() -> str:
    base = make_url(_admin_url())
    name = f"switchboard_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}")
    finally:
        await engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


# A Wednesday in summer time, mid-morning in Europe and before dawn in the Americas.
DEFAULT_CLOCK = "2026-06-10T09:30:00+00:00"


def _fixed_clock() -> datetime | None:
    value = os.environ.get(CLOCK_ENV) or DEFAULT_CLOCK
    if value == "now":
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"{CLOCK_ENV} needs an offset, e.g. 2026-12-05T10:00:00+00:00")
    return instant


@pytest.fixture(autouse=True)
def fixed_clock(request: pytest.FixtureRequest, time_machine: time_machine.TimeMachineFixture) -> None:
    """The wall clock starts at the suite's fixed clock for each test and keeps ticking."""
    instant = _fixed_clock()
    if instant is not None and request.node.get_closest_marker("time_machine") is None:
        time_machine.move_to(instant, tick=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "broadcast_allowed: the test means Slack to receive an @channel/@here/@everyone or group "
        "mention (its docstring says why); the broadcast scan does not fail it",
    )


@pytest.fixture(autouse=True)
def no_broadcasts_sent(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test if anything the bot sent Slack could notify a whole channel or a group.

    Every Web API call any emulator records during the test (calls a test clears with
    `reset_calls` included), and every answer the app gives Slack's own requests (an ack's text,
    blocks or view), is scanned, whatever the field: text, blocks, attachments, views, titles.
    """
    sent: list[tuple[str, Any]] = []
    record = EmulatorState._record

    def recording(self: EmulatorState, call: Call) -> None:
        sent.append((call.method, call.args))
        record(self, call)

    post = SlackSender.post

    async def answering(self: SlackSender, *args: Any, **kwargs: Any) -> httpx.Response:
        response = await post(self, *args, **kwargs)
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            sent.append(("ack", response.json()))
        return response

    monkeypatch.setattr(EmulatorState, "_record", recording)
    monkeypatch.setattr(SlackSender, "post", answering)
    yield
    if request.node.get_closest_marker("broadcast_allowed") is not None:
        return
    found = [f"{method}{hit}" for method, args in sent for hit in broadcasts_in(args)]
    if found:
        pytest.fail(f"Slack received {len(found)} broadcast mention(s):\n" + "\n".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def no_remembered_charts() -> None:
    """Each test draws and uploads its charts afresh: no drawing or file id carries over."""
    charts.CACHE.clear()
    UPLOADED.clear()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """One scratch PostgreSQL database for the session, with the schema created once."""
    if "postgresql" not in BACKENDS:
        yield None
        return
    url = asyncio.run(_create_pg_database())

    async def create_schema() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(models.Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_schema())
    yield url
    asyncio.run(_drop_pg_database(url))


async def _empty_tables(url: str) -> None:
    """Delete every row and restart every sequence, in one transaction with triggers and foreign
    keys off (`session_replication_role`): a DELETE of a few rows is ~20x faster than TRUNCATE."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(models.Base.metadata.sorted_tables):
            await connection.execute(table.delete())
        listed = text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        sequences = (await connection.execute(listed)).scalars()
        restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
        if restarts:
            await connection.execute(text(f"SELECT {restarts}"))
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the current schema and no rows, made once; each test gets a copy (creating
    the schema afresh for every test took half the suite's time)."""
    path = tmp_path_factory.mktemp("template") / "switchboard.db"

    async def create_schema() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as connection:
            await connection.run_sync(models.Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_schema())
    return path


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None, sqlite_template: Path
) -> AsyncIterator[str]:
    """A database with the current schema and no rows, private to this test."""
    if request.param == "postgresql":
        assert postgres_database is not None
        await _empty_tables(postgres_database)
        yield postgres_database
        return
    path = tmp_path / "switchboard.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def proxy(postgres_database: str) -> AsyncIterator[FaultyProxy]:
    """A fault-injecting TCP proxy in front of the scratch PostgreSQL; a test module points its
    `database_url` through it."""
    target = make_url(postgres_database)
    proxy = FaultyProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    emu = SlackEmulator()
    emu.add_user("U0ALICE", "alice", tz="Europe/Berlin")
    emu.add_user("U0BOB", "bob")
    emu.add_user("U0CAROL", "carol")
    emu.add_user("U0DAVE", "dave")
    emu.add_channel("C0GENERAL", "general", members=["U0ALICE", "U0BOB", BOT_USER_ID])
    emu.add_channel("C0OWNERS", "ownership", members=[BOT_USER_ID])
    emu.add_channel("C0FEEDBACK", "feedback", members=[BOT_USER_ID])
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture
def settings(database_url: str, emulator: SlackEmulator, settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": emulator.url,
        "ownership_channel": "C0OWNERS",
        "feedback_channel": "C0FEEDBACK",
        "admin_api_tokens": "test-admin-token",
        "switchboard_scheduler": "off",
        # A busy test machine is slower than Slack's deadline; the tests of the deadline set it.
        "slack_ack_budget_seconds": 20.0,
        "_env_file": None,
    }
    values.update(settings_overrides)
    return load_settings(**values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: Any) -> Runtime:
    result: Runtime = app.state.runtime
    return result


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        yield client


@pytest.fixture
def slack(http: httpx.AsyncClient, emulator: SlackEmulator) -> SlackSender:
    return SlackSender(http, emulator)


@pytest.fixture
def api(http: httpx.AsyncClient) -> httpx.AsyncClient:
    http.headers["Authorization"] = "Bearer test-admin-token"
    return http


@pytest.fixture
def run_jobs(runtime: Runtime) -> Any:
    """Run one scheduler pass (plan + every due job) and return how many jobs ran; `now` looks at a
    later moment without waiting for it."""
    runner = JobRunner(runtime)

    async def run(now: datetime | None = None) -> int:
        return await runner.tick(now)

    return run
