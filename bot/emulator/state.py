"""What the emulated Slack knows: its workspaces, users, channels, messages, reactions and views,
and every call it received."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_TOKEN = "xoxb-emulated-token"
TEAM_ID = "T0SWITCH"
BOT_USER_ID = "U0SWITCHBOT"
BOT_ID = "B0SWITCHBOT"
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


class EmulatorState:
    """The emulator's directory and messages, and the calls it recorded."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.reactions: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        # Files by id, from files.getUploadURLExternal on: name, length, content, completed, title.
        self.files: dict[str, dict[str, Any]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.url = ""
        self.workspaces: dict[str, Workspace] = {
            BOT_TOKEN: Workspace(TEAM_ID, "Switchboard Demo", BOT_USER_ID, BOT_ID)
        }
        self.oauth_app: tuple[str, str] | None = None
        self.oauth_grants: dict[str, OAuthGrant] = {}
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
            "profile": {
                "email": email or f"{name}@example.com",
                "display_name": name,
                "status_emoji": "",
                "status_text": "",
                "status_expiration": 0,
            },
        }
        self.users[user_id] = user
        return user

    def set_status(self, user_id: str, emoji: str = "", text: str = "", *, expiration: int = 0) -> None:
        """What the person set as their Slack status (`status_expiration`: Unix time, 0 for never)."""
        profile = self.users[user_id]["profile"]
        profile.update(status_emoji=emoji, status_text=text, status_expiration=expiration)

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

    # ---- OAuth installs --------------------------------------------------------------------

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

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

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

    def _blocks_error(self, blocks: Any) -> str | None:
        """`invalid_blocks` when an image block names a file that is not a completed upload."""
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            slack_file = block.get("slack_file")
            if not isinstance(slack_file, dict):
                continue
            found = self.files.get(str(slack_file.get("id", "")))
            if found is None or not found["completed"] or not found["mimetype"].startswith("image/"):
                return "invalid_blocks"
        return None

    def _find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None
