"""`switchboard tokens`: admin API tokens. The plain token is shown once; only its hash is kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import api_tokens
from bot.core.db import create_engine, create_session_factory
from bot.core.errors import UserError
from bot.core.settings import Settings, SettingsError, get_settings
from bot.core.uow import unit_of_work

app = typer.Typer(help="Admin API tokens (they work next to ADMIN_API_TOKENS).", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str) -> None:
    typer.secho(f"switchboard: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from bot.web import prepare_schema

    await prepare_schema(settings)
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_in_transaction(get_settings(), work))
    except (SettingsError, UserError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


@app.command()
def create(
    name: str = typer.Argument(..., help="Who or what will use the token, e.g. `backstage-sync`."),
) -> None:
    """Make a token and print it once; store it somewhere safe, it cannot be shown again."""

    async def work(session: AsyncSession) -> str:
        _token, plain = await api_tokens.create_token(session=session, name=name)
        return plain

    plain = _run(work)
    typer.secho(f"Token `{name.strip()}` created. It is shown only this once:", err=True)
    typer.echo(plain)


@app.command("list")
def list_tokens() -> None:
    """Token names with when they were made and last used (never the tokens themselves)."""

    async def work(session: AsyncSession) -> list[tuple[str, str, str]]:
        return [
            (
                t.name,
                t.created_at.isoformat(timespec="seconds"),
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
            )
            for t in await api_tokens.list_tokens(session=session)
        ]

    rows = _run(work)
    if not rows:
        typer.echo("No tokens yet; `switchboard tokens create NAME` makes one.")
    for name, created, used in rows:
        typer.echo(f"{name}\tcreated {created}\tlast used {used}")


@app.command()
def revoke(name: str = typer.Argument(..., help="The token's name.")) -> None:
    """Delete a token; requests carrying it are refused from now on."""

    async def work(session: AsyncSession) -> None:
        await api_tokens.revoke_token(session=session, name=name)

    _run(work)
    typer.echo(f"Token `{name.strip()}` revoked.")
