"""The one place a unit of work (session + transaction) is opened and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import SessionFactory


@asynccontextmanager
async def unit_of_work(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on error, always close."""
    async with factory() as session, session.begin():
        yield session


def session_factory_of(context: Mapping[str, Any]) -> SessionFactory:
    factory: SessionFactory = context["session_factory"]
    return factory


@asynccontextmanager
async def slack_unit_of_work(context: Mapping[str, Any]) -> AsyncIterator[AsyncSession]:
    """A unit of work for a Bolt listener, from the factory the middleware put in its context."""
    async with unit_of_work(session_factory_of(context)) as session:
        yield session
