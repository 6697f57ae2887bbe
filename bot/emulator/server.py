"""A local Slack Web API emulator.

It answers the Web API methods Switchboard uses with Slack-shaped responses, records every call
with its arguments, and can be told to answer HTTP 429 with `Retry-After`, a 5xx, or an error such
as `channel_not_found`. It can also enforce Slack's per-method rate limits. The tests, the demo and
the benchmarks point `SLACK_API_URL` at it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-emulated-token"
TEAM_ID = "T0SWITCH"
BOT_USER_ID = "U0SWITCHBOT"
BOT_ID = "B0SWITCHBOT"

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
}
JSON_ARGS = {"blocks", "attachments", "metadata", "view", "users", "user_ids"}
# Methods whose answer depends on which token called them.
TOKEN_AWARE_METHODS = {"auth.test", "apps.connections.open"}
APP_ID = "A0SWITCH"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass
class Workspace:
    """A workspace the emulator knows a bot token for (the default one, or one installed by OAuth)."""

    team_id: str
    name: str
    bot_user_id: str
    bot_id: str


@dataclass
class OAuthGrant:
    """What Slack hands the redirect after a user approved an install: a one-time `code`."""

    workspace: Workspace
    bot_token: str
    installer: str
    scopes: tuple[str, ...]


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


class SlackEmulator:
    """In-process Slack Web API on a local port."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.reactions: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.rate_limited = False
        self.per_channel_interval = 1.0
        self.tier_limits = dict(SLACK_TIER_LIMITS)
        self.throttled: Counter[str] = Counter()
        self._buckets: dict[str, _Bucket | _TokenBucket] = {}
        self.tier_bursts: dict[str, int] = {}
        self._channel_last_post: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.workspaces: dict[str, Workspace] = {
            BOT_TOKEN: Workspace(TEAM_ID, "Switchboard Demo", BOT_USER_ID, BOT_ID)
        }
        self.oauth_app: tuple[str, str] | None = None
        self.oauth_grants: dict[str, OAuthGrant] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.socket_disconnects = 0
        self._socket_tickets: set[str] = set()
        self.add_user(BOT_USER_ID, "switchboard", is_bot=True)

    # ---- directory -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        email: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        tz: str = "UTC",
        is_admin: bool = False,
    ) -> dict[str, Any]:
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name.title(),
            "deleted": deleted,
            "is_bot": is_bot,
            "is_admin": is_admin,
            "tz": tz,
            "profile": {"email": email or f"{name}@example.com", "display_name": name},
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self, channel_id: str, name: str, *, members: list[str] | None = None, is_archived: bool = False
    ) -> dict[str, Any]:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_archived": is_archived,
            "is_member": True,
            "members": list(members or []),
        }
        self.channels[channel_id] = channel
        return channel

    def add_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A message a person wrote (as Slack would store it), to react to or act on."""
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "ts": self._next_ts(),
            "text": text,
            **extra,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages[channel].append(message)
        return message

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

    # ---- OAuth installs and Socket Mode ------------------------------------------------------

    def register_oauth_app(self, client_id: str, client_secret: str) -> None:
        """oauth.v2.access then only accepts this app's credentials, as Slack does."""
        self.oauth_app = (client_id, client_secret)

    def grant_install(
        self,
        code: str,
        *,
        team_id: str,
        team_name: str,
        bot_token: str,
        installer: str = "U0ALICE",
        scopes: tuple[str, ...] = (),
    ) -> Workspace:
        """A user approved installing the app in `team_id`; Slack redirects them with `code`."""
        n = len(self.workspaces) + len(self.oauth_grants)
        workspace = Workspace(team_id, team_name, f"U0BOT{n:04d}", f"B0BOT{n:04d}")
        self.oauth_grants[code] = OAuthGrant(workspace, bot_token, installer, scopes)
        return workspace

    async def send_envelope(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        retry_attempt: int = 0,
    ) -> str:
        """Deliver a Socket Mode envelope over the newest connection; returns its envelope_id."""
        if not self.sockets:
            raise AssertionError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        await self.sockets[-1].send_json(envelope)
        return envelope_id

    async def socket_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The acknowledgement the app sent back for `envelope_id`."""
        acks = await self.wait_for(
            "socket.ack", where=lambda call: call.get("envelope_id") == envelope_id, timeout=timeout
        )
        return acks[0].args

    # ---- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str, **match: Any) -> list[Call]:
        return [
            c for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (matching `where`) were received."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s), got {len(found)}; saw {seen}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                pass

    def reset_calls(self) -> None:
        self.calls.clear()
        self.responses.clear()

    # ---- server ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)
        app.router.add_post("/response/{key}", self._handle_response_url)
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

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        """Socket Mode: a `hello`, then envelopes out and acknowledgements back."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._socket_tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._socket_tickets.discard(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        self._record(Call("socket.connected", {"ticket": ticket}, None))
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self.sockets),
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._record(Call("socket.ack", json.loads(message.data), None))
        finally:
            self.sockets.remove(socket)
            self.socket_disconnects += 1
            self._record(Call("socket.closed", {"ticket": ticket}, None))
        return socket

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
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(math.ceil(fault.retry_after)))
            if fault.status >= 500:
                return web.Response(status=fault.status, text="upstream error", headers=headers)
            error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
            return web.json_response({"ok": False, "error": error}, status=fault.status, headers=headers)

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
        return web.json_response(result)

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        args: dict[str, Any] = dict(request.query)
        if not raw:
            return args
        if request.content_type == "application/json":
            args.update(json.loads(raw))
            return args
        for key, value in parse_qsl(raw.decode(), keep_blank_values=True):
            if key in JSON_ARGS and value[:1] in "[{":
                args[key] = json.loads(value)
            else:
                args[key] = value
        return args

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

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

    # ---- helpers for methods ---------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def _resolve_channel(self, channel: str) -> str:
        if channel.startswith(("U", "W")) and channel in self.users:
            return "D" + channel[1:]
        return channel

    def _channel_error(self, channel: str) -> str | None:
        if channel.startswith("D"):
            user = self.users.get("U" + channel[1:])
            if user is None:
                return "channel_not_found"
            return "user_disabled" if user["deleted"] else None
        info = self.channels.get(channel)
        if info is None:
            return "channel_not_found"
        if info["is_archived"]:
            return "is_archived"
        if not info["is_member"]:
            return "not_in_channel"
        return None

    def _find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    # ---- Web API methods -------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        workspace = self.workspaces.get(token or "")
        if workspace is None:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True,
            "url": f"https://{workspace.name.lower().replace(' ', '-')}.slack.com/",
            "team": workspace.name,
            "team_id": workspace.team_id,
            "user": "switchboard",
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    def _m_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.oauth_app is not None:
            client_id, client_secret = self.oauth_app
            if args.get("client_id") != client_id:
                return {"ok": False, "error": "invalid_client_id"}
            if args.get("client_secret") != client_secret:
                return {"ok": False, "error": "bad_client_secret"}
        # A code works once, like Slack's.
        grant = self.oauth_grants.pop(str(args.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        workspace = grant.workspace
        self.workspaces[grant.bot_token] = workspace
        return {
            "ok": True,
            "access_token": grant.bot_token,
            "token_type": "bot",
            "scope": ",".join(grant.scopes),
            "bot_user_id": workspace.bot_user_id,
            "app_id": APP_ID,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.installer},
        }

    def _m_apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not (token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        base = self.url.replace("http://", "ws://", 1).removesuffix("/api/")
        return {"ok": True, "url": f"{base}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": args}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        message = self._find_message(channel, str(args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "metadata"):
            if key in args:
                message[key] = args[key]
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        message = self._find_message(channel, str(args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        if self._channel_error(channel) == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        if str(args.get("user", "")) not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://switchboard-demo.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users", "")
        first = (users if isinstance(users, str) else ",".join(users)).split(",")[0]
        if first not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        if self._channel_error(channel) == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest", 0) or 0)
        latest = float(args.get("latest", 0) or 0) or math.inf
        inclusive = str(args.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(args.get("limit", 100) or 100)
        found = [
            m
            for m in reversed(self.messages.get(channel, []))
            if float(m["ts"]) >= oldest
            and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)
        ]
        include = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        messages = [m if include else {k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        if self._channel_error(channel) == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        ts = str(args.get("ts", ""))
        message = self._find_message(channel, ts)
        root = str(message.get("thread_ts") or ts) if message else ts
        thread = [m for m in self.messages.get(channel, []) if m["ts"] == root or m.get("thread_ts") == root]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        limit = int(args.get("limit", 1000) or 1000)
        include = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        messages = [m if include else {k: v for k, v in m.items() if k != "metadata"} for m in thread]
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {k: v for k, v in channel.items() if k != "members"}}

    def _m_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name", ""))
        if any(c["name"] == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel_id = f"C{next(self._ids):08d}"
        channel = self.add_channel(channel_id, name, members=[BOT_USER_ID])
        return {"ok": True, "channel": {k: v for k, v in channel.items() if k != "members"}}

    def _m_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = args.get("users", "")
        for user in (users if isinstance(users, str) else ",".join(users)).split(","):
            if user and user not in channel["members"]:
                channel["members"].append(user)
        return {"ok": True, "channel": {"id": channel["id"], "name": channel["name"]}}

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel["is_member"] = True
        return {"ok": True, "channel": {"id": channel["id"], "name": channel["name"]}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = int(args.get("limit") or 0) or 1000
        start = int(args.get("cursor") or 0)
        members = list(self.users.values())
        end = start + min(limit, 1000)
        next_cursor = str(end) if end < len(members) else ""
        return {"ok": True, "members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if user["profile"]["email"].lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        key = (channel, str(args.get("timestamp", "")))
        name = str(args.get("name", ""))
        if name in self.reactions[key]:
            return {"ok": False, "error": "already_reacted"}
        self.reactions[key].append(name)
        return {"ok": True}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view_id = f"V{next(self._ids):08d}"
        view = {"id": view_id, **(args.get("view") or {})}
        self.views[view_id] = view
        return {"ok": True, "view": view}

    def _m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._m_views_open(args)

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        self.views[view_id] = {"id": view_id, **(args.get("view") or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        self.home_views[user] = args.get("view") or {}
        return {"ok": True, "view": {"id": f"VH{user}", **self.home_views[user]}}
