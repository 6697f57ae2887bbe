"""The FastAPI app: Slack's request URL, trackers' webhooks, the admin API, health and metrics."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import generate_latest
from pydantic import BaseModel, Field
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api.auth import API_PREFIX
from bot.api.errors import install_error_handlers
from bot.api.schemas import document_errors
from bot.core import migrate
from bot.core.logs import install_log_redaction
from bot.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from bot.core.runtime import Runtime, build_runtime
from bot.core.settings import Settings, SettingsError, get_settings
from bot.slack.app import build_bolt_app
from bot.slack.oauth import seal_stored_installations
from bot.slack.verification import SlackRequestGuard

log = logging.getLogger(__name__)

# The Prometheus text format generate_latest() writes, as scrapers expect it to be labelled.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# /readyz promises its answer within 2 s, however silent the database.
READINESS_TIMEOUT_SECONDS = 1.5
# How long a starting web process waits for its large directories (see read_directories_ahead).
READ_AHEAD_SECONDS = 30.0


class MetricsResponse(Response):
    media_type = METRICS_CONTENT_TYPE


class ReadinessOut(BaseModel):
    status: str = Field(description="ready, or unavailable.")
    message: str | None = None


def route_template(scope: Scope) -> str:
    """`/api/v1/areas/{slug}` for a request to `/api/v1/areas/billing`; `unmatched` without a route.

    A route inside an included router knows only its own path (`/areas/{slug}`); the prefix is
    the part of the request path in front of what the route's pattern matches.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if template is None:
        return "unmatched"
    path: str = scope.get("path", "")
    if pattern is None or pattern.match(path):
        return str(template)
    for cut in (i for i, char in enumerate(path) if char == "/" and i > 0):
        if pattern.match(path[cut:]):
            return path[:cut] + str(template)
    return str(template)


class MetricsMiddleware:
    """Counts requests and their latency by route template (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record_status(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = route_template(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)


async def prepare_schema(settings: Settings) -> None:
    """SQLite applies pending migrations itself; PostgreSQL refuses an outdated schema."""
    if settings.is_sqlite:
        await migrate.upgrade_async(settings.database_url)
    elif await migrate.pending(settings.database_url):
        raise SettingsError("DATABASE_URL: the database schema is outdated; run `switchboard migrate` first")


async def start(runtime: Runtime, *, scheduler: bool) -> None:
    """Connect Socket Mode and start the scheduler, as settings ask."""
    runtime.bolt = build_bolt_app(runtime)
    settings = runtime.settings
    if scheduler and settings.switchboard_scheduler == "on":
        from bot.scheduler.service import SchedulerService

        runtime.scheduler = SchedulerService(runtime)
        await runtime.scheduler.start()


async def read_directories_ahead(runtime: Runtime) -> None:
    """Large ownership directories are read before the first request is taken, so that a replica
    starting (say, in a rolling deploy) is ready to answer `/whoowns` once it answers at all.

    A read that outlasts READ_AHEAD_SECONDS goes on in the background; a database that fails it
    only leaves the first lookups to read it themselves.
    """
    started = time.monotonic()
    try:
        async with asyncio.timeout(READ_AHEAD_SECONDS), runtime.session_factory() as session:
            teams = await runtime.area_cache.read_ahead(session=session)
    except TimeoutError:
        log.warning(
            "the ownership directory is still being read after %.0fs; serving meanwhile", READ_AHEAD_SECONDS
        )
    except Exception as exc:
        log.warning("could not read the ownership directory ahead: %r", exc)
    else:
        if teams:
            log.info("read %d ownership directories in %.1fs", len(teams), time.monotonic() - started)


def create_app(
    settings: Settings | None = None, *, manage_schema: bool = True, scheduler: bool = True
) -> FastAPI:
    """The web process. Tests pass their own settings and skip schema management."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or get_settings()
        install_log_redaction(resolved)
        resolved.require_slack()
        if manage_schema:
            await prepare_schema(resolved)
        runtime = build_runtime(resolved)
        app.state.runtime = runtime
        socket_handler = None
        try:
            await seal_stored_installations(runtime)
            await start(runtime, scheduler=scheduler)
            await read_directories_ahead(runtime)
            assert runtime.bolt is not None
            app.state.slack_handler = AsyncSlackRequestHandler(runtime.bolt)
            if resolved.socket_mode and resolved.slack_app_token:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                socket_handler = AsyncSocketModeHandler(
                    runtime.bolt, resolved.slack_app_token.get_secret_value()
                )
                try:
                    # The SDK retries a failed connect forever; asking for the socket URL first
                    # makes a refused token fail the start instead of hanging it.
                    socket_handler.client.wss_uri = await socket_handler.client.issue_new_wss_url()
                except SlackApiError as exc:
                    raise SettingsError(
                        f"SLACK_APP_TOKEN: Slack refused a Socket Mode connection "
                        f"({exc.response.get('error')}); check the app-level token and its "
                        "connections:write scope"
                    ) from None
                await socket_handler.connect_async()
                log.info("connected to Slack in Socket Mode")
            yield
        finally:
            if socket_handler is not None:
                await socket_handler.close_async()
            await runtime.close()

    app = FastAPI(
        title="Switchboard admin API",
        version="1",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    # Inside the metrics step, so that refused requests are counted too.
    app.add_middleware(SlackRequestGuard)
    app.add_middleware(MetricsMiddleware)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        if runtime.settings.slack_signing_secret is None:
            # Socket Mode without a signing secret: nothing could verify an HTTP request.
            return JSONResponse(
                status_code=404,
                content={
                    "error": "not_found",
                    "message": "HTTP events are off: set SLACK_SIGNING_SECRET to accept them",
                },
            )
        handler: AsyncSlackRequestHandler = request.app.state.slack_handler
        return await handler.handle(request)

    @app.get("/slack/install", include_in_schema=False)
    async def slack_install(request: Request) -> Response:
        handler: AsyncSlackRequestHandler = request.app.state.slack_handler
        return await handler.handle(request)

    @app.get("/slack/oauth_redirect", include_in_schema=False)
    async def slack_oauth_redirect(request: Request) -> Response:
        handler: AsyncSlackRequestHandler = request.app.state.slack_handler
        return await handler.handle(request)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=ReadinessOut,
        responses={503: {"model": ReadinessOut, "description": "The database is unreachable"}},
    )
    async def readyz(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            await asyncio.wait_for(_ping(runtime), READINESS_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("readiness check failed: %s", exc)
            return Response(
                content='{"status": "unavailable", "message": "database unreachable"}',
                status_code=503,
                media_type="application/json",
            )
        return Response(content='{"status": "ready"}', media_type="application/json")

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=MetricsResponse,
        responses={200: {"content": {METRICS_CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return MetricsResponse(content=generate_latest())

    app.router.routes.extend(_included_routes())
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_errors(generate_openapi(), prefix=API_PREFIX)
        return generate_openapi()

    app.openapi = openapi  # type: ignore[method-assign]
    return app


@functools.cache
def _included_routes() -> tuple[BaseRoute, ...]:
    """The admin API's and the webhooks' routers, included once per process.

    FastAPI resolves an included router's routes (their dependencies and models) on the first
    request routed through that inclusion, about 150 ms for the admin API; every app built in one
    process (the test suite builds hundreds) shares these inclusions, so they are resolved once.
    For the same reason an app's `dependency_overrides` do not reach them.
    """
    from bot.api.routes import api_router
    from bot.integrations.webhooks import router as webhooks_router

    root = APIRouter()
    root.include_router(api_router, prefix=API_PREFIX)
    root.include_router(webhooks_router)
    return tuple(root.routes)


async def _ping(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def app_factory() -> FastAPI:
    """For `uvicorn --factory bot.web:app_factory`."""
    return create_app()
