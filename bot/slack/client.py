"""Slack Web API client: honours SLACK_API_URL, retries 429/5xx/connection errors, counts calls."""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.metrics import SLACK_API_CALLS


class RetryAfterHandler(AsyncRetryHandler):
    """Retries HTTP 429 after exactly the `Retry-After` Slack asks for.

    slack_sdk's built-in handler adds up to a second of jitter to every wait, which makes
    posting to hundreds of channels markedly slower than Slack's limits allow.
    """

    def __init__(self, max_retry_count: int = 8, jitter_seconds: float = 0.05) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.jitter_seconds = jitter_seconds

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        headers = {k.lower(): v for k, v in (response.headers if response else {}).items()}
        values = headers.get("retry-after") or ["1"]
        try:
            wait = float(values[0])
        except ValueError:
            wait = 1.0
        state.next_attempt_requested = True
        await asyncio.sleep(max(wait, 0.0) + random.random() * self.jitter_seconds)
        state.increment_current_attempt()


def _method_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] or "unknown"


async def _on_request_end(
    _session: aiohttp.ClientSession, _ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    status = params.response.status
    outcome = "ok" if status < 400 else "rate_limited" if status == 429 else f"http_{status // 100}xx"
    SLACK_API_CALLS.labels(method=_method_of(str(params.url)), outcome=outcome).inc()


async def _on_request_exception(
    _session: aiohttp.ClientSession,
    _ctx: SimpleNamespace,
    params: aiohttp.TraceRequestExceptionParams,
) -> None:
    SLACK_API_CALLS.labels(method=_method_of(str(params.url)), outcome="connection_error").inc()


def create_http_session() -> aiohttp.ClientSession:
    """A pooled HTTP session whose requests are counted by method and outcome."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_request_end)
    trace.on_request_exception.append(_on_request_exception)
    return aiohttp.ClientSession(trace_configs=[trace], timeout=aiohttp.ClientTimeout(total=30))


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        RetryAfterHandler(),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]


def create_web_client(
    *, base_url: str, token: str | None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url, session=session, retry_handlers=retry_handlers())
