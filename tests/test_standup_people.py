"""What Slack says about the people standups ask is cached: asked once, trusted for a while, read in
bulk when many people are asked at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from bot.core.runtime import Runtime
from bot.emulator.server import SlackEmulator
from bot.launches.jobs import plan_launch_work
from bot.launches.people import TIMEZONE_TTL
from bot.launches.schema import FunctionIn
from models.launch import StandupPerson, StandupPrompt
from tests.standup_helpers import OWNERS, make_launch, rows

MONDAY = datetime(2027, 3, 15, 6, 0, tzinfo=UTC)


async def test_timezones_are_cached_for_a_while_then_asked_again(
    emulator: SlackEmulator, runtime: Runtime, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(MONDAY, tick=False)
    await make_launch(runtime, emulator, target_date=date(2027, 4, 30), now=MONDAY, created_at=MONDAY)
    emulator.users["U0BOB"]["tz"] = "Asia/Tokyo"
    await plan_launch_work(runtime, MONDAY)
    assert sorted(c["user"] for c in emulator.calls_to("users.info")) == sorted(OWNERS.values())
    people = {p.user_id: p for p in await rows(runtime, StandupPerson, StandupPerson.team_id == "T0SWITCH")}
    assert people["U0BOB"].timezone == "Asia/Tokyo" and people["U0CAROL"].timezone == "UTC"

    # Within the cache's lifetime nobody is looked up again, even when Slack now says otherwise.
    emulator.users["U0BOB"]["tz"] = "America/Los_Angeles"
    await plan_launch_work(runtime, MONDAY + timedelta(hours=1))
    assert len(emulator.calls_to("users.info")) == 3
    # Past it, they are, and prompts not sent yet move to the new local time.
    later = MONDAY + TIMEZONE_TTL + timedelta(minutes=1)
    await plan_launch_work(runtime, later)
    assert len(emulator.calls_to("users.info")) == 6
    tuesday = [
        p
        for p in await rows(runtime, StandupPrompt, StandupPrompt.user_id == "U0BOB")
        if p.due_at and p.due_at > later
    ]
    assert [(p.timezone, p.due_at) for p in tuesday] == [
        ("America/Los_Angeles", datetime(2027, 3, 16, 16, 0, tzinfo=UTC))  # 09:00 in Los Angeles
    ]


async def test_many_people_are_read_from_the_directory_in_pages(
    emulator: SlackEmulator, runtime: Runtime, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(MONDAY, tick=False)
    owners = [f"U0MANY{i:03d}" for i in range(30)]
    for i, user in enumerate(owners):
        emulator.add_user(user, f"person{i}", tz="Europe/Berlin" if i % 2 else "Asia/Tokyo")
    await make_launch(
        runtime,
        emulator,
        target_date=date(2027, 4, 30),
        functions=[FunctionIn(name=f"Function {i}", owner=user) for i, user in enumerate(owners)],
        now=MONDAY,
        created_at=MONDAY,
    )
    await plan_launch_work(runtime, MONDAY)
    assert not emulator.calls_to("users.info")
    assert 1 <= len(emulator.calls_to("users.list")) <= 2
    prompts = await rows(runtime, StandupPrompt, StandupPrompt.user_id.in_(owners))
    assert {p.user_id: p.timezone for p in prompts} == {
        user: "Europe/Berlin" if i % 2 else "Asia/Tokyo" for i, user in enumerate(owners)
    }


async def test_someone_slack_does_not_know_is_asked_in_the_launchs_timezone(
    emulator: SlackEmulator, runtime: Runtime, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(MONDAY, tick=False)
    await make_launch(
        runtime,
        emulator,
        target_date=date(2027, 4, 30),
        timezone="Europe/Berlin",
        functions=[FunctionIn(name="QA", owner="U0GHOST")],
        now=MONDAY,
        created_at=MONDAY,
    )
    emulator.fail("users.info", status=500, times=10)  # and Slack is having a bad day
    await plan_launch_work(runtime, MONDAY)
    (prompt,) = await rows(runtime, StandupPrompt, StandupPrompt.user_id == "U0GHOST")
    assert prompt.timezone == "Europe/Berlin"
    assert prompt.due_at == datetime(2027, 3, 15, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
