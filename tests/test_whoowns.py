"""/whoowns and "@Switchboard who owns X?" answered end to end through signed requests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.ownership import areas as area_service
from bot.ownership import cache as directory_cache
from bot.ownership.schema import AreaIn, AreaPatch
from bot.ownership.views.whoowns import area_card, area_card_text
from bot.slack.blocks import as_dicts
from handlers.whoowns import CARD_MEMO, card_json, command_answer, render_answer
from tests.helpers import after_announce_window
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
    await run_jobs(after_announce_window())
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


# ---- the cached card: every change to an area shows in the next answer -------------------------


async def test_new_owner_shows_in_the_next_answer(
    slack: SlackSender, runtime: Runtime, directory: None
) -> None:
    assert "<@U0BOB>" in block_text((await slack.command("/whoowns", "billing")).json()["blocks"])
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.update_area(
            session=session, team_id=TEAM, slug="billing", patch=AreaPatch(owner="U0DAVE")
        )

    body = (await slack.command("/whoowns", "billing")).json()

    assert body["text"] == "Billing is owned by <@U0DAVE>"
    assert "<@U0DAVE>" in block_text(body["blocks"]) and "<@U0BOB>" not in block_text(body["blocks"])


async def test_renamed_area_answers_under_its_new_name(
    slack: SlackSender, runtime: Runtime, directory: None
) -> None:
    await slack.command("/whoowns", "search")
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.update_area(
            session=session, team_id=TEAM, slug="search", patch=AreaPatch(name="Discovery")
        )

    body = (await slack.command("/whoowns", "search")).json()

    assert body["text"] == "Discovery is owned by <@U0ALICE>"  # found by its slug, shown by its name
    assert "*Discovery*" in rendered_text(body["blocks"]) and "*Search*" not in rendered_text(body["blocks"])


async def test_deleted_area_is_no_longer_answered(
    slack: SlackSender, runtime: Runtime, directory: None
) -> None:
    await slack.command("/whoowns", "search")
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.delete_area(session=session, team_id=TEAM, slug="search")

    body = (await slack.command("/whoowns", "search")).json()

    assert body["text"] == "I couldn't find an owner for *search*. Know who owns it? Add it."
    assert "<@U0ALICE>" not in block_text(body["blocks"])


async def test_write_on_another_replica_shows_once_the_directory_version_is_checked(
    slack: SlackSender, runtime: Runtime, directory: None
) -> None:
    await slack.command("/whoowns", "billing")
    # Another process's write, as its service layer does it: the row and the directory version.
    async with runtime.engine.begin() as connection:
        await connection.execute(
            text("UPDATE areas SET owner = 'U0DAVE', updated_at = :stamp WHERE slug = 'billing'"),
            {"stamp": datetime(2000, 1, 1)},  # a stale clock: only the version reveals the change
        )
        await connection.execute(text("UPDATE directory_versions SET version = version + 1"))

    stale = await slack.command("/whoowns", "billing")
    for entry in runtime.area_cache._entries.values():
        entry.checked_at -= directory_cache.INDEX_RECHECK_SECONDS
    fresh = await slack.command("/whoowns", "billing")

    assert "<@U0BOB>" in block_text(stale.json()["blocks"])
    assert fresh.json()["text"] == "Billing is owned by <@U0DAVE>"


async def test_cached_answers_match_freshly_rendered_ones(runtime: Runtime, directory: None) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        cached = await runtime.area_cache.directory(session=session, team_id=TEAM)
    queries = ["billing", "invoices", "biling", "bulk", "bulk export", "search", "quantum", "<!here>"]

    for _ in range(2):  # first rendered, then from the memo
        for query in queries:
            expected_text, expected_blocks = render_answer(cached, query)
            answer_text, answer_blocks = command_answer(cached, query)
            assert (answer_text, list(answer_blocks)) == (expected_text, as_dicts(expected_blocks)), query


async def test_cards_for_the_whole_directory_are_prepared_ahead_of_lookups(
    runtime: Runtime, directory: None
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        cached = await runtime.area_cache.directory(session=session, team_id=TEAM)

    cached.prepare(CARD_MEMO, card_json)
    await cached._preparing[CARD_MEMO]

    assert set(cached.memos) == set(cached.rows)
    for area_id in cached.rows:
        area = cached.snapshot(area_id)
        assert cached.memos[area_id][CARD_MEMO] == (area_card_text(area), tuple(as_dicts(area_card(area))))
