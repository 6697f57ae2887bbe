"""Time to prompt 500 function owners for one readiness standup, under Slack's rate limits.

The real scheduler path runs: a launch with N function owners (one function each), a manual
standup run, then one `JobRunner.tick()` that claims the prompt job and sends every DM. Slack is
the local emulator, told to enforce Slack's published limits with HTTP 429 + `Retry-After`:

- chat.postMessage ("special" tier): about 1 message per second per channel, and a workspace-wide
  limit of "several hundred messages per minute" — taken here as 300/min, the low end;
- Tier 3 (50+/min): conversations.open, conversations.history, chat.update;
- Tier 4 (100+/min): users.info, views.open, views.publish.

Every DM goes to a different person (a different channel), so the binding limit is the workspace
one: with a sliding one-minute window of L messages, message L+1 cannot go before the first has
left the window, so N messages need at least floor((N - 1) / L) minutes. That is the "minimum"
the actual time is compared with (target: within 1.2x). Zero lost and zero duplicated are checked
in the emulator: every owner has exactly one DM, and every prompt row records its message.

    .venv/bin/python bench/standup_prompts.py                 # 500 owners, 300 posts/min
    .venv/bin/python bench/standup_prompts.py --no-pacing     # rely on 429 + Retry-After only

Exit status 0 when the target is met and nothing was lost or duplicated, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.core import migrate
from bot.core import pacing as launch_pacing
from bot.core.db import SessionFactory
from bot.core.settings import load_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_TOKEN, BOT_USER_ID, TEAM_ID
from bot.launches import standups
from bot.scheduler.runner import JobRunner
from bot.web import create_app
from models.base import utcnow
from models.launch import Launch, LaunchFunction, StandupPrompt

TARGET_RATIO = 1.2
WINDOW_SECONDS = 60.0
# Slack's documented limits (docs.slack.dev/apis/web-api/rate-limits), calls per minute per workspace.
SLACK_LIMITS: dict[str, float] = {
    "chat.postMessage": 300.0,
    "conversations.open": 50.0,
    "conversations.history": 50.0,
    "chat.update": 50.0,
    "users.info": 100.0,
    "views.open": 100.0,
    "views.publish": 100.0,
}
PER_CHANNEL_INTERVAL = 1.0


def theoretical_minimum(messages: int, per_minute: float) -> float:
    """Seconds the workspace limit forces between the first and the last of `messages` posts."""
    return math.floor((messages - 1) / int(per_minute)) * WINDOW_SECONDS


async def seed(session_factory: SessionFactory, owners: list[str]) -> int:
    """A launch whose every function has its own owner, with one manual standup run queued."""
    async with unit_of_work(session_factory) as session:
        launch = Launch(
            team_id=TEAM_ID,
            slug="bench-launch",
            name="Bench launch",
            target_date=date.today() + timedelta(days=30),
            channel="C0BENCH",
            owner=owners[0],
            standups_enabled=False,
            gonogo_days_before=None,
            timezone="UTC",
        )
        session.add(launch)
        await session.flush()
        session.add_all(
            LaunchFunction(
                team_id=TEAM_ID, launch_id=launch.id, name=f"Function {i:04d}", position=i, owner=user
            )
            for i, user in enumerate(owners)
        )
        await session.flush()
        run = await standups.start_manual_run(session=session, launch=launch, now=utcnow(), by=owners[0])
        return run.id


async def bench(owners_count: int, per_minute: float, pacing: bool) -> int:
    limits = {**SLACK_LIMITS, "chat.postMessage": per_minute}
    emulator = SlackEmulator()
    owners = [f"U0OWNER{i:04d}" for i in range(owners_count)]
    for user in owners:
        emulator.add_user(user, user.lower())
    emulator.add_channel("C0BENCH", "launch-bench", members=[BOT_USER_ID])
    emulator.enforce_rate_limits(limits, per_channel_interval=PER_CHANNEL_INTERVAL)
    await emulator.start()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as workdir:
        database_url = f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
        await migrate.upgrade_async(database_url)
        settings = load_settings(
            database_url=database_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=emulator.url,
            switchboard_scheduler="off",
            _env_file=None,
        )
        app = create_app(settings, manage_schema=False, scheduler=False)
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            launch_pacing.configure(
                runtime.http,
                limits if pacing else {},
                per_channel_interval=PER_CHANNEL_INTERVAL if pacing else 0,
            )
            run_id = await seed(runtime.session_factory, owners)
            runner = JobRunner(runtime)
            emulator.reset_calls()
            started = time.monotonic()
            await runner.tick()
            elapsed = time.monotonic() - started
            async with unit_of_work(runtime.session_factory) as session:
                recorded = await session.scalar(
                    select(func.count())
                    .select_from(StandupPrompt)
                    .where(StandupPrompt.run_id == run_id, StandupPrompt.message_ts.is_not(None))
                )
    await emulator.stop()

    posts = [c for c in emulator.calls if c.method == "chat.postMessage"]
    accepted = [r for r in emulator.responses if r["method"] == "chat.postMessage" and r.get("ok")]
    per_user = Counter(len(emulator.messages.get("D" + user[1:], [])) for user in owners)
    lost = per_user.get(0, 0)
    duplicated = sum(count for n, count in per_user.items() if n > 1)
    first = min(c.at for c in posts)
    last_accepted = max(c.at for c in posts)
    minimum = theoretical_minimum(owners_count, per_minute)
    ratio = elapsed / minimum if minimum else float("nan")

    print(f"owners prompted           {owners_count} (one DM each, {'paced' if pacing else 'unpaced'})")
    print(f"limits                    chat.postMessage {per_minute:.0f}/min per workspace, 1/s per channel")
    print(f"actual                    {elapsed:.2f} s (first to last post {last_accepted - first:.2f} s)")
    print(f"theoretical minimum       {minimum:.2f} s = floor(({owners_count} - 1) / {per_minute:.0f}) min")
    print(f"actual / minimum          {ratio:.3f}x (target <= {TARGET_RATIO}x)")
    throttled = emulator.throttled["chat.postMessage"]
    print(f"chat.postMessage calls    {len(posts)} sent, {len(accepted)} accepted, 429s {throttled}")
    print(f"lost                      {lost}")
    print(f"duplicated                {duplicated}")
    print(f"prompt rows with a ts     {recorded} of {owners_count}")
    met = ratio <= TARGET_RATIO and lost == 0 and duplicated == 0 and recorded == owners_count
    print("result                    " + ("ok" if met else "MISSED"))
    return 0 if met else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--owners", type=int, default=500)
    parser.add_argument("--per-minute", type=float, default=SLACK_LIMITS["chat.postMessage"])
    parser.add_argument("--no-pacing", action="store_true", help="send at once and rely on 429 + Retry-After")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(bench(args.owners, args.per_minute, pacing=not args.no_pacing)))


if __name__ == "__main__":
    main()
