"""One pass of the scheduler: plan what became due, then claim and run due jobs."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.metrics import JOBS_FINISHED, SCHEDULER_LAG
from bot.core.uow import unit_of_work
from bot.scheduler import jobs, retry
from bot.scheduler.heartbeat import Heartbeat, LeaseLost
from bot.scheduler.locks import try_exclusive
from bot.scheduler.registry import JOB_HANDLERS, PLANNERS, JobContext, SkipJob
from models import JobStatus
from models.base import utcnow

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)


def _load_features() -> None:
    """Importing the feature modules registers their job handlers and planners."""
    from bot.scheduler.features import load_features

    load_features()


# A handler still running after this long is stopped and retried, its lease alive or not.
MAX_RUN = timedelta(hours=1)


class JobRunner:
    """Claims due jobs under a lease and runs them; any number may share one database.

    The lease is short (SWITCHBOARD_JOB_LEASE_SECONDS) and renewed by a heartbeat while the job
    waits for its turn and runs, so a runner that dies leaves its jobs to the others a lease later.

    `now` may be given to `tick` so that tests (and the demo) can look at a later moment without
    waiting for it; handlers see it as `JobContext.now`, and leases are written in its terms.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        batch: int = 50,
        concurrency: int = 8,
        lease: timedelta | None = None,
        max_run: timedelta = MAX_RUN,
    ) -> None:
        _load_features()
        self.runtime = runtime
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease or timedelta(seconds=runtime.settings.switchboard_job_lease_seconds)
        self.max_run = max_run
        self._lock = asyncio.Lock()

    async def tick(self, now: datetime | None = None) -> int:
        """Plan, then run due jobs until none is left; returns how many ran."""
        if self._lock.locked():
            return 0
        async with self._lock:
            await self.plan(now)
            total = 0
            while True:
                ran = await self.run_due(now)
                total += ran
                if ran < self.batch:
                    return total

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for a running tick to end (used at shutdown, before the engine is closed)."""
        async with asyncio.timeout(timeout), self._lock:
            return

    async def plan(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        for name, plan in list(PLANNERS.items()):
            try:
                async with try_exclusive(self.runtime.engine, f"planner:{name}") as held:
                    if not held:
                        log.debug("planner %s is running elsewhere; skipped this tick", name)
                        continue
                    await plan(self.runtime, now)
            except Exception:
                log.exception("planner %s failed", name)

    async def run_due(self, now: datetime | None = None) -> int:
        since = time.monotonic()
        async with unit_of_work(self.runtime.session_factory) as session:
            claimed = await jobs.claim_due(
                session=session,
                owner=self.owner,
                limit=self.batch,
                lease=self.lease,
                kinds=set(JOB_HANDLERS),
                now=now,
            )
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        heartbeat = self._heartbeat([job.id for job in claimed], since=since, now=now)

        async def run(job: jobs.ClaimedJob) -> None:
            async with gate:
                await self.run_one(job, now, heartbeat=heartbeat)

        async with heartbeat.running():
            await asyncio.gather(*(run(job) for job in claimed))
        return len(claimed)

    def _heartbeat(self, job_ids: Collection[int], *, since: float, now: datetime | None) -> Heartbeat:
        """Keeps the leases of claimed jobs alive, in their own short units of work."""
        skew = now - utcnow() if now is not None else timedelta(0)

        async def renew(held: Collection[int], expires_at: datetime) -> set[int]:
            async with unit_of_work(self.runtime.session_factory) as session:
                return await jobs.renew_leases(
                    session=session, job_ids=held, owner=self.owner, expires_at=expires_at
                )

        def clock() -> datetime:
            return utcnow() + skew

        return Heartbeat(job_ids, renew=renew, lease=self.lease, since=since, clock=clock, what="job lease")

    async def run_one(
        self, job: jobs.ClaimedJob, now: datetime | None = None, *, heartbeat: Heartbeat
    ) -> None:
        now = now or utcnow()
        SCHEDULER_LAG.labels(kind=job.kind).observe(max((now - job.run_at).total_seconds(), 0.0))
        handler = JOB_HANDLERS.get(job.kind)
        status, result, error = JobStatus.DONE, None, None
        if handler is None:
            status, error = JobStatus.FAILED, f"no handler for job kind {job.kind!r}"
        elif job.expires_at is not None and now > job.expires_at:
            status, error = JobStatus.SKIPPED, "missed while no scheduler ran; no longer meaningful"
            log.info(
                "skipping %s %s: due %s, expired %s", job.kind, job.dedupe_key, job.run_at, job.expires_at
            )
        else:
            try:
                result = await heartbeat.guard(
                    handler(JobContext(runtime=self.runtime, job=job, now=now)),
                    row=job.id,
                    limit=self.max_run.total_seconds(),
                )
            except LeaseLost as exc:
                # Nothing is written: the job is another runner's now, or will be once the lease
                # this runner could not renew runs out.
                log.warning("job %s %s stopped (attempt %s): %s", job.kind, job.dedupe_key, job.attempts, exc)
                return
            except SkipJob as exc:
                status, error = JobStatus.SKIPPED, str(exc)
                log.info("skipping %s %s: %s", job.kind, job.dedupe_key, exc)
            except Exception as exc:
                log.exception("job %s %s failed (attempt %s)", job.kind, job.dedupe_key, job.attempts)
                error = await retry.after_failure(self.runtime, job, exc, owner=self.owner, now=now)
                if error is None:
                    return
                status = JobStatus.FAILED
        heartbeat.release(job.id)
        async with unit_of_work(self.runtime.session_factory) as session:
            held = await jobs.finish(
                session=session,
                job_id=job.id,
                owner=self.owner,
                status=status,
                result=result,
                error=error,
            )
        if not held:
            log.warning("job %s finished after its lease was taken over", job.id)
        JOBS_FINISHED.labels(kind=job.kind, status=status).inc()
