"""Short leases kept alive by a heartbeat: renewed while the work runs, the work stopped at once
when its lease is taken over or cannot be renewed in time, and never shared by two runners.

Every test runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.releases.releases import enqueue_delivery, get_release
from bot.scheduler import jobs
from bot.scheduler.registry import JobContext
from bot.scheduler.runner import JobRunner
from models import Job, JobStatus
from models.base import utcnow
from tests.test_release_posting import add_channels, post_now
from tests.test_releases import TEAM, channel_posts, posts, release_row
from tests.test_scheduler import Register, add_job, job_row, other_runtime, register_kind

__all__ = ["other_runtime", "register_kind"]

# Long enough that a renewal (due a third of a lease in, with a third to spare) has a second to
# answer on a machine busy with the rest of the suite.
LEASE = timedelta(seconds=3)
SLOW = "test.slow"


async def wait_until(event: asyncio.Event, what: str, timeout: float = 20.0) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {timeout:g} s") from None


async def test_the_heartbeat_moves_the_lease_on_while_the_handler_runs(
    runtime: Runtime, register_kind: Register
) -> None:
    seen: list[datetime] = []

    async def works_a_while(ctx: JobContext) -> dict[str, Any]:
        for _ in range(4):
            row = await job_row(ctx.runtime, SLOW, ctx.job.dedupe_key)
            assert row.lease_expires_at is not None
            seen.append(row.lease_expires_at)
            await asyncio.sleep(LEASE.total_seconds() / 2)
        return {"done": True}

    register_kind(SLOW, works_a_while)
    await add_job(runtime, "long", kind=SLOW)
    await asyncio.wait_for(JobRunner(runtime, lease=LEASE).tick(), timeout=60)

    row = await job_row(runtime, SLOW, "long")
    assert (row.status, row.attempts, row.result) == (JobStatus.DONE, 1, {"done": True})
    assert seen == sorted(seen) and seen[-1] > seen[0] + LEASE, f"the lease was not renewed: {seen}"


async def test_a_job_whose_lease_was_taken_over_is_cancelled_at_once(
    runtime: Runtime, register_kind: Register
) -> None:
    started = asyncio.Event()
    cancelled_at: list[float] = []

    async def hangs(ctx: JobContext) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled_at.append(time.monotonic())
            raise

    register_kind(SLOW, hangs)
    await add_job(runtime, "contested", kind=SLOW)
    ticking = asyncio.create_task(JobRunner(runtime, lease=LEASE).tick())
    await wait_until(started, "the handler starting")
    # As if this runner had stalled past its lease and another one had claimed the job.
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.kind == SLOW)
            .values(lease_owner="other-runner", lease_expires_at=utcnow() + timedelta(minutes=5))
        )
    taken_at = time.monotonic()
    await asyncio.wait_for(ticking, timeout=20)

    assert cancelled_at, "the handler kept running on a job another runner owns"
    assert cancelled_at[0] - taken_at < LEASE.total_seconds(), "stopped at the next heartbeat"
    row = await job_row(runtime, SLOW, "contested")
    assert (row.status, row.lease_owner) == (JobStatus.RUNNING, "other-runner"), "nothing was written"
    assert (row.result, row.last_error, row.attempts) == (None, None, 1)


async def test_a_handler_outliving_several_leases_finishes_once_and_no_other_runner_claims_it(
    runtime: Runtime, other_runtime: Runtime, register_kind: Register
) -> None:
    started = asyncio.Event()
    runs: Counter[int] = Counter()

    async def outlives_two_leases(ctx: JobContext) -> dict[str, Any]:
        runs[id(ctx.runtime)] += 1
        started.set()
        await asyncio.sleep(2.5 * LEASE.total_seconds())
        return {"done": True}

    register_kind(SLOW, outlives_two_leases)
    await add_job(runtime, "long", kind=SLOW)
    first, second = JobRunner(runtime, lease=LEASE), JobRunner(other_runtime, lease=LEASE)
    ticking = asyncio.create_task(first.tick())
    await wait_until(started, "the first runner starting the job")
    taken_by_second = 0
    async with asyncio.timeout(60):
        while not ticking.done():
            taken_by_second += await second.run_due()
            await asyncio.sleep(0.05)
    await ticking

    assert taken_by_second == 0 and runs == {id(runtime): 1}
    row = await job_row(runtime, SLOW, "long")
    assert (row.status, row.attempts, row.result) == (JobStatus.DONE, 1, {"done": True})


async def test_a_runner_looking_at_a_later_moment_renews_in_that_moments_terms(
    runtime: Runtime, other_runtime: Runtime, register_kind: Register
) -> None:
    """A tick given `now` a day ahead writes and renews leases a day ahead: another runner looking
    at the same moment finds the job held, not expired."""
    started = asyncio.Event()
    runs: list[datetime] = []

    async def outlives_its_lease(ctx: JobContext) -> None:
        runs.append(ctx.now)
        started.set()
        await asyncio.sleep(1.5 * LEASE.total_seconds())

    register_kind(SLOW, outlives_its_lease)
    await add_job(runtime, "tomorrow", kind=SLOW)
    tomorrow = utcnow() + timedelta(days=1)
    ticking = asyncio.create_task(JobRunner(runtime, lease=LEASE).tick(now=tomorrow))
    await wait_until(started, "the handler starting")
    second = JobRunner(other_runtime, lease=LEASE)
    async with asyncio.timeout(60):
        while not ticking.done():
            same_moment = utcnow() + timedelta(days=1)
            assert await second.run_due(now=same_moment) == 0, "taken over while its lease held"
            await asyncio.sleep(0.05)
    await ticking

    assert runs == [tomorrow]
    row = await job_row(runtime, SLOW, "tomorrow")
    assert (row.status, row.attempts) == (JobStatus.DONE, 1)


@pytest.mark.parametrize("outage", ["refused", "silent"])
async def test_a_runner_that_cannot_renew_its_lease_stops_the_handler_before_it_runs_out(
    runtime: Runtime, register_kind: Register, monkeypatch: pytest.MonkeyPatch, outage: str
) -> None:
    stopped_at: list[datetime] = []

    async def hangs_the_first_time(ctx: JobContext) -> dict[str, Any]:
        if ctx.job.attempts == 1:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                stopped_at.append(utcnow())
                raise
        return {"attempt": ctx.job.attempts}

    async def unreachable(**kwargs: Any) -> set[int]:
        if outage == "refused":
            raise ConnectionRefusedError("the database refuses connections")
        await asyncio.sleep(60)  # a silent network: the renewal never answers
        return set()

    register_kind(SLOW, hangs_the_first_time)
    await add_job(runtime, "cut-off", kind=SLOW)
    runner = JobRunner(runtime, lease=LEASE)
    monkeypatch.setattr(jobs, "renew_leases", unreachable)
    await asyncio.wait_for(runner.tick(), timeout=20)
    monkeypatch.undo()

    row = await job_row(runtime, SLOW, "cut-off")
    assert row.lease_expires_at is not None
    assert stopped_at and stopped_at[0] < row.lease_expires_at, "stopped while the lease still held"
    assert (row.status, row.lease_owner, row.last_error) == (JobStatus.RUNNING, runner.owner, None)

    # Once the lease has run out, another runner takes the job over.
    later = row.lease_expires_at + timedelta(seconds=1)
    await asyncio.wait_for(JobRunner(runtime, lease=LEASE).tick(now=later), timeout=20)
    row = await job_row(runtime, SLOW, "cut-off")
    assert (row.status, row.attempts, row.result) == (JobStatus.DONE, 2, {"attempt": 2})


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_job_lease_seconds": 3}


async def test_post_leases_are_kept_alive_while_slack_is_slow_to_answer(
    emulator: SlackEmulator, runtime: Runtime, other_runtime: Runtime, api: httpx.AsyncClient
) -> None:
    """Slack takes longer to answer than a post's lease lasts: a second scheduler's pass over the
    same release finds the posts still held and never takes them over."""
    channels = add_channels(emulator, "C0SLOW1", "C0SLOW2")
    emulator.slow_down(4.0, "chat.postMessage")
    release = await post_now(api, channels=channels)
    first, second = JobRunner(runtime), JobRunner(other_runtime)
    assert first.lease == timedelta(seconds=3)
    ticking = asyncio.create_task(first.tick())
    await emulator.wait_for("chat.postMessage", 2, timeout=20)
    async with unit_of_work(runtime.session_factory) as session:
        row = await get_release(session=session, team_id=TEAM, release_id=release["id"])
        await enqueue_delivery(
            session=session, release=row, run_at=utcnow(), reason="test", key="second-pass"
        )
    passes_by_second = 0
    async with asyncio.timeout(60):
        while not ticking.done():
            passes_by_second += await second.run_due()
            await asyncio.sleep(0.1)
    await ticking

    assert passes_by_second >= 1, "the second scheduler ran a pass meanwhile"
    for channel in channels:
        assert len(emulator.calls_to("chat.postMessage", channel=channel)) == 1, channel
        assert len(channel_posts(emulator, channel, release["id"])) == 1, channel
    assert not emulator.calls_to("conversations.history"), "no post was taken over"
    assert all(p.state == "posted" for p in (await posts(runtime, release["id"])).values())
    assert (await release_row(runtime, release["id"])).status == "posted"
