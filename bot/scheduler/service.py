"""APScheduler only wakes the runner; the database says what is due."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler.runner import JobRunner

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
TICK_JOB_ID = "switchboard-tick"


class SchedulerService:
    def __init__(self, runtime: Runtime) -> None:
        self.runner = JobRunner(runtime)
        self.interval = runtime.settings.switchboard_tick_seconds
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    async def start(self) -> None:
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            id=TICK_JOB_ID,
            next_run_time=datetime.now().astimezone(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()
        log.info("scheduler started as %s, waking every %ss", self.runner.owner, self.interval)

    def wake(self) -> None:
        """Run a tick now rather than at the next interval (new work was just enqueued)."""
        if self._scheduler.running:
            self._scheduler.modify_job(TICK_JOB_ID, next_run_time=datetime.now().astimezone())

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _tick(self) -> None:
        try:
            await self.runner.tick()
        except Exception:
            log.exception("scheduler tick failed")
