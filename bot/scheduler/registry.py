"""What each kind of job does, and the planners that decide what becomes due."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

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


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]
Planner = Callable[["Runtime", datetime], Awaitable[None]]

JOB_HANDLERS: dict[str, JobHandler] = {}
PLANNERS: dict[str, Planner] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the coroutine that performs jobs of `kind`."""

    def register(handler: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = handler
        return handler

    return register


def planner(name: str) -> Callable[[Planner], Planner]:
    """Register a coroutine run on every tick that enqueues whatever has become due."""

    def register(fn: Planner) -> Planner:
        PLANNERS[name] = fn
        return fn

    return register
