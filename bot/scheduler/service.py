"""APScheduler only wakes the runner; the database says what is due."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler.runner import JobRunner

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)
TICK_JOB_ID = "switchboard-tick"


class SchedulerService:
    def __init__(self, runtime: Runtime) -> None:
        self.runner = JobRunner(runtime)
        self.interval = runtime.settings.switchboard_tick_seconds
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._ticking = False
        self._again = False
        self._stopped = False

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running) and not self._stopped

    async def start(self) -> None:
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            id=TICK_JOB_ID,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()
        log.info("scheduler started as %s, waking every %ss", self.runner.owner, self.interval)

    def wake(self) -> None:
        """Run a tick now rather than at the next interval (new work was just enqueued)."""
        if not self.running:
            return
        if self._ticking:
            # The running tick may already be past its last claim; ask it for one more pass
            # rather than starting a second instance, which APScheduler would refuse.
            self._again = True
            return
        self._scheduler.modify_job(TICK_JOB_ID, next_run_time=datetime.now(UTC))

    async def stop(self) -> None:
        self._stopped = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        try:
            await self.runner.wait_idle()
        except TimeoutError:
            log.warning("scheduler stopped while a tick was still running")

    async def _tick(self) -> None:
        self._ticking = True
        try:
            while True:
                self._again = False
                try:
                    await self.runner.tick()
                except Exception:
                    log.exception("scheduler tick failed")
                if not self._again or not self.running:
                    return
        finally:
            self._ticking = False
