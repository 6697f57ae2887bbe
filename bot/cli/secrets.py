"""`switchboard secrets`: the key that encrypts installation tokens at rest (SWITCHBOARD_SECRET_KEY)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

from bot.core.db import create_engine, create_session_factory
from bot.core.logs import install_log_redaction
from bot.core.secrets import cipher_for, generate_key
from bot.core.settings import SettingsError, get_settings
from bot.core.text import plural, plural_noun

if TYPE_CHECKING:
    from bot.slack.oauth import SealReport

app = typer.Typer(help="Encryption of the tokens stored in the database.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"switchboard: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random key for SWITCHBOARD_SECRET_KEY."""
    typer.echo(generate_key())


@app.command()
def reencrypt() -> None:
    """Encrypt every stored token with the first key of SWITCHBOARD_SECRET_KEY.

    Encrypts rows stored before encryption, and rows under an older key after a rotation (new key
    first, old key after it); once it reports no unreadable workspace, the old key can go.
    """
    from bot.slack.oauth import reencrypt_installations
    from bot.web import prepare_schema

    install_log_redaction()
    try:
        settings = get_settings()
        install_log_redaction(settings)
        cipher = cipher_for(settings)
        if cipher is None:
            raise SettingsError("SWITCHBOARD_SECRET_KEY is not set: there is no key to encrypt with")

        async def work() -> SealReport:
            await prepare_schema(settings)
            engine = create_engine(settings.database_url)
            try:
                return await reencrypt_installations(create_session_factory(engine), cipher)
            finally:
                await engine.dispose()

        report = asyncio.run(work())
    except SettingsError as exc:
        _fail(str(exc))
        return
    typer.echo(f"re-encrypted {plural(report.reencrypted, 'installation')}; {report.current} already current")
    if report.unreadable:
        _fail(
            "SWITCHBOARD_SECRET_KEY: none of its keys decrypts the stored tokens of "
            f"{plural_noun(len(report.unreadable), 'workspace')} {', '.join(sorted(report.unreadable))}; "
            "add the key they were encrypted with"
        )
