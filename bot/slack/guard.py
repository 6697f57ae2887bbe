"""The one wrapper around every Bolt listener: Slack always gets its answer within 3 s, and a
listener that fails is explained to the person where they are, whether it had acked or not.

Bolt on its own answers a listener that raises before acking with an HTTP 500 ("failed with the
error http_service_error" in Slack), and one that raises just after acking can wipe the ack
before Bolt has sent it, leaving Slack to time out. Here no exception leaves a listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_bolt.util.utils import get_arg_names_of_callable

from bot.core.db import is_unreachable, waits_on_database
from bot.core.errors import UserError

log = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[BoltResponse | None]]
T = TypeVar("T")

DATABASE_DOWN = (
    ":warning: Switchboard can't reach its database right now; nothing was changed. "
    "Please try again in a minute."
)
SOMETHING_WENT_WRONG = (
    ":warning: Something went wrong on Switchboard's side and it has been logged. "
    "Please try again in a minute; if it keeps failing, tell your Switchboard admin."
)
TOO_SLOW = ":warning: Switchboard took too long to answer; nothing was changed. Please try again in a minute."

# Slack waits 3 s for the HTTP answer, network both ways included. The database's own timeouts
# (connect 2 s, then a reconnect after a failed ping; statements 4 s) are sized for the admin
# API's 5 s and for jobs, and a partitioned network can take several of them in a row: a
# listener that has not acked by this budget is cancelled, which abandons its transaction
# uncommitted, and the person is told instead.
# The default of SLACK_ACK_BUDGET_SECONDS.
ACK_BUDGET_SECONDS = 2.0
# Where the request's ack budget ends (event-loop time): set as the request reaches Switchboard's
# own middleware, so that the middleware's database work and the listener share the one budget.
ACK_DEADLINE = "ack_deadline"
_UNSET = object()
# Listeners (and middleware work) abandoned at the budget, kept referenced while they roll back.
_abandoned: set[asyncio.Task[Any]] = set()


class TooSlow(Exception):
    """The listener had not acked (or middleware work had not ended) within the ack budget."""

    def __init__(self, *, in_database: bool) -> None:
        super().__init__("database" if in_database else "listener")
        self.in_database = in_database


def _budget(context: AsyncBoltContext) -> float:
    return float(getattr(context.get("settings"), "slack_ack_budget_seconds", ACK_BUDGET_SECONDS))


def start_ack_clock(context: AsyncBoltContext) -> None:
    """Start the request's ack budget (SLACK_ACK_BUDGET_SECONDS)."""
    context[ACK_DEADLINE] = asyncio.get_running_loop().time() + _budget(context)


def ack_budget_left(context: AsyncBoltContext) -> float:
    """Seconds left before the request must be answered; the whole budget if its clock never started."""
    deadline = context.get(ACK_DEADLINE)
    if deadline is None:
        return _budget(context)
    return max(0.0, min(_budget(context), deadline - asyncio.get_running_loop().time()))


async def within_ack_budget(work: Coroutine[Any, Any, T], context: AsyncBoltContext) -> T:
    """What `work` returns, or TooSlow once the request's ack budget has run out; the work is then
    abandoned, to roll back on its own time, rather than waited for."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=ack_budget_left(context))
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if not done:
        slow = TooSlow(in_database=waits_on_database(task))
        _abandon(task)
        raise slow
    return task.result()


def failure_message(error: BaseException) -> str:
    """What the person is told: their own mistake, an unreachable database, or our fault."""
    if isinstance(error, UserError):
        return f":warning: {error}"
    if isinstance(error, TooSlow):
        return DATABASE_DOWN if error.in_database else TOO_SLOW
    if is_unreachable(error):
        return DATABASE_DOWN
    return SOMETHING_WENT_WRONG


def log_failure(error: BaseException, logger: logging.Logger = log) -> None:
    if isinstance(error, UserError):
        return
    if isinstance(error, TooSlow) or is_unreachable(error):
        logger.warning("listener could not finish: %r", error)
    else:
        logger.exception("listener failed", exc_info=error)


async def tell_where_they_are(context: AsyncBoltContext, message: str, logger: logging.Logger = log) -> None:
    """Only the person who acted sees it: under the message they used, in the channel, else by DM."""
    user_id = context.user_id
    try:
        if context.respond is not None and context.response_url:
            await context.respond(text=message, response_type="ephemeral", replace_original=False)
        elif user_id and context.channel_id:
            await context.client.chat_postEphemeral(channel=context.channel_id, user=user_id, text=message)
        elif user_id:
            await context.client.chat_postMessage(channel=user_id, text=message)
    except Exception:  # the error report itself must never raise
        logger.exception("could not tell user %s about an error", user_id)


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    # Every input block is keyed in the submitted state, even one left empty.
    return next(iter((view.get("state") or {}).get("values") or {}), None)


async def _ack_failure(ack: AsyncAck, body: dict[str, Any], message: str) -> bool:
    """Ack with the message itself where Slack can show it; whether the person has now been told."""
    if "command" in body:
        await ack(text=message, response_type="ephemeral")
        return True
    if body.get("type") == "view_submission":
        block = _first_input_block(body.get("view") or {})
        if block is not None:
            # The modal stays open with what they typed, the message under its first field.
            await ack(response_action="errors", errors={block: message})
            return True
    if body.get("type") == "block_suggestion":
        await ack(options=[])
        return True
    await ack()
    return False


async def answer_failure(
    error: BaseException, *, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Tell the person what went wrong, in the ack when Slack still waits for one."""
    log_failure(error)
    message = failure_message(error)
    if ack.response is None and await _ack_failure(ack, body, message):
        return
    await tell_where_they_are(context, message)


class _SignallingAck:
    """The listener's `ack`, also resolving `acked` once it has been called: the budget waits on
    the ack itself rather than looking for it."""

    def __init__(self, ack: AsyncAck, acked: asyncio.Future[None]) -> None:
        self._ack = ack
        self._acked = acked

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._ack(*args, **kwargs)
        finally:
            if not self._acked.done():
                self._acked.set_result(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ack, name)


async def _acked_or_done(
    work: asyncio.Task[Any], ack: AsyncAck, acked: asyncio.Future[None], budget: float
) -> bool:
    """Wait until the listener acks or ends; False when the budget ran out first. An event that
    Bolt acknowledged before running its listener is already answered: its listener takes its time.
    """
    if ack.response is None and not work.done() and not acked.done():
        await asyncio.wait({work, acked}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
    return ack.response is not None or work.done() or acked.done()


def _abandon(work: asyncio.Task[Any]) -> None:
    """Cancel work that missed the budget; it rolls back on its own time and is logged."""
    work.cancel()
    _abandoned.add(work)

    def done(task: asyncio.Task[Any]) -> None:
        _abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("abandoned work ended with %r", task.exception())

    work.add_done_callback(done)


def _listener_kwargs(arg_names: Sequence[str], args: AsyncArgs) -> dict[str, Any]:
    """What Bolt would pass a listener taking `arg_names`, read off the arguments it has already
    built for `guarded`: the ones it names (`ack`, `body`, `client`, …), else the context's keys."""
    kwargs: dict[str, Any] = {}
    for name in arg_names:
        value = args if name == "args" else getattr(args, name, _UNSET)
        kwargs[name] = args.context.get(name) if value is _UNSET else value
    return kwargs


def guard_listener(listener: Listener) -> Listener:
    """`listener`, acked within the ack budget and with every failure told to the person."""
    arg_names = get_arg_names_of_callable(listener)

    async def guarded(args: AsyncArgs) -> BoltResponse | None:
        ack, body, context = args.ack, args.body, args.context
        kwargs = _listener_kwargs(arg_names, args)
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if "ack" in kwargs:
            kwargs["ack"] = _SignallingAck(ack, acked)
        work = asyncio.ensure_future(listener(**kwargs))
        if not await _acked_or_done(work, ack, acked, ack_budget_left(context)):
            slow = TooSlow(in_database=waits_on_database(work))
            _abandon(work)
            await answer_failure(slow, ack=ack, body=body, context=context)
            return None
        try:
            return await work
        except Exception as error:
            await answer_failure(error, ack=ack, body=body, context=context)
            return None

    guarded.__name__ = guarded.__qualname__ = getattr(listener, "__name__", "listener")
    return guarded
