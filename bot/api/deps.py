"""FastAPI dependencies: the runtime, a unit of work per request, the workspace asked about."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import aiohttp
from fastapi import Depends, HTTPException, Query, Request
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from models import Installation

log = logging.getLogger(__name__)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


AFTER_COMMIT = "after_commit"


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler returns without error."""
    async with unit_of_work(runtime.session_factory) as session:
        yield session
    for callback in session.info.pop(AFTER_COMMIT, ()):
        callback()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the request's transaction has committed (e.g. wake the scheduler)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


# "function" scope: commit before the response is sent, so a 2xx means the change is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


TEAM_ID_PATTERN = r"^[TE][A-Z0-9]{2,31}$"


async def _home_team_id(runtime: Runtime) -> str | None:
    """The bot token's workspace, asked of Slack once per process; None when Slack can't say."""
    if runtime.home_team_id is None:
        try:
            answer = await runtime.web_client(runtime.bot_token).auth_test()
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("auth.test failed while resolving the workspace: %s", exc)
            return None
        runtime.home_team_id = str(answer["team_id"])
    return runtime.home_team_id


async def _installed_team_ids(runtime: Runtime, *, team_id: str | None) -> list[str]:
    query = select(Installation.team_id).where(Installation.team_id != "").distinct().limit(2)
    if team_id is not None:
        query = query.where(Installation.team_id == team_id)
    async with unit_of_work(runtime.session_factory) as session:
        return list((await session.scalars(query)).all())


async def resolve_team(
    runtime: RuntimeDep,
    team_id: Annotated[
        str | None,
        Query(
            pattern=TEAM_ID_PATTERN,
            description="Workspace id. Optional when Switchboard serves a single workspace.",
        ),
    ] = None,
) -> str:
    """The workspace a request is about: `?team_id=`, else the only one Switchboard serves."""
    if not runtime.settings.oauth_mode:
        home = await _home_team_id(runtime)
        if home is None:
            if team_id is not None:
                return team_id
            raise HTTPException(
                status_code=503,
                detail="Could not ask Slack which workspace this bot belongs to; "
                "retry, or pass ?team_id=T… explicitly.",
            )
        if team_id is not None and team_id != home:
            raise NotFound(f"Switchboard is not installed in workspace {team_id}; this bot serves {home}.")
        return home
    installed = await _installed_team_ids(runtime, team_id=team_id)
    if team_id is not None:
        if not installed:
            raise NotFound(f"Switchboard is not installed in workspace {team_id}.")
        return team_id
    if len(installed) == 1:
        return installed[0]
    raise UserError("team_id is required: Switchboard serves several workspaces (or none yet).")


TeamDep = Annotated[str, Depends(resolve_team)]
