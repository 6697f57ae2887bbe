"""A local Slack Web API emulator.

It answers the Web API methods Switchboard uses with Slack-shaped responses, records every call
with its arguments, and can be told to answer HTTP 429 with `Retry-After`, a 5xx, or an error such
as `channel_not_found`, or to answer late. It can also enforce Slack's per-method rate limits. The
tests, the demo and the benchmarks point `SLACK_API_URL` at it.

This module is the aiohttp app, the request handling and the faults and limits; `state` holds what
the emulated Slack knows and the recorded calls, `methods` the Web API method handlers, `files`
the external upload flow (the POSTs to its upload URLs are recorded, and can be failed, as
`upload` calls carrying the bytes) and `socket_mode` the Socket Mode connections.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.emulator.files import FileMethods
from bot.emulator.methods import WebApiMethods
from bot.emulator.socket_mode import SocketMode
from bot.emulator.state import Call

# Slack's published tiers, in calls per minute per workspace.
SLACK_TIER_LIMITS: dict[str, float] = {
    "chat.postMessage": 600.0,  # plus one message per second per channel, see below
    "chat.update": 50.0,
    "chat.postEphemeral": 100.0,
    "chat.getPermalink": 100.0,
    "conversations.open": 100.0,
    "conversations.history": 50.0,
    "conversations.create": 20.0,
    "conversations.invite": 50.0,
    "conversations.info": 100.0,
    "users.info": 100.0,
    "users.lookupByEmail": 100.0,
    "users.list": 20.0,
    "reactions.add": 50.0,
    "views.open": 100.0,
    "views.update": 100.0,
    "views.publish": 100.0,
    "files.getUploadURLExternal": 100.0,
    "files.completeUploadExternal": 100.0,
}
JSON_ARGS = {"blocks", "attachments", "metadata", "view", "users", "user_ids", "files"}
# The name calls to an upload URL are recorded (and can be failed) under.
UPLOAD = "upload"
# Methods whose answer depends on which token called them.
TOKEN_AWARE_METHODS = {"auth.test", "apps.connections.open"}


@dataclass
class Fault:
    method: str
    error: str | None = None
    status: int = 200
    retry_after: float | None = None
    times: int = 1
    when: Callable[[dict[str, Any]], bool] | None = None


class _Bucket:
    """Sliding one-minute window; answers how long to wait when full."""

    def __init__(self, per_minute: float) -> None:
        self.capacity = max(1, int(per_minute))
        self.window = 60.0
        self.hits: deque[float] = deque()

    def take(self, now: float) -> float:
        while self.hits and now - self.hits[0] >= self.window:
            self.hits.popleft()
        if len(self.hits) >= self.capacity:
            return self.window - (now - self.hits[0])
        self.hits.append(now)
        return 0.0


class _TokenBucket:
    """A sustained rate with a burst allowance ("several hundred per minute, generous bursts")."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.updated: float | None = None

    def take(self, now: float) -> float:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class SlackEmulator(WebApiMethods, FileMethods, SocketMode):
    """In-process Slack Web API on a local port."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[Fault] = []
        self.rate_limited = False
        self.per_channel_interval = 1.0
        self.tier_limits = dict(SLACK_TIER_LIMITS)
        self.throttled: Counter[str] = Counter()
        self._buckets: dict[str, _Bucket | _TokenBucket] = {}
        self.tier_bursts: dict[str, int] = {}
        self._channel_last_post: dict[str, float] = {}
        # Seconds each method's answer is held back ("*": every method not named).
        self.latency: dict[str, float] = {}
        self._runner: web.AppRunner | None = None

    # ---- faults and limits -----------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: float | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (matching `when`) fail as told."""
        if retry_after is not None and status == 200:
            status = 429
        self.faults.append(Fault(method, error, status, retry_after, times, when))

    def enforce_rate_limits(
        self,
        limits: dict[str, float] | None = None,
        *,
        per_channel_interval: float = 1.0,
        bursts: dict[str, int] | None = None,
    ) -> None:
        """Answer 429 + Retry-After past Slack's per-method limits (and 1 post/s per channel).

        A method in `bursts` is limited to a sustained rate of its per-minute limit with that many
        calls of burst, instead of a sliding one-minute window.
        """
        self.rate_limited = True
        if limits:
            self.tier_limits.update(limits)
        self.per_channel_interval = per_channel_interval
        self.tier_bursts.update(bursts or {})
        self._buckets.clear()

    def slow_down(self, seconds: float, *methods: str) -> None:
        """Answer `methods` (every method when none is named) `seconds` late. What a call does
        happens when it arrives, as when Slack has acted and its reply is slow to come back."""
        for method in methods or ("*",):
            self.latency[method] = seconds

    # ---- server ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/link/", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{bound}/api/"
        return self.url

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close(code=1001, message=b"emulator stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def response_url(self, key: str = "r1") -> str:
        return self.url.replace("/api/", f"/response/{key}")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(Call("response_url", {"key": request.match_info["key"], **body}, None))
        return web.json_response({"ok": True})

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The bytes of a file, POSTed raw or as the `file` field of a multipart form."""
        file_id = request.match_info["file_id"]
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = form.get("file")
            content = field.file.read() if isinstance(field, web.FileField) else str(field or "").encode()
        else:
            content = await request.read()
        args = {"file_id": file_id, "length": len(content), "content": content}
        self._record(Call(UPLOAD, args, None))
        fault = self._take_fault(UPLOAD, args)
        if fault is not None:
            return self._fault_response(fault)
        status, text = self.receive_upload(file_id, content)
        return web.Response(status=status, text=text, content_type="text/plain")

    def _fault_response(self, fault: Fault) -> web.Response:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(math.ceil(fault.retry_after)))
        if fault.status >= 500:
            return web.Response(status=fault.status, text="upstream error", headers=headers)
        error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
        return web.json_response({"ok": False, "error": error}, status=fault.status, headers=headers)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            # oauth.v2.access: the app's client_id and client_secret come as HTTP Basic auth.
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", client_secret)
            auth = ""
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        self._record(Call(method, args, token))

        fault = self._take_fault(method, args)
        if fault is not None:
            return self._fault_response(fault)

        if self.rate_limited:
            wait = self._throttle(method, args)
            if wait > 0:
                self.throttled[method] += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )

        if not token and method not in {"oauth.v2.access", "api.test"}:
            return web.json_response({"ok": False, "error": "not_authed"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            result: dict[str, Any] = {"ok": True}
        elif method in TOKEN_AWARE_METHODS:
            result = handler(args, token)
        else:
            result = handler(args)
        self.responses.append({"method": method, **result})
        late = self.latency.get(method, self.latency.get("*", 0.0))
        if late > 0:
            await asyncio.sleep(late)
        return web.json_response(result)

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        # Arguments come in the query string (slack_sdk's `params`), a form body or a JSON body.
        pairs = list(request.query.items())
        if raw and request.content_type == "application/json":
            return {**self._decoded(pairs), **json.loads(raw)}
        if raw:
            pairs += parse_qsl(raw.decode(), keep_blank_values=True)
        return self._decoded(pairs)

    @staticmethod
    def _decoded(pairs: list[tuple[str, str]]) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for key, value in pairs:
            if key in JSON_ARGS and value[:1] in "[{":
                args[key] = json.loads(value)
            else:
                args[key] = value
        return args

    def _take_fault(self, method: str, args: dict[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and (fault.when is None or fault.when(args)):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _throttle(self, method: str, args: dict[str, Any]) -> float:
        now = time.monotonic()
        if method == "chat.postMessage":
            channel = self._resolve_channel(str(args.get("channel", "")))
            last = self._channel_last_post.get(channel)
            if last is not None and now - last < self.per_channel_interval:
                return self.per_channel_interval - (now - last)
        limit = self.tier_limits.get(method)
        if limit is None:
            return 0.0
        bucket = self._buckets.get(method)
        if bucket is None:
            burst = self.tier_bursts.get(method)
            bucket = _Bucket(limit) if burst is None else _TokenBucket(limit, burst)
            self._buckets[method] = bucket
        wait = bucket.take(now)
        if wait == 0 and method == "chat.postMessage":
            self._channel_last_post[self._resolve_channel(str(args.get("channel", "")))] = now
        return wait
