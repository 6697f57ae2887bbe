"""Multi-workspace install: installations and OAuth state kept in the database."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select

from bot.core.db import SessionFactory
from bot.core.secrets import TokenCipher, UndecryptableSecret, cipher_for, reveal
from bot.core.settings import SettingsError
from bot.core.text import plural, plural_noun
from bot.core.uow import unit_of_work
from models import Installation, OAuthState
from models.base import utcnow

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

# The fields of slack_sdk's installation that grant access: encrypted in `data` as in `bot_token`.
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")

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
    """Installations in the `installations` table, their tokens encrypted with `cipher`."""

    def __init__(self, factory: SessionFactory, cipher: TokenCipher) -> None:
        self.factory = factory
        self.cipher = cipher

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
            row.bot_token = self.cipher.encrypt(installation.bot_token) if installation.bot_token else None
            row.data = seal(_json_ready(installation.to_dict_for_copying()), self.cipher)
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
        try:
            data = unseal(row.data, self.cipher)
        except UndecryptableSecret as exc:
            # Treated as not installed (Bolt asks to install again, which stores a readable
            # token), with one line that says why, instead of an error on every request.
            log.error("workspace %s: %s", row.team_id or row.enterprise_id, exc)
            return None
        return SlackInstallation(**data)

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


def seal(data: dict[str, Any], cipher: TokenCipher) -> dict[str, Any]:
    """`data` with every secret field encrypted (the rest stays readable for operators)."""
    return {
        key: cipher.encrypt(value) if key in SECRET_FIELDS and isinstance(value, str) and value else value
        for key, value in data.items()
    }


def unseal(data: dict[str, Any], cipher: TokenCipher | None) -> dict[str, Any]:
    """`data` with every secret field decrypted; fields stored before encryption are read as they are."""
    return {
        key: reveal(value, cipher) if key in SECRET_FIELDS and isinstance(value, str) else value
        for key, value in data.items()
    }


@dataclass
class SealReport:
    reencrypted: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)


async def reencrypt_installations(factory: SessionFactory, cipher: TokenCipher) -> SealReport:
    """Encrypt every stored token with the first key: plaintext rows and rows under older keys.

    A row no configured key can read is left exactly as it is, so that adding the right key
    recovers it; the report names its workspace.
    """
    report = SealReport()
    async with unit_of_work(factory) as session:
        # Replicas starting together each take the rows the others have not locked.
        rows = await session.scalars(select(Installation).with_for_update(skip_locked=True))
        for row in rows:
            stored = [row.bot_token or ""] + [row.data.get(key) or "" for key in SECRET_FIELDS]
            if all(cipher.is_current(str(value)) for value in stored if value):
                report.current += 1
                continue
            try:
                data = unseal(row.data, cipher)
                token = cipher.decrypt(row.bot_token) if row.bot_token else None
            except UndecryptableSecret:
                report.unreadable.append(row.team_id or row.enterprise_id)
                continue
            row.bot_token = cipher.encrypt(token) if token else None
            row.data = seal(data, cipher)
            report.reencrypted += 1
    return report


async def seal_stored_installations(runtime: Runtime) -> None:
    """At start: bring every stored token under the first key, and say (once) which cannot be read."""
    cipher = cipher_for(runtime.settings)
    if cipher is None:
        return
    report = await reencrypt_installations(runtime.session_factory, cipher)
    if report.reencrypted:
        log.info(
            "encrypted the tokens of %s with the first secret key", plural(report.reencrypted, "installation")
        )
    if report.unreadable:
        log.error(
            "SWITCHBOARD_SECRET_KEY: none of its keys decrypts the stored tokens of %s %s; "
            "they answer as not installed until the key they were encrypted with is added "
            "(after the new one, comma-separated) or the app is installed there again",
            plural_noun(len(report.unreadable), "workspace"),
            ", ".join(sorted(report.unreadable)),
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
        installation_store=DatabaseInstallationStore(runtime.session_factory, _required_cipher(runtime)),
        state_store=DatabaseStateStore(runtime.session_factory),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )


def _required_cipher(runtime: Runtime) -> TokenCipher:
    cipher = cipher_for(runtime.settings)
    if cipher is None:  # require_slack() refuses OAuth mode without a key before this is built
        raise SettingsError("SWITCHBOARD_SECRET_KEY is required in OAuth mode")
    return cipher
