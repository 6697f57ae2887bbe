"""Signed, opaque page cursors: a client can hand back only a cursor this API made, for the list
and the filters it was made for.

A cursor is the URL-safe base64 (unpadded) of

    version (1 byte) | scope tag (8 bytes) | position (compact JSON) | MAC (16 bytes)

where the scope tag is a keyed hash of what the cursor pages (the path and every query parameter
but `cursor` and `limit`) and the MAC is HMAC-SHA256 over everything before it. Any byte changed,
a cursor of another list or other filters, or anything not made this way is refused with a 422;
only then is the position read (and still checked field by field, see `bot.api.pagination`).

The key is derived (HMAC-SHA256 of a fixed label) from `SWITCHBOARD_SECRET_KEY` (its first,
encrypting key), else from `SLACK_SIGNING_SECRET`, so every replica signs alike and cursors
outlive a restart. With neither set, a random key is made once per process: cursors then work
within that process only, and one handed out before a restart or by another replica is refused
(the client starts again from the first page) rather than trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.core.errors import UserError

if TYPE_CHECKING:
    from bot.core.settings import Settings

BAD_CURSOR = "cursor: not a cursor this API returned; pass `next_cursor` from the previous page."
FOREIGN_CURSOR = (
    "cursor: it pages another list or other filters; repeat the request that returned it, "
    "changing only `cursor` (and `limit` if you like)."
)
# Far above any position a page ends on (two fields, an ISO time or a slug), far below abuse.
MAX_CURSOR_LENGTH = 512
# Query parameters that do not change which items a list holds, or in what order.
UNBOUND_PARAMETERS = frozenset({"cursor", "limit"})

_VERSION = b"\x01"
_TAG_BYTES = 8
_MAC_BYTES = 16
_LABEL = b"switchboard/admin-api/page-cursor/v1"
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_PROCESS_KEY = secrets.token_bytes(32)


def cursor_key(settings: Settings) -> bytes:
    """The key cursors are signed with; see the module docstring for where it comes from."""
    for secret in (settings.switchboard_secret_key, settings.slack_signing_secret):
        if secret is not None:
            first = secret.get_secret_value().split(",")[0].strip()
            if first:
                return _derived(first)
    return _PROCESS_KEY


@lru_cache(maxsize=8)
def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _LABEL, hashlib.sha256).digest()


def scope_of(path: str, query: Iterable[tuple[str, str]]) -> bytes:
    """What a cursor pages: the path and the filters, order of parameters aside."""
    filters = sorted((name, value) for name, value in query if name not in UNBOUND_PARAMETERS)
    return json.dumps([path, filters], separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class CursorSigner:
    """Makes and opens the cursors of one list request."""

    def __init__(self, key: bytes, scope: bytes) -> None:
        self._key = key
        self._tag = hmac.new(key, b"scope\0" + scope, hashlib.sha256).digest()[:_TAG_BYTES]

    def __repr__(self) -> str:
        return "CursorSigner(…)"

    def _mac(self, signed: bytes) -> bytes:
        return hmac.new(self._key, b"cursor\0" + signed, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, position: dict[str, Any]) -> str:
        """An opaque cursor for `position` in this list; clients must not build or parse it."""
        body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode("utf-8")
        signed = _VERSION + self._tag + body
        return base64.urlsafe_b64encode(signed + self._mac(signed)).decode("ascii").rstrip("=")

    def open(self, cursor: str) -> dict[str, Any]:
        """The position `cursor` stands for; a clear 422 unless this list's signer made it."""
        raw = _decoded(cursor)
        if raw is None or len(raw) < len(_VERSION) + _TAG_BYTES + _MAC_BYTES + 2:
            raise UserError(BAD_CURSOR)
        signed, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not signed.startswith(_VERSION) or not hmac.compare_digest(mac, self._mac(signed)):
            raise UserError(BAD_CURSOR)
        tag = signed[len(_VERSION) : len(_VERSION) + _TAG_BYTES]
        if not hmac.compare_digest(tag, self._tag):
            raise UserError(FOREIGN_CURSOR)
        try:
            position = json.loads(signed[len(_VERSION) + _TAG_BYTES :])
        except ValueError:
            position = None
        if not isinstance(position, dict):
            raise UserError(BAD_CURSOR)
        return position


def _decoded(cursor: str) -> bytes | None:
    """The bytes of strict, canonical unpadded base64url: no stray characters skipped, no spare
    bits set, so that one cursor has exactly one spelling."""
    if len(cursor) > MAX_CURSOR_LENGTH or not _ALPHABET.fullmatch(cursor):
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != cursor:
        return None
    return raw
