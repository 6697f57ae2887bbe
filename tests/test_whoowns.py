"""/whoowns and "@Switchboard who owns X?" answered end to end through signed requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from bot.runtime import Runtime
from bot.services import areas as area_service
from bot.services.area_schema import AreaIn
from bot.slack_driver import SlackSender
from bot.uow import unit_of_work
from tests.helpers import rendered as rendered_text

TEAM = "T0SWITCH"


async def add_areas(runtime: Runtime, *areas: dict[str, Any]) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for data in areas:
            await area_service.create_area(session=session, team_id=TEAM, data=AreaIn(**data))


@pytest.fixture
async def directory(runtime: Runtime) -> None:
    await add_areas(
        runtime,
        {
            "name": "Billing",
            "owner": "U0BOB",
            "team": "Payments",
            "backups": ["U0CAROL"],
            "channel": "C0GENERAL",
            "aliases": ["invoices", "payments"],
            "links": [{"title": "Runbook", "url": "https://wiki.example.com/billing"}],
        },
        {"name": "Bulk export", "owner": "U0CAROL", "description": "CSV and XLSX exports of reports"},
        {"name": "Bulk import", "owner": "U0DAVE"},
        {"name": "Search", "owner": "U0ALICE", "kind": "feature"},
    )


def block_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


async def test_confident_match_answers_owner_team_backup_channel_and_links(
    slack: SlackSender, directory: None
) -> None:
    response = await slack.command("/whoowns", "billing")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    text = block_text(body["blocks"])
    assert "<@U0BOB>" in text and "Payments" in text and "<@U0CAROL>" in text
    assert "<#C0GENERAL>" in text and "https://wiki.example.com/billing" in text
    assert "whoowns_share" in text and "last confirmed" in text


async def test_alias_and_typo_find_the_area(slack: SlackSender, directory: None) -> None:
    for query in ("invoices", "biling", "the billing team"):
        body = (await slack.command("/whoowns", query)).json()
        assert "<@U0BOB>" in block_text(body["blocks"]), query


async def test_ambiguous_query_offers_top_three_choices(slack: SlackSender, directory: None) -> None:
    body = (await slack.command("/whoowns", "bulk")).json()
    text = block_text(body["blocks"])
    assert "Several areas match" in text
    assert "whoowns_pick:bulk-export" in text and "whoowns_pick:bulk-import" in text


async def test_no_match_offers_closest_names_and_add_it(slack: SlackSender, directory: None) -> None:
    body = (await slack.command("/whoowns", "quantum teleporter")).json()
    text = block_text(body["blocks"])
    assert "couldn't find an owner" in text and "whoowns_add" in text


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
async def test_help_and_empty_query_answer_usage(slack: SlackSender, text: str) -> None:
    body = (await slack.command("/whoowns", text)).json()
    assert body["response_type"] == "ephemeral"
    assert "/whoowns <what>" in block_text(body["blocks"])


async def test_query_text_cannot_ping_channel(slack: SlackSender, directory: None) -> None:
    body = (await slack.command("/whoowns", "<!channel> @here nothing")).json()
    text = rendered_text(body["blocks"])
    assert "nothing" in text
    assert "<!channel>" not in text and "@here" not in text


async def test_picking_a_choice_replaces_the_message_with_the_card(
    slack: SlackSender, emulator: SlackEmulator, directory: None
) -> None:
    response = await slack.block_action("whoowns_pick:bulk-export", "bulk-export")
    assert response.status_code == 200
    (reply,) = await emulator.wait_for("response_url")
    assert reply["replace_original"] is True
    assert "<@U0CAROL>" in block_text(reply["blocks"])


async def test_share_posts_the_card_in_channel(
    slack: SlackSender, emulator: SlackEmulator, directory: None
) -> None:
    await slack.block_action("whoowns_share", "billing")
    replies = await emulator.wait_for("response_url", 2)
    shared = next(r for r in replies if r.get("response_type") == "in_channel")
    assert "<@U0BOB>" in block_text(shared["blocks"]) and "Shared by <@U0ALICE>" in block_text(
        shared["blocks"]
    )
    assert "whoowns_share" not in block_text(shared["blocks"])


async def test_add_it_opens_modal_prefilled_and_submission_creates_area(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await slack.block_action("whoowns_add", "Data warehouse")
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "area_create"
    assert "Data warehouse" in json.dumps(view["blocks"])

    values = {
        "area_name": {"name": {"type": "plain_text_input", "value": "Data warehouse"}},
        "area_owner": {"owner": {"type": "users_select", "selected_user": "U0DAVE"}},
        "area_team": {"team": {"type": "plain_text_input", "value": "Data"}},
        "area_backups": {"backups": {"type": "multi_users_select", "selected_users": ["U0BOB"]}},
        "area_channel": {"channel": {"type": "channels_select", "selected_channel": None}},
        "area_aliases": {"aliases": {"type": "plain_text_input", "value": "dwh, warehouse"}},
        "area_description": {"description": {"type": "plain_text_input", "value": None}},
    }
    response = await slack.view_submission("area_create", values, private_metadata=view["private_metadata"])
    assert response.status_code == 200
    await emulator.wait_for("chat.postEphemeral")
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.get_by_slug(session=session, team_id=TEAM, slug="data-warehouse")
        assert (area.owner, area.team, area.backups, area.aliases) == (
            "U0DAVE",
            "Data",
            ["U0BOB"],
            ["dwh", "warehouse"],
        )
    await run_jobs()
    (announcement,) = emulator.calls_to("chat.postMessage", channel="C0OWNERS")
    assert "Data warehouse" in announcement["text"] and "<@U0DAVE>" in announcement["text"]

    again = await slack.view_submission("area_create", values, private_metadata=view["private_metadata"])
    assert again.json()["response_action"] == "errors"
    assert "already exists" in again.json()["errors"]["area_name"]


async def test_mention_who_owns_answers_in_thread(
    slack: SlackSender, emulator: SlackEmulator, directory: None
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@U0SWITCHBOT> who owns billing?",
        "ts": "1700000100.000200",
        "channel": "C0GENERAL",
        "event_ts": "1700000100.000200",
    }
    assert (await slack.event(event)).status_code == 200
    (reply,) = await emulator.wait_for("chat.postMessage")
    assert reply["channel"] == "C0GENERAL" and reply["thread_ts"] == "1700000100.000200"
    assert "<@U0BOB>" in json.dumps(reply["blocks"])
