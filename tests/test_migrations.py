"""Models and migrations agree, and upgrade → downgrade → upgrade works on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

import models
from bot.analytics.window import Window
from bot.core import migrate
from bot.core.db import create_engine, create_session_factory
from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.test_stats_rollups import START, assert_rollup_matches_items, weeks_from_items, weeks_from_stats


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


async def test_the_stats_rollups_start_from_the_items_already_there(empty_database: str) -> None:
    url = empty_database
    await asyncio.to_thread(migrate.upgrade, url, "0008_personal_standups")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO themes (id, team_id, title, description, status, created_at, updated_at) "
                    "VALUES (1, 'T0SWITCH', 'Bulk export', '', 'open', :at, :at)"
                ),
                {"at": START},
            )
            for n, (customer, theme, kind) in enumerate(
                [("Acme", 1, "bug"), ("acme", 1, "request"), (None, 1, "bug"), ("Globex", None, "praise")]
            ):
                await connection.execute(
                    text(
                        "INSERT INTO feedback (team_id, text, kind, importance, customer, tags, theme_id, "
                        "source, status, created_at, updated_at) VALUES ('T0SWITCH', 'feedback', :kind, "
                        "'critical', :customer, '[]', :theme, 'api', 'new', :at, :at)"
                    ),
                    {"kind": kind, "customer": customer, "theme": theme, "at": START + timedelta(days=5 * n)},
                )
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, url)

    engine = create_engine(url)
    try:
        factory = create_session_factory(engine)
        await assert_rollup_matches_items(factory)
        window = Window(since=START.date(), until=(START + timedelta(days=30)).date())
        weeks = await weeks_from_stats(factory, window)
        assert weeks == await weeks_from_items(factory, window)
        assert sum(total for _, total, *_ in weeks) == 4
    finally:
        await engine.dispose()
