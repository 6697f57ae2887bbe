"""The ASGI step in front of Bolt: a request to `POST /slack/events` reaches Bolt only once its
Slack signature verifies and its body has a shape Bolt can parse.

Bolt checks the signature too, but only after it has parsed the body, and its check raises on a
timestamp that is not an integer (`abc`, `1e99`); the error handler then answered the unverified
body (its `response_url`, its channel). Here nothing of the body is read as data before the
signature over its exact bytes has verified.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
# Slack's own payloads stay far below this; a larger body is refused before it is read in full.
MAX_BODY_BYTES = 1024 * 1024
# Seconds since the epoch: ten digits until the year 2286. Anything longer is not a real stamp,
# and an unbounded digit string would make int() itself the cost of a request.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FORM = "application/x-www-form-urlencoded"
# A form field by its name, as Slack writes it (a name in percent escapes is not one of these):
# found without decoding the whole form, which Bolt does again anyway.
_FORM_KEY = {name: re.compile(f"(?:^|&){name}(?:=|&|$)") for name in ("payload", "command", "ssl_check")}
_JSON = "application/json"

SecretLookup = Callable[[Scope], str | None]


class RefusedRequest(Exception):
    """The request is answered here, with `status` and a JSON `message`, and never reaches Bolt."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def runtime_signing_secret(scope: Scope) -> str | None:
    """The signing secret of the running app (settings are resolved in the lifespan, not before)."""
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    secret = getattr(getattr(runtime, "settings", None), "slack_signing_secret", None)
    return secret.get_secret_value() if secret is not None else None


class SlackRequestGuard:
    """Pure ASGI middleware: verify, then replay the very same bytes to the app behind it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        signing_secret: SecretLookup = runtime_signing_secret,
        clock: Clock | None = None,
        path: str = SLACK_EVENTS_PATH,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.signing_secret = signing_secret
        self.clock = clock or Clock()
        self.path = path
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        secret = self.signing_secret(scope)
        if secret is None:
            # Socket Mode without a signing secret: the route itself says HTTP events are off.
            await self.app(scope, receive, send)
            return
        try:
            body = await self._checked_body(scope, receive, secret)
        except RefusedRequest as refused:
            log.info("refused a request to %s: %s", self.path, refused.message)
            content = {"error": refused.error, "message": refused.message}
            await JSONResponse(content, status_code=refused.status)(scope, receive, send)
            return
        if body is None:
            return  # the client went away mid-body: nobody to answer
        await self.app(scope, _replay(body, receive), send)

    async def _checked_body(self, scope: Scope, receive: Receive, secret: str) -> bytes | None:
        headers = _headers(scope)
        declared = _single(headers, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        body = await _read_body(receive, self.max_body_bytes)
        if body is not None:
            verify_signature(
                body,
                timestamp=_single(headers, "x-slack-request-timestamp"),
                signature=_single(headers, "x-slack-signature"),
                verifier=SignatureVerifier(secret, clock=self.clock),
            )
            check_body_shape(body, _single(headers, "content-type") or "")
        return body


def verify_signature(
    body: bytes, *, timestamp: str | None, signature: str | None, verifier: SignatureVerifier
) -> None:
    """Raise RefusedRequest(401) unless `signature` is Slack's over `body`, signed in the last 5 minutes."""
    if timestamp is None or signature is None:
        raise _unverified("the X-Slack-Signature or X-Slack-Request-Timestamp header is missing")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise _unverified("X-Slack-Request-Timestamp is not a Unix time in seconds")
    if not _SIGNATURE.fullmatch(signature):
        raise _unverified("X-Slack-Signature is not a v0= signature")
    if abs(verifier.clock.now() - int(timestamp)) > 60 * 5:
        raise _unverified("X-Slack-Request-Timestamp is more than 5 minutes away from now")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # SignatureVerifier only signs text; Slack signs bytes, so a body that is not UTF-8 is
        # checked over its bytes here, to tell a forged request (401) from a broken one (400).
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        digest = hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(f"v0={digest}", signature)
    else:
        valid = verifier.is_valid(body=text, timestamp=timestamp, signature=signature)
    if not valid:
        raise _unverified("the Slack signature does not match the body")


def check_body_shape(body: bytes, content_type: str) -> None:
    """Raise RefusedRequest(400) unless Bolt can parse `body` into the object every listener expects."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("the body is not UTF-8 text") from None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == _JSON:
        _json_object(text, "the JSON body")
    elif media_type == _FORM:
        if text.startswith("{"):
            # Bolt reads any body starting with `{` as JSON, whatever its content type says.
            raise _malformed("a form body cannot start with '{'")
        if _FORM_KEY["payload"].search(text):
            _json_object(parse_qs(text, keep_blank_values=True)["payload"][0], "the payload field")
        elif not (_FORM_KEY["command"].search(text) or _FORM_KEY["ssl_check"].search(text)):
            raise _malformed("the form has neither a payload nor a command field")
    else:
        raise _malformed(f"the Content-Type must be {_JSON} or {_FORM}")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise _malformed(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise _malformed(f"{what} is not a JSON object")
    return value


def _unverified(reason: str) -> RefusedRequest:
    return RefusedRequest(401, "invalid_signature", f"Request not verified: {reason}.")


def _malformed(reason: str) -> RefusedRequest:
    return RefusedRequest(400, "malformed_body", f"Malformed Slack request: {reason}.")


def _too_large(limit: int) -> RefusedRequest:
    return RefusedRequest(413, "payload_too_large", f"Request body is larger than {limit} bytes.")


def _headers(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return found


def _single(headers: dict[str, list[str]], name: str) -> str | None:
    """The header's value; None when absent or sent twice (two stamps or signatures are a forgery)."""
    values = headers.get(name, [])
    return values[0].strip() if len(values) == 1 else None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or RefusedRequest(413) as soon as it outgrows `limit`; None on disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body, only a disconnect can come

    return replay
