"""An answer after the cut-off updates the posted summary in place and says what changed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import answers, standups
from models import Job, JobStatus
from models.launch import Launch, StandupRun
from tests.helpers import rendered
from tests.standup_helpers import (
    LAUNCH_CHANNEL,
    SATURDAY,
    button,
    click,
    dm_message,
    function_ids,
    make_due,
    make_launch,
    rows,
)

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")


def clean(call: dict[str, Any]) -> bool:
    seen = json.dumps(call.get("blocks") or [], ensure_ascii=False) + str(call.get("text", ""))
    return not any(b in seen for b in BROADCASTS)


async def standup_to_summary(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> Any:
    """A manual standup where only Bob answers, through its cut-off; returns the posted summary."""
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await click(slack, emulator, "U0BOB", "launch_status:on_track", ids["Engineering"])
    await emulator.wait_for("response_url")
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)
    assert "No answer from <@U0CAROL>, <@U0DAVE>." in rendered(summary["blocks"])
    return ids, emulator.messages[LAUNCH_CHANNEL][-1]


def edits_of(emulator: SlackEmulator, ts: str) -> list[dict[str, Any]]:
    return [c.args for c in emulator.calls_to("chat.update", channel=LAUNCH_CHANNEL) if c.args["ts"] == ts]


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_late_answer_edits_the_summary_and_marks_the_change(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    ids, posted = await standup_to_summary(slack, emulator, runtime, run_jobs)
    await click(slack, emulator, "U0CAROL", "launch_status:done", ids["QA"])
    dm_edit = (await emulator.wait_for("response_url", 2))[-1]
    assert "summary is posted; an answer now updates it" in rendered(dm_edit["blocks"])
    await run_jobs()

    (edit,) = edits_of(emulator, posted["ts"])
    shown = rendered(edit["blocks"])
    assert "updated: QA → Done by <@U0CAROL> at <!date^" in shown and f"|{SATURDAY:%H:}" in shown
    assert "*Readiness:* 57/100" in shown  # (70 + 100 + 0) / 3, scored again
    assert "No answer from <@U0DAVE>." in shown and "<@U0CAROL>," not in shown
    assert "updated after the cut-off: QA → Done" in edit["text"] and clean(edit)
    assert emulator.messages[LAUNCH_CHANNEL][-1]["blocks"] == edit["blocks"]  # in place, no new post
    assert len(emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)) == 1
    (run,) = await rows(runtime, StandupRun, StandupRun.id > 0)
    assert run.score == 57

    # The same click again (a double click, or Slack retrying) changes nothing and edits nothing.
    await click(slack, emulator, "U0CAROL", "launch_status:done", ids["QA"])
    await emulator.wait_for("response_url", 3)
    await run_jobs()
    assert len(edits_of(emulator, posted["ts"])) == 1
    assert len(await rows(runtime, Job, Job.kind == answers.SUMMARY_UPDATE_KIND)) == 1

    # A second late answer: the summary lists both changes.
    await click(slack, emulator, "U0DAVE", "launch_status:blocked", ids["Docs"])
    await emulator.wait_for("response_url", 4)
    await run_jobs()
    last = edits_of(emulator, posted["ts"])[-1]
    assert "updated: QA → Done by <@U0CAROL>" in rendered(last["blocks"])
    assert "updated: Docs → Blocked by <@U0DAVE>" in rendered(last["blocks"])
    assert "Everyone answered." in rendered(last["blocks"]) and clean(last)


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_late_click_by_someone_else_is_refused_and_edits_nothing(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    ids, posted = await standup_to_summary(slack, emulator, runtime, run_jobs)
    message = dm_message(emulator, "U0CAROL")
    found = button(message, "launch_status:done", ids["QA"])
    await slack.block_action(
        found["action_id"], found["value"], user="U0DAVE", channel="D0CAROL", message=message
    )
    reply = (await emulator.wait_for("response_url", 2))[-1]
    assert (
        reply["response_type"] == "ephemeral"
        and "Only its owner <@U0CAROL> and the launch owner" in reply["text"]
    )
    await run_jobs()
    assert not edits_of(emulator, posted["ts"])
    assert not await rows(runtime, Job, Job.kind == answers.SUMMARY_UPDATE_KIND)


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_answer_long_after_the_cut_off_leaves_the_summary_alone(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    ids, posted = await standup_to_summary(slack, emulator, runtime, run_jobs)
    time_machine.move_to(SATURDAY + answers.LATE_WINDOW + timedelta(hours=1), tick=True)
    await click(slack, emulator, "U0CAROL", "launch_status:done", ids["QA"])
    await emulator.wait_for("response_url", 2)
    await run_jobs()
    assert not edits_of(emulator, posted["ts"])


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_late_answer_before_the_summary_is_posted_edits_it_once_posted(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    # The cut-off closes the run, but Slack fails the summary post: it is retried later.
    emulator.fail("chat.postMessage", status=500, times=3, when=lambda a: a.get("channel") == LAUNCH_CHANNEL)
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    assert not emulator.messages[LAUNCH_CHANNEL]
    await click(slack, emulator, "U0CAROL", "launch_status:done", ids["QA"])
    await emulator.wait_for("response_url")
    await run_jobs()
    (update_job,) = await rows(runtime, Job, Job.kind == answers.SUMMARY_UPDATE_KIND)
    assert update_job.status == JobStatus.PENDING and "not posted yet" in (update_job.last_error or "")

    await make_due(runtime, standups.CUTOFF_KIND)
    await make_due(runtime, answers.SUMMARY_UPDATE_KIND)
    await run_jobs()
    (posted,) = emulator.messages[LAUNCH_CHANNEL]
    assert "updated: QA → Done by <@U0CAROL>" in rendered(posted["blocks"])
    # The edit waits for the post (it may have run beside it), then edits that one message.
    await make_due(runtime, answers.SUMMARY_UPDATE_KIND)
    await run_jobs()
    (update_job,) = await rows(runtime, Job, Job.kind == answers.SUMMARY_UPDATE_KIND)
    assert update_job.status == JobStatus.DONE
    assert len(emulator.messages[LAUNCH_CHANNEL]) == 1
    assert "updated: QA → Done by <@U0CAROL>" in rendered(edits_of(emulator, posted["ts"])[-1]["blocks"])


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_a_run_id_from_another_workspace_does_not_reach_its_summary(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    ids, posted = await standup_to_summary(slack, emulator, runtime, run_jobs)
    async with unit_of_work(runtime.session_factory) as session:
        other = Launch(team_id="T0OTHER", slug="x", name="X", target_date=SATURDAY.date(), owner="U0CAROL")
        session.add(other)
        await session.flush()
        foreign = StandupRun(
            team_id="T0OTHER",
            launch_id=other.id,
            scheduled_for=SATURDAY,
            local_date=SATURDAY.date(),
            expires_at=SATURDAY + timedelta(hours=12),
            status="closed",
            closed_at=SATURDAY,
            summary_channel="C0ELSEWHERE",
            summary_ts="1700000000.000001",
        )
        session.add(foreign)
        await session.flush()
        foreign_id = foreign.id
    await slack.block_action(
        "launch_status:done", f"{foreign_id}:{ids['QA']}", user="U0CAROL", channel="D0CAROL"
    )
    await emulator.wait_for("response_url", 2)
    await run_jobs()
    assert not emulator.calls_to("chat.update", channel="C0ELSEWHERE")
    # It counted as Carol's late answer to her own launch's standup.
    assert "updated: QA → Done by <@U0CAROL>" in rendered(edits_of(emulator, posted["ts"])[-1]["blocks"])
