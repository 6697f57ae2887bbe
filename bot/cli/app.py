"""`switchboard` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import typer

from bot.cli.owners import owners_app
from bot.cli.secrets import app as secrets_app
from bot.cli.tokens import app as tokens_app
from bot.core.logs import install_log_redaction
from bot.core.settings import Settings, SettingsError, get_settings

app = typer.Typer(help="Switchboard: the Product Ops hub in Slack.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(owners_app, name="owners")
app.add_typer(secrets_app, name="secrets")


def _configure_logging() -> None:
    """Log to standard error, with tokens redacted from every record (uvicorn's access log too)."""
    install_log_redaction()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _load_settings() -> Settings:
    """The settings, whose secret values are redacted from the log from now on."""
    settings = get_settings()
    install_log_redaction(settings)
    return settings


def fail(message: str) -> None:
    typer.secho(f"switchboard: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def run(
    host: str = typer.Option("0.0.0.0", help="Interface to listen on."),
    port: int = typer.Option(None, help="Port to listen on (default: $PORT or 3000)."),
) -> None:
    """Run the web app (Slack events, admin API) and, unless SWITCHBOARD_SCHEDULER=off, the scheduler."""
    import uvicorn

    from bot.web import create_app, prepare_schema

    _configure_logging()
    try:
        settings = _load_settings()
        settings.require_slack()
        asyncio.run(prepare_schema(settings))
    except SettingsError as exc:
        fail(str(exc))
    resolved_port = port or int(os.environ.get("PORT", "3000"))
    uvicorn.run(
        create_app(settings, manage_schema=False),
        host=host,
        port=resolved_port,
        log_config=None,
        proxy_headers=True,
    )


@app.command()
def scheduler() -> None:
    """Run only the scheduler (for a deployment whose web replicas run with SWITCHBOARD_SCHEDULER=off)."""
    from bot.core.runtime import build_runtime
    from bot.scheduler.service import SchedulerService
    from bot.web import prepare_schema

    _configure_logging()
    try:
        settings = _load_settings()
        settings.require_secret_key()
        asyncio.run(prepare_schema(settings))
    except SettingsError as exc:
        fail(str(exc))

    async def serve() -> None:
        runtime = build_runtime(settings)
        service = SchedulerService(runtime)
        runtime.scheduler = service
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        try:
            await stop.wait()
        finally:
            await runtime.close()

    asyncio.run(serve())


@app.command()
def migrate(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Apply database migrations up to the latest revision."""
    from bot.core import migrate as migrations

    _configure_logging()
    try:
        settings = _load_settings()
    except SettingsError as exc:
        fail(str(exc))
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database is at {', '.join(sorted(migrations.head_revisions(settings.database_url)))}")


@app.command()
def manifest(
    url: str = typer.Option(
        None, "--url", help="Public https base URL of this deployment, e.g. https://switchboard.example.com."
    ),
    socket_mode: bool = typer.Option(
        False, "--socket-mode", help="Socket Mode: no request URLs; --url only sets the OAuth redirect."
    ),
) -> None:
    """Print the Slack app manifest (YAML) for this deployment, ready to paste into api.slack.com/apps."""
    from urllib.parse import urlsplit

    from bot.slack.manifest import manifest_yaml

    if url is None and not socket_mode:
        fail("--url is required (the public https URL Slack will call), or pass --socket-mode")
    if url is not None:
        parts = urlsplit(url)
        # Slack only accepts https request URLs; a query or fragment would mangle the appended paths.
        if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
            fail(f"--url must be an https URL such as https://switchboard.example.com, not {url!r}")
    typer.echo(manifest_yaml(url, socket_mode=socket_mode), nl=False)


@app.command()
def demo() -> None:
    """Play the whole product end to end against a built-in Slack emulator and SQLite."""
    from bot.demo import run_demo

    install_log_redaction()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run_demo())


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        typer.secho(f"switchboard: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
