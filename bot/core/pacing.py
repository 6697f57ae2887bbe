"""Client-side pacing of Slack Web API calls, so that bulk sends stay inside Slack's limits.

Waiting for HTTP 429 and its `Retry-After` works, but each refusal costs at least a second and a
wasted call. Pacing ahead of time keeps a burst of hundreds of standup DMs moving at the rate
Slack allows; 429s remain the backstop (another process sharing the quota, a stricter limit).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Calls per minute per workspace, from Slack's published tiers (docs.slack.dev/apis/web-api/rate-limits):
# Tier 2 is 20+, Tier 3 50+, Tier 4 100+. chat.postMessage is a special tier: about one message per
# second per channel, bursts allowed, under a workspace-wide limit of several hundred per minute.
DEFAULT_LIMITS: dict[str, float] = {
    "chat.postMessage": 300.0,
    "chat.update": 50.0,
    "chat.postEphemeral": 100.0,
    "conversations.open": 50.0,
    "conversations.history": 50.0,
    "conversations.create": 20.0,
    "conversations.invite": 50.0,
    "users.info": 100.0,
    "views.publish": 100.0,
}
PER_CHANNEL_INTERVAL = 1.0
WINDOW = 60.0
# Slack counts a call when it arrives, we when we send it; this margin absorbs the difference.
SAFETY = 0.25


@dataclass
class _Method:
    capacity: int
    sent: deque[float] = field(default_factory=deque)


class SlackPacer:
    """Sliding one-minute window per method plus a minimum interval per channel for posts."""

    def __init__(
        self,
        limits: dict[str, float] | None = None,
        *,
        per_channel_interval: float = PER_CHANNEL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.per_channel_interval = per_channel_interval
        self.clock = clock
        self._methods: dict[str, _Method] = {}
        self._channel_next: dict[str, float] = {}
        self.waited = 0.0

    def reserve(self, method: str, *, channel: str | None = None, now: float | None = None) -> float:
        """Book the earliest moment a call of `method` (to `channel`) may go, and return it.

        No await happens in here, so on one event loop concurrent callers book one after another.
        """
        now = self.clock() if now is None else now
        at = now
        limit = self.limits.get(method)
        state: _Method | None = None
        if limit:
            state = self._methods.setdefault(method, _Method(capacity=max(1, int(limit))))
            while state.sent and state.sent[0] <= now - WINDOW - SAFETY:
                state.sent.popleft()
            if state.sent:
                at = max(at, state.sent[-1])
            if len(state.sent) >= state.capacity:
                at = max(at, state.sent[-state.capacity] + WINDOW + SAFETY)
        if channel and method == "chat.postMessage":
            if len(self._channel_next) > 10_000:
                self._channel_next = {c: t for c, t in self._channel_next.items() if t > now}
            at = max(at, self._channel_next.get(channel, 0.0))
            self._channel_next[channel] = at + self.per_channel_interval + SAFETY / 5
        if state is not None:
            state.sent.append(at)
        return at

    async def wait(self, method: str, *, channel: str | None = None) -> None:
        """Sleep until a call of `method` (to `channel`) fits inside the limits."""
        now = self.clock()
        delay = self.reserve(method, channel=channel, now=now) - now
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)


_PACERS: weakref.WeakKeyDictionary[Any, dict[str, SlackPacer]] = weakref.WeakKeyDictionary()
_CONFIGURED: weakref.WeakKeyDictionary[Any, tuple[dict[str, float], float]] = weakref.WeakKeyDictionary()


def configure(
    owner: Any, limits: dict[str, float], *, per_channel_interval: float = PER_CHANNEL_INTERVAL
) -> None:
    """Use these limits for every workspace served through `owner` (a runtime's HTTP session)."""
    _CONFIGURED[owner] = (dict(limits), per_channel_interval)
    _PACERS.pop(owner, None)


def pacer_for(owner: Any, team_id: str) -> SlackPacer:
    """The pacer of one workspace; Slack's limits are per app per workspace."""
    pacers = _PACERS.setdefault(owner, {})
    if team_id not in pacers:
        limits, interval = _CONFIGURED.get(owner, (DEFAULT_LIMITS, PER_CHANNEL_INTERVAL))
        pacers[team_id] = SlackPacer(limits, per_channel_interval=interval)
    return pacers[team_id]
