"""The in-memory ownership directory each process answers `/whoowns` from: a workspace's areas as
last read and the fuzzy index over them, checked against the database at most once a second and
at once after this process commits a change to an area."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from bot.core.db import await_shared
from bot.ownership.index import AreaIndex, IndexedArea, SearchResult
from models import Area, DirectoryVersion
from models.base import utcnow

log = logging.getLogger(__name__)

# How long a replica trusts its cached index before asking whether another replica wrote.
INDEX_RECHECK_SECONDS = 1.0
# Rendering every area ahead of lookups runs on the event loop in slices this long, so that
# acknowledgements arriving meanwhile wait at most one slice, with as long a pause after each:
# a busy loop would starve threads needing the GIL (aiosqlite takes it once per row it reads).
PREPARE_SLICE_SECONDS = 0.002
# A directory is read this many rows at a time, the event loop free between them.
LOAD_SLICE_ROWS = 1000
# From this many areas the index is built in a worker thread (small ones take under a millisecond).
INDEX_IN_THREAD_AREAS = 500
# A workspace with at least this many areas has its directory read as the web process starts:
# its first read takes seconds at tens of thousands of areas, longer than a lookup can wait.
READ_AHEAD_AREAS = 2000

T = TypeVar("T")


@dataclass
class CachedDirectory:
    """A workspace's areas as last read, and the fuzzy index over them."""

    version: int
    rows: dict[int, dict[str, Any]]
    index: AreaIndex
    # Database time of the read, and when (monotonic) this process last checked for changes.
    read_at: datetime
    checked_at: float = 0.0
    snapshots: dict[int, Area] = field(default_factory=dict, repr=False)
    # Per area, values derived from its row (say, its rendered card), by purpose.
    memos: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    # Set once a newer read replaces this one: background work on it stops.
    retired: bool = False
    # Set while a check reads the database for changes: background work on it pauses.
    checking: bool = False
    _preparing: dict[str, asyncio.Task[None]] = field(default_factory=dict, repr=False)

    def snapshot(self, area_id: int) -> Area:
        """A detached copy of the area as last read, for display only: never change it or add it
        to a session (it is shared by every lookup until the area changes)."""
        area = self.snapshots.get(area_id)
        if area is None:
            area = self.snapshots[area_id] = Area(**self.rows[area_id])
        return area

    def memo(self, area_id: int, purpose: str, build: Callable[[Area], T]) -> T:
        """`build(area)` computed once per version of the area: dropped as soon as the area changes.

        `build` must depend on the area's row alone, and callers must not mutate what it returns.
        """
        memos = self.memos.get(area_id)
        if memos is None:
            memos = self.memos[area_id] = {}
        if purpose not in memos:
            area = self.snapshots.get(area_id) or Area(**self.rows[area_id])
            memos[purpose] = build(area)
        value: T = memos[purpose]
        return value

    def prepare(self, purpose: str, build: Callable[[Area], object]) -> None:
        """Compute `memo(…, purpose, build)` for every area in the background, once per read.

        On the event loop, a slice at a time: a worker thread would hold the GIL against the loop
        (costing each of its wake-ups for I/O up to the interpreter's switch interval) for no gain.
        """
        if purpose not in self._preparing:
            task = asyncio.get_running_loop().create_task(self._memo_every_area(purpose, build))
            self._preparing[purpose] = task

    async def _memo_every_area(self, purpose: str, build: Callable[[Area], object]) -> None:
        sliced_at = time.perf_counter()
        for area_id in list(self.rows):
            while self.checking and not self.retired:
                await asyncio.sleep(PREPARE_SLICE_SECONDS)
            if self.retired:
                return
            memos = self.memos.get(area_id)
            if area_id in self.rows and (memos is None or purpose not in memos):
                try:
                    self.memo(area_id, purpose, build)
                except Exception:  # the lookup that needs it renders it again and reports the error
                    log.exception("could not prepare %s for area %s", purpose, area_id)
            if time.perf_counter() - sliced_at >= PREPARE_SLICE_SECONDS:
                await asyncio.sleep(PREPARE_SLICE_SECONDS)
                sliced_at = time.perf_counter()

    def forget(self, area_id: int) -> None:
        """Drop what was derived from the area's previous row."""
        self.snapshots.pop(area_id, None)
        self.memos.pop(area_id, None)

    def adopt_unchanged(self, previous: CachedDirectory) -> None:
        """Keep what an older read derived from areas whose rows have not changed since."""
        for area_id, row in self.rows.items():
            if previous.rows.get(area_id) == row:
                if area_id in previous.memos:
                    self.memos[area_id] = previous.memos[area_id]
                if area_id in previous.snapshots:
                    self.snapshots[area_id] = previous.snapshots[area_id]


class AreaIndexCache:
    """Each workspace's directory and fuzzy index, kept in memory so that lookups need no query.

    At most every INDEX_RECHECK_SECONDS (and at once after this process commits a change to an
    area), one check reads the directory version and which rows changed since the last check: a
    new version (an area added, renamed or removed anywhere) reloads the workspace; other changed
    rows (a confirmation, an owner's status) are patched in. Lookups arriving during a check are
    answered from what is cached rather than queued behind it.
    """

    def __init__(self) -> None:
        self._entries: dict[str, CachedDirectory] = {}
        # The check running for each workspace, if any: one at a time, in a task of its own.
        self._checks: dict[str, asyncio.Task[CachedDirectory]] = {}
        self._expirations = 0
        _CACHES.add(self)

    def invalidate(self, team_id: str) -> None:
        entry = self._entries.pop(team_id, None)
        if entry is not None:
            entry.retired = True

    def expire(self, team_ids: set[str | None]) -> None:
        """Check these workspaces (None: every workspace) on their next lookup."""
        self._expirations += 1
        for team_id, entry in self._entries.items():
            if None in team_ids or team_id in team_ids:
                entry.checked_at = 0.0

    async def read_ahead(self, *, session: AsyncSession) -> list[str]:
        """Read every workspace's directory of READ_AHEAD_AREAS areas or more; their ids."""
        teams = list(
            await session.scalars(
                select(Area.team_id).group_by(Area.team_id).having(func.count() >= READ_AHEAD_AREAS)
            )
        )
        for team_id in teams:
            await self.directory(session=session, team_id=team_id)
        return teams

    async def get(self, *, session: AsyncSession, team_id: str) -> AreaIndex:
        return (await self.directory(session=session, team_id=team_id)).index

    def fresh(self, team_id: str) -> CachedDirectory | None:
        """The cached directory when it needs no check now (so no session is needed), else None."""
        entry = self._entries.get(team_id)
        if entry and (time.monotonic() - entry.checked_at < INDEX_RECHECK_SECONDS or self._checking(team_id)):
            return entry
        return None

    def _checking(self, team_id: str) -> bool:
        check = self._checks.get(team_id)
        return check is not None and not check.done()

    async def directory(self, *, session: AsyncSession, team_id: str) -> CachedDirectory:
        """The workspace's directory, checked against the database when due.

        The check runs in a task of its own, over its own session on `session`'s engine: a lookup
        that gives up waiting (Slack's ack budget) leaves it running, so a large directory's first
        read still fills the cache instead of being started over by every lookup.
        """
        entry = self.fresh(team_id)
        if entry is not None:
            return entry
        check = self._checks.get(team_id)
        if check is None or check.done():
            check = asyncio.ensure_future(self._check_alone(session, team_id))
            check.add_done_callback(_checked)
            self._checks[team_id] = check
        return await await_shared(check)

    async def _check_alone(self, session: AsyncSession, team_id: str) -> CachedDirectory:
        cached = self._entries.get(team_id)
        if cached is not None:
            # Rendering ahead waits: this check is what an acknowledgement waits on.
            cached.checking = True
        try:
            async with AsyncSession(session.bind, expire_on_commit=False) as own:
                entry = await self._check(session=own, team_id=team_id, entry=cached)
        finally:
            if cached is not None:
                cached.checking = False
        self._entries[team_id] = entry
        return entry

    async def _check(
        self, *, session: AsyncSession, team_id: str, entry: CachedDirectory | None
    ) -> CachedDirectory:
        """The directory as it is now: `entry` patched, or read afresh when the version moved."""
        expirations = self._expirations
        version = (
            await session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.team_id == team_id))
            or 0
        )
        if entry is None or entry.version != version:
            previous = entry
            entry = await _load_directory(session=session, team_id=team_id, version=version)
            if previous is not None:
                entry.adopt_unchanged(previous)
                previous.retired = True
        else:
            await _patch_changed_rows(session=session, team_id=team_id, entry=entry)
        # A commit that landed while this check ran may not be in what it read.
        entry.checked_at = time.monotonic() if expirations == self._expirations else 0.0
        return entry


def _checked(check: asyncio.Task[CachedDirectory]) -> None:
    """A check nobody waited for to the end still has its failure logged, once."""
    if not check.cancelled() and check.exception() is not None:
        log.info("directory check failed: %r", check.exception())


# A row stamped `updated_at` before the previous check may commit after it (and replicas' clocks
# differ a little): each check also looks this far back. Writes that bump the directory version
# (imports, renames) reload everything anyway; this covers short transactions such as confirmations.
CHANGE_OVERLAP = timedelta(seconds=5)
_INDEXED = ("slug", "name", "aliases", "description")
_TOUCHED = "switchboard_touched_area_teams"
_CACHES: weakref.WeakSet[AreaIndexCache] = weakref.WeakSet()


async def _load_directory(*, session: AsyncSession, team_id: str, version: int) -> CachedDirectory:
    read_at = utcnow()
    # Streamed a slice at a time: converting 100,000 rows at once would hold the event loop for
    # seconds, past the ack budget of every lookup waiting meanwhile.
    result = await session.stream(
        select(*Area.__table__.columns)
        .where(Area.team_id == team_id)
        .execution_options(yield_per=LOAD_SLICE_ROWS)
    )
    rows: dict[int, dict[str, Any]] = {}
    async for partition in result.mappings().partitions():
        rows.update((row["id"], dict(row)) for row in partition)
    return CachedDirectory(version=version, rows=rows, index=await _index_off_loop(rows), read_at=read_at)


async def _patch_changed_rows(*, session: AsyncSession, team_id: str, entry: CachedDirectory) -> None:
    read_at = utcnow()
    stamps = await session.execute(
        select(Area.id, Area.updated_at).where(
            Area.team_id == team_id, Area.updated_at >= entry.read_at - CHANGE_OVERLAP
        )
    )
    changed = [
        area_id for area_id, stamp in stamps if (entry.rows.get(area_id) or {}).get("updated_at") != stamp
    ]
    reindex = False
    for start in range(0, len(changed), 500):
        query = select(*Area.__table__.columns).where(Area.id.in_(changed[start : start + 500]))
        for mapping in (await session.execute(query)).mappings():
            row = dict(mapping)
            cached = entry.rows.get(row["id"])
            reindex = reindex or cached is None or any(cached[key] != row[key] for key in _INDEXED)
            entry.rows[row["id"]] = row
            entry.forget(row["id"])
    if reindex:
        entry.index = await _index_off_loop(entry.rows)
    entry.read_at = read_at


async def _index_off_loop(rows: dict[int, dict[str, Any]]) -> AreaIndex:
    """The index over `rows`, built in a worker thread: a large directory takes seconds to index,
    during which the event loop keeps acknowledging from the previous index (see `fresh`)."""
    if len(rows) < INDEX_IN_THREAD_AREAS:
        return _index_of(rows)
    return await asyncio.to_thread(_index_of, dict(rows))


def _index_of(rows: dict[int, dict[str, Any]]) -> AreaIndex:
    return AreaIndex.build(
        [
            IndexedArea(
                id=row["id"],
                slug=row["slug"],
                name=row["name"],
                keys=(row["name"], row["slug"], *(row["aliases"] or [])),
                description=row["description"] or "",
            )
            for row in rows.values()
        ]
    )


@event.listens_for(Session, "after_flush")
def _note_area_writes(session: Session, _flush_context: Any) -> None:
    touched = {
        obj.team_id for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Area)
    }
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_area_writes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ is Area:
            state.session.info.setdefault(_TOUCHED, set()).add(None)


@event.listens_for(Session, "after_commit")
def _expire_cached_directories(session: Session) -> None:
    """What this process just committed is answered by its next lookup, not a second later."""
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        for cache in list(_CACHES):
            cache.expire(touched)


@event.listens_for(Session, "after_rollback")
def _forget_area_writes(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def search_directory(
    *, directory: CachedDirectory, query: str, limit: int = 3
) -> tuple[SearchResult, list[Area]]:
    """Fuzzy lookup in a cached directory: the classification and detached copies of the matches."""
    result = directory.index.search(query, limit=limit)
    return result, matched_areas(directory=directory, result=result)


def matched_areas(*, directory: CachedDirectory, result: SearchResult) -> list[Area]:
    """Detached copies of a search's matches, in rank order."""
    return [directory.snapshot(m.area_id) for m in result.matches if m.area_id in directory.rows]
