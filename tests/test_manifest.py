"""The Slack app manifest: matches what the app registers, asks for exactly the scopes it uses."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from re import Pattern
from typing import Any

import yaml
from slack_bolt.async_app import AsyncApp
from typer.testing import CliRunner

from bot.cli.app import app as cli
from bot.slack.manifest import PLACEHOLDER_URL, render_manifest
from bot.slack.oauth import BOT_SCOPES
from handlers import register_all

ROOT = Path(__file__).resolve().parent.parent

# Every Web API method Switchboard may call, with the bot scopes it needs for the conversations
# Switchboard works in (public and private channels, DMs). Per https://docs.slack.dev/reference/methods.
SCOPES_BY_METHOD: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write", "chat:write.public"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_scheduleMessage": {"chat:write"},
    "chat_getPermalink": set(),
    "conversations_open": {"im:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_create": {"channels:manage"},
    "conversations_invite": {"channels:manage", "groups:write"},
    "conversations_join": {"channels:join"},
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "users_lookupByEmail": {"users:read", "users:read.email"},
    "reactions_add": {"reactions:write"},
    "reactions_get": {"reactions:read"},
    "views_open": set(),
    "views_push": set(),
    "views_update": set(),
    "views_publish": set(),
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
}
SCOPES_BY_EVENT = {"app_mention": {"app_mentions:read"}, "reaction_added": {"reactions:read"}}
_WEB_API_CALL = re.compile(
    r"\.((?:auth|chat|conversations|users|usergroups|reactions|views|pins|bookmarks|team|files)_[A-Za-z]+(?:_v2)?)\("
)


class RecordingApp(AsyncApp):
    """A real Bolt app that also notes what each listener was registered for."""

    def __init__(self) -> None:
        super().__init__(signing_secret="s", token="xoxb-recording", request_verification_enabled=False)
        self.seen: dict[str, set[str]] = defaultdict(set)

    def _note(self, kind: str, constraint: Any) -> None:
        if isinstance(constraint, Pattern):
            return  # catch-alls (the fallback acknowledgers) declare nothing
        if isinstance(constraint, dict):
            value = constraint.get("callback_id") or constraint.get("type")
            if constraint.get("type") == "message_action":
                kind = "message_shortcut"
            elif constraint.get("type") == "shortcut":
                kind = "global_shortcut"
            constraint = value
        if constraint is not None and not isinstance(constraint, Pattern):
            self.seen[kind].add(str(constraint))

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        self._note("command", command)
        return super().command(command, *args, **kwargs)

    def shortcut(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self._note("shortcut", constraints)
        return super().shortcut(constraints, *args, **kwargs)

    def global_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Any:
        self._note("global_shortcut", callback_id)
        return super().global_shortcut(callback_id, *args, **kwargs)

    def message_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Any:
        self._note("message_shortcut", callback_id)
        return super().message_shortcut(callback_id, *args, **kwargs)

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Any:
        self._note("event", event)
        return super().event(event, *args, **kwargs)

    def message(self, *args: Any, **kwargs: Any) -> Any:
        self.seen["event"].add("message")
        return super().message(*args, **kwargs)

    def options(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen["options"].add(str(constraints))
        return super().options(constraints, *args, **kwargs)

    def block_suggestion(self, action_id: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen["options"].add(str(action_id))
        return super().block_suggestion(action_id, *args, **kwargs)


def registered() -> dict[str, set[str]]:
    app = RecordingApp()
    register_all(app)
    return app.seen


def used_web_api_methods() -> set[str]:
    sources = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]
    found: set[str] = set()
    for path in sources:
        if ROOT.joinpath("bot", "emulator") in path.parents:
            continue
        found |= set(_WEB_API_CALL.findall(path.read_text()))
    return found


def test_manifest_file_is_the_rendered_manifest() -> None:
    on_disk = yaml.safe_load(ROOT.joinpath("manifest.yaml").read_text())
    assert on_disk == render_manifest(PLACEHOLDER_URL), (
        "manifest.yaml is stale: regenerate it with `switchboard manifest --url https://example.com`"
    )


def test_manifest_command_prints_manifest_for_the_given_url() -> None:
    result = CliRunner().invoke(cli, ["manifest", "--url", "https://x.example/"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    assert manifest == render_manifest("https://x.example")
    assert "example.com" not in result.output
    urls = re.findall(r"https?://[^\s']+", result.output)
    assert urls and all(url.startswith("https://x.example/slack/") for url in urls)
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == "https://x.example/slack/events"
    assert settings["interactivity"]["request_url"] == "https://x.example/slack/events"
    assert settings["interactivity"]["message_menu_options_url"] == "https://x.example/slack/events"
    assert manifest["oauth_config"]["redirect_urls"] == ["https://x.example/slack/oauth_redirect"]
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {"https://x.example/slack/events"}


def test_manifest_command_refuses_a_url_slack_would_reject() -> None:
    for bad in ("http://x.example", "x.example", "https://x.example/?a=1"):
        result = CliRunner().invoke(cli, ["manifest", "--url", bad])
        assert result.exit_code == 2
        assert "--url must be an https URL" in result.output
    missing = CliRunner().invoke(cli, ["manifest"])
    assert missing.exit_code == 2 and "--url is required" in missing.output


def test_socket_mode_manifest_has_no_request_urls() -> None:
    result = CliRunner().invoke(cli, ["manifest", "--socket-mode"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "redirect_urls" not in manifest["oauth_config"]


def test_manifest_asks_for_the_oauth_scopes_the_install_flow_requests() -> None:
    scopes = render_manifest()["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == sorted(BOT_SCOPES)
    assert len(set(BOT_SCOPES)) == len(BOT_SCOPES)


def test_every_registered_listener_is_declared_in_the_manifest_and_back() -> None:
    manifest = render_manifest()
    seen = registered()
    declared_commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    declared_shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    declared_events = set(manifest["settings"]["event_subscriptions"]["bot_events"])

    assert seen["command"] == declared_commands
    registered_shortcuts = seen["shortcut"] | seen["global_shortcut"] | seen["message_shortcut"]
    assert registered_shortcuts == set(declared_shortcuts)
    for callback_id in seen["global_shortcut"]:
        assert declared_shortcuts[callback_id] == "global"
    for callback_id in seen["message_shortcut"]:
        assert declared_shortcuts[callback_id] == "message"
    # `message` listeners need at least one message.* subscription; other events map one to one.
    events = {e for e in seen["event"] if e != "message"}
    assert events == {e for e in declared_events if not e.startswith("message.")}
    if "message" in seen["event"]:
        assert any(e.startswith("message.") for e in declared_events)
    # External select menus load their options from this URL.
    assert manifest["settings"]["interactivity"]["message_menu_options_url"]


def test_manifest_stays_within_slacks_limits() -> None:
    manifest = render_manifest()
    info = manifest["display_information"]
    assert len(info["name"]) <= 35 and len(info["description"]) <= 140
    assert 174 <= len(info["long_description"]) <= 4000
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80
    for shortcut in manifest["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
        assert shortcut["type"] in {"message", "global"}
    for command in manifest["features"]["slash_commands"]:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])
        assert len(command["description"]) <= 2000 and len(command["usage_hint"]) <= 1000


def test_scopes_are_exactly_what_the_code_calls_and_subscribes_to() -> None:
    methods = used_web_api_methods()
    unknown = methods - set(SCOPES_BY_METHOD)
    assert not unknown, f"add these Web API methods and their scopes to SCOPES_BY_METHOD: {unknown}"
    needed: dict[str, set[str]] = defaultdict(set)
    for method in methods:
        for scope in SCOPES_BY_METHOD[method]:
            needed[scope].add(method)
    for event in render_manifest()["settings"]["event_subscriptions"]["bot_events"]:
        for scope in SCOPES_BY_EVENT.get(event, set()):
            needed[scope].add(event)
    # Slash commands and shortcuts both ride on the `commands` scope.
    needed["commands"].add("slash commands and shortcuts")
    missing = set(needed) - set(BOT_SCOPES)
    assert not missing, (
        f"bot.slack.oauth.BOT_SCOPES lacks {missing} (needed by {[needed[s] for s in missing]})"
    )
    unused = set(BOT_SCOPES) - set(needed)
    assert not unused, f"bot.slack.oauth.BOT_SCOPES asks for {unused}, which no call or event needs"
