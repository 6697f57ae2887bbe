"""Models and migrations agree, and upgrade → downgrade → upgrade works on every backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

import models
from bot.core import migrate
from bot.core.db import create_engine
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    url = await _create_pg_database()
    yield url
    await _drop_pg_database(url)


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def compare(sync_connection: Connection) -> list[object]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return list(compare_metadata(context, models.Base.metadata))

            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if url.startswith("sqlite"):
                rows = await connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            else:
                rows = await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            return {row[0] for row in rows} - {"alembic_version"}
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_and_models_match(empty_database: str) -> None:
    url = empty_database
    await asyncio.to_thread(migrate.upgrade, url)
    assert await _differences(url) == []
    assert not await migrate.pending(url)

    await asyncio.to_thread(migrate.downgrade, url, "base")
    assert await _tables(url) == set()

    await asyncio.to_thread(migrate.upgrade, url)
    assert await _differences(url) == []
    assert await _tables(url) == {t.name for t in models.Base.metadata.sorted_tables}
