"""The Slack app manifest, rendered for a public base URL.

`manifest.yaml` at the top of the repository is this module's output for the placeholder URL
(a test keeps the two equal), so the installed CLI needs no data file to print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.slack.oauth import BOT_SCOPES

PLACEHOLDER_URL = "https://example.com"
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"


@dataclass(frozen=True)
class SlashCommand:
    command: str
    description: str
    usage_hint: str


@dataclass(frozen=True)
class Shortcut:
    callback_id: str
    name: str
    type: str  # "message" or "global", as the manifest spells it
    description: str


SLASH_COMMANDS = (
    SlashCommand(
        "/whoowns",
        "Find who owns a product area, feature, service or process",
        "<area, feature, service or process> | help",
    ),
    SlashCommand("/feedback", "Log customer feedback", "[what the customer said] | help"),
    SlashCommand(
        "/launch",
        "Launches and their readiness",
        "new | list | status <launch> | standup <launch> | gonogo <launch> | "
        "away <from> <to> [launch] | back | help",
    ),
    SlashCommand(
        "/release",
        "Release announcements",
        "new | list | status <release> | cancel <release> | help",
    ),
)

SHORTCUTS = (
    Shortcut("log_feedback", "Log as feedback", "message", "Log this message as customer feedback"),
    Shortcut("new_launch", "New launch", "global", "Plan a launch and its sign-off matrix"),
    Shortcut("new_release", "New release announcement", "global", "Compose a release announcement"),
)

BOT_EVENTS = ("app_home_opened", "app_mention", "reaction_added")

DESCRIPTION = "Customer voice, launch readiness, release announcements and who owns what, in Slack."
LONG_DESCRIPTION = (
    "Switchboard is the communication hub for Product Operations: product, engineering, QA, docs, "
    "marketing, sales, support, legal and localization.\n\n"
    "*Customer voice*: log feedback from any message, group it into themes, route it to the owner "
    "of the product area, and tell every requester when it ships.\n"
    "*Launch readiness*: a sign-off matrix per launch, readiness standups by DM, reminders, "
    "channel summaries with a readiness score, and go/no-go votes.\n"
    "*Release announcements*: compose, approve, schedule and post release notes to many channels, "
    "each in its own language.\n"
    "*Who owns X*: an ownership directory answered by /whoowns or a mention, kept fresh by asking "
    "owners to confirm on schedule."
)


def render_manifest(base_url: str | None = PLACEHOLDER_URL, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest as a dict; request URLs point at `base_url` unless Socket Mode carries them.

    In Socket Mode the URL is optional: it is only needed for the OAuth redirect.
    """
    if base_url is None and not socket_mode:
        raise ValueError("a public base URL is required unless Socket Mode is used")
    base = (base_url or "").rstrip("/")
    events_url = base + EVENTS_PATH
    commands = []
    for spec in SLASH_COMMANDS:
        command: dict[str, Any] = {"command": spec.command}
        if not socket_mode:
            command["url"] = events_url
        command.update(description=spec.description, usage_hint=spec.usage_hint, should_escape=False)
        commands.append(command)
    interactivity: dict[str, Any] = {"is_enabled": True}
    event_subscriptions: dict[str, Any] = {}
    if not socket_mode:
        interactivity.update(request_url=events_url, message_menu_options_url=events_url)
        event_subscriptions["request_url"] = events_url
    event_subscriptions["bot_events"] = list(BOT_EVENTS)
    oauth_config: dict[str, Any] = {}
    if base_url is not None:
        oauth_config["redirect_urls"] = [base + OAUTH_REDIRECT_PATH]
    oauth_config["scopes"] = {"bot": sorted(BOT_SCOPES)}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Switchboard",
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#1d3557",
        },
        "features": {
            # DMs from Switchboard (standup prompts, confirmations) land in the Messages tab;
            # it is read-only because Switchboard does not read DMs.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Switchboard", "always_online": True},
            "shortcuts": [
                {
                    "name": s.name,
                    "type": s.type,
                    "callback_id": s.callback_id,
                    "description": s.description,
                }
                for s in SHORTCUTS
            ],
            "slash_commands": commands,
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


class _ManifestDumper(yaml.SafeDumper):
    """Writes multi-line text as literal blocks, as a person would type it into Slack's editor."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ManifestDumper.add_representer(str, _represent_text)


def manifest_yaml(base_url: str | None = PLACEHOLDER_URL, *, socket_mode: bool = False) -> str:
    """The manifest as YAML, in the order Slack's own manifest export uses."""
    return yaml.dump(
        render_manifest(base_url, socket_mode=socket_mode),
        Dumper=_ManifestDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
