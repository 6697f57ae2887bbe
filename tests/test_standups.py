"""Readiness standups end to end: DMs, answers, reminders, summaries, alerts, skips and catch-up."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import answers, standups
from bot.launches.jobs import plan_launch_work
from bot.launches.schema import FunctionIn
from bot.ownership.areas import create_area
from bot.ownership.schema import AreaIn
from models import Job, JobStatus
from models.base import utcnow
from models.launch import Launch, LaunchFunction, RunStatus, StandupPrompt, StandupResponse, StandupRun
from tests.standup_helpers import (
    LAUNCH_CHANNEL,
    OWNERS,
    SATURDAY,
    TEAM,
    button,
    click,
    dm_message,
    dms_to,
    function_ids,
    make_due,
    make_launch,
    rows,
    text_of,
)


# A Saturday: the weekday schedule plans no run of its own beside the one started by hand.
@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_full_standup_cycle_with_reminder_and_summary(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)

    response = await slack.command("/launch", "standup checkout")
    started = response.json()["text"]
    assert "Started a readiness standup" in started and "a DM goes to 3 function owners now" in started
    await run_jobs()
    for user in OWNERS.values():
        (prompt,) = dms_to(emulator, user)
        assert "Readiness standup" in text_of(prompt) and "On track" in text_of(prompt)

    await click(slack, emulator, "U0BOB", "launch_status:on_track", ids["Engineering"])
    (edit,) = await emulator.wait_for("response_url")
    assert edit["replace_original"] is True and "✓ On track" in json.dumps(edit["blocks"], ensure_ascii=False)
    async with unit_of_work(runtime.session_factory) as session:
        function = await session.get(LaunchFunction, ids["Engineering"])
        assert function is not None and function.status == "on_track" and function.updated_by == "U0BOB"

    await click(slack, emulator, "U0CAROL", "launch_status:done", ids["QA"])
    await emulator.wait_for("response_url", 2)

    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    # Only Dave did not answer, so only Dave is reminded.
    assert len(dms_to(emulator, "U0DAVE")) == 2
    assert "Reminder" in text_of(dms_to(emulator, "U0DAVE")[-1])
    assert len(dms_to(emulator, "U0BOB")) == len(dms_to(emulator, "U0CAROL")) == 1

    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    text = text_of(summary)
    assert "Readiness standup" in text and "57/100" in text  # (70 + 100 + 0) / 3
    assert "first standup" in text and "No answer from <@U0DAVE>" in text
    assert "<@U0BOB>" not in text.split("No answer from")[1]
    assert "20 days to launch" in text and "No blockers" in text and "0 blockers" in summary["text"]
    (run,) = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    assert (run.status, run.score, run.summary_channel) == (RunStatus.CLOSED, 57, LAUNCH_CHANNEL)

    # The next standup reports the change since this one.
    await slack.command("/launch", "standup checkout-v2")
    await run_jobs()
    await click(slack, emulator, "U0DAVE", "launch_status:done", ids["Docs"])
    await emulator.wait_for("response_url", 3)
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    second = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)][-1]
    assert "90/100" in text_of(second) and "▲ +33 since last standup" in text_of(second)


async def test_blocked_alerts_launch_owner_and_area_owner_once(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Quality assurance", owner="U0DAVE")
        )
    launch_id = await make_launch(runtime, emulator, functions=[FunctionIn(name="QA", owner="U0CAROL")])
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()

    await click(slack, emulator, "U0CAROL", "launch_status:blocked", ids["QA"])
    await emulator.wait_for("response_url")
    await run_jobs()
    (to_owner,) = dms_to(emulator, "U0ALICE")
    assert "*QA* is *blocked*" in to_owner["text"] and "Checkout v2" in to_owner["text"]
    # The area the function maps to is owned by someone else, who hears too.
    assert "*QA* is *blocked*" in dms_to(emulator, "U0DAVE")[-1]["text"]
    (launch,) = await rows(runtime, Launch, Launch.id == launch_id)
    assert launch.status == "at_risk"

    # Clicking Blocked again (a double click, or a Slack retry) changes nothing and alerts nobody.
    await click(slack, emulator, "U0CAROL", "launch_status:blocked", ids["QA"])
    await emulator.wait_for("response_url", 2)
    await run_jobs()
    assert len(dms_to(emulator, "U0ALICE")) == 1
    (function,) = await rows(runtime, LaunchFunction, LaunchFunction.id == ids["QA"])
    assert function.version == 1


async def test_double_click_changes_the_matrix_once(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()

    responses = await asyncio.gather(
        *(click(slack, emulator, "U0BOB", "launch_status:blocked", ids["Engineering"]) for _ in range(3))
    )
    assert all(r.status_code == 200 for r in responses)
    await emulator.wait_for("response_url", 3)
    await run_jobs()
    (function,) = await rows(runtime, LaunchFunction, LaunchFunction.id == ids["Engineering"])
    assert (function.status, function.version) == ("blocked", 1)
    assert len(await rows(runtime, StandupResponse, StandupResponse.function_id == ids["Engineering"])) == 1
    assert len(await rows(runtime, Job, Job.kind == answers.BLOCKED_KIND)) == 1
    assert len(dms_to(emulator, "U0ALICE")) == 1


async def test_add_note_modal_saves_note_and_edits_the_dm(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await click(slack, emulator, "U0DAVE", "launch_note", ids["Docs"])
    (opened,) = await emulator.wait_for("views.open")
    values = {
        "launch_note_text": {
            "note": {"type": "plain_text_input", "value": "Waiting on <!channel> screenshots"}
        }
    }
    result = await slack.view_submission(
        "launch_note_modal", values, user="U0DAVE", private_metadata=opened["view"]["private_metadata"]
    )
    assert result.status_code == 200
    (edit,) = await emulator.wait_for("chat.update")
    assert edit["channel"] == "D0DAVE" and "Waiting on" in json.dumps(edit["blocks"], ensure_ascii=False)
    assert "<!channel>" not in json.dumps(edit["blocks"], ensure_ascii=False)
    (function,) = await rows(runtime, LaunchFunction, LaunchFunction.id == ids["Docs"])
    assert function.note == "Waiting on <!channel> screenshots"
    # A note alone is not an answer: the DM asks for a status, and nothing is recorded for the run.
    assert "Pick a status to answer" in json.dumps(edit["blocks"], ensure_ascii=False)
    assert not await rows(runtime, StandupResponse, StandupResponse.function_id == ids["Docs"])


async def test_someone_else_cannot_answer_for_a_function(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    ids = await function_ids(runtime, launch_id)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    message = dm_message(emulator, "U0BOB")
    found = button(message, "launch_status:done", ids["Engineering"])
    await slack.block_action(
        found["action_id"], found["value"], user="U0CAROL", channel="D0BOB", message=message
    )
    (reply,) = await emulator.wait_for("response_url")
    assert (
        reply["response_type"] == "ephemeral"
        and "Only its owner <@U0BOB> and the launch owner" in reply["text"]
    )
    (function,) = await rows(runtime, LaunchFunction, LaunchFunction.id == ids["Engineering"])
    assert function.status == "not_started"


def _zone_where_it_is_about_one_pm(now: datetime) -> str:
    """An Etc/GMT zone whose local time is 13:xx now, so that "earlier today" and "yesterday" exist."""
    offset = 13 - now.hour
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def test_missed_run_is_caught_up_today_and_older_one_skipped_with_log(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    zone = _zone_where_it_is_about_one_pm(now)
    for user in OWNERS.values():
        emulator.users[user]["tz"] = zone  # everyone lives where the launch is
    launch_id = await make_launch(
        runtime,
        emulator,
        timezone=zone,
        standup_time="10:00",
        standup_weekdays=[1, 2, 3, 4, 5, 6, 7],
        created_at=now - timedelta(days=5),
    )
    caplog.set_level(logging.INFO)
    await run_jobs()  # the scheduler comes back three hours after today's 10:00 standup
    await run_jobs()
    runs = sorted(
        await rows(runtime, StandupRun, StandupRun.launch_id == launch_id), key=lambda r: r.scheduled_for
    )
    past = [r for r in runs if r.scheduled_for <= now]
    assert [r.status for r in past] == [RunStatus.MISSED, RunStatus.OPEN]
    assert past[0].local_date == past[1].local_date - timedelta(days=1)
    for user in OWNERS.values():
        assert len(dms_to(emulator, user)) == 1  # today's prompt only
    # Nobody is asked for the day that is over; today's prompts went out in one job.
    prompt_jobs = await rows(runtime, Job, Job.kind == standups.PROMPT_KIND)
    assert [(j.payload["run_id"], j.status) for j in prompt_jobs if j.run_at <= now] == [
        (past[1].id, JobStatus.DONE)
    ]
    assert not await rows(runtime, StandupPrompt, StandupPrompt.run_id == past[0].id)
    assert "missed while no scheduler ran" in caplog.text
    # Tomorrow's run is planned ahead, not sent.
    assert [r.status for r in runs if r.scheduled_for > now] == [RunStatus.SCHEDULED]


async def test_planner_makes_one_run_per_occurrence_even_when_run_concurrently(
    emulator: SlackEmulator, runtime: Runtime
) -> None:
    now = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)  # Wednesday, 10:00 in Berlin
    launch_id = await make_launch(
        runtime,
        emulator,
        target_date=date(2026, 7, 1),
        timezone="Europe/Berlin",
        now=now,
        created_at=now - timedelta(days=3),
    )
    await asyncio.gather(*(plan_launch_work(runtime, now) for _ in range(4)))
    runs = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    # From two days back (Monday's is older) to a day ahead: Tuesday, today and tomorrow.
    assert sorted(r.local_date for r in runs) == [date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 4)]
    # The owners live in UTC: Tuesday's 09:00 UTC has passed with their day (missed); today's and
    # tomorrow's each get one row per owner and one job for the moment they share.
    jobs = await rows(runtime, Job, Job.kind == standups.PROMPT_KIND)
    assert sorted(j.run_at for j in jobs) == [
        datetime(2026, 6, 3, 9, 0, tzinfo=UTC),
        datetime(2026, 6, 4, 9, 0, tzinfo=UTC),
    ]
    prompts = await rows(runtime, StandupPrompt, StandupPrompt.run_id.in_([r.id for r in runs]))
    assert len(prompts) == 6 and {p.user_id for p in prompts} == set(OWNERS.values())
    assert {r.local_date: r.status for r in runs}[date(2026, 6, 2)] == RunStatus.MISSED


async def test_holiday_and_weekend_get_no_run(emulator: SlackEmulator, runtime: Runtime) -> None:
    created = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    launch_id = await make_launch(
        runtime,
        emulator,
        target_date=date(2027, 1, 20),
        timezone="Europe/Berlin",
        holiday_country="DE",
        now=created,
        created_at=created,
    )
    for day in (24, 25, 26, 27, 28):
        await plan_launch_work(runtime, datetime(2026, 12, day, 6, 0, tzinfo=UTC))
    runs = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    planned = sorted(r.local_date for r in runs)
    assert date(2026, 12, 25) not in planned  # Christmas Day (a Friday)
    assert date(2026, 12, 26) not in planned and date(2026, 12, 27) not in planned  # weekend
    assert date(2026, 12, 24) in planned and date(2026, 12, 28) in planned


async def test_berlin_runs_keep_local_nine_across_dst_switch(
    emulator: SlackEmulator, runtime: Runtime
) -> None:
    created = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    launch_id = await make_launch(
        runtime,
        emulator,
        target_date=date(2026, 4, 30),
        timezone="Europe/Berlin",
        now=created,
        created_at=created,
    )
    await plan_launch_work(runtime, datetime(2026, 3, 27, 5, 0, tzinfo=UTC))
    await plan_launch_work(runtime, datetime(2026, 3, 30, 5, 0, tzinfo=UTC))
    runs = {
        r.local_date: r.scheduled_for
        for r in await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    }
    assert runs[date(2026, 3, 27)] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert runs[date(2026, 3, 30)] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST


async def test_cancelled_launch_run_is_skipped(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    await slack.command("/launch", "standup checkout")
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(update(Launch).where(Launch.id == launch_id).values(status="cancelled"))
    await run_jobs()
    (run,) = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    assert run.status == RunStatus.SKIPPED and "cancelled" in (run.skip_reason or "")
    assert not emulator.calls_to("chat.postMessage")


# A Saturday: the weekday schedule plans no run of its own beside the one started by hand.
@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_retried_prompt_job_sends_each_dm_exactly_once(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    # Slack keeps failing Carol's DM: the job is retried later, the DMs that went out are kept.
    emulator.fail("chat.postMessage", status=500, times=3, when=lambda args: args.get("channel") == "U0CAROL")
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    (job,) = await rows(runtime, Job, Job.kind == standups.PROMPT_KIND)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    # And Bob's DM reached Slack, but the process died before recording it.
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(StandupPrompt)
            .where(StandupPrompt.user_id == "U0BOB")
            .values(message_ts=None, sent_at=None)
        )
    await make_due(runtime, standups.PROMPT_KIND)
    await run_jobs()
    for user in OWNERS.values():
        assert len(emulator.messages["D" + user[1:]]) == 1, user
    assert len(dms_to(emulator, "U0DAVE")) == 1  # recorded as sent: not even looked up again
    prompts = await rows(runtime, StandupPrompt, StandupPrompt.run_id.is_not(None))
    assert all(p.message_ts for p in prompts)
    (run,) = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    assert run.status == RunStatus.OPEN
