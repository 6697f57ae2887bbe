"""The Bolt app: middleware, the one error handler, and every feature's listeners, each run inside
`guard_listener`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.db import is_unreachable
from bot.core.deliveries import claim_delivery
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.slack import limits
from bot.slack.guard import (
    TooSlow,
    failure_message,
    guard_listener,
    log_failure,
    start_ack_clock,
    tell_where_they_are,
    within_ack_budget,
)
from bot.slack.workspace import workspace_of

log = logging.getLogger(__name__)


class GuardedApp(AsyncApp):
    """An AsyncApp whose every listener, however registered (`app.command(...)`, `app.view(...)`,
    …), runs inside `guard_listener`: they all reach Bolt through this one method."""

    def _register_listener(
        self, functions: Sequence[Callable[..., Awaitable[BoltResponse | None]]], *args: Any, **kwargs: Any
    ) -> Callable[..., Awaitable[BoltResponse | None]] | None:
        listeners = list(functions)
        super()._register_listener([guard_listener(listeners[0]), *listeners[1:]], *args, **kwargs)
        # A decorator hands back the listener as written, so it can still be called directly.
        return listeners[0] if len(listeners) == 1 else None


def build_bolt_app(runtime: Runtime) -> AsyncApp:
    """A Bolt AsyncApp wired to `runtime`: single-workspace token, or OAuth when configured."""
    from bot.slack.oauth import oauth_settings
    from handlers import register_all

    settings = runtime.settings
    signing_secret = settings.slack_signing_secret
    app = GuardedApp(
        name="switchboard",
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        # The client carries the bot token (single workspace) or none (OAuth installs).
        client=runtime.web_client(None if settings.oauth_mode else runtime.bot_token),
        oauth_settings=oauth_settings(runtime) if settings.oauth_mode else None,
        request_verification_enabled=signing_secret is not None,
    )
    app.use(RequestPreparation(runtime))
    app.error(_show_error)
    register_all(app)
    return app


class RequestPreparation(AsyncMiddleware):
    """Switchboard's one middleware, before any listener: the runtime goes into the request's
    context and its ack budget starts; an event Slack re-sends is dropped; text a person sent is
    held to Slack's limits.

    A middleware object rather than a function: Bolt hands it the request as it is, where a
    function's arguments are looked up for it on every request.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context, body = req.context, req.body
        context["session_factory"] = self.runtime.session_factory
        context["settings"] = self.runtime.settings
        context["area_cache"] = self.runtime.area_cache
        context["runtime"] = self.runtime
        start_ack_clock(context)
        answered = await _drop_retried_events(body, req, context)
        if answered is None:
            answered = await _bound_input(body, context)
        if answered is not None:
            return answered
        return await next()


async def _claim_event(context: AsyncBoltContext, event_id: str) -> bool:
    async with unit_of_work(context["session_factory"]) as session:
        return await claim_delivery(session=session, key=f"event:{event_id}", team_id=workspace_of(context))


async def _drop_retried_events(
    body: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext
) -> BoltResponse | None:
    """Slack re-sends an event it thinks we missed; only the first delivery does anything.

    When the database cannot record the event within the ack budget, the event is not taken:
    Slack is answered 503, which it retries (up to three times, over about five minutes), and
    nothing has been written, so the retry is the first delivery."""
    event_id = body.get("event_id")
    if body.get("type") == "event_callback" and event_id:
        try:
            first = await within_ack_budget(_claim_event(context, str(event_id)), context)
        except Exception as error:
            if not isinstance(error, TooSlow) and not is_unreachable(error):
                raise
            retry = (request.headers.get("x-slack-retry-num") or ["none"])[0]
            log.warning(
                "Slack event %s (retry %s) not taken, Slack will send it again: the database %s",
                event_id,
                retry,
                "did not answer in time"
                if isinstance(error, TooSlow)
                else f"is unreachable or busy ({type(error).__name__})",
            )
            return BoltResponse(status=503, body="")
        if not first:
            log.info("dropping repeated delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
    return None


async def _bound_input(body: dict[str, Any], context: AsyncBoltContext) -> BoltResponse | None:
    """Text a person sent is cleaned of control characters and held to Slack's limits before any
    listener sees it; over a limit, they are told so where they are, and this is the answer."""
    ack: AsyncAck = context.ack
    kind = body.get("type")
    if "command" in body:
        too_long = limits.check_command(body)
        if too_long is not None:
            return await ack(text=too_long.message(), response_type="ephemeral")
    elif kind == "view_submission":
        too_long = limits.check_view(body.get("view") or {})
        if too_long is not None and too_long.block_id:
            return await ack(response_action="errors", errors={too_long.block_id: too_long.field_error()})
    elif kind in {"event_callback", "message_action"}:
        message = body.get("event") if kind == "event_callback" else body.get("message")
        too_long = limits.check_message(message) if isinstance(message, dict) else None
        if too_long is not None:
            await ack()
            await _tell_too_long(context.client, body, context, too_long)
            return BoltResponse(status=200, body="")
    return None


async def _tell_too_long(
    client: AsyncWebClient, body: dict[str, Any], context: AsyncBoltContext, too_long: limits.TooLong
) -> None:
    """Only the person who sent it hears about it; an event from no person (a bot) is just dropped."""
    user_id = context.user_id
    channel = context.channel_id
    log.info("ignoring a %s of %d characters from %s", too_long.what, too_long.length, user_id)
    from_bot = body.get("type") == "event_callback" and bool(body["event"].get("bot_id"))
    if not user_id or not channel or from_bot:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user_id, text=too_long.message())
    except SlackApiError as exc:
        log.info("could not tell %s their message was too long: %s", user_id, exc.response.get("error"))


async def _show_error(error: Exception, context: AsyncBoltContext, logger: logging.Logger) -> None:
    """A middleware that failed (listeners report their own failures): tell the user, where they
    are, what went wrong."""
    log_failure(error, logger)
    await tell_where_they_are(context, failure_message(error), logger)
