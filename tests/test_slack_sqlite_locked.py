"""SQLite held locked by another writer: a Slack modal submission is still answered within 3 s
with the plain-words database message, and writes nothing; an event is answered 503 for Slack to
send again, writes nothing, and its retry is taken exactly once."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.slack.guard import ACK_BUDGET_SECONDS, DATABASE_DOWN
from models import Area, Feedback, SlackDelivery
from tests.test_slack_db_faults import (
    AREA_VALUES,
    SLACK_BOUND,
    abandoned_listeners_finish,
    assert_event_taken_once,
    memo_reaction,
    the_one_warning,
)


@pytest.fixture(params=["busy past the ack budget", "busy timeout of 1 s"])
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The default busy timeout (4 s) outlasts Slack's wait; a short one raises "locked" first."""
    budget = {"slack_ack_budget_seconds": ACK_BUDGET_SECONDS}
    if request.param == "busy past the ack budget":
        return budget
    return {**budget, "database_statement_timeout_seconds": 1.0}


@pytest.fixture
def locked(database_url: str) -> Iterator[sqlite3.Connection]:
    """Another process holds SQLite's write lock until the test lets go."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own lock")
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    holder.close()


async def test_locked_sqlite_answers_a_modal_within_3s_and_writes_nothing(
    http: httpx.AsyncClient, slack: SlackSender, runtime: Runtime, locked: sqlite3.Connection
) -> None:
    started = time.monotonic()
    response = await slack.view_submission("area_create", AREA_VALUES, private_metadata="{}")
    took = time.monotonic() - started
    print(f"locked SQLite: Slack answered in {took:.2f} s")
    assert took < SLACK_BOUND, took
    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {"area_name": DATABASE_DOWN}}
    locked.execute("ROLLBACK")
    await abandoned_listeners_finish()
    async with unit_of_work(runtime.session_factory) as session:
        assert await session.scalar(select(func.count()).select_from(Area)) == 0
    again = await slack.view_submission("area_create", AREA_VALUES, private_metadata="{}")
    assert again.status_code == 200 and not again.content


async def test_locked_sqlite_answers_an_event_503_within_3s_and_takes_its_retry_once(
    http: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    locked: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = memo_reaction(emulator)

    async def count(model: Any) -> Any:
        async with unit_of_work(runtime.session_factory) as session:
            return await session.scalar(select(func.count()).select_from(model))

    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        response = await slack.event(event, event_id="Ev0LOCKED01")
    took = time.monotonic() - started
    print(f"locked SQLite: Slack answered an event {response.status_code} in {took:.2f} s")
    assert response.status_code == 503 and "x-slack-no-retry" not in response.headers
    assert took < SLACK_BOUND, took
    the_one_warning(caplog, "Ev0LOCKED01")
    locked.execute("ROLLBACK")
    await abandoned_listeners_finish()
    assert (await count(Feedback), await count(SlackDelivery)) == (0, 0)
    await assert_event_taken_once(slack, emulator, event, "Ev0LOCKED01", count)
