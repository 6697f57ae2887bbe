"""Telling requesters a theme shipped while Slack is down or refusing: outages are waited out for
the delivery window with capped backoff, refusals fail a notice at once, and the theme's area owner
hears once per theme who was not told and why; no record says "sent" for a notice that was not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from bot.feedback import themes as theme_service
from bot.feedback.ship_reports import UNDELIVERED_KIND
from models import JobStatus
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
from tests.test_feedback_helpers import react

SUPPORT = "C0SUPPORT"
AREA_OWNER = "U0ALICE"
KINDS = (theme_service.SHIP_NOTICE_KIND, UNDELIVERED_KIND)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_delivery_window_hours": WINDOW_HOURS}


@pytest.fixture
async def theme(slack: SlackSender, emulator: SlackEmulator, api: Any, run_jobs: Any) -> dict[str, Any]:
    """Bob asked for bulk export in #support and Carol logged it; the theme's area is Alice's."""
    emulator.add_channel(SUPPORT, "support", members=["U0BOB", "U0CAROL", BOT_USER_ID])
    message = emulator.add_message(SUPPORT, "U0BOB", "Acme needs bulk export")
    await react(slack, user="U0CAROL", channel=SUPPORT, ts=message["ts"])
    await emulator.wait_for("chat.postEphemeral")
    area = await api.post("/api/v1/areas", json={"name": "Exports", "owner": AREA_OWNER})
    assert area.status_code == 201, area.text
    created = await api.post("/api/v1/themes", json={"title": "Bulk export", "area": "exports"})
    theme_id = int(created.json()["id"])
    (item,) = (await api.get("/api/v1/feedback")).json()["items"]
    assert (await api.patch(f"/api/v1/feedback/{item['id']}", json={"theme_id": theme_id})).status_code == 200
    await run_jobs()  # the capture marker
    emulator.reset_calls()
    return {"id": theme_id, "ts": message["ts"], "permalink": item["permalink"]}


async def ship(api: Any, theme_id: int) -> dict[str, Any]:
    shipped = await api.post(f"/api/v1/themes/{theme_id}/ship")
    assert shipped.status_code == 200, shipped.text
    return dict(shipped.json())


async def notifications(api: Any, theme_id: int) -> dict[str, int]:
    return dict((await ship(api, theme_id))["notifications"])


def thread_replies(emulator: SlackEmulator, ts: str) -> list[dict[str, Any]]:
    return [m for m in emulator.messages.get(SUPPORT, []) if m.get("thread_ts") == ts and m["ts"] != ts]


def assert_text_is_blocks(message: dict[str, Any]) -> None:
    """The notification text says what the blocks say, line for line."""
    assert message["text"].split("\n") == rendered(message["blocks"]).split("\n")


async def test_a_four_hour_outage_is_waited_out_and_each_requester_told_once(
    emulator: SlackEmulator,
    runtime: Runtime,
    api: Any,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
    theme: dict[str, Any],
) -> None:
    start = utcnow()
    outage(emulator, until=start + timedelta(hours=4))
    # Once Slack is back, it turns out Carol has left.
    emulator.fail("chat.postMessage", error="user_not_found", when=lambda a: a.get("channel") == "U0CAROL")
    await ship(api, theme["id"])
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    assert start + timedelta(hours=4) <= utcnow() < start + timedelta(hours=WINDOW_HOURS)
    assert len(delivered(emulator, "U0BOB")) == 1 and len(thread_replies(emulator, theme["ts"])) == 1
    assert delivered(emulator, "U0CAROL") == []
    notices = {j.dedupe_key: j for j in await jobs_of(runtime, theme_service.SHIP_NOTICE_KIND)}
    bob = notices[theme_service.dm_key(theme["id"], "U0BOB")]
    # Retried well past the 8 attempts a notice is otherwise allowed, waiting ever longer, up to 15 min.
    assert bob.status == JobStatus.DONE and bob.attempts > bob.max_attempts
    assert_capped_backoff(retries_of(seen, theme_service.SHIP_NOTICE_KIND, bob.dedupe_key))
    carol = notices[theme_service.dm_key(theme["id"], "U0CAROL")]
    assert carol.status == JobStatus.FAILED and "user_not_found" in (carol.last_error or "")
    assert await notifications(api, theme["id"]) == {"pending": 0, "sent": 2, "skipped": 0, "failed": 1}

    # Alice hears once, when every notice has an answer, about Carol alone.
    (report,) = delivered(emulator, AREA_OWNER)
    assert report["text"].startswith(
        ":warning: *Bulk export* shipped, but 1 of its 3 ship notices did not arrive, so this "
        "requester has not heard:\n"
        "• <@U0CAROL> (a DM): Slack does not know them (they may have left the workspace) "
        "(`user_not_found`)\n"
    )
    assert_text_is_blocks(report)


async def test_an_outage_longer_than_the_window_fails_every_notice_and_the_owner_hears_once(
    emulator: SlackEmulator,
    runtime: Runtime,
    api: Any,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
    theme: dict[str, Any],
) -> None:
    start = utcnow()
    window = timedelta(hours=WINDOW_HOURS)
    outage(emulator, until=start + window + timedelta(hours=2))
    await ship(api, theme["id"])
    seen = await run_until_settled(runtime, run_jobs, time_machine, KINDS)

    notices = await jobs_of(runtime, theme_service.SHIP_NOTICE_KIND)
    assert {j.status for j in notices} == {JobStatus.FAILED}
    assert all("http_502" in (j.last_error or "") for j in notices)
    # Never a retry planned past the window; the last attempt is the one as it closes.
    planned = [a.run_at for a in seen if a.kind == theme_service.SHIP_NOTICE_KIND]
    assert max(planned) <= start + window + timedelta(minutes=1)
    assert_capped_backoff(retries_of(seen, theme_service.SHIP_NOTICE_KIND, notices[0].dedupe_key))
    assert delivered(emulator, "U0BOB") == delivered(emulator, "U0CAROL") == []
    assert thread_replies(emulator, theme["ts"]) == []
    assert await notifications(api, theme["id"]) == {"pending": 0, "sent": 0, "skipped": 0, "failed": 3}

    # The report waited out the rest of the outage too, and went out once Slack was back.
    (report,) = delivered(emulator, AREA_OWNER)
    assert utcnow() >= start + window + timedelta(hours=2)
    unreachable = "Slack could not be reached for 6 hours (`http_502`)"
    assert report["text"].split("\n") == [
        ":warning: *Bulk export* shipped, but 3 of its 3 ship notices did not arrive, so these "
        "requesters have not heard:",
        f"• The thread of <{theme['permalink']}|this feedback> in <#{SUPPORT}>: {unreachable}",
        f"• <@U0BOB> (a DM): {unreachable}",
        f"• <@U0CAROL> (a DM): {unreachable}",
        "Switchboard will not try again: please let them know another way.",
    ]
    assert_text_is_blocks(report)
    # Shipping again tells nobody twice and reports nothing twice.
    assert (await ship(api, theme["id"]))["enqueued"] == 0
    await run_jobs()
    assert len(delivered(emulator, AREA_OWNER)) == 1


async def test_refusals_fail_each_notice_at_once_and_the_owner_hears_why(
    emulator: SlackEmulator, runtime: Runtime, api: Any, run_jobs: Any, theme: dict[str, Any]
) -> None:
    emulator.fail("chat.postMessage", error="account_inactive", when=lambda a: a.get("channel") == "U0BOB")
    emulator.fail("chat.postMessage", error="user_not_found", when=lambda a: a.get("channel") == "U0CAROL")
    del emulator.channels[SUPPORT]
    await ship(api, theme["id"])
    await run_jobs()
    await run_jobs()

    # One call each: nothing was retried.
    assert len(posts_to(emulator, "U0BOB")) == len(posts_to(emulator, "U0CAROL")) == 1
    assert len(posts_to(emulator, SUPPORT)) == 1
    notices = await jobs_of(runtime, theme_service.SHIP_NOTICE_KIND)
    assert {(j.status, j.attempts) for j in notices} == {(JobStatus.FAILED, 1)}
    assert await notifications(api, theme["id"]) == {"pending": 0, "sent": 0, "skipped": 0, "failed": 3}

    (report,) = posts_to(emulator, AREA_OWNER)
    body = rendered(report["blocks"])
    assert "3 of its 3 ship notices did not arrive" in body
    assert "• <@U0BOB> (a DM): their Slack account is deactivated (`account_inactive`)" in body
    assert "• <@U0CAROL> (a DM): Slack does not know them" in body
    assert (
        f"• The thread of <{theme['permalink']}|this feedback> in <#{SUPPORT}>: the channel does not "
        "exist, or it is private and Switchboard is not in it (`channel_not_found`)"
    ) in body
    assert_text_is_blocks(report)
    await run_jobs()
    assert len(posts_to(emulator, AREA_OWNER)) == 1
