"""Async engine and session factory, with the timeouts that turn an unreachable database into a
prompt error, and the test that tells such an error from a refusal of the data."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

SessionFactory = async_sessionmaker[AsyncSession]

# Without a timeout, SQLite waits this long for another writer to finish.
SQLITE_BUSY_SECONDS = 30.0
# SQLSTATE classes (PostgreSQL) about the data a statement carried, not the database's health.
_DATA_CLASSES = frozenset({"22", "23"})
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def create_engine(
    url: str,
    *,
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """Engine for `url`. The web process passes its timeouts; migrations and scripts wait as long as
    their work takes."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_seconds=statement_timeout or SQLITE_BUSY_SECONDS, **kwargs)
    connect_args: dict[str, Any] = kwargs.pop("connect_args", {})
    if connect_timeout is not None:
        connect_args.setdefault("timeout", connect_timeout)
        # Waiting for a free pooled connection is waiting for the database too.
        kwargs.setdefault("pool_timeout", connect_timeout)
    if statement_timeout is not None:
        connect_args.setdefault("command_timeout", statement_timeout)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    _ping_on_checkout(engine, timeout=connect_timeout)
    _drop_on_silence(engine)
    return engine


def _sqlite_engine(url: str, *, busy_seconds: float, **kwargs: Any) -> AsyncEngine:
    """SQLite gets WAL and a busy timeout so readers and one writer coexist."""
    engine = create_async_engine(url, connect_args={"timeout": busy_seconds}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _ping_on_checkout(engine: AsyncEngine, *, timeout: float | None) -> None:
    """Check a pooled connection before lending it out, within `timeout`.

    SQLAlchemy's own pre-ping waits as long as a statement may (the command timeout), so a
    connection whose network went silent would hold a request for that long, and then as long
    again to reconnect. One dead connection means the others are dead too: the whole pool is
    dropped, so the next request connects afresh instead of pinging each corpse in turn.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        driver = dbapi_connection.driver_connection
        try:
            await_only(asyncio.wait_for(driver.fetchrow(";"), timeout))
        except BaseException as exc:
            # SQLAlchemy says goodbye to a failed connection and waits up to 2 s for the reply,
            # which a silent network never carries: this one is known dead, so it is dropped now.
            driver.terminate()
            if isinstance(exc, Exception):
                raise sa_exc.InvalidatePoolError(f"pooled connection failed its ping: {exc!r}") from exc
            raise


def _drop_on_silence(engine: AsyncEngine) -> None:
    """A statement that timed out, or whose socket failed, leaves its connection unusable: it is
    dropped at once (with the rest of the pool) rather than asked to roll back over the same
    silent network, and then politely closed."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _silent(context: ExceptionContext) -> None:
        if not isinstance(context.original_exception, OSError | TimeoutError):
            return
        context.is_disconnect = True
        if context.connection is not None and not context.connection.invalidated:
            driver = context.connection.connection.driver_connection
            if driver is not None:
                driver.terminate()


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def _raised_by_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False


T = TypeVar("T")
# A task waiting on work that runs in a task of its own (a shared cache fill): what that work waits
# on is what the waiting task waits on.
_WAITING_ON: weakref.WeakKeyDictionary[asyncio.Task[Any], asyncio.Task[Any]] = weakref.WeakKeyDictionary()


async def await_shared(work: asyncio.Task[T]) -> T:
    """`work`'s result, leaving `work` running if this waiter is cancelled (others may wait on it
    too); meanwhile `waits_on_database` of this task looks at `work`."""
    me = asyncio.current_task()
    if me is not None:
        _WAITING_ON[me] = work
    try:
        return await asyncio.shield(work)
    finally:
        if me is not None:
            _WAITING_ON.pop(me, None)


def waits_on_database(task: asyncio.Task[Any]) -> bool:
    """Whether the unfinished `task` is waiting on the database right now (a connection, a
    statement), rather than on anything else it awaits."""
    # `Task.get_stack` shows only the outermost coroutine; the awaits chain down to the wait.
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_DRIVER_MODULES):
            return True
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    shared = _WAITING_ON.get(task)
    return shared is not None and not shared.done() and waits_on_database(shared)


def is_data_error(exc: BaseException) -> bool:
    """Whether the database refused a statement for the values it carried (too long, out of range,
    a broken constraint): a problem with the request, not with the database."""
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and not exc.connection_invalidated:
        state = _sqlstate(exc)
        return state is not None and state[:2] in _DATA_CLASSES
    return False


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database is down, unreachable or too slow to answer.

    Network errors and timeouts count only when raised from the database driver's code: the same
    types from a Slack call say nothing about the database.
    """
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return not is_data_error(exc) and not isinstance(exc, sa_exc.ProgrammingError)
    if isinstance(exc, OSError | TimeoutError):
        return _raised_by_driver(exc.__traceback__)
    return False
