"""Posting a release: failing channels never block the others, 429s are waited out, several
schedulers never double-post, and a process killed between Slack's answer and the database write
leaves exactly one message after restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.core.runtime import Runtime, build_runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID, TEAM_ID
from bot.releases import approval as release_approval
from bot.releases import posting as release_posting
from bot.releases import sending as release_sending
from bot.releases.releases import enqueue_delivery, get_release
from bot.releases.views.ids import ReleaseId
from bot.scheduler.runner import JobRunner
from models import Job, JobStatus, ReleasePost
from models.base import utcnow
from tests.helpers import rendered
from tests.test_releases import (
    OWNER,
    TEAM,
    button_value,
    channel_posts,
    dms_to,
    events,
    posts,
    release_row,
)


def add_channels(emulator: SlackEmulator, *ids: str) -> list[str]:
    for channel_id in ids:
        emulator.add_channel(channel_id, channel_id.lower(), members=[BOT_USER_ID, OWNER])
    return list(ids)


async def approve_as(runtime: Runtime, release_id: int, approver: str) -> None:
    """The named approver approves (an admin-API token may not once an approver is set)."""
    async with unit_of_work(runtime.session_factory) as session:
        await release_approval.approve_release(
            session=session, team_id=TEAM_ID, release_id=release_id, by=approver, as_approver=True
        )


async def post_now(api: httpx.AsyncClient, runtime: Runtime | None = None, **body: Any) -> dict[str, Any]:
    """Compose through the admin API, approve (as its approver when it names one), and schedule it
    for now."""
    body.setdefault("title", "Audit log")
    body.setdefault("version", "3.1")
    body.setdefault("summary", "Every admin action, searchable.")
    body.setdefault("owner", OWNER)
    created = await api.post("/api/v1/releases", json=body)
    assert created.status_code == 201, created.text
    release_id = created.json()["id"]
    if runtime is not None and created.json()["status"] == "pending_approval":
        await approve_as(runtime, release_id, body["approver"])
    else:
        approved = await api.post(f"/api/v1/releases/{release_id}/approve")
        assert approved.status_code == 200, approved.text
    scheduled = await api.post(f"/api/v1/releases/{release_id}/schedule", json={"at": "now"})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled"
    return dict(scheduled.json())


async def test_failing_channels_are_recorded_and_reported_without_blocking_the_others(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    good = add_channels(emulator, "C0RELEASES", "C0PRODUCT")
    emulator.add_channel("C0ARCHIVED", "old-news", members=[BOT_USER_ID], is_archived=True)
    emulator.add_channel("C0NOTIN", "private-ish", members=[OWNER])["is_member"] = False
    channels = ["C0GONE", "C0ARCHIVED", "C0NOTIN", *good]
    await post_now(api, channels=channels)
    await run_jobs()

    for channel in good:
        assert len(channel_posts(emulator, channel)) == 1
    stored = await posts(runtime)
    assert {c: (p.state, p.error) for c, p in stored.items() if p.state == "failed"} == {
        "C0GONE": ("failed", "channel_not_found"),
        "C0ARCHIVED": ("failed", "is_archived"),
        "C0NOTIN": ("failed", "not_in_channel"),
    }
    # Not "posted" while channels lack it.
    assert (await release_row(runtime)).status == "partially_posted"

    # The owner gets one report naming each failed channel, why, and what to do.
    await run_jobs()
    (report,) = [c for c in dms_to(emulator, OWNER) if "posted in" in c["text"]]
    text = rendered(report["blocks"])
    assert "posted in 2 of 5 channels" in text
    assert "<#C0GONE>" in text and "channel_not_found" in text
    assert "<#C0NOTIN>" in text and "/invite @Switchboard" in text
    assert "<#C0ARCHIVED>" in text and "archived" in text

    # Once someone invites the bot, "Retry" posts there, and only there.
    emulator.channels["C0NOTIN"]["is_member"] = True
    await slack.block_action(ReleaseId.RETRY, button_value(report["blocks"], ReleaseId.RETRY), user=OWNER)
    await emulator.wait_for("response_url")
    await run_jobs()
    assert len(channel_posts(emulator, "C0NOTIN")) == 1
    assert all(len(channel_posts(emulator, c)) == 1 for c in good)
    stored = await posts(runtime)
    assert stored["C0NOTIN"].state == "posted" and stored["C0GONE"].state == "failed"
    await run_jobs()
    reports = [c for c in dms_to(emulator, OWNER) if "posted in" in c["text"]]
    assert len(reports) == 2 and "posted in 3 of 5 channels" in reports[-1]["text"]
    assert (await release_row(runtime)).status == "partially_posted"


async def test_429_retry_after_is_waited_out_and_posts_once(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    channels = add_channels(emulator, "C0RELEASES", "C0PRODUCT", "C0SALES")
    emulator.fail(
        "chat.postMessage", retry_after=1, times=2, when=lambda args: args.get("channel") == "C0RELEASES"
    )
    await post_now(api, channels=channels)
    await run_jobs()

    attempts = emulator.calls_to("chat.postMessage", channel="C0RELEASES")
    assert len(attempts) == 3
    # Each retry came no sooner than Slack's Retry-After.
    assert attempts[1].at - attempts[0].at >= 0.95 and attempts[2].at - attempts[1].at >= 0.95
    for channel in channels:
        assert len(channel_posts(emulator, channel)) == 1
    assert all(p.state == "posted" for p in (await posts(runtime)).values())


async def test_rate_limit_longer_than_the_pass_waits_puts_the_post_back_for_later(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any, monkeypatch: Any
) -> None:
    (channel,) = add_channels(emulator, "C0RELEASES")
    # Slack's Retry-After is longer than a pass waits for one post.
    monkeypatch.setattr(release_sending, "RATE_LIMIT_PATIENCE", 1.0)
    emulator.fail(
        "chat.postMessage", retry_after=2, times=1, when=lambda args: args.get("channel") == channel
    )
    await post_now(api, channels=[channel])
    await run_jobs()

    (post,) = (await posts(runtime)).values()
    assert post.state == "pending" and post.error == "ratelimited" and post.lease_owner is None
    assert post.next_attempt_at is not None and post.next_attempt_at > utcnow()
    assert not channel_posts(emulator, channel)
    # The next pass is queued for when Slack allows it, and then posts once.
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(update(ReleasePost).values(next_attempt_at=utcnow()))
        await session.execute(
            update(Job)
            .where(Job.kind == "release.deliver", Job.status == JobStatus.PENDING)
            .values(run_at=utcnow())
        )
    await run_jobs()
    assert len(channel_posts(emulator, channel)) == 1


async def test_two_schedulers_over_one_database_never_post_twice(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient
) -> None:
    channels = add_channels(emulator, *[f"C0AUD{i:03d}" for i in range(24)])
    release = await post_now(api, channels=channels)
    # A second due pass of the same release, as when a retry and the first pass coincide.
    async with unit_of_work(runtime.session_factory) as session:
        row = await get_release(session=session, team_id=TEAM, release_id=release["id"])
        await enqueue_delivery(
            session=session, release=row, run_at=utcnow(), reason="test", key="second-pass"
        )

    other = build_runtime(runtime.settings)  # a second process: its own engine and pool
    try:
        first, second = JobRunner(runtime), JobRunner(other)
        await asyncio.gather(first.tick(), second.tick(), first.tick(), second.tick())
    finally:
        await other.close()

    for channel in channels:
        assert len(channel_posts(emulator, channel, release["id"])) == 1, channel
    audience_calls = [c for c in emulator.calls_to("chat.postMessage") if c["channel"] in channels]
    assert len(audience_calls) == len(channels)
    stored = await posts(runtime, release["id"])
    assert all(p.state == "posted" and p.ts for p in stored.values())
    assert [kind for kind, _ in await events(runtime, release["id"])].count("posted") == 1


class ProcessKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no handler catches it."""


def _is_kill(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(ProcessKilled) is not None
    return isinstance(error, ProcessKilled)


@pytest.mark.parametrize("channel_count", [1, 6])
async def test_process_killed_between_slack_and_database_leaves_exactly_one_message(
    emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, monkeypatch: Any, channel_count: int
) -> None:
    channels = add_channels(emulator, *[f"C0KILL{i}" for i in range(channel_count)])
    release = await post_now(api, channels=channels)
    real_record = release_posting.record_outcome

    async def die_before_writing(**kwargs: Any) -> bool:
        raise ProcessKilled

    # Slack answers, then the process dies before the result reaches the database.
    monkeypatch.setattr(release_posting, "record_outcome", die_before_writing)
    with pytest.raises(BaseException) as killed:
        await JobRunner(runtime).tick()
    assert _is_kill(killed.value)
    monkeypatch.setattr(release_posting, "record_outcome", real_record)
    reached = {c: channel_posts(emulator, c, release["id"]) for c in channels}
    reached = {c: found[0]["ts"] for c, found in reached.items() if found}
    assert reached, "Slack answered at least one post before the process died"
    stored = await posts(runtime, release["id"])
    assert all(p.state in ("posting", "pending") and p.ts is None for p in stored.values())

    # Restart: leases run out and another scheduler picks the work up.
    past = utcnow() - timedelta(seconds=1)
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job).where(Job.status == JobStatus.RUNNING).values(lease_expires_at=past)
        )
        await session.execute(update(ReleasePost).values(lease_expires_at=past))
    await JobRunner(runtime).tick()

    for channel in channels:
        messages = channel_posts(emulator, channel, release["id"])
        assert len(messages) == 1, channel
    stored = await posts(runtime, release["id"])
    assert all(p.state == "posted" for p in stored.values())
    # Rows whose message reached Slack were recovered from the channel, not posted again.
    for channel, ts in reached.items():
        assert stored[channel].ts == ts
        assert emulator.calls_to("conversations.history", channel=channel)
    assert (await release_row(runtime, release["id"])).status == "posted"
