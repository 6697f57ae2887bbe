"""Everything a running Switchboard process shares, built once at start and closed at stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.db import SessionFactory, create_engine, create_session_factory
from bot.core.permissions import Admins
from bot.core.secrets import UndecryptableSecret, cipher_for, reveal
from bot.core.settings import Settings
from bot.ownership.cache import AreaIndexCache
from bot.slack.client import create_http_session, create_web_client
from models import Installation

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.scheduler.service import SchedulerService


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    http: aiohttp.ClientSession
    area_cache: AreaIndexCache = field(default_factory=AreaIndexCache)
    admins: Admins = field(default_factory=Admins)
    bolt: AsyncApp | None = None
    scheduler: SchedulerService | None = None
    # The bot token's own workspace (single-workspace mode), learned from auth.test once.
    home_team_id: str | None = None

    @property
    def bot_token(self) -> str | None:
        token = self.settings.slack_bot_token
        return token.get_secret_value() if token else None

    def web_client(self, token: str | None) -> AsyncWebClient:
        return create_web_client(base_url=self.settings.slack_api_url, token=token, session=self.http)

    async def client_for_team(self, team_id: str) -> AsyncWebClient:
        """A Web API client holding the bot token of `team_id`."""
        if not self.settings.oauth_mode:
            return self.web_client(self.bot_token)
        async with self.session_factory() as session:
            token = await session.scalar(
                select(Installation.bot_token)
                .where(Installation.team_id == team_id)
                .order_by(Installation.installed_at.desc())
                .limit(1)
            )
        if token is None:
            raise LookupError(f"Switchboard is not installed in workspace {team_id}")
        try:
            return self.web_client(reveal(token, cipher_for(self.settings)))
        except UndecryptableSecret as exc:
            raise LookupError(f"Switchboard cannot read its token for workspace {team_id}: {exc}") from None

    def wake_scheduler(self) -> None:
        """Work was just enqueued; run it now when this process hosts the scheduler."""
        if self.scheduler is not None:
            self.scheduler.wake()

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.http.close()
        await self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    engine = create_engine(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        http=create_http_session(),
        admins=Admins(settings.switchboard_admins),
    )
