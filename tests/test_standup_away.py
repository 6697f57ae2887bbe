"""Away: `/launch away`, `/launch back` and a Slack status that says so. Someone away is not asked,
not reminded, listed as away in the summary and left out of the response rate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import away as away_service
from bot.launches import standups
from models.launch import StandupAway, StandupPrompt
from tests.standup_helpers import LAUNCH_CHANNEL, SATURDAY, dms_to, make_due, make_launch, rows, text_of

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")
TODAY = SATURDAY.date()  # 2026-06-06


def clean(call: Any) -> bool:
    seen = json.dumps(call.get("blocks") or [], ensure_ascii=False) + str(call.get("text", ""))
    return not any(b in seen for b in BROADCASTS)


async def away(slack: SlackSender, text: str, user: str = "U0CAROL") -> dict[str, Any]:
    body: dict[str, Any] = (await slack.command("/launch", text, user=user)).json()
    assert body["response_type"] == "ephemeral" and clean(body)
    return body


async def summary_after_standup(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> Any:
    """A manual standup run through its reminder and cut-off; returns the summary Slack got."""
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    assert clean(summary)
    return summary


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_away_people_are_not_asked_nor_reminded_and_are_listed_as_away(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, api: httpx.AsyncClient
) -> None:
    await make_launch(runtime, emulator)
    answer = await away(slack, "away 2026-06-05 2026-06-12")
    assert "You're away from Fri 05 Jun 2026 to Fri 12 Jun 2026 for every launch" in answer["text"]
    # Dave's Slack status says he is on holiday until Tuesday.
    until = int(datetime(2026, 6, 9, 22, 0, tzinfo=UTC).timestamp())  # midnight in Berlin
    emulator.users["U0DAVE"]["tz"] = "Europe/Berlin"
    emulator.set_status("U0DAVE", ":palm_tree:", "Holiday", expiration=until)

    summary = await summary_after_standup(slack, emulator, runtime, run_jobs)
    assert not dms_to(emulator, "U0CAROL") and not dms_to(emulator, "U0DAVE")
    assert len(dms_to(emulator, "U0BOB")) == 2  # asked, then reminded
    text = text_of(summary)
    assert "No answer from <@U0BOB>." in text
    assert "<@U0CAROL> (away until Fri 12 Jun)" in text and "<@U0DAVE> (away until Tue 09 Jun)" in text
    prompts = {p.user_id: p for p in await rows(runtime, StandupPrompt, StandupPrompt.id > 0)}
    assert prompts["U0CAROL"].skip_reason == "away" and prompts["U0CAROL"].sent_at is None

    # Only Bob was asked, so the response rate is his: 0 of 1, not 0 of 3.
    stats = (await api.get("/api/v1/stats", params={"since": "2026-06-01", "until": "2026-06-07"})).json()
    assert (stats["standups"]["prompts"], stats["standups"]["answered"]) == (1, 0)


@pytest.mark.time_machine(SATURDAY, tick=True)
@pytest.mark.parametrize(
    ("emoji", "text", "away_now"),
    [
        (":face_with_thermometer:", "", True),
        (":airplane:", "Flying to Tokyo", True),
        ("", "OOO until Monday", True),
        ("", "On vacation", True),
        (":coffee:", "Back in 10", False),
    ],
)
async def test_a_slack_status_that_says_away_skips_the_prompt(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    emoji: str,
    text: str,
    away_now: bool,
) -> None:
    await make_launch(runtime, emulator)
    emulator.set_status("U0BOB", emoji, text)
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    assert len(dms_to(emulator, "U0BOB")) == (0 if away_now else 1)
    assert len(dms_to(emulator, "U0CAROL")) == 1


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_an_expired_status_does_not_count_and_going_away_later_stops_the_reminder(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    emulator.set_status(
        "U0BOB", ":palm_tree:", "Vacation", expiration=int((SATURDAY - timedelta(hours=1)).timestamp())
    )
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    assert len(dms_to(emulator, "U0BOB")) == 1  # that status had already run out
    # Carol, asked, goes away before the reminder: she is not reminded and is listed as away.
    await away(slack, "away today tomorrow")
    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    assert len(dms_to(emulator, "U0CAROL")) == 1
    assert len(dms_to(emulator, "U0DAVE")) == 2
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = [c.args for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)]
    assert "<@U0CAROL> (away until Sun 07 Jun)" in text_of(summary)
    assert "<@U0CAROL>" not in text_of(summary).split("No answer from")[1].split(".")[0]


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_away_for_one_launch_only_and_back_again(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    await make_launch(runtime, emulator, name="Mobile offline mode")
    answer = await away(slack, "away today 2026-06-10 mobile offline")
    assert "for *Mobile offline mode*" in answer["text"]
    # Saying it again (or Slack retrying the command) replaces the period rather than adding one.
    await away(slack, "away today 2026-06-11 mobile offline")
    (period,) = await rows(runtime, StandupAway, StandupAway.user_id == "U0CAROL")
    assert (period.scope, period.ends_on) == (f"launch:{period.launch_id}", date(2026, 6, 11))

    await slack.command("/launch", "standup checkout")
    await slack.command("/launch", "standup mobile")
    await run_jobs()
    assert len(dms_to(emulator, "U0CAROL")) == 1  # asked for Checkout v2 only
    assert "Checkout v2" in dms_to(emulator, "U0CAROL")[0]["text"]

    back = await away(slack, "back")
    assert "Welcome back" in back["text"]
    assert not await rows(runtime, StandupAway, StandupAway.user_id == "U0CAROL")
    assert "not marked away" in (await away(slack, "back"))["text"]


@pytest.mark.time_machine(SATURDAY, tick=True)
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("away", "Say from when to when"),
        ("away 2026-06-08", "Say from when to when"),
        ("away 06/08 06/12", "`06/08` is not a date"),
        ("away 2026-02-30 2026-03-02", "`2026-02-30` is not a date"),
        ("away 2026-06-12 2026-06-08", "is before"),
        ("away 2026-05-01 2026-05-08", "That period ended"),
        ("away 2026-06-08 2027-12-31", "at most 366 days"),
        ("away today tomorrow nowhere <!channel>", "No launch matches"),
        # Only for oneself: there is no way to name someone else.
        ("away <@U0BOB> 2026-06-08 2026-06-12", "is not a date"),
    ],
)
async def test_bad_away_input_answers_with_usage_and_stores_nothing(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, text: str, problem: str
) -> None:
    await make_launch(runtime, emulator)
    body = await away(slack, text)
    assert problem in body["text"]
    if "No launch" not in problem:
        assert "/launch away <from> <to> [launch]" in body["text"]
    assert not await rows(runtime, StandupAway, StandupAway.id > 0)


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_away_in_another_workspace_does_not_skip_this_one(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    async with unit_of_work(runtime.session_factory) as session:
        await away_service.set_away(
            session=session,
            team_id="T0OTHER",
            user_id="U0CAROL",
            starts_on=TODAY,
            ends_on=TODAY + timedelta(days=1),
            launch=None,
        )
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    assert len(dms_to(emulator, "U0CAROL")) == 1
