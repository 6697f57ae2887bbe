"""What happens to a job whose attempt failed.

A delivery job (one that sends a message to Slack, declared with `job_handler(..., delivery=True)`)
waits out a Slack outage (5xx, 429, timeouts, lost connections) with backoff from 15 seconds
doubling to 15 minutes, for as long as SWITCHBOARD_DELIVERY_WINDOW_HOURS since its first attempt
(or until shortly before the job stops being meaningful), however many attempts that takes. A
refusal from Slack (`channel_not_found`, `user_not_found`, …) fails it at once. Either way, once it
has failed for good its kind's `undelivered` hook tells someone. Any other failure backs off from
30 seconds up to an hour, until the job's `max_attempts`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.uow import unit_of_work
from bot.scheduler import jobs
from bot.scheduler.registry import DELIVERIES, Delivery, Undelivered
from bot.slack.errors import SlackFailure, classify, internal_error

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

# The payload key remembering when a delivery job was first tried; its window runs from then.
FIRST_ATTEMPT = "delivery_first_attempt_at"
FIRST_DELIVERY_BACKOFF = timedelta(seconds=15)
MAX_DELIVERY_BACKOFF = timedelta(minutes=15)
# A job retried up to its expiry would be skipped, not failed: its last try comes this much earlier.
LAST_CALL = timedelta(minutes=1)


def backoff(attempts: int) -> timedelta:
    """The wait after a failure that is not about Slack, by attempts made so far."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def delivery_backoff(attempts: int) -> timedelta:
    """The wait after a Slack outage, by attempts made so far: 15 s doubling up to 15 minutes."""
    return min(FIRST_DELIVERY_BACKOFF * 2 ** max(attempts - 1, 0), MAX_DELIVERY_BACKOFF)


def first_attempt(job: jobs.ClaimedJob, now: datetime) -> datetime:
    """When the job was first tried: remembered in its payload from its first failure on."""
    stored = job.payload.get(FIRST_ATTEMPT)
    return datetime.fromisoformat(str(stored)) if stored else now


def window_closes(job: jobs.ClaimedJob, started: datetime, window: timedelta) -> datetime:
    """The last moment another attempt is made."""
    closes = started + window
    if job.expires_at is not None:
        closes = min(closes, job.expires_at - LAST_CALL)
    return closes


async def after_failure(
    runtime: Runtime, job: jobs.ClaimedJob, exc: Exception, *, owner: str, now: datetime
) -> str | None:
    """Queue the job's next attempt (None), or say why it failed for good (after telling whoever
    its kind names)."""
    delivery = DELIVERIES.get(job.kind)
    failure = classify(exc) if delivery is not None else None
    if delivery is None or failure is None:
        if job.attempts < job.max_attempts:
            await _retry(runtime, job, owner=owner, run_at=now + backoff(job.attempts), error=repr(exc))
            return None
        if delivery is not None:
            await _undelivered(runtime, delivery, job, SlackFailure(internal_error(exc), False), now)
        return repr(exc)
    started = first_attempt(job, now)
    closes = window_closes(job, started, timedelta(hours=runtime.settings.switchboard_delivery_window_hours))
    if failure.transient and now < closes:
        wait = delivery_backoff(job.attempts)
        if failure.retry_after:
            wait = max(wait, timedelta(seconds=failure.retry_after))
        await _retry(
            runtime,
            job,
            owner=owner,
            # One last attempt as the window closes, however long the backoff has grown.
            run_at=min(now + wait, closes),
            error=f"slack: {failure.error} (retrying)",
            keep={FIRST_ATTEMPT: started.isoformat()},
        )
        return None
    await _undelivered(runtime, delivery, job, failure, now)
    if failure.transient:
        return f"slack: {failure.error} (Slack unreachable since {started.isoformat()}; gave up)"
    return f"slack: {failure.error} (refused; not retried)"


async def _retry(
    runtime: Runtime,
    job: jobs.ClaimedJob,
    *,
    owner: str,
    run_at: datetime,
    error: str,
    keep: dict[str, str] | None = None,
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        held = await jobs.retry_later(session=session, job_id=job.id, owner=owner, run_at=run_at, error=error)
        if held and keep and any(job.payload.get(k) != v for k, v in keep.items()):
            await jobs.keep_in_payload(session=session, job_id=job.id, values=keep)


async def _undelivered(
    runtime: Runtime, delivery: Delivery, job: jobs.ClaimedJob, failure: SlackFailure, now: datetime
) -> None:
    """Run the kind's hook; a hook that fails is logged and the job still ends as failed."""
    if delivery.undelivered is None:
        return
    try:
        async with unit_of_work(runtime.session_factory) as session:
            await delivery.undelivered(
                Undelivered(
                    runtime=runtime,
                    session=session,
                    job=job,
                    now=now,
                    error=failure.error,
                    transient=failure.transient,
                )
            )
    except Exception:
        log.exception("could not record that %s %s was not delivered", job.kind, job.dedupe_key)
