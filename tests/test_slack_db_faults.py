"""Slack with a real PostgreSQL behind a fault-injecting proxy: refused, partitioned and reset
connections still get Slack its answer within 3 s, the person is told in plain words that the
database is unreachable (in the answer itself, or under the message they used), and a request
answered with that error wrote nothing once the database is back. An event the database cannot
record is answered 503 for Slack to send again, and its retry is taken exactly once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.core.db import create_engine, create_session_factory
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET, SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches.views.matrix import LaunchId
from bot.launches.views.standup import answer_value
from bot.slack import guard
from bot.slack.guard import ACK_BUDGET_SECONDS, DATABASE_DOWN
from models import Area, Feedback, LaunchFunction, SlackDelivery
from models.launch import FunctionStatus
from tests.conftest import POSTGRES_ENV, _empty_tables
from tests.standup_helpers import function_ids, make_launch
from tests.tcp_proxy import FaultyProxy
from tests.test_db_faults import cut_at

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"needs PostgreSQL: set {POSTGRES_ENV}"
)

# Slack's own limit for the HTTP answer to a command, a button or a modal submission.
SLACK_BOUND = 3.0
ISSUE_URL = "https://github.com/acme/shop/issues/7"
AREA_VALUES = {
    "area_name": {"name": {"type": "plain_text_input", "value": "Data warehouse"}},
    "area_owner": {"owner": {"type": "users_select", "selected_user": "U0DAVE"}},
    "area_team": {"team": {"type": "plain_text_input", "value": "Data"}},
    "area_backups": {"backups": {"type": "multi_users_select", "selected_users": []}},
    "area_channel": {"channel": {"type": "channels_select", "selected_channel": None}},
    "area_aliases": {"aliases": {"type": "plain_text_input", "value": ""}},
    "area_description": {"description": {"type": "plain_text_input", "value": None}},
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Slack's own deadline, not the roomier one the other tests get."""
    return {"slack_ack_budget_seconds": ACK_BUDGET_SECONDS}


@pytest.fixture
async def database_url(postgres_database: str, proxy: FaultyProxy) -> str:
    """The scratch database, emptied, as the app reaches it: through the proxy."""
    await _empty_tables(postgres_database)
    through = make_url(postgres_database).set(host="127.0.0.1", port=proxy.port)
    return through.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Request:
    """One thing a person does in Slack, and where they are told what came of it."""

    send: Callable[[SlackSender], Awaitable[httpx.Response]]
    # "ack": the HTTP answer carries the message; "response_url": it follows under their message.
    told: str
    # Where a reset strikes: the first statement of the request's transaction starting with this.
    cut: str


async def _status_button(slack: SlackSender, function_id: int) -> httpx.Response:
    return await slack.block_action(
        f"{LaunchId.STATUS}:{FunctionStatus.AT_RISK}",
        answer_value(None, function_id),
        user="U0BOB",
        channel="D0BOB",
    )


REQUESTS = {
    "whoowns with a cold cache": Request(lambda s: s.command("/whoowns", "billing"), "ack", "SELECT"),
    "launch status": Request(lambda s: s.command("/launch", "status Checkout v2"), "ack", "SELECT"),
    "feedback link": Request(lambda s: s.command("/feedback", f"link Checkout {ISSUE_URL}"), "ack", "SELECT"),
    "whoowns add-area modal": Request(
        lambda s: s.view_submission("area_create", AREA_VALUES, private_metadata="{}"), "ack", "INSERT"
    ),
}


async def stored(postgres_url: str, statement: Any) -> Any:
    """Read straight from PostgreSQL, past the proxy and the app."""
    engine = create_engine(postgres_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await session.scalar(statement)
    finally:
        await engine.dispose()


async def abandoned_listeners_finish() -> None:
    """Listeners given up on at the ack budget have rolled back and ended."""
    for _ in range(500):
        if not guard._abandoned:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(guard._abandoned)} abandoned listener(s) still running")


async def break_link(fault: str, proxy: FaultyProxy, runtime: Runtime, cut: str) -> list[str]:
    """Refuse or partition now; a reset strikes at the request's first `cut` statement."""
    if fault == "refused":
        await proxy.refuse()
    elif fault == "partitioned":
        proxy.partition()
    else:
        return cut_at(runtime, cut, proxy.reset)
    return ["before the request"]


async def assert_told(response: httpx.Response, told: str, emulator: SlackEmulator) -> None:
    assert response.status_code == 200, response.text
    if told == "ack":
        answer = response.json()
        said = answer.get("text") or json.dumps(answer.get("errors"))
        assert DATABASE_DOWN.removeprefix(":warning: ") in said, answer
        if "errors" in answer:
            assert answer["response_action"] == "errors"
        return
    assert not response.content or "text" not in response.json()
    calls = await emulator.wait_for(
        "response_url", where=lambda c: c.args.get("text") == DATABASE_DOWN, timeout=15
    )
    assert calls[0]["response_type"] == "ephemeral"


async def answer_under_fault(
    fault: str,
    request: Request,
    *,
    http: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    proxy: FaultyProxy,
    runtime: Runtime,
) -> float:
    """Send `request` with the link broken by `fault`; how long Slack waited for its answer."""
    # A pooled connection opened before the fault, as in a running app.
    assert (await http.get("/readyz")).status_code == 200
    cut = await break_link(fault, proxy, runtime, request.cut)
    started = time.monotonic()
    response = await request.send(slack)
    took = time.monotonic() - started
    await assert_told(response, request.told, emulator)
    assert cut, "the request never reached the statement the test cuts at"
    await proxy.pass_through()
    await abandoned_listeners_finish()
    return took


FAULTS = ["refused", "partitioned", "reset"]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", list(REQUESTS))
async def test_command_or_modal_with_database_away_is_answered_within_3s_and_writes_nothing(
    name: str,
    fault: str,
    http: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    proxy: FaultyProxy,
    runtime: Runtime,
    postgres_database: str,
) -> None:
    if name == "launch status":
        await make_launch(runtime, emulator)
    took = await answer_under_fault(
        fault, REQUESTS[name], http=http, slack=slack, emulator=emulator, proxy=proxy, runtime=runtime
    )
    print(f"{name}, {fault}: Slack answered in {took:.2f} s")
    assert took < SLACK_BOUND, took
    assert await stored(postgres_database, select(func.count()).select_from(Area)) == 0
    # Back to normal: the same modal now creates the area.
    if name == "whoowns add-area modal":
        again = await REQUESTS[name].send(slack)
        assert again.status_code == 200 and not again.content
        assert await stored(postgres_database, select(func.count()).select_from(Area)) == 1


@pytest.mark.parametrize("fault", FAULTS)
async def test_standup_answer_button_with_database_away_is_told_and_writes_nothing(
    fault: str,
    http: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    proxy: FaultyProxy,
    runtime: Runtime,
    postgres_database: str,
) -> None:
    launch_id = await make_launch(runtime, emulator)
    engineering = (await function_ids(runtime, launch_id))["Engineering"]
    button = Request(lambda s: _status_button(s, engineering), "response_url", "UPDATE")
    took = await answer_under_fault(
        fault, button, http=http, slack=slack, emulator=emulator, proxy=proxy, runtime=runtime
    )
    print(f"standup answer button, {fault}: Slack answered in {took:.2f} s")
    assert took < SLACK_BOUND, took
    status = select(LaunchFunction.status).where(LaunchFunction.id == engineering)
    assert await stored(postgres_database, status) == FunctionStatus.NOT_STARTED
    # Back to normal: the same click records the answer.
    emulator.reset_calls()
    assert (await _status_button(slack, engineering)).status_code == 200
    await emulator.wait_for("response_url", timeout=10)
    assert await stored(postgres_database, status) == FunctionStatus.AT_RISK


def memo_reaction(emulator: SlackEmulator) -> dict[str, Any]:
    """Alice logs Bob's message as feedback with the memo reaction."""
    message = emulator.add_message("C0GENERAL", "U0BOB", "Please add SSO for contractors")
    return {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "memo",
        "item_user": "U0BOB",
        "item": {"type": "message", "channel": "C0GENERAL", "ts": message["ts"]},
        "event_ts": message["ts"],
    }


async def assert_event_taken_once(
    slack: SlackSender, emulator: SlackEmulator, event: dict[str, Any], event_id: str, count: Any
) -> None:
    """Slack's retries of an event not taken: the first is logged as feedback, the next dropped."""
    retried = await slack.event(event, event_id=event_id, retry_num=1)
    assert retried.status_code == 200, retried.text
    await emulator.wait_for("chat.postEphemeral", timeout=10)
    assert (await count(Feedback), await count(SlackDelivery)) == (1, 1)
    again = await slack.event(event, event_id=event_id, retry_num=2)
    assert again.status_code == 200
    await asyncio.sleep(0.3)
    assert (await count(Feedback), await count(SlackDelivery)) == (1, 1)
    assert len(emulator.calls_to("chat.postEphemeral")) == 1


def the_one_warning(caplog: pytest.LogCaptureFixture, event_id: str) -> str:
    warnings = [r for r in caplog.records if r.name == "bot.slack.app" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    line = warnings[0].getMessage()
    assert event_id in line and "database" in line and SIGNING_SECRET not in line
    return line


@pytest.mark.parametrize("fault", FAULTS)
async def test_event_the_database_cannot_record_is_503_within_the_budget_and_taken_once_on_retry(
    fault: str,
    http: httpx.AsyncClient,
    slack: SlackSender,
    emulator: SlackEmulator,
    proxy: FaultyProxy,
    runtime: Runtime,
    postgres_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = memo_reaction(emulator)

    async def count(model: Any) -> Any:
        return await stored(postgres_database, select(func.count()).select_from(model))

    assert (await http.get("/readyz")).status_code == 200
    # The event's first statement is recording its id.
    cut = await break_link(fault, proxy, runtime, "INSERT")
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        response = await slack.event(event, event_id="Ev0DBAWAY01")
    took = time.monotonic() - started
    print(f"event, {fault}: Slack answered {response.status_code} in {took:.2f} s")
    assert cut, "the request never reached the statement the test cuts at"
    assert response.status_code == 503 and "x-slack-no-retry" not in response.headers
    assert took < SLACK_BOUND, took
    print(the_one_warning(caplog, "Ev0DBAWAY01"))
    await proxy.pass_through()
    await abandoned_listeners_finish()
    assert (await count(Feedback), await count(SlackDelivery)) == (0, 0)
    assert emulator.calls_to("chat.postEphemeral") == []
    await assert_event_taken_once(slack, emulator, event, "Ev0DBAWAY01", count)
