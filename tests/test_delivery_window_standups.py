"""Standup prompts while Slack is down or refusing: outages are waited out for the delivery window
(each person asked once), refusals leave that person out at once, and the launch owner hears whose
prompt did not arrive; no prompt row says "sent" for a DM that was not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from bot.core import pacing
from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import standups
from bot.launches.prompt_reports import UNDELIVERED_KIND
from models import JobStatus
from models.base import utcnow
from models.launch import StandupPrompt
from tests.delivery_helpers import (
    WINDOW_HOURS,
    assert_capped_backoff,
    delivered,
    jobs_of,
    outage,
    posts_to,
    retries_of,
    run_until_settled,
)
from tests.helpers import rendered
from tests.standup_helpers import LAUNCH_CHANNEL, OWNERS, SATURDAY, make_launch, rows

LAUNCH_OWNER = "U0ALICE"
KINDS = (standups.PROMPT_KIND, UNDELIVERED_KIND)
FOOTER = (
    "Switchboard will not try again this run; you may ask them another way. "
    "The summary lists them as not answering."
)

# A Saturday: the weekday schedule plans no run of its own beside the one started by hand.
pytestmark = pytest.mark.time_machine(SATURDAY, tick=True)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_delivery_window_hours": WINDOW_HOURS}


@pytest.fixture(autouse=True)
def unpaced_dms(runtime: Runtime) -> None:
    """The clock jumps between attempts but the pacer's does not: no real second between DMs."""
    pacing.configure(runtime.http, pacing.DEFAULT_LIMITS, per_channel_interval=0)


async def start_standup(slack: SlackSender, user: str = LAUNCH_OWNER) -> None:
    response = await slack.command("/launch", "standup checkout", user=user)
    assert "Started a readiness standup" in response.json()["text"]


async def prompts_by_person(runtime: Runtime) -> dict[str, StandupPrompt]:
    return {p.user_id: p for p in await rows(runtime, StandupPrompt, StandupPrompt.run_id.is_not(None))}


def assert_text_is_blocks(message: dict[str, Any]) -> None:
    assert message["text"].split("\n") == rendered(message["blocks"]).split("\n")


async def test_a_four_hour_outage_is_waited_out_and_everyone_is_asked_once(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    await make_launch(runtime, emulator)
    start = utcnow()
    outage(emulator, until=start + timedelta(hours=4))
    await start_standup(slack)
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    assert start + timedelta(hours=4) <= utcnow() < start + timedelta(hours=WINDOW_HOURS)
    for user in OWNERS.values():
        (prompt,) = delivered(emulator, user)
        assert "Readiness standup" in rendered(prompt["blocks"]), user
    assert all(p.message_ts and p.error is None for p in (await prompts_by_person(runtime)).values())
    (job,) = await jobs_of(runtime, standups.PROMPT_KIND)
    assert job.status == JobStatus.DONE and job.attempts > job.max_attempts
    assert_capped_backoff(retries_of(seen, standups.PROMPT_KIND))
    assert posts_to(emulator, LAUNCH_OWNER) == [] and await jobs_of(runtime, UNDELIVERED_KIND) == []


async def test_an_outage_longer_than_the_window_fails_the_prompts_and_the_owner_hears_once(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    await make_launch(runtime, emulator)
    start = utcnow()
    window = timedelta(hours=WINDOW_HOURS)
    outage(emulator, until=start + window + timedelta(hours=2))
    await start_standup(slack)
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    (job,) = await jobs_of(runtime, standups.PROMPT_KIND)
    assert job.status == JobStatus.FAILED and "http_502" in (job.last_error or "")
    assert max(a.run_at for a in retries_of(seen, standups.PROMPT_KIND)) <= start + window + timedelta(
        minutes=1
    )
    for user in OWNERS.values():
        assert delivered(emulator, user) == [], user
    stored = await prompts_by_person(runtime)
    assert {(p.message_ts, p.sent_at, p.error) for p in stored.values()} == {(None, None, "http_502")}

    (report,) = delivered(emulator, LAUNCH_OWNER)
    unreachable = "Slack could not be reached for 6 hours (`http_502`)"
    assert report["text"].split("\n") == [
        ":warning: The readiness standup prompt for *Checkout v2* did not reach these 3 people, so "
        "they were not asked:",
        f"• <@U0BOB> (Engineering): {unreachable}",
        f"• <@U0CAROL> (QA): {unreachable}",
        f"• <@U0DAVE> (Docs): {unreachable}",
        FOOTER,
    ]
    assert_text_is_blocks(report)
    await run_jobs()
    assert len(delivered(emulator, LAUNCH_OWNER)) == 1


async def test_refusals_leave_those_people_out_at_once_and_the_owner_hears_why(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    emulator.fail("chat.postMessage", error="account_inactive", when=lambda a: a.get("channel") == "U0CAROL")
    emulator.fail("chat.postMessage", error="user_not_found", when=lambda a: a.get("channel") == "U0DAVE")
    await start_standup(slack)
    await run_jobs()
    await run_jobs()

    assert len(delivered(emulator, "U0BOB")) == 1
    assert len(posts_to(emulator, "U0CAROL")) == len(posts_to(emulator, "U0DAVE")) == 1
    (job,) = await jobs_of(runtime, standups.PROMPT_KIND)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert job.result is not None and sorted(job.result["undeliverable"]) == ["U0CAROL", "U0DAVE"]
    stored = await prompts_by_person(runtime)
    assert (stored["U0CAROL"].message_ts, stored["U0CAROL"].error) == (None, "account_inactive")
    assert (stored["U0DAVE"].message_ts, stored["U0DAVE"].error) == (None, "user_not_found")

    (report,) = posts_to(emulator, LAUNCH_OWNER)
    assert report["text"].split("\n") == [
        ":warning: The readiness standup prompt for *Checkout v2* did not reach these 2 people, so "
        "they were not asked:",
        "• <@U0CAROL> (QA): their Slack account is deactivated (`account_inactive`)",
        "• <@U0DAVE> (Docs): Slack does not know them (they may have left the workspace) (`user_not_found`)",
        FOOTER,
    ]
    assert_text_is_blocks(report)


async def test_a_launch_owner_who_cannot_be_reached_is_reported_in_the_launch_channel(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator, owner="U0BOB")
    emulator.fail("chat.postMessage", error="account_inactive", when=lambda a: a.get("channel") == "U0BOB")
    await start_standup(slack, user="U0BOB")
    await run_jobs()
    await run_jobs()

    (report,) = posts_to(emulator, LAUNCH_CHANNEL)
    assert "did not reach this person" in report["text"] and "<@U0BOB> (Engineering)" in report["text"]
    assert "the launch owner may ask them another way" in rendered(report["blocks"])
    assert_text_is_blocks(report)


async def test_prompts_still_unsent_when_the_standup_closes_are_reported_not_sent_late(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    await make_launch(runtime, emulator, reminder_after_minutes=5, cutoff_after_minutes=10)
    start = utcnow()
    outage(emulator, until=start + timedelta(hours=4), when=lambda a: a.get("channel") == "U0CAROL")
    await start_standup(slack)
    await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    # The summary went out at the cut-off while Carol's DM still met the outage; she is not asked
    # after the standup closed, and Alice hears it.
    assert delivered(emulator, "U0CAROL") == []
    assert len(delivered(emulator, LAUNCH_CHANNEL)) == 1
    (job,) = await jobs_of(runtime, standups.PROMPT_KIND)
    assert job.status == JobStatus.SKIPPED
    (report,) = delivered(emulator, LAUNCH_OWNER)
    assert (
        "• <@U0CAROL> (QA): the standup closed before Slack could be reached again (`closed_before_delivery`)"
        in report["text"]
    )
    assert_text_is_blocks(report)
