"""Every shape of a "who owns X" answer, from /whoowns and from a mention, with the exact text Slack
receives: a card, a pick among close matches, "Did you mean…?", the closest names, and areas nobody
answers for (handed back, or the owner left Slack) with the button to claim them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.scheduler.runner import JobRunner
from bot.slack.blocks import slack_date
from models import Area, AreaKind, OwnerStatus
from models.base import utcnow
from tests.helpers import after_announce_window

TEAM = "T0SWITCH"


@pytest.fixture
async def directory(runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for data in (
            {"name": "Billing", "owner": "U0BOB", "backups": ["U0CAROL"]},
            {"name": "Bulk export", "owner": "U0CAROL"},
            {"name": "Bulk import", "owner": "U0DAVE"},
            {"name": "Notifications", "owner": "U0ALICE"},
        ):
            await area_service.create_area(session=session, team_id=TEAM, data=AreaIn(**data))


async def area_named(runtime: Runtime, slug: str) -> Area:
    async with unit_of_work(runtime.session_factory) as session:
        return await area_service.get_by_slug(session=session, team_id=TEAM, slug=slug)


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(label, action_id, value) of every button, in order."""
    return [
        (e["text"]["text"], e["action_id"], e.get("value", ""))
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def ask(slack: SlackSender, query: str) -> tuple[str, list[dict[str, Any]]]:
    body = (await slack.command("/whoowns", query)).json()
    assert body["response_type"] == "ephemeral"
    return body["text"], body["blocks"]


async def test_confident_match_answers_with_the_card(slack: SlackSender, directory: None) -> None:
    text, blocks = await ask(slack, "billing")

    assert text == "Billing is owned by <@U0BOB>"
    assert sections(blocks) == ["*Billing* is owned by <@U0BOB>\n*Backup:* <@U0CAROL>"]
    assert buttons(blocks) == [("Share in channel", "whoowns_share", "billing")]


async def test_two_close_matches_offer_each_as_a_button(slack: SlackSender, directory: None) -> None:
    text, blocks = await ask(slack, "bulk")

    expected = "Several areas match *bulk*: *Bulk export* and *Bulk import*. Which one did you mean?"
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks) == [
        ("Bulk export", "whoowns_pick:bulk-export", "bulk-export"),
        ("Bulk import", "whoowns_pick:bulk-import", "bulk-import"),
    ]


async def test_one_weak_match_asks_did_you_mean_and_offers_to_add_the_query(
    slack: SlackSender, directory: None
) -> None:
    text, blocks = await ask(slack, "notifs")

    expected = "Did you mean *Notifications*? If not, add *notifs* to the directory."
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks) == [
        ("Notifications", "whoowns_pick:notifications", "notifications"),
        ('Add "notifs"', "whoowns_add", "notifs"),
    ]


async def test_nothing_close_offers_the_closest_names_and_add_it(slack: SlackSender, directory: None) -> None:
    text, blocks = await ask(slack, "quantum teleporter")

    expected = (
        "I couldn't find an owner for *quantum teleporter*. "
        "Closest names: *Bulk export* and *Bulk import*. Know who owns it? Add it."
    )
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks) == [
        ("Bulk export", "whoowns_pick:bulk-export", "bulk-export"),
        ("Bulk import", "whoowns_pick:bulk-import", "bulk-import"),
        ("Add it", "whoowns_add", "quantum teleporter"),
    ]


async def test_nothing_at_all_close_offers_only_add_it(slack: SlackSender, directory: None) -> None:
    text, blocks = await ask(slack, "xyzzy")

    expected = "I couldn't find an owner for *xyzzy*. Know who owns it? Add it."
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks) == [("Add it", "whoowns_add", "xyzzy")]


async def test_mention_answers_in_thread_with_the_same_shape(
    slack: SlackSender, emulator: SlackEmulator, directory: None
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@U0SWITCHBOT> who owns notifs?",
        "ts": "1700000100.000200",
        "channel": "C0GENERAL",
        "event_ts": "1700000100.000200",
    }
    await slack.event(event)
    (reply,) = await emulator.wait_for("chat.postMessage")

    expected = "Did you mean *Notifications*? If not, add *notifs* to the directory."
    assert (reply["channel"], reply["thread_ts"]) == ("C0GENERAL", "1700000100.000200")
    assert (reply["text"], sections(reply["blocks"])) == (expected, [expected])
    assert [b[1] for b in buttons(reply["blocks"])] == ["whoowns_pick:notifications", "whoowns_add"]


# ---- areas nobody answers for -------------------------------------------------------------


async def test_handed_back_area_says_so_and_offers_to_claim_it(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, directory: None
) -> None:
    await slack.block_action("ownership_not_me", str((await area_named(runtime, "billing")).id), user="U0BOB")
    await emulator.wait_for("response_url")
    area = await area_named(runtime, "billing")
    assert area.owner_status == OwnerStatus.DISOWNED

    text, blocks = await ask(slack, "billing")

    expected = (
        f"*Billing* has no owner right now (<@U0BOB> handed it back on {slack_date(area.updated_at)}); "
        "backups: <@U0CAROL>."
    )
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks) == [
        ("Claim it", "whoowns_claim", "billing"),
        ("Share in channel", "whoowns_share", "billing"),
    ]


async def test_claiming_asks_the_policy_then_gives_the_area_to_the_backup_and_announces_it(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, directory: None
) -> None:
    await slack.block_action("ownership_not_me", str((await area_named(runtime, "billing")).id), user="U0BOB")
    await emulator.wait_for("response_url")
    await run_jobs()

    await slack.block_action("whoowns_claim", "billing", user="U0DAVE")
    (refusal,) = (await emulator.wait_for("response_url", 2))[1:]
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert (
        refusal["text"] == ":warning: Only its backup <@U0CAROL> and a workspace admin can claim *Billing*."
    )
    assert (await area_named(runtime, "billing")).owner_status == OwnerStatus.DISOWNED

    before = utcnow()
    for _ in range(2):  # a second click finds it already claimed, and changes nothing
        await slack.block_action("whoowns_claim", "billing", user="U0CAROL")
    claimed = (await emulator.wait_for("response_url", 4))[2:]
    expected = (
        ":raised_hands: <@U0CAROL> claimed *Billing* and owns it now. "
        "People asking `/whoowns` will be pointed to them."
    )
    assert [(c["text"], sections(c["blocks"]), c["replace_original"]) for c in claimed] == [
        (expected, [expected], True)
    ] * 2
    area = await area_named(runtime, "billing")
    assert (area.owner, area.owner_status) == ("U0CAROL", OwnerStatus.ACTIVE)
    assert area.last_confirmed_at is not None and area.last_confirmed_at >= before

    await run_jobs(after_announce_window())
    moved = [
        c["text"] for c in emulator.calls_to("chat.postMessage", channel="C0OWNERS") if "moved" in c["text"]
    ]
    assert moved == [
        ":arrows_counterclockwise: *Billing* moved from <@U0BOB> to <@U0CAROL> (changed by <@U0CAROL>)."
    ]
    text, _ = await ask(slack, "billing")
    assert text == "Billing is owned by <@U0CAROL>"


async def test_an_admin_may_claim_an_area_with_no_backups(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, directory: None
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.get_by_slug(session=session, team_id=TEAM, slug="bulk-import")
        area.owner_status = OwnerStatus.DISOWNED
    emulator.users["U0ALICE"]["is_admin"] = True

    await slack.block_action("whoowns_claim", "bulk-import", user="U0ALICE")

    (reply,) = await emulator.wait_for("response_url")
    assert reply["text"].startswith(":raised_hands: <@U0ALICE> claimed *Bulk import*")
    assert (await area_named(runtime, "bulk-import")).owner == "U0ALICE"


async def test_deactivated_owner_is_announced_once_and_the_answer_offers_a_claim(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    emulator.add_user("U0GONE", "gone", deleted=True)
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Legacy reports", owner="U0GONE")
        )
        area.last_confirmed_at = utcnow() - timedelta(days=100)
    runner = JobRunner(runtime)
    await runner.tick()
    await runner.tick()  # the flag's announcement, queued by the first tick
    await runner.tick(now=utcnow() + timedelta(days=120))  # asked again, the weekly sweep: no repeat

    posted = emulator.calls_to("chat.postMessage", channel="C0OWNERS")
    announcements = [c["text"] for c in posted if "needs an owner" in c["text"]]
    assert announcements == [
        ":sos: *Legacy reports* needs an owner: <@U0GONE>'s Slack account is deactivated. "
        "Know who owns it? Claim it from `/whoowns legacy-reports`, "
        "or update `legacy-reports` in the directory."
    ]
    text, blocks = await ask(slack, "legacy reports")
    expected = (
        "*Legacy reports* has no owner right now (<@U0GONE>'s Slack account is deactivated); no backups."
    )
    assert (text, sections(blocks)) == (expected, [expected])
    assert buttons(blocks)[0] == ("Claim it", "whoowns_claim", "legacy-reports")


# ---- "Add it" ---------------------------------------------------------------------------------


async def test_add_it_modal_asks_the_kind_and_the_new_area_keeps_it(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await slack.block_action("whoowns_add", "notifs")
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    (kind,) = [b for b in view["blocks"] if b.get("block_id") == "area_kind"]
    assert kind["label"]["text"] == "Kind"
    assert [(o["value"], o["text"]["text"]) for o in kind["element"]["options"]] == [
        (k.value, k.value.replace("_", " ").capitalize()) for k in AreaKind
    ]
    assert kind["element"]["initial_option"]["value"] == "product_area"

    values = {
        "area_name": {"name": {"type": "plain_text_input", "value": "Notifications"}},
        "area_kind": {
            "kind": {
                "type": "static_select",
                "selected_option": {"value": "service", "text": kind_text("Service")},
            }
        },
        "area_owner": {"owner": {"type": "users_select", "selected_user": "U0DAVE"}},
    }
    response = await slack.view_submission("area_create", values, private_metadata=view["private_metadata"])

    assert response.status_code == 200 and not response.content
    area = await area_named(runtime, "notifications")
    assert (area.name, area.kind, area.owner) == ("Notifications", "service", "U0DAVE")
    (added,) = await emulator.wait_for("chat.postEphemeral")
    assert added["text"] == (
        "Added *Notifications* (`notifications`) to the ownership directory, owned by <@U0DAVE>."
    )


def kind_text(label: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": label, "emoji": True}


@pytest.mark.parametrize("query", ["bulk", "<!here> *bulk* & <b>", "x" * 300])
def test_the_acknowledged_json_is_the_blocks_of_the_question(query: str) -> None:
    """/whoowns acknowledges with buttons serialised ahead of time: the same JSON as the blocks."""
    from bot.ownership.views.whoowns import ambiguous, choice_blocks, choice_json, did_you_mean, not_found
    from bot.slack.blocks import as_dicts

    areas = [
        Area(id=n, team_id=TEAM, slug=f"bulk-{n}", name=f"Bulk <{n}> & *export*", kind=AreaKind.PRODUCT_AREA)
        for n in range(1, 5)
    ]
    for choices in (ambiguous(query, areas), did_you_mean(query, areas[0]), not_found(query, areas)):
        assert choice_json(query, choices) == as_dicts(choice_blocks(query, choices))
    assert not_found(query, []).picks == []


@pytest.mark.parametrize("text", ["Billing", "*Billing* &lt;x&gt; :warning:", "é" * 3500])
def test_a_questions_section_is_the_same_json_block_kit_makes(text: str) -> None:
    from bot.slack.blocks import section, section_json

    assert section_json(text) == section(text).to_dict()
