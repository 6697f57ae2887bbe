"""One "Still yours?" DM per owner per check lists all their due areas: each answered on its own
or all at once with "Yes to all", and a reminder asks only about what is still open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.ownership import areas as area_service
from bot.ownership.confirmation import REMIND_AFTER
from bot.ownership.schema import AreaIn
from bot.scheduler.runner import JobRunner
from bot.slack.blocks import slack_date
from models import Area, OwnerStatus
from models.base import utcnow

TEAM = "T0SWITCH"
LONG_AGO = timedelta(days=100)


async def add_area(runtime: Runtime, name: str, owner: str, backups: list[str] | None = None) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name=name, owner=owner, backups=backups or [])
        )
        area.last_confirmed_at = utcnow() - LONG_AGO
        area.created_at = utcnow() - timedelta(days=365)
    return area


async def area_named(runtime: Runtime, slug: str) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        return await area_service.get_by_slug(session=session, team_id=TEAM, slug=slug)


@pytest.fixture
async def bobs_areas(runtime: Runtime) -> dict[str, Area]:
    areas = {}
    for name in ("Search", "Billing", "Invoices"):
        areas[name] = await add_area(runtime, name, "U0BOB", backups=["U0CAROL"] if name == "Billing" else [])
    await add_area(runtime, "Onboarding", "U0ALICE")
    return areas


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """What each block says: its text, or its buttons as `[label:action_id=value]`."""
    said = []
    for block in blocks:
        if block["type"] == "section":
            said.append(block["text"]["text"])
        elif block["type"] == "context":
            said.append(" ".join(e["text"] for e in block["elements"]))
        elif block["type"] == "actions":
            said.append(
                " ".join(f"[{e['text']['text']}:{e['action_id']}={e['value']}]" for e in block["elements"])
            )
    return said


def facts(area: Area) -> str:
    return f"`{area.slug}` · product area · last confirmed {slack_date(area.last_confirmed_at)}"


def answer_row(area: Area) -> str:
    return (
        f"[Yes:ownership_confirm={area.id}] [Hand over to…:ownership_hand_over={area.id}] "
        f"[Not me:ownership_not_me={area.id}]"
    )


async def test_owner_gets_one_dm_listing_every_due_area_with_per_area_buttons_and_yes_to_all(
    runtime: Runtime, emulator: SlackEmulator, bobs_areas: dict[str, Area]
) -> None:
    await JobRunner(runtime).tick()
    await JobRunner(runtime).tick()

    (dm,) = emulator.calls_to("chat.postMessage", channel="U0BOB")
    billing, invoices, search = (bobs_areas[n] for n in ("Billing", "Invoices", "Search"))
    assert dm["text"] == "Still yours? Billing, Invoices and Search"
    assert texts(dm["blocks"]) == [
        ":wave: Time for a quick ownership check.\nStill yours? These 3 areas are due for a check:",
        f"*Billing*\n{facts(billing)}",
        answer_row(billing),
        f"*Invoices*\n{facts(invoices)}",
        answer_row(invoices),
        f"*Search*\n{facts(search)}",
        answer_row(search),
        f"[Yes to all:ownership_confirm_all={billing.id},{invoices.id},{search.id}]",
    ]
    (alice,) = emulator.calls_to("chat.postMessage", channel="U0ALICE")
    assert alice["text"] == "Still yours? Onboarding", "an owner with one area gets the one-area question"
    for slug in ("billing", "invoices", "search"):
        assert (await area_named(runtime, slug)).confirm_requested_at is not None


async def test_one_answer_keeps_the_other_areas_buttons_and_yes_to_all_confirms_the_rest_once(
    runtime: Runtime, emulator: SlackEmulator, slack: SlackSender, bobs_areas: dict[str, Area]
) -> None:
    runner = JobRunner(runtime)
    await runner.tick()
    start = utcnow()
    message = emulator.messages["D0BOB"][-1]
    billing, invoices, search = (bobs_areas[n] for n in ("Billing", "Invoices", "Search"))

    await slack.block_action(
        "ownership_confirm", str(invoices.id), user="U0BOB", channel="D0BOB", message=message
    )
    (one,) = await emulator.wait_for("response_url")
    invoices = await area_named(runtime, "invoices")
    assert one["replace_original"] is True
    assert one["text"].startswith(":white_check_mark: You confirmed *Invoices* is still yours.")
    assert texts(one["blocks"]) == [
        ":wave: Time for a quick ownership check.\nStill yours? These 3 areas are due for a check:",
        f"*Billing*\n{facts(billing)}",
        answer_row(billing),
        f":white_check_mark: *Invoices* confirmed {slack_date(invoices.last_confirmed_at)}.",
        f"*Search*\n{facts(search)}",
        answer_row(search),
        f"[Yes to all:ownership_confirm_all={billing.id},{search.id}]",
    ]

    # "Yes to all" from the DM as first sent, still naming Invoices.
    await slack.block_action(
        "ownership_confirm_all",
        f"{billing.id},{invoices.id},{search.id}",
        user="U0BOB",
        channel="D0BOB",
        message=message,
    )
    everything = (await emulator.wait_for("response_url", 2))[-1]
    assert everything["text"] == (
        ":white_check_mark: You confirmed *Billing* and *Search*. Thanks! *Invoices* was already confirmed."
    )
    confirmed = {slug: await area_named(runtime, slug) for slug in ("billing", "invoices", "search")}
    assert all(
        a.owner_status == OwnerStatus.ACTIVE
        and a.confirm_requested_at is None
        and a.last_confirmed_at >= start
        for a in confirmed.values()
        if a.last_confirmed_at is not None
    )
    assert texts(everything["blocks"])[1:] == [
        f":white_check_mark: *{a.name}* confirmed {slack_date(a.last_confirmed_at)}."
        for a in confirmed.values()
    ]

    await slack.block_action(
        "ownership_confirm_all",
        f"{billing.id},{invoices.id},{search.id}",
        user="U0BOB",
        channel="D0BOB",
        message=message,
    )
    again = (await emulator.wait_for("response_url", 3))[-1]
    assert again["text"] == "*Billing*, *Invoices* and *Search* were already confirmed. Nothing more to do."
    for slug, area in confirmed.items():
        assert (await area_named(runtime, slug)).last_confirmed_at == area.last_confirmed_at, "nothing twice"

    await runner.tick(now=start + 3 * REMIND_AFTER)
    assert len(emulator.calls_to("chat.postMessage", channel="U0BOB")) == 1, "no reminder after the answers"


async def test_yes_to_all_confirms_only_the_areas_the_clicker_may_answer_for(
    runtime: Runtime, emulator: SlackEmulator, slack: SlackSender, bobs_areas: dict[str, Area]
) -> None:
    await JobRunner(runtime).tick()
    billing, invoices = bobs_areas["Billing"], bobs_areas["Invoices"]

    await slack.block_action(
        "ownership_confirm_all", f"{billing.id},{invoices.id}", user="U0CAROL", channel="D0CAROL"
    )

    (reply,) = await emulator.wait_for("response_url")
    assert reply["text"] == (
        ":white_check_mark: You confirmed *Billing*. Thanks! "
        "You can't answer for *Invoices*: only its owner, its backups and admins can."
    )
    assert (await area_named(runtime, "billing")).confirm_requested_at is None
    assert (await area_named(runtime, "invoices")).confirm_requested_at is not None


async def test_reminder_asks_only_about_the_areas_still_open_then_flags_them(
    runtime: Runtime, emulator: SlackEmulator, slack: SlackSender, bobs_areas: dict[str, Area]
) -> None:
    runner = JobRunner(runtime)
    start = utcnow()
    await runner.tick(now=start)
    message = emulator.messages["D0BOB"][-1]
    billing = bobs_areas["Billing"]
    await slack.block_action(
        "ownership_confirm", str(billing.id), user="U0BOB", channel="D0BOB", message=message
    )
    await emulator.wait_for("response_url")

    await runner.tick(now=start + REMIND_AFTER + timedelta(minutes=1))
    _first, reminder = emulator.calls_to("chat.postMessage", channel="U0BOB")
    assert reminder["text"] == "Reminder: Still yours? Invoices and Search"
    assert texts(reminder["blocks"])[0] == (
        ":wave: Reminder: I haven't heard back yet.\nStill yours? These 2 areas are due for a check:"
    )

    await runner.tick(now=start + 2 * REMIND_AFTER + timedelta(minutes=2))
    statuses = {
        slug: (await area_named(runtime, slug)).owner_status for slug in ("billing", "invoices", "search")
    }
    assert statuses == {
        "billing": OwnerStatus.ACTIVE,
        "invoices": OwnerStatus.UNCONFIRMED,
        "search": OwnerStatus.UNCONFIRMED,
    }
    assert len(emulator.calls_to("chat.postMessage", channel="U0BOB")) == 2


async def test_handing_over_one_area_of_the_dm_keeps_the_others_open(
    runtime: Runtime, emulator: SlackEmulator, slack: SlackSender, bobs_areas: dict[str, Area]
) -> None:
    await JobRunner(runtime).tick()
    message = emulator.messages["D0BOB"][-1]
    billing, invoices, search = (bobs_areas[n] for n in ("Billing", "Invoices", "Search"))
    await slack.block_action(
        "ownership_hand_over", str(search.id), user="U0BOB", channel="D0BOB", message=message
    )
    (opened,) = await emulator.wait_for("views.open")

    values = {"ownership_new_owner": {"new_owner": {"type": "users_select", "selected_user": "U0DAVE"}}}
    await slack.view_submission(
        "ownership_hand_over_modal", values, user="U0BOB", private_metadata=opened["view"]["private_metadata"]
    )

    (updated,) = await emulator.wait_for("response_url")
    assert updated["replace_original"] is True
    assert updated["text"] == ":handshake: *Search* is now owned by <@U0DAVE>. Thanks!"
    assert texts(updated["blocks"])[1:] == [
        f"*Billing*\n{facts(billing)}",
        answer_row(billing),
        f"*Invoices*\n{facts(invoices)}",
        answer_row(invoices),
        ":handshake: *Search* is now owned by <@U0DAVE>.",
        f"[Yes to all:ownership_confirm_all={billing.id},{invoices.id}]",
    ]
