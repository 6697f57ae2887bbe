"""The retry policy of scheduled work: a delivery job waits out a Slack outage for the delivery
window with backoff from 15 s doubling to 15 minutes (whatever its max_attempts), honours
Retry-After, fails at once on a refusal, and its kind's hook hears of every final failure; any other
failure, or any job that is not a delivery, keeps backing off until max_attempts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.scheduler import jobs
from bot.scheduler.registry import DELIVERIES, JOB_HANDLERS, JobContext, Undelivered, job_handler
from bot.scheduler.retry import FIRST_ATTEMPT, LAST_CALL, MAX_DELIVERY_BACKOFF, backoff, delivery_backoff
from bot.scheduler.runner import JobRunner
from bot.slack.errors import classify, describe
from models import Job, JobStatus
from models.base import utcnow

TEAM = "T0SWITCH"
KIND = "test.deliver"
WINDOW_HOURS = 2


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_delivery_window_hours": WINDOW_HOURS}


def slack_failure(
    error: str | None, status: int = 200, headers: dict[str, str] | None = None
) -> SlackApiError:
    data: dict[str, Any] | str = {"ok": False, "error": error} if error else "upstream error"
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data=data,  # type: ignore[arg-type]
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("Slack failed", response)


Raise = Callable[[int], BaseException | None]


@pytest.fixture
def delivery_kind() -> Iterator[tuple[Callable[..., None], list[Undelivered]]]:
    """Register KIND as a delivery whose attempts raise what `fails(attempt)` gives (None: it is
    delivered); the hook's calls are collected."""
    told: list[Undelivered] = []

    async def hook(failed: Undelivered) -> None:
        told.append(failed)

    def register(fails: Raise, *, delivery: bool = True) -> None:
        async def handler(ctx: JobContext) -> dict[str, Any]:
            exc = fails(ctx.job.attempts)
            if exc is not None:
                raise exc
            return {"delivered": ctx.job.attempts}

        job_handler(KIND, undelivered=hook if delivery else None)(handler)

    yield register, told
    JOB_HANDLERS.pop(KIND, None)
    DELIVERIES.pop(KIND, None)


async def add_job(runtime: Runtime, **kwargs: Any) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await jobs.enqueue(session=session, team_id=TEAM, kind=KIND, key="k", max_attempts=3, **kwargs)


async def job_row(runtime: Runtime) -> Job:
    async with unit_of_work(runtime.session_factory) as session:
        job = await session.scalar(select(Job).where(Job.kind == KIND))
        assert job is not None
        return job


async def run_retries(runtime: Runtime, start: datetime, limit: int = 100) -> list[datetime]:
    """Run the job at each moment it is due until it ends; the moments it was tried at."""
    runner, at, tried = JobRunner(runtime), start, []
    for _ in range(limit):
        await runner.tick(now=at)
        tried.append(at)
        job = await job_row(runtime)
        if job.status != JobStatus.PENDING:
            return tried
        at = job.run_at
    raise AssertionError("still retrying")


def test_slack_answers_are_read_as_outages_or_refusals() -> None:
    server = classify(slack_failure(None, status=503))
    assert server is not None and (server.error, server.transient) == ("http_503", True)
    outage = classify(slack_failure(None, status=502))
    assert outage is not None and (outage.error, outage.transient) == ("http_502", True)
    limited = classify(slack_failure("ratelimited", status=429, headers={"Retry-After": "30"}))
    assert limited is not None and limited.transient and limited.retry_after == 30.0
    for error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
        found = classify(slack_failure(error))
        assert found is not None and found.transient, error
    for error in ("channel_not_found", "not_in_channel", "is_archived", "account_inactive", "user_not_found"):
        found = classify(slack_failure(error))
        assert found is not None and not found.transient, error
    assert classify(aiohttp.ServerDisconnectedError()) is not None
    assert classify(TimeoutError()) is not None
    assert classify(ValueError("a bug")) is None
    unreachable = describe("http_503", audience="person", window_hours=24)
    assert unreachable == "Slack could not be reached for 24 hours"
    assert describe("account_inactive", audience="person") == "their Slack account is deactivated"
    assert describe("account_inactive", audience="channel").startswith("Switchboard's Slack token")


async def test_an_outage_is_retried_past_max_attempts_with_capped_backoff_until_delivered(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: slack_failure(None, status=503) if attempt <= 12 else None)
    start = utcnow()
    await add_job(runtime, run_at=start)
    tried = await run_retries(runtime, start)

    gaps = [b - a for a, b in zip(tried, tried[1:], strict=False)]
    assert gaps == [delivery_backoff(n) for n in range(1, 13)]
    assert gaps[:3] == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert gaps[-1] == MAX_DELIVERY_BACKOFF
    job = await job_row(runtime)
    assert (job.status, job.attempts, job.result) == (JobStatus.DONE, 13, {"delivered": 13})
    assert job.payload[FIRST_ATTEMPT] == start.isoformat() and not told


async def test_retry_after_is_honoured(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, _ = delivery_kind
    limited = slack_failure("ratelimited", status=429, headers={"Retry-After": "120"})
    register(lambda attempt: limited if attempt == 1 else None)
    start = utcnow()
    await add_job(runtime, run_at=start)
    await JobRunner(runtime).tick(now=start)
    assert (await job_row(runtime)).run_at == start + timedelta(seconds=120)


async def test_a_refusal_fails_at_once_and_the_hook_is_told(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: slack_failure("channel_not_found"))
    start = utcnow()
    await add_job(runtime, run_at=start)
    assert await run_retries(runtime, start) == [start]
    job = await job_row(runtime)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.last_error == "slack: channel_not_found (refused; not retried)"
    (failed,) = told
    assert (failed.error, failed.transient, failed.job.id) == ("channel_not_found", False, job.id)


async def test_the_window_closing_fails_the_job_with_one_last_try_as_it_closes(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: aiohttp.ServerDisconnectedError())
    start = utcnow()
    await add_job(runtime, run_at=start)
    tried = await run_retries(runtime, start)

    closes = start + timedelta(hours=WINDOW_HOURS)
    assert tried[-1] == closes and all(t < closes for t in tried[:-1])
    job = await job_row(runtime)
    assert job.status == JobStatus.FAILED and "connection: ServerDisconnectedError" in (job.last_error or "")
    (failed,) = told
    assert failed.transient and failed.error == "connection: ServerDisconnectedError"


async def test_work_that_expires_sooner_is_tried_for_the_last_time_before_it_expires(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: slack_failure(None, status=500))
    start = utcnow()
    await add_job(runtime, run_at=start, expires_at=start + timedelta(minutes=30))
    tried = await run_retries(runtime, start)
    assert tried[-1] == start + timedelta(minutes=30) - LAST_CALL
    assert (await job_row(runtime)).status == JobStatus.FAILED and len(told) == 1


async def test_other_failures_keep_backing_off_until_max_attempts_and_then_tell_the_hook(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: ValueError(f"boom {attempt}"))
    start = utcnow()
    await add_job(runtime, run_at=start)
    tried = await run_retries(runtime, start)
    assert [b - a for a, b in zip(tried, tried[1:], strict=False)] == [backoff(1), backoff(2)]
    job = await job_row(runtime)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3) and "boom 3" in (job.last_error or "")
    (failed,) = told
    assert (failed.error, failed.transient) == ("internal: ValueError", False)


async def test_a_job_that_is_not_a_delivery_keeps_todays_backoff_for_slack_outages(
    runtime: Runtime, delivery_kind: tuple[Callable[..., None], list[Undelivered]]
) -> None:
    register, told = delivery_kind
    register(lambda attempt: slack_failure(None, status=503), delivery=False)
    start = utcnow()
    await add_job(runtime, run_at=start)
    tried = await run_retries(runtime, start)
    assert [b - a for a, b in zip(tried, tried[1:], strict=False)] == [backoff(1), backoff(2)]
    assert (await job_row(runtime)).status == JobStatus.FAILED and not told
