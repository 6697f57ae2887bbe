"""Due work in the `jobs` table: enqueue it once, claim it with a lease (renewed while it runs),
record how it ended."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Job, JobStatus
from models.base import utcnow

# SWITCHBOARD_JOB_LEASE_SECONDS's default; a heartbeat renews it while the job runs.
DEFAULT_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    team_id: str
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    run_at: datetime
    expires_at: datetime | None
    attempts: int
    max_attempts: int


async def enqueue(
    *,
    session: AsyncSession,
    team_id: str,
    kind: str,
    key: str,
    run_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    max_attempts: int = 5,
) -> bool:
    """Add work unless work of this kind and key exists already; True when added."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Job)
        .values(
            team_id=team_id,
            kind=kind,
            dedupe_key=key[:255],
            payload=payload or {},
            run_at=run_at or utcnow(),
            expires_at=expires_at,
            status=JobStatus.PENDING,
            attempts=0,
            max_attempts=max_attempts,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[Job.kind, Job.dedupe_key])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


def _due(now: datetime) -> Any:
    return or_(
        and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now),
    )


async def claim_due(
    *,
    session: AsyncSession,
    owner: str,
    limit: int = 20,
    lease: timedelta = DEFAULT_LEASE,
    kinds: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs (or jobs whose holder's lease ran out) for `owner`.

    One statement picks and claims the rows, so two claimers never take the same row: on
    PostgreSQL the inner select locks with `FOR UPDATE SKIP LOCKED` (concurrent schedulers take
    disjoint rows); SQLite runs the whole statement under its write lock, so a claimer that
    waited sees the rows the other one took as no longer due and picks the next.

    `kinds` limits the claim to work this process knows how to do: a replica on older code
    during a rolling deploy leaves newer kinds alone instead of failing them.
    """
    now = now or utcnow()
    if kinds is not None and not kinds:
        return []
    candidates = select(Job.id).where(_due(now)).order_by(Job.run_at, Job.id).limit(limit)
    if kinds is not None:
        candidates = candidates.where(Job.kind.in_(sorted(kinds)))
    # A CTE rather than `IN (subquery)`: PostgreSQL may re-run a plain subquery while the
    # update proceeds, and with SKIP LOCKED each re-run picks further rows (LIMIT ignored).
    # A locking CTE is materialised once.
    picked = candidates.with_for_update(skip_locked=True).cte("picked")
    rows = await session.execute(
        update(Job)
        .where(Job.id.in_(select(picked.c.id)), _due(now))
        .values(
            status=JobStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=Job.attempts + 1,
        )
        .returning(
            Job.id,
            Job.team_id,
            Job.kind,
            Job.dedupe_key,
            Job.payload,
            Job.run_at,
            Job.expires_at,
            Job.attempts,
            Job.max_attempts,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = [
        ClaimedJob(
            id=row.id,
            team_id=row.team_id,
            kind=row.kind,
            dedupe_key=row.dedupe_key,
            payload=dict(row.payload or {}),
            run_at=row.run_at,
            expires_at=row.expires_at,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda job: (job.run_at, job.id))


async def renew_leases(
    *, session: AsyncSession, job_ids: Iterable[int], owner: str, expires_at: datetime
) -> set[int]:
    """Move on the leases `owner` still holds among `job_ids`; the ids renewed (a job missing was
    taken over by another runner after its lease ran out)."""
    rows = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.lease_owner == owner, Job.status == JobStatus.RUNNING)
        .values(lease_expires_at=expires_at)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


async def finish(
    *,
    session: AsyncSession,
    job_id: int,
    owner: str,
    status: JobStatus,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Record the end of a job; False when `owner` no longer holds it (its lease ran out)."""
    outcome = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.RUNNING)
        .values(
            status=status,
            result=result,
            last_error=error,
            finished_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(getattr(outcome, "rowcount", 0))


async def keep_in_payload(*, session: AsyncSession, job_id: int, values: dict[str, Any]) -> None:
    """Add `values` to a job's payload, so that a retry of it starts from what this attempt did."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is not None:
        job.payload = {**(job.payload or {}), **values}


async def retry_later(
    *, session: AsyncSession, job_id: int, owner: str, run_at: datetime, error: str
) -> bool:
    """Put a failed attempt back in the queue for another try at `run_at`."""
    outcome = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.PENDING,
            run_at=run_at,
            last_error=error,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(getattr(outcome, "rowcount", 0))


async def upcoming(
    *,
    session: AsyncSession,
    team_id: str | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
) -> list[Job]:
    """Pending and running work, soonest first, starting after the (run_at, id) `after`."""
    query = (
        select(Job)
        .where(Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if team_id:
        query = query.where(Job.team_id == team_id)
    if after is not None:
        run_at, job_id = after
        query = query.where(or_(Job.run_at > run_at, and_(Job.run_at == run_at, Job.id > job_id)))
    return list((await session.scalars(query)).all())
