"""Demo chapter: who owns X."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.uow import unit_of_work
from bot.demo.stage import Stage
from bot.emulator.state import TEAM_ID
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from models.base import utcnow

DIRECTORY: list[dict[str, Any]] = [
    {
        "name": "Billing",
        "owner": "U0BEN",
        "team": "Billing engineering",
        "backups": ["U0DIEGO"],
        "channel": "C0SUPPORT",
        "aliases": ["invoices", "payments"],
        "links": [{"title": "Runbook", "url": "https://wiki.example.com/billing"}],
    },
    {"name": "Bulk export", "owner": "U0BEN", "description": "CSV and XLSX exports of reports"},
    {"name": "Bulk import", "owner": "U0DIEGO"},
    {"name": "Documentation", "owner": "U0CHLOE", "kind": "doc", "aliases": ["docs", "help center"]},
    {"name": "Release process", "owner": "U0PRIYA", "kind": "process"},
]


async def run(stage: Stage) -> None:
    stage.chapter("Who owns X: the ownership directory")
    async with unit_of_work(stage.runtime.session_factory) as session:
        for data in DIRECTORY:
            await area_service.create_area(session=session, team_id=TEAM_ID, data=AreaIn(**data))
    stage.say(f"The directory holds {len(DIRECTORY)} areas.")
    stage.show_new()

    stage.step("@emma types `/whoowns invoices` in #support")
    stage.show_new(await stage.slack.command("/whoowns", "invoices", user="U0EMMA", channel="C0SUPPORT"))

    stage.step("@emma types `/whoowns bulk` (ambiguous)")
    stage.show_new(await stage.slack.command("/whoowns", "bulk", user="U0EMMA", channel="C0SUPPORT"))

    stage.step("@emma picks *Bulk export*")
    await stage.slack.block_action(
        "whoowns_pick:bulk-export", "bulk-export", user="U0EMMA", channel="C0SUPPORT"
    )
    await stage.emulator.wait_for("response_url")
    stage.show_new()

    stage.step("@farid asks in #general: `@Switchboard who owns the docs?`")
    await stage.slack.event(
        {
            "type": "app_mention",
            "user": "U0FARID",
            "text": "<@U0SWITCHBOT> who owns the docs?",
            "ts": "1700000500.000100",
            "channel": "C0GENERAL",
            "event_ts": "1700000500.000100",
        }
    )
    await stage.emulator.wait_for("chat.postMessage", where=lambda c: c.get("channel") == "C0GENERAL")
    stage.show_new()
    await confirmation(stage)


async def confirmation(stage: Stage) -> None:
    """An owner is asked to re-confirm on schedule, answers Yes, and sees it on their App Home."""
    async with unit_of_work(stage.runtime.session_factory) as session:
        billing = await area_service.get_by_slug(session=session, team_id=TEAM_ID, slug="billing")
        billing.last_confirmed_at = utcnow() - timedelta(days=billing.confirm_every_days + 10)
    stage.step(
        f"{billing.confirm_every_days + 10} days on, nobody has re-confirmed *Billing*; the scheduler runs"
    )
    await stage.run_scheduler()
    stage.show_new()

    stage.step("@ben clicks [Yes] in that DM")
    dm = stage.emulator.messages["D0BEN"][-1]
    await stage.slack.block_action(
        "ownership_confirm", str(billing.id), user="U0BEN", channel="D0BEN", message=dm
    )
    await stage.emulator.wait_for("response_url", where=lambda c: "Billing" in str(c.get("text", "")))
    stage.show_new()

    stage.step("@ben opens Switchboard's App Home")
    await stage.slack.event({"type": "app_home_opened", "user": "U0BEN", "channel": "D0BEN", "tab": "home"})
    await stage.emulator.wait_for("views.publish")
    stage.show_new()
