"""Signed, real-shaped Slack requests sent into the ASGI app (shapes from Slack's API docs).

Used by the tests and by `switchboard demo` to drive Switchboard the way Slack does.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.emulator.server import SlackEmulator
from bot.emulator.state import TEAM_ID

SIGNING_SECRET = "test-signing-secret"
_counter = itertools.count(1)


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


class SlackSender:
    """What Slack would POST to /slack/events."""

    def __init__(self, http: httpx.AsyncClient, emulator: SlackEmulator, team_id: str = TEAM_ID) -> None:
        self.http = http
        self.emulator = emulator
        self.team_id = team_id

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        all_headers: dict[str, str] = {"Content-Type": content_type}
        all_headers.update(sign(body, secret=secret, timestamp=timestamp))
        all_headers.update(headers or {})
        return await self.http.post("/slack/events", content=body, headers=all_headers)

    async def post_form(self, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    async def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.post_form({"payload": json.dumps(payload)}, **kwargs)

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        **kwargs: Any,
    ) -> httpx.Response:
        n = next(_counter)
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "switchboard-demo",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0SWITCH",
            "is_enterprise_install": "false",
            "response_url": self.emulator.response_url(f"cmd{n}"),
            "trigger_id": f"{n}.trigger",
        }
        return await self.post_form(fields, **kwargs)

    def _user(self, user: str) -> dict[str, str]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id}

    async def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        message: dict[str, Any] | None = None,
        block_id: str = "b1",
        action: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        n = next(_counter)
        act = action or {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": "Button"},
            "value": value,
            "action_ts": f"{time.time():.6f}",
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "switchboard-demo"},
            "user": self._user(user),
            "api_app_id": "A0SWITCH",
            "token": "legacy-verification-token",
            "trigger_id": f"{n}.trigger",
            "actions": [act],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = view
        else:
            msg = message or {"type": "message", "ts": "1700000000.000100", "text": "", "user": "U0SWITCHBOT"}
            payload["container"] = {
                "type": "message",
                "message_ts": msg["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "general"}
            payload["message"] = msg
            payload["response_url"] = self.emulator.response_url(f"act{n}")
        return await self.post_payload(payload, **kwargs)

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user: str = "U0ALICE",
        private_metadata: str = "",
        view_id: str = "V0SUBMIT",
        **kwargs: Any,
    ) -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "switchboard-demo"},
            "user": self._user(user),
            "api_app_id": "A0SWITCH",
            "token": "legacy-verification-token",
            "trigger_id": f"{next(_counter)}.trigger",
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "156772938.1827394",
                "title": {"type": "plain_text", "text": "Modal"},
                "blocks": [],
            },
            "response_urls": [],
        }
        return await self.post_payload(payload, **kwargs)

    async def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        **kwargs: Any,
    ) -> httpx.Response:
        n = next(_counter)
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": self.team_id, "domain": "switchboard-demo"},
            "user": self._user(user),
            "channel": {"id": channel, "name": "general"},
            "message": message,
            "message_ts": message["ts"],
            "response_url": self.emulator.response_url(f"sc{n}"),
            "trigger_id": f"{n}.trigger",
            "token": "legacy-verification-token",
            "action_ts": f"{time.time():.6f}",
        }
        return await self.post_payload(payload, **kwargs)

    async def global_shortcut(
        self, callback_id: str, *, user: str = "U0ALICE", **kwargs: Any
    ) -> httpx.Response:
        payload = {
            "type": "shortcut",
            "callback_id": callback_id,
            "team": {"id": self.team_id, "domain": "switchboard-demo"},
            "user": self._user(user),
            "trigger_id": f"{next(_counter)}.trigger",
            "token": "legacy-verification-token",
            "action_ts": f"{time.time():.6f}",
        }
        return await self.post_payload(payload, **kwargs)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        body = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0SWITCH",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_counter):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": self.team_id,
                    "user_id": "U0SWITCHBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
        }
        headers = dict(kwargs.pop("headers", {}) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post(json.dumps(body), "application/json", headers=headers, **kwargs)
