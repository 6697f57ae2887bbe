"""Demo chapter: customer voice — capture feedback, theme it, ship it, tell every requester."""

from __future__ import annotations

from typing import Any

from bot.core.uow import unit_of_work
from bot.demo.stage import Stage
from bot.emulator.state import TEAM_ID
from bot.feedback import themes as theme_service
from bot.feedback.views.common import FeedbackId


def _values(**fields: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """`view.state.values` of the feedback modal as Slack submits them."""

    def picked(value: str | None) -> dict[str, Any]:
        return {"selected_option": {"value": value} if value else None}

    return {
        FeedbackId.TEXT_BLOCK: {FeedbackId.TEXT: {"value": fields["text"]}},
        FeedbackId.KIND_BLOCK: {FeedbackId.KIND: picked(fields.get("kind", "request"))},
        FeedbackId.IMPORTANCE_BLOCK: {FeedbackId.IMPORTANCE: picked(fields.get("importance", "medium"))},
        FeedbackId.CUSTOMER_BLOCK: {FeedbackId.CUSTOMER: {"value": fields.get("customer")}},
        FeedbackId.SEGMENT_BLOCK: {FeedbackId.SEGMENT: {"value": fields.get("segment")}},
        FeedbackId.AREA_BLOCK: {FeedbackId.AREA: picked(fields.get("area"))},
        FeedbackId.TAGS_BLOCK: {FeedbackId.TAGS: {"value": fields.get("tags")}},
        FeedbackId.THEME_BLOCK: {FeedbackId.THEME: picked(fields.get("theme"))},
    }


async def _log_with_shortcut(
    stage: Stage, message: dict[str, Any], *, user: str, channel: str, **fields: Any
) -> None:
    opened = len(stage.emulator.calls_to("views.open"))
    await stage.slack.message_shortcut(FeedbackId.SHORTCUT, message, user=user, channel=channel)
    [*_, call] = await stage.emulator.wait_for("views.open", opened + 1)
    stage.show_new()
    view = call["view"]
    confirmations = len(stage.emulator.calls_to("chat.postEphemeral"))
    await stage.slack.view_submission(
        FeedbackId.MODAL,
        _values(text=message["text"], **fields),
        user=user,
        private_metadata=view["private_metadata"],
        view_id=f"VDEMO{opened}",
    )
    await stage.emulator.wait_for("chat.postEphemeral", confirmations + 1)
    stage.show_new()


async def run(stage: Stage) -> None:
    stage.chapter("Customer voice: capture feedback anywhere, theme it, close the loop")
    emulator = stage.emulator

    stage.step("@emma (Support) writes in #support")
    acme = emulator.add_message(
        "C0SUPPORT",
        "U0EMMA",
        "Acme asks again: they need to export all invoices at once, one by one takes hours",
    )
    stage.say("    Acme asks again: they need to export all invoices at once, one by one takes hours")

    stage.step("@priya picks ⋯ → *Log as feedback* on it, sets Acme, Bulk export, and a new theme")
    await _log_with_shortcut(
        stage,
        acme,
        user="U0PRIYA",
        channel="C0SUPPORT",
        kind="request",
        importance="high",
        customer="Acme",
        segment="Enterprise",
        area="bulk-export",
        tags="invoices, export",
        theme="new:Bulk export of invoices",
    )

    stage.step("@farid writes in #general; @diego reacts with :memo: to log it (no form)")
    globex = emulator.add_message(
        "C0GENERAL", "U0FARID", "Globex wants to export invoices in bulk before renewal"
    )
    stage.say("    Globex wants to export invoices in bulk before renewal")
    confirmations = len(emulator.calls_to("chat.postEphemeral"))
    await stage.slack.event(
        {
            "type": "reaction_added",
            "user": "U0DIEGO",
            "reaction": stage.runtime.settings.feedback_emoji,
            "item_user": "U0FARID",
            "item": {"type": "message", "channel": "C0GENERAL", "ts": globex["ts"]},
            "event_ts": globex["ts"],
        }
    )
    [*_, confirmation] = await emulator.wait_for("chat.postEphemeral", confirmations + 1)
    stage.show_new()

    stage.step("@diego clicks *Link it* on the suggested theme")
    link = next(
        b["accessory"] for b in confirmation["blocks"] if b.get("accessory", {}).get("type") == "button"
    )
    replies = len(emulator.calls_to("response_url"))
    await stage.slack.block_action(link["action_id"], link["value"], user="U0DIEGO", channel="C0GENERAL")
    await emulator.wait_for("response_url", replies + 1)
    stage.show_new()

    stage.step("@emma logs a critical one: Initech cannot pay any invoice")
    initech = emulator.add_message(
        "C0SUPPORT", "U0EMMA", "Initech: every invoice payment fails with an error since 9:00"
    )
    await _log_with_shortcut(
        stage,
        initech,
        user="U0EMMA",
        channel="C0SUPPORT",
        kind="bug",
        importance="critical",
        customer="Initech",
        area="billing",
    )

    stage.step("The scheduler runs: capture markers, and the critical alert to Billing's owner")
    await stage.run_scheduler()
    stage.show_new()

    stage.step("The team ships *Bulk export of invoices* with the 4.2 release")
    async with unit_of_work(stage.runtime.session_factory) as session:
        [(theme, counts)] = await theme_service.list_themes(
            session=session, team_id=TEAM_ID, q="bulk export of invoices"
        )
        stage.say(f"    Theme *{theme.title}*: {counts.items} items, customers so far: {counts.customers}")
        result = await theme_service.ship_theme(
            session=session,
            team_id=TEAM_ID,
            theme_id=theme.id,
            release_title="Release 4.2",
            release_link="https://example.com/releases/4.2",
            by="U0PRIYA",
        )
    stage.say(f"    {result.threads} threads and {result.people} people to tell")
    await stage.run_scheduler()
    stage.show_new()

    stage.step("Shipping again (a retry, a second click) tells nobody twice")
    async with unit_of_work(stage.runtime.session_factory) as session:
        again = await theme_service.ship_theme(session=session, team_id=TEAM_ID, theme_id=result.theme_id)
    await stage.run_scheduler()
    stage.say(f"    {again.enqueued} new notifications")
    stage.show_new()
