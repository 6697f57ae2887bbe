"""Text a person sends through Slack is held to Slack's own limits: an oversized command, modal
field, mention or shortcut gets a clear answer where they are (never an error from Slack or a
500), and NUL bytes never reach the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.slack.limits import COMMAND_TEXT_LIMIT, INPUT_TEXT_LIMIT, MESSAGE_TEXT_LIMIT, QUERY_LIMIT, check_view
from models import Feedback
from models.launch import LaunchFunction
from tests.standup_helpers import LAUNCH_CHANNEL, SATURDAY, function_ids, make_launch
from tests.test_standup_answers import add_note

TEAM = "T0SWITCH"
MEGABYTE = "x" * (1024 * 1024)
# Just over Slack's limits, small enough for a request Slack could really send.
LONG_COMMAND = "x" * (COMMAND_TEXT_LIMIT + 1)
LONG_MESSAGE = "y" * (MESSAGE_TEXT_LIMIT + 1)
WRITING = {"chat.postMessage", "chat.update", "views.open", "views.update", "views.publish"}


def written(emulator: SlackEmulator) -> list[str]:
    return [c.method for c in emulator.calls if c.method in WRITING]


async def add_billing(runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Billing", owner="U0BOB")
        )


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/whoowns", LONG_COMMAND),
        ("/feedback", LONG_COMMAND),
        ("/launch", "status " + LONG_COMMAND),
        ("/release", "status " + LONG_COMMAND),
        ("/launch", "new " + LONG_COMMAND),
    ],
)
async def test_oversized_command_is_answered_ephemerally_and_runs_nothing(
    slack: SlackSender, emulator: SlackEmulator, command: str, text: str
) -> None:
    response = await slack.command(command, text)
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "too long" in body["text"] and f"at most {COMMAND_TEXT_LIMIT:,}" in body["text"]
    assert written(emulator) == []


@pytest.mark.parametrize("command", ["/whoowns", "/feedback", "/launch"])
async def test_a_megabyte_command_is_refused_before_any_listener(
    slack: SlackSender, emulator: SlackEmulator, command: str
) -> None:
    """More than Slack ever sends in one request: refused with a JSON reason, nothing runs."""
    response = await slack.command(command, MEGABYTE)
    assert response.status_code == 413 and "larger than" in response.json()["message"]
    assert emulator.calls == []


async def test_whoowns_question_longer_than_any_name_is_refused_with_the_limit(
    slack: SlackSender, runtime: Runtime
) -> None:
    await add_billing(runtime)
    body = (await slack.command("/whoowns", "billing " * 40)).json()
    assert body["response_type"] == "ephemeral"
    assert "question is too long" in body["text"] and f"at most {QUERY_LIMIT:,}" in body["text"]
    assert "blocks" not in body or not body["blocks"]


async def test_nul_bytes_in_a_command_are_dropped(slack: SlackSender, runtime: Runtime) -> None:
    await add_billing(runtime)
    body = (await slack.command("/whoowns", "bil\x00ling\x00")).json()
    assert "Billing" in body["text"] and "<@U0BOB>" in body["text"]


async def test_mention_with_an_oversized_question_is_told_privately(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    for n, text in enumerate(
        (f"<@{BOT_USER_ID}> who owns {LONG_MESSAGE}", f"<@{BOT_USER_ID}> who owns {'z' * 300}")
    ):
        event = {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": text,
            "ts": f"1700000000.00030{n}",
            "channel": "C0GENERAL",
            "event_ts": f"1700000000.00030{n}",
        }
        assert (await slack.event(event)).status_code == 200
    notices = await emulator.wait_for("chat.postEphemeral", 2)
    assert [c["user"] for c in notices] == ["U0ALICE", "U0ALICE"]
    assert f"at most {MESSAGE_TEXT_LIMIT:,}" in notices[0]["text"]
    assert f"at most {QUERY_LIMIT:,}" in notices[1]["text"] and notices[1]["thread_ts"] == "1700000000.000301"
    assert written(emulator) == []


async def test_log_feedback_on_an_oversized_message_is_told_privately(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "y" * (MESSAGE_TEXT_LIMIT + 1))
    assert (await slack.message_shortcut("log_feedback", message)).status_code == 200
    (notice,) = await emulator.wait_for("chat.postEphemeral")
    assert notice["user"] == "U0ALICE" and "message is too long" in notice["text"]
    assert written(emulator) == []
    async with unit_of_work(runtime.session_factory) as session:
        assert (await session.scalars(select(Feedback))).all() == []


async def test_modal_field_over_its_limit_is_an_error_on_that_field(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    await slack.command("/launch", "gonogo checkout")
    await run_jobs()
    decision_id = emulator.messages[LAUNCH_CHANNEL][-1]["blocks"][-2]["elements"][0]["value"]
    metadata = json.dumps({"decision_id": int(decision_id), "vote": "go"})
    values = {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": "z" * 100_000}}}
    response = await slack.view_submission(
        "launch_vote_modal", values, user="U0BOB", private_metadata=metadata
    )
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert f"under {INPUT_TEXT_LIMIT:,} characters" in body["errors"]["launch_vote_reason"]
    assert emulator.calls_to("chat.update") == []


def test_a_modal_field_is_held_to_the_max_length_its_view_declared() -> None:
    view = {
        "blocks": [
            {
                "type": "input",
                "block_id": "launch_vote_reason",
                "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 1000},
            }
        ],
        "state": {
            "values": {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": "r" * 1001}}}
        },
    }
    found = check_view(view)
    assert found is not None and (found.block_id, found.limit, found.length) == (
        "launch_vote_reason",
        1000,
        1001,
    )
    view["state"]["values"]["launch_vote_reason"]["reason"]["value"] = "ok\x00" * 10
    assert check_view(view) is None
    assert view["state"]["values"]["launch_vote_reason"]["reason"]["value"] == "ok" * 10


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_nul_bytes_in_a_modal_note_never_reach_the_database(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await add_note(slack, emulator, "U0DAVE", ids["Docs"], "Wait\x00ing\x00 on QA")
    async with unit_of_work(runtime.session_factory) as session:
        stored = await session.get(LaunchFunction, ids["Docs"])
        assert stored is not None and stored.note == "Waiting on QA"


async def test_nul_bytes_in_a_logged_message_never_reach_the_database(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Export\x00 breaks\x00")
    assert (await slack.message_shortcut("log_feedback", message)).status_code == 200
    (opened,) = await emulator.wait_for("views.open")
    assert "\x00" not in json.dumps(opened["view"])
