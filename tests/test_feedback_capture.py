"""Capturing feedback end to end: the message shortcut, /feedback, the reaction, and duplicates."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback import capture as feedback_service
from bot.feedback.schema import FeedbackIn
from bot.feedback.views.common import FeedbackId
from models import Feedback, FeedbackDraft
from tests.helpers import rendered
from tests.test_feedback_helpers import (
    TEAM,
    add_areas,
    block_ids,
    count_rows,
    feedback_rows,
    metadata_of,
    modal_values,
    open_shortcut_modal,
    react,
    reporters,
    submit_modal,
)


@pytest.fixture
async def directory(runtime: Runtime) -> None:
    await add_areas(runtime)


async def test_message_shortcut_opens_modal_prefilled_with_text_author_channel_and_permalink(
    slack: SlackSender, emulator: SlackEmulator, directory: None
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Acme wants invoices as PDF")
    view = await open_shortcut_modal(slack, emulator, message, user="U0ALICE", channel="C0GENERAL")

    assert emulator.calls_to("chat.getPermalink", channel="C0GENERAL", message_ts=message["ts"])
    assert view["callback_id"] == FeedbackId.MODAL
    text_block = next(b for b in view["blocks"] if b.get("block_id") == FeedbackId.TEXT_BLOCK)
    assert text_block["element"]["initial_value"] == "Acme wants invoices as PDF"
    shown = rendered(view["blocks"])
    assert "<@U0BOB>" in shown and "<#C0GENERAL>" in shown and "archives/C0GENERAL" in shown
    for block in (
        FeedbackId.KIND_BLOCK,
        FeedbackId.IMPORTANCE_BLOCK,
        FeedbackId.CUSTOMER_BLOCK,
        FeedbackId.SEGMENT_BLOCK,
        FeedbackId.AREA_BLOCK,
        FeedbackId.TAGS_BLOCK,
        FeedbackId.THEME_BLOCK,
    ):
        assert block in block_ids(view)
    # #general is Billing's home channel, so the area is preselected.
    area_block = next(b for b in view["blocks"] if b.get("block_id") == FeedbackId.AREA_BLOCK)
    assert area_block["element"]["initial_option"]["value"] == "billing"
    assert metadata_of(view)["author"] == "U0BOB"


async def test_submitting_the_modal_logs_one_item_marks_the_message_and_confirms(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: object, directory: None
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Acme wants invoices as PDF")
    view = await open_shortcut_modal(slack, emulator, message, user="U0ALICE", channel="C0GENERAL")

    response = await submit_modal(
        slack,
        view,
        modal_values(
            text="Acme wants invoices as PDF",
            kind="request",
            importance="high",
            customer="Acme",
            segment="Enterprise",
            area="billing",
            tags="pdf, invoices",
        ),
        user="U0ALICE",
        view_id="V1",
    )
    assert response.content in (b"", b"{}") or response.json() == {}
    confirmation = await emulator.wait_for("chat.postEphemeral", where=lambda c: c["user"] == "U0ALICE")
    assert confirmation[0]["channel"] == "C0GENERAL"
    assert "Logged as feedback" in rendered(confirmation[0]["blocks"])

    [item] = await feedback_rows(runtime)
    assert (item.text, item.kind, item.importance, item.customer, item.segment) == (
        "Acme wants invoices as PDF",
        "request",
        "high",
        "Acme",
        "Enterprise",
    )
    assert item.tags == ["pdf", "invoices"] and item.source == "shortcut"
    assert (item.channel, item.message_ts, item.author, item.reporter) == (
        "C0GENERAL",
        message["ts"],
        "U0BOB",
        "U0ALICE",
    )
    assert item.permalink and "archives/C0GENERAL" in item.permalink

    await run_jobs()  # type: ignore[operator]
    assert emulator.reactions[("C0GENERAL", message["ts"])] == ["memo"]


async def test_feedback_command_opens_the_modal_from_a_dm_and_help_answers_usage(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    help_reply = await slack.command("/feedback", "help", channel="D0ALICE")
    assert help_reply.json()["response_type"] == "ephemeral"
    assert "/feedback [text]" in help_reply.json()["text"]
    assert not emulator.calls_to("views.open")

    await slack.command("/feedback", "Globex: dark mode please", channel="D0ALICE")
    [opened] = await emulator.wait_for("views.open")
    text_block = next(b for b in opened["view"]["blocks"] if b.get("block_id") == FeedbackId.TEXT_BLOCK)
    assert text_block["element"]["initial_value"] == "Globex: dark mode please"

    await submit_modal(
        slack,
        opened["view"],
        modal_values(text="Globex: dark mode please", customer="Globex"),
        user="U0ALICE",
        view_id="V2",
    )
    # From a DM the bot is not in, the confirmation comes as a DM.
    await emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "U0ALICE")
    [item] = await feedback_rows(runtime)
    assert (item.source, item.channel, item.message_ts, item.reporter) == ("command", None, None, "U0ALICE")


async def test_reaction_logs_the_message_without_a_modal_and_offers_add_details(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: object
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Search misses exact SKU matches")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"])

    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    assert confirmation["user"] == "U0ALICE" and confirmation["channel"] == "C0GENERAL"
    assert "Logged as feedback" in rendered(confirmation["blocks"])
    assert FeedbackId.ADD_DETAILS in json.dumps(confirmation["blocks"])
    assert not emulator.calls_to("views.open")

    [item] = await feedback_rows(runtime)
    assert (item.text, item.source, item.author, item.reporter) == (
        "Search misses exact SKU matches",
        "reaction",
        "U0BOB",
        "U0ALICE",
    )
    await run_jobs()  # type: ignore[operator]
    assert emulator.reactions[("C0GENERAL", message["ts"])] == ["memo"]

    # "Add details" opens the modal for the stored item; saving updates it.
    await slack.block_action(FeedbackId.ADD_DETAILS, str(item.id), user="U0ALICE")
    [opened] = await emulator.wait_for("views.open")
    assert metadata_of(opened["view"])["feedback_id"] == item.id
    await submit_modal(
        slack,
        opened["view"],
        modal_values(text=item.text, kind="bug", importance="low", customer="Initech"),
        user="U0ALICE",
        view_id="V3",
    )
    await emulator.wait_for("chat.postEphemeral", 2)
    [updated] = await feedback_rows(runtime)
    assert (updated.kind, updated.importance, updated.customer) == ("bug", "low", "Initech")


async def test_other_reactions_and_non_messages_are_ignored(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Nice release!")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"], reaction="tada")
    response = await slack.event(
        {
            "type": "reaction_added",
            "user": "U0ALICE",
            "reaction": "memo",
            "item": {"type": "file", "file": "F123"},
            "event_ts": "1700009999.000200",
        }
    )
    assert response.status_code == 200
    await asyncio.sleep(0.2)
    assert await feedback_rows(runtime) == []


async def test_logging_same_message_twice_adds_reporter_not_row(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: object
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Exports time out for big accounts")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"])
    await emulator.wait_for("chat.postEphemeral")

    # Bob logs the same message through the shortcut: the modal says it is logged already.
    view = await open_shortcut_modal(slack, emulator, message, user="U0CAROL", channel="C0GENERAL")
    assert "Already logged by <@U0ALICE>" in rendered(view["blocks"])
    await submit_modal(
        slack, view, modal_values(text=message["text"], customer="Acme"), user="U0CAROL", view_id="V4"
    )
    [_, second] = await emulator.wait_for("chat.postEphemeral", 2)
    assert "Already logged by <@U0ALICE>" in rendered(second["blocks"])

    [item] = await feedback_rows(runtime)
    assert item.customer == "Acme"
    assert await reporters(runtime, item.id) == ["U0ALICE", "U0CAROL"]
    await run_jobs()  # type: ignore[operator]
    assert emulator.reactions[("C0GENERAL", message["ts"])] == ["memo"]
    assert len(emulator.calls_to("reactions.add")) == 1


async def test_slack_retry_reacting_again_and_double_submit_change_nothing(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Please add SSO for contractors")
    event = {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "memo",
        "item_user": "U0BOB",
        "item": {"type": "message", "channel": "C0GENERAL", "ts": message["ts"]},
        "event_ts": "1700009999.000300",
    }
    await slack.event(event, event_id="EvSAME")
    await emulator.wait_for("chat.postEphemeral")
    await slack.event(event, event_id="EvSAME", retry_num=1)
    # Removing and adding the reaction again is a new event: still one item, one reporter.
    await slack.event(event, event_id="EvAGAIN")
    [_, again] = await emulator.wait_for("chat.postEphemeral", 2)
    assert "already logged this one" in rendered(again["blocks"])

    await slack.command("/feedback", "Wishlist: audit log export")
    [opened] = await emulator.wait_for("views.open")
    values = modal_values(text="Wishlist: audit log export")
    await asyncio.gather(
        submit_modal(slack, opened["view"], values, user="U0ALICE", view_id="V5"),
        submit_modal(slack, opened["view"], values, user="U0ALICE", view_id="V5"),
    )
    await asyncio.sleep(0.2)
    items = await feedback_rows(runtime)
    assert [i.text for i in items] == ["Please add SSO for contractors", "Wishlist: audit log export"]
    assert await reporters(runtime, items[0].id) == ["U0ALICE"]


async def test_concurrent_captures_of_one_message_make_one_row(runtime: Runtime) -> None:
    async def capture(user: str) -> bool:
        async with unit_of_work(runtime.session_factory) as session:
            result = await feedback_service.capture(
                session=session,
                team_id=TEAM,
                data=FeedbackIn(
                    text="Same message", channel="C0GENERAL", message_ts="1700000001.000001", reporter=user
                ),
            )
            return result.created

    created = await asyncio.gather(*(capture(user) for user in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE")))
    assert sorted(created) == [False, False, False, True]
    [item] = await feedback_rows(runtime)
    assert sorted(await reporters(runtime, item.id)) == ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]


async def test_marker_failure_never_loses_the_feedback(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: object
) -> None:
    emulator.add_channel("C0PRIVATE", "secret-customers", members=["U0ALICE"])
    emulator.channels["C0PRIVATE"]["is_member"] = False
    message = emulator.add_message("C0PRIVATE", "U0BOB", "Churn risk: Umbrella Corp wants SAML")
    emulator.fail("conversations.history", error="not_in_channel")
    emulator.fail("chat.postEphemeral", error="not_in_channel")
    await react(slack, user="U0ALICE", channel="C0PRIVATE", ts=message["ts"])

    # The reactor still hears back (by DM) and the item is stored with its link.
    [dm] = await emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "U0ALICE")
    assert "invite Switchboard" in rendered(dm["blocks"])
    [item] = await feedback_rows(runtime)
    assert item.permalink and item.channel == "C0PRIVATE"

    await run_jobs()  # type: ignore[operator]
    [mark] = emulator.calls_to("reactions.add")
    assert mark["channel"] == "C0PRIVATE"
    assert emulator.reactions[("C0PRIVATE", message["ts"])] == []
    assert len(await feedback_rows(runtime)) == 1


async def test_long_message_is_stored_whole_and_rendered_within_block_kit_limits(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    long_text = ("Customers on the enterprise plan need bulk export of every report. " * 600)[:40_000]
    message = emulator.add_message("C0GENERAL", "U0BOB", long_text)
    view = await open_shortcut_modal(slack, emulator, message, user="U0ALICE", channel="C0GENERAL")
    assert FeedbackId.TEXT_BLOCK not in block_ids(view)
    assert "40,000 characters" in rendered(view["blocks"])
    assert len(view["private_metadata"]) <= 3000
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert await count_rows(runtime, FeedbackDraft) == 1

    await submit_modal(slack, view, modal_values(), user="U0ALICE", view_id="V6")
    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    assert all(len(b["text"]["text"]) <= 3000 for b in confirmation["blocks"] if b["type"] == "section")
    [item] = await feedback_rows(runtime)
    assert item.text == long_text and len(item.text) == 40_000

    # The reaction path stores the whole text too.
    other = emulator.add_message("C0GENERAL", "U0CAROL", long_text[::-1])
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=other["ts"])
    await emulator.wait_for("chat.postEphemeral", 2)
    assert (await feedback_rows(runtime))[1].text == long_text[::-1]


async def test_user_text_never_pings_channel_here_or_groups(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "<!channel> @here <!subteam^S123> exports broke")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"])
    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    shown = rendered(confirmation["blocks"])
    assert "<!channel>" not in shown and "<!subteam" not in shown and "@here" not in shown
    assert "&lt;!channel&gt;" in shown
    [item] = await feedback_rows(runtime)
    assert item.text.startswith("<!channel>")


async def test_modal_validation_errors_keep_data_intact(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, directory: None
) -> None:
    await slack.command("/feedback", "")
    [opened] = await emulator.wait_for("views.open")
    empty = await submit_modal(slack, opened["view"], modal_values(text=""), user="U0ALICE", view_id="V7")
    assert empty.json()["response_action"] == "errors"
    assert FeedbackId.TEXT_BLOCK in empty.json()["errors"]

    unknown_area = await submit_modal(
        slack, opened["view"], modal_values(text="ok", area="nope"), user="U0ALICE", view_id="V7"
    )
    assert unknown_area.json()["errors"] == {
        FeedbackId.AREA_BLOCK: "No area with slug `nope`; pick one from the ownership directory."
    }
    assert await count_rows(runtime, Feedback) == 0

    # After the errors are fixed, the same view saves once; a NUL byte Slack never sends is dropped.
    values = modal_values(text="ok", customer="bad\x00name")
    await submit_modal(slack, opened["view"], values, user="U0ALICE", view_id="V7")
    await emulator.wait_for("chat.postEphemeral")
    assert await count_rows(runtime, Feedback) == 1
    (item,) = await feedback_rows(runtime)
    assert item.customer == "badname"


async def test_area_and_theme_options_come_from_the_directory_and_themes(
    slack: SlackSender, api: object, directory: None
) -> None:
    created = await api.post("/api/v1/themes", json={"title": "Bulk export"})  # type: ignore[attr-defined]
    assert created.status_code == 201

    async def options(action_id: str, value: str) -> list[dict[str, object]]:
        response = await slack.post_payload(
            {
                "type": "block_suggestion",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "team": {"id": TEAM, "domain": "switchboard-demo"},
                "user": {"id": "U0ALICE", "team_id": TEAM},
                "view": {"id": "V9", "type": "modal", "callback_id": FeedbackId.MODAL},
                "api_app_id": "A0SWITCH",
                "token": "legacy-verification-token",
            }
        )
        assert response.status_code == 200
        return list(response.json()["options"])

    areas = await options(FeedbackId.AREA, "")
    assert [o["value"] for o in areas] == ["billing", "bulk-export", "search"]
    assert [o["value"] for o in await options(FeedbackId.AREA, "invoice")][0] == "billing"

    themes = await options(FeedbackId.THEME, "bulk")
    assert themes[0]["value"] == "new:bulk"
    assert any(o["value"] == str(created.json()["id"]) for o in themes)
    exact = await options(FeedbackId.THEME, "Bulk export")
    assert [o["value"] for o in exact] == [str(created.json()["id"])]
