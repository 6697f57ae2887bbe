"""FastAPI dependencies: the runtime, a unit of work per request, the caller's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.uow import unit_of_work


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler returns without error."""
    async with unit_of_work(runtime.session_factory) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
