"""Demo chapter: a launch goes from planning to ready."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core.uow import unit_of_work
from bot.demo.render import humanize, render_blocks
from bot.demo.stage import Stage
from bot.emulator.state import Call
from bot.launches import standups
from models import Job, JobStatus
from models.base import utcnow
from models.launch import Launch, LaunchFunction

LAUNCH = "Smart invoices"
OWNERS = {
    "Engineering": "U0BEN",
    "QA": "U0DIEGO",
    "Docs": "U0CHLOE",
    "Support": "U0EMMA",
    "Marketing": "U0FARID",
}


def _details(target: date) -> dict[str, Any]:
    return {
        "launch_name": {"name": {"type": "plain_text_input", "value": LAUNCH}},
        "launch_target": {"target_date": {"type": "datepicker", "selected_date": target.isoformat()}},
        "launch_owner": {"owner": {"type": "users_select", "selected_user": "U0PRIYA"}},
        "launch_channel": {"channel": {"type": "conversations_select", "selected_conversation": None}},
        "launch_template": {"template": {"type": "static_select", "selected_option": {"value": "feature"}}},
        "launch_functions": {"functions": {"type": "plain_text_input", "value": "\n".join(OWNERS)}},
        "launch_days": {
            "days": {"type": "checkboxes", "selected_options": [{"value": str(d)} for d in range(1, 6)]}
        },
        "launch_time": {"time": {"type": "timepicker", "selected_time": "09:00"}},
        "launch_timezone": {"timezone": {"type": "plain_text_input", "value": "Europe/Berlin"}},
        "launch_country": {"country": {"type": "plain_text_input", "value": "DE"}},
    }


async def _time_passes(stage: Stage, kind: str) -> None:
    """Move pending jobs of `kind` to now, as if their time had come, and run the scheduler."""
    async with unit_of_work(stage.runtime.session_factory) as session:
        await session.execute(
            update(Job).where(Job.kind == kind, Job.status == JobStatus.PENDING).values(run_at=utcnow())
        )
    await stage.run_scheduler()


def _button(message: dict[str, Any], action_id: str, function_id: int | None = None) -> dict[str, Any]:
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id and (
                function_id is None or str(element.get("value", "")).endswith(f":{function_id}")
            ):
                return dict(element)
    raise LookupError(f"no {action_id} button")


async def _answer(stage: Stage, user: str, status: str, function_id: int) -> None:
    message = stage.emulator.messages["D" + user[1:]][-1]
    button = _button(message, f"launch_status:{status}", function_id)
    before = len(stage.emulator.calls_to("response_url"))
    await stage.slack.block_action(
        button["action_id"], button["value"], user=user, channel="D" + user[1:], message=message
    )
    await stage.emulator.wait_for("response_url", before + 1)


async def _function_ids(stage: Stage, launch_id: int) -> dict[str, int]:
    async with unit_of_work(stage.runtime.session_factory) as session:
        rows = await session.scalars(select(LaunchFunction).where(LaunchFunction.launch_id == launch_id))
        return {f.name: f.id for f in rows}


async def run(stage: Stage) -> None:
    stage.chapter("Launch readiness: from planning to ready")
    emulator, slack = stage.emulator, stage.slack
    target = date.today() + timedelta(days=12)

    stage.step("@priya uses the *New launch* shortcut")
    await slack.global_shortcut("new_launch", user="U0PRIYA")
    opened = (await emulator.wait_for("views.open", where=lambda c: "launch_create" in json.dumps(c.args)))[
        -1
    ]
    view_id = next(v for v, body in emulator.views.items() if body.get("callback_id") == "launch_create")
    stage.show_new()

    stage.step("She fills in name, target date, functions and the standup schedule, then [Next]")
    step_two = await slack.view_submission(
        "launch_create",
        _details(target),
        user="U0PRIYA",
        private_metadata=opened["view"].get("private_metadata", ""),
    )
    owners_view = step_two.json()["view"]
    guessed = [
        f"{b['label']['text']} → @{emulator.users[b['element']['initial_user']]['name']}"
        for b in owners_view["blocks"]
        if b["type"] == "input" and b["element"].get("initial_user")
    ]
    stage.say("  Owners suggested from the ownership directory: " + (", ".join(guessed) or "none"))
    stage.show_new()

    stage.step("She confirms one owner per function and clicks [Create launch]")
    values = {
        f"launch_fn_owner:{i}": {"function_owner": {"type": "users_select", "selected_user": user}}
        for i, user in enumerate(OWNERS.values())
    }
    await slack.view_submission(
        "launch_create_owners",
        values,
        user="U0PRIYA",
        private_metadata=owners_view["private_metadata"],
        view_id=view_id,
    )
    await emulator.wait_for("views.update")
    stage.show_new()
    async with unit_of_work(stage.runtime.session_factory) as session:
        launch = await session.scalar(select(Launch).where(Launch.name == LAUNCH))
        assert launch is not None
        launch_id, slug = launch.id, launch.slug
    ids = await _function_ids(stage, launch_id)

    stage.step(f"@priya runs `/launch standup {slug}`: every function owner gets a DM")
    stage.show_new(await slack.command("/launch", f"standup {slug}", user="U0PRIYA"))
    await stage.run_scheduler()
    stage.show_new()

    stage.step("Answers come in: @ben On track, @chloe Done, @emma On track — and @diego Blocked")
    await _answer(stage, "U0BEN", "on_track", ids["Engineering"])
    await _answer(stage, "U0CHLOE", "done", ids["Docs"])
    await _answer(stage, "U0EMMA", "on_track", ids["Support"])
    await _answer(stage, "U0DIEGO", "blocked", ids["QA"])
    stage.show_new()
    stage.step("The Blocked answer alerts @priya at once")
    await stage.run_scheduler()
    stage.show_new()

    stage.step("Two hours later, @farid has not answered: only he is reminded")
    await _time_passes(stage, standups.REMINDER_KIND)
    stage.show_new()

    stage.step("At the cut-off the summary goes to the launch channel")
    await _time_passes(stage, standups.CUTOFF_KIND)
    stage.show_new()

    stage.step(f"Later, QA is unblocked: `/launch standup {slug}` again, and everyone answers Done")
    await slack.command("/launch", f"standup {slug}", user="U0PRIYA")
    await stage.run_scheduler()
    for name, user in OWNERS.items():
        await _answer(stage, user, "done", ids[name])
    await _time_passes(stage, standups.CUTOFF_KIND)
    # Only the new summary is worth reading here, not the fifteen DMs and edits before it.
    stage._seen = len(emulator.calls)
    summary = emulator.messages[launch_channel(stage, launch_id)][-1]
    stage.say("  #" + emulator.channels[launch_channel(stage, launch_id)]["name"] + ":")
    for line in render_blocks(summary["blocks"]):
        stage.say("    " + humanize(line, emulator))

    stage.step(f"@priya asks for the go/no-go: `/launch gonogo {slug}`")
    stage.show_new(await slack.command("/launch", f"gonogo {slug}", user="U0PRIYA"))
    await stage.run_scheduler()
    stage.show_new()
    channel = launch_channel(stage, launch_id)
    vote_message = emulator.messages[channel][-1]
    go = _button(vote_message, "launch_vote:go")

    stage.step("@priya (launch owner, no function) clicks [Go]: only function owners vote")
    replies = len(emulator.calls_to("response_url"))
    await slack.block_action(
        go["action_id"], go["value"], user="U0PRIYA", channel=channel, message=vote_message
    )
    await emulator.wait_for("response_url", replies + 1)
    stage.show_new()

    stage.step("Every function owner votes Go with a reason; the vote message updates after each")
    updates = len(emulator.calls_to("chat.update"))
    for count, user in enumerate(OWNERS.values(), start=1):
        await slack.block_action(
            go["action_id"], go["value"], user=user, channel=channel, message=vote_message
        )
        modal = (await emulator.wait_for("views.open", count, where=_is_vote_modal))[-1]
        reason = {
            "launch_vote_reason": {"reason": {"type": "plain_text_input", "value": "Ready on our side."}}
        }
        await slack.view_submission(
            "launch_vote_modal", reason, user=user, private_metadata=modal["view"]["private_metadata"]
        )
        await emulator.wait_for("chat.update", updates + count)
        if count < len(OWNERS):
            stage._seen = len(emulator.calls)
    stage.show_new()
    stage.step("The last vote decides; the scheduler announces the result")
    await stage.run_scheduler()
    stage.show_new()
    async with unit_of_work(stage.runtime.session_factory) as session:
        launch = await session.get(Launch, launch_id)
        assert launch is not None
        stage.say(f"\n{LAUNCH} is now `{launch.status}`.")


def _is_vote_modal(call: Call) -> bool:
    return "launch_vote_modal" in json.dumps(call.args)


def launch_channel(stage: Stage, launch_id: int) -> str:
    for channel_id, info in stage.emulator.channels.items():
        if info["name"].startswith("launch-smart-invoices"):
            return channel_id
    raise LookupError(f"no channel for launch {launch_id}")
