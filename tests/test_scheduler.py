"""The job queue and its runners: idempotent enqueue, leases, retries, expiry, and scale-out.

Every test runs on SQLite and, when configured, PostgreSQL (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.posting import METADATA_EVENT, post_once
from bot.core.runtime import Runtime, build_runtime
from bot.core.settings import Settings
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.scheduler import jobs
from bot.scheduler.registry import (
    JOB_HANDLERS,
    PLANNERS,
    JobContext,
    JobHandler,
    Planner,
    job_handler,
    planner,
)
from bot.scheduler.retry import backoff
from bot.scheduler.runner import JobRunner
from bot.scheduler.service import SchedulerService
from models import Job, JobStatus
from models.base import utcnow

TEAM = "T0SWITCH"
POST_KIND = "test.post"

Register = Callable[[str, JobHandler], None]


@pytest.fixture
def register_kind() -> Iterator[Register]:
    """Register test-only job kinds; they are removed again after the test."""
    added: list[str] = []

    def register(kind: str, handler: JobHandler) -> None:
        job_handler(kind)(handler)
        added.append(kind)

    yield register
    for kind in added:
        JOB_HANDLERS.pop(kind, None)


@pytest.fixture
def register_planner() -> Iterator[Callable[[str, Planner], None]]:
    added: list[str] = []

    def register(name: str, fn: Planner) -> None:
        planner(name)(fn)
        added.append(name)

    yield register
    for name in added:
        PLANNERS.pop(name, None)


@pytest.fixture
async def other_runtime(settings: Settings, runtime: Runtime) -> AsyncIterator[Runtime]:
    """A second process's runtime: its own engine and connection pool over the same database."""
    second = build_runtime(settings)
    yield second
    await second.close()


async def post_job(ctx: JobContext) -> dict[str, Any]:
    client = await ctx.client()
    return await post_once(
        client,
        channel="C0GENERAL",
        key=f"job:{ctx.job.id}",
        text=f"job {ctx.job.dedupe_key}",
        maybe_posted=ctx.job.attempts > 1,
    )


async def add_job(runtime: Runtime, key: str, kind: str = POST_KIND, **kwargs: Any) -> bool:
    async with unit_of_work(runtime.session_factory) as session:
        return await jobs.enqueue(session=session, team_id=TEAM, kind=kind, key=key, **kwargs)


async def job_row(runtime: Runtime, kind: str, key: str) -> Job:
    async with unit_of_work(runtime.session_factory) as session:
        job = await session.scalar(select(Job).where(Job.kind == kind, Job.dedupe_key == key))
        assert job is not None
        return job


def posted_keys(emulator: SlackEmulator, channel: str = "C0GENERAL") -> list[str]:
    return [
        m["metadata"]["event_payload"]["key"]
        for m in emulator.messages[channel]
        if (m.get("metadata") or {}).get("event_type") == METADATA_EVENT
    ]


async def test_enqueue_is_idempotent_by_kind_and_key(runtime: Runtime) -> None:
    assert await add_job(runtime, "k1", payload={"n": 1}) is True
    assert await add_job(runtime, "k1", payload={"n": 2}) is False
    assert await add_job(runtime, "k1", kind="test.other") is True
    async with unit_of_work(runtime.session_factory) as session:
        rows = (await session.scalars(select(Job).where(Job.dedupe_key == "k1"))).all()
    assert sorted(r.kind for r in rows) == ["test.other", POST_KIND]
    assert next(r for r in rows if r.kind == POST_KIND).payload == {"n": 1}


async def test_claim_takes_only_due_jobs_and_holds_them_under_a_lease(runtime: Runtime) -> None:
    now = utcnow()
    await add_job(runtime, "due", run_at=now - timedelta(seconds=1))
    await add_job(runtime, "later", run_at=now + timedelta(minutes=2))
    lease = timedelta(minutes=5)
    async with unit_of_work(runtime.session_factory) as session:
        claimed = await jobs.claim_due(session=session, owner="a", now=now, lease=lease)
    assert [j.dedupe_key for j in claimed] == ["due"]
    assert claimed[0].attempts == 1

    async with unit_of_work(runtime.session_factory) as session:
        assert await jobs.claim_due(session=session, owner="b", now=now, lease=lease) == []
        later = await jobs.claim_due(session=session, owner="b", now=now + timedelta(minutes=2), lease=lease)
    assert [j.dedupe_key for j in later] == ["later"], "the first job's lease has not run out yet"


async def test_claim_only_takes_kinds_the_runner_knows(runtime: Runtime, register_kind: Register) -> None:
    await add_job(runtime, "x", kind="test.unknown")
    await add_job(runtime, "y")
    register_kind(POST_KIND, post_job)
    await JobRunner(runtime).tick()
    assert (await job_row(runtime, "test.unknown", "x")).status == JobStatus.PENDING
    assert (await job_row(runtime, POST_KIND, "y")).status == JobStatus.DONE


async def test_job_whose_holder_died_is_reclaimed_and_its_message_is_not_posted_twice(
    runtime: Runtime, other_runtime: Runtime, emulator: SlackEmulator, register_kind: Register
) -> None:
    register_kind(POST_KIND, post_job)
    await add_job(runtime, "announce")
    dead = JobRunner(runtime)
    async with unit_of_work(runtime.session_factory) as session:
        (job,) = await jobs.claim_due(session=session, owner=dead.owner, lease=dead.lease, kinds={POST_KIND})
    # The holder reaches Slack, then dies before recording the outcome.
    await post_job(JobContext(runtime=runtime, job=job, now=utcnow()))
    assert len(emulator.messages["C0GENERAL"]) == 1

    survivor = JobRunner(other_runtime)
    await survivor.tick()
    row = await job_row(runtime, POST_KIND, "announce")
    assert (row.status, row.lease_owner) == (JobStatus.RUNNING, dead.owner), "lease still held"

    await survivor.tick(now=utcnow() + dead.lease + timedelta(seconds=1))
    row = await job_row(runtime, POST_KIND, "announce")
    assert (row.status, row.attempts) == (JobStatus.DONE, 2)
    assert row.result is not None and row.result["recovered"] == "true"
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert posted_keys(emulator) == [f"job:{job.id}"]

    async with unit_of_work(runtime.session_factory) as session:
        late = await jobs.finish(session=session, job_id=job.id, owner=dead.owner, status=JobStatus.DONE)
    assert late is False, "a holder whose lease was taken over cannot overwrite the outcome"


async def test_handler_that_fails_after_posting_is_retried_without_posting_again(
    runtime: Runtime, emulator: SlackEmulator, register_kind: Register
) -> None:
    async def post_then_crash(ctx: JobContext) -> dict[str, Any]:
        result = await post_job(ctx)
        if ctx.job.attempts == 1:
            raise ConnectionError("database went away after Slack answered")
        return result

    register_kind(POST_KIND, post_then_crash)
    await add_job(runtime, "flaky")
    runner = JobRunner(runtime)
    start = utcnow()
    await runner.tick(now=start)
    row = await job_row(runtime, POST_KIND, "flaky")
    assert (row.status, row.attempts) == (JobStatus.PENDING, 1)
    assert row.last_error is not None and "database went away" in row.last_error

    await runner.tick(now=start + backoff(1) + timedelta(seconds=1))
    row = await job_row(runtime, POST_KIND, "flaky")
    assert (row.status, row.attempts) == (JobStatus.DONE, 2)
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert len(emulator.messages["C0GENERAL"]) == 1


async def test_expired_work_is_skipped_with_a_log_line(
    runtime: Runtime, emulator: SlackEmulator, register_kind: Register, caplog: pytest.LogCaptureFixture
) -> None:
    register_kind(POST_KIND, post_job)
    now = utcnow()
    await add_job(
        runtime, "standup-prompt", run_at=now - timedelta(hours=3), expires_at=now - timedelta(hours=1)
    )
    await add_job(
        runtime, "still-meaningful", run_at=now - timedelta(hours=3), expires_at=now + timedelta(hours=1)
    )
    with caplog.at_level(logging.INFO, logger="bot.scheduler.runner"):
        await JobRunner(runtime).tick(now=now)
    expired = await job_row(runtime, POST_KIND, "standup-prompt")
    assert expired.status == JobStatus.SKIPPED and "no longer meaningful" in (expired.last_error or "")
    assert (await job_row(runtime, POST_KIND, "still-meaningful")).status == JobStatus.DONE
    assert any("skipping test.post standup-prompt" in r.getMessage() for r in caplog.records)
    assert posted_keys(emulator) == [f"job:{(await job_row(runtime, POST_KIND, 'still-meaningful')).id}"]


async def test_failing_handler_backs_off_then_fails_after_max_attempts(
    runtime: Runtime, register_kind: Register
) -> None:
    calls: list[int] = []

    async def always_fails(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        raise ValueError(f"boom {ctx.job.attempts}")

    register_kind("test.fails", always_fails)
    await add_job(runtime, "doomed", kind="test.fails", max_attempts=3)
    runner = JobRunner(runtime)
    start = utcnow()
    await runner.tick(now=start)
    first_retry = (await job_row(runtime, "test.fails", "doomed")).run_at
    assert first_retry == start + backoff(1)

    await runner.tick(now=first_retry - timedelta(seconds=1))
    assert calls == [1], "not run again before its backoff elapsed"

    await runner.tick(now=first_retry)
    second_retry = (await job_row(runtime, "test.fails", "doomed")).run_at
    assert second_retry == first_retry + backoff(2) and backoff(2) > backoff(1)

    await runner.tick(now=second_retry)
    row = await job_row(runtime, "test.fails", "doomed")
    assert calls == [1, 2, 3]
    assert (row.status, row.attempts) == (JobStatus.FAILED, 3)
    assert row.last_error is not None and "boom 3" in row.last_error

    await runner.tick(now=second_retry + timedelta(days=1))
    assert calls == [1, 2, 3], "a failed job is never picked up again"


async def test_two_runners_over_one_database_run_300_jobs_exactly_once(
    runtime: Runtime, other_runtime: Runtime, emulator: SlackEmulator, register_kind: Register
) -> None:
    runs: Counter[str] = Counter()
    by_runtime: Counter[int] = Counter()

    async def post_and_count(ctx: JobContext) -> dict[str, Any]:
        runs[ctx.job.dedupe_key] += 1
        by_runtime[id(ctx.runtime)] += 1
        await asyncio.sleep(0)
        return await post_job(ctx)

    register_kind(POST_KIND, post_and_count)
    async with unit_of_work(runtime.session_factory) as session:
        for n in range(300):
            await jobs.enqueue(session=session, team_id=TEAM, kind=POST_KIND, key=f"post-{n:03d}")

    first = JobRunner(runtime, batch=20)
    second = JobRunner(other_runtime, batch=20)
    await asyncio.gather(first.tick(), second.tick())

    assert len(runs) == 300 and set(runs.values()) == {1}
    assert by_runtime[id(runtime)] > 0 and by_runtime[id(other_runtime)] > 0, dict(by_runtime)
    async with unit_of_work(runtime.session_factory) as session:
        statuses = dict(
            (
                await session.execute(
                    select(Job.status, func.count()).where(Job.kind == POST_KIND).group_by(Job.status)
                )
            ).all()
        )
        attempts = set((await session.scalars(select(Job.attempts).where(Job.kind == POST_KIND))).all())
    assert statuses == {JobStatus.DONE: 300}
    assert attempts == {1}
    assert len(emulator.calls_to("chat.postMessage")) == 300
    keys = posted_keys(emulator)
    assert len(keys) == 300 and len(set(keys)) == 300


async def test_planners_on_many_replicas_enqueue_each_key_once(
    runtime: Runtime, other_runtime: Runtime
) -> None:
    """Even with no exclusion at all, the unique (kind, key) keeps concurrent planners from doubling."""

    async def plan_digests(rt: Runtime) -> int:
        added = 0
        async with unit_of_work(rt.session_factory) as session:
            for n in range(40):
                added += await jobs.enqueue(session=session, team_id=TEAM, kind="test.digest", key=f"w{n}")
                await asyncio.sleep(0)
        return added

    added = await asyncio.gather(*(plan_digests(rt) for rt in [runtime, other_runtime] * 3))
    assert sum(added) == 40
    async with unit_of_work(runtime.session_factory) as session:
        count = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == "test.digest"))
    assert count == 40


async def test_a_planner_runs_on_one_replica_at_a_time(
    runtime: Runtime,
    other_runtime: Runtime,
    register_planner: Callable[[str, Planner], None],
) -> None:
    active = 0
    most = 0
    ran = 0

    async def plan_weekly(rt: Runtime, now: Any) -> None:
        nonlocal active, most, ran
        active += 1
        ran += 1
        most = max(most, active)
        try:
            await asyncio.sleep(0.05)
            async with unit_of_work(rt.session_factory) as session:
                for n in range(10):
                    await jobs.enqueue(session=session, team_id=TEAM, kind="test.weekly", key=f"k{n}")
        finally:
            active -= 1

    register_planner("test.weekly", plan_weekly)
    runners = [JobRunner(rt) for rt in (runtime, other_runtime, runtime, other_runtime)]
    await asyncio.gather(*(r.plan() for r in runners))
    assert ran >= 1 and most == 1
    async with unit_of_work(runtime.session_factory) as session:
        count = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == "test.weekly"))
    assert count == 10

    await asyncio.gather(*(r.plan() for r in runners[:1]))
    assert ran >= 2, "the lock is released when the planner ends"


async def test_scheduler_service_ticks_at_start_wakes_promptly_and_stops(
    runtime: Runtime, register_kind: Register
) -> None:
    register_kind(POST_KIND, post_job)

    async def wait_done(key: str, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while (await job_row(runtime, POST_KIND, key)).status != JobStatus.DONE:
                await asyncio.sleep(0.02)

    await add_job(runtime, "before-start")
    service = SchedulerService(runtime)
    service.interval = 3600
    await service.start()
    try:
        await wait_done("before-start")
        await add_job(runtime, "woken")
        service.wake()
        await wait_done("woken", timeout=2.0)
    finally:
        await service.stop()
    assert not service.running
    await add_job(runtime, "after-stop")
    service.wake()
    await asyncio.sleep(0.2)
    assert (await job_row(runtime, POST_KIND, "after-stop")).status == JobStatus.PENDING


async def test_handler_running_past_the_hard_cap_is_stopped_and_retried(
    runtime: Runtime, register_kind: Register
) -> None:
    started: list[int] = []

    async def hangs(ctx: JobContext) -> None:
        started.append(ctx.job.attempts)
        await asyncio.sleep(60)

    register_kind("test.hangs", hangs)
    await add_job(runtime, "slow", kind="test.hangs")
    runner = JobRunner(runtime, lease=timedelta(seconds=3), max_run=timedelta(seconds=0.5))
    start = utcnow()
    await asyncio.wait_for(runner.tick(now=start), timeout=10)

    row = await job_row(runtime, "test.hangs", "slow")
    assert started == [1]
    assert (row.status, row.lease_owner) == (JobStatus.PENDING, None)
    assert row.run_at == start + backoff(1)
    assert row.last_error is not None and "TimeoutError" in row.last_error
