"""Admin API tokens: environment tokens and hashed tokens made by `switchboard tokens create`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, NotFound, UserError
from models import ApiToken
from models.base import utcnow

TOKEN_PREFIX = "sb_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
# Recording every request's use would make every API call a write to one hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches_env_token(presented: str, configured: Iterable[SecretStr]) -> bool:
    """Constant-time comparison against every configured token (no early exit on a match)."""
    candidate = presented.encode()
    found = False
    for token in configured:
        found |= hmac.compare_digest(candidate, token.get_secret_value().encode())
    return found


async def create_token(*, session: AsyncSession, name: str) -> tuple[ApiToken, str]:
    """A new token named `name`; the plain token is returned once and only its hash is stored."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise UserError("Token names are 1–100 letters, digits, spaces, dots, dashes or underscores.")
    if await session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Conflict(f"A token named `{name}` already exists; pick another name.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(plain))
    session.add(token)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A token named `{name}` already exists; pick another name.") from exc
    return token, plain


async def authenticate_stored(*, session: AsyncSession, presented: str) -> ApiToken | None:
    """The stored token whose hash matches `presented`, its last use recorded; None if unknown."""
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(presented)))
    if token is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        await session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        token.last_used_at = now
    return token


async def list_tokens(*, session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(ApiToken.name))).all())


async def revoke_token(*, session: AsyncSession, name: str) -> None:
    """Delete the token named `name`; requests carrying it get 401 from now on."""
    token = await session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
    if token is None:
        raise NotFound(f"No token named `{name}`; `switchboard tokens list` shows them.")
    await session.delete(token)
    await session.flush()
