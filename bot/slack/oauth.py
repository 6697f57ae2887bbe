"""Multi-workspace install: installations and OAuth state kept in the database."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select

from bot.core.db import SessionFactory
from bot.core.uow import unit_of_work
from models import Installation, OAuthState
from models.base import utcnow

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:write",
    "reactions:read",
    "reactions:write",
    "users:read",
    "users:read.email",
]


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory

    async def async_save(self, installation: SlackInstallation) -> None:
        async with unit_of_work(self.factory) as session:
            row = await session.scalar(
                select(Installation).where(
                    Installation.enterprise_id == (installation.enterprise_id or ""),
                    Installation.team_id == (installation.team_id or ""),
                )
            )
            if row is None:
                row = Installation(
                    enterprise_id=installation.enterprise_id or "", team_id=installation.team_id or ""
                )
                session.add(row)
            row.bot_user_id = installation.bot_user_id
            row.bot_token = installation.bot_token
            row.data = _json_ready(installation.to_dict_for_copying())
            row.installed_at = utcnow()

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SlackInstallation | None:
        query = select(Installation).where(Installation.enterprise_id == (enterprise_id or ""))
        if not is_enterprise_install:
            query = query.where(Installation.team_id == (team_id or ""))
        async with self.factory() as session:
            row = await session.scalar(query.order_by(Installation.installed_at.desc()).limit(1))
        if row is None:
            return None
        return SlackInstallation(**row.data)  # type: ignore[arg-type]

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        async with unit_of_work(self.factory) as session:
            await session.execute(
                delete(Installation).where(
                    Installation.enterprise_id == (enterprise_id or ""),
                    Installation.team_id == (team_id or ""),
                )
            )


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """slack_sdk's installation dict carries datetimes; its constructor reads ISO strings back."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in values.items()}


class DatabaseStateStore(AsyncOAuthStateStore):
    """One-time OAuth `state` values, shared by every replica."""

    def __init__(self, factory: SessionFactory, expiration: timedelta = timedelta(minutes=10)) -> None:
        self.factory = factory
        self.expiration = expiration

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        async with unit_of_work(self.factory) as session:
            session.add(OAuthState(state=state, expires_at=utcnow() + self.expiration))
        return state

    async def async_consume(self, state: str) -> bool:
        async with unit_of_work(self.factory) as session:
            row = await session.get(OAuthState, state)
            if row is None:
                return False
            await session.delete(row)
            return row.expires_at > utcnow()


def oauth_settings(runtime: Runtime) -> AsyncOAuthSettings:
    settings = runtime.settings
    secret = settings.slack_client_secret
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scopes=BOT_SCOPES,
        installation_store=DatabaseInstallationStore(runtime.session_factory),
        state_store=DatabaseStateStore(runtime.session_factory),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )
