"""Ownership DMs ("Still yours?", "You now own…") while Slack is down or refusing: outages are waited
out for the delivery window, refusals fail at once, and the ownership channel hears which owner could
not be reached; an owner is never recorded as asked when the question did not arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.ownership.announcements import ANNOUNCE_KIND
from bot.ownership.confirmation import CONFIRM_KIND, NEW_OWNER_KIND, REMIND_KIND, hand_over
from bot.ownership.unreachable import UNREACHABLE_KIND
from models import Area, JobStatus, OwnerStatus
from models.base import utcnow
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
from tests.test_ownership_confirm import LONG_AGO, TEAM, add_area, area_named

OWNERSHIP_CHANNEL = "C0OWNERS"
KINDS = (CONFIRM_KIND, NEW_OWNER_KIND, UNREACHABLE_KIND, ANNOUNCE_KIND)


# The daily ownership check asks once a day: these outages (up to 8 hours) start in the morning so
# that no second day's check joins the one they follow.
pytestmark = pytest.mark.time_machine(datetime(2026, 6, 10, 8, 0, tzinfo=UTC), tick=True)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_delivery_window_hours": WINDOW_HOURS}


@pytest.fixture
async def areas(runtime: Runtime) -> dict[str, Area]:
    """Billing (Bob's) is due to be confirmed; Invoices (Carol's) was confirmed last week."""
    return {
        "billing": await add_area(runtime, "Billing", "U0BOB", confirmed_ago=LONG_AGO),
        "invoices": await add_area(runtime, "Invoices", "U0CAROL", confirmed_ago=timedelta(days=7)),
    }


async def hand_invoices_to_dave(runtime: Runtime, areas: dict[str, Area]) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await hand_over(
            session=session,
            settings=runtime.settings,
            team_id=TEAM,
            area_id=areas["invoices"].id,
            expected_owner="U0CAROL",
            new_owner="U0DAVE",
            by="U0CAROL",
            now=utcnow(),
        )


def reports(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [m for m in delivered(emulator, OWNERSHIP_CHANNEL) if "Switchboard could not" in m["text"]]


def assert_text_is_blocks(message: dict[str, Any]) -> None:
    assert message["text"].split("\n") == rendered(message["blocks"]).split("\n")


async def test_a_four_hour_outage_is_waited_out_and_each_owner_gets_one_dm(
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
    areas: dict[str, Area],
) -> None:
    start = utcnow()
    outage(emulator, until=start + timedelta(hours=4))
    await hand_invoices_to_dave(runtime, areas)
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    assert start + timedelta(hours=4) <= utcnow() < start + timedelta(hours=WINDOW_HOURS)
    (question,) = delivered(emulator, "U0BOB")
    assert "Billing" in rendered(question["blocks"])
    (welcome,) = delivered(emulator, "U0DAVE")
    assert "You now own *Invoices*" in welcome["text"]
    (confirm,) = await jobs_of(runtime, CONFIRM_KIND)
    assert confirm.status == JobStatus.DONE and confirm.attempts > confirm.max_attempts
    assert_capped_backoff(retries_of(seen, CONFIRM_KIND))
    assert (await area_named(runtime, "billing")).confirm_requested_at is not None
    assert len(await jobs_of(runtime, REMIND_KIND)) == 1
    # The hand-over announcement waited out the outage as well; nobody is reported unreachable.
    (announcement,) = delivered(emulator, OWNERSHIP_CHANNEL)
    assert "*Invoices* moved from <@U0CAROL> to <@U0DAVE>" in announcement["text"]
    assert await jobs_of(runtime, UNREACHABLE_KIND) == []


async def test_an_outage_longer_than_the_window_fails_the_question_and_the_channel_hears_once(
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
    areas: dict[str, Area],
) -> None:
    start = utcnow()
    window = timedelta(hours=WINDOW_HOURS)
    outage(emulator, until=start + window + timedelta(hours=2), when=lambda a: a.get("channel") == "U0BOB")
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    (confirm,) = await jobs_of(runtime, CONFIRM_KIND)
    assert confirm.status == JobStatus.FAILED and "http_502" in (confirm.last_error or "")
    assert max(a.run_at for a in retries_of(seen, CONFIRM_KIND)) <= start + window + timedelta(minutes=1)
    assert delivered(emulator, "U0BOB") == []
    # Not asked: no reminder, and the next check asks again; the owner is not flagged as gone.
    billing = await area_named(runtime, "billing")
    assert billing.confirm_requested_at is None and billing.owner_status == OwnerStatus.ACTIVE
    assert await jobs_of(runtime, REMIND_KIND) == []

    (report,) = reports(emulator)
    assert report["text"].split("\n") == [
        ":warning: Switchboard could not ask <@U0BOB> whether *Billing* is still theirs: Slack could "
        "not be reached for 6 hours (`http_502`).",
        "It will not be tried again: please check with them another way, or hand it over from "
        "`/whoowns billing`.",
    ]
    assert_text_is_blocks(report)
    await run_jobs()
    assert len(reports(emulator)) == 1


async def test_refusals_fail_at_once_flag_the_owner_and_the_channel_hears_why(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, areas: dict[str, Area]
) -> None:
    emulator.fail("chat.postMessage", error="account_inactive", when=lambda a: a.get("channel") == "U0BOB")
    emulator.fail("chat.postMessage", error="user_not_found", when=lambda a: a.get("channel") == "U0DAVE")
    await hand_invoices_to_dave(runtime, areas)
    await run_jobs()
    await run_jobs()

    # One DM attempt each: nothing was retried.
    assert len(posts_to(emulator, "U0BOB")) == len(posts_to(emulator, "U0DAVE")) == 1
    for kind in (CONFIRM_KIND, NEW_OWNER_KIND):
        (job,) = await jobs_of(runtime, kind)
        assert (job.status, job.attempts) == (JobStatus.FAILED, 1), kind
        assert "refused" in (job.last_error or "")
    billing = await area_named(runtime, "billing")
    assert (billing.owner_status, billing.confirm_requested_at) == (OwnerStatus.DEACTIVATED, None)
    assert (await area_named(runtime, "invoices")).owner_status == OwnerStatus.MISSING

    by_owner = {("U0BOB" if "<@U0BOB>" in r["text"] else "U0DAVE"): r for r in reports(emulator)}
    assert set(by_owner) == {"U0BOB", "U0DAVE"}
    assert by_owner["U0BOB"]["text"].split("\n") == [
        ":warning: Switchboard could not ask <@U0BOB> whether *Billing* is still theirs: their Slack "
        "account is deactivated (`account_inactive`).",
        "The area is now marked as having a deactivated owner and listed in the weekly ownership "
        "report; someone who owns it can claim it from `/whoowns billing`.",
    ]
    assert by_owner["U0DAVE"]["text"].startswith(
        ":warning: Switchboard could not tell <@U0DAVE> that they now own *Invoices* (handed over by "
        "<@U0CAROL>): Slack does not know them (they may have left the workspace) (`user_not_found`)."
    )
    for report in by_owner.values():
        assert_text_is_blocks(report)
    # The next check does not ask a deactivated owner again, so nobody hears of it twice.
    await run_jobs(now=utcnow() + timedelta(days=1))
    assert len(posts_to(emulator, "U0BOB")) == 1 and len(reports(emulator)) == 2
