"""The Web API methods the emulator answers, each `_m_<method>` with Slack-shaped results and errors:
auth.test, oauth.v2.access, api.test, chat.*, conversations.*, users.*, reactions.add, views.*
(files.* of the upload flow are in `files`). Blocks whose image names a file that is not a
completed upload are refused with `invalid_blocks`, as Slack does."""

from __future__ import annotations

import math
from typing import Any

from bot.emulator.state import APP_ID, BOT_ID, BOT_USER_ID, EmulatorState


class WebApiMethods(EmulatorState):
    """Method handlers, looked up by name: `chat.postMessage` is `_m_chat_postMessage`."""

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

    def _m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": args}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args.get("channel", "")))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if self._blocks_error(args.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
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
        if self._blocks_error(args.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
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
        if self._blocks_error(args.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
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
        if self._blocks_error((args.get("view") or {}).get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
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
        if self._blocks_error((args.get("view") or {}).get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        self.views[view_id] = {"id": view_id, **(args.get("view") or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        if self._blocks_error((args.get("view") or {}).get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        self.home_views[user] = args.get("view") or {}
        return {"ok": True, "view": {"id": f"VH{user}", **self.home_views[user]}}
