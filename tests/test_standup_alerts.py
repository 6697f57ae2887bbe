"""The Blocked alert: who hears, and its buttons ("Open launch status", "Message <owner>")."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches.schema import FunctionIn
from bot.ownership.areas import create_area
from bot.ownership.schema import AreaIn
from models.launch import Launch
from tests.helpers import rendered
from tests.standup_helpers import TEAM, click, dms_to, function_ids, make_launch

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")


def elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message.get("blocks") or [] for e in b.get("elements", []) if "action_id" in e]


async def block_qa(slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any) -> int:
    """Carol marks QA Blocked with a note from her standup DM; returns the launch id."""
    async with unit_of_work(runtime.session_factory) as session:
        await create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Quality assurance", owner="U0DAVE")
        )
    launch_id = await make_launch(
        runtime, emulator, functions=[FunctionIn(name="QA", owner="U0CAROL", note="Env down <!channel>")]
    )
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await click(slack, emulator, "U0CAROL", "launch_status:blocked", ids["QA"])
    await emulator.wait_for("response_url")
    await run_jobs()
    return launch_id


async def test_blocked_alert_offers_the_matrix_and_a_dm_with_the_function_owner(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await block_qa(slack, emulator, runtime, run_jobs)
    for recipient in ("U0ALICE", "U0DAVE"):  # the launch owner and the area's owner
        alert = dms_to(emulator, recipient)[-1]
        seen = rendered(alert["blocks"]) + alert["text"]
        assert "*QA* is *blocked*" in seen and "Env down" in seen
        assert not any(b in seen for b in BROADCASTS)
        status, message = elements(alert)
        assert (status["action_id"], status["text"]["text"], status["value"]) == (
            "launch_open_status",
            "Open launch status",
            str(launch_id),
        )
        assert message["text"]["text"] == "Message carol"
        assert message["url"] == "slack://user?team=T0SWITCH&id=U0CAROL"

    alert_message = emulator.messages["D0ALICE"][-1]
    status = elements(alert_message)[0]
    await slack.block_action(
        status["action_id"], status["value"], user="U0ALICE", channel="D0ALICE", message=alert_message
    )
    reply = (await emulator.wait_for("response_url", 2))[-1]  # the first edited Carol's DM
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "*Readiness:* 0/100" in rendered(reply["blocks"]) and "Blocked" in rendered(reply["blocks"])
    assert not any(b in json.dumps(reply.args) for b in BROADCASTS)

    # The link button is Slack's to open; the app only acknowledges it and says nothing.
    posted_before = len(emulator.calls_to("chat.postMessage"))
    link = elements(alert_message)[1]
    answer = await slack.block_action(link["action_id"], link["value"], user="U0ALICE", channel="D0ALICE")
    assert answer.status_code == 200
    assert len(emulator.calls_to("chat.postMessage")) == posted_before
    assert len(emulator.calls_to("response_url")) == 2


async def test_open_status_for_another_workspaces_launch_is_refused(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        other = Launch(
            team_id="T0OTHER", slug="secret", name="Secret plan", target_date=date.today(), owner="U0ALICE"
        )
        session.add(other)
        await session.flush()
        other_id = other.id
    replies = []
    for n, value in enumerate((str(other_id), "not-a-number"), start=1):
        await slack.block_action("launch_open_status", value, user="U0ALICE", channel="D0ALICE")
        replies = await emulator.wait_for("response_url", n)
    assert all(r["response_type"] == "ephemeral" for r in replies)
    assert not any("Secret plan" in json.dumps(r.args) for r in replies)
    assert "No launch with id" in replies[0]["text"] and "no longer exists" in replies[1]["text"]


async def test_launch_owner_blocking_a_function_alerts_the_area_owner_with_a_dm_to_its_owner(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Quality assurance", owner="U0DAVE")
        )
    await make_launch(runtime, emulator, functions=[FunctionIn(name="QA", owner="U0CAROL")])
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    message = emulator.messages["D0CAROL"][-1]
    blocked = next(e for e in elements(message) if e["action_id"] == "launch_status:blocked")
    await slack.block_action(
        blocked["action_id"], blocked["value"], user="U0ALICE", channel="D0CAROL", message=message
    )
    await emulator.wait_for("response_url")
    await run_jobs()
    assert not dms_to(emulator, "U0ALICE")  # she set it herself: no alert to her
    (alert,) = dms_to(emulator, "U0DAVE")
    assert "*QA* is *blocked*" in alert["text"] and "set by <@U0ALICE>" in alert["text"]
    assert [e["text"]["text"] for e in elements(alert)] == ["Open launch status", "Message carol"]
