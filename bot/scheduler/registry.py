"""What each kind of job does, and the planners that decide what becomes due."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import SessionFactory
from bot.core.settings import Settings
from bot.scheduler.jobs import ClaimedJob

if TYPE_CHECKING:
    from bot.core.runtime import Runtime


class SkipJob(Exception):  # noqa: N818  (it is an outcome, not a failure)
    """The work is no longer meaningful; it is recorded as skipped with this reason."""


@dataclass
class JobContext:
    runtime: Runtime
    job: ClaimedJob
    now: datetime

    @property
    def session_factory(self) -> SessionFactory:
        return self.runtime.session_factory

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    async def client(self) -> AsyncWebClient:
        return await self.runtime.client_for_team(self.job.team_id)


@dataclass
class Undelivered:
    """A delivery job that failed for good: Slack refused it, Slack stayed unreachable for the whole
    delivery window, or it kept failing inside Switchboard. Its hook records that and tells someone,
    in `session` (committed before the job is marked failed; a hook may run again for the same job
    after a crash, so what it queues is keyed by the job)."""

    runtime: Runtime
    session: AsyncSession
    job: ClaimedJob
    now: datetime
    # Slack's error (`channel_not_found`, `http_502`, `connection: …`), or `internal: <kind>`.
    error: str
    # Whether Slack was unreachable (the window closed) rather than refusing.
    transient: bool

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]
UndeliveredHook = Callable[[Undelivered], Awaitable[None]]
Planner = Callable[["Runtime", datetime], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """A job kind that sends a message to Slack: Slack outages are waited out for the delivery window,
    Slack's refusals end it at once, and `undelivered` (if any) hears when it fails for good."""

    undelivered: UndeliveredHook | None = None


JOB_HANDLERS: dict[str, JobHandler] = {}
DELIVERIES: dict[str, Delivery] = {}
PLANNERS: dict[str, Planner] = {}


def job_handler(
    kind: str, *, delivery: bool = False, undelivered: UndeliveredHook | None = None
) -> Callable[[JobHandler], JobHandler]:
    """Register the coroutine that performs jobs of `kind`.

    `delivery` declares that it sends a message to Slack (see `Delivery`); `undelivered`, which
    implies it, is told when a job of this kind could not be delivered.
    """

    def register(handler: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = handler
        if delivery or undelivered is not None:
            DELIVERIES[kind] = Delivery(undelivered=undelivered)
        else:
            DELIVERIES.pop(kind, None)
        return handler

    return register


def planner(name: str) -> Callable[[Planner], Planner]:
    """Register a coroutine run on every tick that enqueues whatever has become due."""

    def register(fn: Planner) -> Planner:
        PLANNERS[name] = fn
        return fn

    return register
