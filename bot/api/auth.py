"""Bearer-token authentication for every /api/v1 route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.deps import RuntimeDep, get_runtime
from bot.core.api_tokens import authenticate_stored, matches_env_token
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work

# Every route under this prefix requires a token.
API_PREFIX = "/api/v1"

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from ADMIN_API_TOKENS or one made by `switchboard tokens create NAME`.",
)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def _identify(runtime: Runtime, presented: str | None) -> str:
    if not presented:
        raise _unauthorized("Missing bearer token: send `Authorization: Bearer <token>`.")
    if matches_env_token(presented, runtime.settings.admin_api_tokens):
        return "env"
    # Its own short transaction: recording last use must not wait on, or roll back with, the request.
    async with unit_of_work(runtime.session_factory) as session:
        stored = await authenticate_stored(session=session, presented=presented)
    if stored is None:
        raise _unauthorized("Invalid bearer token.")
    return stored.name


async def require_token(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's identity (`env` or the stored token's name); 401 otherwise."""
    return await _identify(runtime, credentials.credentials if credentials else None)


async def refusal(request: Request) -> HTTPException | None:
    """The 401 for a request under API_PREFIX without a valid token, None otherwise.

    FastAPI decodes a JSON body before it runs any dependency; a body it cannot decode asks this
    first, so that a caller without a token learns nothing about what the route accepts.
    """
    if not request.url.path.startswith(API_PREFIX + "/"):
        return None
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    try:
        await _identify(get_runtime(request), presented.strip() if scheme.lower() == "bearer" else None)
    except HTTPException as exc:
        return exc
    return None


TokenDep = Annotated[str, Depends(require_token)]
