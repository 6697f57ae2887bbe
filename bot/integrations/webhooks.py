"""`POST /webhooks/github|linear|jira`: verify, record once, queue, answer at once.

Outside /api/v1 and its bearer tokens: each tracker proves itself with its own signing secret.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.api.deps import RuntimeDep
from bot.core.settings import Settings
from bot.core.uow import unit_of_work
from bot.integrations.events import MalformedPayload, tracker_events
from bot.integrations.intake import Outcome, record_delivery
from bot.integrations.signatures import (
    Rejected,
    Rejection,
    Verification,
    verify_github,
    verify_jira,
    verify_linear,
)
from models.integration import Provider

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

# GitHub caps release notes at 125,000 characters; a payload far larger than that is not one we
# read, and reading it whole would let anyone fill the process's memory.
MAX_BODY_BYTES = 1024 * 1024

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Ignored (nothing is tracked there), or already received"},
    202: {"description": "Queued"},
    400: {"description": "Signed, but not the provider's documented JSON"},
    401: {"description": "Missing, malformed or wrong signature, stale timestamp, or no secret set"},
    413: {"description": f"Body larger than {MAX_BODY_BYTES} bytes"},
}


def _refuse(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "message": message, **extra})


def _accept(outcome: Outcome, message: str, **extra: Any) -> JSONResponse:
    status = 202 if outcome is Outcome.QUEUED else 200
    return JSONResponse(status_code=status, content={"status": outcome, "message": message, **extra})


async def _body(request: Request) -> bytes | None:
    """The raw body, or None when it is larger than MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _verify(provider: Provider, settings: Settings, body: bytes, request: Request) -> Verification:
    secrets = {
        Provider.GITHUB: settings.github_webhook_secret,
        Provider.LINEAR: settings.linear_webhook_secret,
        Provider.JIRA: settings.jira_webhook_secret,
    }
    secret = secrets[provider]
    plain = secret.get_secret_value() if secret is not None else None
    if provider is Provider.GITHUB:
        return verify_github(body=body, headers=request.headers, secret=plain)
    if provider is Provider.LINEAR:
        return verify_linear(body=body, headers=request.headers, secret=plain, now=datetime.now(UTC))
    return verify_jira(body=body, headers=request.headers, secret=plain)


def _json(body: bytes, content_type: str) -> object:
    """The payload; ValueError when it is not JSON (GitHub may send it form-encoded as `payload=`)."""
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8"), max_num_fields=10)
        if len(form.get("payload", [])) != 1:
            raise ValueError("a form-encoded delivery carries one `payload` field")
        return json.loads(form["payload"][0])
    return json.loads(body)


async def receive(request: Request, runtime: RuntimeDep, provider: Provider) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return _refuse(413, "too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    verified = _verify(provider, runtime.settings, body, request)
    if isinstance(verified, Rejected):
        log.warning("refused a %s webhook: %s", provider, verified.detail)
        if verified.reason is Rejection.BODY_MALFORMED:
            return _refuse(400, "invalid_request", f"{verified.detail}.")
        return _refuse(401, "unauthorized", f"{verified.detail}.", reason=verified.reason)
    try:
        payload = _json(body, request.headers.get("content-type", ""))
        events = tracker_events(
            provider=provider,
            payload=payload,
            delivery_id=verified.delivery_id,
            event_name=verified.event_name,
        )
    except MalformedPayload as exc:
        return _refuse(400, "invalid_request", f"The payload is not a {provider} webhook: {exc}.")
    except (ValueError, RecursionError):
        return _refuse(400, "invalid_request", "The body is not valid UTF-8 JSON.")
    async with unit_of_work(runtime.session_factory) as session:
        outcome = await record_delivery(
            session=session, provider=provider, delivery_id=verified.delivery_id, events=events
        )
    if outcome is Outcome.QUEUED:
        runtime.wake_scheduler()
        log.info("queued %s delivery %s", provider, verified.delivery_id)
        return _accept(outcome, "Queued.", delivery=verified.delivery_id)
    if outcome is Outcome.DUPLICATE:
        return _accept(outcome, "Already received.", delivery=verified.delivery_id)
    return _accept(outcome, "Ignored: no theme is tracked in what this event is about.")


@router.post("/github", responses=_RESPONSES, summary="GitHub webhook (issues, pull_request, release)")
async def github(request: Request, runtime: RuntimeDep) -> JSONResponse:
    return await receive(request, runtime, Provider.GITHUB)


@router.post("/linear", responses=_RESPONSES, summary="Linear webhook (Issue)")
async def linear(request: Request, runtime: RuntimeDep) -> JSONResponse:
    return await receive(request, runtime, Provider.LINEAR)


@router.post("/jira", responses=_RESPONSES, summary="Jira webhook (issue updated)")
async def jira(request: Request, runtime: RuntimeDep) -> JSONResponse:
    return await receive(request, runtime, Provider.JIRA)
