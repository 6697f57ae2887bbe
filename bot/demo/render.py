"""Plain-text rendering of what Slack would show, for the demo's transcript."""

from __future__ import annotations

import re
from typing import Any

from bot.emulator.server import SlackEmulator
from bot.emulator.state import Call

_USER = re.compile(r"<@([A-Z0-9]+)(\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]+)>")


def humanize(text: str, emulator: SlackEmulator) -> str:
    def user(match: re.Match[str]) -> str:
        found = emulator.users.get(match.group(1))
        return "@" + (found["name"] if found else match.group(1))

    def channel(match: re.Match[str]) -> str:
        found = emulator.channels.get(match.group(1))
        return "#" + (found["name"] if found else match.group(1))

    text = _USER.sub(user, text)
    text = _CHANNEL.sub(channel, text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _DATE.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _element_label(element: dict[str, Any]) -> str:
    text = element.get("text") or element.get("placeholder") or {}
    label = text.get("text", element.get("action_id", "")) if isinstance(text, dict) else str(text)
    return f"[{label}]"


def render_blocks(blocks: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in {"section", "header"}:
            text = (block.get("text") or {}).get("text", "")
            if text:
                lines.extend(text.splitlines())
            for field in block.get("fields") or []:
                lines.append("  " + field.get("text", ""))
            if block.get("accessory", {}).get("type") == "button":
                lines.append("  " + _element_label(block["accessory"]))
        elif kind == "context":
            parts = [e.get("text", "") for e in block.get("elements", []) if "text" in e]
            lines.append("  " + " · ".join(parts))
        elif kind == "actions":
            lines.append("  " + " ".join(_element_label(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("  ───")
        elif kind == "image":
            lines.append(f"  [chart: {block.get('alt_text', '')}]")
        elif kind == "input":
            lines.append(f"  {(block.get('label') or {}).get('text', '')}: ____")
    return lines


def describe_call(call: Call, emulator: SlackEmulator) -> str | None:
    """One transcript entry for a Web API call a person would notice, else None."""

    def name_of(channel: str) -> str:
        if channel.startswith(("U", "W", "D")):
            user = emulator.users.get("U" + channel[1:]) or emulator.users.get(channel)
            return f"DM to @{user['name']}" if user else channel
        found = emulator.channels.get(channel)
        return "#" + (found["name"] if found else channel)

    blocks = call.get("blocks") or []
    body = render_blocks(blocks) if blocks else str(call.get("text", "")).splitlines()
    where: str
    if call.method == "chat.postMessage":
        where = name_of(str(call["channel"]))
        if call.get("thread_ts"):
            where += " (in thread)"
    elif call.method == "chat.update":
        where = name_of(str(call["channel"])) + " (message edited)"
    elif call.method == "chat.postEphemeral":
        viewer = humanize("<@" + str(call["user"]) + ">", emulator)
        where = f"{name_of(str(call['channel']))}, only visible to {viewer}"
    elif call.method == "response_url":
        visibility = "everyone" if call.get("response_type") == "in_channel" else "only you"
        if call.get("delete_original") and not blocks and not call.get("text"):
            return None
        where = f"reply ({visibility})"
    elif call.method in {"views.open", "views.push", "views.update"}:
        view = call.get("view") or {}
        where = f"modal opened: {(view.get('title') or {}).get('text', '')}"
        body = render_blocks(view.get("blocks") or [])
    elif call.method == "views.publish":
        where = "App Home of " + humanize("<@" + str(call["user_id"]) + ">", emulator)
        body = render_blocks((call.get("view") or {}).get("blocks") or [])
    elif call.method == "reactions.add":
        return f"  :{call['name']}: reaction added in {name_of(str(call['channel']))}"
    else:
        return None
    text = "\n".join("    " + humanize(line, emulator) for line in body if line.strip())
    return f"  → {where}\n{text}"
