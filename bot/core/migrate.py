"""Alembic, driven from code so that the installed package finds its own migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.core.db import create_engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revisions(database_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def current_revisions(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def read(sync_connection: Connection) -> set[str]:
                return set(MigrationContext.configure(sync_connection).get_current_heads())

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def pending(database_url: str) -> bool:
    """True when the database is behind the code's migrations."""
    return await current_revisions(database_url) != head_revisions(database_url)


async def upgrade_async(database_url: str, revision: str = "heads") -> None:
    """Alembic's env.py runs its own event loop; keep it off ours."""
    await asyncio.to_thread(upgrade, database_url, revision)
