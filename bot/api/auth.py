"""Bearer-token authentication for every /api/v1 route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.deps import RuntimeDep
from bot.core.api_tokens import authenticate_stored, matches_env_token
from bot.core.uow import unit_of_work

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from ADMIN_API_TOKENS or one made by `switchboard tokens create NAME`.",
)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def require_token(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's identity (`env` or the stored token's name); 401 otherwise."""
    if credentials is None or not credentials.credentials:
        raise _unauthorized("Missing bearer token: send `Authorization: Bearer <token>`.")
    presented = credentials.credentials
    if matches_env_token(presented, runtime.settings.admin_api_tokens):
        return "env"
    # Its own short transaction: recording last use must not wait on, or roll back with, the request.
    async with unit_of_work(runtime.session_factory) as session:
        stored = await authenticate_stored(session=session, presented=presented)
    if stored is None:
        raise _unauthorized("Invalid bearer token.")
    return stored.name


TokenDep = Annotated[str, Depends(require_token)]
