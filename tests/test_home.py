"""The App Home tab: composed from registered sections, published on `app_home_opened`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.home.views import HOME_BLOCK_LIMIT, home_view
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.slack.blocks import context, section
from handlers.home import HOME_SECTIONS, home_section
from models import OwnerStatus
from models.base import utcnow

TEAM = "T0SWITCH"


async def add_area(
    runtime: Runtime, name: str, owner: str, *, confirmed_ago: timedelta, **fields: Any
) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name=name, owner=owner)
        )
        area.last_confirmed_at = utcnow() - confirmed_ago
        for key, value in fields.items():
            setattr(area, key, value)
        return area.id


def home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0" + user[2:],
        "tab": tab,
        "event_ts": "1.2",
    }


def section_texts(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


@pytest.fixture
def extra_sections() -> Iterator[None]:
    """Two test-only sections around the built-in ones; removed after the test."""

    async def first(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
        return [section(f"*First* for <@{user_id}> in {team_id}")]

    async def broken(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
        raise RuntimeError("the launches table is on fire")

    async def last(session: AsyncSession, team_id: str, user_id: str) -> list[Block]:
        return [section("*Last*"), context("bottom")]

    before = list(HOME_SECTIONS)
    home_section("test.first", title="First", order=-1)(first)
    home_section("test.broken", title="Broken thing", order=35)(broken)
    home_section("test.last", title="Last", order=10_000)(last)
    yield
    HOME_SECTIONS[:] = before


async def test_home_opened_publishes_areas_i_own_with_stale_flags_and_confirm_buttons(
    runtime: Runtime, slack: SlackSender, emulator: SlackEmulator
) -> None:
    due = await add_area(runtime, "Billing", "U0BOB", confirmed_ago=timedelta(days=100))
    await add_area(runtime, "Payroll", "U0BOB", confirmed_ago=timedelta(days=2))
    await add_area(
        runtime, "Invoices", "U0BOB", confirmed_ago=timedelta(days=2), owner_status=OwnerStatus.UNCONFIRMED
    )
    await add_area(runtime, "Search", "U0ALICE", confirmed_ago=timedelta(days=100))

    assert (await slack.event(home_opened("U0BOB"))).status_code == 200
    (published,) = await emulator.wait_for("views.publish")
    assert published["user_id"] == "U0BOB"
    view = published["view"]
    assert view["type"] == "home"
    texts = section_texts(view)
    assert "*Areas I own*" in texts
    rows = {
        b["text"]["text"].split("*")[1]: b
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"] != "*Areas I own*"
    }
    assert set(rows) >= {"Billing", "Payroll", "Invoices"} and "Search" not in rows
    assert "confirmation due" in rows["Billing"]["text"]["text"]
    assert rows["Billing"]["accessory"] == {
        "type": "button",
        "action_id": "ownership_confirm",
        "value": str(due),
        "text": {"type": "plain_text", "text": "Confirm", "emoji": True},
    }
    assert "owner did not confirm" in rows["Invoices"]["text"]["text"] and "accessory" in rows["Invoices"]
    assert "accessory" not in rows["Payroll"] and ":warning:" not in rows["Payroll"]["text"]["text"]


async def test_confirm_from_home_confirms_and_republishes_the_tab(
    runtime: Runtime, slack: SlackSender, emulator: SlackEmulator
) -> None:
    area_id = await add_area(runtime, "Billing", "U0BOB", confirmed_ago=timedelta(days=100))
    home = {"id": "VHU0BOB", "type": "home", "blocks": []}
    await slack.block_action("ownership_confirm", str(area_id), user="U0BOB", view=home)
    (published,) = await emulator.wait_for("views.publish")
    billing = next(t for t in section_texts(published["view"]) if t.startswith("*Billing*"))
    assert "confirmation due" not in billing
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.get_by_slug(session=session, team_id=TEAM, slug="billing")
    assert area.last_confirmed_at is not None and utcnow() - area.last_confirmed_at < timedelta(minutes=1)


async def test_someone_else_confirming_from_home_is_told_why_not(
    runtime: Runtime, slack: SlackSender, emulator: SlackEmulator
) -> None:
    area_id = await add_area(runtime, "Billing", "U0BOB", confirmed_ago=timedelta(days=100))
    await slack.block_action(
        "ownership_confirm", str(area_id), user="U0CAROL", view={"id": "VH", "type": "home"}
    )
    (told,) = await emulator.wait_for("chat.postMessage")
    assert told["channel"] == "U0CAROL" and "Only its owner <@U0BOB>" in told["text"]
    assert emulator.calls_to("views.publish") == []


async def test_sections_appear_in_order_and_a_failing_one_does_not_break_the_tab(
    runtime: Runtime, slack: SlackSender, emulator: SlackEmulator, extra_sections: None
) -> None:
    await slack.event(home_opened("U0ALICE"))
    (published,) = await emulator.wait_for("views.publish")
    text = json.dumps(published["view"]["blocks"])
    order = [
        text.index(marker)
        for marker in (
            "*First* for <@U0ALICE> in T0SWITCH",
            "*Areas I own*",
            "Broken thing could not be loaded",
            "*Last*",
        )
    ]
    assert order == sorted(order)
    assert "You don't own any area" in text


async def test_messages_tab_publishes_nothing(slack: SlackSender, emulator: SlackEmulator) -> None:
    assert (await slack.event(home_opened("U0BOB", tab="messages"))).status_code == 200
    await slack.event(home_opened("U0BOB"))
    await emulator.wait_for("views.publish")
    assert len(emulator.calls_to("views.publish")) == 1


def test_home_view_keeps_whole_sections_within_slacks_block_limit() -> None:
    big = [section(f"row {n}") for n in range(60)]
    view = home_view([[section("*small*")], big, big, [section("*tail*")]]).to_dict()
    blocks = view["blocks"]
    assert len(blocks) <= HOME_BLOCK_LIMIT
    text = json.dumps(blocks)
    assert "*small*" in text and "*tail*" in text
    assert "1 more section did not fit" in text and "(s)" not in text
