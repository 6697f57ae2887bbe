"""Encryption at rest for the Slack secrets Switchboard stores (installation tokens).

`SWITCHBOARD_SECRET_KEY` is one key or a comma-separated list: the first encrypts, every one
decrypts (Fernet's MultiFernet), so a key is rotated by putting the new one first, running
`switchboard secrets reencrypt` (or restarting), then dropping the old one. Each key is either a
Fernet key (44 characters of URL-safe base64, `switchboard secrets generate-key`) or a passphrase
of at least 32 characters and no comma, from which a Fernet key is derived with PBKDF2-HMAC-SHA256
(600,000 iterations, a fixed application salt).

Encrypted values carry the `fernet:` prefix; a value without it was written before encryption
and is read as it is (and encrypted on the next `reencrypt`).
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

if TYPE_CHECKING:
    from bot.core.settings import Settings

PREFIX = "fernet:"
MIN_PASSPHRASE_LENGTH = 32
# Every replica must derive the same key from the same passphrase, so the salt is fixed; it is
# specific to Switchboard, so precomputed tables for other applications do not apply.
_SALT = b"switchboard/SWITCHBOARD_SECRET_KEY/v1"
_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256


class SecretKeyError(ValueError):
    """SWITCHBOARD_SECRET_KEY is malformed; the message never contains the key."""


class UndecryptableSecret(Exception):
    """A stored value was encrypted with a key that is not (or no longer) configured."""


def parse_secret_keys(value: str) -> list[Fernet]:
    """The Fernet keys of a SWITCHBOARD_SECRET_KEY value, the encrypting one first."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise SecretKeyError("must not be empty: set a Fernet key or a passphrase of 32 characters or more")
    keys = []
    for position, part in enumerate(parts, start=1):
        key = _fernet_key(part)
        if key is None:
            if len(part) < MIN_PASSPHRASE_LENGTH:
                raise SecretKeyError(
                    f"key {position} is neither a Fernet key nor a passphrase of at least "
                    f"{MIN_PASSPHRASE_LENGTH} characters "
                    "(generate one with `switchboard secrets generate-key`)"
                )
            key = _derived_key(part)
        keys.append(Fernet(key))
    return keys


def _fernet_key(text: str) -> bytes | None:
    if len(text) != 44:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return text.encode("ascii") if len(raw) == 32 else None


@lru_cache(maxsize=16)
def _derived_key(passphrase: str) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=_SALT, iterations=_ITERATIONS)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts with the first key, decrypts with any; reads values stored before encryption."""

    def __init__(self, keys: list[Fernet]) -> None:
        self.primary = keys[0]
        self.all = MultiFernet(keys)

    def encrypt(self, plaintext: str) -> str:
        return PREFIX + self.all.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored
        try:
            return self.all.decrypt(stored.removeprefix(PREFIX).encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise UndecryptableSecret(
                "SWITCHBOARD_SECRET_KEY: none of its keys decrypts this stored token; add the key it "
                "was encrypted with (after the new one, comma-separated)"
            ) from None

    def is_current(self, stored: str) -> bool:
        """Encrypted with the first key: nothing for `reencrypt` to do."""
        if not is_encrypted(stored):
            return False
        try:
            self.primary.decrypt(stored.removeprefix(PREFIX).encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reencrypt(self, stored: str) -> str:
        """`stored` (plaintext or under any configured key) encrypted with the first key."""
        return self.encrypt(self.decrypt(stored))


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def cipher_for(settings: Settings) -> TokenCipher | None:
    """The cipher of SWITCHBOARD_SECRET_KEY, or None when it is unset."""
    secret = settings.switchboard_secret_key
    return _cipher(secret.get_secret_value()) if secret is not None else None


@lru_cache(maxsize=8)
def _cipher(value: str) -> TokenCipher:
    return TokenCipher(parse_secret_keys(value))


def reveal(stored: str, cipher: TokenCipher | None) -> str:
    """The plaintext of a stored token; UndecryptableSecret when it is encrypted and no key reads it."""
    if cipher is not None:
        return cipher.decrypt(stored)
    if is_encrypted(stored):
        raise UndecryptableSecret("SWITCHBOARD_SECRET_KEY is not set, and the stored tokens are encrypted")
    return stored
