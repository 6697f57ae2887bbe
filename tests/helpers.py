"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.ownership.announcements import ANNOUNCE_WINDOW
from models.base import utcnow


def rendered(blocks: Any) -> str:
    """Only what Slack renders as text in `blocks` (not button values or ids)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"}:
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, read from its header (IHDR is always the first chunk)."""
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR", "not a PNG"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def completed_uploads(emulator: Any) -> dict[str, bytes]:
    """The bytes of each file that went through the whole upload flow, by file id, in order.

    Each was announced (`files.getUploadURLExternal`), POSTed to its upload URL, and completed
    (`files.completeUploadExternal`, which the emulator refuses unless every announced byte came).
    """

    def answers(method: str) -> list[dict[str, Any]]:
        return [r for r in emulator.responses if r["method"] == method and r["ok"]]

    announced = {r["file_id"] for r in answers("files.getUploadURLExternal")}
    completed = [f["id"] for r in answers("files.completeUploadExternal") for f in r["files"]]
    sent = {c["file_id"]: c["content"] for c in emulator.calls_to("upload")}
    for file_id in completed:
        assert file_id in announced and file_id in sent, f"{file_id} was completed without the earlier steps"
    return {file_id: sent[file_id] for file_id in completed}


# What would notify a whole channel, workspace or group if Slack received it: the special mentions
# in Slack markup, and the plain words Slack links when a message is parsed (`link_names`).
BROADCAST = re.compile(
    r"<!(?:channel|here|everyone)\b|<!subteam\^|(?<!\w)@(?:channel|here|everyone)\b", re.IGNORECASE
)


def broadcasts_in(value: Any, path: str = "") -> list[str]:
    """Every broadcast mention in any string of `value` (nested dicts and lists), with its path."""
    if isinstance(value, str):
        return [f"{path or '.'}: {m.group(0)!r} in {value[:200]!r}" for m in BROADCAST.finditer(value)]
    if isinstance(value, dict):
        return [hit for key, item in value.items() for hit in broadcasts_in(item, f"{path}.{key}")]
    if isinstance(value, list | tuple):
        return [hit for i, item in enumerate(value) for hit in broadcasts_in(item, f"{path}[{i}]")]
    return []


def after_announce_window() -> datetime:
    """A moment by which the ownership announcement window open now has ended."""
    return utcnow() + ANNOUNCE_WINDOW
