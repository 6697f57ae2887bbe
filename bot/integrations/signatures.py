"""Is this webhook from the tracker it claims? HMAC-SHA256 checks for GitHub, Linear and Jira."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.integration import Provider

# A Linear delivery signed more than a minute from now is treated as a replay.
LINEAR_MAX_SKEW_MS = 60_000

GITHUB_SIGNATURE = "X-Hub-Signature-256"
GITHUB_DELIVERY = "X-GitHub-Delivery"
GITHUB_EVENT = "X-GitHub-Event"
LINEAR_SIGNATURE = "Linear-Signature"
LINEAR_DELIVERY = "Linear-Delivery"
LINEAR_EVENT = "Linear-Event"
JIRA_SIGNATURE = "X-Hub-Signature"
JIRA_DELIVERY = "X-Atlassian-Webhook-Identifier"

_PREFIXED_HEX = re.compile(r"sha256=([0-9a-fA-F]{64})")
_BARE_HEX = re.compile(r"[0-9a-fA-F]{64}")
# Wide enough for GitHub's and Linear's UUIDs and Jira's numeric identifiers; narrow enough to fit
# WebhookDelivery.delivery_id and to be safe in a log line.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,254}")
_EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")


class Rejection(StrEnum):
    SECRET_UNSET = "secret_unset"
    HEADER_MISSING = "header_missing"
    HEADER_MALFORMED = "header_malformed"
    SIGNATURE_MISMATCH = "signature_mismatch"
    BODY_MALFORMED = "body_malformed"
    TIMESTAMP_INVALID = "timestamp_invalid"
    TIMESTAMP_STALE = "timestamp_stale"


@dataclass(frozen=True)
class Verified:
    provider: Provider
    delivery_id: str
    # The event named by a header (GitHub, Linear); Jira names it in the body only.
    event_name: str | None


@dataclass(frozen=True)
class Rejected:
    provider: Provider
    reason: Rejection
    # Safe to log: it names headers and limits, never the secret or a signature.
    detail: str


Verification = Verified | Rejected


def verify_github(*, body: bytes, headers: Mapping[str, str], secret: str | None) -> Verification:
    """Check `X-Hub-Signature-256: sha256=<hex>` and read the delivery id and event name."""
    provider = Provider.GITHUB
    failure = _check_signature(provider, body, headers, secret, GITHUB_SIGNATURE, _PREFIXED_HEX)
    if failure is not None:
        return failure
    delivery = _required(provider, headers, GITHUB_DELIVERY, _DELIVERY_ID)
    event = _required(provider, headers, GITHUB_EVENT, _EVENT_NAME)
    if isinstance(delivery, Rejected):
        return delivery
    if isinstance(event, Rejected):
        return event
    return Verified(provider=provider, delivery_id=delivery, event_name=event)


def verify_linear(
    *, body: bytes, headers: Mapping[str, str], secret: str | None, now: datetime
) -> Verification:
    """Check `Linear-Signature: <hex>` and that the body's `webhookTimestamp` is within 60 s of `now`."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware `now`")
    provider = Provider.LINEAR
    failure = _check_signature(provider, body, headers, secret, LINEAR_SIGNATURE, _BARE_HEX)
    if failure is not None:
        return failure
    delivery = _required(provider, headers, LINEAR_DELIVERY, _DELIVERY_ID)
    if isinstance(delivery, Rejected):
        return delivery
    event = _optional(provider, headers, LINEAR_EVENT, _EVENT_NAME)
    if isinstance(event, Rejected):
        return event
    stale = _check_linear_timestamp(body, now)
    if stale is not None:
        return stale
    return Verified(provider=provider, delivery_id=delivery, event_name=event)


def verify_jira(*, body: bytes, headers: Mapping[str, str], secret: str | None) -> Verification:
    """Check `X-Hub-Signature: sha256=<hex>` and read `X-Atlassian-Webhook-Identifier`."""
    provider = Provider.JIRA
    failure = _check_signature(provider, body, headers, secret, JIRA_SIGNATURE, _PREFIXED_HEX)
    if failure is not None:
        return failure
    delivery = _required(provider, headers, JIRA_DELIVERY, _DELIVERY_ID)
    if isinstance(delivery, Rejected):
        return delivery
    return Verified(provider=provider, delivery_id=delivery, event_name=None)


def sign(*, body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`, as all three trackers compute it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_signature(
    provider: Provider,
    body: bytes,
    headers: Mapping[str, str],
    secret: str | None,
    name: str,
    shape: re.Pattern[str],
) -> Rejected | None:
    # An endpoint without a secret could be called by anyone: it refuses, it does not accept.
    if secret is None or not secret.strip():
        return Rejected(provider, Rejection.SECRET_UNSET, f"no {provider} webhook secret is configured")
    value = _header(headers, name)
    if value is None:
        return Rejected(provider, Rejection.HEADER_MISSING, f"{name} is missing")
    match = shape.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        expected = "sha256=<64 hex digits>" if shape is _PREFIXED_HEX else "<64 hex digits>"
        return Rejected(provider, Rejection.HEADER_MALFORMED, f"{name} is not {expected}")
    given = bytes.fromhex(match[1] if shape.groups else match[0])
    expected_digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected_digest):
        return Rejected(provider, Rejection.SIGNATURE_MISMATCH, f"{name} does not match the body")
    return None


def _check_linear_timestamp(body: bytes, now: datetime) -> Rejected | None:
    provider = Provider.LINEAR
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        return Rejected(provider, Rejection.BODY_MALFORMED, "the body is not a JSON object")
    stamp = payload.get("webhookTimestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        return Rejected(provider, Rejection.TIMESTAMP_INVALID, "webhookTimestamp is missing or not a number")
    skew_ms = abs(now.timestamp() * 1000 - stamp)
    if skew_ms > LINEAR_MAX_SKEW_MS:
        return Rejected(
            provider, Rejection.TIMESTAMP_STALE, f"webhookTimestamp is {skew_ms / 1000:.0f} s away from now"
        )
    return None


def _required(
    provider: Provider, headers: Mapping[str, str], name: str, shape: re.Pattern[str]
) -> str | Rejected:
    value = _optional(provider, headers, name, shape)
    if value is None:
        return Rejected(provider, Rejection.HEADER_MISSING, f"{name} is missing")
    return value


def _optional(
    provider: Provider, headers: Mapping[str, str], name: str, shape: re.Pattern[str]
) -> str | Rejected | None:
    value = _header(headers, name)
    if value is None:
        return None
    cleaned = value.strip() if isinstance(value, str) else ""
    if not shape.fullmatch(cleaned):
        return Rejected(provider, Rejection.HEADER_MALFORMED, f"{name} is not a valid value")
    return cleaned


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """The header `name`, matched case-insensitively as HTTP requires, whatever mapping is given."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)
