"""Each function owner is asked at the launch's standup time in their own timezone, through the
weeks the US and Europe change clocks on different days, exactly once however many schedulers run."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine

from bot.core.runtime import Runtime
from bot.emulator.server import SlackEmulator
from bot.launches.schema import FunctionIn
from bot.scheduler.runner import JobRunner
from models.launch import StandupPrompt, StandupRun
from tests.standup_helpers import LAUNCH_CHANNEL, dms_to, make_launch, rows

PEOPLE = {
    "U0LA": ("lena", "America/Los_Angeles"),
    "U0BER": ("bert", "Europe/Berlin"),
    "U0TYO": ("taro", "Asia/Tokyo"),
    "U0NOTZ": ("nora", None),  # Slack gives no timezone: the launch's is used
}
FUNCTIONS = {"Engineering": "U0LA", "QA": "U0BER", "Docs": "U0TYO", "Support": "U0NOTZ"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 09:00 local for each of them; the launch is in Berlin.
EXPECTED = {
    # Friday: everyone on winter time.
    date(2027, 3, 12): {
        "U0TYO": utc(2027, 3, 12, 0),
        "U0BER": utc(2027, 3, 12, 8),
        "U0NOTZ": utc(2027, 3, 12, 8),
        "U0LA": utc(2027, 3, 12, 17),
    },
    # Monday after the US moved on Sunday 14 March; Europe has not.
    date(2027, 3, 15): {
        "U0TYO": utc(2027, 3, 15, 0),
        "U0BER": utc(2027, 3, 15, 8),
        "U0NOTZ": utc(2027, 3, 15, 8),
        "U0LA": utc(2027, 3, 15, 16),
    },
    # Tuesday after Europe moved on Sunday 28 March (Monday is Easter Monday, a holiday in Germany).
    date(2027, 3, 30): {
        "U0TYO": utc(2027, 3, 30, 0),
        "U0BER": utc(2027, 3, 30, 7),
        "U0NOTZ": utc(2027, 3, 30, 7),
        "U0LA": utc(2027, 3, 30, 16),
    },
}


def add_people(emulator: SlackEmulator) -> None:
    for user_id, (name, tz) in PEOPLE.items():
        emulator.add_user(user_id, name, tz=tz or "UTC")
        if tz is None:
            emulator.users[user_id]["tz"] = None


def dm_counts(emulator: SlackEmulator, *, reminders: bool = False) -> dict[str, int]:
    """Standup prompts (and, when asked, reminders too) each person got."""
    return {
        user: len([m for m in dms_to(emulator, user) if reminders or not m["text"].startswith("Reminder")])
        for user in PEOPLE
    }


async def tick_everywhere(runtime: Runtime) -> None:
    """Two schedulers over one database wake up at the same moment."""
    await asyncio.gather(JobRunner(runtime).tick(), JobRunner(runtime).tick())


async def test_each_owner_is_asked_at_their_own_nine_through_both_dst_changes(
    emulator: SlackEmulator, runtime: Runtime, time_machine: time_machine.TimeMachineFixture
) -> None:
    add_people(emulator)
    created = utc(2027, 3, 11, 12)
    time_machine.move_to(created, tick=False)
    launch_id = await make_launch(
        runtime,
        emulator,
        target_date=date(2027, 4, 30),
        timezone="Europe/Berlin",
        holiday_country="DE",
        functions=[FunctionIn(name=name, owner=owner) for name, owner in FUNCTIONS.items()],
        now=created,
        created_at=created,
    )
    for day, moments in EXPECTED.items():
        for moment in sorted(set(moments.values())):
            time_machine.move_to(moment - timedelta(minutes=1), tick=False)
            before = dm_counts(emulator)
            await tick_everywhere(runtime)
            assert dm_counts(emulator) == before, f"someone asked before {moment} on {day}"
            time_machine.move_to(moment + timedelta(seconds=30), tick=False)
            await tick_everywhere(runtime)
            after = dm_counts(emulator)
            asked = {u for u in PEOPLE if after[u] > before[u]}
            expected = {u for u, m in moments.items() if m == moment}
            assert asked == expected, f"at {moment} on {day}"
            assert all(after[u] == before[u] + 1 for u in asked)  # one DM each, however many schedulers
        prompts = await rows(runtime, StandupPrompt, StandupPrompt.run_id.in_(await _run_ids(runtime, day)))
        assert {p.user_id: p.timezone for p in prompts} == {
            u: tz or "Europe/Berlin" for u, (_, tz) in PEOPLE.items()
        }
        for prompt in prompts:
            assert prompt.sent_at is not None
            assert abs(prompt.sent_at - moments[prompt.user_id]) < timedelta(minutes=1)

        # The cut-off follows the last prompt (Los Angeles): four hours later, not four after Berlin.
        cutoff = moments["U0LA"] + timedelta(minutes=240)
        time_machine.move_to(cutoff - timedelta(minutes=1), tick=False)
        await tick_everywhere(runtime)
        summaries = len(emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL))
        time_machine.move_to(cutoff + timedelta(seconds=30), tick=False)
        await tick_everywhere(runtime)
        assert len(emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)) == summaries + 1
        # Everyone was reminded once, at their own moment plus two hours, having not answered.
        days_so_far = list(EXPECTED).index(day) + 1
        assert set(dm_counts(emulator, reminders=True).values()) == {2 * days_so_far}

    runs = await rows(runtime, StandupRun, StandupRun.launch_id == launch_id)
    # Good Friday and Easter Monday are public holidays in Germany, the launch's holiday country:
    # nobody is asked those days, wherever they are.
    days = {r.local_date for r in runs}
    assert date(2027, 3, 26) not in days and date(2027, 3, 29) not in days
    assert {r.local_date for r in runs if r.prompted_at is not None} == set(EXPECTED)


async def _run_ids(runtime: Runtime, day: date) -> list[int]:
    return [r.id for r in await rows(runtime, StandupRun, StandupRun.local_date == day)]


async def test_someone_far_east_of_the_launch_is_not_asked_before_the_launchs_day_begins(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    add_people(emulator)
    created = utc(2027, 3, 16, 12)
    time_machine.move_to(created, tick=False)
    await make_launch(
        runtime,
        emulator,
        target_date=date(2027, 4, 30),
        timezone="America/Los_Angeles",
        functions=[FunctionIn(name="Docs", owner="U0TYO")],
        now=created,
        created_at=created,
    )
    # 09:00 Wednesday in Tokyo is still Tuesday in Los Angeles; Taro is asked when Wednesday
    # begins there (00:00 PDT = 16:00 in Tokyo, still his Wednesday).
    time_machine.move_to(utc(2027, 3, 17, 0, 30), tick=False)
    await run_jobs()
    assert not dms_to(emulator, "U0TYO")
    time_machine.move_to(utc(2027, 3, 17, 7, 0, 30), tick=False)
    await run_jobs()
    assert len(dms_to(emulator, "U0TYO")) == 1
