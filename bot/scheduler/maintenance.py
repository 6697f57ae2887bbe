"""Housekeeping: forget Slack delivery keys once Slack can no longer retry them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.deliveries import forget_old_deliveries
from bot.core.uow import unit_of_work
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, job_handler, planner

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

PRUNE_KIND = "maintenance.prune_deliveries"
KEEP_DELIVERIES = timedelta(days=2)


@planner("maintenance")
async def plan_pruning(runtime: Runtime, now: datetime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await enqueue(session=session, team_id="", kind=PRUNE_KIND, key=f"{now:%Y-%m-%d}", run_at=now)


@job_handler(PRUNE_KIND)
async def prune(ctx: JobContext) -> dict[str, int]:
    async with unit_of_work(ctx.session_factory) as session:
        removed = await forget_old_deliveries(session=session, older_than=KEEP_DELIVERIES)
    return {"removed": removed}
