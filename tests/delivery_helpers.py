"""What the delivery-window tests share: a Slack outage on the clock, and a scheduler run through
every retry of the jobs under test, jumping the clock to each next attempt."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.scheduler.retry import MAX_DELIVERY_BACKOFF
from models import Job, JobStatus
from models.base import utcnow

# Long enough for a four-hour outage to be waited out, short enough to walk through quickly.
WINDOW_HOURS = 6


def outage(
    emulator: SlackEmulator,
    *,
    until: datetime,
    status: int = 502,
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> None:
    """chat.postMessage answers `status` (matching `when`) until the clock reaches `until`."""
    emulator.fail(
        "chat.postMessage",
        status=status,
        times=1_000_000,
        when=lambda args: utcnow() < until and (when is None or when(args)),
    )


@dataclass(frozen=True)
class Attempt:
    kind: str
    key: str
    attempts: int
    run_at: datetime
    error: str | None


async def jobs_of(runtime: Runtime, *kinds: str) -> list[Job]:
    async with unit_of_work(runtime.session_factory) as session:
        query = select(Job).where(Job.kind.in_(kinds)).order_by(Job.id)
        return list((await session.scalars(query)).all())


async def run_until_settled(
    runtime: Runtime,
    run_jobs: Any,
    clock: time_machine.TimeMachineFixture,
    kinds: Collection[str],
    *,
    passes: int = 200,
) -> list[Attempt]:
    """Run the scheduler, moving the clock to the next attempt of any waiting job of `kinds`, until
    none is waiting; the waits seen on the way, in order."""
    seen: list[Attempt] = []
    for _ in range(passes):
        await run_jobs()
        waiting = [j for j in await jobs_of(runtime, *kinds) if j.status == JobStatus.PENDING]
        if not waiting:
            return seen
        seen.extend(Attempt(j.kind, j.dedupe_key, j.attempts, j.run_at, j.last_error) for j in waiting)
        due = min(j.run_at for j in waiting)
        clock.move_to(max(due, utcnow()) + timedelta(seconds=1), tick=True)
    raise AssertionError(f"jobs of {sorted(kinds)} still waiting after {passes} passes")


def retries_of(seen: list[Attempt], kind: str, key: str | None = None) -> list[Attempt]:
    """One job's planned attempts, each once."""
    found: dict[int, Attempt] = {}
    for attempt in seen:
        if attempt.kind == kind and (key is None or attempt.key == key):
            found.setdefault(attempt.attempts, attempt)
    return [found[n] for n in sorted(found)]


def assert_capped_backoff(retries: list[Attempt]) -> None:
    """Each wait is at least as long as the one before (but the last, which may be cut short by the
    window closing), and none is longer than the cap."""
    gaps = [b.run_at - a.run_at for a, b in zip(retries, retries[1:], strict=False)]
    assert len(gaps) > 1, "the job was hardly retried"
    assert all(g <= MAX_DELIVERY_BACKOFF + timedelta(seconds=5) for g in gaps), gaps
    growing = gaps[:-1]
    assert all(b >= a - timedelta(seconds=5) for a, b in zip(growing, growing[1:], strict=False)), gaps


def posts_to(emulator: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    """What Slack was asked to post in `channel` (a user id for a DM), failed calls included."""
    return [c.args for c in emulator.calls_to("chat.postMessage", channel=channel)]


def delivered(emulator: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    """The messages Slack holds in `channel` (a user id for their DM)."""
    stored = "D" + channel[1:] if channel.startswith("U") else channel
    return list(emulator.messages.get(stored, []))
