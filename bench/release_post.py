"""Time to post one release to 200 channels, under Slack's rate limits.

The real path runs: a release with N audience channels (half English, half French), approved and
scheduled for now, then `JobRunner.tick()` passes until every channel has an answer. Slack is the
local emulator, told to enforce chat.postMessage's documented limits with HTTP 429 + `Retry-After`
(docs.slack.dev/reference/methods/chat.postMessage, "Rate limiting"):

- "1 message per second to a specific channel";
- a workspace-wide limit of "several hundred messages per minute", with "generous burst
  behavior" — taken here as a sustained 300/min (the low end of "several hundred") with a burst
  of 50 messages, enforced as a token bucket.

Every post goes to a different channel, so the binding limit is the workspace one: the first B
posts may go at once, each further one 1/rate later, so N posts need at least (N - B) / rate
seconds. That is the "minimum" the actual time is compared with (target: within 1.2x). Zero lost
and zero duplicated are checked where it matters, in the channels: each has exactly one message
carrying the release's metadata, and every post row records that message's ts.

    .venv/bin/python bench/release_post.py                      # 200 channels, 300/min, burst 50
    .venv/bin/python bench/release_post.py --per-minute 600 --burst 100

Exit status 0 when the target is met and nothing was lost or duplicated, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.core import migrate
from bot.core.runtime import Runtime
from bot.core.settings import load_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, BOT_USER_ID, TEAM_ID
from bot.releases import approval as release_approval
from bot.releases import compose as release_compose
from bot.releases.posting import delivery_key
from bot.releases.schema import ReleaseIn
from bot.scheduler.runner import JobRunner
from bot.web import create_app
from models import Release, ReleasePost, ReleaseStatus

TARGET_RATIO = 1.2
PER_CHANNEL_INTERVAL = 1.0
OWNER = "U0BENCHOWNER"


def theoretical_minimum(posts: int, per_minute: float, burst: int) -> float:
    """Seconds the workspace limit forces between the first and the last of `posts`."""
    return max(posts - burst, 0) / (per_minute / 60.0)


async def compose(runtime: Runtime, channels: list[str]) -> int:
    """A release to every channel (every other one in French), approved, scheduled for now."""
    french = channels[1::2]
    data = ReleaseIn(
        title="Bulk export",
        version="2.4",
        summary="Export all your reports in one go.",
        notes="## What's new\n- **Every report** at once, as *CSV* or *XLSX*\n- Runs in the background",
        channels=channels,
        channel_locales=dict.fromkeys(french, "fr"),
        variants={"fr": {"title": "Export en masse", "summary": "Exportez tous vos rapports d'un coup."}},
        owner=OWNER,
    )
    async with unit_of_work(runtime.session_factory) as session:
        release = await release_compose.create_release(
            session=session, team_id=TEAM_ID, data=data, by="bench"
        )
        await release_approval.approve_release(
            session=session, team_id=TEAM_ID, release_id=release.id, by="bench", as_approver=False
        )
        await release_approval.schedule_release(
            session=session, team_id=TEAM_ID, release_id=release.id, at="now", by="bench"
        )
        return release.id


async def post_everywhere(runtime: Runtime, release_id: int) -> int:
    """Scheduler passes until the release is posted; returns how many passes it took."""
    runner = JobRunner(runtime)
    passes = 0
    while True:
        passes += 1
        await runner.tick()
        async with unit_of_work(runtime.session_factory) as session:
            release = await session.get(Release, release_id)
            assert release is not None
            if release.status == ReleaseStatus.POSTED:
                return passes
        # Work put back for later (a long Retry-After) is due again shortly.
        await asyncio.sleep(0.2)


async def bench(channel_count: int, per_minute: float, burst: int, database_url: str | None) -> bool:
    emulator = SlackEmulator()
    emulator.add_user(OWNER, "owner")
    channels = [f"C0BENCH{i:04d}" for i in range(channel_count)]
    for channel in channels:
        emulator.add_channel(channel, channel.lower(), members=[BOT_USER_ID])
    emulator.enforce_rate_limits(
        {"chat.postMessage": per_minute},
        per_channel_interval=PER_CHANNEL_INTERVAL,
        bursts={"chat.postMessage": burst},
    )
    await emulator.start()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir:
        settings = load_settings(
            database_url=database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}",
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=emulator.url,
            switchboard_scheduler="off",
            _env_file=None,
        )
        url = settings.database_url
        await migrate.upgrade_async(url)
        app = create_app(settings, manage_schema=False, scheduler=False)
        try:
            async with app.router.lifespan_context(app):
                runtime: Runtime = app.state.runtime
                release_id = await compose(runtime, channels)
                started = time.perf_counter()
                passes = await post_everywhere(runtime, release_id)
                elapsed = time.perf_counter() - started
                async with unit_of_work(runtime.session_factory) as session:
                    rows = list(
                        await session.scalars(select(ReleasePost).where(ReleasePost.release_id == release_id))
                    )
        finally:
            await emulator.stop()

    per_channel = Counter(
        channel
        for channel in channels
        for message in emulator.messages.get(channel, [])
        if ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
        == delivery_key(release_id, channel)
    )
    lost = [c for c in channels if per_channel[c] == 0]
    duplicated = [c for c in channels if per_channel[c] > 1]
    recorded = sum(1 for r in rows if r.state == "posted" and r.ts)
    minimum = theoretical_minimum(channel_count, per_minute, burst)
    ratio = elapsed / minimum if minimum else float("inf")
    attempts = len(emulator.calls_to("chat.postMessage"))
    print(
        f"release to {channel_count} channels "
        f"({channel_count - len(channels[1::2])} en, {len(channels[1::2])} fr)"
    )
    print(
        f"limits: chat.postMessage {per_minute:g}/min sustained, burst {burst}, "
        f"{PER_CHANNEL_INTERVAL:g}s per channel; database {url.split(':')[0]}"
    )
    print(f"actual:  {elapsed:.2f}s in {passes} scheduler pass(es)")
    print(f"minimum: {minimum:.2f}s the limits allow  ->  {ratio:.3f}x (target <= {TARGET_RATIO}x)")
    print(
        f"calls: {attempts} chat.postMessage ({emulator.throttled['chat.postMessage']} answered 429), "
        f"{len(emulator.calls_to('conversations.history'))} conversations.history"
    )
    print(f"lost: {len(lost)}  duplicated: {len(duplicated)}  recorded: {recorded}/{channel_count}")
    return ratio <= TARGET_RATIO and not lost and not duplicated and recorded == channel_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--per-minute", type=float, default=300.0, help="workspace chat.postMessage limit")
    parser.add_argument("--burst", type=int, default=50, help="posts Slack allows at once")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a migrated-or-empty database (default: a scratch SQLite file)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ok = asyncio.run(bench(args.channels, args.per_minute, args.burst, args.database_url))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
