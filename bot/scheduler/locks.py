"""Planner exclusion: at most one process runs a given planner at a time.

Planners read the database and enqueue what became due. Enqueueing is idempotent by
(kind, key), which is what guarantees nothing is planned twice; this lock only spares the other
replicas a scan whose every insert would be a no-op, and keeps planners from racing each other
over the same rows.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

_LOCAL_LOCKS: dict[tuple[str, str], asyncio.Lock] = {}


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def try_exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yield True while holding the lock called `name`; False (at once) when another holder has it.

    PostgreSQL: a transaction-scoped advisory lock, shared by every process on the database and
    released by the server even when the holder dies. SQLite serves a single process, so an
    in-process lock is enough.
    """
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection, connection.begin():
            held = bool(await connection.scalar(select(func.pg_try_advisory_xact_lock(advisory_key(name)))))
            yield held
        return
    lock = _LOCAL_LOCKS.setdefault((str(engine.url), name), asyncio.Lock())
    if lock.locked():
        yield False
        return
    async with lock:
        yield True
