"""Owners re-confirm on schedule ("Still yours?"), are reminded once, and stale areas reach admins.

End to end: the scheduler sends DMs through the Slack emulator, answers come back as signed
block_actions / view_submissions, and the tests assert on what Slack received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime, build_runtime
from bot.core.settings import Settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import Call
from bot.ownership import areas as area_service
from bot.ownership import jobs as ownership_jobs
from bot.ownership.announcements import STALE_REPORT_KIND
from bot.ownership.confirmation import CONFIRM_KIND, REMIND_AFTER, REMIND_KIND, confirmation_period
from bot.ownership.jobs import plan_confirmations, report_week
from bot.ownership.schema import AreaIn
from bot.scheduler.retry import backoff
from bot.scheduler.runner import JobRunner
from models import Area, Job, JobStatus, OwnerStatus
from models.base import utcnow
from tests.helpers import after_announce_window

TEAM = "T0SWITCH"
LONG_AGO = timedelta(days=100)


async def add_area(
    runtime: Runtime, name: str, owner: str | None, *, confirmed_ago: timedelta | None
) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name=name, owner=owner)
        )
        area.last_confirmed_at = utcnow() - confirmed_ago if confirmed_ago is not None else None
        area.created_at = utcnow() - timedelta(days=365)
    return area


async def area_named(runtime: Runtime, slug: str) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        return await area_service.get_by_slug(session=session, team_id=TEAM, slug=slug)


async def jobs_of(runtime: Runtime, kind: str) -> list[Job]:
    async with unit_of_work(runtime.session_factory) as session:
        return list((await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id))).all())


def dms_to(emulator: SlackEmulator, user: str) -> list[Call]:
    return emulator.calls_to("chat.postMessage", channel=user)


def action_ids(call: Call) -> list[str]:
    return [
        element["action_id"]
        for block in call["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def dm_message(emulator: SlackEmulator, user: str) -> dict[str, Any]:
    """The last message the bot left in `user`'s DM, as Slack would put it in a block_actions payload."""
    return emulator.messages["D" + user[1:]][-1]


@pytest.fixture
async def runner(runtime: Runtime) -> JobRunner:
    return JobRunner(runtime)


@pytest.fixture
async def other_runtime(settings: Settings, runtime: Runtime) -> AsyncIterator[Runtime]:
    second = build_runtime(settings)
    yield second
    await second.close()


@pytest.fixture
async def billing(runtime: Runtime) -> Area:
    return await add_area(runtime, "Billing", "U0BOB", confirmed_ago=LONG_AGO)


async def ask(runner: JobRunner, emulator: SlackEmulator, user: str = "U0BOB") -> Call:
    await runner.tick()
    (dm,) = dms_to(emulator, user)
    return dm


# ---- when owners are due ----------------------------------------------------------------


def test_confirmation_periods_repeat_every_confirm_every_days() -> None:
    confirmed = datetime(2025, 1, 1, tzinfo=UTC)
    area = Area(confirm_every_days=90, last_confirmed_at=confirmed, created_at=confirmed)
    assert confirmation_period(area, confirmed + timedelta(days=89)) is None
    assert confirmation_period(area, confirmed + timedelta(days=90)) == confirmed + timedelta(days=90)
    assert confirmation_period(area, confirmed + timedelta(days=200)) == confirmed + timedelta(days=180)
    never = Area(confirm_every_days=90, last_confirmed_at=None, created_at=confirmed)
    assert confirmation_period(never, confirmed) == confirmed, "never confirmed: due at once"


async def test_planners_on_two_replicas_enqueue_one_question_per_owner_and_check(
    runtime: Runtime, other_runtime: Runtime, billing: Area
) -> None:
    await add_area(runtime, "Search", "U0ALICE", confirmed_ago=timedelta(days=3))
    never = await add_area(runtime, "Onboarding", "U0CAROL", confirmed_ago=None)
    invoices = await add_area(runtime, "Invoices", "U0BOB", confirmed_ago=LONG_AGO)
    await add_area(runtime, "Orphan", None, confirmed_ago=None)
    now = utcnow()
    await asyncio.gather(*(plan_confirmations(rt, now) for rt in [runtime, other_runtime] * 3))
    questions = await jobs_of(runtime, CONFIRM_KIND)
    assert sorted((j.payload["owner"], sorted(j.payload["area_ids"])) for j in questions) == [
        ("U0BOB", sorted([billing.id, invoices.id])),
        ("U0CAROL", [never.id]),
    ]
    bob = next(j for j in questions if j.payload["owner"] == "U0BOB")
    assert bob.dedupe_key == f"{TEAM}:U0BOB:{now:%Y%m%d}"

    # The next day's check asks the still-unconfirmed owner again, under a new key.
    await plan_confirmations(runtime, now + timedelta(days=1))
    keys = [j.dedupe_key for j in await jobs_of(runtime, CONFIRM_KIND) if j.payload["owner"] == "U0BOB"]
    assert len(keys) == 2 and len(set(keys)) == 2


async def test_owner_due_gets_still_yours_dm_once_and_one_reminder_is_queued(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, billing: Area
) -> None:
    await add_area(runtime, "Search", "U0ALICE", confirmed_ago=timedelta(days=3))
    before = utcnow()
    dm = await ask(runner, emulator)
    assert dm["text"] == "Still yours? Billing"
    assert "Still yours? *Billing*" in json.dumps(dm["blocks"])
    assert action_ids(dm) == ["ownership_confirm", "ownership_hand_over", "ownership_not_me"]
    assert dms_to(emulator, "U0ALICE") == []
    assert emulator.calls_to("users.info", user="U0BOB")

    area = await area_named(runtime, "billing")
    assert area.confirm_requested_at is not None and area.confirm_requested_at >= before
    (reminder,) = await jobs_of(runtime, REMIND_KIND)
    assert reminder.status == JobStatus.PENDING
    assert reminder.run_at - area.confirm_requested_at == REMIND_AFTER

    await runner.tick()
    await JobRunner(runtime).tick()
    assert len(dms_to(emulator, "U0BOB")) == 1, "asked once per period, however often planners run"


async def test_question_retried_after_a_crash_between_dm_and_commit_is_not_sent_twice(
    runtime: Runtime,
    runner: JobRunner,
    emulator: SlackEmulator,
    billing: Area,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_record = ownership_jobs.record_request

    async def crash_once(**kwargs: Any) -> bool:
        monkeypatch.setattr(ownership_jobs, "record_request", real_record)
        raise ConnectionError("database connection lost after Slack answered")

    monkeypatch.setattr(ownership_jobs, "record_request", crash_once)
    start = utcnow()
    await runner.tick(now=start)
    (question,) = await jobs_of(runtime, CONFIRM_KIND)
    assert (question.status, question.attempts) == (JobStatus.PENDING, 1)
    assert len(dms_to(emulator, "U0BOB")) == 1

    await runner.tick(now=start + backoff(1) + timedelta(seconds=1))
    (question,) = await jobs_of(runtime, CONFIRM_KIND)
    assert (question.status, question.attempts) == (JobStatus.DONE, 2)
    assert question.result is not None and question.result["recovered"] == "true"
    assert len(dms_to(emulator, "U0BOB")) == 1 and len(emulator.messages["D0BOB"]) == 1
    assert (await area_named(runtime, "billing")).confirm_requested_at is not None
    assert len(await jobs_of(runtime, REMIND_KIND)) == 1


async def test_deactivated_owner_is_flagged_without_a_dm(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0GONE", "gone", deleted=True)
    await add_area(runtime, "Legacy reports", "U0GONE", confirmed_ago=LONG_AGO)
    await runner.tick()
    assert (await area_named(runtime, "legacy-reports")).owner_status == OwnerStatus.DEACTIVATED
    assert emulator.calls_to("chat.postMessage", channel="U0GONE") == []
    assert await jobs_of(runtime, REMIND_KIND) == []


async def test_owner_unknown_to_slack_is_flagged_missing(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator
) -> None:
    await add_area(runtime, "Ghost town", "U0NOBODY", confirmed_ago=LONG_AGO)
    await runner.tick()
    assert (await area_named(runtime, "ghost-town")).owner_status == OwnerStatus.MISSING
    assert emulator.calls_to("chat.postMessage", channel="U0NOBODY") == []


async def test_unanswered_owner_is_reminded_once_then_flagged_unconfirmed(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, billing: Area
) -> None:
    start = utcnow()
    await ask(runner, emulator)
    await runner.tick(now=start + REMIND_AFTER - timedelta(minutes=1))
    assert len(dms_to(emulator, "U0BOB")) == 1, "no reminder before the delay"

    await runner.tick(now=start + REMIND_AFTER + timedelta(minutes=1))
    first, reminder = dms_to(emulator, "U0BOB")
    assert reminder["text"] == "Reminder: Still yours? Billing"
    assert action_ids(reminder) == action_ids(first)
    assert (await area_named(runtime, "billing")).owner_status == OwnerStatus.ACTIVE

    await runner.tick(now=start + 2 * REMIND_AFTER + timedelta(minutes=2))
    assert len(dms_to(emulator, "U0BOB")) == 2, "reminded once, not again"
    area = await area_named(runtime, "billing")
    assert area.owner_status == OwnerStatus.UNCONFIRMED
    assert area.last_confirmed_at == billing.last_confirmed_at


# ---- answers ------------------------------------------------------------------------------


async def test_yes_confirms_updates_the_dm_and_cancels_the_reminder(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, slack: SlackSender, billing: Area
) -> None:
    start = utcnow()
    await ask(runner, emulator)
    message = dm_message(emulator, "U0BOB")
    response = await slack.block_action(
        "ownership_confirm", str(billing.id), user="U0BOB", channel="D0BOB", message=message
    )
    assert response.status_code == 200
    (reply,) = await emulator.wait_for("response_url")
    assert reply["replace_original"] is True
    assert "You confirmed *Billing* is still yours" in reply["text"]
    area = await area_named(runtime, "billing")
    assert area.owner_status == OwnerStatus.ACTIVE and area.confirm_requested_at is None
    assert area.last_confirmed_at is not None and area.last_confirmed_at >= start

    await slack.block_action(
        "ownership_confirm", str(billing.id), user="U0BOB", channel="D0BOB", message=message
    )
    await emulator.wait_for("response_url", 2)
    assert (await area_named(runtime, "billing")).last_confirmed_at == area.last_confirmed_at, "nothing twice"

    await runner.tick(now=start + 3 * REMIND_AFTER)
    assert len(dms_to(emulator, "U0BOB")) == 1, "no reminder after an answer"
    (reminder,) = await jobs_of(runtime, REMIND_KIND)
    assert reminder.status == JobStatus.SKIPPED


async def test_only_the_owner_or_a_slack_admin_may_answer(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, slack: SlackSender, billing: Area
) -> None:
    await ask(runner, emulator)
    await slack.block_action("ownership_confirm", str(billing.id), user="U0CAROL", channel="D0CAROL")
    (refusal,) = await emulator.wait_for("response_url")
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert "Only its owner <@U0BOB> and a workspace admin can confirm, hand over" in refusal["text"]
    await slack.block_action("ownership_not_me", str(billing.id), user="U0CAROL", channel="D0CAROL")
    await emulator.wait_for("response_url", 2)
    area = await area_named(runtime, "billing")
    assert (area.owner_status, area.last_confirmed_at) == (OwnerStatus.ACTIVE, billing.last_confirmed_at)

    emulator.users["U0DAVE"]["is_admin"] = True
    await slack.block_action("ownership_confirm", str(billing.id), user="U0DAVE", channel="D0DAVE")
    replies = await emulator.wait_for("response_url", 3)
    assert "<@U0DAVE> confirmed <@U0BOB> still owns" in replies[-1]["text"]
    assert (await area_named(runtime, "billing")).confirm_requested_at is None


def hand_over_values(user: str | None) -> dict[str, Any]:
    return {"ownership_new_owner": {"new_owner": {"type": "users_select", "selected_user": user}}}


async def test_hand_over_moves_ownership_announces_it_and_dms_the_new_owner(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, slack: SlackSender, billing: Area
) -> None:
    await ask(runner, emulator)
    message = dm_message(emulator, "U0BOB")
    await slack.block_action(
        "ownership_hand_over", str(billing.id), user="U0BOB", channel="D0BOB", message=message
    )
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "ownership_hand_over_modal"
    assert any(b.get("element", {}).get("type") == "users_select" for b in view["blocks"])
    metadata = view["private_metadata"]

    refused = await slack.view_submission(
        "ownership_hand_over_modal", hand_over_values("U0BOB"), user="U0BOB", private_metadata=metadata
    )
    assert "already own" in refused.json()["errors"]["ownership_new_owner"]
    emulator.add_user("U0LEFT", "left", deleted=True)
    refused = await slack.view_submission(
        "ownership_hand_over_modal", hand_over_values("U0LEFT"), user="U0BOB", private_metadata=metadata
    )
    assert "deactivated" in refused.json()["errors"]["ownership_new_owner"]
    assert (await area_named(runtime, "billing")).owner == "U0BOB"

    for _ in range(2):  # a double submission changes nothing twice
        done = await slack.view_submission(
            "ownership_hand_over_modal", hand_over_values("U0CAROL"), user="U0BOB", private_metadata=metadata
        )
        assert done.status_code == 200 and not done.content
    area = await area_named(runtime, "billing")
    assert (area.owner, area.owner_status, area.confirm_requested_at) == ("U0CAROL", OwnerStatus.ACTIVE, None)
    (updated,) = await emulator.wait_for("response_url")
    assert updated["replace_original"] is True and "now owned by <@U0CAROL>" in updated["text"]

    await runner.tick(after_announce_window())
    (announcement,) = emulator.calls_to("chat.postMessage", channel="C0OWNERS")
    assert "*Billing* moved from <@U0BOB> to <@U0CAROL>" in announcement["text"]
    (welcome,) = dms_to(emulator, "U0CAROL")
    assert "You now own *Billing*" in welcome["text"] and "<@U0BOB>" in welcome["text"]

    stale = await slack.view_submission(
        "ownership_hand_over_modal", hand_over_values("U0DAVE"), user="U0BOB", private_metadata=metadata
    )
    assert (
        "Only its owner <@U0CAROL> and a workspace admin can" in stale.json()["errors"]["ownership_new_owner"]
    )
    assert (await area_named(runtime, "billing")).owner == "U0CAROL"


async def test_not_me_flags_the_area_and_asks_for_an_owner_once(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator, slack: SlackSender, billing: Area
) -> None:
    await ask(runner, emulator)
    message = dm_message(emulator, "U0BOB")
    for _ in range(2):
        await slack.block_action(
            "ownership_not_me", str(billing.id), user="U0BOB", channel="D0BOB", message=message
        )
    replies = await emulator.wait_for("response_url", 2)
    assert all(r["replace_original"] is True and "is not yours" in r["text"] for r in replies)
    area = await area_named(runtime, "billing")
    assert area.owner_status == OwnerStatus.DISOWNED and area.confirm_requested_at is None

    await runner.tick()
    asks = [
        c for c in emulator.calls_to("chat.postMessage", channel="C0OWNERS") if "needs an owner" in c["text"]
    ]
    assert len(asks) == 1
    assert "*Billing* needs an owner: <@U0BOB> says it isn't theirs" in asks[0]["text"]

    await runner.tick(now=utcnow() + REMIND_AFTER * 3)
    assert len(dms_to(emulator, "U0BOB")) == 1, "a disowned area's old owner is not reminded"


# ---- the weekly stale report --------------------------------------------------------------


async def test_weekly_stale_report_lists_stale_and_unowned_areas_once_per_week(
    runtime: Runtime, other_runtime: Runtime, emulator: SlackEmulator, settings: Settings
) -> None:
    emulator.add_user("U0LEFT", "left")
    await add_area(runtime, "Billing", "U0BOB", confirmed_ago=timedelta(days=1))
    await add_area(runtime, "Legacy reports", "U0LEFT", confirmed_ago=timedelta(days=1))
    await add_area(runtime, "Orphan", None, confirmed_ago=None)
    disowned = await add_area(runtime, "Search", "U0ALICE", confirmed_ago=timedelta(days=1))
    async with unit_of_work(runtime.session_factory) as session:
        area = await session.get(Area, disowned.id)
        assert area is not None
        area.owner_status = OwnerStatus.DISOWNED
    emulator.users["U0LEFT"]["deleted"] = True  # left the company since their last confirmation
    await add_area(runtime, "Docs", "U0CAROL", confirmed_ago=timedelta(days=1))
    async with unit_of_work(runtime.session_factory) as session:
        docs = await area_service.get_by_slug(session=session, team_id=TEAM, slug="docs")
        docs.owner_status = OwnerStatus.DEACTIVATED  # flagged before, since reactivated in Slack

    monday = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
    week = report_week(monday, settings.switchboard_timezone)
    assert (week.label, week.due) == ("2030-W02", datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    await asyncio.gather(JobRunner(runtime).tick(now=monday), JobRunner(other_runtime).tick(now=monday))
    await JobRunner(runtime).tick(now=monday + timedelta(days=2))

    reports = [
        c for c in emulator.calls_to("chat.postMessage", channel="C0OWNERS") if "Ownership check" in c["text"]
    ]
    assert len(reports) == 1
    text = json.dumps(reports[0]["blocks"])
    assert "week 2030-W02" in text
    assert "Owner deactivated" in text and "*Legacy reports*" in text
    assert "isn't theirs" in text and "*Search*" in text
    assert "No owner" in text and "*Orphan*" in text
    assert "*Billing*" not in text and "*Docs*" not in text
    assert (await area_named(runtime, "docs")).owner_status == OwnerStatus.ACTIVE
    assert (await area_named(runtime, "legacy-reports")).owner_status == OwnerStatus.DEACTIVATED
    (job,) = await jobs_of(runtime, STALE_REPORT_KIND)
    assert job.dedupe_key == f"{TEAM}:2030-W02" and job.status == JobStatus.DONE

    await JobRunner(runtime).tick(now=monday + timedelta(days=7))
    reports = [
        c for c in emulator.calls_to("chat.postMessage", channel="C0OWNERS") if "Ownership check" in c["text"]
    ]
    assert len(reports) == 2 and "2030-W03" in reports[1]["text"]


async def test_nothing_stale_posts_no_report(
    runtime: Runtime, runner: JobRunner, emulator: SlackEmulator
) -> None:
    await add_area(runtime, "Billing", "U0BOB", confirmed_ago=timedelta(days=1))
    await runner.tick(now=datetime(2030, 1, 7, 10, 0, tzinfo=UTC))
    assert emulator.calls_to("chat.postMessage", channel="C0OWNERS") == []
    (job,) = await jobs_of(runtime, STALE_REPORT_KIND)
    assert job.result == {"stale": 0, "flagged": 0, "restored": 0}
