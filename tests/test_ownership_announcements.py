"""Owner changes made within one announcement window reach OWNERSHIP_CHANNEL as one message."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.ownership import importers
from bot.ownership.announcements import ANNOUNCE_KIND, ANNOUNCE_WINDOW, announce_window
from bot.ownership.sync import import_directory
from models import Job, JobStatus
from models.base import utcnow
from tests.helpers import after_announce_window

TEAM = "T0SWITCH"


def owner_posts(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return emulator.calls_to("chat.postMessage", channel="C0OWNERS")


def summary_blocks(heading: str, lines: str, more: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": heading}},
        {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
    ]
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return blocks


async def test_three_api_changes_in_one_window_post_one_message_with_a_line_each(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    await api.patch("/api/v1/areas/billing", json={"owner": "U0DAVE"})
    await api.patch("/api/v1/areas/billing", json={"owner": "U0CAROL"})
    await run_jobs()
    assert owner_posts(emulator) == []

    await run_jobs(after_announce_window())
    (post,) = owner_posts(emulator)
    heading = ":arrows_counterclockwise: *3 ownership changes*"
    lines = (
        "• *Billing*: _nobody_ → <@U0BOB>\n"
        "• *Billing*: <@U0BOB> → <@U0DAVE>\n"
        "• *Billing*: <@U0DAVE> → <@U0CAROL>"
    )
    assert post["text"] == f"{heading}\n{lines}"
    assert post["blocks"] == summary_blocks(heading, lines)


async def test_changes_in_two_windows_post_two_messages(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    await run_jobs(after_announce_window())
    await api.patch("/api/v1/areas/billing", json={"owner": "U0DAVE"})
    await run_jobs(after_announce_window() + ANNOUNCE_WINDOW)

    assert [(post["text"], post.get("blocks")) for post in owner_posts(emulator)] == [
        (":new: *Billing* is now owned by <@U0BOB>.", None),
        (":arrows_counterclockwise: *Billing* moved from <@U0BOB> to <@U0DAVE>.", None),
    ]


async def test_changes_made_at_the_same_moment_are_all_in_the_summary(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    names = [f"Area {i}" for i in range(6)]
    responses = await asyncio.gather(
        *(api.post("/api/v1/areas", json={"name": n, "owner": "U0BOB"}) for n in names)
    )
    assert [response.status_code for response in responses] == [201] * len(names)
    await run_jobs(after_announce_window())

    (post,) = owner_posts(emulator)
    assert post["text"].startswith(":arrows_counterclockwise: *6 ownership changes*\n")
    assert sorted(post["text"].split("\n")[1:]) == [f"• *{n}*: _nobody_ → <@U0BOB>" for n in names]


async def test_an_import_changing_50_owners_posts_one_capped_summary(
    runtime: Runtime, emulator: SlackEmulator, run_jobs: Any
) -> None:
    async def run_import(text: str) -> None:
        async with unit_of_work(runtime.session_factory) as session:
            await import_directory(
                session=session,
                settings=runtime.settings,
                team_id=TEAM,
                directory=importers.parse(text, format=importers.ImportFormat.YAML),
                handle_map=None,
                lookup_email=None,
                dry_run=False,
            )

    bulk = "areas:\n" + "".join(f"  - name: Area {i:02d}\n    owner: U0BOB\n" for i in range(50))
    await run_import(bulk)
    await run_jobs(after_announce_window())
    emulator.reset_calls()

    await run_import(bulk.replace("owner: U0BOB", "owner: U0DAVE"))
    await run_jobs(after_announce_window() + ANNOUNCE_WINDOW)

    (post,) = owner_posts(emulator)
    heading = ":arrows_counterclockwise: *50 ownership changes*"
    lines = "\n".join(f"• *Area {i:02d}*: <@U0BOB> → <@U0DAVE>" for i in range(20))
    assert post["text"] == f"{heading}\n{lines}\n…and 30 more"
    assert post["blocks"] == summary_blocks(heading, lines, "…and 30 more")


async def test_an_area_added_in_slack_joins_the_window_of_an_api_change(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    values = {
        "area_name": {"name": {"type": "plain_text_input", "value": "Data warehouse"}},
        "area_owner": {"owner": {"type": "users_select", "selected_user": "U0DAVE"}},
        "area_kind": {"kind": {"type": "static_select", "selected_option": {"value": "service"}}},
        "area_team": {"team": {"type": "plain_text_input", "value": None}},
        "area_backups": {"backups": {"type": "multi_users_select", "selected_users": []}},
        "area_channel": {"channel": {"type": "channels_select", "selected_channel": None}},
        "area_aliases": {"aliases": {"type": "plain_text_input", "value": None}},
        "area_description": {"description": {"type": "plain_text_input", "value": None}},
    }
    response = await slack.view_submission("area_create", values, private_metadata="{}")
    assert response.status_code == 200 and not response.content
    await run_jobs(after_announce_window())

    (post,) = owner_posts(emulator)
    heading = ":arrows_counterclockwise: *2 ownership changes*"
    lines = "• *Billing*: _nobody_ → <@U0BOB>\n• *Data warehouse*: _nobody_ → <@U0DAVE> (by <@U0ALICE>)"
    assert post["text"] == f"{heading}\n{lines}"
    assert post["blocks"] == summary_blocks(heading, lines)


async def test_a_retried_announcement_posts_once(
    api: httpx.AsyncClient, runtime: Runtime, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    await api.patch("/api/v1/areas/billing", json={"owner": "U0DAVE"})
    later = after_announce_window()
    await run_jobs(later)
    # As if the process died after posting, before recording it: the lease runs out and the
    # job is taken again.
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.kind == ANNOUNCE_KIND)
            .values(status=JobStatus.RUNNING, lease_expires_at=later - timedelta(seconds=1))
        )
    assert await run_jobs(later + timedelta(minutes=1)) >= 1

    (post,) = owner_posts(emulator)
    assert post["text"].startswith(":arrows_counterclockwise: *2 ownership changes*\n")


async def test_a_change_after_its_window_was_taken_goes_out_with_the_next(
    api: httpx.AsyncClient, runtime: Runtime, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json={"name": "Billing", "owner": "U0BOB"})
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(update(Job).where(Job.kind == ANNOUNCE_KIND).values(status=JobStatus.RUNNING))
    await api.patch("/api/v1/areas/billing", json={"owner": "U0DAVE"})

    async with unit_of_work(runtime.session_factory) as session:
        jobs = (await session.execute(select(Job.dedupe_key, Job.payload).order_by(Job.run_at))).all()
    window = announce_window(utcnow())
    assert [job.dedupe_key for job in jobs if job.dedupe_key.startswith(TEAM)] == [
        f"{TEAM}:{window.isoformat()}",
        f"{TEAM}:{(window + ANNOUNCE_WINDOW).isoformat()}",
    ]
    assert [change["owner"] for change in jobs[-1].payload["changes"]] == ["U0DAVE"]
