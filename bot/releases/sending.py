"""One post or edit of a release in one channel: paced to Slack's limits, and Slack's answer read
as posted, try again later, or failed."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.db import SessionFactory
from bot.core.posting import post_once
from bot.releases.claims import Outcome, PostClaim
from bot.slack.errors import classify

# Slack: "1 message per second to a specific channel".
PER_CHANNEL_INTERVAL = 1.0
# How long one pass waits out Slack's 429s for a post before putting it back for a later pass
# (its lease is kept alive meanwhile).
RATE_LIMIT_PATIENCE = 270.0
# After a 429, this many posts in flight at most, until Slack has said nothing for a minute.
CAUTIOUS_IN_FLIGHT = 4
QUIET_AFTER_429 = 60.0


# ---- pacing ---------------------------------------------------------------------------------


class SlackPacer:
    """Spaces posts to one channel, holds every post back while Slack says to wait, and after a
    429 keeps only a few posts in flight until Slack has been quiet for a while (so a wave of
    posts does not meet a wave of 429s)."""

    def __init__(
        self,
        per_channel: float = PER_CHANNEL_INTERVAL,
        cautious_in_flight: int = CAUTIOUS_IN_FLIGHT,
        quiet_after: float = QUIET_AFTER_429,
    ) -> None:
        self.per_channel = per_channel
        self.cautious_in_flight = cautious_in_flight
        self.quiet_after = quiet_after
        self._last: dict[str, float] = {}
        self._held_until = 0.0
        self._last_429 = -1e9
        self._in_flight = 0
        self._freed = asyncio.Event()

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        """Wait for a turn to call Slack for `channel`; the turn ends with the block."""
        while True:
            now = time.monotonic()
            wait = max(self._held_until - now, self._last.get(channel, -1e9) + self.per_channel - now)
            crowded = now - self._last_429 < self.quiet_after and self._in_flight >= self.cautious_in_flight
            if wait <= 0 and not crowded:
                break
            self._freed.clear()
            try:
                await asyncio.wait_for(self._freed.wait(), timeout=wait if wait > 0 else None)
            except TimeoutError:
                pass
        self._last[channel] = now
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._freed.set()

    def hold(self, seconds: float) -> None:
        now = time.monotonic()
        self._last_429 = now
        self._held_until = max(self._held_until, now + seconds)


# Per process (one session factory per running Switchboard) and workspace: Slack's limits are per
# app and workspace, whichever job posts.
_PACERS: weakref.WeakKeyDictionary[SessionFactory, dict[str, SlackPacer]] = weakref.WeakKeyDictionary()


def pacer_for(session_factory: SessionFactory, team_id: str) -> SlackPacer:
    return _PACERS.setdefault(session_factory, {}).setdefault(team_id, SlackPacer())


def posting_client(client: AsyncWebClient) -> AsyncWebClient:
    """The client without automatic retries: a retried post must first check the channel, and
    429s are paced here."""
    client.retry_handlers = []
    return client


# ---- talking to Slack ------------------------------------------------------------------------


async def send(
    client: AsyncWebClient,
    pacer: SlackPacer,
    claim: PostClaim,
    *,
    key: str,
    text: str,
    blocks: list[dict[str, Any]],
) -> Outcome:
    """One post or edit, waiting out 429s for a while; never raises for Slack's answers."""
    deadline = time.monotonic() + RATE_LIMIT_PATIENCE
    while True:
        try:
            async with pacer.slot(claim.channel):
                if claim.mode == "post":
                    found = await post_once(
                        client,
                        channel=claim.channel,
                        key=key,
                        text=text,
                        blocks=blocks,
                        maybe_posted=claim.attempts > 1,
                    )
                    return Outcome(
                        "posted", ts=found["ts"], channel=found["channel"], recovered="recovered" in found
                    )
                assert claim.ts is not None
                await client.chat_update(channel=claim.channel, ts=claim.ts, text=text, blocks=blocks)
                return Outcome("updated", ts=claim.ts)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            failure = classify(exc)
            assert failure is not None
            if failure.rate_limited:
                # Slack did not take the message; everyone waits, then this one tries again.
                wait = failure.retry_after or 1.0
                pacer.hold(wait)
                if time.monotonic() + wait < deadline:
                    continue
                return Outcome("later", error="ratelimited", retry_in=wait)
            # A connection error may have reached Slack; the next attempt looks before posting.
            return Outcome("later" if failure.transient else "failed", error=failure.error)
