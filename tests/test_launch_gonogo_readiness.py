"""A go/no-go held while the sign-off matrix says "not ready" says so, in the vote and the result."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches.launches import Matrix
from bot.launches.readiness import trend
from bot.launches.views.gonogo import readiness_gap
from models.launch import Launch, LaunchFunction
from tests.helpers import rendered
from tests.standup_helpers import LAUNCH_CHANNEL, make_launch

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")


def seen(call: dict[str, Any]) -> str:
    """What a person reads in a message: its blocks and its notification text."""
    return rendered(call.get("blocks") or []) + "\n" + str(call.get("text", ""))


async def set_statuses(runtime: Runtime, launch_id: int, statuses: dict[str, str]) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for name, status in statuses.items():
            await session.execute(
                update(LaunchFunction)
                .where(LaunchFunction.launch_id == launch_id, LaunchFunction.name == name)
                .values(status=status)
            )


async def vote_all(slack: SlackSender, emulator: SlackEmulator, votes: dict[str, str]) -> None:
    message = emulator.messages[LAUNCH_CHANNEL][-1]
    decision_id = next(
        e["value"]
        for b in message["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "launch_vote:go"
    )
    for voter, vote in votes.items():
        metadata = json.dumps({"decision_id": int(decision_id), "vote": vote})
        values = {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": "my call"}}}
        await slack.view_submission("launch_vote_modal", values, user=voter, private_metadata=metadata)
    await emulator.wait_for("chat.update", len(votes))


def test_gap_names_what_is_not_done_and_is_silent_from_the_ready_score() -> None:
    launch = Launch(name="Orion", slug="orion", owner="U0ALICE", status="planning")
    functions = [
        LaunchFunction(name="Engineering", status="on_track"),
        LaunchFunction(name="QA", status="at_risk"),
        LaunchFunction(name="Docs <!channel>", status="done"),
    ]
    board = Matrix(launch=launch, functions=functions, score=45, trend=trend(45, None), days_to_launch=3)
    assert readiness_gap(board) == "Readiness is 45/100: Engineering and QA are not done"
    single = Matrix(launch=launch, functions=functions[1:], score=67, trend=trend(67, None), days_to_launch=3)
    assert readiness_gap(single) == "Readiness is 67/100: QA is not done"
    ready = Matrix(launch=launch, functions=functions, score=80, trend=trend(80, None), days_to_launch=3)
    assert readiness_gap(ready) is None


async def test_vote_under_80_says_so_and_a_unanimous_go_states_the_mismatch(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator, name="Orion <!here>")
    await set_statuses(runtime, launch_id, {"Engineering": "on_track", "QA": "at_risk", "Docs": "done"})
    opened = (await slack.command("/launch", "gonogo orion")).json()
    assert "Readiness is 68/100: Engineering and QA are not done" in opened["text"]
    await run_jobs()
    (vote,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    for where in (rendered(vote["blocks"]), vote["text"]):
        assert "Readiness is 68/100: Engineering and QA are not done" in where
    assert not any(b in seen(vote) for b in BROADCASTS)

    await vote_all(slack, emulator, {"U0BOB": "go", "U0CAROL": "go", "U0DAVE": "go"})
    await run_jobs()
    closed = emulator.calls_to("chat.update")[-1].args
    result = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1].args
    for message in (closed, result):
        text = seen(message)
        assert "Result: Go" in text and "Readiness is 68/100: Engineering and QA are not done" in text
        assert "is ready." not in text and "marked ready with that gap" in text
        assert not any(b in text for b in BROADCASTS)
    # The open vote's warning is gone from the closed message; the result carries it instead.
    assert "A Go now means launching with them open" not in rendered(closed["blocks"])


async def test_no_go_under_80_repeats_the_gap_and_go_at_100_is_ready(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    await slack.command("/launch", "gonogo checkout")
    await run_jobs()
    await vote_all(slack, emulator, {"U0BOB": "go", "U0CAROL": "no_go", "U0DAVE": "go"})
    await run_jobs()
    no_go = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1].args
    assert "Result: No-go" in no_go["text"]
    assert "Readiness is 0/100: Engineering, QA and Docs are not done" in no_go["text"]

    await set_statuses(runtime, launch_id, {"Engineering": "done", "QA": "done", "Docs": "done"})
    opened = (await slack.command("/launch", "gonogo checkout")).json()
    assert "Readiness is" not in opened["text"]
    await run_jobs()
    vote = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1].args
    assert "Readiness is" not in seen(vote) and "readiness 100/100" in rendered(vote["blocks"])
    await vote_all(slack, emulator, {"U0BOB": "go", "U0CAROL": "go", "U0DAVE": "go"})
    await run_jobs()
    go = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1].args
    assert "all 3 function owners said Go. *Checkout v2* is ready." in go["text"]
    assert "Readiness is" not in go["text"]
