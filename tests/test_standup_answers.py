"""Who answers what in a standup: the launch owner for a function nobody owns, a note that is not
an answer, and everyone else refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import standups
from bot.launches.schema import FunctionIn
from models.launch import Launch, LaunchFunction, StandupResponse, StandupRun
from tests.standup_helpers import (
    LAUNCH_CHANNEL,
    SATURDAY,
    click,
    dm_message,
    dms_to,
    function_ids,
    make_due,
    make_launch,
    rows,
    text_of,
)

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")


def assert_no_broadcast(call: dict[str, Any]) -> None:
    seen = json.dumps(call.get("blocks") or [], ensure_ascii=False) + str(call.get("text", ""))
    assert not any(b in seen for b in BROADCASTS), seen


async def add_note(
    slack: SlackSender, emulator: SlackEmulator, user: str, function_id: int, note: str
) -> None:
    await click(slack, emulator, user, "launch_note", function_id)
    opened = (await emulator.wait_for("views.open"))[-1]
    values = {"launch_note_text": {"note": {"type": "plain_text_input", "value": note}}}
    answer = await slack.view_submission(
        "launch_note_modal", values, user=user, private_metadata=opened["view"]["private_metadata"]
    )
    assert answer.status_code == 200 and not answer.content


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_function_without_owner_is_asked_of_the_launch_owner(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(
        runtime, emulator, functions=[FunctionIn(name="Engineering", owner="U0BOB"), FunctionIn(name="Legal")]
    )
    ids = await function_ids(runtime, launch_id)
    started = (await slack.command("/launch", "standup checkout")).json()["text"]
    assert "a DM goes to 2 function owners" in started
    await run_jobs()

    (prompt,) = dms_to(emulator, "U0ALICE")
    assert "*Legal*" in text_of(prompt) and "asked as the launch owner" in text_of(prompt)
    assert "Engineering" not in text_of(prompt) and "Legal" in prompt["text"]
    assert_no_broadcast(prompt)

    # Bob owns Engineering, not Legal: his click on Alice's button is refused and changes nothing.
    message = dm_message(emulator, "U0ALICE")
    legal_done = next(
        e
        for b in message["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "launch_status:done"
    )
    await slack.block_action(
        legal_done["action_id"], legal_done["value"], user="U0BOB", channel="D0ALICE", message=message
    )
    (refusal,) = await emulator.wait_for("response_url")
    assert refusal["response_type"] == "ephemeral" and "launch owner <@U0ALICE>" in refusal["text"]
    assert_no_broadcast(refusal)

    # Alice answers, twice (a retried click): one answer, one change.
    await asyncio.gather(
        *(click(slack, emulator, "U0ALICE", "launch_status:done", ids["Legal"]) for _ in range(2))
    )
    await emulator.wait_for("response_url", 3)
    (legal,) = await rows(runtime, LaunchFunction, LaunchFunction.id == ids["Legal"])
    assert (legal.status, legal.version, legal.updated_by) == ("done", 1, "U0ALICE")
    (answer,) = await rows(runtime, StandupResponse, StandupResponse.function_id == ids["Legal"])
    assert answer.user_id == "U0ALICE"

    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    assert len(dms_to(emulator, "U0ALICE")) == 1  # she answered: no reminder
    assert len(dms_to(emulator, "U0BOB")) == 2  # Bob did not

    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    assert "No answer from <@U0BOB>." in text_of(summary)
    assert "No owner: Legal (asked of the launch owner <@U0ALICE>)" in text_of(summary)
    assert_no_broadcast(summary)


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_a_note_alone_is_not_an_answer(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await add_note(slack, emulator, "U0DAVE", ids["Docs"], "Screenshots next week <!here>")
    (edit,) = await emulator.wait_for("chat.update")
    assert "Pick a status to answer this standup" in text_of(edit)
    assert_no_broadcast(edit)
    assert not await rows(runtime, StandupResponse, StandupResponse.function_id == ids["Docs"])

    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    reminder = dms_to(emulator, "U0DAVE")[-1]
    assert "Reminder" in text_of(reminder) and "Screenshots next week" in text_of(reminder)
    assert_no_broadcast(reminder)

    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    silent = text_of(summary).split("No answer from")[1]
    assert "<@U0DAVE>" in silent
    assert_no_broadcast(summary)


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_a_note_after_an_answer_keeps_the_answer_and_updates_its_note(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await click(slack, emulator, "U0DAVE", "launch_status:at_risk", ids["Docs"])
    await emulator.wait_for("response_url")
    await add_note(slack, emulator, "U0DAVE", ids["Docs"], "Waiting on the API freeze")
    (answer,) = await rows(runtime, StandupResponse, StandupResponse.function_id == ids["Docs"])
    assert (answer.status, answer.note) == ("at_risk", "Waiting on the API freeze")


async def test_another_workspaces_function_cannot_be_answered(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        other = Launch(
            team_id="T0OTHER",
            slug="secret",
            name="Secret",
            target_date=SATURDAY.date(),
            owner="U0ALICE",
        )
        session.add(other)
        await session.flush()
        function = LaunchFunction(team_id="T0OTHER", launch_id=other.id, name="QA", owner="U0ALICE")
        session.add(function)
        await session.flush()
        function_id = function.id
    for action_id in ("launch_status:done", "launch_note"):
        await slack.block_action(action_id, f"0:{function_id}", user="U0ALICE", channel="D0ALICE")
    replies = await emulator.wait_for("response_url", 2)
    assert all("no longer exists" in r["text"] and r["response_type"] == "ephemeral" for r in replies)
    assert not emulator.calls_to("views.open")
    (untouched,) = await rows(runtime, LaunchFunction, LaunchFunction.id == function_id)
    assert (untouched.status, untouched.version) == ("not_started", 0)
    assert not await rows(runtime, StandupRun)
