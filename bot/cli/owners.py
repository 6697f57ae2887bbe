"""`switchboard owners import|export`: the ownership directory as files."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from bot.core.text import plural
from bot.ownership.importers.model import ImportFormat

if TYPE_CHECKING:
    from bot.core.runtime import Runtime
    from bot.core.settings import Settings
    from bot.ownership.importers import ParsedDirectory
    from bot.ownership.sync import ImportResult

T = TypeVar("T")

owners_app = typer.Typer(help="Import and export the ownership directory.", no_args_is_help=True)

TEAM_RE = r"^[TE][A-Z0-9]{2,31}$"
# A dry run lists this many slugs per kind of change; the counts are always complete.
LISTED_SLUGS = 20


def _fail(message: str) -> NoReturn:
    one_line = " ".join(message.split())
    typer.secho(f"switchboard: {one_line}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _read(path: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text")


def _parsed(path: str, parse: Callable[[str], T]) -> T:
    """`parse` applied to the file at `path`; a bad file fails with its name and line."""
    from bot.ownership.importers import ImportFileError

    text = _read(path)
    try:
        return parse(text)
    except ImportFileError as exc:
        _fail(str(exc.with_source("standard input" if path == "-" else path)))


def _listed(slugs: list[str]) -> str:
    shown = ", ".join(slugs[:LISTED_SLUGS])
    return shown + (f", … ({len(slugs) - LISTED_SLUGS} more)" if len(slugs) > LISTED_SLUGS else "")


@owners_app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(help="Directory file to import; `-` reads standard input.")],
    format: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="File format; by default told from the file's name and content."),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team", help="Workspace id (T…); default: the bot token's workspace, or the only one known."
        ),
    ] = None,
    handle_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="YAML file mapping owner handles to Slack user ids (`@jane: U012AB3CD`); "
            "default: OWNERS_HANDLE_MAP.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
) -> None:
    """Create or update areas from Switchboard YAML, a Backstage catalog-info.yaml or a CODEOWNERS file."""
    from bot.ownership import importers

    if team is not None and not re.match(TEAM_RE, team):
        _fail(f"--team {team!r} is not a workspace id such as T012AB3CD")
    directory = _parsed(file, lambda text: importers.parse(text, format=format, filename=file))
    handles = _parsed(handle_map, importers.load_handle_map) if handle_map else _settings().handle_map()
    result, team_id = _run(_import(directory, team=team, handles=handles, dry_run=dry_run))

    if dry_run:
        typer.echo(
            f"dry run, nothing written ({result.format} into {team_id}): would create "
            f"{len(result.created)}, update {len(result.updated)}, leave {len(result.unchanged)} unchanged"
        )
        if result.created:
            typer.echo(f"  would create: {_listed(result.created)}")
        if result.updated:
            typer.echo(f"  would update: {_listed(result.updated)}")
    else:
        typer.echo(
            f"imported {result.format} into {team_id}: {len(result.created)} created, "
            f"{len(result.updated)} updated, {len(result.unchanged)} unchanged"
        )
    if result.announced:
        typer.echo(f"queued {result.announced} owner-change announcements for the ownership channel")
    if result.unannounced_new:
        typer.echo(f"{result.unannounced_new} new areas not announced one by one (a bulk import)")
    for owner in result.unmapped_owners:
        lines = ", ".join(str(line) for line in owner.lines)
        typer.echo(
            f"unmapped owner {owner.handle} ({owner.reason}) on line {lines}; "
            f"imported without them: {', '.join(owner.areas)}"
        )


@owners_app.command("export")
def export_command(
    file: Annotated[
        str, typer.Argument(help="File to write (Switchboard YAML); `-` writes standard output.")
    ],
    team: Annotated[
        str | None,
        typer.Option(
            "--team", help="Workspace id (T…); default: the bot token's workspace, or the only one known."
        ),
    ] = None,
) -> None:
    """Write the ownership directory as Switchboard YAML, which `owners import` reads back unchanged."""
    if team is not None and not re.match(TEAM_RE, team):
        _fail(f"--team {team!r} is not a workspace id such as T012AB3CD")
    text, count, team_id = _run(_export(team=team))
    if file == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        typer.echo(f"exported {plural(count, 'area')} of {team_id}", err=True)
        return
    _write_atomically(Path(file), text)
    typer.echo(f"exported {plural(count, 'area')} of {team_id} to {file}")


def _write_atomically(path: Path, text: str) -> None:
    """A crash or full disk mid-write leaves the previous file, not half a directory."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; a problem the user can fix becomes one line on stderr and exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.errors import UserError
    from bot.core.settings import SettingsError

    try:
        return asyncio.run(work)
    except (SettingsError, UserError) as exc:
        _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        _fail(f"cannot use the database: {detail[0] if detail else type(exc).__name__}")


def _settings() -> Settings:
    from bot.core.settings import get_settings

    return get_settings()


async def _team_id(runtime: Runtime, requested: str | None) -> str:
    """--team, else the bot token's workspace (auth.test), else the only workspace in the database."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    from bot.core.errors import UserError
    from bot.core.uow import unit_of_work
    from bot.ownership.sync import known_team_ids

    if requested:
        return requested
    why = "no SLACK_BOT_TOKEN to ask Slack"
    if not runtime.settings.oauth_mode and runtime.bot_token:
        try:
            answer = await runtime.web_client(runtime.bot_token).auth_test()
            return str(answer["team_id"])
        except SlackApiError as exc:
            why = f"Slack's auth.test answered {exc.response.get('error')}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = f"Slack could not be reached ({exc})"
    async with unit_of_work(runtime.session_factory) as session:
        teams = await known_team_ids(session=session)
    if len(teams) == 1:
        return teams[0]
    found = f"the database holds {plural(len(teams), 'workspace')}" if teams else "the database holds none"
    raise UserError(f"cannot tell which workspace to use ({why}; {found}); pass --team T012AB3CD")


async def _import(
    directory: ParsedDirectory, *, team: str | None, handles: dict[str, str], dry_run: bool
) -> tuple[ImportResult, str]:
    from bot.core.runtime import build_runtime
    from bot.core.uow import unit_of_work
    from bot.ownership.sync import email_lookup_for, import_directory
    from bot.web import prepare_schema

    settings = _settings()
    await prepare_schema(settings)
    runtime = build_runtime(settings)
    try:
        team_id = await _team_id(runtime, team)
        lookup = await email_lookup_for(runtime, team_id)
        async with unit_of_work(runtime.session_factory) as session:
            result = await import_directory(
                session=session,
                settings=settings,
                team_id=team_id,
                directory=directory,
                handle_map=handles,
                lookup_email=lookup,
                dry_run=dry_run,
            )
    finally:
        await runtime.close()
    return result, team_id


async def _export(*, team: str | None) -> tuple[str, int, str]:
    from bot.core.runtime import build_runtime
    from bot.core.uow import unit_of_work
    from bot.ownership.sync import export_directory
    from bot.web import prepare_schema

    settings = _settings()
    await prepare_schema(settings)
    runtime = build_runtime(settings)
    try:
        team_id = await _team_id(runtime, team)
        async with unit_of_work(runtime.session_factory) as session:
            text, count = await export_directory(session=session, team_id=team_id)
    finally:
        await runtime.close()
    return text, count, team_id
