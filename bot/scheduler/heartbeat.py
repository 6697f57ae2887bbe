"""Short leases kept alive while their holder works.

A claimed row (a job, a release's post to one channel) carries a short lease. While the work runs,
a heartbeat renews the leases of the rows still held every third of a lease, each time in a short
unit of work of its own. The work stops the moment a lease is lost: taken over by another process
(whose claim found it expired), or not renewable in time because the database cannot be reached.
Stopping while the lease still holds is what keeps two processes from ever working on one row at
once; a process that dies simply stops renewing, and its rows are taken over a lease later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from models.base import utcnow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

T = TypeVar("T")
# Given the rows still held and their new expiry, renews them and answers which it renewed.
Renew = Callable[[Collection[int], datetime], Coroutine[Any, Any, Collection[int]]]

TAKEN_OVER = "taken over by another process"
UNREACHABLE = "not renewed before running out (database unreachable)"


class LeaseLost(Exception):
    """The work was stopped: its lease was taken over, or could not be renewed in time."""


class Heartbeat:
    """Renews the leases of `rows`, claimed at the monotonic moment `since`, until each is released.

    `clock` is the time leases are written in: the claimer's own, so that a runner looking at a
    later moment (tests, the demo) keeps renewing in that moment's terms.
    """

    def __init__(
        self,
        rows: Iterable[int],
        *,
        renew: Renew,
        lease: timedelta,
        since: float,
        clock: Callable[[], datetime] = utcnow,
        what: str = "lease",
    ) -> None:
        loop = asyncio.get_running_loop()
        self.lease = lease.total_seconds()
        self._renew = renew
        self._clock = clock
        self._what = what
        self._lost: dict[int, asyncio.Future[str]] = {row: loop.create_future() for row in rows}
        self._any_lost: asyncio.Future[str] = loop.create_future()
        # Every held lease holds at least until then; each renewal moves it on.
        self._holds_until = since + self.lease
        self._next_beat = since + self.lease / 3

    @property
    def held(self) -> set[int]:
        return {row for row, lost in self._lost.items() if not lost.done()}

    def holds(self, row: int) -> bool:
        """Whether the lease of `row` is known to hold still (a process that was frozen for a while
        finds it may not, before its heartbeat has had a chance to tell)."""
        lost = self._lost.get(row)
        return lost is not None and not lost.done() and time.monotonic() < self._cut_at()

    def release(self, row: int) -> None:
        """The work on `row` ended: its lease is no longer renewed."""
        self._lost.pop(row, None)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Heartbeat]:
        beating = asyncio.create_task(self._beat())
        try:
            yield self
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)

    async def guard(self, work: Awaitable[T], *, row: int | None = None, limit: float | None = None) -> T:
        """Await `work` while the lease of `row` holds (of every row, when None).

        Raises LeaseLost, with `work` cancelled, as soon as that lease is lost, and TimeoutError
        once `limit` seconds have passed; `row` is released when the work ends."""
        lost = self._lost[row] if row is not None else self._any_lost
        task = asyncio.ensure_future(work)
        try:
            if lost.done():
                raise LeaseLost(f"{self._what} {lost.result()}")
            waiting: set[asyncio.Future[Any]] = {task, lost}
            done, _ = await asyncio.wait(waiting, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return task.result()
            if lost in done:
                raise LeaseLost(f"{self._what} {lost.result()}")
            raise TimeoutError(f"still running after {limit:g} s")
        finally:
            if row is not None:
                self.release(row)
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _cut_at(self) -> float:
        # The work must have stopped before anyone else may claim the row, with a third of a lease
        # to spare for the cancellation itself and for other processes' clocks running ahead.
        return self._holds_until - self.lease / 3

    def _lose(self, rows: Iterable[int], reason: str) -> None:
        for row in rows:
            lost = self._lost.get(row)
            if lost is not None and not lost.done():
                lost.set_result(reason)
                if not self._any_lost.done():
                    self._any_lost.set_result(reason)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(max(min(self._next_beat, self._cut_at()) - time.monotonic(), 0.0))
            rows = sorted(self.held)
            if not rows:
                return
            started = time.monotonic()
            # A task of its own: a renewal stuck on a silent network (and its rollback) must not
            # hold the heartbeat past the moment the work has to stop.
            renewal = asyncio.create_task(self._renew(rows, self._clock() + timedelta(seconds=self.lease)))
            try:
                done, _ = await asyncio.wait({renewal}, timeout=max(self._cut_at() - started, 0.0))
            except asyncio.CancelledError:
                _abandon(renewal)
                raise
            if not done:
                _abandon(renewal)
                log.error("%s of %s not renewed in time, stopping that work", self._what, rows)
                self._lose(self.held, UNREACHABLE)
                return
            try:
                renewed = renewal.result()
            except Exception as exc:
                if time.monotonic() >= self._cut_at():
                    log.error("%s of %s not renewed in time, stopping that work: %r", self._what, rows, exc)
                    self._lose(self.held, UNREACHABLE)
                    return
                log.warning("%s of %s not renewed, trying again: %r", self._what, rows, exc)
                self._next_beat = time.monotonic() + self.lease / 9
                continue
            self._holds_until = started + self.lease
            self._next_beat = started + self.lease / 3
            # A row released meanwhile was recorded by its work, which let go of the lease.
            taken = sorted((set(rows) - set(renewed)) & self._lost.keys())
            if taken:
                log.warning("%s of %s was taken over by another process", self._what, taken)
                self._lose(taken, TAKEN_OVER)


_ABANDONED: set[asyncio.Task[Any]] = set()


def _abandon(task: asyncio.Task[Any]) -> None:
    """Cancel `task` without waiting for it, keeping it referenced (and its outcome read) until done."""
    task.cancel()
    _ABANDONED.add(task)

    def forget(done: asyncio.Task[Any]) -> None:
        _ABANDONED.discard(done)
        if not done.cancelled():
            done.exception()

    task.add_done_callback(forget)
