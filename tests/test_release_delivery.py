"""Slack faults while posting a release: outages (5xx, timeouts, 429) are retried with capped
backoff for the delivery window, permanent refusals fail a channel at once, and the release is
never `posted` while a channel lacks it — `partially_posted` or `failed` instead, the owner told
once with a retry that posts only where it failed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.releases.views.ids import ReleaseId
from bot.scheduler.retry import MAX_DELIVERY_BACKOFF
from models import ReleasePost
from models.base import utcnow
from tests.helpers import rendered
from tests.test_release_posting import add_channels, post_now
from tests.test_releases import OWNER, button_value, channel_posts, dms_to, events, posts, release_row

WINDOW_HOURS = 1
STRANGER = "U0MALLORY"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # An hour keeps the walk through the backoff short; the rules are the same for 24.
    return {"switchboard_delivery_window_hours": WINDOW_HOURS}


def reports(emulator: SlackEmulator) -> list[Any]:
    return [c for c in dms_to(emulator, OWNER) if "posted in" in c["text"]]


async def retry_until_settled(
    runtime: Runtime, run_jobs: Any, time_machine: time_machine.TimeMachineFixture, *, passes: int = 40
) -> list[ReleasePost]:
    """Run the scheduler, jumping the clock to each post's next attempt, until none is waiting."""
    seen: list[ReleasePost] = []
    for _ in range(passes):
        await run_jobs()
        waiting = [p for p in (await posts(runtime)).values() if p.state in ("pending", "posting")]
        if not waiting:
            return seen
        seen.extend(waiting)
        due = min(p.next_attempt_at or utcnow() for p in waiting)
        time_machine.move_to(max(due, utcnow()) + timedelta(seconds=1), tick=True)
    raise AssertionError("posts still waiting after every pass")


async def assert_posted_once_everywhere(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, channels: list[str]
) -> None:
    """Every channel has the release exactly once, the release is posted, and the owner hears so once."""
    for channel in channels:
        assert len(channel_posts(emulator, channel)) == 1, channel
    assert {p.state for p in (await posts(runtime)).values()} == {"posted"}
    assert (await release_row(runtime)).status == "posted"
    await run_jobs()
    (report,) = reports(emulator)
    everywhere = f"posted in {len(channels)} of {len(channels)} channels"
    assert everywhere in report["text"] and "failed" not in report["text"]


async def test_a_channel_answering_5xx_for_a_while_gets_the_release_once_and_it_is_posted(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    channels = add_channels(emulator, "C0RELEASES", "C0PRODUCT")
    emulator.fail("chat.postMessage", status=503, times=4, when=lambda a: a.get("channel") == "C0RELEASES")
    await post_now(api, channels=channels)
    await run_jobs()

    # Slack is down for one channel: the release is still posting, and says so.
    assert (await release_row(runtime)).status == "posting"
    waiting = (await posts(runtime))["C0RELEASES"]
    assert waiting.state == "pending" and waiting.error == "http_503"
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    assert "Posted in 1 of 2 channels; 1 still to go (1 retrying)" in rendered(status["blocks"])
    assert not reports(emulator)

    retried = await retry_until_settled(runtime, run_jobs, time_machine)
    # Each wait was longer than the last, up to the cap.
    gaps = [b.next_attempt_at - a.next_attempt_at for a, b in zip(retried, retried[1:], strict=False)]
    assert all(g > timedelta(0) for g in gaps) and all(
        g <= MAX_DELIVERY_BACKOFF + timedelta(seconds=5) for g in gaps
    )
    await assert_posted_once_everywhere(emulator, runtime, run_jobs, channels)


async def test_every_channel_answering_503_for_minutes_gets_the_release_once(
    slack: SlackSender,
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    """Slack answers 503 to the first five posts in each of ten channels: minutes of backing off,
    the release `posting` all the while, then every channel has it exactly once."""
    channels = add_channels(emulator, *(f"C0TEAM{n:02d}" for n in range(10)))
    refused: Counter[str] = Counter()

    def outage(args: dict[str, Any]) -> bool:
        channel = str(args.get("channel"))
        if channel not in channels or refused[channel] >= 5:
            return False
        refused[channel] += 1
        return True

    emulator.fail("chat.postMessage", status=503, times=10_000, when=outage)
    started = utcnow()
    await post_now(api, channels=channels)
    await run_jobs()
    assert (await release_row(runtime)).status == "posting"
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    assert "Posted in 0 of 10 channels; 10 still to go (10 retrying)" in rendered(status["blocks"])
    assert "Posted in 0 of 10 channels" in status["text"]

    await retry_until_settled(runtime, run_jobs, time_machine)

    assert utcnow() - started >= timedelta(minutes=4), "the outage lasted minutes"
    assert refused == dict.fromkeys(channels, 5)
    for channel in channels:
        assert len(emulator.calls_to("chat.postMessage", channel=channel)) == 6, channel
    await assert_posted_once_everywhere(emulator, runtime, run_jobs, channels)


async def test_a_permanent_error_on_one_of_three_channels_is_partially_posted_until_retried(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    good = add_channels(emulator, "C0RELEASES", "C0PRODUCT")
    channels = [*good, "C0LAUNCHES"]
    await post_now(api, channels=channels)
    await run_jobs()

    # Refused for good: failed at once, no retry waits for the window.
    stored = await posts(runtime)
    assert (stored["C0LAUNCHES"].state, stored["C0LAUNCHES"].error) == ("failed", "channel_not_found")
    assert len(emulator.calls_to("chat.postMessage", channel="C0LAUNCHES")) == 1
    assert (await release_row(runtime)).status == "partially_posted"
    assert "partially_posted" in [kind for kind, _ in await events(runtime)]

    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    text = rendered(status["blocks"])
    assert "is *partially posted*" in text
    assert "Posted in 2 of 3 channels; 1 failed: <#C0LAUNCHES> (channel_not_found)." in text
    assert "Posted in 2 of 3 channels" in status["text"]

    # One DM to the owner, naming the channel and why, with a retry.
    await run_jobs()
    await run_jobs()
    (report,) = reports(emulator)
    body = rendered(report["blocks"])
    assert "partially posted" in body and "<#C0LAUNCHES>" in body and "channel_not_found" in body
    assert "#C0LAUNCHES (channel_not_found)" in report["text"]

    # Someone else may not retry it: nothing is queued.
    value = button_value(report["blocks"], ReleaseId.RETRY)
    answered = len(emulator.calls_to("response_url"))
    await slack.block_action(ReleaseId.RETRY, value, user=STRANGER)
    (*_, refusal) = await emulator.wait_for("response_url", answered + 1)
    assert refusal["text"].startswith(":warning: Only ") and "<@U0ALICE>" in refusal["text"]
    assert (await posts(runtime))["C0LAUNCHES"].state == "failed"
    assert "retry" not in [kind for kind, _ in await events(runtime)]

    # The channel is created and the owner retries: only it is posted, and the release is posted.
    add_channels(emulator, "C0LAUNCHES")
    answered = len(emulator.calls_to("response_url"))
    await slack.block_action(ReleaseId.RETRY, value, user=OWNER)
    await emulator.wait_for("response_url", answered + 1)
    await run_jobs()
    for channel in channels:
        assert len(channel_posts(emulator, channel)) == 1, channel
    assert {p.state for p in (await posts(runtime)).values()} == {"posted"}
    assert (await release_row(runtime)).status == "posted"
    await run_jobs()
    assert len(reports(emulator)) == 2 and "posted in 3 of 3 channels" in reports(emulator)[-1]["text"]
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    assert "Posted in 3 of 3 channels." in rendered(status["blocks"])
    assert ReleaseId.RETRY not in str(status["blocks"])


async def test_every_channel_refusing_for_good_fails_the_release(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    emulator.add_channel("C0ARCHIVED", "old-news", is_archived=True)
    await post_now(api, channels=["C0GONE", "C0ARCHIVED"])
    await run_jobs()

    release = await release_row(runtime)
    assert release.status == "failed" and release.posted_at is None
    status = (await slack.command("/release", "status 1", user=OWNER)).json()
    assert "is *failed*" in rendered(status["blocks"])
    assert "Posted in 0 of 2 channels; 2 failed: <#C0GONE> (channel_not_found) and <#C0ARCHIVED>" in (
        rendered(status["blocks"])
    )
    await run_jobs()
    (report,) = reports(emulator)
    assert ":x:" in rendered(report["blocks"]) and "posted in 0 of 2 channels; 2 failed" in report["text"]
    listed = (await api.get("/api/v1/releases", params={"status": "failed"})).json()["items"]
    assert [r["id"] for r in listed] == [1]


async def test_a_channel_still_down_when_the_window_closes_fails(
    emulator: SlackEmulator,
    runtime: Runtime,
    api: httpx.AsyncClient,
    run_jobs: Any,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    channels = add_channels(emulator, "C0RELEASES", "C0DOWN")
    emulator.fail("chat.postMessage", status=502, times=10_000, when=lambda a: a.get("channel") == "C0DOWN")
    started = utcnow()
    await post_now(api, channels=channels)
    retried = await retry_until_settled(runtime, run_jobs, time_machine)

    window = timedelta(hours=WINDOW_HOURS)
    # Never a retry planned past the window; the last attempt is the one as it closes.
    assert all(
        p.next_attempt_at is None or p.next_attempt_at <= started + window + timedelta(minutes=1)
        for p in retried
    )
    attempts = emulator.calls_to("chat.postMessage", channel="C0DOWN")
    assert 5 <= len(attempts) <= 15
    stored = await posts(runtime)
    assert (stored["C0DOWN"].state, stored["C0DOWN"].error) == ("failed", "http_502")
    assert not channel_posts(emulator, "C0DOWN") and len(channel_posts(emulator, "C0RELEASES")) == 1
    assert utcnow() - started >= window
    assert (await release_row(runtime)).status == "partially_posted"
    await run_jobs()
    (report,) = reports(emulator)
    assert "#C0DOWN (http_502)" in report["text"]
