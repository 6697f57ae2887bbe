"""Secrets never reach a log: every record is redacted when it is created, whatever logs it.

slack_sdk and slack_bolt log request bodies, headers and Web API answers at DEBUG (an OAuth
install's answer carries the new bot token), and uvicorn's access log writes query strings as
sent. Tokens are recognised by their shape (`xoxb-…`, `xapp-…`, `Bearer …`, `token=…`), and the
configured secrets by their value, so a secret that has no recognisable shape is caught too.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from bot.core.settings import Settings

REDACTED = "[redacted]"
# Shorter configured values would shred ordinary words in every line; no real secret is this short.
MIN_SECRET_LENGTH = 6

_SHAPES = [
    # Slack tokens: xoxb- (bot), xoxp- (user), xoxa-/xoxa-2- (app), xoxr- / xoxe- (refresh),
    # xoxe.xoxb- (rotating), xapp- (app-level, Socket Mode). The type prefix stays readable.
    (re.compile(r"(?<![A-Za-z0-9])(xox[a-z]|xapp)([.-])[A-Za-z0-9._-]+"), rf"\1\2{REDACTED}"),
    # Credentials in query strings and form bodies: ?token=…, OAuth's ?code=…, Socket Mode's ticket.
    (
        re.compile(
            r"(?<![A-Za-z0-9_])((?:token|code|client_secret|access_token|refresh_token|ticket)=)[^&\s\"'#]+"
        ),
        rf"\1{REDACTED}",
    ),
    # The same names as keys of a logged dict or JSON document (a parsed query string's values
    # are lists: {'code': ['…']}).
    (
        re.compile(
            r"""(['"](?:token|code|client_secret|access_token|refresh_token|bot_token|user_token|"""
            r"""bot_refresh_token|user_refresh_token|incoming_webhook_url|ticket)['"]\s*:\s*\[?\s*['"])[^'"]+"""
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
]
_PLAIN = (int, float, bool, type(None))


class _Shown:
    """An argument whose text held a secret: formats (with %s or %r) as its redacted text."""

    def __init__(self, text: str, shown: str) -> None:
        self.text = text
        self.shown = shown

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.shown


class SecretRedactor(logging.Filter):
    """Rewrites a record's message, arguments, traceback and stack with every secret redacted."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add_secrets(self, values: Iterable[str]) -> None:
        with self._lock:
            fresh = {v for v in values if len(v) >= MIN_SECRET_LENGTH} - self._secrets
            if not fresh:
                return
            self._secrets |= fresh
            # Longest first, so that a secret containing another is removed whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        # Shapes first: a configured value that is the start of a token (`xoxb-1`) must not cut
        # the token in two before its shape is recognised.
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        known = self._known
        return known.sub(REDACTED, text) if known is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redacted(record.msg, as_text=True)
        if isinstance(record.args, Mapping):
            record.args = {key: self._redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(self._redacted(value) for value in record.args)
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print `exc_text` when it is set instead of formatting the exception again.
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redacted(self, value: Any, *, as_text: bool = False) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, _PLAIN) and not as_text:
            return value  # keeps %d and %.2f working
        try:
            text, shown = str(value), repr(value)
        except Exception:
            return value  # logging reports an unprintable argument itself, when it formats
        clean_text, clean_shown = self.redact(text), self.redact(shown)
        if clean_text == text and clean_shown == shown:
            return value
        return clean_text if as_text else _Shown(clean_text, clean_shown)


_redactor = SecretRedactor()
_installed = False
_install_lock = threading.Lock()


def install_log_redaction(settings: Settings | None = None) -> SecretRedactor:
    """Redact every log record from now on (idempotent); with `settings`, their secret values too.

    Installed in the record factory rather than on a logger or handler: a logger's filters do
    not see records propagated from its children (slack_sdk.web.…), and handlers added later
    (uvicorn's, a test's) would miss a handler filter.
    """
    global _installed
    with _install_lock:
        if not _installed:
            make_record = logging.getLogRecordFactory()

            def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = make_record(*args, **kwargs)
                try:
                    _redactor.filter(record)
                except Exception:  # a log call must never fail because of its redaction
                    record.msg, record.args = REDACTED, ()
                    record.exc_info, record.exc_text, record.stack_info = None, None, None
                return record

            logging.setLogRecordFactory(redacted_record)
            _installed = True
    if settings is not None:
        _redactor.add_secrets(secret_values(settings))
    return _redactor


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold: each SecretStr (lists and comma-separated keys split), and
    the database password."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, SecretStr):
                secret = item.get_secret_value()
                found.append(secret)
                found.extend(part.strip() for part in secret.split(","))
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:
        password = None
    if password:
        found.append(str(password))
    return [value for value in found if value]
